//! fabricks builders: everything before a component exists.
//!
//! A Fabrickfile or spin.toml becomes a [`project::Project`] (the manifest
//! model); [`build`] takes each of its [`BuildSpec`]s, picks the [`Builder`]
//! for its source language, and writes `.fabricks/<name>.wasm` in the app
//! directory. A content hash of every input (the app's files, the adapters,
//! the WIT, the toolchain pins) is kept beside it; when nothing changed the
//! whole build is skipped. [`lock`] then writes the project as the locked
//! app the trigger serves.

pub mod adapters;
pub mod app_files;
pub mod cache;
pub mod convert;
pub mod custom;
pub mod edits;
pub mod fabrickfile;
pub mod kdf;
pub mod lock;
pub mod manifest;
pub mod nodejs;
pub mod process;
pub mod progress;
pub mod project;
pub mod python;
pub mod python_heap;
pub mod reuse;
pub mod toolchain;
pub mod wagi_modules;
pub mod wit;
pub mod zig;

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

/// What to build: one component of an app, from a Fabrickfile or from the
/// fabricks settings of a spin.toml component.
#[derive(Clone, Debug)]
pub struct BuildSpec {
    /// The component id.
    pub id: String,
    /// The app directory (the sources).
    pub dir: PathBuf,
    /// The file the settings came from, named in messages.
    pub origin: PathBuf,
    pub source: AppSource,
    /// Where the component goes.
    pub output: PathBuf,
    /// The environment the component runs with: the build loads the app
    /// with it too, so that what its modules read at import time (Django's
    /// settings: `DEBUG = os.environ.get(...)`) is what they read serving.
    pub environment: Vec<(String, String)>,
    /// Folders of the app (relative to `dir`) it writes to: not part of the
    /// app's sources (not staged, not hashed), mounted writable instead (see
    /// [`BuildSpec::writable_files`]).
    pub writable: Vec<PathBuf>,
    /// Granted a SQLite database: a Python component then imports Spin's
    /// `spin:sqlite` interface and its `sqlite3` module uses it.
    pub sqlite: bool,
}

impl BuildSpec {
    /// The one component a Fabrickfile describes.
    pub fn from_fabrickfile(fabrickfile: &Fabrickfile) -> Self {
        let dir = fabrickfile.dir.clone();
        let output = match &fabrickfile.source {
            AppSource::Wasm { component } => component.clone(),
            AppSource::Custom(custom) => dir.join(&custom.output),
            AppSource::Python(_) | AppSource::NodeJs(_) => default_output(&dir, &fabrickfile.name),
        };
        BuildSpec {
            id: fabrickfile.name.clone(),
            dir,
            origin: fabrickfile.path.clone(),
            source: fabrickfile.source.clone(),
            output,
            environment: fabrickfile.environment().0,
            writable: fabrickfile.writable.clone(),
            sqlite: !fabrickfile.sqlite_databases.is_empty(),
        }
    }

    /// A spin.toml component with a framework section (`language` is
    /// `python` or `nodejs`; `label` names the section in errors).
    pub fn from_framework_settings(
        id: &str,
        manifest: &Path,
        output: PathBuf,
        language: &str,
        settings: &toml::Table,
        label: &str,
    ) -> Result<Self> {
        let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let file = manifest.display().to_string();
        let source = match language {
            "python" => AppSource::Python(fabrickfile::parse_python(settings, &dir, &file, label)?),
            "nodejs" => AppSource::NodeJs(fabrickfile::parse_nodejs(settings, &dir, &file, label)?),
            other => bail!("{file}: {label}: {other:?} is not a language fabricks builds"),
        };
        Ok(BuildSpec {
            id: id.to_string(),
            dir,
            origin: manifest.to_path_buf(),
            source,
            output,
            environment: Vec::new(),
            writable: Vec::new(),
            sqlite: false,
        })
    }
}

impl BuildSpec {
    /// Scratch space for this component's build, kept between builds:
    /// `<dir>/.fabricks/build/<id>`. Python builds stage there what their
    /// components read at run time (see [`BuildSpec::run_time_files`]).
    pub fn work_dir(&self) -> PathBuf {
        self.dir.join(OUTPUT_DIR).join("build").join(&self.id)
    }

