//! What an edit to an app's files asks of its component under `up --watch`:
//! nothing (not one of its files), a new copy of the app's folder for the
//! component to read while serving (a template, a static file), which new
//! instances also load the app's own modules from (a Python app's modules,
//! but Django's; a Node app's, bundled alone; a Python app's instances also
//! forget the templates its build compiled), or a rebuild (the settings,
//! the packages, and what a snapshot holds that nothing can load again).
//!
//! Each copy is a folder of its own (`.fabricks/build/<id>/edits/<n>/app`), so
//! the generation still serving keeps reading the files it started with,
//! until the watcher lets it go.

use crate::fabrickfile::AppSource;
use crate::{BuildSpec, app_files, nodejs, python};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// What an edit needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// None of the component's inputs changed.
    Unaffected,
    /// A new copy of the app's folder; with `reload_app`, instances load
    /// the app's modules again from it.
    Restage { reload_app: bool },
    /// A new build.
    Rebuild,
}

/// The environment variable that asks a Python component's instances to
/// load the app's modules again from its folder (the adapter's `reload`).
pub const RELOAD_VARIABLE: &str = "FABRICKS_RELOAD_APP";

/// The command (through the component's `fabricks:app/command`) that loads
/// the app that way once: it exits 0 when the app loads, 1 (the error
/// printed) when it does not, and [`RELOAD_CHECK_NEEDS_REBUILD`] when only a
/// new build can serve the edit (it imports a standard-library module the
/// snapshot lacks).
pub const RELOAD_CHECK: [&str; 3] = ["python", "-c", "import sys; from fabricks_adapter import reload; sys.exit(reload.check())"];
pub const RELOAD_CHECK_NEEDS_REBUILD: i32 = 75;

/// A Node app's modules: instances of the built component load an edit to
/// them from a bundle of the edited app alone (`build.mjs --reload`).
const NODE_MODULES: &[&str] = &["js", "mjs", "cjs", "ts", "mts", "cts", "jsx", "tsx", "json"];

/// The files that decide a Node app's packages: a change rebuilds.
const NODE_PACKAGES: &[&str] = &["package.json", "package-lock.json", ".npmrc"];

/// Where a reloading Node component finds the bundle of the edited app
/// (adapters/nodejs/handler.js reads `app.js` in it).
const NODE_RELOAD_FOLDER: &str = "/fabricks-reload";

/// An edit staged for serving.
#[derive(Clone, Debug)]
pub struct StagedEdit {
    /// Folders to mount, as (host, guest): the app's copy replaces the
    /// build's at the same guest path.
    pub mounts: Vec<(PathBuf, String)>,
    /// The component's command that checks the edited app loads
    /// ([`RELOAD_CHECK`]), when staging could not check it.
    pub check: Option<[&'static str; 3]>,
}

/// What [`BuildSpec::stage_edit`] made of an edit.
pub enum Staged {
    Ready(StagedEdit),
    /// Only a new build can serve the edit.
    NeedsRebuild,
}

impl BuildSpec {
    /// What the `changed` paths (absolute, or relative to the current
    /// directory) ask of this component.
    pub fn refresh_for(&self, changed: &[PathBuf]) -> Refresh {
        let dir = std::path::absolute(&self.dir).unwrap_or_else(|_| self.dir.clone());
        let origin = std::path::absolute(&self.origin).unwrap_or_else(|_| self.origin.clone());
        let mut refresh = Refresh::Unaffected;
        for path in changed {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let needs = if path == origin {
                Refresh::Rebuild
            } else {
                match path.strip_prefix(&dir) {
                    Ok(relative) if app_files::is_app_file(&dir, relative, &self.writable) => self.refresh_for_file(&dir, relative),
                    _ => Refresh::Unaffected,
                }
            };
            refresh = match (refresh, needs) {
                (Refresh::Rebuild, _) | (_, Refresh::Rebuild) => Refresh::Rebuild,
                (Refresh::Restage { reload_app: a }, Refresh::Restage { reload_app: b }) => Refresh::Restage { reload_app: a || b },
                (Refresh::Unaffected, other) | (other, Refresh::Unaffected) => other,
            };
        }
        if refresh != Refresh::Unaffected && !self.output.is_file() {
            return Refresh::Rebuild;
        }
        refresh
    }

