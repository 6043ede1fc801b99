//! The Spin contracts, exercised as Spin exercises them (Spin itself cannot be
//! installed here): a spin.lock written as `spin up` writes it, the env vars
//! it sets, the trigger flags it passes, and the plugin tarballs laid out as
//! `spin plugins install` lays them out.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Server, build_once, repo_path};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fabricks-spin-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A working dir as `spin up` prepares it: the probe component's files copied
/// into `assets/probe/`, and `spin.lock` beside them. Returns (workdir, lock).
fn spin_up_workdir(name: &str) -> (PathBuf, PathBuf) {
    build_once("examples/flask");
    build_once("tests/apps/flask-probe");
    let workdir = scratch(name);
    let assets = workdir.join("assets").join("probe");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("message.txt"), "copied by spin up\n").unwrap();
    let flask = repo_path("examples/flask/.fabricks/flask.wasm");
    let probe = repo_path("tests/apps/flask-probe/.fabricks/flask-probe.wasm");
    let lock = serde_json::json!({
        "spin_lock_version": 0,
        "metadata": {
            "name": "hello",
            "version": "0.1.0",
            "origin": file_url(&workdir.join("spin.toml")),
            "trigger": { "type": "fabricks" },
            "triggers": {}
        },
        "triggers": [
            {
                "id": "hello-fabricks-trigger",
                "trigger_type": "fabricks",
                "trigger_config": { "component": "hello", "route": "/...", "python": { "framework": "flask", "app": "main:app" } }
            },
            {
                "id": "probe-fabricks-trigger",
                "trigger_type": "fabricks",
                "trigger_config": { "component": "probe", "route": "/probe/...", "request_timeout": 1, "python": { "framework": "flask", "app": "probe:app" } }
            },
            {
                "id": "other-http-trigger",
                "trigger_type": "http",
                "trigger_config": { "component": "other", "route": "/other/..." }
            }
        ],
        "components": [
            {
                "id": "hello",
                "source": { "content_type": "application/wasm", "source": file_url(&flask) },
                "env": {},
                "metadata": { "allowed_outbound_hosts": [] }
            },
            {
                "id": "probe",
                "source": { "content_type": "application/wasm", "source": file_url(&probe) },
                "env": { "A": "1", "GREETING": "from the lock" },
                "files": [ { "source": file_url(&assets), "path": "/static" } ],
                "metadata": { "allowed_outbound_hosts": [] }
            },
            {
                "id": "other",
                "source": { "content_type": "application/wasm", "source": "file:///nowhere/other.wasm" }
            }
        ]
    });
    let lock_path = workdir.join("spin.lock");
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    (workdir, lock_path)
}

/// The environment `spin up` gives a trigger plugin.
fn spin_env(command: &mut Command, workdir: &Path, lock: &Path) {
    command
        .env("SPIN_LOCKED_URL", file_url(lock))
        .env("SPIN_WORKING_DIR", workdir)
        .env("SPIN_LOCAL_APP_DIR", repo_path("examples/flask"))
        .env("SPIN_BIN_PATH", "/usr/local/bin/spin")
        .env("SPIN_VERSION", "3.6.0")
        .env("SPIN_VERSION_MAJOR", "3")
        .env("SPIN_VERSION_MINOR", "6")
        .env("SPIN_VERSION_PATCH", "0")
        .env("SPIN_VERSION_PRE", "")
        .env("SPIN_COMMIT_SHA", "0000000")
        .env("SPIN_COMMIT_DATE", "2026-01-01")
        .env("SPIN_BRANCH", "main")
        .env("SPIN_BUILD_DATE", "2026-01-01")
        .env("SPIN_TARGET_TRIPLE", "x86_64-unknown-linux-gnu")
        .env("SPIN_DEBUG", "false");
}

fn assert_serves_the_locked_app(server: &Server) {
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let stdout = server.stdout();
    assert_eq!(stdout[1], "Available Routes:");
    assert_eq!(stdout[2], format!("  hello: {base} (wildcard)"));
    assert_eq!(stdout[3], format!("  probe: {base}/probe (wildcard)"));
    assert!(!stdout.iter().any(|l| l.contains("other")), "an http trigger was served: {stdout:?}");

    assert_eq!(server.get("/").text(), "Hello World!");
    assert_eq!(server.get("/users/42").json(), serde_json::json!({"id": 42, "name": "Alice"}));
    assert_eq!(server.get("/probe/env").json(), serde_json::json!({"A": "1", "GREETING": "from the lock"}));
    assert_eq!(server.get("/probe/file/message.txt").text(), "copied by spin up\n");
    assert_eq!(server.get("/.well-known/spin/info").json(), serde_json::json!({"name": "hello", "version": "0.1.0"}));
    // The probe's own request_timeout (1 s, from its trigger config) applies.
    assert_eq!(server.get("/probe/loop").status, 504);
}

