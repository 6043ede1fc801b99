//! `up --watch`: watch the app's inputs (its folders, as the build stages
//! them, and its Fabrickfile or spin.toml) and hand the trigger each good
//! rebuild ([`fabricks_trigger::reload`]). A failed build leaves the last
//! good one serving; the next good one takes over.

use super::project;
use anyhow::Result;
use fabricks_builders::BuildOptions;
use fabricks_trigger::App;
use fabricks_trigger::engine::EngineSettings;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc::UnboundedSender;

/// How often the files are looked at, and how long they must stay still
/// before a rebuild (an editor saving several files, a `git checkout`).
const POLL: Duration = Duration::from_millis(300);
const SETTLE: Duration = Duration::from_millis(200);

/// Folders and files that are not the app's inputs.
fn ignored(name: &str) -> bool {
    matches!(name, ".fabricks" | ".spin" | "__pycache__" | "node_modules" | ".git" | ".venv" | ".mypy_cache" | ".pytest_cache")
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".pyc")
        || (name.starts_with(".#") || (name.starts_with('#') && name.ends_with('#')))
}

type Stamps = BTreeMap<PathBuf, (SystemTime, u64)>;

fn stamps(root: &Path) -> Stamps {
    fn walk(path: &Path, into: &mut Stamps) {
        let Ok(entries) = std::fs::read_dir(path) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if ignored(&name.to_string_lossy()) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&entry.path(), into);
            } else {
                into.insert(entry.path(), (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len()));
            }
        }
    }
    let mut found = Stamps::new();
    walk(root, &mut found);
    found
}

/// What changed between two looks, for the log line.
fn changes(before: &Stamps, after: &Stamps, base: &Path) -> String {
    let mut names: Vec<String> = after
        .iter()
        .filter(|(path, stamp)| before.get(*path) != Some(stamp))
        .map(|(path, _)| path.clone())
        .chain(before.keys().filter(|path| !after.contains_key(*path)).cloned())
        .map(|path| path.strip_prefix(base).unwrap_or(&path).display().to_string())
        .collect();
    names.sort();
    names.dedup();
    match names.len() {
        0 => "no file".into(),
        1..=3 => names.join(", "),
        n => format!("{}, and {} more", names[..3].join(", "), n - 3),
    }
}

/// Watch the app in `dir` until the trigger hangs up (`apps` closed).
pub fn watch(dir: PathBuf, options: BuildOptions, engine: EngineSettings, apps: UnboundedSender<App>) {
    let base = std::path::absolute(&dir).unwrap_or(dir.clone());
    let mut seen = stamps(&base);
    loop {
        std::thread::sleep(POLL);
        let now = stamps(&base);
        if now == seen {
            continue;
        }
        // Wait for the files to stay still.
        let mut latest = now;
        loop {
            std::thread::sleep(SETTLE);
            let again = stamps(&base);
            if again == latest {
                break;
            }
            latest = again;
        }
        let what = changes(&seen, &latest, &base);
        seen = latest;
        let started = Instant::now();
        match rebuild(&dir, &options, &engine) {
            Ok(app) => {
                eprintln!("fabricks: {what} changed: rebuilt in {:.1} s; serving it", started.elapsed().as_secs_f64());
                if apps.send(app).is_err() {
                    return;
                }
            }
            Err(error) => {
                eprintln!("fabricks: {what} changed: the build failed, the last good build goes on serving:\n{error:#}");
            }
        }
    }
}

/// Build what changed and lock the app again (the Fabrickfile or spin.toml
/// may have changed too).
fn rebuild(dir: &Path, options: &BuildOptions, engine: &EngineSettings) -> Result<App> {
    let project = fabricks_builders::project::locate(dir, false)?;
    let app = project::lock(&project)?;
    project::build_all(project.build_specs(), options, engine, true)?;
    project::check_sources(&project, &app)?;
    Ok(app)
}
