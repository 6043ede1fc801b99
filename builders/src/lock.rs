//! The locked app: a [`Project`] written as Spin's `spin.lock` (JSON, lock
//! version 0), as `spin up` writes it for a trigger plugin. It is the one
//! model the trigger reads, whether `spin up` made it or `spin-fabricks up`
//! did. Per component: the component file, environment, files and
//! `allowed_outbound_hosts` as Spin writes them; fabricks' own
//! per-component settings (a spin.toml's `[component.<id>.tool.fabricks]`,
//! which Spin leaves out of its locks, or a Fabrickfile's `[serve]`) under
//! the component's `metadata.fabricks`, and where they were written under
//! `metadata.fabricks_table`, for messages; the folders it may write to
//! (which Spin has no way to grant) under `metadata.fabricks_writable_files`,
//! in the shape of `files`.

use crate::project::Project;
use serde_json::{Map, Value, json};
use std::path::Path;

/// The locked app of `project`, naming each component's (built) file.
pub fn locked_app(project: &Project) -> Value {
    let triggers: Vec<Value> = project
        .triggers
        .iter()
        .map(|trigger| {
            let mut config = trigger.config.clone();
            config.insert("component".into(), Value::String(trigger.component.clone()));
            config.insert("route".into(), Value::String(trigger.route.clone()));
            json!({
                "id": format!("{}-{}-trigger", trigger.component, trigger.trigger_type),
                "trigger_type": trigger.trigger_type,
                "trigger_config": config,
            })
        })
        .collect();
    let components: Vec<Value> = project
        .components
        .iter()
        .map(|component| {
            let env: Map<String, Value> =
                component.environment.iter().map(|(key, value)| (key.clone(), Value::String(value.clone()))).collect();
            let mounts = |files: &[(std::path::PathBuf, String)]| -> Vec<Value> {
                files.iter().map(|(host, guest)| json!({ "source": file_url(host), "path": guest })).collect()
            };
            let mut metadata = Map::new();
            metadata.insert("allowed_outbound_hosts".into(), json!(component.allowed_outbound_hosts));
            if !component.sqlite_databases.is_empty() {
                // Spin's key for a component's `sqlite_databases`.
                metadata.insert("databases".into(), json!(component.sqlite_databases));
            }
            if !component.writable_files.is_empty() {
                metadata.insert("fabricks_writable_files".into(), Value::Array(mounts(&component.writable_files)));
            }
            if !component.settings.is_empty() {
                metadata.insert("fabricks".into(), Value::Object(component.settings.clone()));
                metadata.insert("fabricks_table".into(), Value::String(component.settings_table.clone()));
            }
            json!({
                "id": component.id,
                "source": { "content_type": "application/wasm", "source": file_url(&component.source) },
                "env": env,
                "files": mounts(&component.files),
                "metadata": metadata,
            })
        })
        .collect();
    json!({
        "spin_lock_version": 0,
        "metadata": {
            "name": project.name,
            "version": project.version,
            "origin": file_url(&project.origin),
        },
        "triggers": triggers,
        "components": components,
    })
}

/// `/a/b c` -> `file:///a/b%20c` (relative paths are made absolute first).
pub fn file_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut url = String::from("file://");
    for byte in absolute.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            url.push(byte as char);
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_file_urls() {
        assert_eq!(file_url(Path::new("/a/b c/d%.wasm")), "file:///a/b%20c/d%25.wasm");
        assert_eq!(file_url(Path::new("/x/é")), "file:///x/%C3%A9");
    }
}
