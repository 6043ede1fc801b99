//! The limits a component runs under: how long a request may take, how much
//! memory an instance may use, how many requests an instance serves, how long
//! an idle instance is kept.

use std::time::Duration;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// A request that has not produced a response by then gets a 504 and its
    /// instance is dropped (gunicorn's worker timeout is 30 s too).
    pub request_timeout: Duration,
    /// Linear-memory bytes one instance may grow to (`None`: the engine's maximum).
    pub max_instance_memory: Option<usize>,
    /// Requests one instance serves before it is retired (1: fresh per
    /// request). `None`: by kind of app, see [`Limits::reuse_count`].
    pub max_instance_reuse_count: Option<usize>,
    /// An instance idle this long is retired (`None`: never, as a gunicorn
    /// or uvicorn worker keeps its process).
    pub idle_instance_timeout: Option<Duration>,
    /// Instances of one component at once (in one worker process); more
    /// requests wait for one. `None`: by how instances are used, see
    /// [`Limits::max_instances`].
    pub max_instances: Option<usize>,
    /// Request bodies larger than this get a 413 (nginx's client_max_body_size).
    pub max_request_body: u64,
}

/// The most instances one component may have at once (`max_instances`).
pub const MAX_INSTANCES: usize = 1000;

/// Instances of one component at once in one worker process, by default,
/// when instances are kept: one, so that an app's module state (an
/// in-memory store, a counter) is one state, as in one gunicorn, uvicorn or
/// node process. More instances (`--max-instances`) serve more requests at
/// once, each with its own state.
pub const DEFAULT_MAX_INSTANCES: usize = 1;

/// How many requests a warm instance of an app written for a long-lived
/// process serves in sequence: all of them, as a gunicorn worker does by
/// default (`max_requests = 0`). `--max-instance-reuse-count` sets a limit.
pub const LONG_LIVED_REUSE_COUNT: usize = usize::MAX;

impl Limits {
    /// What a store of one instance may use: its memory cap, if any (a
    /// memory that cannot grow fails the guest's allocation, not the host).
    pub fn store_limits(&self) -> wasmtime::StoreLimits {
        let mut limits = wasmtime::StoreLimitsBuilder::new().trap_on_grow_failure(false);
        if let Some(bytes) = self.max_instance_memory {
            limits = limits.memory_size(bytes);
        }
        limits.build()
    }

    /// Instances of the component at once in a worker that runs guests on
    /// `threads` threads, for instances reused `reuse_count` times. Kept
    /// instances: one by default (one module state). A fresh instance per
    /// request keeps no state from one request to the next, so by default a
    /// worker runs as many at once as it has threads (as Spin and `wasmtime
    /// serve` run requests side by side): with one worker, every core.
    pub fn max_instances(&self, reuse_count: usize, threads: usize) -> usize {
        self.max_instances.unwrap_or(if reuse_count == 1 { threads.max(1) } else { DEFAULT_MAX_INSTANCES })
    }

    /// The most [`Limits::max_instances`] can be, before it is known whether
    /// the component's instances are kept: what the engine's pool reserves
    /// slots (address space) for.
    pub fn max_instances_at_most(&self, threads: usize) -> usize {
        self.max_instances(1, threads).max(self.max_instances(LONG_LIVED_REUSE_COUNT, threads))
    }

    /// Apps written for a long-lived process (WSGI, ASGI, Express, ...: the
    /// components that export fabricks' `lifecycle`, so that they can be
    /// retired) get their instances reused. A plain component gets a fresh
    /// instance per request, as under Spin and `wasmtime serve`.
    pub fn reuse_count(&self, long_lived: bool) -> usize {
        self.max_instance_reuse_count.unwrap_or(if long_lived { LONG_LIVED_REUSE_COUNT } else { 1 })
    }
}

/// Limits of the server as a whole.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
            idle_instance_timeout: None,
            max_instances: None,
            max_request_body: 64 << 20,
        }
    }
}

/// A component's own limits (`[component.<id>.tool.fabricks]`, or keys of its
/// `[[trigger.fabricks]]`), each overriding the server-wide value.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComponentLimits {
    pub request_timeout: Option<Duration>,
    pub max_instance_memory: Option<usize>,
    pub max_request_body: Option<u64>,
    pub max_instance_reuse_count: Option<usize>,
    pub max_instances: Option<usize>,
}

