//! The WASI WIT the components target, taken at compile time from the
//! `wasmtime-wasi-http` crate the host is built with (see `build.rs`).

use anyhow::Result;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/wit_files.rs"));

/// Write the WIT files into `dir` (a `wit` folder with its `deps`).
pub fn write_to(dir: &Path) -> Result<()> {
    crate::adapters::write_files(dir, WIT_FILES.iter().map(|&(relative, text)| (relative, text.to_string())))
}

/// The world Python components target: `wasi:http/proxy` and fabricks'
/// `lifecycle` export (adapters/wit/lifecycle.wit), which other hosts ignore.
pub const PYTHON_WORLD: &str = "fabricks:app/python@0.1.0";

/// Write the WIT files into `dir`, with fabricks' own package and the
/// [`PYTHON_WORLD`] in it.
pub fn write_with_lifecycle(dir: &Path) -> Result<()> {
    write_to(dir)?;
    let world = format!(
        "package fabricks:app@0.1.0;\n\nworld python {{\n    include wasi:http/proxy@{WASI_HTTP_VERSION};\n    export lifecycle;\n}}\n"
    );
    crate::adapters::write_files(
        dir,
        [("deps/fabricks-app/lifecycle.wit", crate::adapters::LIFECYCLE_WIT.to_string()), ("deps/fabricks-app/python.wit", world)],
    )
}

/// The WASI version componentize-js 0.23 (StarlingMonkey) implements: it
/// needs WIT that says so. The host serves 0.2.10 components as they are
/// (wasmtime links semver-compatible imports).
pub const STARLINGMONKEY_WASI_VERSION: &str = "0.2.10";

/// Write the WIT with every WASI version rewritten to `version`.
pub fn write_with_version(dir: &Path, version: &str) -> Result<()> {
    crate::adapters::write_files(dir, WIT_FILES.iter().map(|&(relative, text)| (relative, text.replace(WASI_HTTP_VERSION, version))))
}
