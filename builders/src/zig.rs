//! The pinned Zig that compiles fabricks' own guest code (the kdf component,
//! the Python adapter's C extension): PyPI's `ziglang` wheel, installed once
//! into the cache through the pip of a venv made for the purpose, so Python
//! and Node builds alike need only `python3` on PATH.

use crate::process;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Zig version fabricks installs (PyPI's `ziglang` wheel).
pub const ZIG_VERSION: &str = "0.17.1";

/// The `zig` executable in the cache, installed on first use.
pub fn provision(cache: &Path) -> Result<PathBuf> {
    let zig_dir = cache.join("toolchains").join(format!("zig-{ZIG_VERSION}"));
    crate::reuse::provision(&zig_dir, ZIG_VERSION, |dir| {
        let venv = dir.with_extension("venv");
        let _ = std::fs::remove_dir_all(&venv);
        process::run(
            Command::new(crate::toolchain::find_python()?).args(["-m", "venv"]).arg(&venv),
            &format!(
                "creating a venv for pip at {} (if this says ensurepip is missing, install your system's python3-venv package)",
                venv.display()
            ),
        )?;
        process::run(
            Command::new(venv.join("bin").join("python"))
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target"])
                .arg(dir)
                .arg(format!("ziglang=={ZIG_VERSION}")),
            &format!("installing Zig {ZIG_VERSION} (the ziglang wheel) from PyPI"),
        )?;
        let _ = std::fs::remove_dir_all(&venv);
        Ok(())
    })?;
    Ok(zig_dir.join("ziglang").join("zig"))
}

/// A `zig` command run in `dir`, with Zig's caches inside `dir/zig-cache`
/// (the caller removes it when done).
pub fn command(zig: &Path, dir: &Path) -> Command {
    let mut command = Command::new(zig);
    command.env("ZIG_GLOBAL_CACHE_DIR", dir.join("zig-cache")).env("ZIG_LOCAL_CACHE_DIR", dir.join("zig-cache")).current_dir(dir);
    command
}
