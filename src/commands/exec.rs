//! `spin-fabricks exec [DIR] -- COMMAND...`: run the app's own command line
//! inside its component (building it first if anything changed).

use super::project;
use anyhow::{Result, bail};
use clap::Args;
use fabricks_builders::BuildOptions;
use std::path::PathBuf;

/// Run the app's own command line inside the component that serves it, with
/// the same files and environment: `python manage.py check`, `flask --app
/// app routes`, `python -c "..."`, or any command an installed package
/// declares. Prints what the command prints; exits with its exit status.
#[derive(Args)]
pub struct ExecArgs {
    /// The app directory: it holds a Fabrickfile or a spin.toml.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The component to run it in (needed when the app has several).
    #[arg(long, value_name = "ID")]
    pub component: Option<String>,
    /// Print only errors while building.
    #[arg(short, long)]
    pub quiet: bool,
    /// An environment variable for this command only, as KEY=VALUE (like `spin up -e`):
    /// `-e DJANGO_SUPERUSER_PASSWORD=... -- python manage.py createsuperuser --noinput`.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

pub fn run(args: ExecArgs) -> Result<i32> {
    let project = fabricks_builders::project::locate(&args.dir, false)?;
    let app = project::lock(&project)?;
    let options = BuildOptions { force: false, quiet: args.quiet };
    project::build_all(project.build_specs(), &options, &project::default_engine(), false)?;
    project::check_sources(&project, &app)?;
    let component = match &args.component {
        Some(id) => app.component(id).ok_or_else(|| anyhow::anyhow!("{}: the app has no component {id:?}", project.origin.display()))?,
        None if app.components.len() == 1 => &app.components[0],
        None => {
            let ids: Vec<&str> = app.components.iter().map(|c| c.id.as_str()).collect();
            bail!(
                "{}: the app has several components ({})\n  fix: name the one to run the command in with --component ID",
                project.origin.display(),
                ids.join(", ")
            )
        }
    };
    let mut component = component.clone();
    for (key, value) in args.env {
        component.environment.retain(|(existing, _)| *existing != key);
        component.environment.push((key, value));
    }
    fabricks_trigger::exec::run(&component, &project::default_engine(), Some(project::code_cache_dir()), args.command)
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}
