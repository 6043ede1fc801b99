//! The steps `up` and `build` share, from an app directory to what the
//! trigger serves: the manifest model ([`fabricks_builders::project`]) is
//! built (skipping what did not change) and precompiled, then locked
//! ([`fabricks_builders::lock`]) into the app the trigger reads
//! ([`fabricks_trigger::lock`]).

use anyhow::{Result, bail};
use fabricks_builders::project::Project;
use fabricks_builders::{BuildOptions, BuildSpec, BuiltComponent};
use fabricks_trigger::App;
use fabricks_trigger::engine::{EngineSettings, Loaded};
use std::path::PathBuf;

/// The compiled-code cache shared by `build`, `up` and the trigger.
pub fn code_cache_dir() -> PathBuf {
    fabricks_builders::cache::cache_dir().join("compiled")
}

/// The engine settings of `build` and `exec`, which compile as `up` does by
/// default (so `up` finds what they compiled).
pub fn default_engine() -> EngineSettings {
    EngineSettings { function_cache: Some(code_cache_dir().join("functions")), ..EngineSettings::default() }
}

/// The trigger types `up` serves: fabricks' own and Spin's HTTP trigger.
const SERVED_TRIGGERS: &[&str] = &["fabricks", "http"];

/// The locked app of a project: what the trigger will serve. It names each
/// component's file where the build puts it, so it is made (and a bad
/// setting reported) before anything is built.
pub fn lock(project: &Project) -> Result<App> {
    fabricks_trigger::lock::from_json(fabricks_builders::lock::locked_app(project), SERVED_TRIGGERS)
}

/// Build (unless unchanged) and, with `precompile`, precompile each spec.
pub fn build_all<'a>(
    specs: impl IntoIterator<Item = &'a BuildSpec>,
    options: &BuildOptions,
    engine: &EngineSettings,
    precompile: bool,
) -> Result<Vec<BuiltComponent>> {
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

/// After the build: every routed component's file must exist by now.
pub fn check_sources(project: &Project, app: &App) -> Result<()> {
    for component in &app.components {
        if !component.source.is_file() {
            bail!(
                "{}: [component.{}] source: {} does not exist\n  fix: build it first (`spin build`), or correct the path",
                project.origin.display(),
                component.id,
                component.source.display()
            );
        }
    }
    Ok(())
}
