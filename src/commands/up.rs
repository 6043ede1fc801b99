//! `spin-fabricks up [DIR]`: build what changed, then serve.

use super::project;
use super::serve_args::ServeArgs;
use anyhow::{Result, bail};
use clap::Args;
use fabricks_builders::BuildOptions;
use std::path::PathBuf;

/// Build the app if anything changed, then serve it.
///
/// DIR holds a Fabrickfile (its one component is served on `/...`) or a
/// spin.toml (its `[[trigger.fabricks]]` and `[[trigger.http]]` routes are
/// served; components with fabricks settings are built first). Run as a Spin
/// plugin (`spin fabricks up`), it behaves exactly the same: Spin passes the
/// arguments through unchanged.
#[derive(Args)]
pub struct UpArgs {
    /// The app directory: it holds a Fabrickfile or a spin.toml (the Fabrickfile wins if both).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Rebuild even if no input changed.
    #[arg(long)]
    pub force: bool,
    /// Print only errors while building.
    #[arg(short, long)]
    pub quiet: bool,
    /// Rebuild when the app's files change and serve each good build, on the same socket (one
    /// worker process); a failed build leaves the last good one serving.
    #[arg(long)]
    pub watch: bool,
}

pub fn run(args: UpArgs) -> Result<()> {
    let options = BuildOptions { force: args.force, quiet: args.quiet };
    let serve_options = args.serve.serve_options()?;
    let project = fabricks_builders::project::locate(&args.dir, false)?;
    let app = project::lock(&project)?;
    fabricks_trigger::runtime_config::check_databases(&app, &project.origin.display().to_string())?;
    // No separate precompile: serving loads each component from the
    // compiled-code cache, compiling (and caching) it there on a miss.
    project::build_all(project.build_specs(), &options, &args.serve.engine(), false)?;
    project::check_sources(&project, &app)?;
    fabricks_trigger::sqlite::run_startup_statements(&app, &args.serve.sqlite)?;
    if args.watch {
        if args.serve.workers() > 1 {
            bail!("--watch serves from one worker process: leave out --workers {}", args.serve.workers());
        }
        let (apps, newer) = tokio::sync::mpsc::unbounded_channel();
        let (finished, served) = tokio::sync::watch::channel(0);
        let (dir, engine) = (args.dir.clone(), args.serve.engine());
        std::thread::spawn(move || super::watch::watch(dir, options, engine, apps, served));
        return fabricks_trigger::reload::serve(app, serve_options, newer, finished);
    }
    fabricks_trigger::workers::serve(app, serve_options, args.serve.workers())
}
