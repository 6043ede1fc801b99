//! spin.toml (manifest version 2): parsed as strictly as Spin parses it
//! (unknown keys at the top level, in `[application]` and in
//! `[component.<id>]` are errors; `[[trigger.<type>]]` tables take any keys
//! but Spin's own `http` trigger takes only its four), then turned into an
//! [`Project`], the manifest model, for the subset fabricks serves.

use crate::BuildSpec;
use crate::project::{Project, ProjectComponent, ProjectTrigger};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Component as PathPart, Path, PathBuf};

pub const FILE_NAME: &str = "spin.toml";

/// Keys Spin's built-in HTTP trigger accepts (plus the generic `id`).
const HTTP_TRIGGER_KEYS: &[&str] = &["id", "component", "route", "static_response", "executor"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub spin_manifest_version: u32,
    pub application: Application,
    #[serde(default)]
    pub variables: toml::Table,
    #[serde(default)]
    pub trigger: BTreeMap<String, Vec<toml::Table>>,
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub trigger: toml::Table,
    #[serde(default)]
    pub tool: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: ComponentSource,
    pub description: Option<String>,
    #[serde(default)]
    pub variables: toml::Table,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub files: Vec<FileEntry>,
    #[serde(default)]
    pub exclude_files: Vec<String>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    #[serde(default)]
    pub sqlite_databases: Vec<String>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    pub build: Option<Build>,
    #[serde(default)]
    pub tool: toml::Table,
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub dependencies: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ComponentSource {
    Local(String),
    Remote { url: String, digest: String },
    Registry { registry: Option<String>, package: String, version: String },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FileEntry {
    Pattern(String),
    Placement { source: String, destination: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub command: BuildCommand,
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum BuildCommand {
    One(String),
    Many(Vec<String>),
}

/// Parse spin.toml text (`path` is only named in errors).
pub fn parse(path: &Path, text: &str) -> Result<Manifest> {
    let manifest: Manifest = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{} is not a valid Spin manifest: {}", path.display(), e.to_string().trim_end()))?;
    if manifest.spin_manifest_version != 2 {
        bail!(
            "{}: spin_manifest_version = {}: fabricks reads manifest version 2\n  fix: run `spin doctor` to upgrade the manifest",
            path.display(),
            manifest.spin_manifest_version
        );
    }
    for (index, trigger) in manifest.trigger.get("http").into_iter().flatten().enumerate() {
        if let Some(key) = trigger.keys().find(|k| !HTTP_TRIGGER_KEYS.contains(&k.as_str())) {
            bail!(
                "{}: [[trigger.http]] number {}: unknown key {key:?}; Spin's HTTP trigger accepts only {}\n  fix: move framework settings to [component.<id>.tool.fabricks], or use [[trigger.fabricks]]",
                path.display(),
                index + 1,
                HTTP_TRIGGER_KEYS[1..].join(", ")
            );
        }
    }
    Ok(manifest)
}

/// Load `<dir>/spin.toml` into the manifest model. Component sources and
/// files resolve against `dir`.
pub fn load(dir: &Path) -> Result<Project> {
    let path = dir.join(FILE_NAME);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest = parse(&path, &text)?;
    to_project(&manifest, dir, &path)
}

/// The framework languages fabricks builds, each from a section of that name.
const LANGUAGES: [&str; 2] = ["python", "nodejs"];

/// The manifest model of a parsed manifest; sources and files resolve against `dir`.
pub fn to_project(manifest: &Manifest, dir: &Path, path: &Path) -> Result<Project> {
    let file = path.display();
    let mut triggers = Vec::new();
    // Per component: its framework section, as (language, settings, label).
    let mut frameworks: BTreeMap<String, (&str, toml::Table, String)> = BTreeMap::new();
    for trigger_type in ["fabricks", "http"] {
        for (index, trigger) in manifest.trigger.get(trigger_type).into_iter().flatten().enumerate() {
            let component = match trigger.get("component") {
                Some(toml::Value::String(id)) => id.clone(),
                _ => bail!(
                    "{file}: [[trigger.{trigger_type}]] number {}: component must name a [component.<id>]\n  fix: write component = \"<id>\"",
                    index + 1
                ),
            };
            let route = match trigger.get("route") {
                Some(toml::Value::String(route)) => route.clone(),
                _ => bail!(
                    "{file}: [[trigger.{trigger_type}]] for {component:?}: route must be a path such as \"/...\"\n  fix: write route = \"/...\""
                ),
            };
            if !manifest.component.contains_key(&component) {
                bail!("{file}: [[trigger.{trigger_type}]] names the component {component:?}, but there is no [component.{component}]");
            }
            if let Some((language, settings)) = framework_in(trigger) {
                frameworks.insert(component.clone(), (language, settings, format!("[trigger.{trigger_type}.{language}]")));
            }
            let config = serde_json::to_value(trigger)?.as_object().cloned().unwrap_or_default();
            triggers.push(ProjectTrigger { trigger_type: trigger_type.to_string(), component, route, config });
        }
    }
    for other in manifest.trigger.keys().filter(|t| *t != "fabricks" && *t != "http") {
        eprintln!("warning: {file}: [[trigger.{other}]] is not a trigger fabricks serves; it is ignored");
    }

    let mut components = Vec::new();
    for (id, component) in &manifest.component {
        let source = match &component.source {
            ComponentSource::Local(relative) => dir.join(inside(relative, &file.to_string(), &format!("[component.{id}] source"))?),
            _ => bail!(
                "{file}: [component.{id}] source: only local files are supported by spin-fabricks up\n  fix: use `spin up` for remote sources, or download the component"
            ),
        };
        let mut tool = component.tool.get("fabricks").and_then(|t| t.as_table()).cloned().unwrap_or_default();
        if let Some((language, settings)) = framework_in(&tool) {
            frameworks.entry(id.clone()).or_insert((language, settings, format!("[component.{id}.tool.fabricks.{language}]")));
        }
        for language in LANGUAGES {
            tool.remove(language);
        }
        let mut files = Vec::new();
        for entry in &component.files {
            files.push(match entry {
                FileEntry::Placement { source, destination } => {
                    (dir.join(inside(source, &file.to_string(), &format!("[component.{id}] files"))?), destination.clone())
                }
                FileEntry::Pattern(pattern) if pattern.contains(['*', '?', '[']) => bail!(
                    "{file}: [component.{id}] files: the glob {pattern:?} is not supported by spin-fabricks up\n  fix: name a directory as {{ source = \"dir\", destination = \"/dir\" }}, or run under `spin up`"
                ),
                FileEntry::Pattern(relative) => (
                    dir.join(inside(relative, &file.to_string(), &format!("[component.{id}] files"))?),
                    format!("/{}", relative.trim_start_matches("./")),
                ),
            });
        }
        let environment: Vec<(String, String)> = component.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let build = match frameworks.remove(id) {
            Some((language, settings, label)) => {
                let mut spec = BuildSpec::from_framework_settings(id, path, source.clone(), language, &settings, &label)?;
                spec.environment = environment.clone();
                spec.sqlite = !component.sqlite_databases.is_empty();
                Some(spec)
            }
            None => None,
        };
        // What fabricks builds reads its own files at run time; a manifest
        // written by `convert` names them already.
        for (host, guest) in build.iter().flat_map(BuildSpec::run_time_files) {
            if !files.iter().any(|(_, mounted)| *mounted == guest) {
                files.push((host, guest));
            }
        }
        components.push(ProjectComponent {
            id: id.clone(),
            source,
            build,
            environment,
            files,
            writable_files: Vec::new(),
            sqlite_databases: component.sqlite_databases.clone(),
            allowed_outbound_hosts: component.allowed_outbound_hosts.clone(),
            settings: serde_json::to_value(&tool)?.as_object().cloned().unwrap_or_default(),
            settings_table: format!("[component.{id}.tool.fabricks]"),
        });
    }
    Ok(Project {
        name: manifest.application.name.clone(),
        version: manifest.application.version.clone().unwrap_or_default(),
        origin: path.to_path_buf(),
        components,
        triggers,
    })
}

/// The framework section of a trigger or tool table: the first of
/// [`LANGUAGES`] that is a table there.
fn framework_in(table: &toml::Table) -> Option<(&'static str, toml::Table)> {
    LANGUAGES.into_iter().find_map(|language| table.get(language).and_then(|v| v.as_table()).map(|settings| (language, settings.clone())))
}

/// A relative path that stays inside the app directory.
pub fn inside<'a>(relative: &'a str, file: &str, key: &str) -> Result<&'a Path> {
    let path = Path::new(relative);
    if path.is_absolute() || path.components().any(|c| matches!(c, PathPart::ParentDir)) {
        bail!(
            "{file}: {key}: {relative:?} points outside the app directory\n  fix: use a path relative to the manifest's folder, without `..`"
        );
    }
    Ok(path)
}

/// The app directory of a manifest path.
pub fn app_dir(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}
