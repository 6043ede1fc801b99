//! Builds that cannot succeed say why, naming what is missing or what cannot
//! run in the guest.

mod support;

use std::path::PathBuf;
use std::process::Command;

fn app_dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fabricks-build-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

const FABRICKFILE: &str = "[from]\nsource = \"python\"\n[python]\nframework = \"wsgi\"\napp = \"main:app\"\nrequirements = \"requirements.txt\"\n";

#[test]
fn without_python3_on_path_the_build_says_what_to_install() {
    let dir = app_dir("no-python", &[("Fabrickfile", FABRICKFILE), ("main.py", "def app(environ, start_response):\n    return []\n"), ("requirements.txt", "")]);
    let empty_cache = dir.join("cache");
    let output = Command::new(support::binary())
        .args(["build", dir.to_str().unwrap()])
        .env("PATH", "/nonexistent")
        .env("FABRICKS_CACHE_DIR", &empty_cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("needs python3 on PATH"), "{stderr}");
    assert!(stderr.contains("fix: install Python"), "{stderr}");
}

#[test]
fn a_package_that_only_works_compiled_is_named() {
    let dir = app_dir(
        "compiled-only",
        &[
            ("Fabrickfile", FABRICKFILE),
            ("main.py", "import ujson\n\ndef app(environ, start_response):\n    start_response('200 OK', [])\n    return [ujson.dumps({}).encode()]\n"),
            ("requirements.txt", "ujson==6.1.0\n"),
        ],
    );
    let output = support::run(&["build", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("the package 'ujson' only works compiled"), "{stderr}");
    assert!(stderr.contains(&dir.join("Fabrickfile").display().to_string()), "{stderr}");
}
