//! The WASI WIT the components target: a copy of the `wit/` folder of the
//! `wasmtime-wasi-http` crate the host is built with, checked into
//! `adapters/wit/wasi/` (a test in the trigger crate keeps the two equal), so
//! the components we build always target exactly what we serve and a build
//! needs nothing but this source tree.

use anyhow::{Context, Result};
use std::path::Path;

/// The WIT files, as (path relative to the `wit` folder, text).
pub const WIT_FILES: &[(&str, &str)] = &[
    ("world.wit", include_str!("../../adapters/wit/wasi/world.wit")),
    ("deps/cli.wit", include_str!("../../adapters/wit/wasi/deps/cli.wit")),
    ("deps/clocks.wit", include_str!("../../adapters/wit/wasi/deps/clocks.wit")),
    ("deps/filesystem.wit", include_str!("../../adapters/wit/wasi/deps/filesystem.wit")),
    ("deps/http.wit", include_str!("../../adapters/wit/wasi/deps/http.wit")),
    ("deps/io.wit", include_str!("../../adapters/wit/wasi/deps/io.wit")),
    ("deps/random.wit", include_str!("../../adapters/wit/wasi/deps/random.wit")),
    ("deps/sockets.wit", include_str!("../../adapters/wit/wasi/deps/sockets.wit")),
];

/// The WASI version of that WIT (`package wasi:http@0.2.12;`).
pub const WASI_HTTP_VERSION: &str = "0.2.12";

/// The world Python components target: `wasi:http/proxy` and fabricks'
/// `lifecycle` export (adapters/wit/lifecycle.wit), which other hosts ignore.
pub const PYTHON_WORLD: &str = "fabricks:app/python@0.1.0";

/// [`PYTHON_WORLD`] and Spin's SQLite interface, for components granted a database.
pub const PYTHON_SQLITE_WORLD: &str = "fabricks:app/python-sqlite@0.1.0";

/// The same for Node.js components, on the WASI version componentize-js
/// implements ([`STARLINGMONKEY_WASI_VERSION`]).
pub const NODE_WORLD: &str = "fabricks:app/node@0.1.0";

/// Write the WIT files into `dir` with every WASI version rewritten to
/// `wasi_version`, and fabricks' own package, whose worlds ([`PYTHON_WORLD`],
/// [`NODE_WORLD`]) include `wasi:http/proxy` of that version and export
/// `lifecycle`: a component that exports it is an app written for a
/// long-lived process, whose instances the host reuses and retires.
pub fn write_with_lifecycle(dir: &Path, wasi_version: &str) -> Result<()> {
    // A WIT folder from an earlier build may hold files that no longer
    // belong (a world of the same name in another file is an error).
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    write_with_version(dir, wasi_version)?;
    let world = |name: &str, extra: &str| {
        format!("world {name} {{\n    include wasi:http/proxy@{wasi_version};\n    export lifecycle;\n{extra}}}\n")
    };
    // Python components also run the app's own command line (`exec`), and
    // import the key derivation functions the build composes in (`kdf`).
    // `command` reads the instance's environment (`exec -e`) through
    // wasi:cli/environment, which the interpreter imports anyway.
    let python_extra =
        format!("    export command;\n    import {};\n    import wasi:cli/environment@{wasi_version};\n", crate::kdf::INTERFACE);
    // A Python component granted a SQLite database also imports Spin's
    // interface for it (a component that is not does not: it runs where
    // there is none, under `wasmtime serve`).
    let python_sqlite = "world python-sqlite {\n    include python;\n    import spin:sqlite/sqlite@3.0.0;\n}\n";
    // Node components read the app's files (`fs`) and their environment
    // (`process.env`) through WASI, as StarlingMonkey itself already does.
    // and derive keys with the kdf component the build composes in.
    let node_extra = format!(
        "    import wasi:filesystem/preopens@{wasi_version};\n    import wasi:cli/environment@{wasi_version};\n    import {};\n",
        crate::kdf::INTERFACE
    );
    let worlds =
        format!("package fabricks:app@0.1.0;\n\n{}\n{}\n{python_sqlite}", world("python", &python_extra), world("node", &node_extra));
    crate::adapters::write_files(
        dir,
        [
            ("deps/fabricks-app/lifecycle.wit", crate::adapters::LIFECYCLE_WIT.to_string()),
            ("deps/fabricks-app/worlds.wit", worlds),
            ("deps/fabricks-crypto/kdf.wit", crate::kdf::KDF_WIT.to_string()),
            ("deps/spin-sqlite/sqlite.wit", crate::adapters::SPIN_SQLITE_WIT.to_string()),
        ],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wasi_package_has_the_declared_version() {
        for (name, text) in WIT_FILES.iter().filter(|(name, _)| name.starts_with("deps/")) {
            let package =
                text.lines().find_map(|l| l.trim().strip_prefix("package wasi:")).unwrap_or_else(|| panic!("{name} names no wasi package"));
            assert!(package.ends_with(&format!("@{WASI_HTTP_VERSION};")), "{name}: package wasi:{package}, expected @{WASI_HTTP_VERSION}");
        }
    }

    #[test]
    fn every_checked_in_file_is_listed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/wit/wasi");
        let mut on_disk = Vec::new();
        for dir in [root.clone(), root.join("deps")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "wit") {
                    on_disk.push(path.strip_prefix(&root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = WIT_FILES.iter().map(|(name, _)| name.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }
}
