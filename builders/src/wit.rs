//! The WASI WIT the components target, taken at compile time from the
//! `wasmtime-wasi-http` crate the host is built with (see `build.rs`).

use anyhow::Result;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/wit_files.rs"));

/// The world fabricks components target, e.g. `wasi:http/proxy@0.2.12`.
pub fn proxy_world() -> String {
    format!("wasi:http/proxy@{WASI_HTTP_VERSION}")
}

/// Write the WIT files into `dir` (a `wit` folder with its `deps`).
pub fn write_to(dir: &Path) -> Result<()> {
    crate::adapters::write_files(dir, WIT_FILES.iter().map(|&(relative, text)| (relative, text.to_string())))
}

/// The WASI version componentize-js 0.23 (StarlingMonkey) implements: it
/// needs WIT that says so. The host serves 0.2.10 components as they are
/// (wasmtime links semver-compatible imports).
pub const STARLINGMONKEY_WASI_VERSION: &str = "0.2.10";

/// Write the WIT with every WASI version rewritten to `version`.
pub fn write_with_version(dir: &Path, version: &str) -> Result<()> {
    crate::adapters::write_files(dir, WIT_FILES.iter().map(|&(relative, text)| (relative, text.replace(WASI_HTTP_VERSION, version))))
}
