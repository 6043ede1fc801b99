//! fabricks trigger: everything after a component exists. Loads an [`App`]'s
//! components onto one engine, routes HTTP requests to them with Spin's
//! rules, and serves until SIGINT or SIGTERM.

pub mod app;
pub mod engine;
pub mod exec;
mod file_streams;
pub mod guest_output;
pub mod instances;
pub mod limits;
pub mod lock;
pub mod outbound;
pub mod pool;
pub mod reload;
pub mod router;
pub mod runtime_config;
pub mod server;
pub mod sqlite;
pub mod wagi;
pub mod workers;

pub use app::{App, AppComponent, AppRoute, FileMount};
pub use limits::{ComponentLimits, Limits, ServerLimits};

use anyhow::{Context, Result, bail};
use engine::{CodeCache, EngineSettings, EpochTicker, Loaded};
use guest_output::GuestOutput;
use pool::Instances;
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// How long a stopping server waits for its guests to trap once told to
/// stop (they do at their next epoch tick, or when their host call returns).
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// How to serve.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// If `listen`'s port is taken, try the next ones.
    pub find_free_port: bool,
    pub limits: Limits,
    pub server_limits: ServerLimits,
    pub engine: EngineSettings,
    /// The compiled-code cache; `None` compiles at every start.
    pub code_cache_dir: Option<PathBuf>,
    /// Print Spin's banner and what was loaded (worker processes after the
    /// first stay quiet).
    pub announce: bool,
    /// This process's number when several serve (0: the first); it goes
    /// into the prefix of guests' output lines.
    pub worker: Option<usize>,
    /// Spin's `--log-dir`: guests' stdout and stderr also go to files there.
    #[serde(default)]
    pub log_dir: Option<PathBuf>,
    /// A line per request (component, method, path, status, time).
    #[serde(default)]
    pub request_log: bool,
}

/// Compile (or load from the cache) `wasm` the way `serve` will, so the
/// first start is fast. Returns how it was made ready.
pub fn precompile(wasm: &std::path::Path, engine: &EngineSettings, code_cache_dir: PathBuf) -> Result<Loaded> {
    let engine = engine::new_engine(engine, 1)?;
    let (_component, loaded) = CodeCache::new(Some(code_cache_dir)).load(&engine, wasm)?;
    Ok(loaded)
}

