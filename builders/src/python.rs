//! The Python builder: vendor the app's requirements for the CPython guest,
//! stage the app with the adapter and a generated entry module, and run
//! componentize-py to get a `wasi:http/proxy` component.

use crate::fabrickfile::{PythonApp, PythonInterface};
use crate::progress::Progress;
use crate::reuse::{self, StampedDir};
use crate::toolchain::PythonToolchain;
use crate::{BuildContext, Builder, adapters, app_files, process, wit};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The guest interpreter componentize-py embeds, which wheels must fit.
const GUEST_PYTHON_VERSION: &str = "3.14";
/// Wheels are fetched for this platform; their compiled parts are removed
/// (the guest cannot load them), so any architecture would do.
const WHEEL_PLATFORMS: &[&str] = &["manylinux2014_x86_64", "manylinux_2_28_x86_64"];

/// The folders componentize-py puts on the guest's `sys.path`, in the order
/// it is given them (`-p`), each with the guest path it mounts it at.
const GUEST_FOLDERS: [(&str, &str); 3] = [("app", APP_GUEST_FOLDER), ("deps", "/1"), ("adapter", "/2")];

/// Where the guest sees the app's own folder (and runs in it).
pub const APP_GUEST_FOLDER: &str = "/0";

/// The build's app, packages and adapter folders under `work_dir`, with
/// the guest paths the snapshot saw them at.
pub fn guest_folders(work_dir: &Path) -> Vec<(PathBuf, String)> {
    GUEST_FOLDERS.iter().map(|(folder, guest)| (work_dir.join(folder), guest.to_string())).collect()
}

/// How the entry module marks an explanation for the user on stderr.
const ERROR_MARKER: &str = "fabricks-error: ";

impl Builder for PythonApp {
    fn steps(&self) -> usize {
        4
    }

    fn describe(&self) -> String {
        format!("python, {}", self.framework)
    }

    fn build(&self, ctx: &BuildContext, output: &Path, progress: &mut Progress) -> Result<()> {
        build(ctx, self, output, progress)
    }
}

fn build(ctx: &BuildContext, app: &PythonApp, output: &Path, progress: &mut Progress) -> Result<()> {
    let step = progress.step(&format!("toolchain: componentize-py {}", crate::toolchain::COMPONENTIZE_PY_VERSION));
    let (toolchain, installed) = PythonToolchain::provision(&ctx.cache_dir)?;
    step.done(if installed { "installed into the cache" } else { "cached" });

    let build_dir = ctx.work_dir.clone();
    let deps_dir = build_dir.join(GUEST_FOLDERS[1].0);
    let step = progress.step("dependencies");
    let requirements = requirements_text(ctx, app)?;
    let deps = vendor_requirements(&toolchain, requirements.as_ref(), &deps_dir)?;
    refuse_known_compiled_only(ctx, &deps.stripped)?;
    step.done(&deps.summary());

    let bridge = match app.framework.interface() {
        PythonInterface::Wsgi => "wsgi",
        PythonInterface::Asgi => "asgi",
    };
    let step = progress.step(&format!(
        "staging the app, the {} adapter (its C extension compiled with Zig on first use) and the entry module",
        bridge.to_uppercase()
    ));
    let app_dir = build_dir.join(GUEST_FOLDERS[0].0);
    let staged = app_files::copy_to(&ctx.spec.dir, &ctx.spec.writable, &app_dir)?;
    let adapter_dir = build_dir.join(GUEST_FOLDERS[2].0);
    adapters::write_python_package(&adapter_dir)?;
    let heap = crate::python_heap::library(&crate::cache::cache_dir())?;
    std::fs::copy(&heap, adapter_dir.join(crate::python_heap::FILE_NAME)).with_context(|| format!("copying {}", heap.display()))?;
    std::fs::write(adapter_dir.join("fabricks_entry.py"), entry_module(app, &ctx.spec.environment, &deps.stripped, ctx.spec.sqlite)?)
        .context("writing the entry module")?;
    let wit_dir = build_dir.join("wit");
    wit::write_with_lifecycle(&wit_dir, wit::WASI_HTTP_VERSION)?;
    let called = app.factory_args.as_ref().map(|args| format!("({args})")).unwrap_or_default();
    step.done(&format!("{staged} app files; entry serves {}:{}{called} ({})", app.module, app.attribute, app.framework));

    let step = progress.step("componentize-py: snapshotting the interpreter with the app loaded");
    let partial = reuse::partial(output);
    let app_only = build_dir.join("app-only.wasm");
    let mut command = Command::new(toolchain.componentize_py());
    command
        .arg("-d")
        .arg(&wit_dir)
        .arg("-w")
        .arg(if ctx.spec.sqlite { wit::PYTHON_SQLITE_WORLD } else { wit::PYTHON_WORLD })
        .arg("componentize")
        .arg("-p")
        .arg(&app_dir)
        .arg("-p")
        .arg(&deps_dir)
        .arg("-p")
        .arg(&adapter_dir)
        .arg("-o")
        .arg(&app_only)
        .arg("fabricks_entry")
        // componentize-py adds the site-packages of an active virtualenv,
        // or else of the `python3` on PATH: the guest would see packages of
        // this machine that the app never declared. An empty environment of
        // our own stands in for both.
        .env("VIRTUAL_ENV", isolated_env(&build_dir)?)
        // Its failures are Python tracebacks; a Rust backtrace only buries them.
        .env("RUST_BACKTRACE", "0");
    let result = command.output().context("starting componentize-py")?;
    if !result.status.success() {
        let text = format!("{}{}", String::from_utf8_lossy(&result.stdout), String::from_utf8_lossy(&result.stderr));
        // componentize-py may prefix the guest's stderr (e.g. `AssertionError: `).
        let mut reasons: Vec<&str> = text.lines().filter_map(|l| l.find(ERROR_MARKER).map(|at| &l[at + ERROR_MARKER.len()..])).collect();
        reasons.dedup();
        if !reasons.is_empty() {
            bail!("{}: the app ({}) failed at build time:\n  {}", ctx.spec.origin.display(), app.module, reasons.join("\n  "));
        }
        bail!("componentize-py could not build the component:\n{}", process::tail(&result, 40));
    }
    // hashlib's pbkdf2_hmac and scrypt: compiled code composed in.
    let kdf = crate::kdf::component(&crate::cache::cache_dir())?;
    crate::kdf::compose(&app_only, &kdf, &partial)?;
    step.done(&reuse::publish(output)?);
    Ok(())
}

