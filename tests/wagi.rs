//! WAGI modules (WASI command modules run once per request as CGI programs)
//! through Spin's `wagi` executor, from a spin.toml and from WAGI's own
//! modules.toml: the CGI variables and arguments Spin gives them, the body
//! on stdin, `Status` and `Location`, and modules that fail costing one 500.
//! The modules are written here in WAT.

mod support;

use std::path::PathBuf;
use support::{HttpResponse, Server, request};

/// The WASI calls the modules use, and `$write` (bytes at ptr, len) to stdout.
const PRELUDE: &str = r#"
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 4)
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  ;; NUL-separated strings at $buf (as environ_get and args_get write them), one per line.
  (func $lines (param $buf i32) (param $size i32)
    (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $size)))
      (if (i32.eqz (i32.load8_u (i32.add (local.get $buf) (local.get $i))))
        (then (i32.store8 (i32.add (local.get $buf) (local.get $i)) (i32.const 10))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $write (local.get $buf) (local.get $size)))
"#;

/// A module that prints `output` (CGI headers, a blank line, a body).
fn printing(output: &str) -> String {
    let escaped: String = output.bytes().map(|b| format!("\\{b:02x}")).collect();
    format!(
        "(module {PRELUDE}\n  (data (i32.const 1024) \"{escaped}\")\n  (func (export \"_start\") (call $write (i32.const 1024) (i32.const {})))\n)",
        output.len()
    )
}

/// A module whose `_start` runs `body` after PRELUDE and the functions in
/// `functions`.
fn running(functions: &str, body: &str) -> String {
    format!("(module {PRELUDE}\n{functions}\n  (func (export \"_start\") {body}))")
}

/// Prints its environment, a line `--`, then its arguments, one per line.
fn env_dump() -> String {
    let head = "Content-Type: text/plain\n\n";
    format!(
        r#"(module {PRELUDE}
  (data (i32.const 64) "{head_escaped}")
  (data (i32.const 128) "--\0a")
  (func (export "_start")
    (call $write (i32.const 64) (i32.const {head_len}))
    (drop (call $environ_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $environ_get (i32.const 4096) (i32.const 65536)))
    (call $lines (i32.const 65536) (i32.load (i32.const 20)))
    (call $write (i32.const 128) (i32.const 3))
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $args_get (i32.const 4096) (i32.const 65536)))
    (call $lines (i32.const 65536) (i32.load (i32.const 20))))
)"#,
        head_escaped = head.replace('\n', "\\0a"),
        head_len = head.len()
    )
}

/// Echoes its stdin after a header.
fn echo() -> String {
    let head = "Content-Type: application/octet-stream\n\n";
    format!(
        r#"(module {PRELUDE}
  (data (i32.const 64) "{head_escaped}")
  (func (export "_start")
    (local $n i32)
    (call $write (i32.const 64) (i32.const {head_len}))
    (block $done (loop $more
      (i32.store (i32.const 32) (i32.const 8192))
      (i32.store (i32.const 36) (i32.const 8192))
      (drop (call $fd_read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40)))
      (local.set $n (i32.load (i32.const 40)))
      (br_if $done (i32.eqz (local.get $n)))
      (call $write (i32.const 8192) (local.get $n))
      (br $more))))
)"#,
        head_escaped = head.replace('\n', "\\0a"),
        head_len = head.len()
    )
}

/// The test app's modules: (file stem, WAT).
fn modules() -> Vec<(&'static str, String)> {
    vec![
        ("hello", printing("Content-Type: text/plain\n\nhello from wagi\n")),
        ("env", env_dump()),
        ("echo", echo()),
        ("missing", printing("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnothing here\n")),
        ("moved", printing("Location: /hello\n\n")),
        ("headless", printing("just a body, no headers")),
        ("trap", running("", "unreachable")),
        ("exit", running("", "(call $proc_exit (i32.const 3))")),
    ]
}

