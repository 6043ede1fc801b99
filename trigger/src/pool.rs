//! The instances of one component and the requests they serve.
//!
//! At most `max_instances` instances exist at once (like gunicorn's
//! `--workers`): a request takes a turn, then the most recently used warm
//! instance (its memory is still in the CPU caches), or a new one. An
//! instance serves one request at a time (wasi:http 0.2), up to
//! `reuse_count` in all; it is retired after that, when idle for
//! `idle_instance_timeout`, or when the server stops. Retiring lets the app
//! shut down (the component's `retire` export, see `instances`) while the
//! instance still holds its place, so its replacement waits for it. One that
//! traps or overruns its request timeout is dropped, never reused.
//!
//! Why not `wasmtime_wasi_http::handler::ProxyHandler` (what `wasmtime serve`
//! runs on): it starts a new instance whenever none is free and hands it the
//! request, so it has no cap; 64 connections kept 64 Flask instances (800 MB)
//! and were slower than 4. Capping it from outside races with its workers
//! becoming free, and it cannot make an instance before the first request.
//!
//! Each request's guest call runs on its own task, which holds the turn until
//! the guest returns (its response body written), so the response head can go
//! to the client while the guest still writes the body.

use crate::instances::{ComponentInstances, LiveInstance};
use anyhow::{Context, Result, anyhow};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

/// How much longer than its deadline a guest blocked in a host call (where
/// the epoch deadline cannot stop it) is given before its call is abandoned
/// and its instance dropped.
const EXPIRY_MARGIN: Duration = Duration::from_millis(100);

/// The longest an app's shutdown at retirement may take (less if the
/// request timeout is shorter); at server stop, all of them together.
const RETIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a stopping server waits for guests that are done with their
/// responses to give their instances back, so those retire too.
const GIVE_BACK_WAIT: Duration = Duration::from_millis(200);

/// The longest [`InstancePool::retire_all`] takes.
pub const MAX_RETIRE_ALL: Duration = GIVE_BACK_WAIT.saturating_add(RETIRE_TIMEOUT);

/// The error a request fails with when its guest ran past the request timeout.
#[derive(Debug)]
pub struct Expired;

impl std::fmt::Display for Expired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the guest ran past the request timeout")
    }
}

impl std::error::Error for Expired {}

/// One component's instances.
pub struct InstancePool {
    inner: Arc<Pool>,
}

struct Pool {
    instances: ComponentInstances,
    /// Idle instances; the last one was used most recently.
    warm: Mutex<Vec<WarmInstance>>,
    /// One permit per instance that may exist (retiring ones included).
    turns: Arc<Semaphore>,
    max_instances: usize,
}

struct WarmInstance {
    live: LiveInstance,
    /// Requests it has served.
    served: usize,
    idle_since: Instant,
}

/// The right to run one request on one of the component's instances.
pub struct Turn {
    pool: Arc<Pool>,
    permit: OwnedSemaphorePermit,
}

type ResponseSender = Arc<Mutex<Option<oneshot::Sender<Result<http::Response<WasiBody>>>>>>;

impl InstancePool {
    /// A pool of up to `max_instances` instances; starts retiring idle ones
    /// in the background (on the current tokio runtime).
    pub fn new(instances: ComponentInstances, max_instances: usize) -> Self {
        let idle_timeout = instances.limits().idle_instance_timeout;
        let inner =
            Arc::new(Pool { instances, warm: Mutex::new(Vec::new()), turns: Arc::new(Semaphore::new(max_instances)), max_instances });
        let pool = Arc::downgrade(&inner);
        let period = (idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(pool) = pool.upgrade() else { return };
                pool.retire_idle(idle_timeout).await;
            }
        });
        InstancePool { inner }
    }

    pub fn instances(&self) -> &ComponentInstances {
        &self.inner.instances
    }

    /// Make one instance ahead of the first request, so that it does not pay
    /// for instantiation. Only worth it when instances are reused.
    pub async fn prewarm(&self) -> Result<()> {
        let Ok(_permit) = self.inner.turns.clone().try_acquire_owned() else { return Ok(()) };
        let live = self.inner.instances.instantiate().await?;
        self.inner.give_back(WarmInstance { live, served: 0, idle_since: Instant::now() }).await;
        Ok(())
    }

    /// Wait up to `until` for a turn; `None` if none came free by then.
    pub async fn turn(&self, until: tokio::time::Instant) -> Option<Turn> {
        let permit = tokio::time::timeout_at(until, self.inner.turns.clone().acquire_owned()).await.ok()?.ok()?;
        Some(Turn { pool: self.inner.clone(), permit })
    }

    /// The server stopped taking requests and those in flight are done (or
    /// out of time): retire every idle instance, all within [`RETIRE_TIMEOUT`].
    pub async fn retire_all(&self) {
        let pool = &self.inner;
        // All turns back means no guest runs: every instance is idle. A
        // guest whose response is out gives its instance back at once; one
        // still running now ran past the grace period, and is left to
        // `stop_all`.
        let turns = u32::try_from(pool.max_instances).unwrap_or(u32::MAX);
        let _all_turns = tokio::time::timeout(GIVE_BACK_WAIT, pool.turns.clone().acquire_many_owned(turns)).await;
        let deadline = pool.retire_deadline();
        let idle = std::mem::take(&mut *pool.warm.lock().unwrap());
        for warm in idle {
            pool.retire(warm.live, deadline).await;
        }
    }

    /// The server is stopping: running guests trap at their next epoch tick,
    /// idle instances are dropped.
    pub fn stop_all(&self) {
        self.inner.instances.stop_all();
        self.inner.warm.lock().unwrap().clear();
    }
}

