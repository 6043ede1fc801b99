//! The one model of an app inside the host, whichever file it came from (a
//! Fabrickfile, a spin.toml via [`crate::manifest`], a Spin spin.lock via
//! [`crate::lock`]): its components and its HTTP routes.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct App {
    pub name: String,
    pub version: String,
    pub components: Vec<AppComponent>,
    pub routes: Vec<AppRoute>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppComponent {
    /// The component id (kebab-case), as in spin.toml.
    pub id: String,
    /// The `wasi:http/proxy` component file.
    pub source: PathBuf,
    /// Environment variables the guest sees (and no others).
    pub environment: Vec<(String, String)>,
    /// Hosts the guest may send HTTP requests to (empty: none).
    pub allowed_outbound_hosts: Vec<String>,
    /// Host directories or files the guest sees, read-only.
    pub files: Vec<FileMount>,
    /// How fabricks builds this component, when it does.
    pub framework: Option<FrameworkSettings>,
    /// The component's own limits (overriding the server-wide ones).
    pub limits: crate::limits::ComponentLimits,
}

/// A host path mounted into the guest, read-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMount {
    pub host: PathBuf,
    /// Where the guest sees it (absolute).
    pub guest: String,
}

/// A framework section (`[python]`, `[nodejs]`) as written, with its language.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkSettings {
    /// `python` or `nodejs`.
    pub language: String,
    /// Where it was written, for messages (e.g. `[trigger.fabricks.python]`).
    pub label: String,
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// Which trigger a route came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerType {
    /// `[[trigger.fabricks]]`: served by this host under `spin up` too.
    Fabricks,
    /// `[[trigger.http]]`: Spin's own trigger (this host serves it in `up`).
    Http,
}

/// One `[[trigger.*]]`: a route served by a component.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppRoute {
    pub component: String,
    pub route: String,
    pub trigger: TriggerType,
}

impl App {
    pub fn component(&self, id: &str) -> Option<&AppComponent> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// The framework section of a trigger config or tool table (named `place`
/// in messages): the first of `python` / `nodejs` that is a table.
pub fn framework_in(table: &serde_json::Map<String, serde_json::Value>, place: &str) -> Option<FrameworkSettings> {
    ["python", "nodejs"].into_iter().find_map(|language| {
        table.get(language).and_then(|v| v.as_object()).map(|settings| FrameworkSettings {
            language: language.to_string(),
            label: format!("[{place}.{language}]"),
            settings: settings.clone(),
        })
    })
}