    fn refresh_for_file(&self, dir: &Path, relative: &Path) -> Refresh {
        let name = relative.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let extension = relative.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        match &self.source {
            AppSource::Python(app) => {
                let requirements = app.requirements.as_ref().is_some_and(|r| std::path::absolute(r).is_ok_and(|r| r == dir.join(relative)));
                let unreloadable_module = extension == "py" && !app.framework.reloads_modules();
                if requirements || name == "pyproject.toml" || unreloadable_module {
                    Refresh::Rebuild
                } else {
                    // A module is loaded again; and any other file may be a
                    // template the build compiled into the snapshot, which
                    // Jinja (outside debug mode) and Django do not read on
                    // disk again: instances forget the compiled templates.
                    Refresh::Restage { reload_app: true }
                }
            }
            AppSource::NodeJs(_) if NODE_PACKAGES.contains(&name.as_str()) => Refresh::Rebuild,
            AppSource::NodeJs(_) => Refresh::Restage { reload_app: NODE_MODULES.contains(&extension.as_str()) },
            AppSource::Wasm { .. } | AppSource::Custom(_) => Refresh::Rebuild,
        }
    }

    /// Where the component sees the app's own folder, for a component
    /// fabricks builds from a language.
    pub fn app_guest_folder(&self) -> Option<&'static str> {
        match &self.source {
            AppSource::Python(_) => Some(python::APP_GUEST_FOLDER),
            AppSource::NodeJs(_) => Some(nodejs::APP_GUEST_FOLDER),
            AppSource::Wasm { .. } | AppSource::Custom(_) => None,
        }
    }

    /// Copy the app's files for the `generation`th edit (and with
    /// `reload_app`, for a Node app, bundle them for its instances to load).
    pub fn stage_edit(&self, generation: u64, reload_app: bool) -> Result<Staged> {
        let edit = std::path::absolute(self.edits_dir().join(generation.to_string())).context("resolving the build folder")?;
        let copy = edit.join("app");
        app_files::copy_to(&self.dir, &self.writable, &copy)?;
        let mut mounts = vec![(copy.clone(), self.app_guest_folder().unwrap_or_default().to_string())];
        let mut check = None;
        match &self.source {
            // Whether the edited app's modules load (a Django app's are not
            // loaded again).
            AppSource::Python(app) if reload_app && app.framework.reloads_modules() => check = Some(RELOAD_CHECK),
            AppSource::NodeJs(_) if reload_app => {
                let folder = edit.join("reload");
                std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
                if !nodejs::reload_bundle(&self.work_dir(), &copy, &folder.join("app.js"))? {
                    return Ok(Staged::NeedsRebuild);
                }
                mounts.push((folder, NODE_RELOAD_FOLDER.to_string()));
            }
            _ => {}
        }
        Ok(Staged::Ready(StagedEdit { mounts, check }))
    }

