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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_instance_memory: None,
            max_instance_reuse_count: 1,
            idle_instance_timeout: Duration::from_secs(1),
        }
    }
}
