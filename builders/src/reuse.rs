//! What every builder does to keep work between builds and never leave a
//! half-made result behind: folders reused while a stamp of their inputs is
//! unchanged, toolchains installed once behind a ready marker, one build of
//! a component at a time, and outputs written to a partial file then moved
//! into place.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A folder filled from some inputs, kept while a stamp of them (a hash)
/// is unchanged. The stamp is written last, so an interrupted fill is
/// redone.
pub struct StampedDir {
    dir: PathBuf,
    stamp_file: PathBuf,
    stamp: String,
}

impl StampedDir {
    /// `dir`, whose contents came from inputs whose hash is `stamp`; the
    /// stamp is kept in `dir/stamp_name`.
    pub fn new(dir: &Path, stamp_name: &str, stamp: String) -> Self {
        StampedDir { dir: dir.to_path_buf(), stamp_file: dir.join(stamp_name), stamp }
    }

    /// Whether the folder holds what these inputs make.
    pub fn is_current(&self) -> bool {
        std::fs::read_to_string(&self.stamp_file).is_ok_and(|s| s == self.stamp)
    }

    /// Empty the folder (creating it) for a new fill.
    pub fn clear(&self) -> Result<()> {
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).with_context(|| format!("clearing {}", self.dir.display()))?;
        }
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))
    }

    /// The fill is complete.
    pub fn record(&self) -> Result<()> {
        std::fs::write(&self.stamp_file, &self.stamp).with_context(|| format!("writing {}", self.stamp_file.display()))
    }
}

/// A toolchain folder in the cache: `install` fills it once; a marker
/// written after that says it is ready. A folder without the marker is
/// what an interrupted install left: it is removed and installed again.
/// Installs are serialised by a lock file beside the folder. Returns
/// whether it was installed now.
pub fn provision(dir: &Path, version: &str, install: impl FnOnce(&Path) -> Result<()>) -> Result<bool> {
    let ready = dir.join(".fabricks-ready");
    if ready.is_file() {
        return Ok(false);
    }
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).with_context(|| format!("creating the cache directory {}", parent.display()))?;
    // One install at a time (two builds at once on a new machine): the
    // second waits for the first, then finds the toolchain ready.
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
    if ready.is_file() {
        return Ok(false);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing the unfinished toolchain at {}", dir.display()))?;
    }
    install(dir)?;
    std::fs::write(&ready, version).with_context(|| format!("writing {}", ready.display()))?;
    Ok(true)
}

/// Hold `lock_path` while one component is built: a second build of the
/// same component at once (two terminals, two test runs) waits for the
/// first, saying so, then finds its output up to date; they would
/// otherwise write the same files. Released when dropped (or when the
/// process dies).
pub fn build_lock(lock_path: &Path, id: &str, quiet: bool) -> Result<std::fs::File> {
    let lock = std::fs::File::create(lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => return Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(error)) => {
            return Err(error).with_context(|| format!("locking {}", lock_path.display()));
        }
    }
    if !quiet {
        eprintln!("fabricks: waiting for another build of {id} to finish ({} is locked)", lock_path.display());
    }
    lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
    Ok(lock)
}

/// Where a tool writes a component before [`publish`] moves it into place.
pub fn partial(output: &Path) -> PathBuf {
    output.with_extension("wasm.partial")
}

/// Move the finished component from [`partial`] to `output`; says what was
/// written, with its size.
pub fn publish(output: &Path) -> Result<String> {
    std::fs::rename(partial(output), output).with_context(|| format!("moving the component to {}", output.display()))?;
    let size = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    Ok(format!("{} ({:.1} MB)", output.display(), size as f64 / 1e6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fabricks-reuse-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_stamped_dir_is_current_only_once_recorded_with_the_same_stamp() {
        let dir = scratch("stamped");
        let deps = StampedDir::new(&dir, ".stamp", "one".into());
        assert!(!deps.is_current());
        deps.clear().unwrap();
        std::fs::write(dir.join("file"), "x").unwrap();
        assert!(!deps.is_current(), "current before the fill was recorded");
        deps.record().unwrap();
        assert!(deps.is_current());
        assert!(!StampedDir::new(&dir, ".stamp", "two".into()).is_current());
        deps.clear().unwrap();
        assert!(!dir.join("file").exists() && !deps.is_current());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_toolchain_is_installed_once_and_an_interrupted_install_is_redone() {
        let dir = scratch("toolchain");
        let failed = provision(&dir, "1", |d| {
            std::fs::create_dir_all(d)?;
            std::fs::write(d.join("half"), "x")?;
            anyhow::bail!("interrupted")
        });
        assert!(failed.is_err());
        let installed = provision(&dir, "1", |d| {
            assert!(!d.join("half").exists(), "the half-made install was kept");
            std::fs::create_dir_all(d)?;
            Ok(())
        });
        assert!(installed.unwrap());
        assert!(!provision(&dir, "1", |_| panic!("installed twice")).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn installs_at_the_same_time_are_one_install() {
        let dir = scratch("concurrent");
        let installs = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    provision(&dir, "1", |d| {
                        installs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::fs::create_dir_all(d)?;
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        std::fs::write(d.join("tool"), "x")?;
                        Ok(())
                    })
                    .unwrap();
                    assert!(dir.join("tool").is_file(), "a caller went on before the toolchain was there");
                });
            }
        });
        assert_eq!(installs.load(std::sync::atomic::Ordering::SeqCst), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
