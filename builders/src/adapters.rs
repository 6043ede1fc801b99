//! The guest-side adapter sources (`adapters/` in the repository), embedded
//! in the binary so a build needs nothing from the source tree.

use anyhow::{Context, Result};
use std::path::Path;

/// The `fabricks_adapter` Python package, as (file name, text).
pub const PYTHON_PACKAGE: &[(&str, &str)] = &[
    ("__init__.py", include_str!("../../adapters/python/fabricks_adapter/__init__.py")),
    ("wasi_http.py", include_str!("../../adapters/python/fabricks_adapter/wasi_http.py")),
    ("wsgi.py", include_str!("../../adapters/python/fabricks_adapter/wsgi.py")),
    ("preload.py", include_str!("../../adapters/python/fabricks_adapter/preload.py")),
    ("compat.py", include_str!("../../adapters/python/fabricks_adapter/compat.py")),
    ("finalize.py", include_str!("../../adapters/python/fabricks_adapter/finalize.py")),
    ("event_loop.py", include_str!("../../adapters/python/fabricks_adapter/event_loop.py")),
    ("asgi.py", include_str!("../../adapters/python/fabricks_adapter/asgi.py")),
    ("lifecycle.py", include_str!("../../adapters/python/fabricks_adapter/lifecycle.py")),
    ("command.py", include_str!("../../adapters/python/fabricks_adapter/command.py")),
    ("kdf.py", include_str!("../../adapters/python/fabricks_adapter/kdf.py")),
    ("spin_sqlite3.py", include_str!("../../adapters/python/fabricks_adapter/spin_sqlite3.py")),
    ("outbound.py", include_str!("../../adapters/python/fabricks_adapter/outbound.py")),
    ("reload.py", include_str!("../../adapters/python/fabricks_adapter/reload.py")),
    ("routes.py", include_str!("../../adapters/python/fabricks_adapter/routes.py")),
    ("templates.py", include_str!("../../adapters/python/fabricks_adapter/templates.py")),
];

/// fabricks' own WIT package (its `lifecycle` interface), written beside the
/// WASI WIT for Python builds.
pub const LIFECYCLE_WIT: &str = include_str!("../../adapters/wit/lifecycle.wit");

/// Spin's SQLite interface (`spin:sqlite@3.0.0`), which Python components
/// granted a database import.
pub const SPIN_SQLITE_WIT: &str = include_str!("../../adapters/wit/spin-sqlite/deps/spin-sqlite/sqlite.wit");

/// The Node.js adapter and its build script, as (file name, text).
pub const NODE_PACKAGE: &[(&str, &str)] = &[
    ("wasi-http.js", include_str!("../../adapters/nodejs/wasi-http.js")),
    ("fetch-bridge.js", include_str!("../../adapters/nodejs/fetch-bridge.js")),
    ("handler.js", include_str!("../../adapters/nodejs/handler.js")),
    ("node-bridge.js", include_str!("../../adapters/nodejs/node-bridge.js")),
    ("messages.js", include_str!("../../adapters/nodejs/messages.js")),
    ("listener.js", include_str!("../../adapters/nodejs/listener.js")),
    ("files.js", include_str!("../../adapters/nodejs/files.js")),
    ("modules.js", include_str!("../../adapters/nodejs/modules.js")),
    ("build.mjs", include_str!("../../adapters/nodejs/build.mjs")),
    ("bindings.mjs", include_str!("../../adapters/nodejs/bindings.mjs")),
    ("shims/globals.js", include_str!("../../adapters/nodejs/shims/globals.js")),
    ("shims/http.js", include_str!("../../adapters/nodejs/shims/http.js")),
    ("shims/https.js", include_str!("../../adapters/nodejs/shims/https.js")),
    ("http-client.js", include_str!("../../adapters/nodejs/http-client.js")),
    ("shims/net.js", include_str!("../../adapters/nodejs/shims/net.js")),
    ("shims/fs.js", include_str!("../../adapters/nodejs/shims/fs.js")),
    ("shims/fs-promises.js", include_str!("../../adapters/nodejs/shims/fs-promises.js")),
    ("shims/process.cjs", include_str!("../../adapters/nodejs/shims/process.cjs")),
    ("shims/os.js", include_str!("../../adapters/nodejs/shims/os.js")),
    ("shims/dns.js", include_str!("../../adapters/nodejs/shims/dns.js")),
    ("shims/async_hooks.js", include_str!("../../adapters/nodejs/shims/async_hooks.js")),
    ("shims/diagnostics_channel.js", include_str!("../../adapters/nodejs/shims/diagnostics_channel.js")),
    ("shims/crypto.js", include_str!("../../adapters/nodejs/shims/crypto.js")),
    ("shims/perf_hooks.js", include_str!("../../adapters/nodejs/shims/perf_hooks.js")),
    ("shims/unavailable.js", include_str!("../../adapters/nodejs/shims/unavailable.js")),
];

/// Write the Node.js adapter into `dir`.
pub fn write_node_package(dir: &Path) -> Result<()> {
    write_files(dir, NODE_PACKAGE.iter().map(|&(name, text)| (name, text.to_string())))
}

/// Write embedded files, given as (path relative to `dir`, text), into `dir`.
pub fn write_files<'a>(dir: &Path, files: impl IntoIterator<Item = (&'a str, String)>) -> Result<()> {
    for (relative, text) in files {
        let path = dir.join(relative);
        let parent = path.parent().unwrap();
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Write the Python adapter package into `dir/fabricks_adapter/`.
pub fn write_python_package(dir: &Path) -> Result<()> {
    write_files(&dir.join("fabricks_adapter"), PYTHON_PACKAGE.iter().map(|&(name, text)| (name, text.to_string())))
}
