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
    ("event_loop.py", include_str!("../../adapters/python/fabricks_adapter/event_loop.py")),
    ("asgi.py", include_str!("../../adapters/python/fabricks_adapter/asgi.py")),
];

/// Write the Python adapter package into `dir/fabricks_adapter/`.
pub fn write_python_package(dir: &Path) -> Result<()> {
    let package = dir.join("fabricks_adapter");
    std::fs::create_dir_all(&package).with_context(|| format!("creating {}", package.display()))?;
    for (name, text) in PYTHON_PACKAGE {
        std::fs::write(package.join(name), text).with_context(|| format!("writing {}", package.join(name).display()))?;
    }
    Ok(())
}
