//! Which files of an app directory make up the app: what is staged into the
//! build and hashed for the no-op check. Build outputs, hidden folders,
//! virtualenvs, `node_modules`, bytecode caches, and the folders the app
//! writes to and the component its own build command writes (`skip`,
//! relative to the app directory) are not part of it.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The app's files, relative to `dir`, sorted.
pub fn list(dir: &Path, skip: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    walk(dir, Path::new(""), skip, &mut files)?;
    files.sort();
    Ok(files)
}

fn walk(root: &Path, relative: &Path, skip: &[PathBuf], files: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(relative);
    let entries = std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = relative.join(&*name);
        let kind = entry.file_type().with_context(|| format!("reading {}", root.join(&path).display()))?;
        if kind.is_dir() {
            if !skipped_folder(root, &path, skip) {
                walk(root, &path, skip, files)?;
            }
        } else if kind.is_file() && !skipped_file(&name) && !skip.contains(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// A folder (`relative` to the app directory `root`) that is not the app's.
fn skipped_folder(root: &Path, relative: &Path, skip: &[PathBuf]) -> bool {
    let name = relative.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.starts_with('.')
        || name == "__pycache__"
        || name == "node_modules"
        || skip.iter().any(|s| s == relative)
        || root.join(relative).join("pyvenv.cfg").exists()
}

fn skipped_file(name: &str) -> bool {
    name.ends_with(".pyc")
}

/// Whether `relative` (a path inside the app directory `root`, which may no
/// longer exist) is one of the app's files: what [`list`] would list.
pub fn is_app_file(root: &Path, relative: &Path, skip: &[PathBuf]) -> bool {
    let Some(name) = relative.file_name() else { return false };
    let mut folder = PathBuf::new();
    for part in relative.parent().into_iter().flat_map(Path::components) {
        folder.push(part);
        if skipped_folder(root, &folder, skip) {
            return false;
        }
    }
    !skipped_file(&name.to_string_lossy())
}

/// Feed every app file's path and content into `hasher`.
pub fn hash_into(dir: &Path, skip: &[PathBuf], hasher: &mut Sha256) -> Result<()> {
    for relative in list(dir, skip)? {
        let content = std::fs::read(dir.join(&relative)).with_context(|| format!("reading {}", dir.join(&relative).display()))?;
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    Ok(())
}

/// Copy the app's files into `target` (made fresh).
pub fn copy_to(dir: &Path, skip: &[PathBuf], target: &Path) -> Result<usize> {
    if target.exists() {
        std::fs::remove_dir_all(target).with_context(|| format!("clearing {}", target.display()))?;
    }
    let files = list(dir, skip)?;
    for relative in &files {
        let to = target.join(relative);
        std::fs::create_dir_all(to.parent().unwrap()).with_context(|| format!("creating {}", to.parent().unwrap().display()))?;
        std::fs::copy(dir.join(relative), &to).with_context(|| format!("copying {} to {}", dir.join(relative).display(), to.display()))?;
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_outputs_caches_and_the_folders_the_app_writes_are_not_app_files() {
        let dir = std::env::temp_dir().join(format!("fabricks-app-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for file in
            ["main.py", "pkg/a.py", "pkg/a.pyc", "instance/db.sqlite", "var/cache/x", "var/keep", ".fabricks/x.wasm", "__pycache__/m.pyc"]
        {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let skip = [PathBuf::from("instance"), "var/cache".into()];
        let files = list(&dir, &skip).unwrap();
        assert_eq!(files, [PathBuf::from("main.py"), "pkg/a.py".into(), "var/keep".into()]);
        for file in ["main.py", "pkg/a.py", "var/keep", "pkg/gone.py"] {
            assert!(is_app_file(&dir, Path::new(file), &skip), "{file}");
        }
        for file in ["pkg/a.pyc", "instance/db.sqlite", "var/cache/x", ".fabricks/x.wasm", "__pycache__/m.pyc"] {
            assert!(!is_app_file(&dir, Path::new(file), &skip), "{file}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