impl ComponentLimits {
    /// Read the limit keys of a settings table (others are left alone);
    /// `place` names the table in errors.
    pub fn from_table(table: &serde_json::Map<String, serde_json::Value>, place: &str) -> anyhow::Result<Self> {
        let bad = |key: &str, fix: &str| anyhow::anyhow!("{place} {key}: not a valid value\n  fix: {fix}");
        let mut limits = ComponentLimits::default();
        if let Some(value) = table.get("request_timeout") {
            let seconds = value
                .as_f64()
                .filter(|s| *s > 0.0 && s.is_finite())
                .ok_or_else(|| bad("request_timeout", "give seconds, e.g. request_timeout = 10"))?;
            limits.request_timeout = Some(Duration::from_secs_f64(seconds));
        }
        if let Some(value) = table.get("max_instance_memory") {
            limits.max_instance_memory =
                Some(size(value).ok_or_else(|| bad("max_instance_memory", "give bytes or a size such as \"256m\""))? as usize);
        }
        if let Some(value) = table.get("max_request_body_size") {
            limits.max_request_body =
                Some(size(value).ok_or_else(|| bad("max_request_body_size", "give bytes or a size such as \"10m\""))?);
        }
        if let Some(value) = table.get("max_instance_reuse_count") {
            let count =
                value.as_u64().filter(|n| *n >= 1).ok_or_else(|| bad("max_instance_reuse_count", "give a whole number, 1 or more"))?;
            limits.max_instance_reuse_count = Some(count as usize);
        }
        if let Some(value) = table.get("max_instances") {
            let count = value
                .as_u64()
                .filter(|n| (1..=MAX_INSTANCES as u64).contains(n))
                .ok_or_else(|| bad("max_instances", &format!("give a whole number from 1 to {MAX_INSTANCES}")))?;
            limits.max_instances = Some(count as usize);
        }
        Ok(limits)
    }

    /// The same settings from a later table win over this one's.
    pub fn or(self, other: ComponentLimits) -> ComponentLimits {
        ComponentLimits {
            request_timeout: other.request_timeout.or(self.request_timeout),
            max_instance_memory: other.max_instance_memory.or(self.max_instance_memory),
            max_request_body: other.max_request_body.or(self.max_request_body),
            max_instance_reuse_count: other.max_instance_reuse_count.or(self.max_instance_reuse_count),
            max_instances: other.max_instances.or(self.max_instances),
        }
    }
}

impl Limits {
    /// These limits, with a component's own settings applied.
    pub fn for_component(&self, own: &ComponentLimits) -> Limits {
        Limits {
            request_timeout: own.request_timeout.unwrap_or(self.request_timeout),
            max_instance_memory: own.max_instance_memory.or(self.max_instance_memory),
            max_request_body: own.max_request_body.unwrap_or(self.max_request_body),
            max_instance_reuse_count: own.max_instance_reuse_count.or(self.max_instance_reuse_count),
            idle_instance_timeout: self.idle_instance_timeout,
            max_instances: own.max_instances.or(self.max_instances),
        }
    }
}

/// A byte count in a settings table: a number, or text for [`parse_size`].
pub fn size(value: &serde_json::Value) -> Option<u64> {
    match value.as_u64() {
        Some(n) => Some(n),
        None => parse_size(value.as_str()?),
    }
}

/// A byte count as text: digits, optionally with a k/m/g suffix ("256m", "1GiB").
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let number = text.trim_end_matches(['b', 'i']);
    let (digits, scale) = match number.chars().last()? {
        'k' => (&number[..number.len() - 1], 1u64 << 10),
        'm' => (&number[..number.len() - 1], 1 << 20),
        'g' => (&number[..number.len() - 1], 1 << 30),
        _ => (number, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_settings_override_the_server_wide_ones() {
        let table = serde_json::json!({"request_timeout": 2, "max_request_body_size": "1k", "framework": "flask"});
        let own = ComponentLimits::from_table(table.as_object().unwrap(), "[x]").unwrap();
        let limits = Limits::default().for_component(&own);
        assert_eq!(limits.request_timeout, Duration::from_secs(2));
        assert_eq!(limits.max_request_body, 1024);
        assert_eq!(limits.max_instance_memory, None);
        let bad = serde_json::json!({"max_instance_reuse_count": 0});
        assert!(ComponentLimits::from_table(bad.as_object().unwrap(), "[x]").unwrap_err().to_string().contains("fix:"));
    }

    #[test]
    fn kept_instances_are_one_at_a_time_and_fresh_ones_one_per_thread_unless_set() {
        let defaults = Limits::default();
        assert_eq!(defaults.max_instances(LONG_LIVED_REUSE_COUNT, 8), 1);
        assert_eq!(defaults.max_instances(100, 8), 1);
        assert_eq!(defaults.max_instances(1, 8), 8);
        assert_eq!(defaults.max_instances(1, 0), 1);
        assert_eq!(defaults.max_instances_at_most(8), 8);
        let table = serde_json::json!({"max_instances": 3});
        let own = ComponentLimits::from_table(table.as_object().unwrap(), "[x]").unwrap();
        let set = defaults.for_component(&own);
        assert_eq!((set.max_instances(1, 8), set.max_instances(LONG_LIVED_REUSE_COUNT, 8), set.max_instances_at_most(8)), (3, 3, 3));
    }
}
