//! The serving flags `up` and the trigger share (Spin's names where Spin has
//! one), and what they turn into.

use anyhow::{Context, Result, bail};
use clap::Args;
use fabricks_trigger::engine::EngineSettings;
use fabricks_trigger::{Limits, ServeOptions, ServerLimits};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (the `Serving` line says which).
    #[arg(long, env = "SPIN_HTTP_LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// If the --listen port is taken, use the next free one.
    #[arg(long)]
    pub find_free_port: bool,
    /// Seconds a request may take to produce its response; then it gets a 504 and its instance is dropped.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub request_timeout: f64,
    /// The most linear memory one instance may use, in bytes (suffixes k, m, g: e.g. 256m).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_instance_memory: Option<usize>,
    /// Requests one instance serves before a fresh one takes over (1: a fresh instance per
    /// request). Default: no limit for framework apps (WSGI, ASGI, Express...: their module
    /// state lasts, as in a gunicorn worker), 1 for plain components.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_instance_reuse_count: Option<u64>,
    /// Server processes, each with its own instances and so its own module
    /// state (like gunicorn's --workers, default 1); the kernel spreads connections over them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub workers: Option<u64>,
    /// Instances of one component at once in each worker process (one request each, each with
    /// its own module state); more requests wait in line (see --max-queue-wait). Default: 1 for
    /// instances that are kept (one module state), one per core for a fresh instance per request
    /// (with one worker; 1 in each of several).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=fabricks_trigger::limits::MAX_INSTANCES as u64))]
    pub max_instances: Option<u64>,
    /// Seconds a warm instance may stay idle before it is retired (a Python app's shutdown,
    /// ASGI lifespan and atexit handlers, runs then, as after its last request and at a stop).
    /// Default: never.
    #[arg(long, value_name = "SECONDS")]
    pub idle_instance_timeout: Option<f64>,
    /// Request bodies larger than this get a 413 (suffixes k, m, g).
    #[arg(long, value_name = "BYTES", default_value = "64m", value_parser = parse_bytes)]
    pub max_request_body_size: usize,
    /// The most bytes of request line and headers; beyond, a 431.
    #[arg(long, value_name = "BYTES", default_value = "64k", value_parser = parse_bytes)]
    pub max_header_size: usize,
    /// Requests handled at once; more wait in line (see --max-queue-wait), then get a 503.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_concurrent_requests: u64,
    /// Seconds a request may wait in line for a free slot before it gets a 503.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub max_queue_wait: f64,
    /// A SQL statement to run on the "default" SQLite database before serving (as Spin's
    /// `--sqlite`); `@FILE` runs the statements in FILE. Repeatable, run in order.
    #[arg(long, value_name = "STATEMENT")]
    pub sqlite: Vec<String>,
    /// Also write each component's stdout and stderr, as its guests write them, to
    /// DIR/<component>_stdout.txt and _stderr.txt (appended), as Spin's --log-dir.
    #[arg(short = 'L', long, value_name = "DIR")]
    pub log_dir: Option<std::path::PathBuf>,
    /// Do not log a line per request (component, method, path, status, time to the response head).
    #[arg(long)]
    pub no_request_log: bool,
    /// Do not use the pooling instance allocator.
    #[arg(long)]
    pub disable_pooling: bool,
    /// Do not use (or write) the compiled-code cache: compile at every start.
    #[arg(long)]
    pub disable_cache: bool,
}

impl ServeArgs {
    pub fn engine(&self) -> EngineSettings {
        EngineSettings {
            pooling: !self.disable_pooling,
            function_cache: if self.disable_cache { None } else { super::project::default_engine().function_cache },
        }
    }

    pub fn serve_options(&self) -> Result<ServeOptions> {
        if !(self.request_timeout > 0.0 && self.request_timeout.is_finite()) {
            bail!("--request-timeout {}: must be a positive number of seconds", self.request_timeout);
        }
        if let Some(seconds) = self.idle_instance_timeout.filter(|s| !(*s > 0.0 && s.is_finite())) {
            bail!("--idle-instance-timeout {seconds}: must be a positive number of seconds");
        }
        if !(self.max_queue_wait >= 0.0 && self.max_queue_wait.is_finite()) {
            bail!("--max-queue-wait {}: must be zero or a positive number of seconds", self.max_queue_wait);
        }
        Ok(ServeOptions {
            listen: self.listen,
            find_free_port: self.find_free_port,
            limits: Limits {
                request_timeout: Duration::from_secs_f64(self.request_timeout),
                max_instance_memory: self.max_instance_memory,
                max_instance_reuse_count: self.max_instance_reuse_count.map(|n| n as usize),
                idle_instance_timeout: self.idle_instance_timeout.map(Duration::from_secs_f64),
                max_instances: self.max_instances.map(|n| n as usize),
                max_request_body: self.max_request_body_size as u64,
            },
            server_limits: ServerLimits {
                max_header_size: self.max_header_size,
                max_concurrent_requests: self.max_concurrent_requests as usize,
                queue_timeout: Duration::from_secs_f64(self.max_queue_wait),
            },
            engine: self.engine(),
            code_cache_dir: (!self.disable_cache).then(super::project::code_cache_dir),
            announce: true,
            worker: None,
            log_dir: self.log_dir.as_deref().map(std::path::absolute).transpose().context("resolving --log-dir")?,
            request_log: !self.no_request_log,
        })
    }

    /// Worker processes to serve from.
    pub fn workers(&self) -> usize {
        self.workers.map(|n| n as usize).unwrap_or(1)
    }
}

fn parse_bytes(text: &str) -> Result<usize, String> {
    fabricks_trigger::limits::parse_size(text)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("{text:?} is not a size: write bytes, or a number with k, m or g (e.g. 256m)"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(super::parse_bytes("256m"), Ok(256 << 20));
        assert_eq!(super::parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(super::parse_bytes("4096"), Ok(4096));
        assert!(super::parse_bytes("lots").is_err());
    }
}
