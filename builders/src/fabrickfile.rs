//! The Fabrickfile: parse and validate it into what the builders need.
//!
//! Every error names the file, the key and the fix. Keys fabricks does not
//! know are reported as warnings (never silently dropped); the whole table is
//! kept in [`Fabrickfile::table`] for `convert`.

use anyhow::{Result, bail};
use std::fmt;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "Fabrickfile";

/// The Python frameworks fabricks can serve, and the interface each speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonFramework {
    Flask,
    Django,
    Bottle,
    Wsgi,
    Fastapi,
    Starlette,
    Quart,
    Asgi,
}

/// How the host-side adapter talks to the app object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonInterface {
    Wsgi,
    Asgi,
}

impl PythonFramework {
    pub const ALL: [PythonFramework; 8] =
        [Self::Flask, Self::Django, Self::Bottle, Self::Wsgi, Self::Fastapi, Self::Starlette, Self::Quart, Self::Asgi];

    /// Whether instances can load an edit to the app's own modules again
    /// (`up --watch`, the adapter's `reload`). Django keeps what it loaded
    /// (settings, the app registry, models) in its own modules: only a new
    /// snapshot is sure.
    pub fn reloads_modules(self) -> bool {
        self != Self::Django
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Flask => "flask",
            Self::Django => "django",
            Self::Bottle => "bottle",
            Self::Wsgi => "wsgi",
            Self::Fastapi => "fastapi",
            Self::Starlette => "starlette",
            Self::Quart => "quart",
            Self::Asgi => "asgi",
        }
    }

    pub fn interface(self) -> PythonInterface {
        match self {
            Self::Flask | Self::Django | Self::Bottle | Self::Wsgi => PythonInterface::Wsgi,
            Self::Fastapi | Self::Starlette | Self::Quart | Self::Asgi => PythonInterface::Asgi,
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for PythonFramework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Python app: `[python]`.
#[derive(Clone, Debug)]
pub struct PythonApp {
    pub framework: PythonFramework,
    /// The dotted module holding the app object (`main` in `main:app`).
    pub module: String,
    /// The app object's name in that module (`app` in `main:app`), or the
    /// app factory's (`create_app` in `pkg:create_app()`).
    pub attribute: String,
    /// For an app factory, its arguments as written (`` in
    /// `pkg:create_app()`, `"prod", debug=False` in
    /// `pkg:create_app("prod", debug=False)`): literals only, as gunicorn
    /// takes them. The factory is called once, at build time.
    pub factory_args: Option<String>,
    /// The requirements file, resolved inside the app dir.
    pub requirements: Option<PathBuf>,
    /// GET requests (paths, with a query if any) sent through the app at
    /// build time, last before the snapshot (`warm_up = ["/"]`): what they
    /// compute and cache (compiled templates, specialized bytecode) every
    /// instance starts with.
    pub warm_up: Vec<String>,
    /// Where `warm_up` is written, for the build's errors (`[python]
    /// warm_up`, or the spin.toml section's).
    pub warm_up_key: String,
}

/// A Node.js app: `[nodejs]`.
#[derive(Clone, Debug)]
pub struct NodeApp {
    /// `express`, `hono` or `fastify`.
    pub framework: String,
    /// The app's entry file, relative to the app directory.
    pub app: String,
    /// The exported app object.
    pub handler: String,
}

pub const NODE_FRAMEWORKS: &[&str] = &["express", "hono", "fastify"];

/// A component built by the app's own command (`[build]`).
#[derive(Clone, Debug)]
pub struct CustomBuild {
    pub command: String,
    /// The component the command writes, relative to the app directory.
    pub output: String,
    pub workdir: Option<String>,
    pub watch: Vec<String>,
}

/// What the app is written in, and so how it is built.
#[derive(Clone, Debug)]
pub enum AppSource {
    Python(PythonApp),
    NodeJs(NodeApp),
    /// `[from] source = "wasm"`: a ready component.
    Wasm {
        component: PathBuf,
    },
    /// Any other language, built by its own `[build] command`.
    Custom(CustomBuild),
}

/// A parsed, validated Fabrickfile.
#[derive(Clone, Debug)]
pub struct Fabrickfile {
    /// The Fabrickfile itself.
    pub path: PathBuf,
    /// The app directory (the Fabrickfile's folder).
    pub dir: PathBuf,
    /// The component id: `[info] name`, else the directory's name, kebab-cased.
    pub name: String,
    pub version: String,
    pub source: AppSource,
    /// `[capabilities.filesystem] write`: folders of the app (relative to
    /// its directory) that it writes to, such as Flask's `instance` folder.
    pub writable: Vec<PathBuf>,
    /// `[capabilities] sqlite`: the SQLite databases the app may open
    /// (Spin's `sqlite_databases`).
    pub sqlite_databases: Vec<String>,
    /// The whole document, for `convert`.
    pub table: toml::Table,
    /// Keys fabricks does not use, one message each.
    pub warnings: Vec<String>,
}

impl Fabrickfile {
    fn value(&self, path: &[&str]) -> Option<&toml::Value> {
        let mut value = self.table.get(path[0])?;
        for key in &path[1..] {
            value = value.as_table()?.get(*key)?;
        }
        Some(value)
    }

    /// `[config.environment]`, values as text (numbers and booleans too).
    /// Entries of other types are returned as errors to report.
    pub fn environment(&self) -> (Vec<(String, String)>, Vec<String>) {
        let mut pairs = Vec::new();
        let mut skipped = Vec::new();
        for (key, value) in self.value(&["config", "environment"]).and_then(|e| e.as_table()).into_iter().flatten() {
            match value {
                toml::Value::String(text) => pairs.push((key.clone(), text.clone())),
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => pairs.push((key.clone(), value.to_string())),
                _ => skipped.push(format!("[config.environment] {key}")),
            }
        }
        (pairs, skipped)
    }

    /// `[serve]`, as written (the trigger checks the values).
    pub fn serve_settings(&self) -> serde_json::Map<String, serde_json::Value> {
        self.value(&["serve"])
            .and_then(|serve| serde_json::to_value(serve).ok())
            .and_then(|value| value.as_object().cloned())
            .unwrap_or_default()
    }

    /// `[capabilities.network]` in Spin's `allowed_outbound_hosts` syntax.
    pub fn allowed_outbound_hosts(&self) -> Vec<String> {
        if self.value(&["capabilities", "network", "allow_all_outbound"]).and_then(|v| v.as_bool()) == Some(true) {
            return vec!["*://*:*".to_string()];
        }
        self.value(&["capabilities", "network", "connect"])
            .and_then(|c| c.as_array())
            .map(|hosts| hosts.iter().filter_map(|h| h.as_str()).map(outbound_host).collect())
            .unwrap_or_default()
    }

    /// `[files]` and `[capabilities.filesystem] read`, as (source relative to
    /// the app directory, destination in the guest).
    pub fn file_mounts(&self) -> Result<Vec<(String, String)>> {
        let file = self.path.display().to_string();
        let mut mounts = Vec::new();
        for (source, destination) in self.value(&["files"]).and_then(|f| f.as_table()).into_iter().flatten() {
            let Some(destination) = destination.as_str().filter(|d| d.starts_with('/')) else {
                bail!(
                    "{file}: [files] {source:?}: the destination must be an absolute guest path\n  fix: write {source:?} = \"/somewhere\""
                );
            };
            let source = safe_relative(source.trim_start_matches("./"), &file, "[files]")?;
            mounts.push((source.display().to_string(), destination.to_string()));
        }
        for path in self.value(&["capabilities", "filesystem", "read"]).and_then(|r| r.as_array()).into_iter().flatten() {
            let Some(path) = path.as_str() else { continue };
            let source = safe_relative(path.trim_start_matches("./"), &file, "[capabilities.filesystem] read")?;
            let source = source.display().to_string();
            mounts.push((source.clone(), format!("/{source}")));
        }
        Ok(mounts)
    }
}

/// `"db:5432"` -> `"tcp://db:5432"`, `"api.example.com:443"` ->
/// `"https://api.example.com"`, `:80` -> `http://`, a bare host -> any
/// scheme and port; anything with a scheme is kept as written.
pub fn outbound_host(entry: &str) -> String {
    if entry.contains("://") {
        return entry.to_string();
    }
    match entry.rsplit_once(':') {
        Some((host, "443")) => format!("https://{host}"),
        Some((host, "80")) => format!("http://{host}"),
        Some((host, port)) if port == "*" || port.parse::<u16>().is_ok() => format!("tcp://{host}:{port}"),
        _ => format!("*://{entry}:*"),
    }
}

/// Keys each section may hold (spin-contracts.md section 7, plus the
/// framework sections).
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "fabrick_version",
            "info",
            "from",
            "source",
            "build",
            "capabilities",
            "files",
            "config",
            "health_check",
            "python",
            "nodejs",
            "wasm",
            "serve",
        ],
    ),
    ("info", &["name", "version", "type", "description", "authors"]),
    ("from", &["source"]),
    ("source", &["path", "include", "exclude"]),
    ("build", &["command", "output", "workdir", "watch", "environment"]),
    ("capabilities", &["env", "network", "filesystem", "sqlite"]),
    ("capabilities.network", &["connect", "allow_all_outbound"]),
    ("capabilities.filesystem", &["read", "write"]),
    ("config", &["environment"]),
    ("health_check", &["http"]),
    ("health_check.http", &["path", "expected_status"]),
    ("python", &["framework", "app", "requirements", "warm_up"]),
    ("nodejs", &["framework", "app", "handler"]),
    ("wasm", &["component"]),
    ("serve", SERVE_KEYS),
];

