//! Provisioning of pinned guest toolchains into the cache, on first use.
//!
//! A user needs only `python3` (with its `venv` module) on PATH: fabricks
//! installs `componentize-py` into a venv of its own and reuses it afterwards.

use crate::process;
use anyhow::{Context, Result, bail};
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
        let ready_marker = toolchain.venv.join(".fabricks-ready");
        if ready_marker.is_file() && toolchain.componentize_py().is_file() {
            return Ok((toolchain, false));
        }
        let python = find_python()?;
        if toolchain.venv.exists() {
            // A half-made venv from an interrupted install.
            std::fs::remove_dir_all(&toolchain.venv)
                .with_context(|| format!("removing the unfinished toolchain at {}", toolchain.venv.display()))?;
        }
        std::fs::create_dir_all(toolchain.venv.parent().unwrap())
            .with_context(|| format!("creating the cache directory {}", cache.display()))?;
        process::run(
            Command::new(&python).args(["-m", "venv"]).arg(&toolchain.venv),
            &format!(
                "creating a Python venv for componentize-py at {} (if this says ensurepip is missing, install your system's python3-venv package)",
                toolchain.venv.display()
            ),
        )?;
        process::run(
            Command::new(toolchain.python())
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}")),
            &format!("installing componentize-py {COMPONENTIZE_PY_VERSION} from PyPI"),
        )?;
        std::fs::write(&ready_marker, COMPONENTIZE_PY_VERSION)
            .with_context(|| format!("writing {}", ready_marker.display()))?;
        Ok((toolchain, true))
    }

    pub fn python(&self) -> PathBuf {
        self.venv.join("bin").join("python")
    }

    pub fn componentize_py(&self) -> PathBuf {
        self.venv.join("bin").join("componentize-py")
    }
}

fn find_python() -> Result<String> {
    for candidate in ["python3", "python"] {
        if process::is_available(candidate) {
            return Ok(candidate.to_string());
        }
    }
    bail!(
        "building a Python app needs python3 on PATH (fabricks installs componentize-py {COMPONENTIZE_PY_VERSION} with it, once), and none was found\n  fix: install Python 3.9 or newer with its venv module (e.g. `apt-get install python3 python3-venv`), then build again"
    )
}