impl Pool {
    fn retire_deadline(&self) -> Instant {
        Instant::now() + self.instances.limits().request_timeout.min(RETIRE_TIMEOUT)
    }

    /// Keep `warm` for the next request, unless it has served its share:
    /// then retire it (the caller holds its turn meanwhile).
    async fn give_back(&self, mut warm: WarmInstance) {
        if self.instances.is_stopping() {
            return;
        }
        if warm.served >= self.instances.reuse_count() {
            self.retire(warm.live, self.retire_deadline()).await;
            return;
        }
        warm.live.store.data_mut().set_deadline(None);
        let mut stack = self.warm.lock().unwrap();
        warm.idle_since = Instant::now();
        stack.push(warm);
    }

    /// Retire the instances idle for `idle_timeout` or longer. Each holds a
    /// turn while it shuts down, so no instance is made in its place before
    /// it is gone.
    async fn retire_idle(&self, idle_timeout: Duration) {
        let mut retiring = Vec::new();
        {
            let mut stack = self.warm.lock().unwrap();
            // The bottom of the stack was idle longest.
            while stack.first().is_some_and(|warm| warm.idle_since.elapsed() >= idle_timeout) {
                // An idle instance has no turn, so one is free for it.
                let Ok(turn) = self.turns.clone().try_acquire_owned() else { break };
                retiring.push((stack.remove(0), turn));
            }
        }
        for (warm, turn) in retiring {
            self.retire(warm.live, self.retire_deadline()).await;
            drop(turn);
        }
    }

    /// Let the guest shut its app down (its `retire` export, if it has one)
    /// by `deadline`, then drop the instance. What goes wrong is logged: the
    /// instance is gone either way.
    async fn retire(&self, mut live: LiveInstance, deadline: Instant) {
        let Some(retire) = live.retire else { return };
        live.store.data_mut().set_deadline(Some(deadline));
        if let Err(error) = by_deadline(retire.call_async(&mut live.store, ()), deadline).await {
            let problem = if error.is::<Expired>() { "ran out of time".to_string() } else { format!("failed: {:#}", error.root_cause()) };
            eprintln!("fabricks: {}: instance {}'s shutdown {problem}", self.instances.component(), live.id);
        }
    }

    /// The most recently used idle instance, or a new one.
    async fn instance(&self) -> Result<WarmInstance> {
        let reused = self.warm.lock().unwrap().pop();
        match reused {
            Some(warm) => Ok(warm),
            None => Ok(WarmInstance { live: self.instances.instantiate().await?, served: 0, idle_since: Instant::now() }),
        }
    }
}

impl Turn {
    /// Run `request` on an instance; resolves with the guest's response head
    /// (its body may still be coming) or why there is none.
    pub async fn handle(self, request: http::Request<WasiBody>) -> Result<http::Response<WasiBody>> {
        let Turn { pool, permit } = self;
        let mut warm = pool.instance().await?;
        let deadline = Instant::now() + pool.instances.limits().request_timeout;
        let (response_tx, response_rx) = oneshot::channel();
        let response_tx: ResponseSender = Arc::new(Mutex::new(Some(response_tx)));
        let store = &mut warm.live.store;
        store.data_mut().set_deadline(Some(deadline));
        let mut http = wasmtime_wasi_http::WasiHttpView::http(store.data_mut());
        let guest_request =
            http.new_incoming_request(Scheme::Http, request).map_err(anyhow::Error::from).context("passing the request to the guest")?;
        let outparam = http
            .new_response_outparam_from_callback({
                let response_tx = response_tx.clone();
                move |response| {
                    let response = response.map_err(|code| anyhow!("the guest answered with the error {code:?}"));
                    send(&response_tx, || response);
                }
            })
            .map_err(anyhow::Error::from)
            .context("passing the request to the guest")?;
        tokio::spawn(async move {
            let outcome = run_guest(&mut warm, guest_request, outparam, deadline).await;
            match outcome {
                Ok(()) => {
                    send(&response_tx, || Err(anyhow!("the guest returned without setting a response")));
                    warm.served += 1;
                    pool.give_back(warm).await;
                }
                Err(error) => {
                    let message = format!("{:#}", error.root_cause());
                    if error.is::<Expired>() {
                        eprintln!("fabricks: {}: instance {} was stopped at its request timeout", pool.instances.component(), warm.live.id);
                        send(&response_tx, || Err(anyhow::Error::new(Expired)));
                    } else {
                        eprintln!(
                            "fabricks: {}: instance {} was dropped after an error: {message}",
                            pool.instances.component(),
                            warm.live.id
                        );
                        send(&response_tx, || Err(anyhow!("the guest failed: {message}")));
                    }
                    drop(warm);
                }
            }
            // Only now may another instance be made in this one's place.
            drop(permit);
        });
        response_rx.await.unwrap_or_else(|_| Err(anyhow!("the guest's task ended without an answer")))
    }
}

/// Call the guest's handler on `warm`; past `deadline` it fails with [`Expired`].
async fn run_guest(
    warm: &mut WarmInstance,
    request: wasmtime::component::Resource<wasmtime_wasi_http::p2::types::HostIncomingRequest>,
    outparam: wasmtime::component::Resource<wasmtime_wasi_http::p2::types::HostResponseOutparam>,
    deadline: Instant,
) -> Result<()> {
    let live = &mut warm.live;
    by_deadline(live.proxy.wasi_http_incoming_handler().call_handle(&mut live.store, request, outparam), deadline).await
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