/// `[serve]`: the component's own serving limits, under the names
/// `[component.<id>.tool.fabricks]` and `[[trigger.fabricks]]` use.
pub const SERVE_KEYS: &[&str] =
    &["request_timeout", "max_instance_memory", "max_request_body_size", "max_instance_reuse_count", "max_instances"];

impl Fabrickfile {
    /// Read `<dir>/Fabrickfile`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!("cannot read {}: {e}\n  fix: run fabricks in (or name) a directory that holds a Fabrickfile", path.display())
        })?;
        Self::parse(&path, &text)
    }

    /// Parse the text of the Fabrickfile at `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let file = path.display().to_string();
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            anyhow::anyhow!("{file} is not valid TOML: {}\n  fix: correct the syntax at the place shown", e.to_string().trim_end())
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let err = |key: &str, problem: String, fix: &str| -> anyhow::Error { anyhow::anyhow!("{file}: {key}: {problem}\n  fix: {fix}") };

        let mut warnings = Vec::new();
        check_known_keys(&table, "", &file, &mut warnings);

        let info = table.get("info").and_then(|v| v.as_table());
        let name = match info.and_then(|i| i.get("name")) {
            Some(value) => {
                let name = value.as_str().ok_or_else(|| err("[info] name", "must be a string".into(), "write name = \"my-app\""))?;
                if name.is_empty()
                    || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    || name.starts_with('-')
                {
                    return Err(err(
                        "[info] name",
                        format!("{name:?} is not a valid name"),
                        "use lowercase letters, digits and dashes, e.g. name = \"my-app\"",
                    ));
                }
                name.to_string()
            }
            None => name_from_dir(&dir),
        };
        let version = info.and_then(|i| i.get("version")).and_then(|v| v.as_str()).unwrap_or("0.1.0").to_string();

        let source_name = table
            .get("from")
            .and_then(|f| f.as_table())
            .and_then(|f| f.get("source"))
            .ok_or_else(|| err("[from] source", "is missing".into(), "add [from] with source = \"python\" (or \"nodejs\", \"wasm\")"))?
            .as_str()
            .ok_or_else(|| err("[from] source", "must be a string".into(), "write source = \"python\""))?;

        let section = |name: &str| table.get(name).and_then(|v| v.as_table());
        let source = match source_name {
            "python" => {
                let python = section("python").ok_or_else(|| {
                    anyhow::anyhow!(
                        "{file}: [python] is missing\n  fix: add a [python] section with framework = \"flask\" and app = \"main:app\""
                    )
                })?;
                AppSource::Python(parse_python(python, &dir, &file, "[python]")?)
            }
            "nodejs" | "javascript" => {
                let nodejs = section("nodejs").ok_or_else(|| {
                    anyhow::anyhow!("{file}: [nodejs] is missing\n  fix: add a [nodejs] section with framework = \"express\", app = \"app.js\" and handler = \"app\"")
                })?;
                AppSource::NodeJs(parse_nodejs(nodejs, &dir, &file, "[nodejs]")?)
            }
            "wasm" => {
                let component = table
                    .get("wasm")
                    .and_then(|w| w.get("component"))
                    .and_then(|c| c.as_str())
                    .ok_or_else(|| err("[wasm] component", "is missing".into(), "add [wasm] with component = \"path/to/app.wasm\""))?;
                AppSource::Wasm { component: dir.join(safe_relative(component, &file, "[wasm] component")?) }
            }
            other => match custom_build(section("build"), &file)? {
                Some(build) => AppSource::Custom(build),
                None => {
                    return Err(err(
                        "[from] source",
                        format!("{other:?} is not a source fabricks builds itself, and there is no [build] command"),
                        "use \"python\", \"nodejs\" (or \"javascript\") or \"wasm\", or add [build] with command and output",
                    ));
                }
            },
        };

        let writable = parse_writable(&table, &file)?;
        let sqlite_databases = parse_sqlite(&table, &file)?;
        Ok(Fabrickfile { path: path.to_path_buf(), dir, name, version, source, writable, sqlite_databases, table, warnings })
    }
}

