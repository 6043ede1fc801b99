//! From an app directory to an app the trigger can serve: find its
//! Fabrickfile or spin.toml, build what fabricks builds (skipping what did not
//! change), precompile, and describe it as the trigger's one app model.

use anyhow::{Context, Result, bail};
use fabricks_builders::{BuildOptions, BuildSpec, BuiltComponent, Fabrickfile};
use fabricks_trigger::engine::{EngineSettings, Loaded};
use fabricks_trigger::{App, AppComponent, AppRoute, FileMount, FrameworkSettings, TriggerType};
use std::path::{Path, PathBuf};

/// The compiled-code cache shared by `build`, `up` and the trigger.
pub fn code_cache_dir() -> PathBuf {
    fabricks_builders::cache::cache_dir().join("compiled")
}

/// The file an app directory is described by.
pub enum AppFile {
    Fabrickfile(Fabrickfile),
    /// A spin.toml, loaded into the app model.
    Manifest {
        path: PathBuf,
        app: App,
    },
}

/// A Fabrickfile if the directory has one, else its spin.toml.
pub fn locate(dir: &Path, prefer_manifest: bool) -> Result<AppFile> {
    let fabrickfile = dir.join(fabricks_builders::fabrickfile::FILE_NAME);
    let manifest = dir.join(fabricks_trigger::manifest::FILE_NAME);
    let use_manifest = manifest.is_file() && (prefer_manifest || !fabrickfile.is_file());
    if use_manifest {
        let app = fabricks_trigger::manifest::load(dir)?;
        return Ok(AppFile::Manifest { path: manifest, app });
    }
    if fabrickfile.is_file() {
        return Ok(AppFile::Fabrickfile(fabricks_builders::load_fabrickfile(dir)?));
    }
    bail!(
        "{} holds neither a Fabrickfile nor a spin.toml\n  fix: run fabricks in (or name) your app's directory, or write a Fabrickfile there",
        dir.display()
    )
}

/// What fabricks builds for an app: the Fabrickfile's component, or each
/// spin.toml component with a fabricks framework section.
pub fn build_specs(file: &AppFile) -> Result<Vec<BuildSpec>> {
    match file {
        AppFile::Fabrickfile(fabrickfile) => Ok(vec![BuildSpec::from_fabrickfile(fabrickfile)]),
        AppFile::Manifest { path, app } => app
            .components
            .iter()
            .filter_map(|component| component.framework.as_ref().map(|framework| (component, framework)))
            .map(|(component, framework)| {
                let settings: toml::Table = toml::Table::try_from(&framework.settings)
                    .with_context(|| format!("{}: {} is not a table", path.display(), framework.label))?;
                BuildSpec::from_framework_settings(
                    &component.id,
                    path,
                    component.source.clone(),
                    &framework.language,
                    &settings,
                    &framework.label,
                )
            })
            .collect(),
    }
}

/// Build (unless unchanged) and precompile each spec.
pub fn build_all(specs: &[BuildSpec], options: &BuildOptions, engine: &EngineSettings, precompile: bool) -> Result<Vec<BuiltComponent>> {
    let mut built = Vec::new();
    for spec in specs {
        let component = fabricks_builders::build(spec, options)?;
        if precompile {
            let started = std::time::Instant::now();
            let loaded = fabricks_trigger::precompile(&component.wasm, engine, code_cache_dir())?;
            if !options.quiet && loaded == Loaded::Compiled {
                eprintln!(
                    "fabricks: precompiled {} for this host ({:.1} s, cached in {})",
                    component.wasm.display(),
                    started.elapsed().as_secs_f64(),
                    code_cache_dir().display()
                );
            }
        }
        built.push(component);
    }
    Ok(built)
}

/// The app model of an app file, once its components are built.
pub fn app_model(file: AppFile, built: &[BuiltComponent]) -> Result<App> {
    match file {
        AppFile::Manifest { path, app } => {
            for component in &app.components {
                if !component.source.is_file() {
                    bail!(
                        "{}: [component.{}] source: {} does not exist\n  fix: build it first (`spin build`), or correct the path",
                        path.display(),
                        component.id,
                        component.source.display()
                    );
                }
            }
            Ok(app)
        }
        AppFile::Fabrickfile(fabrickfile) => {
            let built = &built[0];
            let (environment, skipped) = fabrickfile.environment();
            for key in skipped {
                eprintln!("warning: {}: {key} is not a string, number or boolean; it is not set", fabrickfile.path.display());
            }
            let files = fabrickfile
                .file_mounts()?
                .into_iter()
                .map(|(source, guest)| FileMount { host: fabrickfile.dir.join(source), guest })
                .collect();
            Ok(App {
                name: fabrickfile.name.clone(),
                version: fabrickfile.version.clone(),
                components: vec![AppComponent {
                    id: built.id.clone(),
                    source: built.wasm.clone(),
                    environment,
                    allowed_outbound_hosts: fabrickfile.allowed_outbound_hosts(),
                    files,
                    framework: framework_of(&fabrickfile),
                    limits: Default::default(),
                }],
                routes: vec![AppRoute { component: built.id.clone(), route: "/...".into(), trigger: TriggerType::Fabricks }],
            })
        }
    }
}

/// The framework section of a Fabrickfile app, as the app model carries it.
fn framework_of(fabrickfile: &Fabrickfile) -> Option<FrameworkSettings> {
    let language = match &fabrickfile.source {
        fabricks_builders::AppSource::Python(_) => "python",
        fabricks_builders::AppSource::NodeJs(_) => "nodejs",
        _ => return None,
    };
    let section = fabrickfile.table.get(language)?;
    let settings = serde_json::to_value(section).ok()?.as_object()?.clone();
    Some(FrameworkSettings { language: language.to_string(), label: format!("[{language}]"), settings })
}