#[test]
fn started_like_spin_up_starts_a_trigger_it_serves_the_locked_app() {
    let (workdir, lock) = spin_up_workdir("lock");
    let mut command = Command::new(support::binary());
    command.args(["--listen", "127.0.0.1:0"]);
    spin_env(&mut command, &workdir, &lock);
    let server = Server::spawn(command);
    assert_serves_the_locked_app(&server);
    assert!(server.stop().success());
}

#[test]
fn help_args_only_prints_the_trigger_options_on_stdout() {
    let output = Command::new(support::binary()).args(["trigger", "--help-args-only"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--listen",
        "--find-free-port",
        "--log-dir",
        "--disable-cache",
        "--disable-pooling",
        "--max-instance-memory",
        "--variable",
        "--state-dir",
        "--follow",
        "--quiet",
    ] {
        assert!(stdout.contains(flag), "{flag} missing from:\n{stdout}");
    }
    assert!(!stdout.contains("--help-args-only"), "the hidden flags leaked:\n{stdout}");
}

#[test]
fn launch_metadata_only_lists_every_flag_as_json_on_stderr() {
    let output = Command::new(support::binary()).args(["trigger", "--launch-metadata-only"]).output().unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&output.stdout));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stderr).expect("JSON on stderr");
    let flags = metadata["all_flags"].as_array().unwrap();
    assert!(flags.contains(&serde_json::json!({"long": "--listen"})), "{metadata}");
    assert!(flags.contains(&serde_json::json!({"short": "-L", "long": "--log-dir"})), "{metadata}");
    assert!(flags.contains(&serde_json::json!({"short": "-q", "long": "--quiet"})), "{metadata}");
    assert!(!flags.iter().any(|f| f["long"] == "--launch-metadata-only"), "{metadata}");
}

#[test]
fn flags_that_do_not_apply_are_accepted_with_a_notice_and_tls_is_refused() {
    let (workdir, lock) = spin_up_workdir("flags");
    let mut command = Command::new(support::binary());
    command.args(["--listen", "127.0.0.1:0", "-L", "/tmp/logs", "--state-dir", "/tmp/state", "--variable", "k=v", "--follow", "hello"]);
    spin_env(&mut command, &workdir, &lock);
    let server = Server::spawn(command);
    assert_eq!(server.get("/").status, 200);
    let log = server.stderr();
    for flag in ["--variable", "--follow"] {
        assert!(log.contains(&format!("{flag} is accepted and ignored")), "no notice for {flag}:\n{log}");
    }
    // --state-dir is used: it moves the app's SQLite database.
    assert!(!log.contains("--state-dir is accepted and ignored"), "{log}");
    drop(server);

    let mut tls = Command::new(support::binary());
    tls.args(["--listen", "127.0.0.1:0", "--tls-cert", "c.pem", "--tls-key", "k.pem"]);
    spin_env(&mut tls, &workdir, &lock);
    let output = tls.output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("plain HTTP only"));
}

#[test]
fn without_spin_locked_url_the_trigger_says_how_it_is_started() {
    let output =
        Command::new(support::binary()).args(["trigger", "--listen", "127.0.0.1:0"]).env_remove("SPIN_LOCKED_URL").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("SPIN_LOCKED_URL is not set"));
}

