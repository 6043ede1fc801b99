//! What the end-to-end tests share: the real `spin-fabricks` binary, started
//! on a free port, and a small HTTP/1.1 client over a real TCP socket (raw,
//! so tests can also send what a well-behaved client never would).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_spin-fabricks")
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A fresh throwaway directory holding `files` (name, text).
pub fn scratch_app(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fabricks-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

/// The component of the app at `app`, built as `id`, served (one worker)
/// from a fresh spin.toml that allows outbound HTTP to `allowed` and mounts
/// `mounts` (a folder of `.fabricks/build/<id>/`, the guest path), linked
/// into the manifest's folder, where its paths must stay.
pub fn serve_built_allowing(app: &'static str, id: &str, name: &str, allowed: &str, mounts: &[(&str, &str)]) -> Server {
    build_once(app);
    let built = repo_path(app).join(".fabricks");
    let files: Vec<String> = mounts
        .iter()
        .map(|(folder, guest)| format!("{{ source = \"{}\", destination = \"{guest}\" }}", folder.replace('/', "-")))
        .collect();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"{id}\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"{id}\"\n\
         [component.{id}]\nsource = \"app.wasm\"\nallowed_outbound_hosts = [\"{allowed}\"]\nfiles = [{}]\n",
        files.join(", ")
    );
    let dir = scratch_app(name, &[("spin.toml", &manifest)]);
    std::fs::copy(built.join(format!("{id}.wasm")), dir.join("app.wasm")).unwrap();
    for (folder, _) in mounts {
        std::os::unix::fs::symlink(built.join("build").join(id).join(folder), dir.join(folder.replace('/', "-"))).unwrap();
    }
    Server::start(&dir, &["--workers", "1"])
}

/// Run the binary to completion.
pub fn run(args: &[&str]) -> Output {
    Command::new(binary()).args(args).output().expect("running spin-fabricks")
}

/// Build an app directory once per test run (every test of this binary shares
/// it); returns the build's stderr.
pub fn build_once(app_dir: &'static str) -> &'static str {
    static BUILDS: OnceLock<Mutex<Vec<(&'static str, &'static str)>>> = OnceLock::new();
    let builds = BUILDS.get_or_init(Default::default);
    let mut builds = builds.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, log)) = builds.iter().find(|(dir, _)| *dir == app_dir) {
        return log;
    }
    let dir = repo_path(app_dir);
    let output = run(&["build", dir.to_str().unwrap()]);
    let log: &'static str = Box::leak(String::from_utf8_lossy(&output.stderr).into_owned().into_boxed_str());
    assert!(output.status.success(), "building {app_dir} failed:\n{log}");
    builds.push((app_dir, log));
    log
}

/// `spin-fabricks exec APP -q -- ARGS` on an app built once per run: its
/// exit status, stdout and stderr.
pub fn exec_app(app: &'static str, args: &[&str]) -> (i32, String, String) {
    exec_app_with(app, &[], args)
}

/// [`exec_app`] with options before the `--` (`-e KEY=VALUE`).
pub fn exec_app_with(app: &'static str, options: &[&str], args: &[&str]) -> (i32, String, String) {
    build_once(app);
    let dir = repo_path(app);
    let mut all = vec!["exec", dir.to_str().unwrap(), "-q"];
    all.extend_from_slice(options);
    all.push("--");
    all.extend_from_slice(args);
    let output = run(&all);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

/// A running `spin-fabricks up`, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Start `spin-fabricks up DIR --listen 127.0.0.1:0 ARGS...` and wait for its banner.
    pub fn start(app_dir: &Path, args: &[&str]) -> Server {
        let mut command = Command::new(binary());
        command.arg("up").arg(app_dir).args(["--listen", "127.0.0.1:0"]).args(args);
        Server::spawn(command)
    }

    /// Start any command that prints Spin's banner, and wait for it.
    pub fn spawn(mut command: Command) -> Server {
        let mut child =
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("starting spin-fabricks up");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdout = Arc::new(Mutex::new(Vec::<String>::new()));
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let sink = stdout.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(900);
        let addr = loop {
            let serving = stdout.lock().unwrap().iter().find_map(|l| l.strip_prefix("Serving http://").map(str::to_string));
            if let Some(url) = serving {
                break url.trim().parse::<SocketAddr>().expect("the Serving line names an address");
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("spin-fabricks up exited ({status}) before serving:\n{}", stderr.lock().unwrap());
            }
            assert!(Instant::now() < deadline, "spin-fabricks up did not serve in time:\n{}", stderr.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        };
        Server { child, addr, stdout, stderr, stderr_reader: Some(stderr_reader) }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's worker processes (its children), by process id.
    pub fn worker_pids(&self) -> Vec<u32> {
        let parent = self.child.id().to_string();
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // pid (comm) state ppid ...: the command may hold spaces, so split after ")".
            let Some((_, rest)) = stat.rsplit_once(')') else { continue };
            if rest.split_whitespace().nth(1) == Some(parent.as_str()) {
                pids.extend(entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()));
            }
        }
        pids
    }

    /// Resident memory of the server and its worker processes, in KiB (Linux).
    pub fn rss_kb(&self) -> u64 {
        let rss = |pid: u32| -> u64 {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        rss(self.child.id()) + self.worker_pids().into_iter().map(rss).sum::<u64>()
    }

    /// Every line the server printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Wait until stdout or stderr contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.stderr().contains(needle) || self.stdout().iter().any(|l| l.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn get(&self, path: &str) -> HttpResponse {
        request(self.addr, "GET", path, &[], b"")
    }

    /// SIGTERM, then wait for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(&mut self.child)
    }

    /// Wait (up to `timeout`, then kill it) for the server to exit by
    /// itself; its exit status and all it printed on stderr.
    pub fn wait_for_exit(mut self, timeout: Duration) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        (status, self.stderr())
    }

    /// SIGTERM, wait for the exit status, and return it with all the server
    /// printed on stderr (to its very end).
    pub fn stop_with_stderr(mut self) -> (std::process::ExitStatus, String) {
        let status = terminate(&mut self.child);
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        (status, self.stderr())
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    unsafe { libc_kill(child.id() as i32, 15) };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Send `signal` to process `pid`.
pub fn kill(pid: u32, signal: i32) {
    unsafe { libc_kill(pid as i32, signal) };
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            terminate(&mut self.child);
        }
    }
}

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One request on a fresh connection (`Connection: close`).
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    let response = exchange(addr, &raw_request(addr, method, path, headers, body));
    parse_response(&response, method == "HEAD")
}

/// The bytes of an HTTP/1.1 request to `addr` that closes its connection.
pub fn raw_request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// Send raw bytes, read until the server closes the connection.
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    try_exchange(addr, raw).expect("exchanging a request and a response with the server")
}

/// [`exchange`], with what went wrong on the connection as an error.
pub fn try_exchange(addr: SocketAddr, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.write_all(raw)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(response)
}

/// A GET on a fresh connection; an error if the connection failed or no
/// complete response came back.
pub fn try_get(addr: SocketAddr, path: &str) -> std::io::Result<HttpResponse> {
    let raw = try_exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())?;
    if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed before a response"));
    }
    Ok(parse_response(&raw, false))
}

pub fn parse_response(raw: &[u8], head_only: bool) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    let body = if head_only {
        assert!(rest.is_empty(), "a HEAD response carried a body: {:?}", String::from_utf8_lossy(rest));
        Vec::new()
    } else if chunked {
        decode_chunked(rest)
    } else {
        rest.to_vec()
    };
    HttpResponse { status, headers, body }
}

fn decode_chunked(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).expect("a hex chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