/// `[capabilities] sqlite = ["default"]`: the databases the app may open.
/// Only "default" has a place without Spin's runtime config.
fn parse_sqlite(table: &toml::Table, file: &str) -> Result<Vec<String>> {
    const KEY: &str = "[capabilities] sqlite";
    let Some(value) = table.get("capabilities").and_then(|c| c.get("sqlite")) else { return Ok(Vec::new()) };
    let fix = "write sqlite = [\"default\"]";
    let Some(entries) = value.as_array() else {
        bail!("{file}: {KEY}: must be a list of database names\n  fix: {fix}");
    };
    let mut names = Vec::new();
    for entry in entries {
        match entry.as_str() {
            Some("default") => names.push("default".to_string()),
            Some(other) => bail!(
                "{file}: {KEY}: {other:?} is a database fabricks has no place for (only \"default\" lives in .spin/sqlite_db.db; others need Spin's runtime config, which only trigger-fabricks under `spin up` reads, from a spin.toml app)\n  fix: {fix}"
            ),
            None => bail!("{file}: {KEY}: {entry} is not a database name\n  fix: {fix}"),
        }
    }
    Ok(names)
}

/// `[capabilities.filesystem] write = ["instance", ...]`: folders inside the
/// app directory, never the directory itself.
fn parse_writable(table: &toml::Table, file: &str) -> Result<Vec<PathBuf>> {
    const KEY: &str = "[capabilities.filesystem] write";
    let value = table.get("capabilities").and_then(|c| c.get("filesystem")).and_then(|f| f.get("write"));
    let Some(value) = value else { return Ok(Vec::new()) };
    let Some(entries) = value.as_array() else {
        bail!("{file}: {KEY}: must be a list of folders\n  fix: write write = [\"instance\"]");
    };
    let mut folders = Vec::new();
    for entry in entries {
        let Some(folder) = entry.as_str() else {
            bail!("{file}: {KEY}: {entry} is not a folder name\n  fix: write write = [\"instance\"]");
        };
        let trimmed = folder.trim_start_matches("./").trim_end_matches('/');
        let relative = safe_relative(trimmed, file, KEY)?;
        if trimmed.is_empty() || trimmed == "." || trimmed.starts_with('.') {
            bail!(
                "{file}: {KEY}: {folder:?} is the app's own folder or a hidden one; the app's sources are never writable\n  fix: name a folder inside the app directory, e.g. write = [\"instance\"]"
            );
        }
        folders.push(relative.to_path_buf());
    }
    Ok(folders)
}

