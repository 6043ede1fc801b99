//! `spin-fabricks build [DIR]`: build the app into a component and
//! precompile it for this host.

use anyhow::Result;
use clap::Args;
use fabricks_builders::BuildOptions;
use fabricks_trigger::engine::EngineSettings;
use std::path::PathBuf;

#[derive(Args)]
pub struct BuildArgs {
    /// The app directory: it holds the Fabrickfile.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Rebuild even if no input changed.
    #[arg(long)]
    pub force: bool,
    /// Print only errors.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: BuildArgs) -> Result<()> {
    let options = BuildOptions { force: args.force, quiet: args.quiet };
    super::project::build(&args.dir, &options, &EngineSettings::default(), true)?;
    Ok(())
}
