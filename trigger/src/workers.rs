//! Worker processes and their supervision. `up` and the trigger serve from
//! one process per CPU core (like gunicorn's workers), each with its own
//! instances, all listening on one port (`SO_REUSEPORT`: the kernel spreads
//! connections over them). Each of several workers runs its guests one at a
//! time on two threads ([`WORKER_THREADS`]): while one is inside a guest, the
//! other reads and writes the connections, so a response can go out as soon
//! as its body ends, not only once the guest's call has returned. On one
//! thread a worker served warm Flask ~25% slower at one connection, and no
//! faster at 8 or 64 (see BENCHMARKS.md). (One thread was chosen when a
//! fresh instance took ~1,400 copy-on-write faults, each flushing the other
//! threads' TLBs; its memory is reset in place now and takes almost none,
//! and fresh instances serve about as fast on two threads as on one.)
//!
//! The first process serves too, and supervises the others as gunicorn's
//! arbiter does: a worker that dies is reaped, the log says which one and
//! how, and a new one takes its place; a worker that cannot start (exit code
//! [`BOOT_ERROR_EXIT`], or one that keeps dying right after it starts) stops
//! the server with an error rather than being started again forever.
//!
//! A worker is this executable started again with `FABRICKS_WORKER` set. It
//! reads what to serve as one line of JSON on stdin, and stops when stdin
//! closes (its parent stopped, or died) or at SIGINT/SIGTERM.

use crate::{App, ServeOptions};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, Read, Write};
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Set in a worker's environment (to its number, from 1).
pub const WORKER_ENV: &str = "FABRICKS_WORKER";

/// A worker exits with this code when it failed before serving (its job
/// unreadable, its port or a component not loadable): starting it again
/// would fail the same way. (gunicorn's `WORKER_BOOT_ERROR`.)
pub const BOOT_ERROR_EXIT: u8 = 3;

/// How long a stopping worker may take: the server's own grace period for
/// in-flight requests, its apps' shutdown at retirement, and a little more.
const STOP_WAIT: Duration =
    crate::server::SHUTDOWN_GRACE.saturating_add(crate::pool::MAX_RETIRE_ALL).saturating_add(Duration::from_secs(2));

/// A worker that dies this soon after it started died "at start".
const EARLY_DEATH: Duration = Duration::from_secs(5);

/// Deaths at start in a row after which a worker slot is given up (and
/// with it the server).
const MAX_EARLY_DEATHS: u32 = 3;

/// How often the supervisor looks at its workers besides when SIGCHLD says so.
const CHECK_PERIOD: Duration = Duration::from_secs(1);

/// What a worker serves.
#[derive(serde::Serialize, serde::Deserialize)]
struct Job {
    app: App,
    options: ServeOptions,
}

/// One worker process.
struct Worker {
    /// From 1; the first process is worker 0.
    number: usize,
    child: Child,
    /// Closing it tells the worker to stop.
    stdin: Option<ChildStdin>,
    started: Instant,
    /// How many of this slot's workers in a row died at start.
    early_deaths: u32,
}

/// The worker processes this process started, and how to start them again.
struct Workers {
    executable: PathBuf,
    /// What each worker serves (its number goes into its own [`Job`]).
    app: App,
    options: ServeOptions,
    running: Vec<Worker>,
}

/// The threads of each of several workers: one for the guest, one for the
/// connections.
const WORKER_THREADS: usize = 2;

/// The runtime of each of several workers (a single worker runs on all
/// cores).
fn worker_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(WORKER_THREADS).enable_all().build()
}

