//! Embeds the WASI WIT of the `wasmtime-wasi-http` crate the host is built
//! with, so the components we build always target exactly what we serve.
//!
//! The crate is found through `cargo metadata` (it is a dependency of the
//! `fabricks-trigger` crate in this workspace); its `wit/` folder is listed into
//! `$OUT_DIR/wit_files.rs` as `include_str!`s.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace_manifest = manifest_dir.parent().unwrap().join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", workspace_manifest.display());
    println!("cargo:rerun-if-changed={}", manifest_dir.parent().unwrap().join("Cargo.lock").display());

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--manifest-path"])
        .arg(&workspace_manifest)
        .output()
        .expect("running `cargo metadata` to find the wasmtime-wasi-http WIT");
    if !output.status.success() {
        panic!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "wasmtime-wasi-http")
        .expect("wasmtime-wasi-http is not in the workspace's dependency graph");
    let version = package["version"].as_str().unwrap().to_string();
    let crate_dir = Path::new(package["manifest_path"].as_str().unwrap()).parent().unwrap().to_path_buf();
    let wit_dir = crate_dir.join("wit");

    let mut files = Vec::new();
    collect(&wit_dir, &wit_dir, &mut files);
    files.sort();
    let http_package = std::fs::read_to_string(wit_dir.join("deps/http.wit")).unwrap();
    let http_version = http_package
        .lines()
        .find_map(|l| l.trim().strip_prefix("package wasi:http@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .expect("deps/http.wit names its package version")
        .to_string();

    let mut code = String::new();
    code.push_str(&format!("/// The version of the `wasmtime-wasi-http` crate the WIT comes from.\npub const WASMTIME_WASI_HTTP_VERSION: &str = {version:?};\n"));
    code.push_str(&format!("/// The WASI HTTP version of that WIT (e.g. `0.2.12`).\npub const WASI_HTTP_VERSION: &str = {http_version:?};\n"));
    code.push_str("/// The WIT files, as (path relative to the `wit` folder, text).\npub const WIT_FILES: &[(&str, &str)] = &[\n");
    for relative in &files {
        let absolute = wit_dir.join(relative);
        println!("cargo:rerun-if-changed={}", absolute.display());
        code.push_str(&format!("    ({:?}, include_str!({:?})),\n", relative, absolute.display().to_string()));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("wit_files.rs");
    std::fs::write(out, code).unwrap();
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "wit") {
            files.push(path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}
