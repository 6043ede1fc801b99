//! Builds that cannot succeed say why, naming what is missing or what cannot
//! run in the guest; two builds of one app at once take turns.

mod support;

use std::process::Command;

/// `spin-fabricks build DIR` with an empty PATH and an empty cache: it must
/// fail; returns its stderr.
fn build_with_nothing_on_path(dir: &std::path::Path) -> String {
    let output = Command::new(support::binary())
        .args(["build", dir.to_str().unwrap()])
        .env("PATH", "/nonexistent")
        .env("FABRICKS_CACHE_DIR", dir.join("cache"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const FABRICKFILE: &str =
    "[from]\nsource = \"python\"\n[python]\nframework = \"wsgi\"\napp = \"main:app\"\nrequirements = \"requirements.txt\"\n";

#[test]
fn without_python3_on_path_the_build_says_what_to_install() {
    let dir = support::scratch_app(
        "no-python",
        &[("Fabrickfile", FABRICKFILE), ("main.py", "def app(environ, start_response):\n    return []\n"), ("requirements.txt", "")],
    );
    let stderr = build_with_nothing_on_path(&dir);
    assert!(stderr.contains("needs python3 on PATH"), "{stderr}");
    assert!(stderr.contains("fix: install Python"), "{stderr}");
}

#[test]
fn a_package_that_only_works_compiled_is_named() {
    let dir = support::scratch_app(
        "compiled-only",
        &[
            ("Fabrickfile", FABRICKFILE),
            (
                "main.py",
                "import ujson\n\ndef app(environ, start_response):\n    start_response('200 OK', [])\n    return [ujson.dumps({}).encode()]\n",
            ),
            ("requirements.txt", "ujson==6.1.0\n"),
        ],
    );
    let output = support::run(&["build", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("the package 'ujson' only works compiled"), "{stderr}");
    assert!(stderr.contains(&dir.join("Fabrickfile").display().to_string()), "{stderr}");
}

#[test]
fn pydantic_v2_is_refused_before_componentizing_with_the_pins_that_work() {
    // The newest pydantic 2 (its core has CPython 3.14 wheels, compiled), and
    // an older pin whose core has no such wheel at all: the same advice.
    for (name, requirement) in [("pydantic-v2-latest", "pydantic>=2\n"), ("pydantic-v2-pinned", "pydantic==2.11.7\n")] {
        let dir = support::scratch_app(
            name,
            &[
                ("Fabrickfile", FABRICKFILE),
                ("main.py", "import pydantic\n\ndef app(environ, start_response):\n    return []\n"),
                ("requirements.txt", requirement),
            ],
        );
        let output = support::run(&["build", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains("resolve to pydantic v2"), "{requirement}: {stderr}");
        assert!(stderr.contains("pydantic==1.10.27") && stderr.contains("fastapi==0.115.14"), "{stderr}");
        assert!(!stderr.contains("componentize-py: snapshotting"), "it should fail before componentizing:\n{stderr}");
    }
}

#[test]
fn without_node_on_path_a_node_build_says_what_to_install() {
    let dir = support::scratch_app(
        "no-node",
        &[
            ("Fabrickfile", "[from]\nsource = \"nodejs\"\n[nodejs]\nframework = \"hono\"\napp = \"app.js\"\n"),
            ("app.js", "export default { fetch: () => new Response('hi') };\n"),
        ],
    );
    let stderr = build_with_nothing_on_path(&dir);
    assert!(stderr.contains("needs node on PATH"), "{stderr}");
    assert!(stderr.contains("fix: install Node.js"), "{stderr}");
}

#[test]
fn a_build_sees_no_python_packages_of_the_machine_it_runs_on() {
    // A virtualenv the user has active, with a package the app imports but
    // does not declare: the guest must not find it.
    let dir = support::scratch_app(
        "host-packages",
        &[
            ("Fabrickfile", FABRICKFILE),
            ("main.py", "import leaky_module\n\ndef app(environ, start_response):\n    return []\n"),
            ("requirements.txt", ""),
        ],
    );
    let venv = dir.join("host-venv");
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 -m venv");
    assert!(made.success());
    let site_packages = std::fs::read_dir(venv.join("lib")).unwrap().next().unwrap().unwrap().path().join("site-packages");
    std::fs::write(site_packages.join("leaky_module.py"), "VALUE = 1\n").unwrap();
    let path = format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let output = Command::new(support::binary())
        .args(["build", dir.to_str().unwrap()])
        .env("PATH", path)
        .env("VIRTUAL_ENV", &venv)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the guest imported a package of the build machine:\n{stderr}");
    assert!(stderr.contains("needs the module 'leaky_module', which is not installed"), "{stderr}");
}

#[test]
fn a_package_written_in_rust_is_refused_by_name_before_componentizing() {
    // The app does not import it at start-up (passlib loads it lazily):
    // without the refusal it would be shipped without its compiled core.
    let dir = support::scratch_app(
        "rust-only",
        &[
            ("Fabrickfile", FABRICKFILE),
            ("main.py", "def app(environ, start_response):\n    import bcrypt\n    return []\n"),
            ("requirements.txt", "bcrypt==4.0.1\n"),
        ],
    );
    let output = support::run(&["build", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("the package \"bcrypt\" is written in Rust"), "{stderr}");
    assert!(stderr.contains("fix: remove bcrypt") && stderr.contains("hashlib.scrypt"), "{stderr}");
    assert!(!stderr.contains("componentize-py: snapshotting"), "it should fail before componentizing:\n{stderr}");
}

#[test]
fn a_warm_up_request_the_app_does_not_answer_stops_the_build_and_says_which() {
    let dir = support::scratch_app(
        "warm-up-404",
        &[
            ("Fabrickfile", &format!("{FABRICKFILE}warm_up = [\"/\", \"/missing?page=2\"]\n")),
            (
                "main.py",
                "def app(environ, start_response):\n    found = environ['PATH_INFO'] == '/'\n    \
                 start_response('200 OK' if found else '404 Not Found', [])\n    return [b'']\n",
            ),
            ("requirements.txt", ""),
        ],
    );
    let output = support::run(&["build", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains(&dir.join("Fabrickfile").display().to_string()), "{stderr}");
    assert!(
        stderr.contains("[python] warm_up '/missing?page=2': the app answered 404 at build time (a GET with Host: localhost). Fix: "),
        "{stderr}"
    );
    assert!(!stderr.contains("warm_up '/':"), "the app answered / {stderr}");
}

#[test]
fn two_builds_of_one_app_at_once_take_turns_and_the_second_finds_it_built() {
    let runs = std::env::temp_dir().join(format!("fabricks-test-{}-build-runs.log", std::process::id()));
    let _ = std::fs::remove_file(&runs);
    // The app's own build command: slow enough for the second build to
    // start while it runs; it notes each run outside the app's folder.
    support::build_once("tests/apps/flask-probe");
    let built = support::repo_path("tests/apps/flask-probe/.fabricks/flask-probe.wasm");
    let command = format!("echo run >> {}; sleep 2; cp {} app.wasm", runs.display(), built.display());
    let fabrickfile = format!("[from]\nsource = \"custom\"\n[build]\ncommand = \"{command}\"\noutput = \"app.wasm\"\n");
    let dir = support::scratch_app("build-twice", &[("Fabrickfile", &fabrickfile)]);
    let first = Command::new(support::binary()).args(["build", dir.to_str().unwrap()]).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let second = Command::new(support::binary()).args(["build", dir.to_str().unwrap()]).output().unwrap();
    let first = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(first.status.success() && second.status.success(), "{stderr}");
    assert!(stderr.contains("build-twice to finish (") && stderr.contains("fabricks: waiting for another build of "), "{stderr}");
    assert!(stderr.contains("is up to date"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\n", "the build command ran once");
    assert_eq!(std::fs::metadata(dir.join("app.wasm")).unwrap().len(), std::fs::metadata(&built).unwrap().len());
    // Its output is not an input: a third build finds it built too.
    let third = Command::new(support::binary()).args(["build", dir.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&third.stderr).contains("is up to date"), "{}", String::from_utf8_lossy(&third.stderr));
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\n");
    std::fs::remove_file(&runs).unwrap();
}