/// Serve `app` from `workers` processes (this one and `workers - 1` more)
/// until SIGINT/SIGTERM, or until a worker cannot be started. One worker runs
/// on all cores; each of several runs [`WORKER_THREADS`] threads.
pub fn serve(app: App, options: ServeOptions, workers: usize) -> Result<()> {
    let listener = crate::bind(options.listen, options.find_free_port, workers > 1)?;
    let address = listener.local_addr()?;
    let runtime = if workers > 1 { worker_runtime() } else { tokio::runtime::Builder::new_multi_thread().enable_all().build() }
        .context("starting the async runtime")?;
    let mut options = options;
    options.worker = (workers > 1).then_some(0);
    let others: Arc<Mutex<Option<Workers>>> = Arc::default();
    let stopping = Arc::new(AtomicBool::new(false));
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<anyhow::Error>();
    let fatal: Arc<Mutex<Option<anyhow::Error>>> = Arc::default();
    // The others start once this process has loaded (and cached) every
    // component; from then on they are supervised.
    let start_others = || {
        let started = Workers::start(workers - 1, &app, &options, address)?;
        let empty = started.running.is_empty();
        *others.lock().unwrap() = Some(started);
        if !empty {
            tokio::spawn(supervise(others.clone(), stopping.clone(), fatal_tx));
        }
        Ok(())
    };
    let shutdown = {
        let stopping = stopping.clone();
        let fatal = fatal.clone();
        async move {
            tokio::select! {
                _ = crate::shutdown_signal() => {}
                Ok(error) = fatal_rx => *fatal.lock().unwrap() = Some(error),
            }
            stopping.store(true, Ordering::SeqCst);
        }
    };
    let result = runtime.block_on(crate::serve(app.clone(), options.clone(), listener, shutdown, start_others));
    if options.announce && result.is_ok() {
        tracing::info!("stopped");
    }
    // Never wait on a task that is still inside a guest.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if let Some(others) = others.lock().unwrap().take() {
        others.stop();
    }
    result?;
    match fatal.lock().unwrap().take() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Watch the workers until the server stops: start a new one in place of
/// each that dies; report a worker that cannot start on `fatal`.
async fn supervise(workers: Arc<Mutex<Option<Workers>>>, stopping: Arc<AtomicBool>, fatal: tokio::sync::oneshot::Sender<anyhow::Error>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut child_exited = signal(SignalKind::child()).ok();
    loop {
        let sigchld = async {
            match child_exited.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sigchld => {}
            _ = tokio::time::sleep(CHECK_PERIOD) => {}
        }
        // Workers stopping with the server are not replaced.
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let checked = match workers.lock().unwrap().as_mut() {
            Some(workers) => workers.replace_dead(),
            None => return,
        };
        if let Err(error) = checked {
            let _ = fatal.send(error);
            return;
        }
    }
}

impl Workers {
    /// Start `count` workers serving `app` on `address` (already bound by
    /// this process with `SO_REUSEPORT`).
    fn start(count: usize, app: &App, options: &ServeOptions, address: SocketAddr) -> Result<Workers> {
        let executable = std::env::current_exe().context("finding this executable, to start worker processes")?;
        let mut options = options.clone();
        options.listen = address;
        options.find_free_port = false;
        options.announce = false;
        let mut workers = Workers { executable, app: app.clone(), options, running: Vec::new() };
        for number in 1..=count {
            let worker = workers.spawn(number, 0)?;
            workers.running.push(worker);
        }
        Ok(workers)
    }

