//! WAGI's own app description, `modules.toml`: each `[[module]]` a route
//! served by a WASI command module run as a CGI program. It becomes a
//! [`Project`] like a spin.toml whose `[[trigger.http]]`s say `executor = {
//! type = "wagi" }` (the trigger's `wagi` executor runs them), and
//! [`to_spin_toml`] writes that spin.toml for `spin up`.

use crate::project::{Project, ProjectComponent, ProjectTrigger};
use anyhow::{Context, Result, bail};
use std::fmt::Write;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "modules.toml";

/// Keys of a `[[module]]` fabricks reads; WAGI's others are named in a warning.
const KEYS: &[&str] = &["route", "module", "volumes", "environment", "entrypoint"];

/// The app `dir`'s modules.toml.
pub fn load(dir: &Path) -> Result<Project> {
    let path = dir.join(FILE_NAME);
    let file = path.display().to_string();
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {file}"))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{file} is not valid TOML: {e}"))?;
    let Some(modules) = table.get("module").and_then(|m| m.as_array()) else {
        bail!("{file}: no [[module]] tables\n  fix: describe each module as [[module]] with route = \"/...\" and module = \"file.wasm\"");
    };
    let mut components = Vec::new();
    let mut triggers = Vec::new();
    for (index, module) in modules.iter().enumerate() {
        let place = format!("{file}: [[module]] #{}", index + 1);
        let module = module.as_table().with_context(|| format!("{place} is not a table"))?;
        for key in module.keys().filter(|key| !KEYS.contains(&key.as_str())) {
            eprintln!("warning: {place}: {key} is not supported by fabricks; it is ignored");
        }
        let text = |key: &str| -> Result<&str> {
            module
                .get(key)
                .and_then(|v| v.as_str())
                .with_context(|| format!("{place}: {key} must be a string\n  fix: write {key} = \"...\""))
        };
        let route = text("route")?.to_string();
        if !route.starts_with('/') {
            bail!("{place}: route {route:?} must start with /\n  fix: write route = \"/{route}\"");
        }
        let reference = text("module")?;
        let source = module_path(dir, reference).with_context(|| format!("{place}: module"))?;
        if !source.is_file() {
            bail!("{place}: module {} does not exist\n  fix: build the module first, or correct the path", source.display());
        }
        let mut executor = serde_json::json!({ "type": "wagi" });
        if let Some(entrypoint) = module.get("entrypoint") {
            executor["entrypoint"] = entrypoint.as_str().with_context(|| format!("{place}: entrypoint must name a function"))?.into();
        }
        let mut environment = Vec::new();
        if let Some(values) = module.get("environment") {
            let values = values.as_table().with_context(|| format!("{place}: environment must be a table of strings"))?;
            for (key, value) in values {
                let value = value.as_str().with_context(|| format!("{place}: environment.{key} must be a string"))?;
                environment.push((key.clone(), value.to_string()));
            }
        }
        let mut files = Vec::new();
        if let Some(volumes) = module.get("volumes") {
            let volumes = volumes.as_table().with_context(|| format!("{place}: volumes must be a table of guest path = host folder"))?;
            for (guest, host) in volumes {
                let host = host.as_str().with_context(|| format!("{place}: volumes.{guest:?} must name a folder"))?;
                let host = dir.join(host);
                if !host.is_dir() {
                    bail!("{place}: volumes.{guest:?}: {} is not a folder\n  fix: name a folder (WAGI mounts folders)", host.display());
                }
                files.push((host, if guest.starts_with('/') { guest.clone() } else { format!("/{guest}") }));
            }
        }
        let id = unique_id(&source, &components);
        let config = serde_json::Map::from_iter([
            ("component".to_string(), serde_json::Value::String(id.clone())),
            ("route".to_string(), serde_json::Value::String(route.clone())),
            ("executor".to_string(), executor),
        ]);
        triggers.push(ProjectTrigger { trigger_type: "http".into(), component: id.clone(), route, config });
        components.push(ProjectComponent {
            id,
            source,
            build: None,
            environment,
            files,
            writable_files: Vec::new(),
            sqlite_databases: Vec::new(),
            allowed_outbound_hosts: Vec::new(),
            settings: serde_json::Map::new(),
            settings_table: place,
        });
    }
    let name = std::path::absolute(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "wagi-app".into());
    Ok(Project { name, version: "0.1.0".into(), origin: path, components, triggers })
}

