//! `spin-fabricks`: the command line. It parses arguments and calls the
//! crates: `builders` before a component exists, `trigger` after.
//!
//! The same executable is installed as two Spin plugins: `fabricks` (these
//! subcommands) and `trigger-fabricks` (trigger mode, which `spin up` starts
//! with `SPIN_LOCKED_URL` set).

mod commands;
mod logging;

use clap::{Parser, Subcommand};

/// Run unchanged web-framework apps as wasi:http components: Flask, Django,
/// Bottle, FastAPI, Starlette, Quart, any WSGI or ASGI app; Express, Fastify,
/// Hono.
///
/// fabricks reads a Fabrickfile (or a spin.toml), builds the app into a
/// `wasi:http/proxy` component (`.fabricks/<name>.wasm`), and serves it with
/// its own host. Installed as a Spin plugin it runs as `spin fabricks ...`,
/// unchanged; on its own it needs no Spin.
#[derive(Parser)]
#[command(name = "spin-fabricks", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Up(commands::up::UpArgs),
    Build(commands::build::BuildArgs),
    Convert(commands::convert::ConvertArgs),
    Exec(commands::exec::ExecArgs),
    /// Package fabricks as Spin plugins.
    #[command(subcommand)]
    Plugin(commands::plugin::PluginCommand),
    /// Serve a Spin locked app as the `trigger-fabricks` plugin (what `spin up` runs).
    Trigger(commands::trigger::TriggerArgs),
}

const SUBCOMMANDS: &[&str] = &["up", "build", "convert", "exec", "plugin", "trigger", "help", "--help", "-h", "--version", "-V"];

fn main() -> std::process::ExitCode {
    logging::init();
    if fabricks_trigger::workers::is_worker() {
        return fabricks_trigger::workers::main();
    }
    let result = if started_as_trigger() {
        commands::trigger::run(commands::trigger::TriggerCli::parse())
    } else {
        match Cli::parse().command {
            Command::Up(args) => commands::up::run(args),
            Command::Build(args) => commands::build::run(args),
            Command::Convert(args) => commands::convert::run(args),
            Command::Exec(args) => match commands::exec::run(args) {
                // The command's own exit status, as a shell would give it.
                Ok(status) => return std::process::ExitCode::from(u8::try_from(status.clamp(0, 255)).unwrap_or(1)),
                Err(error) => Err(error),
            },
            Command::Plugin(command) => commands::plugin::run(command),
            Command::Trigger(args) => commands::trigger::run(commands::trigger::TriggerCli { args }),
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// Installed as `trigger-fabricks`, or started by `spin up` (which sets
/// `SPIN_LOCKED_URL`) with trigger flags rather than a subcommand.
fn started_as_trigger() -> bool {
    let program = std::env::args_os().next().unwrap_or_default();
    let name = std::path::Path::new(&program).file_name().unwrap_or_default().to_string_lossy().into_owned();
    if name.starts_with("trigger-") {
        return true;
    }
    let first = std::env::args().nth(1).unwrap_or_default();
    std::env::var_os("SPIN_LOCKED_URL").is_some() && !SUBCOMMANDS.contains(&first.as_str())
}
