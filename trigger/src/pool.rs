//! When instances of one component are made, reused and retired: the
//! scheduling, and nothing of WebAssembly (`instances` makes, runs and
//! retires the instances themselves, behind the [`Instances`] trait).
//!
//! At most `max_instances` instances exist at once (like gunicorn's
//! `--workers`): a request takes a [`Turn`], then the most recently used warm
//! instance (its memory is still in the CPU caches), or a new one, as a
//! [`Lease`]. An instance serves one request at a time (wasi:http 0.2), up to
//! its share of the reuse count (by default unlimited for apps written for a
//! long-lived process): each instance draws its own share from the top tenth
//! of the count (gunicorn's `max_requests_jitter`), so instances
//! made together do not all retire together. It is retired after that, when
//! idle for `idle_instance_timeout` (if one is set), or when the server stops. Retiring lets
//! the app shut down while the instance still holds its turn, so its
//! replacement waits for it. A lease dropped without being given back (the
//! guest trapped or overran its timeout) drops its instance: it is never
//! reused.
//!
//! Why not `wasmtime_wasi_http::handler::ProxyHandler` (what `wasmtime serve`
//! runs on): it starts a new instance whenever none is free and hands it the
//! request, so it has no cap; 64 connections kept 64 Flask instances (800 MB)
//! and were slower than 4. Capping it from outside races with its workers
//! becoming free, and it cannot make an instance before the first request.

use crate::limits::Limits;
use anyhow::Result;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The longest an app's shutdown at retirement may take (less if the
/// request timeout is shorter); at server stop, all of them together.
pub const RETIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a stopping server waits for guests that are done with their
/// responses to give their instances back, so those retire too.
const GIVE_BACK_WAIT: Duration = Duration::from_millis(200);

/// The longest [`InstancePool::retire_all`] takes.
pub const MAX_RETIRE_ALL: Duration = GIVE_BACK_WAIT.saturating_add(RETIRE_TIMEOUT);

/// What the pool needs of a component's instances.
pub trait Instances: Send + Sync + 'static {
    type Instance: Send + 'static;
    /// The component's id, for the log.
    fn component(&self) -> &str;
    fn limits(&self) -> &Limits;
    /// Requests an instance serves at most before it is retired.
    fn reuse_count(&self) -> usize;
    /// Whether the server is stopping (then nothing is kept or retired).
    fn is_stopping(&self) -> bool;
    /// Make running guests stop at once: the server is stopping.
    fn stop_all(&self);
    fn instantiate(&self) -> impl Future<Output = Result<Self::Instance>> + Send;
    /// Let the instance's app shut down, by `deadline`; the instance is gone after.
    fn retire(&self, instance: Self::Instance, deadline: Instant) -> impl Future<Output = ()> + Send;
}

/// One component's instances.
pub struct InstancePool<I: Instances> {
    inner: Arc<Pool<I>>,
}

struct Pool<I: Instances> {
    instances: I,
    /// Idle instances; the last one was used most recently.
    warm: Mutex<Vec<Warm<I::Instance>>>,
    /// One permit per instance that may exist (retiring ones included).
    turns: Arc<Semaphore>,
    max_instances: usize,
    /// Draws each instance's share of the reuse count.
    jitter: RandomState,
    made: AtomicU64,
}

struct Warm<T> {
    instance: T,
    /// Requests it has served.
    served: usize,
    /// Requests it may serve in all.
    share: usize,
    /// (tokio's clock, which tests can pause and move on)
    idle_since: tokio::time::Instant,
}

/// The right to run one request on one of the component's instances.
pub struct Turn<I: Instances> {
    pool: Arc<Pool<I>>,
    permit: OwnedSemaphorePermit,
}

/// An instance taken for one request. [`Lease::give_back`] keeps it for the
/// next one; dropping the lease drops the instance. Either frees the turn.
pub struct Lease<I: Instances> {
    pool: Arc<Pool<I>>,
    warm: Warm<I::Instance>,
    _permit: OwnedSemaphorePermit,
}

