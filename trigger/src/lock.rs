//! Spin's locked app (`spin.lock`, JSON), the only thing the trigger reads:
//! as `spin up` hands it to a trigger plugin through `SPIN_LOCKED_URL`, or as
//! fabricks' own `up` makes it from a Fabrickfile or spin.toml. Turned into
//! an [`App`] holding the routes of the trigger types served.

use crate::app::{App, AppComponent, AppRoute, FileMount};
use crate::limits::ComponentLimits;
use crate::wagi::WagiConfig;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The newest `spin_lock_version` this reader understands.
const MAX_LOCK_VERSION: u64 = 1;

#[derive(Debug, Deserialize)]
pub struct LockedApp {
    pub spin_lock_version: u64,
    #[serde(default)]
    pub must_understand: Vec<String>,
    #[serde(default)]
    pub host_requirements: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub triggers: Vec<LockedTrigger>,
    #[serde(default)]
    pub components: Vec<LockedComponent>,
}

#[derive(Debug, Deserialize)]
pub struct LockedTrigger {
    pub id: String,
    pub trigger_type: String,
    #[serde(default)]
    pub trigger_config: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct LockedComponent {
    pub id: String,
    pub source: LockedSource,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<LockedFile>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub host_requirements: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct LockedSource {
    pub content_type: Option<String>,
    pub source: Option<String>,
    pub inline: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LockedFile {
    pub source: String,
    pub path: String,
}

/// Read the lock a `file://` URL names and keep the routes of `trigger_types`.
pub fn load(locked_url: &str, trigger_types: &[&str]) -> Result<App> {
    let path = file_url_to_path(locked_url).with_context(|| format!("SPIN_LOCKED_URL={locked_url}"))?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading the locked app {}", path.display()))?;
    let lock: LockedApp = serde_json::from_str(&text).with_context(|| format!("{} is not a Spin locked app", path.display()))?;
    to_app(&lock, trigger_types).with_context(|| format!("loading the locked app {}", path.display()))
}

/// A locked app given as JSON (fabricks' own `up` makes it in memory).
pub fn from_json(lock: serde_json::Value, trigger_types: &[&str]) -> Result<App> {
    let lock: LockedApp = serde_json::from_value(lock).context("not a Spin locked app")?;
    to_app(&lock, trigger_types)
}

pub fn to_app(lock: &LockedApp, trigger_types: &[&str]) -> Result<App> {
    if lock.spin_lock_version > MAX_LOCK_VERSION {
        bail!(
            "spin_lock_version {} is newer than this fabricks understands (at most {MAX_LOCK_VERSION})\n  fix: upgrade the fabricks plugin",
            lock.spin_lock_version
        );
    }
    if let Some(feature) = lock.must_understand.first() {
        bail!(
            "the app needs the feature {feature:?} (must_understand), which fabricks does not support\n  fix: serve it with a trigger that supports {feature:?}"
        );
    }
    if let Some(requirement) = lock.host_requirements.keys().next() {
        bail!(
            "the app requires the host to support {requirement:?} (host_requirements), which fabricks does not\n  fix: serve it with a host that supports {requirement:?}"
        );
    }

    // Messages name the manifest the lock was made from, where it says.
    let origin = lock.metadata.get("origin").and_then(|o| o.as_str()).and_then(|url| file_url_to_path(url).ok());
    let place = |table: String| match &origin {
        Some(path) => format!("{}: {table}", path.display()),
        None => table,
    };
    let mut routes = Vec::new();
    let mut trigger_limits: BTreeMap<String, ComponentLimits> = BTreeMap::new();
    for trigger in lock.triggers.iter().filter(|t| trigger_types.contains(&t.trigger_type.as_str())) {
        let component = trigger
            .trigger_config
            .get("component")
            .and_then(|c| c.as_str())
            .with_context(|| format!("trigger {:?} names no component", trigger.id))?
            .to_string();
        let route = trigger
            .trigger_config
            .get("route")
            .and_then(|r| r.as_str())
            .with_context(|| format!("trigger {:?} has no route", trigger.id))?
            .to_string();
        let table = place(format!("[[trigger.{}]] for {component:?}:", trigger.trigger_type));
        trigger_limits.insert(component.clone(), ComponentLimits::from_table(&trigger.trigger_config, &table)?);
        let wagi = executor(&trigger.trigger_config, &table)?;
        routes.push(AppRoute { component, route, wagi });
    }

    let mut components = Vec::new();
    for component in &lock.components {
        if !routes.iter().any(|r| r.component == component.id) {
            continue;
        }
        if let Some(requirement) = component.host_requirements.keys().next() {
            bail!("component {:?} requires the host to support {requirement:?}, which fabricks does not", component.id);
        }
        let source = match (&component.source.source, &component.source.inline) {
            (Some(url), _) => file_url_to_path(url).with_context(|| format!("the source of component {:?}", component.id))?,
            (None, Some(_)) => bail!("component {:?} has an inline source, which fabricks does not load yet", component.id),
            (None, None) => bail!("component {:?} has no source", component.id),
        };
        let mount = |f: &LockedFile, writable: bool| -> Result<FileMount> {
            let host = file_url_to_path(&f.source).with_context(|| format!("the files of component {:?}", component.id))?;
            Ok(FileMount { host, guest: f.path.clone(), writable })
        };
        let mut files = component.files.iter().map(|f| mount(f, false)).collect::<Result<Vec<_>>>()?;
        // Folders fabricks grants writes to: its own metadata, absent from
        // the locks `spin up` writes.
        if let Some(writable) = component.metadata.get("fabricks_writable_files") {
            let writable: Vec<LockedFile> = serde_json::from_value(writable.clone())
                .with_context(|| format!("metadata.fabricks_writable_files of component {:?}", component.id))?;
            for f in &writable {
                files.push(mount(f, true)?);
            }
        }
        let strings = |key: &str| -> Vec<String> {
            let values = component.metadata.get(key).and_then(|v| v.as_array());
            values.into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
        };
        let allowed_outbound_hosts = strings("allowed_outbound_hosts");
        // Spin writes a component's `sqlite_databases` as `databases`.
        let sqlite_databases = strings("databases");
        // fabricks' own per-component settings, then the trigger's, which win.
        let own = match component.metadata.get("fabricks").and_then(|t| t.as_object()) {
            Some(table) => {
                let written = component.metadata.get("fabricks_table").and_then(|t| t.as_str());
                let written = written.map(str::to_string).unwrap_or_else(|| format!("[component.{}.tool.fabricks]", component.id));
                ComponentLimits::from_table(table, &place(written))?
            }
            None => ComponentLimits::default(),
        };
        components.push(AppComponent {
            id: component.id.clone(),
            source,
            environment: component.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            allowed_outbound_hosts,
            files,
            limits: own.or(trigger_limits.remove(&component.id).unwrap_or_default()),
            sqlite_databases,
            state_dir: origin.as_ref().and_then(|manifest| manifest.parent()).map(|dir| dir.join(".spin")),
            database_files: Default::default(),
        });
    }
    for route in &routes {
        if !components.iter().any(|c| c.id == route.component) {
            bail!("a trigger names the component {:?}, which the locked app does not contain", route.component);
        }
    }

    let text = |key: &str| lock.metadata.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    Ok(App { name: text("name"), version: text("version"), components, routes })
}

/// `file:///a/b%20c` -> `/a/b c`.
/// A trigger's `executor`: Spin's HTTP executor (none, `http` or `spin`),
/// or `wagi` with its `argv` and `entrypoint`.
fn executor(config: &serde_json::Map<String, serde_json::Value>, table: &str) -> Result<Option<WagiConfig>> {
    let Some(executor) = config.get("executor") else { return Ok(None) };
    let kind = executor.get("type").and_then(|t| t.as_str()).unwrap_or("");
    match kind {
        "http" | "spin" => Ok(None),
        "wagi" => {
            let mut wagi = WagiConfig::default();
            if let Some(argv) = executor.get("argv") {
                wagi.argv = argv
                    .as_str()
                    .with_context(|| format!("{table} executor.argv must be a string such as \"${{SCRIPT_NAME}} ${{ARGS}}\""))?
                    .to_string();
            }
            if let Some(entrypoint) = executor.get("entrypoint") {
                wagi.entrypoint =
                    entrypoint.as_str().with_context(|| format!("{table} executor.entrypoint must name a function"))?.to_string();
            }
            Ok(Some(wagi))
        }
        other => bail!(
            "{table} executor type {other:?} is not one Spin has\n  fix: leave executor out (a wasi:http component), or write executor = {{ type = \"wagi\" }} for a WAGI module"
        ),
    }
}

pub fn file_url_to_path(url: &str) -> Result<PathBuf> {
    let Some(rest) = url.strip_prefix("file://") else {
        bail!("{url:?} is not a file:// URL; fabricks loads only local files");
    };
    // `file://localhost/x` and `file:///x` name the same file.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = percent_decode(path).with_context(|| format!("{url:?} has a bad percent-escape"))?;
    let text = String::from_utf8(bytes).with_context(|| format!("{url:?} is not UTF-8"))?;
    Ok(PathBuf::from(text))
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(json: serde_json::Value) -> LockedApp {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn file_urls_decode() {
        assert_eq!(file_url_to_path("file:///a/b%20c").unwrap(), PathBuf::from("/a/b c"));
        assert_eq!(file_url_to_path("file://localhost/x").unwrap(), PathBuf::from("/x"));
        assert!(file_url_to_path("https://x/y").is_err());
    }

    #[test]
    fn only_triggers_of_the_type_are_kept() {
        let app = to_app(
            &lock(serde_json::json!({
                "spin_lock_version": 0,
                "metadata": {"name": "two", "version": "2.0.0"},
                "triggers": [
                    {"id": "a", "trigger_type": "fabricks", "trigger_config": {"component": "a", "route": "/...", "python": {"framework": "flask", "app": "main:app"}}},
                    {"id": "b", "trigger_type": "redis", "trigger_config": {"component": "b", "channel": "x"}}
                ],
                "components": [
                    {"id": "a", "source": {"content_type": "application/wasm", "source": "file:///app/a.wasm"}, "env": {"K": "V"},
                     "files": [{"source": "file:///tmp/w/assets/a", "path": "/"}],
                     "metadata": {"allowed_outbound_hosts": ["https://x.example"],
                                  "databases": ["default"],
                                  "fabricks_writable_files": [{"source": "file:///app/.fabricks/state/a/instance", "path": "/0/instance"}]}},
                    {"id": "b", "source": {"content_type": "application/wasm", "source": "file:///app/b.wasm"}}
                ]
            })),
            &["fabricks"],
        )
        .unwrap();
        assert_eq!((app.name.as_str(), app.version.as_str()), ("two", "2.0.0"));
        assert_eq!(app.components.len(), 1);
        let a = &app.components[0];
        assert_eq!(a.environment, vec![("K".to_string(), "V".to_string())]);
        assert_eq!(
            a.files,
            vec![
                FileMount { host: "/tmp/w/assets/a".into(), guest: "/".into(), writable: false },
                FileMount { host: "/app/.fabricks/state/a/instance".into(), guest: "/0/instance".into(), writable: true },
            ]
        );
        assert_eq!(a.allowed_outbound_hosts, vec!["https://x.example".to_string()]);
        assert_eq!(a.sqlite_databases, ["default"]);
        assert_eq!(a.state_dir, None, "no origin, no state folder");
    }

    #[test]
    fn a_components_own_settings_give_way_to_its_triggers_and_errors_name_the_manifest() {
        let json = |timeout: serde_json::Value| {
            lock(serde_json::json!({
                "spin_lock_version": 0,
                "metadata": {"name": "x", "origin": "file:///app/spin.toml"},
                "triggers": [{"id": "t", "trigger_type": "http", "trigger_config": {"component": "a", "route": "/...", "request_timeout": 3}}],
                "components": [{"id": "a", "source": {"source": "file:///app/a.wasm"},
                                "metadata": {"fabricks": {"request_timeout": timeout, "max_request_body_size": "1k"}}}]
            }))
        };
        let app = to_app(&json(serde_json::json!(9)), &["fabricks", "http"]).unwrap();
        assert_eq!(app.components[0].limits.request_timeout, Some(std::time::Duration::from_secs(3)));
        assert_eq!(app.components[0].limits.max_request_body, Some(1024));
        // Spin's state folder: `.spin` beside the manifest.
        assert_eq!(app.components[0].state_dir, Some(PathBuf::from("/app/.spin")));
        let e = to_app(&json(serde_json::json!("soon")), &["http"]).unwrap_err().to_string();
        assert!(e.starts_with("/app/spin.toml: [component.a.tool.fabricks] request_timeout"), "{e}");
    }

    #[test]
    fn unsupported_host_requirements_and_newer_locks_are_refused() {
        let e = to_app(
            &lock(serde_json::json!({"spin_lock_version": 1, "host_requirements": {"local_service_chaining": "required"}})),
            &["fabricks"],
        )
        .unwrap_err();
        assert!(e.to_string().contains("local_service_chaining"), "{e}");
        let e = to_app(&lock(serde_json::json!({"spin_lock_version": 2})), &["fabricks"]).unwrap_err();
        assert!(e.to_string().contains("newer"), "{e}");
    }
}
