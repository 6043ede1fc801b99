//! Bad Fabrickfiles: the binary refuses them with an error that names the
//! file, the key and the fix, and never panics.

mod support;

use std::path::Path;

/// `spin-fabricks build DIR` must fail; returns its stderr.
fn build_fails(dir: &Path) -> String {
    let output = support::run(&["build", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "the build succeeded:\n{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "it panicked:\n{stderr}");
    stderr
}

fn assert_names(stderr: &str, dir: &Path, key: &str, fix: &str) {
    let file = dir.join("Fabrickfile");
    assert!(stderr.contains(&file.display().to_string()), "the file is not named:\n{stderr}");
    assert!(stderr.contains(key), "the key {key:?} is not named:\n{stderr}");
    assert!(stderr.contains("fix:") && stderr.contains(fix), "no fix ({fix:?}):\n{stderr}");
}

const MAIN: (&str, &str) = ("main.py", "app = None\n");

#[test]
fn an_unknown_framework_is_named_with_the_known_ones() {
    let dir = support::scratch_app(
        "framework",
        &[MAIN, ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"flaks\"\napp = \"main:app\"\n")],
    );
    let stderr = build_fails(&dir);
    assert_names(&stderr, &dir, "[python] framework", "flask, django, bottle, wsgi, fastapi, starlette, quart, asgi");
    assert!(stderr.contains("\"flaks\""), "{stderr}");
}

#[test]
fn a_missing_app_is_reported() {
    let dir =
        support::scratch_app("missing-app", &[MAIN, ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\n")]);
    let stderr = build_fails(&dir);
    assert_names(&stderr, &dir, "[python] app", "app = \"main:app\"");
}

#[test]
fn an_app_without_a_colon_is_reported() {
    let dir = support::scratch_app(
        "no-colon",
        &[MAIN, ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"main\"\n")],
    );
    let stderr = build_fails(&dir);
    assert_names(&stderr, &dir, "[python] app", "app = \"main:app\"");
    assert!(stderr.contains("module:attribute"), "{stderr}");
}

#[test]
fn a_module_file_that_does_not_exist_is_reported() {
    let dir = support::scratch_app(
        "no-module",
        &[MAIN, ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"server:app\"\n")],
    );
    let stderr = build_fails(&dir);
    assert_names(&stderr, &dir, "[python] app", "create server.py");
    assert!(stderr.contains("server.py"), "{stderr}");
}

#[test]
fn a_path_escaping_the_app_directory_is_refused() {
    let dir = support::scratch_app(
        "traversal",
        &[MAIN, ("Fabrickfile", "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"..x:app\"\n")],
    );
    let stderr = build_fails(&dir);
    assert_names(&stderr, &dir, "[python] app", "import path");
}

#[test]
fn files_escaping_the_app_directory_are_refused() {
    let dir = support::scratch_app(
        "files-traversal",
        &[
            MAIN,
            (
                "Fabrickfile",
                "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"main:app\"\n[files]\n\"../../etc\" = \"/etc\"\n",
            ),
        ],
    );
    let output = support::run(&["convert", dir.to_str().unwrap(), "-o", dir.join("out.toml").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("[files]") && stderr.contains("outside the app directory") && stderr.contains("fix:"), "{stderr}");
}

#[test]
fn a_missing_requirements_file_is_reported() {
    let dir = support::scratch_app(
        "no-reqs",
        &[
            MAIN,
            (
                "Fabrickfile",
                "[from]\nsource = \"python\"\n[python]\nframework = \"flask\"\napp = \"main:app\"\nrequirements = \"reqs.txt\"\n",
            ),
        ],
    );
    let stderr = build_fails(&dir);
    assert_names(&stderr, &dir, "[python] requirements", "create reqs.txt");
}

#[test]
fn invalid_toml_and_a_missing_source_are_reported() {
    let dir = support::scratch_app("bad-toml", &[("Fabrickfile", "[from\nsource = python\n")]);
    let stderr = build_fails(&dir);
    assert!(stderr.contains("is not valid TOML") && stderr.contains("fix:"), "{stderr}");

    let dir = support::scratch_app("no-source", &[("Fabrickfile", "[python]\nframework = \"flask\"\n")]);
    let stderr = build_fails(&dir);
    assert_names(&stderr, &dir, "[from] source", "source = \"python\"");
}

#[test]
fn a_directory_without_a_fabrickfile_is_reported() {
    let dir = support::scratch_app("empty", &[]);
    let stderr = build_fails(&dir);
    assert!(stderr.contains("Fabrickfile") && stderr.contains("fix:"), "{stderr}");
}
