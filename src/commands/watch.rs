//! `up --watch`: watch the app's inputs (its folders, as the build stages
//! them, and its Fabrickfile or spin.toml) and hand the trigger the app
//! after each edit ([`fabricks_trigger::reload`]): served from a new copy
//! of the app's files when the edit needs no build
//! ([`fabricks_builders::edits`]: a template; an app's own modules, which
//! its instances then load again), else rebuilt. A failed build, or an
//! edited app that does not load (Python) or bundle (Node), leaves the last
//! good one serving; the next good one takes over. An edit's copy is
//! removed once the trigger has finished every app served from it.

use super::project;
use anyhow::Result;
use fabricks_builders::edits::{self, Refresh, Staged, StagedEdit};
use fabricks_builders::{BuildOptions, BuildSpec};
use fabricks_trigger::engine::EngineSettings;
use fabricks_trigger::{App, FileMount};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc::UnboundedSender;

/// How often the files are looked at, and how long they must stay still
/// before a rebuild (an editor saving several files, a `git checkout`).
const POLL: Duration = Duration::from_millis(200);
const SETTLE: Duration = Duration::from_millis(100);

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

/// The paths that differ between two looks.
fn changed_paths(before: &Stamps, after: &Stamps) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = after
        .iter()
        .filter(|(path, stamp)| before.get(*path) != Some(stamp))
        .map(|(path, _)| path.clone())
        .chain(before.keys().filter(|path| !after.contains_key(*path)).cloned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The changed paths, for the log line.
fn describe(paths: &[PathBuf], base: &Path) -> String {
    let names: Vec<String> = paths.iter().map(|path| path.strip_prefix(base).unwrap_or(path).display().to_string()).collect();
    match names.len() {
        0 => "no file".into(),
        1..=3 => names.join(", "),
        n => format!("{}, and {} more", names[..3].join(", "), n - 3),
    }
}

/// A component served from a copy of its app folder newer than its build
/// ([`BuildSpec::stage_edit`]), until the next rebuild.
struct Edited {
    staged: StagedEdit,
    /// Its instances load the app's modules again from the copy.
    reload_app: bool,
    /// The number of the copy.
    copy: u64,
}

/// What the watcher keeps between edits.
struct Watcher {
    /// Copies made so far (each edit's folder is numbered).
    generation: u64,
    /// Apps handed to the trigger so far (the one it started with included).
    handed: u64,
    /// For each app the trigger may still serve requests of, oldest first:
    /// its number (from 0) and the copies its components are served from
    /// (none: the build's own folders).
    in_service: Vec<(u64, Vec<u64>)>,
    /// Components served from an edit's copy, by id.
    edited: BTreeMap<String, Edited>,
}

/// Watch the app in `dir` until the trigger hangs up (`apps` closed).
/// `finished` says how many of the apps handed over the trigger is done with.
pub fn watch(
    dir: PathBuf,
    options: BuildOptions,
    engine: EngineSettings,
    apps: UnboundedSender<App>,
    mut finished: tokio::sync::watch::Receiver<u64>,
) {
    let base = std::path::absolute(&dir).unwrap_or(dir.clone());
    let mut watcher = Watcher { generation: 0, handed: 1, in_service: vec![(0, Vec::new())], edited: BTreeMap::new() };
    forget_edits(&dir, &[]);
    let mut seen = stamps(&base);
    loop {
        std::thread::sleep(POLL);
        if finished.has_changed().unwrap_or(false) {
            watcher.forget_finished(&dir, *finished.borrow_and_update());
        }
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
        let changed = changed_paths(&seen, &latest);
        let what = describe(&changed, &base);
        seen = latest;
        let started = Instant::now();
        match watcher.refresh(&dir, &changed, &options, &engine) {
            Ok((app, how)) => {
                eprintln!("fabricks: {what} changed: {how} in {:.1} s; serving it", started.elapsed().as_secs_f64());
                if apps.send(app).is_err() {
                    return;
                }
                // Components an edit did not touch go on from older copies.
                let copies = watcher.edited.values().map(|edited| edited.copy).collect();
                watcher.in_service.push((watcher.handed, copies));
                watcher.handed += 1;
            }
            Err(error) => {
                eprintln!("fabricks: {what} changed: not served, the last good version goes on serving:\n{error:#}");
            }
        }
    }
}

/// Why an edit could not be served without a rebuild.
enum NotRestaged {
    /// The edit needs what only a build does.
    NeedsRebuild,
    /// The app does not load from the edited files: no rebuild would either.
    Failed(anyhow::Error),
}

impl Watcher {
    /// Remove the copies that no app the trigger still serves is served
    /// from, now that it is done with the first `count` apps.
    fn forget_finished(&mut self, dir: &Path, count: u64) {
        self.in_service.retain(|(app, _)| *app >= count);
        let keep: Vec<u64> = self.in_service.iter().flat_map(|(_, copies)| copies.iter().copied()).collect();
        forget_edits(dir, &keep);
    }

    /// The app to serve after `changed`, and how it was made.
    fn refresh(&mut self, dir: &Path, changed: &[PathBuf], options: &BuildOptions, engine: &EngineSettings) -> Result<(App, &'static str)> {
        let project = fabricks_builders::project::locate(dir, false)?;
        let refreshes: Vec<(&BuildSpec, Refresh)> = project.build_specs().map(|spec| (spec, spec.refresh_for(changed))).collect();
        let rebuild = refreshes.iter().any(|(_, refresh)| *refresh == Refresh::Rebuild)
            || refreshes.iter().all(|(_, refresh)| *refresh == Refresh::Unaffected);
        if !rebuild {
            match self.restage(&project, &refreshes, engine) {
                Ok((app, true)) => return Ok((app, "reloaded the app's code")),
                Ok((app, false)) => return Ok((app, "copied the app's files")),
                Err(NotRestaged::Failed(error)) => return Err(error),
                Err(NotRestaged::NeedsRebuild) => {}
            }
        }
        let app = rebuild_all(&project, options, engine)?;
        self.edited.clear();
        Ok((app, "rebuilt"))
    }

    /// Copy the app's files for each component whose edit needs no build,
    /// and check that a Python app loads from them before it is served.
    fn restage(
        &mut self,
        project: &fabricks_builders::project::Project,
        refreshes: &[(&BuildSpec, Refresh)],
        engine: &EngineSettings,
    ) -> Result<(App, bool), NotRestaged> {
        self.generation += 1;
        let mut reloaded = false;
        for (spec, refresh) in refreshes {
            let Refresh::Restage { reload_app } = *refresh else { continue };
            let reload_app = reload_app || self.edited.get(&spec.id).is_some_and(|e| e.reload_app);
            let staged = match spec.stage_edit(self.generation, reload_app).map_err(NotRestaged::Failed)? {
                Staged::Ready(staged) => staged,
                Staged::NeedsRebuild => return Err(NotRestaged::NeedsRebuild),
            };
            reloaded |= reload_app;
            self.edited.insert(spec.id.clone(), Edited { staged, reload_app, copy: self.generation });
        }
        let mut app = project::lock(project).map_err(NotRestaged::Failed)?;
        for component in &mut app.components {
            let Some(edited) = self.edited.get(&component.id) else { continue };
            for (host, guest) in &edited.staged.mounts {
                match component.files.iter_mut().find(|mount| mount.guest == *guest) {
                    Some(mount) => mount.host = host.clone(),
                    None => component.files.push(FileMount { host: host.clone(), guest: guest.clone(), writable: false }),
                }
            }
            if edited.reload_app {
                component.environment.push((edits::RELOAD_VARIABLE.into(), "1".into()));
            }
            if let Some(check) = edited.staged.check {
                check_loads(component, check, engine)?;
            }
        }
        Ok((app, reloaded))
    }
}

/// Load the edited app once in a new instance of `component`, as its
/// instances will: its errors are printed, and it is not served.
fn check_loads(component: &fabricks_trigger::AppComponent, check: [&str; 3], engine: &EngineSettings) -> Result<(), NotRestaged> {
    let command = check.map(String::from).to_vec();
    match fabricks_trigger::exec::run(component, engine, Some(project::code_cache_dir()), command) {
        Ok(0) => Ok(()),
        Ok(edits::RELOAD_CHECK_NEEDS_REBUILD) => Err(NotRestaged::NeedsRebuild),
        Ok(_) => Err(NotRestaged::Failed(anyhow::anyhow!("the app does not load from the edited files (the error is above)"))),
        Err(error) => Err(NotRestaged::Failed(error)),
    }
}

/// Remove the edits' copies but for the `keep` generations.
fn forget_edits(dir: &Path, keep: &[u64]) {
    if let Ok(project) = fabricks_builders::project::locate(dir, false) {
        project.build_specs().for_each(|spec| spec.keep_edits(keep));
    }
}

/// Build what changed and lock the app again (the Fabrickfile or spin.toml
/// may have changed too).
fn rebuild_all(project: &fabricks_builders::project::Project, options: &BuildOptions, engine: &EngineSettings) -> Result<App> {
    let app = project::lock(project)?;
    project::build_all(project.build_specs(), options, engine, true)?;
    project::check_sources(project, &app)?;
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_removed_only_once_every_app_served_from_it_is_finished() {
        let dir = std::env::temp_dir().join(format!("fabricks-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("Fabrickfile"), "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"app:app\"\n")
            .unwrap();
        std::fs::write(dir.join("app.py"), "").unwrap();
        let project = fabricks_builders::project::locate(&dir, false).unwrap();
        let edits = project.build_specs().next().unwrap().work_dir().join("edits");
        for copy in 1..=3 {
            std::fs::create_dir_all(edits.join(copy.to_string())).unwrap();
        }
        let left = || {
            let mut copies: Vec<u64> =
                std::fs::read_dir(&edits).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap()).collect();
            copies.sort();
            copies
        };
        // The build's app; then apps served from copy 1, from copies 1 and
        // 2 (an edit to a second component), and from 3; then a rebuild
        // (served from the build's folders again).
        let in_service = vec![(0, vec![]), (1, vec![1]), (2, vec![1, 2]), (3, vec![3]), (4, vec![])];
        let mut watcher = Watcher { generation: 3, handed: 5, in_service, edited: BTreeMap::new() };
        watcher.forget_finished(&dir, 2);
        assert_eq!(left(), [1, 2, 3], "the third app, not finished, is served from copy 1 too");
        watcher.forget_finished(&dir, 3);
        assert_eq!(left(), [3]);
        watcher.forget_finished(&dir, 3);
        assert_eq!(left(), [3]);
        watcher.forget_finished(&dir, 4);
        assert_eq!(left(), Vec::<u64>::new());
        assert_eq!(watcher.in_service, [(4, vec![])]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
