//! Where each granted SQLite database lives: "default" in the app's state
//! folder unless Spin's runtime config file (`--runtime-config-file`) says
//! otherwise, and any other name only where that file places it
//! (`[sqlite_database.NAME] type = "spin"`, `path` relative to the file's
//! folder), as `spin up` resolves them (spin-contracts.md section 8). A
//! database fabricks cannot place, or places elsewhere than Spin would
//! (libSQL, in memory), stops the server at start with what to do, rather
//! than a guest's data going to another file than the user configured.
//! The file's other tables (key-value stores, variables providers)
//! configure interfaces fabricks does not link, and are left to Spin.

use crate::App;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Read the runtime config `file` and place the databases it defines for
/// every component of `app` granted them.
pub fn apply(app: &mut App, file: &Path) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("--runtime-config-file: reading {}", file.display()))?;
    let base = std::path::absolute(file).context("resolving --runtime-config-file")?;
    let base = base.parent().unwrap_or(Path::new("/"));
    let places = sqlite_databases(&text, &file.display().to_string(), base)?;
    for component in &mut app.components {
        for name in &component.sqlite_databases {
            if let Some(path) = places.get(name) {
                component.database_files.insert(name.clone(), path.clone());
            }
        }
    }
    Ok(())
}

/// The `[sqlite_database.NAME]` tables of a runtime config (`file` names it
/// in errors): each database's file, resolved against `base`.
fn sqlite_databases(text: &str, file: &str, base: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let table: toml::Table = toml::from_str(text).with_context(|| format!("{file}: not valid TOML"))?;
    let mut places = BTreeMap::new();
    let Some(databases) = table.get("sqlite_database") else { return Ok(places) };
    let Some(databases) = databases.as_table() else {
        bail!(
            "{file}: sqlite_database must be a table of databases\n  fix: write [sqlite_database.NAME] with type = \"spin\" and path = \"NAME.db\""
        );
    };
    for (name, settings) in databases {
        let key = format!("[sqlite_database.{name}]");
        let fix = format!("write {key} with type = \"spin\" and path = \"{name}.db\" (a file, relative to {file}'s folder)");
        let Some(settings) = settings.as_table() else { bail!("{file}: {key} must be a table\n  fix: {fix}") };
        if let Some(unknown) = settings.keys().find(|k| !matches!(k.as_str(), "type" | "path" | "url" | "token")) {
            bail!("{file}: {key}: unknown key {unknown:?}\n  fix: {fix}");
        }
        match settings.get("type").and_then(|t| t.as_str()) {
            Some("spin") => {}
            Some("libsql") => bail!(
                "{file}: {key}: type = \"libsql\" is a remote database (libSQL, Turso), which Spin's own trigger serves and fabricks does not\n  fix: serve the component under [[trigger.http]] (`spin-fabricks convert --trigger http` writes it), which Spin runs with libSQL; or keep the database in a file: {fix}"
            ),
            Some(other) => bail!("{file}: {key}: type = {other:?} is not a database type (\"spin\" or \"libsql\")\n  fix: {fix}"),
            None => bail!("{file}: {key}: type is missing\n  fix: {fix}"),
        }
        let Some(path) = settings.get("path") else {
            bail!(
                "{file}: {key}: without a path, Spin keeps the database in memory, a new one for each connection; fabricks keeps databases in files only\n  fix: {fix}"
            );
        };
        let Some(path) = path.as_str() else { bail!("{file}: {key}: path must be a string\n  fix: {fix}") };
        places.insert(name.clone(), base.join(path));
    }
    Ok(places)
}

/// Every database a component of `app` is granted has a place: "default"
/// always (its state folder), any other only by a runtime config file.
/// `origin` names the app's manifest in the error.
pub fn check_databases(app: &App, origin: &str) -> Result<()> {
    for component in &app.components {
        for name in &component.sqlite_databases {
            if name != crate::sqlite::DEFAULT_DATABASE && !component.database_files.contains_key(name) {
                bail!(
                    "{origin}: [component.{}] sqlite_databases: {name:?} has no place: databases other than \"default\" are defined by a runtime config file\n  fix: define [sqlite_database.{name}] with type = \"spin\" and path = \"{name}.db\" in a runtime config file and pass it with `spin up --runtime-config-file FILE`, or grant only \"default\"",
                    component.id
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BTreeMap<String, PathBuf>> {
        sqlite_databases(text, "runtime-config.toml", Path::new("/app"))
    }

    #[test]
    fn spin_databases_are_files_beside_the_config_and_other_tables_are_left_to_spin() {
        let places = parse(
            "[sqlite_database.default]\ntype = \"spin\"\npath = \"data/app.db\"\n\n[sqlite_database.audit]\ntype = \"spin\"\npath = \"/var/audit.db\"\n\n[key_value_store.default]\ntype = \"spin\"\n",
        )
        .unwrap();
        assert_eq!(places["default"], Path::new("/app/data/app.db"));
        assert_eq!(places["audit"], Path::new("/var/audit.db"));
        assert_eq!(places.len(), 2);
        assert!(parse("[key_value_store.default]\ntype = \"redis\"\n").unwrap().is_empty());
    }

    #[test]
    fn what_fabricks_cannot_place_is_refused_with_the_key_and_a_fix() {
        for (text, problem) in [
            ("[sqlite_database.default]\ntype = \"libsql\"\nurl = \"https://x.turso.io\"\ntoken = \"t\"\n", "remote database"),
            ("[sqlite_database.default]\ntype = \"spin\"\n", "in memory"),
            ("[sqlite_database.default]\npath = \"a.db\"\n", "type is missing"),
            ("[sqlite_database.default]\ntype = \"spin\"\npath = \"a.db\"\nmode = 1\n", "unknown key \"mode\""),
            ("[sqlite_database.default]\ntype = \"postgres\"\n", "not a database type"),
            ("sqlite_database = 1\n", "must be a table"),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.starts_with("runtime-config.toml: "), "{error}");
            assert!(error.contains(problem) && error.contains("fix:"), "{text}: {error}");
        }
    }
}