/// Validate a Python framework section (`[python]` of a Fabrickfile, or the
/// same keys in a spin.toml, named there by `label`).
pub fn parse_python(section: &toml::Table, dir: &Path, file: &str, label: &str) -> Result<PythonApp> {
    let err =
        |key: &str, problem: String, fix: String| -> anyhow::Error { anyhow::anyhow!("{file}: {label} {key}: {problem}\n  fix: {fix}") };
    let frameworks = PythonFramework::ALL.map(|f| f.name()).join(", ");

    let framework = match section.get("framework") {
        None => return Err(err("framework", "is missing".into(), format!("add framework = \"flask\" (one of {frameworks})"))),
        Some(value) => {
            let name = value.as_str().unwrap_or_default();
            PythonFramework::parse(&name.to_ascii_lowercase())
                .ok_or_else(|| err("framework", format!("{value} is not a framework fabricks knows"), format!("use one of {frameworks}")))?
        }
    };

    let app = section
        .get("app")
        .ok_or_else(|| {
            err(
                "app",
                "is missing".into(),
                "add app = \"main:app\": the module and the app object in it, as for gunicorn or uvicorn".into(),
            )
        })?
        .as_str()
        .ok_or_else(|| err("app", "must be a string".into(), "write app = \"main:app\"".into()))?;
    let Some((module, attribute)) = app.split_once(':') else {
        return Err(err(
            "app",
            format!("{app:?} is not of the form module:attribute"),
            format!("write app = \"{app}:app\" (the module, a colon, and the app object's name)"),
        ));
    };
    let is_identifier =
        |s: &str| !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !module.split('.').all(is_identifier) {
        return Err(err(
            "app",
            format!("{module:?} in {app:?} is not a Python module name"),
            "name a module by its import path inside the app directory, e.g. \"main:app\" or \"mysite.wsgi:application\"".into(),
        ));
    }
    // `create_app(...)`: an app factory, called with literal arguments.
    let (attribute, factory_args) = match attribute.split_once('(') {
        Some((name, rest)) => match rest.strip_suffix(')') {
            Some(args) => (name.trim(), Some(args.trim().to_string())),
            None => {
                return Err(err(
                    "app",
                    format!("{attribute:?} in {app:?} opens a call it does not close"),
                    format!("write app = \"{module}:{name}()\" to call the app factory {name} (literal arguments may go inside)"),
                ));
            }
        },
        None => (attribute, None),
    };
    if !is_identifier(attribute) {
        return Err(err(
            "app",
            format!("{attribute:?} in {app:?} is not a Python name"),
            "name the app object after the colon, e.g. \"main:app\", or call an app factory, e.g. \"main:create_app()\"".into(),
        ));
    }
    let module_path = module.replace('.', "/");
    let candidates = [dir.join(format!("{module_path}.py")), dir.join(&module_path).join("__init__.py")];
    if !candidates.iter().any(|c| c.is_file()) {
        return Err(err(
            "app",
            format!("the module {module:?} was not found: there is no {} or {}", candidates[0].display(), candidates[1].display()),
            format!("create {module_path}.py in {} or correct the module name in app", dir.display()),
        ));
    }

    let requirements = match section.get("requirements") {
        None => None,
        Some(value) => {
            let relative = value
                .as_str()
                .ok_or_else(|| err("requirements", "must be a string".into(), "write requirements = \"requirements.txt\"".into()))?;
            let path = dir.join(safe_relative(relative, file, &format!("{label} requirements"))?);
            if !path.is_file() {
                return Err(err(
                    "requirements",
                    format!("{} does not exist", path.display()),
                    format!("create {relative} listing the app's packages, or remove the requirements key"),
                ));
            }
            Some(path)
        }
    };

    let warm_up = match section.get("warm_up") {
        None => Vec::new(),
        Some(value) => {
            let fix = || "list paths the app answers to GET, e.g. warm_up = [\"/\", \"/users/42?full=1\"]".to_string();
            let paths = value.as_array().ok_or_else(|| err("warm_up", "must be a list of paths".into(), fix()))?;
            let mut warm_up = Vec::with_capacity(paths.len());
            for path in paths {
                let Some(path) = path.as_str() else {
                    return Err(err("warm_up", format!("{path} is not a string"), fix()));
                };
                if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(err("warm_up", format!("{path:?} is not a path (it starts with / and holds no spaces)"), fix()));
                }
                warm_up.push(path.to_string());
            }
            warm_up
        }
    };

    Ok(PythonApp {
        framework,
        module: module.to_string(),
        attribute: attribute.to_string(),
        factory_args,
        requirements,
        warm_up,
        warm_up_key: format!("{label} warm_up"),
    })
}

