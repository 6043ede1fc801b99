//! Provisioning of pinned guest toolchains into the cache, on first use.
//!
//! A user needs only `python3` (with its `venv` module) on PATH: fabricks
//! installs `componentize-py` into a venv of its own and reuses it afterwards.

use crate::process;
use anyhow::{Context, Result, bail};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// A ready venv holding componentize-py (and pip, for vendoring).
pub struct PythonToolchain {
    venv: PathBuf,
}

impl PythonToolchain {
    /// The venv for this fabricks' pinned componentize-py, created if needed.
    /// Returns whether it had to be installed now.
    pub fn provision(cache: &Path) -> Result<(Self, bool)> {
        let venv = cache.join("toolchains").join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"));
        let toolchain = PythonToolchain { venv };
        let installed = crate::reuse::provision(&toolchain.venv, COMPONENTIZE_PY_VERSION, |venv| {
            let python = find_python()?;
            process::run(
                Command::new(&python).args(["-m", "venv"]).arg(venv),
                &format!(
                    "creating a Python venv for componentize-py at {} (if this says ensurepip is missing, install your system's python3-venv package)",
                    venv.display()
                ),
            )?;
            process::run(
                Command::new(toolchain.python())
                    .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                    .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}")),
                &format!("installing componentize-py {COMPONENTIZE_PY_VERSION} from PyPI"),
            )?;
            Ok(())
        })?;
        Ok((toolchain, installed))
    }

    pub fn python(&self) -> PathBuf {
        self.venv.join("bin").join("python")
    }

    pub fn componentize_py(&self) -> PathBuf {
        self.venv.join("bin").join("componentize-py")
    }
}

/// `python3` (or `python`) on PATH.
pub(crate) fn find_python() -> Result<String> {
    for candidate in ["python3", "python"] {
        if process::is_available(candidate) {
            return Ok(candidate.to_string());
        }
    }
    bail!(
        "fabricks needs python3 on PATH (it installs componentize-py {COMPONENTIZE_PY_VERSION} for Python apps with it, and Zig from PyPI for the key derivation every app gets, once), and none was found\n  fix: install Python 3.9 or newer with its venv module (e.g. `apt-get install python3 python3-venv`), then build again"
    )
}

pub const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
pub const ESBUILD_VERSION: &str = "0.28.2";
/// componentize-js imports it without declaring it; 0.17.x works with 0.23.
pub const PREVIEW2_SHIM_VERSION: &str = "0.17.9";

/// A folder of pinned npm packages: componentize-js, esbuild, shims.
pub struct NodeToolchain {
    dir: PathBuf,
}

impl NodeToolchain {
    /// Install the pinned tools into the cache if needed; returns whether
    /// they were installed now.
    pub fn provision(cache: &Path) -> Result<(Self, bool)> {
        for tool in ["node", "npm"] {
            if !process::is_available(tool) {
                bail!(
                    "building a Node.js app needs {tool} on PATH (fabricks installs componentize-js {COMPONENTIZE_JS_VERSION} and esbuild with it, once), and it was not found\n  fix: install Node.js 20 or newer with npm, then build again"
                );
            }
        }
        let manifest = serde_json::json!({
            "name": "fabricks-node-toolchain",
            "private": true,
            "dependencies": {
                "@bytecodealliance/componentize-js": COMPONENTIZE_JS_VERSION,
                "@bytecodealliance/preview2-shim": PREVIEW2_SHIM_VERSION,
                "esbuild": ESBUILD_VERSION,
                // Node built-ins for the guest, and the req/res classes over web streams.
                "node-stdlib-browser": "1.3.1",
                "fetch-to-node": "2.1.0",
                "@noble/hashes": "2.4.0",
                // Rewrites \p{...} in regular expressions at bundle time.
                "regexpu-core": "6.5.4",
            }
        });
        let manifest_text = serde_json::to_string_pretty(&manifest)?;
        let pins = format!("{:x}", sha2::Sha256::digest(manifest_text.as_bytes()));
        let dir = cache.join("toolchains").join(format!("nodejs-componentize-js-{COMPONENTIZE_JS_VERSION}-{}", &pins[..12]));
        let toolchain = NodeToolchain { dir };
        let installed = crate::reuse::provision(&toolchain.dir, COMPONENTIZE_JS_VERSION, |dir| {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            std::fs::write(dir.join("package.json"), &manifest_text).context("writing the toolchain's package.json")?;
            process::run(
                Command::new("npm").args(["install", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(dir),
                &format!("installing componentize-js {COMPONENTIZE_JS_VERSION} and esbuild {ESBUILD_VERSION} from npm"),
            )?;
            Ok(())
        })?;
        Ok((toolchain, installed))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