impl<I: Instances> InstancePool<I> {
    /// A pool of up to `max_instances` instances; with an idle timeout, it
    /// retires idle ones in the background (on the current tokio runtime).
    pub fn new(instances: I, max_instances: usize) -> Self {
        let idle_timeout = instances.limits().idle_instance_timeout;
        let inner = Arc::new(Pool {
            instances,
            warm: Mutex::new(Vec::new()),
            turns: Arc::new(Semaphore::new(max_instances)),
            max_instances,
            jitter: RandomState::new(),
            made: AtomicU64::new(0),
        });
        if let Some(idle_timeout) = idle_timeout {
            let pool = Arc::downgrade(&inner);
            let period = (idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(period).await;
                    let Some(pool) = pool.upgrade() else { return };
                    pool.retire_idle(idle_timeout).await;
                }
            });
        }
        InstancePool { inner }
    }

    pub fn instances(&self) -> &I {
        &self.inner.instances
    }

    /// Make one instance ahead of the first request, so that it does not pay
    /// for instantiation. Only worth it when instances are reused.
    pub async fn prewarm(&self) -> Result<()> {
        let Ok(_permit) = self.inner.turns.clone().try_acquire_owned() else { return Ok(()) };
        let warm = self.inner.new_instance().await?;
        self.inner.keep_or_retire(warm).await;
        Ok(())
    }

    /// Wait up to `until` for a turn; `None` if none came free by then.
    pub async fn turn(&self, until: tokio::time::Instant) -> Option<Turn<I>> {
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
        let _all_turns = pool.all_turns(GIVE_BACK_WAIT).await;
        let deadline = pool.retire_deadline();
        let idle = std::mem::take(&mut *pool.warm.lock().unwrap());
        for warm in idle {
            pool.instances.retire(warm.instance, deadline).await;
        }
    }

    /// The server is stopping: running guests stop, idle instances are
    /// dropped. Resolves when every guest has given its turn back, or after
    /// `wait` at the latest.
    pub async fn stop_all(&self, wait: Duration) {
        self.inner.instances.stop_all();
        self.inner.warm.lock().unwrap().clear();
        let _all_turns = self.inner.all_turns(wait).await;
    }
}

impl<I: Instances> Pool<I> {
    fn retire_deadline(&self) -> Instant {
        Instant::now() + self.instances.limits().request_timeout.min(RETIRE_TIMEOUT)
    }

    /// Every turn, once no instance is in use; `None` if that took longer than `wait`.
    async fn all_turns(&self, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let turns = u32::try_from(self.max_instances).unwrap_or(u32::MAX);
        tokio::time::timeout(wait, self.turns.clone().acquire_many_owned(turns)).await.ok()?.ok()
    }

    async fn new_instance(&self) -> Result<Warm<I::Instance>> {
        let instance = self.instances.instantiate().await?;
        let share = jittered(self.instances.reuse_count(), self.jitter.hash_one(self.made.fetch_add(1, Ordering::Relaxed)));
        Ok(Warm { instance, served: 0, share, idle_since: tokio::time::Instant::now() })
    }

    /// Keep `warm` for the next request, unless it has served its share:
    /// then retire it (the caller holds its turn meanwhile).
    async fn keep_or_retire(&self, mut warm: Warm<I::Instance>) {
        if self.instances.is_stopping() {
            return;
        }
        if warm.served >= warm.share {
            self.instances.retire(warm.instance, self.retire_deadline()).await;
            return;
        }
        warm.idle_since = tokio::time::Instant::now();
        self.warm.lock().unwrap().push(warm);
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
            self.instances.retire(warm.instance, self.retire_deadline()).await;
            drop(turn);
        }
    }
}

/// An instance's share of `reuse_count` requests: drawn (by `draw`) from the
/// top tenth of it; exactly `reuse_count` below 10.
fn jittered(reuse_count: usize, draw: u64) -> usize {
    let spread = reuse_count / 10;
    reuse_count - (draw % (spread as u64 + 1)) as usize
}

impl<I: Instances> Turn<I> {
    pub fn instances(&self) -> &I {
        &self.pool.instances
    }

    /// The most recently used idle instance, or a new one.
    pub async fn take(self) -> Result<Lease<I>> {
        let Turn { pool, permit } = self;
        let reused = pool.warm.lock().unwrap().pop();
        let warm = match reused {
            Some(warm) => warm,
            None => pool.new_instance().await?,
        };
        Ok(Lease { pool, warm, _permit: permit })
    }
}

impl<I: Instances> Lease<I> {
    pub fn instance(&mut self) -> &mut I::Instance {
        &mut self.warm.instance
    }

    pub fn instances(&self) -> &I {
        &self.pool.instances
    }

    /// Requests the instance served before this one (0: made for it).
    pub fn served(&self) -> usize {
        self.warm.served
    }