/// Validate a Node.js framework section (`[nodejs]`, or the same keys in a
/// spin.toml, named there by `label`).
pub fn parse_nodejs(section: &toml::Table, dir: &Path, file: &str, label: &str) -> Result<NodeApp> {
    let err =
        |key: &str, problem: String, fix: String| -> anyhow::Error { anyhow::anyhow!("{file}: {label} {key}: {problem}\n  fix: {fix}") };
    let text = |key: &str| section.get(key).and_then(|v| v.as_str());
    let framework = match text("framework") {
        Some(name) if NODE_FRAMEWORKS.contains(&name) => name.to_string(),
        Some(name) => {
            return Err(err(
                "framework",
                format!("{name:?} is not a framework fabricks knows"),
                format!("use one of {}", NODE_FRAMEWORKS.join(", ")),
            ));
        }
        None => {
            return Err(err(
                "framework",
                "is missing".into(),
                format!("add framework = \"express\" (one of {})", NODE_FRAMEWORKS.join(", ")),
            ));
        }
    };
    let app = text("app").ok_or_else(|| err("app", "is missing".into(), "add app = \"app.js\", the file that creates the app".into()))?;
    let app_path = dir.join(safe_relative(app, file, &format!("{label} app"))?);
    if !app_path.is_file() {
        return Err(err("app", format!("{} does not exist", app_path.display()), format!("create {app} or correct the path")));
    }
    let handler = text("handler").unwrap_or("app").to_string();
    Ok(NodeApp { framework, app: app.to_string(), handler })
}