/// Serve `app` on `listener` until `shutdown` resolves. `loaded` runs once
/// every component is loaded (compiled and cached if it was not), before
/// the first request is accepted.
pub async fn serve(
    app: App,
    options: ServeOptions,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()>,
    loaded: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let router = router::Router::new(&app.routes);
    for warning in &router.warnings {
        tracing::error!("error in the app's routes: {warning}");
    }
    // Each routed component once, in route order, with its own limits.
    let mut served: Vec<(&AppComponent, Limits)> = Vec::new();
    for route in &app.routes {
        if served.iter().any(|(component, _)| component.id == route.component) {
            continue;
        }
        let component = app
            .component(&route.component)
            .with_context(|| format!("a route names the component {:?}, which the app does not define", route.component))?;
        served.push((component, options.limits.for_component(&component.limits)));
    }
    // The guests that run at once: a single worker runs them on every core;
    // each of several runs one at a time (its second thread serves its
    // connections meanwhile, see `workers`).
    let threads = if options.worker.is_some() { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
    let total_instances = served.iter().map(|(_, limits)| limits.max_instances_at_most(threads)).sum();
    let engine = engine::new_engine(&options.engine, total_instances)?;
    let linker = instances::new_linker(&engine)?;
    let cache = CodeCache::new(options.code_cache_dir.clone());

    let mut handlers = HashMap::new();
    let mut wagi_modules = HashMap::new();
    // Components that share a source file share its compiled code.
    let mut compiled_by_source: HashMap<PathBuf, wasmtime::component::Component> = HashMap::new();
    for (component, limits) in served {
        let prefix = match options.worker {
            Some(worker) => format!("{}[{worker}]: ", component.id),
            None => format!("{}: ", component.id),
        };
        if let Some(config) = app.routes.iter().filter(|route| route.component == component.id).find_map(|route| route.wagi.clone()) {
            // A WAGI module runs once per request, as a fresh instance does.
            let runs = limits.max_instances(1, threads);
            let module = wagi::WagiModule::new(&engine, component, config, limits, runs, GuestOutput::new(&prefix, true))?;
            if options.announce {
                tracing::info!(event = "component_ready", "{}: a WAGI module, run once per request", component.id);
            }
            wagi_modules.insert(component.id.clone(), module);
            continue;
        }
        if wagi::is_core_module_file(&component.source) {
            bail!(
                "component {:?}: {} is a WebAssembly module, not a component: fabricks serves wasi:http/proxy components, and WASI command modules run as CGI programs by Spin's wagi executor\n  fix: for a WAGI module, add executor = {{ type = \"wagi\" }} to its [[trigger.http]] (or serve it from WAGI's modules.toml); else build it as a wasi:http component",
                component.id,
                component.source.display()
            );
        }
        let compiled = match compiled_by_source.get(&component.source) {
            Some(compiled) => {
                if options.announce {
                    tracing::info!("{}: shares the loaded {}", component.id, component.source.display());
                }
                compiled.clone()
            }
            None => {
                let started = std::time::Instant::now();
                let (compiled, loaded) = cache.load(&engine, &component.source)?;
                if options.announce {
                    report_load(&component.id, &component.source, loaded, started);
                }
                compiled_by_source.insert(component.source.clone(), compiled.clone());
                compiled
            }
        };
        let mut outputs = (GuestOutput::new(&prefix, false), GuestOutput::new(&prefix, true));
        if let Some(dir) = &options.log_dir {
            let log = |output: GuestOutput| {
                output.with_log_dir(dir, &component.id).with_context(|| format!("--log-dir: writing logs into {}", dir.display()))
            };
            outputs = (log(outputs.0)?, log(outputs.1)?);
        }
        let instances = instances::ComponentInstances::new(component, &linker, &compiled, limits, outputs)?;
        let reuse = instances.reuse_count();
        let max_instances = instances.limits().max_instances(reuse, threads);
        if options.announce {
            tracing::info!(
                event = "component_ready",
                reuse_count = %if reuse == usize::MAX { "unlimited".to_string() } else { reuse.to_string() },
                "{}: up to {max_instances} instances at once, {}",
                component.id,
                match reuse {
                    1 => "a fresh one per request".to_string(),
                    usize::MAX => "each kept for the server's life".to_string(),
                    _ => format!("each reused for up to {reuse} requests"),
                }
            );
        }
        let pool = pool::InstancePool::new(instances, max_instances);
        if reuse > 1 {
            // The first request finds an instance ready.
            if let Err(error) = pool.prewarm().await {
                tracing::warn!("{}: could not make an instance ahead of requests: {error:#}", component.id);
            }
        }
        handlers.insert(component.id.clone(), pool);
    }

    loaded()?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;

    if options.announce {
        let mut stdout = std::io::stdout();
        stdout.write_all(server::banner(&router, local_addr).as_bytes())?;
        stdout.flush()?;
    }

    let _ticker = EpochTicker::start(engine.clone());
    let server = Arc::new(server::Server {
        app,
        router,
        handlers,
        wagi: wagi_modules,
        local_addr,
        in_flight: Arc::new(tokio::sync::Semaphore::new(options.server_limits.max_concurrent_requests)),
        limits: options.server_limits.clone(),
        request_log: options.request_log,
    });
    server::run(listener, server.clone(), shutdown).await?;
    // The apps shut down on their idle instances (ASGI lifespan shutdown,
    // atexit handlers); what still runs after the grace period traps at the
    // next epoch tick.
    for pool in server.handlers.values() {
        pool.retire_all().await;
    }
    for module in server.wagi.values() {
        module.stop();
    }
    // Then every guest still running traps at its next epoch tick; wait
    // for them to be gone.
    futures::future::join_all(server.handlers.values().map(|pool| pool.stop_all(STOP_WAIT))).await;
    Ok(())
}

fn report_load(id: &str, source: &std::path::Path, loaded: Loaded, started: std::time::Instant) {
    match loaded {
        Loaded::FromCache => {
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(
                event = "component_loaded",
                from = "cache",
                "{id}: loaded the precompiled component from the cache ({seconds:.2} s)"
            )
        }
        Loaded::Compiled => {
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(
                event = "component_loaded",
                from = "compiler",
                "{id}: compiled {} ({seconds:.1} s; cached for the next start)",
                source.display()
            )
        }
    }
}

/// Listen on `addr`; with `find_free_port`, on the first free port from it
/// up. With `shared`, other processes may listen on the same port too
/// (`SO_REUSEPORT`: the kernel spreads connections over them).
pub fn bind(addr: SocketAddr, find_free_port: bool, shared: bool) -> Result<std::net::TcpListener> {
    let attempts = if find_free_port && addr.port() != 0 { 100 } else { 1 };
    let mut last_error = None;
    for offset in 0..attempts {
        let Some(port) = addr.port().checked_add(offset) else { break };
        match listen_on(SocketAddr::new(addr.ip(), port), shared) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = Some(error),
        }
    }
    let error = last_error.expect("at least one attempt");
    Err(anyhow::Error::new(error).context(format!(
        "listening on {addr}{}\n  fix: stop the other server, pass --listen with another port, or --find-free-port",
        if attempts > 1 { " and the 99 ports after it" } else { "" }
    )))
}

fn listen_on(addr: SocketAddr, shared: bool) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if shared {
        socket.set_reuse_port(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Resolves at the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}
