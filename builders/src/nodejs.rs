//! The Node.js builder: install the app's npm dependencies, bundle the app
//! with the JS adapter (esbuild), and turn the bundle into a
//! `wasi:http/proxy` component (componentize-js, StarlingMonkey).

use crate::fabrickfile::NodeApp;
use crate::progress::Progress;
use crate::reuse::{self, StampedDir};
use crate::toolchain::NodeToolchain;
use crate::{BuildContext, Builder, adapters, app_files, process, wit};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the guest sees the app's own folder (its working directory, and
/// what `__dirname` names); its npm packages are at `node_modules` inside it,
/// where node's resolution would find them.
pub const APP_GUEST_FOLDER: &str = "/app";

/// The build's staged app and installed packages under `work_dir`, with
/// the guest paths the bundle's `__dirname`s name.
pub fn guest_folders(work_dir: &Path) -> Vec<(PathBuf, String)> {
    vec![
        (work_dir.join("app"), APP_GUEST_FOLDER.to_string()),
        (work_dir.join("deps").join("node_modules"), format!("{APP_GUEST_FOLDER}/node_modules")),
    ]
}

impl Builder for NodeApp {
    fn steps(&self) -> usize {
        4
    }

    fn describe(&self) -> String {
        format!("nodejs, {}", self.framework)
    }

    fn build(&self, ctx: &BuildContext, output: &Path, progress: &mut Progress) -> Result<()> {
        build(ctx, self, output, progress)
    }
}

fn build(ctx: &BuildContext, app: &NodeApp, output: &Path, progress: &mut Progress) -> Result<()> {
    let step = progress.step(&format!(
        "toolchain: componentize-js {}, esbuild {}",
        crate::toolchain::COMPONENTIZE_JS_VERSION,
        crate::toolchain::ESBUILD_VERSION
    ));
    let (toolchain, installed) = NodeToolchain::provision(&ctx.cache_dir)?;
    step.done(if installed { "installed into the cache" } else { "cached" });

    // node runs in the build folder: every path it gets is absolute.
    let build_dir = std::path::absolute(&ctx.work_dir).context("resolving the build folder")?;
    let output = &std::path::absolute(output).context("resolving the output path")?;
    let deps_dir = build_dir.join("deps");
    let step = progress.step("dependencies (npm)");
    let summary = install_dependencies(&ctx.spec.dir, &deps_dir)?;
    // Mounted while serving even when the app has no packages.
    let modules_dir = deps_dir.join("node_modules");
    std::fs::create_dir_all(&modules_dir).with_context(|| format!("creating {}", modules_dir.display()))?;
    step.done(&summary);

    let step = progress.step("staging the app and the JS adapter");
    let app_dir = build_dir.join("app");
    let staged = app_files::copy_to(&ctx.spec.dir, &ctx.spec.writable, &app_dir)?;
    let adapter_dir = build_dir.join("adapter");
    adapters::write_node_package(&adapter_dir)?;
    let wit_dir = build_dir.join("wit");
    wit::write_with_lifecycle(&wit_dir, wit::STARLINGMONKEY_WASI_VERSION)?;
    let settings = serde_json::json!({
        "toolchainDir": toolchain.dir(),
        "buildDir": build_dir,
        "adapterDir": adapter_dir,
        "depsDir": deps_dir,
        "appDir": app_dir,
        "appPath": app_dir.join(&app.app),
        "guestAppDir": APP_GUEST_FOLDER,
        "environment": ctx.spec.environment.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        "app": app.app,
        "handler": app.handler,
        "framework": app.framework,
        "witDir": wit_dir,
        "world": wit::NODE_WORLD,
        "output": build_dir.join("app-only.wasm"),
    });
    let settings_path = build_dir.join("build-settings.json");
    std::fs::write(&settings_path, serde_json::to_string_pretty(&settings)?).context("writing the build settings")?;
    step.done(&format!("{staged} app files; the entry serves the export {:?} of {} ({})", app.handler, app.app, app.framework));

    let step = progress.step("esbuild bundle, then componentize-js");
    let result = Command::new("node")
        .arg(adapter_dir.join("build.mjs"))
        .arg(&settings_path)
        .current_dir(&build_dir)
        .output()
        .context("starting node")?;
    if !result.status.success() {
        bail!("{}: building the Node.js component failed:\n{}", ctx.spec.origin.display(), process::tail(&result, 40));
    }
    // crypto's hashes, HMACs, pbkdf2 and scrypt: compiled code composed in.
    let kdf = crate::kdf::component(&crate::cache::cache_dir())?;
    crate::kdf::compose(&build_dir.join("app-only.wasm"), &kdf, &reuse::partial(output))?;
    step.done(&reuse::publish(output)?);
    Ok(())
}

/// What `build.mjs --reload` exits with when only a rebuild serves the edit.
const RELOAD_NEEDS_REBUILD: i32 = 75;

/// Bundle the edited copy `app_copy` of an app built in `work_dir` alone,
/// into `output`, for the built component's instances to load (`up
/// --watch`). False when the edit needs a rebuild instead (it requires a
/// package or a built-in the component does not give by name); an error
/// (the app's syntax error, say) when it does not bundle.
pub fn reload_bundle(work_dir: &Path, app_copy: &Path, output: &Path) -> Result<bool> {
    let work_dir = std::path::absolute(work_dir).context("resolving the build folder")?;
    let result = Command::new("node")
        .arg(work_dir.join("adapter").join("build.mjs"))
        .arg(work_dir.join("build-settings.json"))
        .arg("--reload")
        .arg(app_copy)
        .arg(output)
        .current_dir(&work_dir)
        .output()
        .context("starting node")?;
    match result.status.code() {
        Some(0) => Ok(true),
        Some(RELOAD_NEEDS_REBUILD) => {
            // Why (build.mjs says which names it lacks).
            eprint!(
                "{}",
                String::from_utf8_lossy(&result.stderr)
                    .lines()
                    .filter(|l| l.starts_with("fabricks: "))
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
            );
            Ok(false)
        }
        _ => bail!("bundling the edited app failed:\n{}", process::tail(&result, 40)),
    }
}

/// `npm ci` (with a lock file) or `npm install`, production dependencies
/// only, into `deps_dir`; skipped while package.json and the lock are unchanged.
fn install_dependencies(app_dir: &Path, deps_dir: &Path) -> Result<String> {
    let manifest = app_dir.join("package.json");
    if !manifest.is_file() {
        return Ok("no package.json".into());
    }
    let lock = app_dir.join("package-lock.json");
    let mut hasher = Sha256::new();
    for file in [&manifest, &lock] {
        if let Ok(bytes) = std::fs::read(file) {
            hasher.update(&bytes);
        }
        hasher.update([0]);
    }
    let installed = StampedDir::new(deps_dir, ".fabricks-deps", format!("{:x}", hasher.finalize()));
    if installed.is_current() {
        return Ok("unchanged since the last build".into());
    }
    installed.clear()?;
    std::fs::copy(&manifest, deps_dir.join("package.json")).context("copying package.json")?;
    let command = if lock.is_file() {
        std::fs::copy(&lock, deps_dir.join("package-lock.json")).context("copying package-lock.json")?;
        "ci"
    } else {
        "install"
    };
    process::run(
        Command::new("npm").args([command, "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(deps_dir),
        &format!("installing the app's npm dependencies (npm {command})"),
    )?;
    installed.record()?;
    Ok(format!("installed with npm {command}"))
}