fn custom_build(section: Option<&toml::Table>, file: &str) -> Result<Option<CustomBuild>> {
    let Some(build) = section else { return Ok(None) };
    let text = |key: &str| build.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let (Some(command), Some(output)) = (text("command"), text("output")) else {
        return Ok(None);
    };
    safe_relative(&output, file, "[build] output")?;
    let watch = build
        .get("watch")
        .and_then(|w| w.as_array())
        .map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    Ok(Some(CustomBuild { command, output, workdir: text("workdir"), watch }))
}

/// A path inside the app directory: relative, without `..`.
pub fn safe_relative<'a>(path: &'a str, file: &str, key: &str) -> Result<&'a Path> {
    let p = Path::new(path);
    if p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        bail!(
            "{file}: {key}: {path:?} points outside the app directory\n  fix: use a path relative to the Fabrickfile's folder, without `..`"
        );
    }
    Ok(p)
}

fn check_known_keys(table: &toml::Table, section: &str, file: &str, warnings: &mut Vec<String>) {
    let Some((_, known)) = KNOWN_KEYS.iter().find(|(name, _)| *name == section) else {
        return;
    };
    for (key, value) in table {
        let full = if section.is_empty() { key.clone() } else { format!("{section}.{key}") };
        if !known.contains(&key.as_str()) {
            let shown = if section.is_empty() { format!("[{key}]") } else { format!("[{section}] {key}") };
            warnings.push(format!("{file}: {shown} is not a key fabricks knows; it is ignored"));
        } else if let Some(inner) = value.as_table() {
            check_known_keys(inner, &full, file, warnings);
        }
    }
}

