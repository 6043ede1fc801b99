//! Trigger mode: what `spin up` starts as the plugin `trigger-fabricks`, with
//! the locked app in `SPIN_LOCKED_URL`. Accepts the flags `spin up` passes to
//! HTTP triggers; answers `--help-args-only` and `--launch-metadata-only`.

use super::serve_args::ServeArgs;
use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory, Parser};
use std::path::PathBuf;

/// The fabricks trigger for `[[trigger.fabricks]]` apps, started by `spin up`.
#[derive(Parser)]
#[command(name = "trigger-fabricks", version)]
pub struct TriggerCli {
    #[command(flatten)]
    pub args: TriggerArgs,
}

#[derive(Args)]
pub struct TriggerArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// TLS certificate file (not supported: terminate TLS in front of fabricks).
    #[arg(long, env = "SPIN_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS key file (not supported: terminate TLS in front of fabricks).
    #[arg(long, env = "SPIN_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// A wasmtime cache config file (accepted and ignored: fabricks keeps its own compiled-code cache).
    #[arg(long, value_name = "FILE")]
    pub cache: Option<PathBuf>,
    /// Show output only from these components (accepted and ignored: all output is shown).
    #[arg(long, value_name = "ID")]
    pub follow: Vec<String>,
    /// Print no output of the host's own, only errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Where the app's state lives (the "default" SQLite database); default: `.spin` beside spin.toml.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Runtime config file: its `[sqlite_database.NAME]` tables say where the app's SQLite databases live (its other tables configure Spin's own interfaces and are ignored).
    #[arg(long, value_name = "FILE")]
    pub runtime_config_file: Option<PathBuf>,
    /// Application variables, as KEY=VALUE (accepted and ignored: wasi:http components read env, not variables).
    #[arg(long, value_name = "KEY=VALUE")]
    pub variable: Vec<String>,
    /// Print this trigger's options and exit (for `spin up --help`).
    #[arg(long, hide = true)]
    pub help_args_only: bool,
    /// Print the flags this trigger takes, as JSON on stderr, and exit (for `spin up`).
    #[arg(long, hide = true)]
    pub launch_metadata_only: bool,
}

pub fn run(cli: TriggerCli) -> Result<()> {
    let args = cli.args;
    if args.help_args_only {
        let mut command = TriggerCli::command();
        println!("{}", command.render_help());
        return Ok(());
    }
    if args.launch_metadata_only {
        eprintln!("{}", launch_metadata());
        return Ok(());
    }
    if args.tls_cert.is_some() || args.tls_key.is_some() {
        bail!(
            "--tls-cert/--tls-key: the fabricks trigger serves plain HTTP only\n  fix: terminate TLS in a proxy in front of it, and drop these flags"
        );
    }
    let notice = |flag: &str, why: &str| {
        if !args.quiet {
            tracing::info!("{flag} is accepted and ignored: {why}");
        }
    };
    if args.cache.is_some() {
        notice("--cache", "fabricks keeps its own compiled-code cache");
    }
    if !args.follow.is_empty() {
        notice("--follow", "output of every component is shown");
    }
    if !args.variable.is_empty() {
        notice("--variable", "wasi:http components read their environment, not Spin variables");
    }

    let locked_url = std::env::var("SPIN_LOCKED_URL")
        .context("SPIN_LOCKED_URL is not set: trigger-fabricks is started by `spin up`, which sets it\n  fix: run `spin up` in the app directory, or `spin fabricks up` to serve without Spin")?;
    let mut app = fabricks_trigger::lock::load(&locked_url, &["fabricks"])?;
    if app.routes.is_empty() {
        bail!("the locked app {locked_url} has no [[trigger.fabricks]] routes");
    }
    if let Some(state_dir) = &args.state_dir {
        let state_dir = std::path::absolute(state_dir).context("resolving --state-dir")?;
        for component in &mut app.components {
            component.state_dir = Some(state_dir.clone());
        }
    }
    if let Some(file) = &args.runtime_config_file {
        fabricks_trigger::runtime_config::apply(&mut app, file)?;
    }
    fabricks_trigger::runtime_config::check_databases(&app, "spin.toml")?;
    fabricks_trigger::sqlite::run_startup_statements(&app, &args.serve.sqlite)?;
    fabricks_trigger::workers::serve(app, args.serve.serve_options()?, args.serve.workers())
}

/// `{"all_flags":[{"short":"-L","long":"--log-dir"},{"long":"--listen"}, ...]}`.
fn launch_metadata() -> String {
    let command = TriggerCli::command();
    let flags: Vec<serde_json::Value> = command
        .get_arguments()
        .filter(|arg| arg.get_long().is_some())
        .filter(|arg| !matches!(arg.get_id().as_str(), "help_args_only" | "launch_metadata_only"))
        .map(|arg| {
            let mut flag = serde_json::Map::new();
            if let Some(short) = arg.get_short() {
                flag.insert("short".into(), format!("-{short}").into());
            }
            flag.insert("long".into(), format!("--{}", arg.get_long().unwrap()).into());
            serde_json::Value::Object(flag)
        })
        .collect();
    serde_json::json!({ "all_flags": flags }).to_string()
}
