//! The manifest model: an app as its author described it, before anything
//! is built, whichever file it came from. A Fabrickfile ([`from_fabrickfile`])
//! and a spin.toml ([`crate::manifest`]) both become a [`Project`]: its
//! components (what to build, where the component file is, what it is
//! granted) and its triggers (routes). After the build, [`crate::lock`]
//! turns it into Spin's locked app, the only thing the trigger reads.

use crate::fabrickfile::Fabrickfile;
use crate::{BuildSpec, manifest};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// An app, from a Fabrickfile or a spin.toml.
#[derive(Clone, Debug)]
pub struct Project {
    pub name: String,
    pub version: String,
    /// The file the app was read from, named in messages.
    pub origin: PathBuf,
    pub components: Vec<ProjectComponent>,
    pub triggers: Vec<ProjectTrigger>,
}

/// One component of a [`Project`].
#[derive(Clone, Debug)]
pub struct ProjectComponent {
    /// The component id (kebab-case).
    pub id: String,
    /// The `wasi:http/proxy` component file (once built, for those fabricks builds).
    pub source: PathBuf,
    /// How fabricks builds it, if it does.
    pub build: Option<BuildSpec>,
    /// Environment variables the guest sees (and no others).
    pub environment: Vec<(String, String)>,
    /// (host directory, absolute guest path), mounted read-only.
    pub files: Vec<(PathBuf, String)>,
    /// (host directory, absolute guest path), mounted writable: the
    /// folders a Fabrickfile's `[capabilities.filesystem] write` names
    /// ([`BuildSpec::writable_files`]). Spin has no such mounts.
    pub writable_files: Vec<(PathBuf, String)>,
    /// The SQLite databases it may open (Spin's `sqlite_databases`).
    pub sqlite_databases: Vec<String>,
    /// Hosts the guest may send HTTP requests to, in Spin's syntax.
    pub allowed_outbound_hosts: Vec<String>,
    /// The component's own serving settings (limits): a spin.toml's
    /// `[component.<id>.tool.fabricks]` without its framework section, or a
    /// Fabrickfile's `[serve]`.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Where those settings were written, for messages.
    pub settings_table: String,
}

/// One `[[trigger.<type>]]`: a route served by a component.
#[derive(Clone, Debug)]
pub struct ProjectTrigger {
    /// `fabricks` or `http`.
    pub trigger_type: String,
    pub component: String,
    pub route: String,
    /// The trigger table as written (`component` and `route` included).
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl Project {
    /// What fabricks builds for this app.
    pub fn build_specs(&self) -> impl Iterator<Item = &BuildSpec> {
        self.components.iter().filter_map(|component| component.build.as_ref())
    }

    /// The app directory.
    pub fn dir(&self) -> PathBuf {
        manifest::app_dir(&self.origin)
    }
}

/// The app `dir` describes: its Fabrickfile if it has one (unless
/// `prefer_manifest`), else its spin.toml, else WAGI's modules.toml.
pub fn locate(dir: &Path, prefer_manifest: bool) -> Result<Project> {
    let fabrickfile = dir.join(crate::fabrickfile::FILE_NAME);
    let spin_toml = dir.join(manifest::FILE_NAME);
    if spin_toml.is_file() && (prefer_manifest || !fabrickfile.is_file()) {
        return manifest::load(dir);
    }
    if fabrickfile.is_file() {
        return from_fabrickfile(&crate::load_fabrickfile(dir)?);
    }
    if dir.join(crate::wagi_modules::FILE_NAME).is_file() {
        return crate::wagi_modules::load(dir);
    }
    bail!(
        "{} holds no Fabrickfile, spin.toml or WAGI modules.toml\n  fix: run fabricks in (or name) your app's directory, or write a Fabrickfile there",
        dir.display()
    )
}

/// The one component a Fabrickfile describes, served on every path (`/...`).
pub fn from_fabrickfile(fabrickfile: &Fabrickfile) -> Result<Project> {
    let (environment, skipped) = fabrickfile.environment();
    for key in skipped {
        eprintln!("warning: {}: {key} is not a string, number or boolean; it is not set", fabrickfile.path.display());
    }
    // A ready component (`[from] source = "wasm"`) is "built" too: the
    // build checks that it is there.
    let spec = BuildSpec::from_fabrickfile(fabrickfile);
    let mut files = spec.run_time_files();
    files.extend(fabrickfile.file_mounts()?.into_iter().map(|(source, guest)| (fabrickfile.dir.join(source), guest)));
    let id = fabrickfile.name.clone();
    let route = "/...".to_string();
    let config = serde_json::Map::from_iter([
        ("component".to_string(), serde_json::Value::String(id.clone())),
        ("route".to_string(), serde_json::Value::String(route.clone())),
    ]);
    Ok(Project {
        name: fabrickfile.name.clone(),
        version: fabrickfile.version.clone(),
        origin: fabrickfile.path.clone(),
        components: vec![ProjectComponent {
            id: id.clone(),
            source: spec.output.clone(),
            build: Some(spec.clone()),
            environment,
            files,
            writable_files: spec.writable_files(),
            sqlite_databases: fabrickfile.sqlite_databases.clone(),
            allowed_outbound_hosts: fabrickfile.allowed_outbound_hosts(),
            settings: fabrickfile.serve_settings(),
            settings_table: "[serve]".into(),
        }],
        triggers: vec![ProjectTrigger { trigger_type: "fabricks".into(), component: id, route, config }],
    })
}