/// An empty virtualenv-shaped folder for componentize-py to take as the
/// active one (it looks for a `site-packages` folder in it).
fn isolated_env(build_dir: &Path) -> Result<PathBuf> {
    let env = std::path::absolute(build_dir.join("isolated-env")).context("resolving the build folder")?;
    let site_packages = env.join("lib").join(format!("python{GUEST_PYTHON_VERSION}")).join("site-packages");
    std::fs::create_dir_all(&site_packages).with_context(|| format!("creating {}", site_packages.display()))?;
    Ok(env)
}

/// The requirements to install, and where they came from: the Fabrickfile's
/// `requirements` file, else `[project] dependencies` of a pyproject.toml.
struct Requirements {
    origin: PathBuf,
    text: String,
}

fn requirements_text(ctx: &BuildContext, app: &PythonApp) -> Result<Option<Requirements>> {
    if let Some(path) = &app.requirements {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(Some(Requirements { origin: path.clone(), text }));
    }
    let pyproject = ctx.spec.dir.join("pyproject.toml");
    if !pyproject.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&pyproject).with_context(|| format!("reading {}", pyproject.display()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not valid TOML: {e}", pyproject.display()))?;
    let dependencies = table
        .get("project")
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array())
        .map(|items| items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default();
    Ok(Some(Requirements { origin: pyproject, text: dependencies }))
}

/// Packages known to need their compiled part, refused before the long
/// componentize step with what to use instead.
fn refuse_known_compiled_only(ctx: &BuildContext, stripped: &BTreeMap<String, String>) -> Result<()> {
    if stripped.keys().any(|module| module.starts_with("pydantic_core")) {
        return Err(pydantic_v2_error(&ctx.spec.origin.display().to_string()));
    }
    for (module, package) in stripped {
        if let Some((_, instead)) = RUST_ONLY.iter().find(|(prefix, _)| module.starts_with(prefix)) {
            bail!(
                "{}: the package {package:?} is written in Rust ({module} is its compiled core, with no pure-Python fallback); Rust cannot be compiled for WebAssembly here, so it would fail at run time\n  fix: {instead}",
                ctx.spec.origin.display()
            );
        }
    }
    Ok(())
}

/// Packages whose compiled part is all there is, written in Rust: refused at
/// build time rather than shipped without it. (module prefix, what to use instead)
const RUST_ONLY: &[(&str, &str)] = &[
    (
        "bcrypt._bcrypt",
        "remove bcrypt: werkzeug's and Django's default password hashers (scrypt, PBKDF2) work in the component, which has hashlib.scrypt and hashlib.pbkdf2_hmac (passlib: use its pbkdf2_sha256 scheme)",
    ),
    ("cryptography.hazmat.bindings._rust", "remove cryptography; for JWTs with HS256, PyJWT works without it"),
    ("orjson.", "use the standard json module (or a pure-Python JSON package)"),
    ("rpds.", "pin jsonschema<4.18, which does not need rpds-py"),
    ("jiter.", "pin a version of the package that needs jiter that works without it, or remove it"),
];

fn pydantic_v2_error(origin: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{origin}: the requirements resolve to pydantic v2, whose core (pydantic-core) is a compiled extension with no WebAssembly build\n  fix: pin pydantic v1 in the requirements (pydantic==1.10.27); for FastAPI also pin fastapi==0.115.14, the newest release that supports pydantic v1"
    )
}

