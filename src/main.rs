//! `spin-fabricks`: the command line. It parses arguments and calls the
//! crates: `builders` before a component exists, `trigger` after.

mod commands;

use clap::{Parser, Subcommand};

/// Run unchanged Flask (and other web-framework) apps as wasi:http components.
///
/// fabricks reads a Fabrickfile, builds the app into a `wasi:http/proxy`
/// component (`.fabricks/<name>.wasm`), and serves it with its own host.
/// Installed as a Spin plugin it runs as `spin fabricks ...`; on its own it
/// needs no Spin.
#[derive(Parser)]
#[command(name = "spin-fabricks", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the app if anything changed, then serve it.
    Up(commands::up::UpArgs),
    /// Build the app into a component (skipped when no input changed).
    Build(commands::build::BuildArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => commands::up::run(args),
        Command::Build(args) => commands::build::run(args),
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