/// A component id from a directory name: lowercase, dashes for the rest.
fn name_from_dir(dir: &Path) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let base = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut name = String::new();
    for c in base.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches('-').to_string();
    if name.is_empty() { "app".into() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in(dir: &Path, text: &str) -> Result<Fabrickfile> {
        Fabrickfile::parse(&dir.join(FILE_NAME), text)
    }

    #[test]
    fn unknown_keys_are_warned_about_by_name() {
        let dir = std::env::temp_dir();
        let f = parse_in(&dir, "[from]\nsource = \"wasm\"\n[wasm]\ncomponent = \"a.wasm\"\nbogus = 1\n[extra]\n").unwrap();
        assert_eq!(f.warnings.len(), 2, "{:?}", f.warnings);
        assert!(f.warnings.iter().any(|w| w.contains("[wasm] bogus")));
        assert!(f.warnings.iter().any(|w| w.contains("[extra]")));
    }

    #[test]
    fn paths_outside_the_app_are_refused() {
        let dir = std::env::temp_dir();
        let e = parse_in(&dir, "[from]\nsource = \"wasm\"\n[wasm]\ncomponent = \"../x.wasm\"\n").unwrap_err();
        assert!(e.to_string().contains("outside the app directory"), "{e}");
    }

    #[test]
    fn outbound_hosts_follow_spins_syntax() {
        assert_eq!(outbound_host("db:5432"), "tcp://db:5432");
        assert_eq!(outbound_host("api.example.com:443"), "https://api.example.com");
        assert_eq!(outbound_host("plain.example.com:80"), "http://plain.example.com");
        assert_eq!(outbound_host("any.example.com"), "*://any.example.com:*");
        assert_eq!(outbound_host("https://kept.example.com"), "https://kept.example.com");
    }

    #[test]
    fn writable_folders_are_folders_inside_the_app() {
        let dir = std::env::temp_dir();
        let with = |write: &str| {
            parse_in(
                &dir,
                &format!("[from]\nsource = \"wasm\"\n[wasm]\ncomponent = \"a.wasm\"\n[capabilities.filesystem]\nwrite = {write}\n"),
            )
        };
        let f = with(r#"["instance", "./uploads/", "var/cache"]"#).unwrap();
        assert_eq!(f.writable, [PathBuf::from("instance"), "uploads".into(), "var/cache".into()]);
        for (write, problem) in [
            (r#""instance""#, "must be a list of folders"),
            ("[1]", "is not a folder name"),
            (r#"["."]"#, "the app's own folder"),
            (r#"["./"]"#, "the app's own folder"),
            (r#"[".fabricks"]"#, "a hidden one"),
            (r#"["../data"]"#, "outside the app directory"),
            (r#"["/data"]"#, "outside the app directory"),
        ] {
            let e = with(write).unwrap_err().to_string();
            assert!(e.contains("[capabilities.filesystem] write") && e.contains(problem) && e.contains("fix:"), "{write}: {e}");
        }
    }

    #[test]
    fn sqlite_grants_name_the_default_database() {
        let dir = std::env::temp_dir();
        let with = |sqlite: &str| {
            parse_in(&dir, &format!("[from]\nsource = \"wasm\"\n[wasm]\ncomponent = \"a.wasm\"\n[capabilities]\nsqlite = {sqlite}\n"))
        };
        assert_eq!(with(r#"["default"]"#).unwrap().sqlite_databases, ["default"]);
        assert!(with("[]").unwrap().sqlite_databases.is_empty());
        for (sqlite, problem) in
            [(r#""default""#, "must be a list"), (r#"["analytics"]"#, "runtime config"), ("[1]", "not a database name")]
        {
            let e = with(sqlite).unwrap_err().to_string();
            assert!(e.contains("[capabilities] sqlite") && e.contains(problem) && e.contains("fix:"), "{sqlite}: {e}");
        }
    }

    #[test]
    fn warm_up_lists_paths() {
        let dir = std::env::temp_dir().join(format!("fabricks-warm-up-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.py"), "app = None\n").unwrap();
        let with = |warm_up: &str| {
            parse_in(&dir, &format!("[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"main:app\"\n{warm_up}")).map(
                |f| match f.source {
                    AppSource::Python(python) => python.warm_up,
                    _ => panic!("not a Python app"),
                },
            )
        };
        assert!(with("").unwrap().is_empty());
        assert_eq!(with(r#"warm_up = ["/", "/users/42?full=1"]"#).unwrap(), ["/", "/users/42?full=1"]);
        for (warm_up, problem) in [
            (r#""/""#, "must be a list of paths"),
            ("[1]", "is not a string"),
            (r#"["users"]"#, "is not a path"),
            (r#"["/a b"]"#, "is not a path"),
        ] {
            let e = with(&format!("warm_up = {warm_up}\n")).unwrap_err().to_string();
            assert!(e.contains("[python] warm_up") && e.contains(problem) && e.contains("fix:"), "{warm_up}: {e}");
        }
        // The build's errors about a listed request name the key where it is written.
        let settings: toml::Table = toml::from_str("framework = \"flask\"\napp = \"main:app\"\nwarm_up = [\"/\"]").unwrap();
        let python = parse_python(&settings, &dir, "spin.toml", "[trigger.fabricks.python]").unwrap();
        assert_eq!(python.warm_up_key, "[trigger.fabricks.python] warm_up");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn names_come_from_the_directory_when_info_has_none() {
        assert_eq!(name_from_dir(Path::new("/tmp/My_App 2")), "my-app-2");
    }
}
