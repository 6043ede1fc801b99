//! The wasmtime engine every component runs on (pooling allocator, epoch
//! interruption), and the compiled-code cache: a component is compiled once
//! per content hash and engine configuration, and deserialized afterwards.
//! Below it, Cranelift's incremental cache keeps each function's compiled
//! code by its content, so a rebuilt component whose interpreter did not
//! change (an edit to the app, `up --watch`) recompiles only what did.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch ticks: the granularity of timeouts and of yielding
/// from a busy guest (as in Spin).
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine settings the CLI can change.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct EngineSettings {
    /// Use the pooling instance allocator (Spin's `--disable-pooling` turns it off).
    pub pooling: bool,
    /// Where Cranelift keeps compiled functions by content (`None`: nowhere).
    #[serde(default)]
    pub function_cache: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self { pooling: true, function_cache: None }
    }
}

/// Cranelift's incremental cache in a folder: a file per compiled function,
/// named by the hash of its key.
#[derive(Debug)]
struct FunctionCache {
    dir: PathBuf,
}

impl FunctionCache {
    fn path(&self, key: &[u8]) -> PathBuf {
        let hash = format!("{:x}", Sha256::digest(key));
        self.dir.join(&hash[..2]).join(&hash[2..])
    }
}

impl wasmtime::CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        std::fs::read(self.path(key)).ok().map(std::borrow::Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        store_atomically(&self.path(key), &value).is_ok()
    }
}

/// An engine with room for `instances` component instances at once (the
/// pool's slots are reserved address space, not memory).
pub fn new_engine(settings: &EngineSettings, instances: usize) -> Result<Engine> {
    // wasmtime's own errors capture a Rust backtrace when RUST_BACKTRACE is
    // set, and it makes one each time a store is dropped (the store's idle
    // fiber is ended with a "future dropped" error): with a fresh instance
    // per request, 2-4% of the server's CPU, behind a lock all threads take.
    // fabricks reports wasmtime's errors by their messages, never those
    // backtraces, so they are not captured.
    wasmtime::error::disable_backtrace();
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    if std::env::var_os("FABRICKS_PERFMAP").is_some() {
        // For profiling with `perf` (how bench/ profiles are made): the
        // guest's functions are named in /tmp/perf-<pid>.map.
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if settings.pooling {
        let instances = u32::try_from(instances.max(1)).unwrap_or(u32::MAX);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(instances)));
    }
    if let Some(dir) = &settings.function_cache {
        config
            .enable_incremental_compilation(std::sync::Arc::new(FunctionCache { dir: dir.clone() }))
            .map_err(anyhow::Error::from)
            .context("enabling Cranelift's incremental cache")?;
    }
    Engine::new(&config).map_err(anyhow::Error::from).context("configuring the wasmtime engine")
}

/// Sized for CPython components: a componentize-py component links about a
/// dozen core instances and large tables.
fn pooling_config(instances: u32) -> PoolingAllocationConfig {
    // A retired instance frees its slot before its replacement is made (see
    // `pool`), so the component pools' caps add up to what is needed.
    let total = instances;
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(total)
        .total_core_instances(total * 24)
        .total_memories(total * 4)
        .total_tables(total * 8)
        .total_stacks(total)
        .max_core_instance_size(16 << 20)
        .max_component_instance_size(16 << 20)
        .max_tables_per_module(8)
        .table_elements(200_000)
        .max_memories_per_module(2)
        // When an instance is dropped, its slot's memory goes back to the
        // snapshot: with Linux's PAGEMAP_SCAN, the pages the guest wrote are
        // copied back from the image and stay mapped, instead of being
        // unmapped and faulted in again by the next instance. The scan is
        // the vendored wasmtime's (vendor/wasmtime/FABRICKS.md): wasmtime 48
        // unmapped whatever its first scan did not reach, most of a CPython
        // memory; continued to the end, Flask with a fresh instance per
        // request serves ~3x the requests (see BENCHMARKS.md).
        .linear_memory_keep_resident(64 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(wasmtime::Enabled::Auto);
    pooling
}

/// How a component was made ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// Deserialized from the compiled-code cache.
    FromCache,
    /// Compiled now (and cached, unless caching is off).
    Compiled,
}

/// The compiled-code cache in `dir`.
pub struct CodeCache {
    dir: Option<PathBuf>,
}

impl CodeCache {
    /// `None` turns caching off (`--disable-cache`).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// Load the component at `wasm`: from the cache when this engine compiled
    /// the same bytes before, else compile it (and store the result).
    pub fn load(&self, engine: &Engine, wasm: &Path) -> Result<(Component, Loaded)> {
        let bytes = std::fs::read(wasm).with_context(|| format!("reading the component {}", wasm.display()))?;
        let Some(artifact) = self.artifact_path(engine, &bytes) else {
            let component =
                Component::new(engine, &bytes).map_err(anyhow::Error::from).with_context(|| format!("compiling {}", wasm.display()))?;
            return Ok((component, Loaded::Compiled));
        };
        if artifact.is_file() {
            // SAFETY: the file was written by `Engine::precompile_component`
            // of this program into our own cache, under a name that includes
            // the engine's compatibility hash.
            match unsafe { Component::deserialize_file(engine, &artifact) }.map_err(anyhow::Error::from) {
                Ok(component) => return Ok((component, Loaded::FromCache)),
                Err(error) => tracing::warn!("the cached compilation {} is unusable ({error:#}); compiling again", artifact.display()),
            }
        }
        let compiled =
            engine.precompile_component(&bytes).map_err(anyhow::Error::from).with_context(|| format!("compiling {}", wasm.display()))?;
        store_atomically(&artifact, &compiled)?;
        // SAFETY: produced just above by this engine.
        let component = unsafe { Component::deserialize(engine, &compiled) }
            .map_err(anyhow::Error::from)
            .with_context(|| format!("loading the compiled {}", wasm.display()))?;
        Ok((component, Loaded::Compiled))
    }

    /// Where the compiled form of `bytes` for `engine` lives.
    fn artifact_path(&self, engine: &Engine, bytes: &[u8]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let content = Sha256::digest(bytes);
        let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut engine_hash);
        // The compatibility hash covers the wasmtime version and every
        // setting that changes compiled code.
        let name = format!("{}-{:016x}.cwasm", &format!("{content:x}")[..32], engine_hash.finish());
        Some(dir.join(name))
    }
}

fn store_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).with_context(|| format!("creating the compiled-code cache {}", dir.display()))?;
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A thread that advances the engine's epoch every [`EPOCH_TICK`] while it lives.
pub struct EpochTicker {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("fabricks-epoch".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                }
            })
            .expect("starting the epoch thread");
        Self { stop, thread: Some(thread) }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