    /// What the component reads from disk while it serves, as (host folder,
    /// guest path): a Python component's app, packages and adapter, at the
    /// very paths its interpreter snapshot saw them at build time, so that
    /// templates, static files, package data and modules imported only
    /// while serving are there; a Node component's app and its
    /// `node_modules`, at the paths `__dirname` names. Read-only, like every
    /// mount.
    pub fn run_time_files(&self) -> Vec<(PathBuf, String)> {
        match &self.source {
            AppSource::Python(_) => python::guest_folders(&self.work_dir()),
            AppSource::NodeJs(_) => nodejs::guest_folders(&self.work_dir()),
            _ => Vec::new(),
        }
    }

    /// The folders the app writes to, as (host folder, guest path): kept in
    /// `<dir>/.fabricks/state/<id>/`, apart from the app's sources and from
    /// the build (a rebuild keeps them), and seen by the app where its own
    /// folder would hold them (`instance` of a Python app: `/0/instance`).
    pub fn writable_files(&self) -> Vec<(PathBuf, String)> {
        let app_folder = self.app_guest_folder().unwrap_or("");
        let state = self.dir.join(OUTPUT_DIR).join("state").join(&self.id);
        self.writable.iter().map(|folder| (state.join(folder), format!("{app_folder}/{}", folder.display()))).collect()
    }
}

/// `<dir>/.fabricks/<id>.wasm`: where fabricks puts the components it builds.
pub fn default_output(dir: &Path, id: &str) -> PathBuf {
    dir.join(OUTPUT_DIR).join(format!("{id}.wasm"))
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

/// One way of turning an app into a component: a language fabricks
/// builds. A new language is one more implementation (and its section in
/// the Fabrickfile); what all builds share (the no-op check, the output
/// folder, progress) is [`build`]'s, and the pieces builders reuse are in
/// [`reuse`].
pub trait Builder {
    /// How many progress steps it reports.
    fn steps(&self) -> usize;
    /// What it builds with, for the first progress line ("python, flask").
    fn describe(&self) -> String;
    /// Write the component to `output` (by way of [`reuse::partial`]).
    fn build(&self, ctx: &BuildContext, output: &Path, progress: &mut Progress) -> Result<()>;
}

/// What every builder gets.
pub struct BuildContext<'a> {
    pub spec: &'a BuildSpec,
    /// The per-user cache (toolchains).
    pub cache_dir: PathBuf,
    /// Scratch space for this component's build, kept between builds.
    pub work_dir: PathBuf,
}

/// Build one component, unless nothing changed.
pub fn build(spec: &BuildSpec, options: &BuildOptions) -> Result<BuiltComponent> {
    let id = spec.id.clone();
    let wasm = spec.output.clone();
    if let AppSource::Wasm { component } = &spec.source {
        if !component.is_file() {
            bail!(
                "{}: [wasm] component: {} does not exist\n  fix: build the component first, or correct the path",
                spec.origin.display(),
                component.display()
            );
        }
        return Ok(BuiltComponent { id, wasm, skipped: true });
    }

    let output_dir = spec.dir.join(OUTPUT_DIR);
    std::fs::create_dir_all(&output_dir).with_context(|| format!("creating {}", output_dir.display()))?;
    let _building = reuse::build_lock(&output_dir.join(format!("{id}.lock")), &id, options.quiet)?;
    let stamp_path = output_dir.join(format!("{id}.inputs"));
    let fingerprint = inputs_fingerprint(spec)?;
    let files_there = spec.run_time_files().iter().all(|(host, _)| host.is_dir());
    if !options.force && wasm.is_file() && files_there && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == fingerprint) {
        if !options.quiet {
            eprintln!("fabricks: {} is up to date (no input changed since the last build)", wasm.display());
        }
        return Ok(BuiltComponent { id, wasm, skipped: true });
    }

    // Gitignore the build outputs by default, as cargo does for target/.
    let gitignore = output_dir.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, "*\n").with_context(|| format!("writing {}", gitignore.display()))?;
    }
    if let Some(parent) = wasm.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let _ = std::fs::remove_file(&stamp_path);
    let ctx = BuildContext { spec, cache_dir: cache::cache_dir(), work_dir: spec.work_dir() };
    let started = std::time::Instant::now();
    let builder: &dyn Builder = match &spec.source {
        AppSource::Python(app) => app,
        AppSource::NodeJs(app) => app,
        AppSource::Custom(custom) => custom,
        AppSource::Wasm { .. } => unreachable!("handled above"),
    };
    let mut progress = Progress::new(builder.steps(), options.quiet);
    progress.say(&format!("fabricks: building {} from {} ({})", wasm.display(), spec.origin.display(), builder.describe()));
    builder.build(&ctx, &wasm, &mut progress)?;
    std::fs::write(&stamp_path, &fingerprint).with_context(|| format!("writing {}", stamp_path.display()))?;
    if !options.quiet {
        eprintln!("fabricks: built {} in {:.1} s", wasm.display(), started.elapsed().as_secs_f64());
    }
    Ok(BuiltComponent { id, wasm, skipped: false })
}

