//! Making, running and retiring component instances: one store per instance
//! with exactly what the component is granted (its environment, its mounted
//! directories read-only, outbound HTTP to its allowed hosts), a memory
//! limit, and an epoch callback that stops a guest past its request's
//! deadline. [`handle`] runs one request on an instance and owns the
//! request's deadline; retiring calls the component's
//! `fabricks:app/lifecycle.retire` export, if it has one. When instances
//! are made, reused and retired is `pool`'s business.
//!
//! Each request's guest call runs on its own task, which holds the lease on
//! its instance until the guest returns (its response body written), so the
//! response head can go to the client while the guest still writes the body.

use crate::app::{AppComponent, FileMount};
use crate::guest_output::GuestOutput;
use crate::limits::Limits;
use crate::outbound::{self, AllowedHost};
use crate::pool::{Instances, Turn};
use anyhow::{Context, Result, anyhow, bail};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use wasmtime::component::{Component, ComponentExportIndex, Linker, ResourceTable, TypedFunc};
use wasmtime::{Engine, Store, StoreLimits, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyIndices};
use wasmtime_wasi_http::{WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// How much longer than its deadline a guest blocked in a host call (where
/// the epoch deadline cannot stop it) is given before its call is abandoned
/// and its instance dropped.
const EXPIRY_MARGIN: Duration = Duration::from_millis(100);

/// The error a request fails with when it had no response by its deadline.
#[derive(Debug)]
pub struct Expired;

impl std::fmt::Display for Expired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the guest ran past the request timeout")
    }
}

impl std::error::Error for Expired {}

/// The data of one instance's store.
pub struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundPolicy,
    limits: StoreLimits,
    /// When the request being handled must be done; past it, the guest traps.
    deadline: Option<Instant>,
    /// Set when the server stops: every guest traps at its next epoch tick.
    stopping: Arc<AtomicBool>,
    /// Spin's SQLite interface: the databases the component may open.
    sqlite: crate::sqlite::SqliteCtx,
}

