//! fabricks builders: everything before a component exists.
//!
//! [`build`] takes a parsed [`Fabrickfile`], picks the builder for its source
//! language, and writes `.fabricks/<name>.wasm` in the app directory. A
//! content hash of every input (the app's files, the adapters, the WIT, the
//! toolchain pins) is kept beside it; when nothing changed the whole build is
//! skipped.

pub mod adapters;
pub mod app_files;
pub mod cache;
pub mod fabrickfile;
pub mod process;
pub mod progress;
pub mod python;
pub mod toolchain;
pub mod wit;

use anyhow::{Context, Result, bail};
pub use fabrickfile::{AppSource, Fabrickfile};
use progress::Progress;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The folder, inside the app directory, that holds build outputs.
pub const OUTPUT_DIR: &str = ".fabricks";

/// How to build.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Rebuild even when no input changed.
    pub force: bool,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// What a build left behind.
#[derive(Clone, Debug)]
pub struct BuiltComponent {
    /// The component id (`[info] name` or the directory's name).
    pub id: String,
    /// The `wasi:http/proxy` component.
    pub wasm: PathBuf,
    /// True when the inputs were unchanged and nothing was rebuilt.
    pub skipped: bool,
}

/// What every builder gets.
pub struct BuildContext<'a> {
    pub fabrickfile: &'a Fabrickfile,
    /// The per-user cache (toolchains).
    pub cache_dir: PathBuf,
    /// Scratch space for this app's build, kept between builds.
    pub work_dir: PathBuf,
}

/// Build the app a Fabrickfile describes, unless nothing changed.
pub fn build(fabrickfile: &Fabrickfile, options: &BuildOptions) -> Result<BuiltComponent> {
    let output_dir = fabrickfile.dir.join(OUTPUT_DIR);
    let wasm = output_dir.join(format!("{}.wasm", fabrickfile.name));
    let stamp_path = output_dir.join(format!("{}.inputs", fabrickfile.name));
    let id = fabrickfile.name.clone();

    if let AppSource::Wasm { component } = &fabrickfile.source {
        if !component.is_file() {
            bail!(
                "{}: [wasm] component: {} does not exist\n  fix: build the component first, or correct the path",
                fabrickfile.path.display(),
                component.display()
            );
        }
        return Ok(BuiltComponent { id, wasm: component.clone(), skipped: true });
    }

    let fingerprint = inputs_fingerprint(fabrickfile)?;
    if !options.force && wasm.is_file() && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == fingerprint) {
        if !options.quiet {
            eprintln!("fabricks: {} is up to date (no input changed since the last build)", wasm.display());
        }
        return Ok(BuiltComponent { id, wasm, skipped: true });
    }

    std::fs::create_dir_all(&output_dir).with_context(|| format!("creating {}", output_dir.display()))?;
    // Gitignore the build outputs by default, as cargo does for target/.
    let gitignore = output_dir.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, "*\n").with_context(|| format!("writing {}", gitignore.display()))?;
    }
    let _ = std::fs::remove_file(&stamp_path);
    let ctx = BuildContext {
        fabrickfile,
        cache_dir: cache::cache_dir(),
        work_dir: output_dir.join("build"),
    };
    let started = std::time::Instant::now();
    match &fabrickfile.source {
        AppSource::Python(app) => {
            let mut progress = Progress::new(python::STEPS, options.quiet);
            progress.say(&format!(
                "fabricks: building {} from {} (python, {})",
                wasm.display(),
                fabrickfile.path.display(),
                app.framework
            ));
            python::build(&ctx, app, &wasm, &mut progress)?;
        }
        AppSource::NodeJs => bail!(
            "{}: [from] source = \"nodejs\": Node.js apps are not supported by this version of fabricks yet\n  fix: build the app to a wasi:http component yourself and use [from] source = \"wasm\"",
            fabrickfile.path.display()
        ),
        AppSource::Wasm { .. } => unreachable!("handled above"),
    }
    std::fs::write(&stamp_path, &fingerprint).with_context(|| format!("writing {}", stamp_path.display()))?;
    if !options.quiet {
        eprintln!("fabricks: built {} in {:.1} s", wasm.display(), started.elapsed().as_secs_f64());
    }
    Ok(BuiltComponent { id, wasm, skipped: false })
}

/// A hash of everything a build reads: the app's files (the Fabrickfile and
/// requirements among them), the adapters, the WIT and the tool pins.
fn inputs_fingerprint(fabrickfile: &Fabrickfile) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    hasher.update(toolchain::COMPONENTIZE_PY_VERSION);
    for (name, text) in adapters::PYTHON_PACKAGE.iter().chain(wit::WIT_FILES) {
        hasher.update(name);
        hasher.update(text);
    }
    app_files::hash_into(&fabrickfile.dir, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The app directory's Fabrickfile, parsed, with its warnings printed.
pub fn load_fabrickfile(dir: &Path) -> Result<Fabrickfile> {
    let fabrickfile = Fabrickfile::load(dir)?;
    for warning in &fabrickfile.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(fabrickfile)
}