    /// Remove the copies of edits other than the `keep` generations (those
    /// a generation of the app may still be serving).
    pub fn keep_edits(&self, keep: &[u64]) {
        let Ok(entries) = std::fs::read_dir(self.edits_dir()) else { return };
        for entry in entries.flatten() {
            if !entry.file_name().to_string_lossy().parse::<u64>().is_ok_and(|n| keep.contains(&n)) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    fn edits_dir(&self) -> PathBuf {
        self.work_dir().join("edits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fabrickfile::Fabrickfile;

    fn spec(files: &[(&str, &str)]) -> (BuildSpec, PathBuf) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("fabricks-edits-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let spec = BuildSpec::from_fabrickfile(&Fabrickfile::load(&dir).unwrap());
        std::fs::create_dir_all(spec.output.parent().unwrap()).unwrap();
        std::fs::write(&spec.output, "built").unwrap();
        (spec, dir)
    }

    #[test]
    fn python_sources_and_templates_reload_and_settings_rebuild() {
        let (spec, dir) = spec(&[
            (
                "Fabrickfile",
                "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"main:app\"\nrequirements = \"requirements.txt\"\n",
            ),
            ("main.py", ""),
            ("requirements.txt", "flask\n"),
        ]);
        let refresh = |files: &[&str]| spec.refresh_for(&files.iter().map(|f| dir.join(f)).collect::<Vec<_>>());
        assert_eq!(refresh(&["main.py"]), Refresh::Restage { reload_app: true });
        // The build compiled the templates into the snapshot: instances forget them.
        assert_eq!(refresh(&["templates/index.html"]), Refresh::Restage { reload_app: true });
        assert_eq!(refresh(&["templates/index.html", "pkg/views.py"]), Refresh::Restage { reload_app: true });
        assert_eq!(refresh(&["main.py", "requirements.txt"]), Refresh::Rebuild);
        assert_eq!(refresh(&["Fabrickfile"]), Refresh::Rebuild);
        assert_eq!(refresh(&["__pycache__/main.cpython-314.pyc", ".fabricks/x"]), Refresh::Unaffected);
        std::fs::remove_file(&spec.output).unwrap();
        assert_eq!(refresh(&["templates/index.html"]), Refresh::Rebuild, "never built: nothing to restage into");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_djangos_template_edit_is_reloaded_without_a_check_of_its_modules() {
        let (django, dir) = spec(&[
            ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"django\"\napp = \"mysite.wsgi:application\"\n"),
            ("mysite/wsgi.py", ""),
        ]);
        assert_eq!(django.refresh_for(&[dir.join("blog/templates/post.html")]), Refresh::Restage { reload_app: true });
        match django.stage_edit(1, true).unwrap() {
            Staged::Ready(edit) => assert_eq!(edit.check, None, "Django's modules are not loaded again: nothing to check"),
            Staged::NeedsRebuild => panic!("a template edit is staged"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn django_sources_and_node_packages_rebuild_node_modules_reload_and_views_restage() {
        let (django, dir) = spec(&[
            ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"django\"\napp = \"mysite.wsgi:application\"\n"),
            ("mysite/wsgi.py", ""),
        ]);
        assert_eq!(django.refresh_for(&[dir.join("blog/views.py")]), Refresh::Rebuild);
        std::fs::remove_dir_all(&dir).unwrap();

        let (node, dir) =
            spec(&[("Fabrickfile", "[from]\nsource = \"nodejs\"\n[nodejs]\nframework = \"express\"\napp = \"app.js\"\n"), ("app.js", "")]);
        for code in ["app.js", "routes/users.mjs", "data.json"] {
            assert_eq!(node.refresh_for(&[dir.join(code)]), Refresh::Restage { reload_app: true }, "{code}");
        }
        for packages in ["package.json", "package-lock.json"] {
            assert_eq!(node.refresh_for(&[dir.join(packages)]), Refresh::Rebuild, "{packages}");
        }
        assert_eq!(node.refresh_for(&[dir.join("views/index.ejs")]), Refresh::Restage { reload_app: false });
        assert_eq!(node.refresh_for(&[dir.join("node_modules/x/index.js")]), Refresh::Unaffected);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn each_edit_is_a_folder_of_its_own_until_no_generation_serves_it() {
        let (spec, dir) = spec(&[
            ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"main:app\"\n"),
            ("main.py", "one"),
        ]);
        let stage = |generation| match spec.stage_edit(generation, true).unwrap() {
            Staged::Ready(edit) => {
                assert_eq!(edit.mounts[0].1, "/0");
                assert_eq!(edit.check, Some(RELOAD_CHECK));
                edit.mounts[0].0.clone()
            }
            Staged::NeedsRebuild => panic!("a Python edit is checked in the component, not while staging"),
        };
        let first = stage(1);
        std::fs::write(dir.join("main.py"), "two").unwrap();
        let second = stage(2);
        assert_eq!(std::fs::read_to_string(first.join("main.py")).unwrap(), "one");
        assert_eq!(std::fs::read_to_string(second.join("main.py")).unwrap(), "two");
        let third = stage(3);
        spec.keep_edits(&[2, 3]);
        assert!(!first.exists() && second.exists() && third.exists());
        spec.keep_edits(&[]);
        assert!(!second.exists() && !third.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