/// (route, module) of the test app.
const ROUTES: &[(&str, &str)] = &[
    ("/hello", "hello"),
    ("/env/...", "env"),
    ("/echo", "echo"),
    ("/missing", "missing"),
    ("/moved", "moved"),
    ("/headless", "headless"),
    ("/trap", "trap"),
    ("/exit", "exit"),
];

/// An app folder with the modules (as `.wasm` when `binary`, else `.wat`)
/// and a `data` folder the env module's component mounts.
fn app_folder(name: &str, binary: bool) -> PathBuf {
    let dir = support::scratch_app(name, &[]);
    for (stem, wat) in modules() {
        if binary {
            std::fs::write(dir.join(format!("{stem}.wasm")), wat::parse_str(&wat).unwrap()).unwrap();
        } else {
            std::fs::write(dir.join(format!("{stem}.wat")), wat).unwrap();
        }
    }
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/note.txt"), "a file").unwrap();
    dir
}

/// A spin.toml route to `{module}.wasm` through the wagi executor, and its
/// component.
fn wagi_route(route: &str, module: &str) -> String {
    format!(
        "[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{module}\"\nexecutor = {{ type = \"wagi\" }}\n\n[component.{module}]\nsource = \"{module}.wasm\"\n"
    )
}

fn spin_toml_app() -> PathBuf {
    let dir = app_folder("wagi-spin", true);
    let mut manifest = String::from("spin_manifest_version = 2\n\n[application]\nname = \"wagi-test\"\nversion = \"1.0.0\"\n\n");
    for (route, module) in ROUTES {
        manifest.push_str(&wagi_route(route, module));
        if *module == "env" {
            manifest.push_str("environment = { GREETING = \"hi\" }\nfiles = [{ source = \"data\", destination = \"/data\" }]\n");
        }
        manifest.push('\n');
    }
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    dir
}

fn modules_toml_app() -> PathBuf {
    let dir = app_folder("wagi-modules", false);
    let mut modules = String::new();
    for (route, module) in ROUTES {
        modules.push_str(&format!("[[module]]\nroute = \"{route}\"\nmodule = \"{module}.wat\"\n"));
        if *module == "env" {
            modules.push_str("environment = { GREETING = \"hi\" }\nvolumes = { \"/data\" = \"data\" }\n");
        }
        modules.push('\n');
    }
    std::fs::write(dir.join("modules.toml"), modules).unwrap();
    dir
}

/// The env module's output: variables, and arguments.
fn env_and_args(response: &HttpResponse) -> (Vec<(String, String)>, Vec<String>) {
    let text = response.text();
    let (env, args) = text.split_once("--\n").unwrap_or_else(|| panic!("{text}"));
    let env = env.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    (env, args.lines().map(str::to_string).collect())
}

