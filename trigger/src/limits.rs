//! The limits a component runs under: how long a request may take, how much
//! memory an instance may use, how many requests an instance serves, how long
//! an idle instance is kept.

use crate::app::AppComponent;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Limits {
    /// A request that has not produced a response by then gets a 504 and its
    /// instance is dropped (gunicorn's worker timeout is 30 s too).
    pub request_timeout: Duration,
    /// Linear-memory bytes one instance may grow to (`None`: the engine's maximum).
    pub max_instance_memory: Option<usize>,
    /// Requests one instance serves before it is retired (1: fresh per
    /// request). `None`: by kind of app, see [`Limits::reuse_count_for`].
    pub max_instance_reuse_count: Option<usize>,
    /// An instance idle this long is retired.
    pub idle_instance_timeout: Duration,
    /// Request bodies larger than this get a 413 (nginx's client_max_body_size).
    pub max_request_body: u64,
}

/// How many requests a warm instance of a framework app serves in sequence
/// (like gunicorn's `max_requests`).
pub const FRAMEWORK_REUSE_COUNT: usize = 1000;

impl Limits {
    /// Framework apps (WSGI, ASGI, Express, ...) are written for long-lived
    /// processes: their instances are reused. A plain component gets a fresh
    /// instance per request, as under Spin and `wasmtime serve`.
    pub fn reuse_count_for(&self, component: &AppComponent) -> usize {
        self.max_instance_reuse_count.unwrap_or(if component.framework.is_some() { FRAMEWORK_REUSE_COUNT } else { 1 })
    }
}

/// Limits of the server as a whole.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// The most bytes of request line and headers (beyond: 431).
    pub max_header_size: usize,
    /// Requests handled at once; more wait in line for `queue_timeout`, then get a 503.
    pub max_concurrent_requests: usize,
    pub queue_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self { max_header_size: 64 * 1024, max_concurrent_requests: 256, queue_timeout: Duration::from_secs(10) }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_instance_memory: None,
            max_instance_reuse_count: None,
            idle_instance_timeout: Duration::from_secs(30),
            max_request_body: 64 << 20,
        }
    }
}
