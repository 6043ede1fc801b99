//! The limits a component runs under: how long a request may take, how much
//! memory an instance may use, how many requests an instance serves, how long
//! an idle instance is kept.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Limits {
    /// A request that has not produced a response by then gets a 504 and its
    /// instance is dropped (gunicorn's worker timeout is 30 s too).
    pub request_timeout: Duration,
    /// Linear-memory bytes one instance may grow to (`None`: the engine's maximum).
    pub max_instance_memory: Option<usize>,
    /// Requests one instance serves before it is retired (1: fresh per request).
    pub max_instance_reuse_count: usize,
    /// An instance idle this long is retired.
    pub idle_instance_timeout: Duration,
    /// Request bodies larger than this get a 413 (nginx's client_max_body_size).
    pub max_request_body: u64,
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
            max_instance_reuse_count: 1,
            idle_instance_timeout: Duration::from_secs(1),
            max_request_body: 64 << 20,
        }
    }
}
