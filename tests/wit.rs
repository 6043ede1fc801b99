//! The WIT that builds target (`adapters/wit/wasi/`, checked in so a build
//! needs no registry look-up) is the `wit/` folder of the `wasmtime-wasi-http`
//! crate the host is built with, file for file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where cargo unpacked the `wasmtime-wasi-http` the host links.
fn wasmtime_wasi_http_dir() -> PathBuf {
    let rustc = Command::new("rustc").arg("-vV").output().expect("running rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--filter-platform", &host, "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .expect("running cargo metadata");
    assert!(output.status.success(), "cargo metadata failed:\n{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "wasmtime-wasi-http")
        .expect("wasmtime-wasi-http is a dependency");
    Path::new(package["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf()
}

fn wit_files(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in [root.to_path_buf(), root.join("deps")] {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wit") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                files.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn checked_in_wit_equals_the_hosts_crate() {
    let crate_wit = wasmtime_wasi_http_dir().join("wit");
    let ours = wit_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("adapters/wit/wasi"));
    let theirs = wit_files(&crate_wit);
    let names = |files: &[(String, String)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs), "adapters/wit/wasi lists other files than {}", crate_wit.display());
    for ((name, ours), (_, theirs)) in ours.iter().zip(&theirs) {
        assert!(
            ours == theirs,
            "adapters/wit/wasi/{name} differs from {}: copy the crate's wit/ folder again",
            crate_wit.join(name).display()
        );
    }
}
