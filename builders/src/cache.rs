//! Where fabricks keeps what outlives one build: provisioned toolchains and
//! precompiled components. `$FABRICKS_CACHE_DIR`, else `$XDG_CACHE_HOME/fabricks`,
//! else `~/.cache/fabricks`.

use std::path::PathBuf;

pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FABRICKS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("fabricks");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("fabricks"),
        None => std::env::temp_dir().join("fabricks-cache"),
    }
}
