//! Components built by the app's own command (`[build] command` in a
//! Fabrickfile, for languages fabricks does not build itself): run it with
//! `sh -c` in the app directory (or its `workdir`), as `spin build` does.

use crate::fabrickfile::{CustomBuild, safe_relative};
use crate::progress::Progress;
use crate::{BuildContext, Builder, process};
use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

impl Builder for CustomBuild {
    fn steps(&self) -> usize {
        1
    }

    fn describe(&self) -> String {
        "the app's own [build] command".to_string()
    }

    fn build(&self, ctx: &BuildContext, output: &Path, progress: &mut Progress) -> Result<()> {
        build(ctx, self, output, progress)
    }
}

fn build(ctx: &BuildContext, custom: &CustomBuild, output: &Path, progress: &mut Progress) -> Result<()> {
    let origin = ctx.spec.origin.display().to_string();
    let workdir = match &custom.workdir {
        Some(relative) => ctx.spec.dir.join(safe_relative(relative, &origin, "[build] workdir")?),
        None => ctx.spec.dir.clone(),
    };
    let step = progress.step(&format!("running `{}` in {}", custom.command, workdir.display()));
    process::run(
        Command::new("sh").arg("-c").arg(&custom.command).current_dir(&workdir),
        &format!("{origin}: [build] command `{}`", custom.command),
    )?;
    if !output.is_file() {
        bail!(
            "{origin}: [build] command `{}` did not write {}\n  fix: make [build] output name the component the command writes",
            custom.command,
            output.display()
        );
    }
    step.done(&format!("wrote {}", output.display()));
    Ok(())
}