/// A `module` reference: a path (relative to the app folder) or a
/// `file://` URL; WAGI's registry references are not read.
fn module_path(dir: &Path, reference: &str) -> Result<PathBuf> {
    if let Some(path) = reference.strip_prefix("file://") {
        return Ok(PathBuf::from(path));
    }
    if reference.contains("://") || reference.starts_with("bindle:") || reference.starts_with("oci:") {
        bail!("{reference:?} is not a file: fabricks serves modules from files\n  fix: download the module and name its file");
    }
    Ok(dir.join(reference))
}

/// A kebab-case component id from the module's file name, unique in the app.
fn unique_id(source: &Path, taken: &[ProjectComponent]) -> String {
    let stem = source.file_stem().map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let mut base: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    base = base.trim_matches('-').to_string();
    while base.contains("--") {
        base = base.replace("--", "-");
    }
    if base.is_empty() || !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
        base = format!("module-{base}").trim_end_matches('-').to_string();
    }
    let mut id = base.clone();
    let mut n = 2;
    while taken.iter().any(|c| c.id == id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// The spin.toml (manifest version 2) that serves the same modules with
/// Spin's HTTP trigger and its wagi executor; paths relative to `dir`.
pub fn to_spin_toml(project: &Project, dir: &Path) -> Result<String> {
    let relative = |path: &Path| path.strip_prefix(dir).unwrap_or(path).display().to_string();
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::new();
    writeln!(out, "# Generated by `spin fabricks convert` from WAGI's modules.toml; edit that and convert again.")?;
    writeln!(out, "spin_manifest_version = 2\n")?;
    writeln!(out, "[application]\nname = {}\nversion = {}\n", quote(&project.name), quote(&project.version))?;
    for (trigger, component) in project.triggers.iter().zip(&project.components) {
        writeln!(out, "[[trigger.http]]\nroute = {}\ncomponent = {}", quote(&trigger.route), quote(&component.id))?;
        match trigger.config.get("executor").and_then(|e| e.get("entrypoint")).and_then(|e| e.as_str()) {
            Some(entrypoint) => writeln!(out, "executor = {{ type = \"wagi\", entrypoint = {} }}\n", quote(entrypoint))?,
            None => writeln!(out, "executor = {{ type = \"wagi\" }}\n")?,
        }
        writeln!(out, "[component.{}]\nsource = {}", component.id, quote(&relative(&component.source)))?;
        if !component.files.is_empty() {
            let files: Vec<String> = component
                .files
                .iter()
                .map(|(host, guest)| format!("{{ source = {}, destination = {} }}", quote(&relative(host)), quote(guest)))
                .collect();
            writeln!(out, "files = [{}]", files.join(", "))?;
        }
        if !component.environment.is_empty() {
            let pairs: Vec<String> = component.environment.iter().map(|(k, v)| format!("{} = {}", quote(k), quote(v))).collect();
            writeln!(out, "environment = {{ {} }}", pairs.join(", "))?;
        }
        writeln!(out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_become_wagi_routes_and_a_spin_toml() {
        let dir = std::env::temp_dir().join(format!("fabricks-wagi-modules-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("static")).unwrap();
        std::fs::write(dir.join("hello.wat"), "(module)").unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "[[module]]\nroute = \"/\"\nmodule = \"hello.wat\"\nenvironment = { GREETING = \"hi\" }\n\n\
             [[module]]\nroute = \"/files/...\"\nmodule = \"hello.wat\"\nvolumes = { \"/static\" = \"static\" }\n",
        )
        .unwrap();
        let project = load(&dir).unwrap();
        let ids: Vec<&str> = project.components.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["hello", "hello-2"]);
        assert_eq!(project.components[0].environment, [("GREETING".to_string(), "hi".to_string())]);
        assert_eq!(project.components[1].files, [(dir.join("static"), "/static".to_string())]);
        assert_eq!(project.triggers[1].config["executor"]["type"], "wagi");
        let text = to_spin_toml(&project, &dir).unwrap();
        assert!(text.contains("route = \"/files/...\"\ncomponent = \"hello-2\"\nexecutor = { type = \"wagi\" }"), "{text}");
        assert!(text.contains("files = [{ source = \"static\", destination = \"/static\" }]"), "{text}");
        toml::from_str::<toml::Table>(&text).unwrap();

        std::fs::write(dir.join(FILE_NAME), "[[module]]\nroute = \"/\"\nmodule = \"missing.wasm\"\n").unwrap();
        let error = format!("{:#}", load(&dir).unwrap_err());
        assert!(error.contains("[[module]] #1: module") && error.contains("missing.wasm does not exist"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