impl Host {
    /// From `deadline` on, the guest traps at its next epoch tick (`None`: no deadline).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for Host {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// Outbound HTTP from the guest: sent only to the hosts the component is
/// allowed (its `allowed_outbound_hosts`); anything else is refused, logged,
/// and reported to the guest as `HTTP-request-denied`.
struct OutboundPolicy {
    component: String,
    allowed: Arc<Vec<AllowedHost>>,
}

type OutgoingResult = Result<
    (http::Response<wasmtime_wasi_http::WasiBody>, Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>),
    wasmtime_wasi_http::Error,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<dyn Future<Output = OutgoingResult> + Send> {
        if !outbound::is_allowed(&self.allowed, request.uri()) {
            tracing::warn!(
                event = "outbound_refused",
                "{}: outbound request to {} refused: not in the component's allowed_outbound_hosts",
                self.component,
                request.uri()
            );
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((response.map(BodyExt::boxed_unsync), Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

/// Everything the linker needs: all of WASI p2 (files read on the guest's
/// thread: `file_streams`) and wasi:http.
pub fn new_linker(engine: &Engine) -> Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from).context("linking WASI")?;
    crate::file_streams::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(anyhow::Error::from).context("linking wasi:http")?;
    crate::sqlite::add_to_linker(&mut linker, |host: &mut Host| {
        crate::sqlite::SqliteView::new(&host.sqlite, &mut host.table, host.deadline)
    })?;
    Ok(linker)
}

/// fabricks' own export (adapters/wit/lifecycle.wit): its `retire` runs the
/// app's shutdown before an instance is dropped. Components not built by
/// fabricks' Python builder have none.
const LIFECYCLE_INTERFACE: &str = "fabricks:app/lifecycle@0.1.0";

/// fabricks' own export (adapters/wit/lifecycle.wit) through which `exec`
/// runs the app's command line; Python components fabricks builds have it.
const COMMAND_INTERFACE: &str = "fabricks:app/command@0.1.0";

/// Everything needed to make instances of one component.
pub struct ComponentInstances {
    stopping: Arc<AtomicBool>,
    component: String,
    engine: Engine,
    pre: wasmtime::component::InstancePre<Host>,
    proxy: ProxyIndices,
    /// Where `retire` is among the component's exports, if it has it.
    retire: Option<ComponentExportIndex>,
    environment: Vec<(String, String)>,
    files: Vec<FileMount>,
    sqlite: crate::sqlite::Grants,
    allowed_outbound: Arc<Vec<AllowedHost>>,
    limits: Limits,
    /// Where its guests' stdout and stderr go, each line prefixed.
    stdout: GuestOutput,
    stderr: GuestOutput,
    /// Requests an instance serves before it is retired.
    reuse_count: usize,
    next_instance: AtomicU64,
}

/// One instance of a component, with the store it lives in.
pub struct LiveInstance {
    pub store: Store<Host>,
    pub proxy: Proxy,
    /// Numbered per component from 0, for the log.
    pub id: u64,
    /// The component's `retire` export ([`LIFECYCLE_INTERFACE`]): it runs
    /// the app's shutdown. `None` if the component has none.
    pub retire: Option<TypedFunc<(), ()>>,
}

impl ComponentInstances {
    /// Pre-instantiate `component`: check its imports against the linker once.
    /// `outputs` are its guests' stdout and stderr.
    pub fn new(
        app_component: &AppComponent,
        linker: &Linker<Host>,
        component: &Component,
        limits: Limits,
        outputs: (GuestOutput, GuestOutput),
    ) -> Result<Self> {
        let id = &app_component.id;
        for mount in &app_component.files {
            if mount.writable {
                std::fs::create_dir_all(&mount.host)
                    .with_context(|| format!("making {}, the folder component {id:?} writes at {}", mount.host.display(), mount.guest))?;
            }
            if !mount.host.is_dir() {
                bail!(
                    "component {id:?} mounts {} at {}, which is not a directory\n  fix: mount a directory (fabricks mounts files read-only, directory by directory)",
                    mount.host.display(),
                    mount.guest
                );
            }
        }
        let pre = linker
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {id:?} imports something fabricks does not provide"))?;
        let proxy = ProxyIndices::new(&pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                let command = component.get_export_index(None, "wasi:cli/run@0.2.0").is_some()
                    || component.component_type().exports(component.engine()).any(|(name, _)| name.starts_with("wasi:cli/run"));
                let what = if command { "it is a WASI command (it exports wasi:cli/run)" } else { "it is a component of another world" };
                format!(
                    "component {id:?} does not export wasi:http/incoming-handler: {what}; fabricks serves wasi:http/proxy components, and WASI command modules (core modules) through Spin's wagi executor"
                )
            })?;
        let retire = component
            .get_export_index(None, LIFECYCLE_INTERFACE)
            .and_then(|interface| component.get_export_index(Some(&interface), "retire"));
        Ok(ComponentInstances {
            stopping: Arc::new(AtomicBool::new(false)),
            component: id.to_string(),
            engine: component.engine().clone(),
            pre,
            proxy,
            retire,
            environment: app_component.environment.clone(),
            files: app_component.files.clone(),
            sqlite: crate::sqlite::Grants {
                allowed: Arc::new(app_component.sqlite_databases.iter().cloned().collect()),
                files: Arc::new(
                    app_component
                        .sqlite_databases
                        .iter()
                        .filter_map(|name| Some((name.clone(), app_component.database_file(name)?)))
                        .collect(),
                ),
                idle: Default::default(),
            },
            reuse_count: limits.reuse_count(retire.is_some()),
            allowed_outbound: Arc::new(
                outbound::parse_all(&app_component.allowed_outbound_hosts).with_context(|| format!("component {id:?}"))?,
            ),
            limits,
            stdout: outputs.0,
            stderr: outputs.1,
            next_instance: AtomicU64::new(0),
        })
    }

    /// Run the app's own command line (`args`, the command's name first) on
    /// a new instance, through the component's `fabricks:app/command`
    /// export; its exit status.
    pub async fn run_command(&self, component: &Component, args: Vec<String>) -> Result<i32> {
        let id = &self.component;
        let run = component
            .get_export_index(None, COMMAND_INTERFACE)
            .and_then(|interface| component.get_export_index(Some(&interface), "run"))
            .with_context(|| {
                format!(
                    "component {id:?} cannot run commands: it does not export {COMMAND_INTERFACE} (Python components fabricks builds do)"
                )
            })?;
        let mut store = self.new_store().map_err(anyhow::Error::from).context("setting up a store")?;
        let instance =
            self.pre.instantiate_async(&mut store).await.map_err(anyhow::Error::from).with_context(|| format!("instantiating {id:?}"))?;
        let run = instance
            .get_typed_func::<(Vec<String>,), (i32,)>(&mut store, run)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {id:?}: its {COMMAND_INTERFACE} export"))?;
        let (status,) = run.call_async(&mut store, (args,)).await.map_err(anyhow::Error::from).context("running the command")?;
        Ok(status)
    }

    fn new_store(&self) -> wasmtime::Result<Store<Host>> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.envs(&self.environment).stdout(self.stdout.clone()).stderr(self.stderr.clone());
        // A guest's file calls (open, stat, read, on the app's own files)
        // run on the thread that runs the guest, which waits for them
        // anyway, instead of each being handed to tokio's blocking pool and
        // back (~15% of the CPU of a request for a small static file).
        wasi.allow_blocking_current_thread(true);
        for mount in &self.files {
            let perms = if mount.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            wasi.preopened_dir(&mount.host, &mount.guest, perms)?;
        }
        let mut store = Store::new(
            &self.engine,
            Host {
                table: ResourceTable::new(),
                wasi: wasi.build(),
                http: WasiHttpCtx::new(),
                hooks: OutboundPolicy { component: self.component.clone(), allowed: self.allowed_outbound.clone() },
                limits: self.limits.store_limits(),
                deadline: None,
                stopping: self.stopping.clone(),
                sqlite: crate::sqlite::SqliteCtx { grants: self.sqlite.clone() },
            },
        );
        store.limiter(|host| &mut host.limits);
        // At every epoch tick: trap a guest that is past its request's
        // deadline (or when the server stops), else yield to the executor so
        // a busy guest never holds a server thread.
        store.epoch_deadline_callback(|store| {
            let host = store.data();
            if host.stopping.load(Ordering::Relaxed) {
                return Err(wasmtime::Error::msg("the server is stopping"));
            }
            if host.deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(wasmtime::Error::msg("the request ran past its timeout"));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);
        Ok(store)
    }
}

impl Instances for ComponentInstances {
    type Instance = LiveInstance;

    fn component(&self) -> &str {
        &self.component
    }

    fn limits(&self) -> &Limits {
        &self.limits
    }

    fn reuse_count(&self) -> usize {
        self.reuse_count
    }

    /// Every running guest of this component traps at its next epoch tick.
    fn stop_all(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// A new instance in a new store.
    async fn instantiate(&self) -> Result<LiveInstance> {
        let mut store = self.new_store().map_err(anyhow::Error::from).context("setting up a store")?;
        let context = || format!("instantiating component {:?}", self.component);
        let instance = self.pre.instantiate_async(&mut store).await.map_err(anyhow::Error::from).with_context(context)?;
        let proxy = self.proxy.load(&mut store, &instance).map_err(anyhow::Error::from).with_context(context)?;
        let retire = match &self.retire {
            Some(index) => Some(
                instance
                    .get_typed_func::<(), ()>(&mut store, index)
                    .map_err(anyhow::Error::from)
                    .with_context(|| format!("component {:?}: its {LIFECYCLE_INTERFACE} export", self.component))?,
            ),
            None => None,
        };
        Ok(LiveInstance { store, proxy, id: self.next_instance.fetch_add(1, Ordering::Relaxed), retire })
    }

    /// Let the guest shut its app down (its `retire` export, if it has one)
    /// by `deadline`. What goes wrong is logged: the instance is gone either way.
    async fn retire(&self, mut live: LiveInstance, deadline: Instant) {
        let Some(retire) = live.retire else { return };
        live.store.data_mut().set_deadline(Some(deadline));
        if let Err(error) = by_deadline(retire.call_async(&mut live.store, ()), deadline).await {
            let problem = if error.is::<Expired>() { "ran out of time".to_string() } else { format!("failed: {:#}", error.root_cause()) };
            tracing::warn!(event = "retire_failed", "{}: instance {}'s shutdown {problem}", self.component, live.id);
        }
    }
}

type ResponseSender = Arc<Mutex<Option<oneshot::Sender<Result<http::Response<WasiBody>>>>>>;

/// Which instance answered, kept in the response's extensions for the
/// request log.
#[derive(Clone, Copy, Debug)]
pub struct Answered {
    pub instance: u64,
    /// Made for this request (else reused).
    pub fresh: bool,
}

/// Run `request` on an instance of the turn's component; resolves with the
/// guest's response head (its body may still be coming) or why there is
/// none: [`Expired`] when there was none by the request's deadline. This is
/// the one place that deadline is set: the epoch callback traps a guest
/// running past it, and a guest blocked in a host call is abandoned just
/// after it; either way its instance is dropped.
pub async fn handle(turn: Turn<ComponentInstances>, request: http::Request<WasiBody>) -> Result<http::Response<WasiBody>> {
    let deadline = Instant::now() + turn.instances().limits.request_timeout;
    let mut lease = match tokio::time::timeout_at(deadline.into(), turn.take()).await {
        Ok(lease) => lease?,
        Err(_) => return Err(anyhow::Error::new(Expired)),
    };
    let (response_tx, response_rx) = oneshot::channel();
    let response_tx: ResponseSender = Arc::new(Mutex::new(Some(response_tx)));
    let answered = Answered { instance: lease.instance().id, fresh: lease.served() == 0 };
    let store = &mut lease.instance().store;
    store.data_mut().set_deadline(Some(deadline));
    let mut http = WasiHttpView::http(store.data_mut());
    let guest_request =
        http.new_incoming_request(Scheme::Http, request).map_err(anyhow::Error::from).context("passing the request to the guest")?;
    let outparam = http
        .new_response_outparam_from_callback({
            let response_tx = response_tx.clone();
            move |response| {
                let response = response
                    .map(|mut response| {
                        response.extensions_mut().insert(answered);
                        response
                    })
                    .map_err(|code| anyhow!("the guest answered with the error {code:?}"));
                send(&response_tx, || response);
            }
        })
        .map_err(anyhow::Error::from)
        .context("passing the request to the guest")?;
    tokio::spawn(async move {
        let live = lease.instance();
        let outcome =
            by_deadline(live.proxy.wasi_http_incoming_handler().call_handle(&mut live.store, guest_request, outparam), deadline).await;
        match outcome {
            Ok(()) => {
                send(&response_tx, || Err(anyhow!("the guest returned without setting a response")));
                lease.instance().store.data_mut().set_deadline(None);
                lease.give_back().await;
            }
            Err(error) => {
                let (component, id) = (lease.instances().component.clone(), lease.instance().id);
                if error.is::<Expired>() {
                    tracing::warn!(
                        event = "instance_expired",
                        instance = id,
                        "{component}: instance {id} was stopped at its request timeout"
                    );
                    send(&response_tx, || Err(anyhow::Error::new(Expired)));
                } else {
                    let message = format!("{:#}", error.root_cause());
                    tracing::error!(
                        event = "instance_failed",
                        instance = id,
                        "{component}: instance {id} was dropped after an error: {message}"
                    );
                    send(&response_tx, || Err(anyhow!("the guest failed: {message}")));
                }
                // Dropping the lease drops the instance; only then may
                // another be made in its place.
                drop(lease);
            }
        }
    });
    response_rx.await.unwrap_or_else(|_| Err(anyhow!("the guest's task ended without an answer")))
}

/// Await a guest call that must be done by `deadline` (the store's epoch
/// deadline traps it then); past it, the call fails with [`Expired`].
async fn by_deadline(call: impl Future<Output = wasmtime::Result<()>>, deadline: Instant) -> Result<()> {
    match tokio::time::timeout_at((deadline + EXPIRY_MARGIN).into(), call).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) if Instant::now() >= deadline => Err(anyhow::Error::new(Expired)),
        Ok(Err(trap)) => Err(anyhow::Error::from(trap)),
        Err(_) => Err(anyhow::Error::new(Expired)),
    }
}

/// Answer the waiting request with what `response` makes, unless it was
/// answered already. (Made only when needed: an error made for nothing
/// still costs its allocation, and a backtrace when RUST_BACKTRACE is set.)
fn send(response_tx: &ResponseSender, response: impl FnOnce() -> Result<http::Response<WasiBody>>) {
    if let Some(tx) = response_tx.lock().unwrap().take() {
        let _ = tx.send(response());
    }
}
