//! `_fabricks_heap`, the Python adapter's C extension
//! (`adapters/python/heap/fabricks_heap.c`, which marks the build snapshot's
//! objects immortal and takes up its heap's free chunks): compiled with the
//! pinned Zig into a wasm32-wasi shared library, once per Zig version, source
//! and flags, in the cache. The Python builder puts it beside the adapter,
//! where componentize-py finds it (by its `.cpython-314-wasm32-wasi.so` name)
//! and links it into the component with libpython, as it does a package's
//! compiled extensions.

use crate::process;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const SOURCE: &str = include_str!("../../adapters/python/heap/fabricks_heap.c");
/// The library's file name: the module name, then the ABI tag of the guest's
/// CPython (componentize-py links only files named so).
pub const FILE_NAME: &str = "_fabricks_heap.cpython-314-wasm32-wasi.so";

/// `zig cc`'s arguments: position-independent code for wasm32-wasi, without
/// the sanitizers Zig adds to unoptimised C (their runtime is not linked).
const COMPILE: &[&str] =
    &["cc", "-target", "wasm32-wasi", "-fPIC", "-O2", "-fno-sanitize=all", "-g0", "-c", "fabricks_heap.c", "-o", "fabricks_heap.o"];
/// `zig wasm-ld`'s: a dynamic library (a `dylink.0` module) whose CPython
/// functions are imported, resolved against libpython when componentize-py
/// links the component.
const LINK: &[&str] =
    &["wasm-ld", "-shared", "--experimental-pic", "--unresolved-symbols=import-dynamic", "--strip-all", "fabricks_heap.o", "-o", FILE_NAME];

/// The compiled extension, built into the cache on first use.
pub fn library(cache: &Path) -> Result<PathBuf> {
    let mut hasher = Sha256::new().chain_update(crate::zig::ZIG_VERSION).chain_update(SOURCE);
    for argument in COMPILE.iter().chain(LINK) {
        hasher.update(argument);
    }
    let digest = format!("{:x}", hasher.finalize());
    let dir = cache.join("toolchains").join(format!("python-heap-{}", &digest[..16]));
    crate::reuse::provision(&dir, &digest, |dir| {
        // Zig only when there is something to compile.
        let zig = crate::zig::provision(cache)?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("fabricks_heap.c"), SOURCE).context("writing fabricks_heap.c")?;
        process::run(crate::zig::command(&zig, dir).args(COMPILE), "compiling adapters/python/heap/fabricks_heap.c for wasm32")?;
        process::run(crate::zig::command(&zig, dir).args(LINK), "linking the _fabricks_heap extension")?;
        let _ = std::fs::remove_dir_all(dir.join("zig-cache"));
        Ok(())
    })?;
    Ok(dir.join(FILE_NAME))
}