/// What every WAGI app here must answer, however it was described.
fn serves_cgi(server: &Server) {
    let hello = server.get("/hello");
    assert_eq!((hello.status, hello.text().as_str()), (200, "hello from wagi\n"));
    assert_eq!(hello.header("content-type"), Some("text/plain"));

    // The CGI variables Spin's wagi executor sets for this very request.
    let port = server.addr.port();
    let response =
        request(server.addr, "GET", "/env/sub/pa%20th?x=1&y=2", &[("X-Custom", "yes"), ("Authorization", "Basic c2VjcmV0")], b"");
    assert_eq!(response.status, 200, "{}", response.text());
    let (env, args) = env_and_args(&response);
    let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let host = format!("127.0.0.1:{port}");
    let full_url = format!("http://{host}/env/sub/pa%20th?x=1&y=2");
    let port = port.to_string();
    for (name, expected) in [
        ("REQUEST_METHOD", "GET"),
        ("SCRIPT_NAME", "/env"),
        ("PATH_INFO", "/sub/pa%20th"),
        ("X_RAW_PATH_INFO", "/sub/pa%20th"),
        ("PATH_TRANSLATED", "/sub/pa th"),
        ("QUERY_STRING", "x=1&y=2"),
        ("X_MATCHED_ROUTE", "/env/..."),
        ("X_COMPONENT_ROUTE", "/env"),
        ("X_RAW_COMPONENT_ROUTE", "/env/..."),
        ("X_BASE_PATH", "/"),
        ("X_FULL_URL", full_url.as_str()),
        ("SERVER_NAME", "127.0.0.1"),
        ("SERVER_PORT", port.as_str()),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_SOFTWARE", "WAGI/1"),
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("CONTENT_LENGTH", "0"),
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REMOTE_HOST", "127.0.0.1"),
        ("AUTH_TYPE", ""),
        ("HTTP_X_CUSTOM", "yes"),
        ("HTTP_HOST", host.as_str()),
        ("GREETING", "hi"),
    ] {
        assert_eq!(var(name), Some(expected), "{name} in {env:?}");
    }
    assert!(var("X_CLIENT_ADDR").is_some_and(|addr| addr.starts_with("127.0.0.1:")), "{env:?}");
    assert_eq!(var("HTTP_AUTHORIZATION"), None, "credentials are not passed (RFC 3875 4.1.18)");
    // argv: the path, then the query's pairs.
    assert_eq!(args, ["/env/sub/pa%20th", "x=1", "y=2"]);

    // The body on stdin; CONTENT_TYPE and CONTENT_LENGTH describe it.
    let body: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let echoed = request(server.addr, "POST", "/echo", &[("Content-Type", "application/x-test")], &body);
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.body, body);
    let posted = request(server.addr, "POST", "/env/", &[("Content-Type", "application/x-test")], b"abc");
    let (env, _) = env_and_args(&posted);
    assert!(env.contains(&("CONTENT_LENGTH".into(), "3".into())) && env.contains(&("CONTENT_TYPE".into(), "application/x-test".into())));
    assert!(env.contains(&("REQUEST_METHOD".into(), "POST".into())));

    let missing = server.get("/missing");
    assert_eq!((missing.status, missing.text().as_str()), (404, "nothing here\n"));
    let moved = server.get("/moved");
    assert_eq!((moved.status, moved.header("location")), (302, Some("/hello")));

    // Modules that fail cost their request a 500, and the server goes on.
    for path in ["/headless", "/trap", "/exit"] {
        assert_eq!(server.get(path).status, 500, "{path}");
    }
    assert!(server.wait_for_log("trap: the module failed", std::time::Duration::from_secs(5)), "{}", server.stderr());
    assert!(server.wait_for_log("exit: the module exited with status 3", std::time::Duration::from_secs(5)), "{}", server.stderr());
    assert!(
        server.wait_for_log("headless: the module's output has no Content-Type", std::time::Duration::from_secs(5)),
        "{}",
        server.stderr()
    );
    assert_eq!(server.get("/hello").status, 200);
}

#[test]
fn a_spin_toml_with_the_wagi_executor_serves_cgi_modules() {
    let dir = spin_toml_app();
    let server = Server::start(&dir, &["--workers", "1"]);
    serves_cgi(&server);
}

#[test]
fn wagis_modules_toml_serves_the_same_and_converts_to_that_spin_toml() {
    let dir = modules_toml_app();
    let server = Server::start(&dir, &["--workers", "1"]);
    serves_cgi(&server);
    drop(server);

    let converted = support::run(&["convert", dir.to_str().unwrap()]);
    assert!(converted.status.success(), "{}", String::from_utf8_lossy(&converted.stderr));
    let manifest = std::fs::read_to_string(dir.join("spin.toml")).unwrap();
    assert!(manifest.contains("[[trigger.http]]\nroute = \"/env/...\"\ncomponent = \"env\"\nexecutor = { type = \"wagi\" }"), "{manifest}");
    assert!(manifest.contains("files = [{ source = \"data\", destination = \"/data\" }]"), "{manifest}");
    // The converted manifest serves the same answers.
    std::fs::remove_file(dir.join("modules.toml")).unwrap();
    let server = Server::start(&dir, &["--workers", "1"]);
    assert_eq!(server.get("/hello").text(), "hello from wagi\n");
}

