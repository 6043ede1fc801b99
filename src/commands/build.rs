//! `spin-fabricks build [DIR] [--component ID]`: build components and
//! precompile them for this host.

use super::project;
use anyhow::{Result, bail};
use clap::Args;
use fabricks_builders::BuildOptions;
use std::path::PathBuf;

/// Build the app into a component (skipped when no input changed), and
/// precompile it for this host.
///
/// With --component (as the `build` command `convert` writes into spin.toml,
/// which `spin build` runs in the app directory), the settings come from the
/// directory's spin.toml; otherwise from its Fabrickfile, or its spin.toml if
/// it has no Fabrickfile.
#[derive(Args)]
pub struct BuildArgs {
    /// The app directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Build only this component of the spin.toml.
    #[arg(long, value_name = "ID")]
    pub component: Option<String>,
    /// Rebuild even if no input changed.
    #[arg(long)]
    pub force: bool,
    /// Print only errors.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: BuildArgs) -> Result<()> {
    let options = BuildOptions { force: args.force, quiet: args.quiet };
    let project = fabricks_builders::project::locate(&args.dir, args.component.is_some())?;
    project::lock(&project)?;
    let specs: Vec<_> = project.build_specs().filter(|spec| args.component.as_ref().is_none_or(|id| &spec.id == id)).collect();
    if let (Some(id), true) = (&args.component, specs.is_empty()) {
        bail!(
            "{}: no component {id:?} with fabricks settings\n  fix: name a component whose trigger has a python or nodejs section (see `spin fabricks convert`)",
            args.dir.display()
        );
    }
    project::build_all(specs, &options, &project::default_engine(), true)?;
    Ok(())
}