    /// The instance served its request: keep it for the next one, or retire
    /// it if that was its share. Its turn is free after that.
    pub async fn give_back(self) {
        let Lease { pool, mut warm, _permit } = self;
        warm.served += 1;
        pool.keep_or_retire(warm).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Instances that are numbers, counted as they are made and retired.
    struct Numbers {
        limits: Limits,
        reuse_count: usize,
        made: AtomicU64,
        retired: Mutex<Vec<u64>>,
        stopping: AtomicBool,
    }

    impl Instances for Numbers {
        type Instance = u64;
        fn component(&self) -> &str {
            "numbers"
        }
        fn limits(&self) -> &Limits {
            &self.limits
        }
        fn reuse_count(&self) -> usize {
            self.reuse_count
        }
        fn is_stopping(&self) -> bool {
            self.stopping.load(Ordering::SeqCst)
        }
        fn stop_all(&self) {
            self.stopping.store(true, Ordering::SeqCst);
        }
        async fn instantiate(&self) -> Result<u64> {
            Ok(self.made.fetch_add(1, Ordering::SeqCst))
        }
        async fn retire(&self, instance: u64, _deadline: Instant) {
            self.retired.lock().unwrap().push(instance);
        }
    }

    fn pool(max_instances: usize, reuse_count: usize) -> InstancePool<Numbers> {
        let limits = Limits { idle_instance_timeout: Some(Duration::from_secs(30)), ..Limits::default() };
        let numbers = Numbers { limits, reuse_count, made: AtomicU64::new(0), retired: Mutex::default(), stopping: AtomicBool::new(false) };
        InstancePool::new(numbers, max_instances)
    }

    fn soon() -> tokio::time::Instant {
        tokio::time::Instant::now() + Duration::from_millis(100)
    }

    async fn lease(pool: &InstancePool<Numbers>) -> Lease<Numbers> {
        pool.turn(soon()).await.expect("a turn").take().await.unwrap()
    }

    #[tokio::test]
    async fn no_more_instances_than_the_cap_and_a_freed_turn_goes_to_the_next_request() {
        let pool = pool(2, 1000);
        let mut first = lease(&pool).await;
        let mut second = lease(&pool).await;
        assert_eq!((*first.instance(), *second.instance()), (0, 1));
        assert!(pool.turn(soon()).await.is_none(), "a third turn while two instances are busy");
        let waiting = tokio::spawn({
            let inner = pool.inner.clone();
            async move { InstancePool { inner }.turn(tokio::time::Instant::now() + Duration::from_secs(5)).await.is_some() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the waiting request got a turn before one was free");
        second.give_back().await;
        assert!(waiting.await.unwrap(), "the waiting request got the freed turn");
        first.give_back().await;
        assert_eq!(pool.instances().made.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_most_recently_used_instance_serves_next() {
        let pool = pool(2, 1000);
        let first = lease(&pool).await;
        let second = lease(&pool).await;
        first.give_back().await;
        second.give_back().await;
        assert_eq!(*lease(&pool).await.instance(), 1);
    }

    #[tokio::test]
    async fn an_instance_that_served_its_share_is_retired_and_a_new_one_made() {
        let pool = pool(1, 3);
        for _ in 0..3 {
            let mut lease = lease(&pool).await;
            assert_eq!(*lease.instance(), 0);
            lease.give_back().await;
        }
        assert_eq!(*pool.instances().retired.lock().unwrap(), vec![0]);
        assert_eq!(*lease(&pool).await.instance(), 1);
    }

    #[tokio::test]
    async fn a_lease_dropped_without_giving_back_drops_its_instance_and_frees_its_turn() {
        let pool = pool(1, 1000);
        let trapped = lease(&pool).await;
        drop(trapped);
        let mut next = lease(&pool).await;
        assert_eq!(*next.instance(), 1, "the dropped instance was reused");
        assert!(pool.instances().retired.lock().unwrap().is_empty(), "a dropped instance is not retired");
    }

    #[tokio::test(start_paused = true)]
    async fn idle_instances_are_retired_after_the_idle_timeout() {
        let pool = pool(2, 1000);
        lease(&pool).await.give_back().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(pool.instances().retired.lock().unwrap().is_empty(), "retired before its idle timeout");
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(*pool.instances().retired.lock().unwrap(), vec![0]);
    }

    #[tokio::test]
    async fn at_a_stop_idle_instances_retire_and_busy_ones_are_awaited() {
        let pool = pool(2, 1000);
        let busy = lease(&pool).await;
        prewarmed(&pool).await;
        let released = AtomicBool::new(false);
        let stopping = async {
            pool.retire_all().await;
            pool.stop_all(Duration::from_secs(5)).await;
            released.load(Ordering::SeqCst)
        };
        let give_back_later = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            released.store(true, Ordering::SeqCst);
            drop(busy);
        };
        let (stopped_after_release, ()) = tokio::join!(stopping, give_back_later);
        assert_eq!(*pool.instances().retired.lock().unwrap(), vec![1], "the idle instance retired");
        assert!(pool.instances().is_stopping());
        assert!(stopped_after_release, "stop_all returned with a guest still holding its turn");
    }

    async fn prewarmed(pool: &InstancePool<Numbers>) {
        pool.prewarm().await.unwrap();
        assert_eq!(pool.inner.warm.lock().unwrap().len(), 1);
    }

    #[test]
    fn each_instance_draws_its_share_from_the_top_tenth_of_the_reuse_count() {
        let state = RandomState::new();
        let shares: Vec<usize> = (0..50u64).map(|n| jittered(1000, state.hash_one(n))).collect();
        assert!(shares.iter().all(|&share| (900..=1000).contains(&share)), "{shares:?}");
        assert!(shares.iter().any(|&share| share != shares[0]), "every instance drew the same share: {shares:?}");
        assert_eq!(jittered(1, 12345), 1);
        assert_eq!(jittered(9, u64::MAX), 9);
        assert_eq!(jittered(10, 1), 9);
    }
}