/// What vendoring produced.
struct Vendored {
    packages: usize,
    reused: bool,
    /// Removed compiled modules: module name -> distribution.
    stripped: BTreeMap<String, String>,
}

impl Vendored {
    fn summary(&self) -> String {
        let mut text = if self.packages == 0 {
            "no requirements".to_string()
        } else if self.reused {
            format!("{} packages, unchanged since the last build", self.packages)
        } else {
            format!("{} packages installed", self.packages)
        };
        if !self.stripped.is_empty() {
            let names: Vec<&str> = self.stripped.keys().map(String::as_str).collect();
            text.push_str(&format!("; compiled modules left out, to use pure-Python fallbacks: {}", names.join(", ")));
        }
        text
    }
}

const STAMP: &str = ".fabricks-deps";
const STRIPPED: &str = ".fabricks-stripped.json";

/// The time zone database for `zoneinfo` (Django with `USE_TZ`, any
/// `ZoneInfo("Europe/Paris")`): the guest has no /usr/share/zoneinfo, so the
/// `tzdata` package stands in for it, as on systems without one.
pub const TZDATA: &str = "tzdata==2026.6";

/// `requirements` with [`TZDATA`] added, unless they name tzdata already.
fn with_time_zone_data(requirements: &str) -> String {
    let names_tzdata = requirements.lines().any(|line| line.trim().to_ascii_lowercase().starts_with("tzdata"));
    if names_tzdata { requirements.to_string() } else { format!("{}\n{TZDATA}\n", requirements.trim_end()) }
}

/// Install `requirements` into `deps_dir` as wheels for the guest's Python,
/// with every compiled extension removed. Reused while the requirements are
/// unchanged.
fn vendor_requirements(toolchain: &PythonToolchain, requirements: Option<&Requirements>, deps_dir: &Path) -> Result<Vendored> {
    let text = with_time_zone_data(&requirements.map(|r| r.text.clone()).unwrap_or_default());
    let mut hasher = Sha256::new();
    hasher.update(GUEST_PYTHON_VERSION);
    hasher.update(WHEEL_PLATFORMS.join(","));
    hasher.update(&text);
    let vendored = StampedDir::new(deps_dir, STAMP, format!("{:x}", hasher.finalize()));
    if vendored.is_current() {
        let stripped =
            std::fs::read_to_string(deps_dir.join(STRIPPED)).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        return Ok(Vendored { packages: count_distributions(deps_dir), reused: true, stripped });
    }
    vendored.clear()?;

    let origin = requirements.map(|r| r.origin.display().to_string()).unwrap_or_else(|| "the app (none declared)".into());
    let stripped = {
        // pip reads a file; a pyproject's list is written out first.
        let list = deps_dir.with_extension("requirements.txt");
        std::fs::write(&list, &text).with_context(|| format!("writing {}", list.display()))?;
        let mut pip = Command::new(toolchain.python());
        pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile", "--target"]).arg(deps_dir).args([
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            GUEST_PYTHON_VERSION,
        ]);
        for platform in WHEEL_PLATFORMS {
            pip.args(["--platform", platform]);
        }
        pip.arg("-r").arg(&list);
        let output = pip.output().context("starting pip")?;
        if !output.status.success() && String::from_utf8_lossy(&output.stderr).contains("pydantic-core") {
            return Err(pydantic_v2_error(&origin));
        }
        if !output.status.success() {
            bail!(
                "installing the requirements of {origin} for the guest (CPython {GUEST_PYTHON_VERSION}) failed: a package needs a wheel for CPython {GUEST_PYTHON_VERSION} or a pure-Python one\n{}\n  fix: pin versions that publish such wheels",
                process::tail(&output, 20)
            );
        }
        let stripped = strip_compiled_modules(deps_dir)?;
        let _ = std::fs::remove_dir_all(deps_dir.join("bin"));
        stripped
    };
    std::fs::write(deps_dir.join(STRIPPED), serde_json::to_string(&stripped)?).context("recording the stripped modules")?;
    vendored.record()?;
    Ok(Vendored { packages: count_distributions(deps_dir), reused: false, stripped })
}

fn count_distributions(deps_dir: &Path) -> usize {
    std::fs::read_dir(deps_dir)
        .map(|entries| entries.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".dist-info")).count())
        .unwrap_or(0)
}

