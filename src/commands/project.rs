//! From an app directory to an app the trigger can serve: load the
//! Fabrickfile, build (or skip), precompile, and describe the result as a
//! `trigger::App` with one wildcard route.

use anyhow::Result;
use fabricks_builders::{BuildOptions, BuiltComponent, Fabrickfile};
use fabricks_trigger::engine::{EngineSettings, Loaded};
use fabricks_trigger::{App, AppComponent, AppRoute};
use std::path::{Path, PathBuf};

/// The compiled-code cache shared by `build` and `up`.
pub fn code_cache_dir() -> PathBuf {
    fabricks_builders::cache::cache_dir().join("compiled")
}

/// Build the app in `dir` (unless nothing changed) and precompile it.
pub fn build(dir: &Path, options: &BuildOptions, engine: &EngineSettings, precompile: bool) -> Result<(Fabrickfile, BuiltComponent)> {
    let fabrickfile = fabricks_builders::load_fabrickfile(dir)?;
    let built = fabricks_builders::build(&fabrickfile, options)?;
    if precompile {
        let started = std::time::Instant::now();
        let loaded = fabricks_trigger::precompile(&built.wasm, engine, code_cache_dir())?;
        if !options.quiet && loaded == Loaded::Compiled {
            eprintln!(
                "fabricks: precompiled {} for this host ({:.1} s, cached in {})",
                built.wasm.display(),
                started.elapsed().as_secs_f64(),
                code_cache_dir().display()
            );
        }
    }
    Ok((fabrickfile, built))
}

/// The app model of a built Fabrickfile app: one component on `/...`.
pub fn app_model(fabrickfile: &Fabrickfile, built: &BuiltComponent) -> App {
    App {
        name: fabrickfile.name.clone(),
        version: fabrickfile.version.clone(),
        components: vec![AppComponent {
            id: built.id.clone(),
            source: built.wasm.clone(),
            environment: Vec::new(),
            allowed_outbound_hosts: Vec::new(),
        }],
        routes: vec![AppRoute { component: built.id.clone(), route: "/...".into() }],
    }
}
