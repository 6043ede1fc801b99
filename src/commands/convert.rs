//! `spin-fabricks convert [DIR]`: write the spin.toml for a Fabrickfile
//! (or for WAGI's modules.toml).

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use fabricks_builders::convert::{self, TriggerKind};
use std::path::PathBuf;

/// Write a Spin manifest (spin.toml, manifest version 2) for the app's
/// Fabrickfile, so `spin build` and `spin up` run it.
///
/// With --trigger fabricks (the default) the app runs under `spin up` through
/// the fabricks trigger plugin; with --trigger http it runs under stock
/// `spin up`, with no plugin at run time. An existing file is kept unless
/// --force is given.
#[derive(Args)]
pub struct ConvertArgs {
    /// The app directory: it holds the Fabrickfile.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Where to write the manifest [default: DIR/spin.toml].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Which trigger the manifest uses.
    #[arg(long, value_enum, default_value_t = Trigger::Fabricks)]
    pub trigger: Trigger,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Trigger {
    /// `[[trigger.fabricks]]`, served by the fabricks trigger plugin.
    Fabricks,
    /// `[[trigger.http]]`, served by Spin's own HTTP trigger.
    Http,
}

pub fn run(args: ConvertArgs) -> Result<()> {
    let wagi = args.dir.join(fabricks_builders::wagi_modules::FILE_NAME);
    let text = if wagi.is_file() && !args.dir.join(fabricks_builders::fabrickfile::FILE_NAME).is_file() {
        // WAGI's modules.toml: Spin's HTTP trigger with its wagi executor.
        let project = fabricks_builders::wagi_modules::load(&args.dir)?;
        fabricks_builders::wagi_modules::to_spin_toml(&project, &args.dir)?
    } else {
        let fabrickfile = fabricks_builders::fabrickfile::Fabrickfile::load(&args.dir)?;
        let kind = match args.trigger {
            Trigger::Fabricks => TriggerKind::Fabricks,
            Trigger::Http => TriggerKind::Http,
        };
        let converted = convert::convert(&fabrickfile, kind)?;
        for warning in &converted.warnings {
            eprintln!("warning: {warning}");
        }
        converted.text
    };
    let output = args.output.unwrap_or_else(|| args.dir.join("spin.toml"));
    if output.exists() && !args.force {
        bail!("{} exists already; it was left as it is\n  fix: pass --force to overwrite it, or -o to write elsewhere", output.display());
    }
    std::fs::write(&output, &text).with_context(|| format!("writing {}", output.display()))?;
    eprintln!("fabricks: wrote {}", output.display());
    Ok(())
}