/// A hash of everything a build reads: the app's files (the Fabrickfile and
/// requirements among them), the build settings, the adapters, the WIT and the
/// tool pins.
fn inputs_fingerprint(spec: &BuildSpec) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    hasher.update(toolchain::COMPONENTIZE_PY_VERSION);
    hasher.update(toolchain::COMPONENTIZE_JS_VERSION);
    hasher.update(settings_description(spec));
    // The builder's own code writes part of the component (the generated
    // entry module, the build settings): a new fabricks rebuilds.
    hasher.update(match &spec.source {
        AppSource::Python(_) => include_str!("python.rs"),
        AppSource::NodeJs(_) => include_str!("nodejs.rs"),
        AppSource::Wasm { .. } | AppSource::Custom(_) => "",
    });
    // Only what this component's build reads: its own language's adapter.
    let adapter: &[(&str, &str)] = match &spec.source {
        AppSource::Python(_) => adapters::PYTHON_PACKAGE,
        AppSource::NodeJs(_) => adapters::NODE_PACKAGE,
        AppSource::Wasm { .. } | AppSource::Custom(_) => &[],
    };
    for (name, text) in adapter.iter().chain(wit::WIT_FILES) {
        hasher.update(name);
        hasher.update(text);
    }
    if let AppSource::Python(_) | AppSource::NodeJs(_) = &spec.source {
        hasher.update(adapters::LIFECYCLE_WIT);
        for text in [include_str!("kdf.rs"), kdf::KDF_ZIG, kdf::KDF_WIT, zig::ZIG_VERSION] {
            hasher.update(text);
        }
    }
    if let AppSource::Python(_) = &spec.source {
        hasher.update(python::TZDATA);
        hasher.update(include_str!("python_heap.rs"));
        hasher.update(python_heap::SOURCE);
    }
    // What an app's own build command writes into its folder is the
    // build's output, not an input: hashed, it would rebuild every time.
    let mut skip = spec.writable.clone();
    skip.extend(spec.output.strip_prefix(&spec.dir).ok().map(Path::to_path_buf));
    app_files::hash_into(&spec.dir, &skip, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The build settings, with paths relative to the app directory: the same
/// app named by a relative or an absolute path is the same input.
fn settings_description(spec: &BuildSpec) -> String {
    format!("{} environment={:?} sqlite={}", source_description(spec), spec.environment, spec.sqlite)
}

fn source_description(spec: &BuildSpec) -> String {
    let relative = |path: &Path| path.strip_prefix(&spec.dir).unwrap_or(path).display().to_string();
    match &spec.source {
        AppSource::Python(app) => format!(
            "python {} {}:{}{:?} requirements={:?}",
            app.framework,
            app.module,
            app.attribute,
            app.factory_args,
            app.requirements.as_deref().map(relative)
        ),
        AppSource::NodeJs(app) => format!("nodejs {} {} {}", app.framework, app.app, app.handler),
        AppSource::Wasm { component } => format!("wasm {}", relative(component)),
        AppSource::Custom(custom) => format!("custom {:?} {} {:?} {:?}", custom.command, custom.output, custom.workdir, custom.watch),
    }
}

/// The app directory's Fabrickfile, parsed, with its warnings printed.
pub fn load_fabrickfile(dir: &Path) -> Result<Fabrickfile> {
    let fabrickfile = Fabrickfile::load(dir)?;
    for warning in &fabrickfile.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(fabrickfile)
}
