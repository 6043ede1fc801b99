//! Worker processes. `up` and the trigger serve from one process per CPU core
//! (like gunicorn's workers), each single-threaded with its own instances,
//! all listening on one port (`SO_REUSEPORT`: the kernel spreads connections
//! over them). One thread per process keeps a guest's page faults cheap: in
//! a multi-threaded process every copy-on-write fault on a component's
//! memory image makes the kernel flush the other threads' TLBs, which made
//! fresh instances three times slower (see BENCHMARKS.md).
//!
//! A worker is this executable started again with `FABRICKS_WORKER` set. It
//! reads what to serve as one line of JSON on stdin, and stops when stdin
//! closes (its parent stopped, or died) or at SIGINT/SIGTERM.

use crate::{App, ServeOptions};
use anyhow::{Context, Result};
use std::io::{BufRead, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Set in a worker's environment (to its number, from 1).
pub const WORKER_ENV: &str = "FABRICKS_WORKER";

/// How long a stopping worker may take: the server's own grace period for
/// in-flight requests, its apps' shutdown at retirement, and a little more.
const STOP_WAIT: Duration = crate::server::SHUTDOWN_GRACE.saturating_add(crate::pool::MAX_RETIRE_ALL).saturating_add(Duration::from_secs(2));

/// What a worker serves.
#[derive(serde::Serialize, serde::Deserialize)]
struct Job {
    app: App,
    options: ServeOptions,
}

/// The worker processes this process started.
#[derive(Default)]
struct Workers {
    running: Vec<(Child, Option<ChildStdin>)>,
}

/// Serve `app` from `workers` processes (this one and `workers - 1` more)
/// until SIGINT/SIGTERM. One worker runs on all cores; each of several runs
/// on one thread.
pub fn serve(app: App, options: ServeOptions, workers: usize) -> Result<()> {
    let listener = crate::bind(options.listen, options.find_free_port, workers > 1)?;
    let address = listener.local_addr()?;
    let runtime = if workers > 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    }
    .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    let mut others = Workers::default();
    // The others start once this process has loaded (and cached) every component.
    let start_others = || {
        others = start(workers - 1, &app, &options, address)?;
        Ok(())
    };
    let result = runtime.block_on(crate::serve(
        app.clone(),
        options.clone(),
        listener,
        crate::shutdown_signal(),
        start_others,
    ));
    // Never wait on a task that is still inside a guest.
    runtime.shutdown_timeout(Duration::from_secs(1));
    others.stop();
    result
}

/// Start `count` workers serving `app` on `address` (already bound by this
/// process with `SO_REUSEPORT`).
fn start(count: usize, app: &App, options: &ServeOptions, address: SocketAddr) -> Result<Workers> {
    let mut workers = Workers::default();
    if count == 0 {
        return Ok(workers);
    }
    let executable = std::env::current_exe().context("finding this executable, to start worker processes")?;
    let mut options = options.clone();
    options.listen = address;
    options.find_free_port = false;
    options.announce = false;
    let job = serde_json::to_string(&Job { app: app.clone(), options })?;
    for number in 1..=count {
        let mut child = Command::new(&executable)
            .env(WORKER_ENV, number.to_string())
            .stdin(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting worker process {number} ({})", executable.display()))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(format!("{job}\n").as_bytes())
            .with_context(|| format!("handing worker process {number} its app"))?;
        workers.running.push((child, Some(stdin)));
    }
    Ok(workers)
}

impl Workers {
    /// Ask every worker to stop (by closing its stdin), wait for them to let
    /// their in-flight requests finish, and kill what is still running then.
    pub fn stop(mut self) {
        for (_, stdin) in &mut self.running {
            stdin.take();
        }
        let deadline = Instant::now() + STOP_WAIT;
        for (child, _) in &mut self.running {
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        if !status.success() {
                            eprintln!("fabricks: worker process {} ended with {status}", child.id());
                        }
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                    _ => {
                        eprintln!("fabricks: worker process {} did not stop in time; killed", child.id());
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
    }
}

/// Whether this process was started as a worker.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some()
}

/// The worker's whole life: read the job, listen, serve until told to stop.
pub fn run() -> Result<()> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the worker's job from stdin")?;
    let Job { app, options } = serde_json::from_str(&line).context("reading the worker's job from stdin")?;
    let listener = crate::bind(options.listen, false, true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(crate::serve(app, options, listener, told_to_stop(), || Ok(())));
    // Never wait on a task that is still inside a guest.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Resolves when stdin closes or at SIGINT/SIGTERM.
async fn told_to_stop() {
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut stdin = std::io::stdin();
        let mut sink = [0u8; 64];
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    });
    tokio::select! {
        _ = crate::shutdown_signal() => {}
        _ = stdin_closed => {}
    }
}
