//! Component instances: one store per instance with exactly the WASI the
//! component is granted (its env, no files, no sockets, no outbound HTTP),
//! handed to `wasmtime_wasi_http::handler::ProxyHandler`, which runs each
//! request on a worker instance. An instance serves up to
//! `max_reuse_count` requests in sequence (1 = a fresh instance per
//! request); one that traps or times out is dropped, never reused.

use crate::app::{AppComponent, FileMount};
use crate::limits::Limits;
use crate::outbound::{self, AllowedHost};
use anyhow::{Context, Result, bail};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, GuestTaskId, Linker, ResourceTable};
use wasmtime::{Engine, Store, StoreContextMut, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, ProxyHandler, ProxyPre, ShouldAccept, WorkerExpiration, WorkerState, WorkerStatus,
};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// How much later than the request timeout a worker gives up on its instance.
const EXPIRY_MARGIN: Duration = Duration::from_millis(100);

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
    (
        http::Response<wasmtime_wasi_http::WasiBody>,
        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ),
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
            eprintln!(
                "fabricks: {}: outbound request to {} refused: not in the component's allowed_outbound_hosts",
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

/// Everything the linker needs: all of WASI p2 and wasi:http.
pub fn new_linker(engine: &Engine) -> Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from).context("linking WASI")?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(anyhow::Error::from).context("linking wasi:http")?;
    Ok(linker)
}

/// The per-component state `ProxyHandler` draws instances from.
pub struct ComponentInstances {
    stopping: Arc<AtomicBool>,
    component: String,
    engine: Engine,
    pre: ProxyPre<Host>,
    environment: Vec<(String, String)>,
    files: Vec<FileMount>,
    allowed_outbound: Arc<Vec<AllowedHost>>,
    limits: Limits,
    /// Requests an instance serves before it is retired.
    reuse_count: usize,
    next_instance: AtomicU64,
}

impl ComponentInstances {
    /// Pre-instantiate `component`: check its imports against the linker once.
    pub fn new(app_component: &AppComponent, linker: &Linker<Host>, component: &Component, limits: Limits) -> Result<ProxyHandler<Self>> {
        let id = &app_component.id;
        for mount in &app_component.files {
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
        let pre = wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre).map_err(anyhow::Error::from)
            .with_context(|| format!("component {id:?} does not export wasi:http/incoming-handler"))?;
        Ok(ProxyHandler::new(ComponentInstances {
            stopping: Arc::new(AtomicBool::new(false)),
            component: id.to_string(),
            engine: component.engine().clone(),
            pre: ProxyPre::P2(pre),
            environment: app_component.environment.clone(),
            files: app_component.files.clone(),
            reuse_count: limits.reuse_count_for(app_component),
            allowed_outbound: Arc::new(
                outbound::parse_all(&app_component.allowed_outbound_hosts).with_context(|| format!("component {id:?}"))?,
            ),
            limits,
            next_instance: AtomicU64::new(0),
        }))
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Requests an instance of this component serves before it is retired.
    pub fn reuse_count(&self) -> usize {
        self.reuse_count
    }

    /// Make every running guest of this component trap at its next epoch
    /// tick (the server is stopping and its grace period is over).
    pub fn stop_all(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    fn new_store(&self, engine: &Engine) -> wasmtime::Result<Store<Host>> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.envs(&self.environment).inherit_stdout().inherit_stderr();
        for mount in &self.files {
            wasi.preopened_dir(&mount.host, &mount.guest, FsPerms::ReadOnly)?;
        }
        let mut limits = StoreLimitsBuilder::new().trap_on_grow_failure(false);
        if let Some(bytes) = self.limits.max_instance_memory {
            limits = limits.memory_size(bytes);
        }
        let mut store = Store::new(
            engine,
            Host {
                table: ResourceTable::new(),
                wasi: wasi.build(),
                http: WasiHttpCtx::new(),
                hooks: OutboundPolicy { component: self.component.clone(), allowed: self.allowed_outbound.clone() },
                limits: limits.build(),
                deadline: None,
                stopping: self.stopping.clone(),
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

impl HandlerState for ComponentInstances {
    type StoreData = Host;
    type WorkerExpiration = Expiration;
    type WorkerState = Worker;

    async fn instantiate(&self) -> wasmtime::Result<Instance<Host, Expiration, Worker>> {
        let mut store = self.new_store(&self.engine)?;
        let proxy = self.pre.instantiate_async(&mut store).await?;
        Ok(Instance {
            store,
            proxy,
            view: WasiHttpView::http,
            expiration: Expiration {
                idle_timeout: self.limits.idle_instance_timeout,
                // A little later than the server's own timeout, which answers the client.
                request_timeout: self.limits.request_timeout + EXPIRY_MARGIN,
                sleep: Box::pin(tokio::time::sleep(Duration::from_secs(1 << 30))),
            },
            state: Worker {
                component: self.component.clone(),
                id: self.next_instance.fetch_add(1, Ordering::Relaxed),
                max_reuse_count: self.reuse_count,
                request_timeout: self.limits.request_timeout + EXPIRY_MARGIN,
            },
        })
    }
}

/// When a worker's instance is dropped: idle too long, or a request past its timeout.
pub struct Expiration {
    idle_timeout: Duration,
    request_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for Expiration {
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>, status: WorkerStatus, start: Instant) -> Poll<()> {
        let timeout = match status {
            WorkerStatus::Idle => self.idle_timeout,
            WorkerStatus::Requests | WorkerStatus::PostReturn => self.request_timeout,
        };
        let Some(deadline) = start.checked_add(timeout) else { return Poll::Pending };
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

/// One worker: how many requests its instance takes, and their timeout.
pub struct Worker {
    component: String,
    id: u64,
    max_reuse_count: usize,
    request_timeout: Duration,
}

impl WorkerState for Worker {
    type StoreData = Host;
    type RequestData = ();

    fn should_accept_request(&self, concurrent_count: usize, total_count: usize) -> ShouldAccept {
        if total_count >= self.max_reuse_count {
            ShouldAccept::Never
        } else if concurrent_count >= 1 {
            // A wasi:http@0.2 instance runs one request at a time.
            ShouldAccept::No
        } else {
            ShouldAccept::Yes
        }
    }

    fn on_request_start(
        &self,
        mut store: StoreContextMut<'_, Host>,
        _data: (),
        _task: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + 'static + Send + Sync>> {
        store.data_mut().deadline = Some(Instant::now() + self.request_timeout);
        Box::pin(tokio::time::sleep(self.request_timeout))
    }

    fn drop(&self, store: Store<Host>, result: wasmtime::Result<()>) {
        if let Err(error) = result {
            // The root cause (e.g. "wasm trap: ... unreachable"); the wasm
            // backtrace above it is long and the guest already logged its own.
            eprintln!("fabricks: {}: instance {} was dropped after an error: {}", self.component, self.id, error.root_cause());
        }
        drop(store);
    }
}
