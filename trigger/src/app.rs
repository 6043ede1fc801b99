//! The one model of an app inside the host: a locked app (Spin's
//! `spin.lock`, read by [`crate::lock`]), whether `spin up` or fabricks'
//! own `up` wrote it. Its components and its HTTP routes; nothing about how
//! a component was built.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// Host directories the guest sees: read-only, but for the folders the
    /// app was granted to write to.
    pub files: Vec<FileMount>,
    /// The component's own limits (overriding the server-wide ones).
    pub limits: crate::limits::ComponentLimits,
    /// The SQLite databases it may open (Spin's `sqlite_databases`).
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    /// The app's state folder (`.spin` beside its manifest), where its
    /// "default" SQLite database lives.
    #[serde(default)]
    pub state_dir: Option<PathBuf>,
    /// Granted databases a runtime config file places, by name
    /// ([`crate::runtime_config`]); "default" without one is in `state_dir`.
    #[serde(default)]
    pub database_files: BTreeMap<String, PathBuf>,
}

/// A host directory mounted into the guest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMount {
    pub host: PathBuf,
    /// Where the guest sees it (absolute).
    pub guest: String,
    /// Writable (made when missing), or read-only as Spin mounts `files`.
    #[serde(default)]
    pub writable: bool,
}

/// One `[[trigger.*]]`: a route served by a component.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppRoute {
    pub component: String,
    pub route: String,
    /// Spin's `wagi` executor: the component is a WASI command module run
    /// once per request as a CGI program ([`crate::wagi`]).
    #[serde(default)]
    pub wagi: Option<crate::wagi::WagiConfig>,
}

impl AppComponent {
    /// Where its SQLite database `name` lives: where a runtime config file
    /// placed it, else, for "default", `sqlite_db.db` in the state folder
    /// (where `spin up` keeps it); None when nowhere.
    pub fn database_file(&self, name: &str) -> Option<PathBuf> {
        match self.database_files.get(name) {
            Some(file) => Some(file.clone()),
            None if name == crate::sqlite::DEFAULT_DATABASE => self.state_dir.as_ref().map(|dir| dir.join("sqlite_db.db")),
            None => None,
        }
    }
}

impl App {
    pub fn component(&self, id: &str) -> Option<&AppComponent> {
        self.components.iter().find(|c| c.id == id)
    }
}