#[test]
fn a_module_without_the_wagi_executor_or_a_component_of_another_world_is_refused_with_what_to_write() {
    let dir = support::scratch_app("wagi-plain-module", &[]);
    std::fs::write(dir.join("hello.wasm"), wat::parse_str(printing("Content-Type: text/plain\n\nhi\n")).unwrap()).unwrap();
    std::fs::write(
        dir.join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = \"plain\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = \"hello.wasm\"\n",
    )
    .unwrap();
    let output = support::run(&["up", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is a WebAssembly module, not a component") && stderr.contains("executor = { type = \"wagi\" }"), "{stderr}");

    // A component, but not of the wasi:http/proxy world.
    std::fs::write(dir.join("hello.wasm"), wat::parse_str("(component)").unwrap()).unwrap();
    let output = support::run(&["up", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not export wasi:http/incoming-handler: it is a component of another world"), "{stderr}");
}

#[test]
fn the_executors_argv_and_entrypoint_are_honoured() {
    let dir = support::scratch_app("wagi-argv", &[]);
    let module = env_dump().replace("(export \"_start\")", "(export \"serve\")");
    std::fs::write(dir.join("env.wasm"), wat::parse_str(module).unwrap()).unwrap();
    std::fs::write(
        dir.join("spin.toml"),
        "spin_manifest_version = 2\n[application]\nname = \"argv\"\n[[trigger.http]]\nroute = \"/run/...\"\ncomponent = \"env\"\n\
         executor = { type = \"wagi\", entrypoint = \"serve\", argv = \"tool --from ${SCRIPT_NAME} ${ARGS}\" }\n\
         [component.env]\nsource = \"env.wasm\"\n",
    )
    .unwrap();
    let server = Server::start(&dir, &["--workers", "1"]);
    let (_, args) = env_and_args(&server.get("/run/x?a=1&b=2"));
    assert_eq!(args, ["tool", "--from", "/run/x", "a=1", "b=2"]);
}

/// `levels` functions, each calling the one below it `fanout` times, over a
/// function that does nothing: fanout^levels calls, and no loop anywhere.
fn call_tree(levels: usize, fanout: usize) -> String {
    let mut functions = String::from("  (func $f0)\n");
    for level in 1..=levels {
        let calls = format!("(call $f{})", level - 1).repeat(fanout);
        functions.push_str(&format!("  (func $f{level} {calls})\n"));
    }
    running(&functions, &format!("(call $f{levels})"))
}

#[test]
fn modules_that_loop_or_call_without_end_are_stopped_at_the_request_timeout() {
    // Cranelift's epoch checks stop them: at each loop header (in `_start`
    // itself, and in a function that calls nothing), and at each function's
    // entry (a call tree with no loop: 16^9 calls).
    let dir = support::scratch_app("wagi-endless", &[]);
    let modules = [
        ("hello", printing("Content-Type: text/plain\n\nhello from wagi\n")),
        ("spin", running("", "(loop $again (br $again))")),
        ("spin-inside", running("  (func $spin (loop $again (br $again)))", "(call $spin)")),
        ("calls", call_tree(9, 16)),
    ];
    let mut manifest = String::from("spin_manifest_version = 2\n[application]\nname = \"endless\"\n");
    for (name, wat) in &modules {
        std::fs::write(dir.join(format!("{name}.wasm")), wat::parse_str(wat).unwrap()).unwrap();
        manifest.push_str(&wagi_route(&format!("/{name}"), name));
        manifest.push('\n');
    }
    std::fs::write(dir.join("spin.toml"), manifest).unwrap();
    let server = Server::start(&dir, &["--workers", "1", "--request-timeout", "1"]);
    for path in ["/spin", "/spin-inside", "/calls"] {
        let started = std::time::Instant::now();
        let response = server.get(path);
        let took = started.elapsed();
        assert_eq!(response.status, 504, "{path}: {}\n{}", response.text(), server.stderr());
        assert!(took < std::time::Duration::from_secs(10), "{path} was stopped after {took:?}");
    }
    assert_eq!(server.get("/hello").text(), "hello from wagi\n");
}