/// Remove every compiled extension (`.so`, `.pyd`) under `deps_dir`; the
/// guest cannot load them. Returns module name -> distribution for each, so a
/// failing import can name the package that only works compiled.
fn strip_compiled_modules(deps_dir: &Path) -> Result<BTreeMap<String, String>> {
    let owners = distribution_owners(deps_dir)?;
    let mut stripped = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(relative) = stack.pop() {
        let dir = deps_dir.join(&relative);
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = relative.join(&name);
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if name.ends_with(".so") || name.ends_with(".pyd") {
                let stem = name.split('.').next().unwrap_or(&name);
                let mut module: Vec<String> = relative.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                module.push(stem.to_string());
                let owner = owners.get(&path.to_string_lossy().replace('\\', "/")).cloned().unwrap_or_else(|| module[0].clone());
                std::fs::remove_file(deps_dir.join(&path)).with_context(|| format!("removing {}", path.display()))?;
                stripped.insert(module.join("."), owner);
            }
        }
    }
    Ok(stripped)
}

/// File path (as in RECORD) -> the distribution that installed it.
fn distribution_owners(deps_dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut owners = BTreeMap::new();
    for entry in std::fs::read_dir(deps_dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(dist) = name.strip_suffix(".dist-info") else { continue };
        let project = dist.rsplit_once('-').map(|(p, _)| p).unwrap_or(dist).to_string();
        if let Ok(record) = std::fs::read_to_string(entry.path().join("RECORD")) {
            for line in record.lines() {
                if let Some(file) = line.split(',').next() {
                    owners.insert(file.to_string(), project.clone());
                }
            }
        }
    }
    Ok(owners)
}

/// The generated entry module: loads the user's app, prepares the snapshot,
/// and exports `IncomingHandler`, `Lifecycle` and `Command`.
fn entry_module(app: &PythonApp, environment: &[(String, String)], stripped: &BTreeMap<String, String>, sqlite: bool) -> Result<String> {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let bridge = match app.framework.interface() {
        PythonInterface::Wsgi => "wsgi",
        PythonInterface::Asgi => "asgi",
    };
    Ok(format!(
        r#""""Generated by fabricks: serves {module}:{attribute} ({framework}) through the {interface} adapter.

Rewritten on every build; the app's own code is imported, never edited.
"""

import os

from fabricks_adapter import command, compat, finalize, preload, reload, {bridge}

# The bindings' per-resource finalizers, made cheap before the first one.
finalize.install()

# Compiled modules left out of the vendored packages (module -> package).
STRIPPED_MODULES = {stripped}

# The component's environment, as it will be while serving: what the app's
# modules read at import time is what they would read then.
os.environ.update({environment})
# The app's folder is the working directory, as where gunicorn or uvicorn
# is started: relative paths (StaticFiles(directory="static"),
# open("data.json")) mean the app's files, at build time and while serving.
os.chdir({app_folder})

compat.install()
{sqlite_install}

def load_app():
    return preload.load_app({module_q}, {attribute_q}, STRIPPED_MODULES, {factory_args})


user_app = load_app()
preload.prepare(user_app, {bridge_q}, {source_folders}, {warm_up}, {warm_up_key})
# Under `up --watch`, an instance may load the app again from newer sources.
IncomingHandler, Lifecycle = {bridge}.exports(reload.reloadable(user_app, load_app, {app_folder}, {bridge_q}, {reload_modules}))
Command = command.command_class()
"#,
        module = app.module,
        attribute = app.attribute,
        framework = app.framework,
        interface = bridge.to_uppercase(),
        stripped = serde_json::to_string(stripped)?,
        app_folder = quote(GUEST_FOLDERS[0].1),
        sqlite_install = if sqlite {
            "# Granted a SQLite database: `import sqlite3` is Spin's SQLite.\nfrom fabricks_adapter import spin_sqlite3\nspin_sqlite3.install()\n"
        } else {
            "# Granted no database: sqlite3.connect of a file says how to grant one.\ncompat.explain_ungranted_sqlite()\n"
        },
        environment = serde_json::to_string(&environment.iter().cloned().collect::<BTreeMap<_, _>>())?,
        module_q = quote(&app.module),
        attribute_q = quote(&app.attribute),
        // Python's None, or the factory's arguments as a string for the adapter to parse.
        factory_args = app.factory_args.as_deref().map(quote).unwrap_or_else(|| "None".to_string()),
        bridge_q = quote(bridge),
        // The app and its packages, where the guest sees them.
        source_folders = serde_json::to_string(&[GUEST_FOLDERS[0].1, GUEST_FOLDERS[1].1])?,
        // `[python] warm_up`: a JSON list of strings is a Python list of str.
        warm_up = serde_json::to_string(&app.warm_up)?,
        warm_up_key = quote(&app.warm_up_key),
        reload_modules = if app.framework.reloads_modules() { "True" } else { "False" },
    ))
}
