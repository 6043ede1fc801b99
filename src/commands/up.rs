//! `spin-fabricks up [DIR]`: build if anything changed, then serve.

use anyhow::{Context, Result, bail};
use clap::Args;
use fabricks_builders::BuildOptions;
use fabricks_trigger::engine::EngineSettings;
use fabricks_trigger::{Limits, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct UpArgs {
    /// The app directory: it holds the Fabrickfile.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The address to listen on; port 0 picks a free port (the `Serving` line says which).
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Seconds a request may take before it gets a 504 and its instance is dropped.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub request_timeout: f64,
    /// The most linear memory one instance may use, in bytes (suffixes k, m, g allowed, e.g. 256m).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_instance_memory: Option<usize>,
    /// Requests one instance serves before a fresh one takes over (1: a fresh instance per request).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_instance_reuse_count: u64,
    /// Do not use the pooling instance allocator.
    #[arg(long)]
    pub disable_pooling: bool,
    /// Do not use (or write) the compiled-code cache: compile at every start.
    #[arg(long)]
    pub disable_cache: bool,
    /// Rebuild even if no input changed.
    #[arg(long)]
    pub force: bool,
    /// Print only errors while building.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: UpArgs) -> Result<()> {
    if !(args.request_timeout > 0.0 && args.request_timeout.is_finite()) {
        bail!("--request-timeout {}: must be a positive number of seconds", args.request_timeout);
    }
    let engine = EngineSettings { pooling: !args.disable_pooling };
    let options = BuildOptions { force: args.force, quiet: args.quiet };
    let (fabrickfile, built) = super::project::build(&args.dir, &options, &engine, !args.disable_cache)?;
    let app = super::project::app_model(&fabrickfile, &built);
    let serve = ServeOptions {
        listen: args.listen,
        limits: Limits {
            request_timeout: Duration::from_secs_f64(args.request_timeout),
            max_instance_memory: args.max_instance_memory,
            max_instance_reuse_count: args.max_instance_reuse_count as usize,
            ..Limits::default()
        },
        engine,
        code_cache_dir: (!args.disable_cache).then(super::project::code_cache_dir),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(fabricks_trigger::serve(app, serve))
}

fn parse_bytes(text: &str) -> Result<usize, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (digits, scale) = match lower.trim_end_matches(['b', 'i']).chars().last() {
        Some('k') => (&lower[..lower.find('k').unwrap()], 1usize << 10),
        Some('m') => (&lower[..lower.find('m').unwrap()], 1 << 20),
        Some('g') => (&lower[..lower.find('g').unwrap()], 1 << 30),
        _ => (lower.trim_end_matches('b'), 1),
    };
    digits
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?} is not a size: write bytes, or a number with k, m or g (e.g. 256m)"))
}
