//! `exec`: the app's own command line (`flask --app app init-db`, `python
//! manage.py check`), run once inside the component that serves it, on a
//! new instance with the component's files, environment and limits; its
//! output goes to this process's stdout and stderr as it is, and its exit
//! status comes back.

use crate::AppComponent;
use crate::engine::{self, CodeCache, EngineSettings};
use crate::guest_output::GuestOutput;
use crate::instances::{self, ComponentInstances};
use crate::limits::Limits;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Run `args` in a new instance of `component`; its exit status.
pub fn run(component: &AppComponent, engine_settings: &EngineSettings, code_cache_dir: Option<PathBuf>, args: Vec<String>) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(async {
        let engine = engine::new_engine(engine_settings, 1)?;
        let linker = instances::new_linker(&engine)?;
        let (compiled, _) = CodeCache::new(code_cache_dir).load(&engine, &component.source)?;
        let limits = Limits::default().for_component(&component.limits);
        // No prefix: the command's output is the command's, as in a shell.
        let instances =
            ComponentInstances::new(component, &linker, &compiled, limits, (GuestOutput::new("", false), GuestOutput::new("", true)))?;
        instances.run_command(&compiled, args).await
    })
}
