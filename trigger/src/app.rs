//! The one model of an app inside the host, whichever file it came from:
//! its components (a Wasm source, env, outbound hosts) and its HTTP routes.

use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct App {
    pub name: String,
    pub version: String,
    pub components: Vec<AppComponent>,
    pub routes: Vec<AppRoute>,
}

#[derive(Clone, Debug)]
pub struct AppComponent {
    /// The component id (kebab-case), as in spin.toml.
    pub id: String,
    /// The `wasi:http/proxy` component file.
    pub source: PathBuf,
    /// Environment variables the guest sees (and no others).
    pub environment: Vec<(String, String)>,
    /// Hosts the guest may send HTTP requests to (empty: none).
    pub allowed_outbound_hosts: Vec<String>,
}

/// One `[[trigger.*]]`: a route served by a component.
#[derive(Clone, Debug)]
pub struct AppRoute {
    pub component: String,
    pub route: String,
}

impl App {
    pub fn component(&self, id: &str) -> Option<&AppComponent> {
        self.components.iter().find(|c| c.id == id)
    }
}