#[test]
fn the_packaged_plugins_install_in_spins_layout_and_run_from_there() {
    let out = scratch("package");
    let output = support::run(&["plugin", "package", "--output", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // What `spin plugins install --file <manifest> --yes` does with each.
    let data_dir = scratch("spin-data");
    for name in ["fabricks", "trigger-fabricks"] {
        let manifest_path = out.join(format!("{name}.json"));
        let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
        assert_eq!(manifest["name"], name);
        for field in ["version", "spinCompatibility", "license", "description"] {
            assert!(manifest[field].as_str().is_some_and(|v| !v.is_empty()), "{name}: {field} missing");
        }
        let package = &manifest["packages"][0];
        assert_eq!(package["os"], "linux");
        assert_eq!(package["arch"], if cfg!(target_arch = "x86_64") { "amd64" } else { "aarch64" });
        let url = package["url"].as_str().unwrap();
        let tarball = PathBuf::from(url.strip_prefix("file://").expect("an absolute file:// URL"));
        assert!(tarball.is_absolute());
        let bytes = std::fs::read(&tarball).unwrap();
        let digest = sha256_hex(&bytes);
        assert_eq!(package["sha256"], digest, "the digest is not the tarball's");

        let plugin_dir = data_dir.join("plugins").join(name);
        std::fs::create_dir_all(&plugin_dir).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut entries = 0;
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            assert_eq!(entry.path().unwrap().to_str().unwrap(), name, "the executable must be at the root, named as the plugin");
            assert_eq!(entry.header().mode().unwrap() & 0o111, 0o111, "not executable");
            entry.unpack_in(&plugin_dir).unwrap();
            entries += 1;
        }
        assert_eq!(entries, 1);
        let manifests = data_dir.join("plugins").join("manifests");
        std::fs::create_dir_all(&manifests).unwrap();
        std::fs::copy(&manifest_path, manifests.join(format!("{name}.json"))).unwrap();
    }

    // `spin fabricks --help`, as Spin runs the plugin.
    let (workdir, lock) = spin_up_workdir("installed");
    let mut help = Command::new(data_dir.join("plugins/fabricks/fabricks"));
    help.arg("--help");
    spin_env(&mut help, &workdir, &lock);
    help.env_remove("SPIN_LOCKED_URL");
    let help = help.output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for command in ["up", "build", "convert"] {
        assert!(text.contains(command), "{command} missing from --help:\n{text}");
    }

    // `spin up` starting the trigger plugin from its installed place.
    let mut trigger = Command::new(data_dir.join("plugins/trigger-fabricks/trigger-fabricks"));
    trigger.args(["--listen", "127.0.0.1:0"]);
    spin_env(&mut trigger, &workdir, &lock);
    let server = Server::spawn(trigger);
    assert_serves_the_locked_app(&server);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// A working dir whose `spin.lock` has one component, tests/apps/flask-sqlite
/// as fabricks built it, granted `databases`, and a runtime config file
/// holding `runtime_config`. Returns (workdir, lock, runtime config).
fn sqlite_workdir(name: &str, databases: &[&str], runtime_config: &str) -> (PathBuf, PathBuf, PathBuf) {
    build_once("tests/apps/flask-sqlite");
    let built = repo_path("tests/apps/flask-sqlite/.fabricks");
    let workdir = scratch(name);
    let folder = |name: &str| file_url(&built.join("build/flask-sqlite").join(name));
    let lock = serde_json::json!({
        "spin_lock_version": 0,
        "metadata": { "name": "blog", "origin": file_url(&workdir.join("spin.toml")), "trigger": { "type": "fabricks" } },
        "triggers": [{ "id": "blog-trigger", "trigger_type": "fabricks", "trigger_config": { "component": "blog", "route": "/..." } }],
        "components": [{
            "id": "blog",
            "source": { "content_type": "application/wasm", "source": file_url(&built.join("flask-sqlite.wasm")) },
            "files": [ { "source": folder("app"), "path": "/0" }, { "source": folder("deps"), "path": "/1" }, { "source": folder("adapter"), "path": "/2" } ],
            "metadata": { "allowed_outbound_hosts": [], "databases": databases }
        }]
    });
    let lock_path = workdir.join("spin.lock");
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    let runtime_config = {
        let path = workdir.join("runtime-config.toml");
        std::fs::write(&path, runtime_config).unwrap();
        path
    };
    (workdir, lock_path, runtime_config)
}

#[test]
fn a_runtime_config_file_places_the_default_database_for_the_guest_and_for_sqlite_statements() {
    let config = "[sqlite_database.default]\ntype = \"spin\"\npath = \"data/blog.db\"\n\n[key_value_store.default]\ntype = \"spin\"\n";
    let (workdir, lock, runtime_config) = sqlite_workdir("runtime-config", &["default"], config);
    let mut command = Command::new(support::binary());
    command.args(["--listen", "127.0.0.1:0", "--workers", "1", "--sqlite", "CREATE TABLE placed(x)"]);
    command.arg("--runtime-config-file").arg(&runtime_config);
    spin_env(&mut command, &workdir, &lock);
    let server = Server::spawn(command);
    // The guest opens "default": a query there answers, from the placed file.
    assert_eq!(server.get("/count?to=3").text(), "3", "{}", server.stderr());
    drop(server);
    let placed = workdir.join("data/blog.db");
    assert!(placed.is_file(), "the database is where the runtime config file says");
    assert!(!workdir.join(".spin/sqlite_db.db").exists(), "nothing went to the state folder");
    let tables = Command::new("python3")
        .args(["-c", "import sqlite3, sys; print([r[0] for r in sqlite3.connect(sys.argv[1]).execute('SELECT name FROM sqlite_master')])"])
        .arg(&placed)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&tables.stdout).trim(), "['placed']", "--sqlite ran on the placed file");
}

#[test]
fn a_database_fabricks_cannot_place_stops_the_trigger_with_the_key_and_a_fix() {
    for (databases, config, expected) in [
        (
            &["default"][..],
            "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"https://db.turso.io\"\ntoken = \"t\"\n",
            "[sqlite_database.default]: type = \"libsql\"",
        ),
        (&["default", "audit"][..], "", "[component.blog] sqlite_databases: \"audit\" has no place"),
    ] {
        let (workdir, lock, runtime_config) = sqlite_workdir("runtime-config-refused", databases, config);
        let mut command = Command::new(support::binary());
        command.args(["--listen", "127.0.0.1:0"]).arg("--runtime-config-file").arg(&runtime_config);
        spin_env(&mut command, &workdir, &lock);
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(expected) && stderr.contains("fix:"), "{stderr}");
    }
}