    fn spawn(&self, number: usize, early_deaths: u32) -> Result<Worker> {
        let mut child = Command::new(&self.executable)
            .env(WORKER_ENV, number.to_string())
            .stdin(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting worker process {number} ({})", self.executable.display()))?;
        let mut options = self.options.clone();
        options.worker = Some(number);
        let job = serde_json::to_string(&Job { app: self.app.clone(), options })?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        // A worker that died at once closed its end: that shows as its exit.
        let _ = stdin.write_all(format!("{job}\n").as_bytes());
        Ok(Worker { number, child, stdin: Some(stdin), started: Instant::now(), early_deaths })
    }

    /// Reap the workers that ended and start new ones in their places. An
    /// error means a worker cannot be started: the server should stop.
    fn replace_dead(&mut self) -> Result<()> {
        for index in 0..self.running.len() {
            let worker = &mut self.running[index];
            let Some(status) = worker.child.try_wait().context("checking on a worker process")? else { continue };
            let (number, pid) = (worker.number, worker.child.id());
            let how = describe(status);
            if status.code() == Some(i32::from(BOOT_ERROR_EXIT)) {
                self.running.remove(index);
                bail!("worker process {number} (pid {pid}) could not start ({how}; its error is above); stopping the server");
            }
            let early_deaths = if worker.started.elapsed() < EARLY_DEATH { worker.early_deaths + 1 } else { 0 };
            if early_deaths >= MAX_EARLY_DEATHS {
                self.running.remove(index);
                bail!(
                    "worker process {number} (pid {pid}) {how}, the {MAX_EARLY_DEATHS}th time in a row right after it started; stopping the server"
                );
            }
            tracing::error!(
                event = "worker_replaced",
                worker = number,
                pid,
                "worker process {number} (pid {pid}) {how}; starting a new one"
            );
            self.running[index] = self.spawn(number, early_deaths)?;
        }
        Ok(())
    }

    /// Ask every worker to stop (by closing its stdin), wait for them to let
    /// their in-flight requests finish, and kill what is still running then.
    fn stop(mut self) {
        for worker in &mut self.running {
            worker.stdin.take();
        }
        let deadline = Instant::now() + STOP_WAIT;
        for worker in &mut self.running {
            let child = &mut worker.child;
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        if !status.success() {
                            tracing::warn!("worker process {} (pid {}) {}", worker.number, child.id(), describe(status));
                        }
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                    _ => {
                        tracing::warn!("worker process {} (pid {}) did not stop in time; killed", worker.number, child.id());
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
    }
}

/// How a process ended, for the log: "exited with code 1", "was killed by
/// signal 9 (SIGKILL)".
fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(signal) => {
            let name = match signal {
                1 => " (SIGHUP)",
                2 => " (SIGINT)",
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            format!("was killed by signal {signal}{name}")
        }
        None => format!("ended ({status})"),
    }
}

/// Whether this process was started as a worker.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some()
}

/// The worker's whole life: read the job, listen, serve until told to stop.
/// Exits with [`BOOT_ERROR_EXIT`] if it could not start serving.
pub fn main() -> std::process::ExitCode {
    let booted = AtomicBool::new(false);
    match run(&booted) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let number = std::env::var(WORKER_ENV).unwrap_or_default();
            tracing::error!(event = "worker_boot_failed", "worker process {number}: {error:#}");
            if booted.load(Ordering::SeqCst) { std::process::ExitCode::FAILURE } else { std::process::ExitCode::from(BOOT_ERROR_EXIT) }
        }
    }
}

fn run(booted: &AtomicBool) -> Result<()> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the worker's job from stdin")?;
    let Job { app, options } = serde_json::from_str(&line).context("reading the worker's job from stdin")?;
    let listener = crate::bind(options.listen, false, true)?;
    let runtime = worker_runtime().context("starting the async runtime")?;
    let serving = || {
        booted.store(true, Ordering::SeqCst);
        Ok(())
    };
    let announce = options.announce;
    let result = runtime.block_on(crate::serve(app, options, listener, told_to_stop(), serving));
    if announce && result.is_ok() {
        tracing::info!("stopped");
    }
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

#[cfg(test)]
mod tests {
    use super::describe;
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    #[test]
    fn exits_are_described_by_code_or_signal() {
        assert_eq!(describe(ExitStatus::from_raw(1 << 8)), "exited with code 1");
        assert_eq!(describe(ExitStatus::from_raw(9)), "was killed by signal 9 (SIGKILL)");
        assert_eq!(describe(ExitStatus::from_raw(10)), "was killed by signal 10");
    }
}
