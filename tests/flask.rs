//! End to end: the Flask example and the Flask probe app, built by the real
//! toolchain into real components, served by the real binary, spoken to over
//! real sockets.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{HttpResponse, Server, build_once, repo_path, request};

fn serve(app_dir: &'static str) -> Server {
    build_once(app_dir);
    Server::start(&repo_path(app_dir), &[])
}

fn post(server: &Server, path: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    request(server.addr, "POST", path, &[("Content-Type", content_type)], body)
}

#[test]
fn the_flask_example_answers_both_routes_and_prints_spins_banner() {
    let server = serve("examples/flask");
    let root = server.get("/");
    assert_eq!(root.status, 200);
    assert_eq!(root.text(), "Hello World!");
    let user = server.get("/users/42");
    assert_eq!(user.status, 200);
    assert_eq!(user.header("content-type"), Some("application/json"));
    assert_eq!(user.json(), serde_json::json!({"id": 42, "name": "Alice"}));
    assert_eq!(server.get("/nope").status, 404);

    let port = server.addr.port();
    let stdout = server.stdout();
    assert_eq!(stdout[0], format!("Serving http://127.0.0.1:{port}"));
    assert_eq!(stdout[1], "Available Routes:");
    assert_eq!(stdout[2], format!("  flask: http://127.0.0.1:{port} (wildcard)"));
}

#[test]
fn a_second_up_of_an_unchanged_app_skips_the_build_and_reuses_the_compiled_code() {
    build_once("examples/flask");
    let server = Server::start(&repo_path("examples/flask"), &[]);
    assert_eq!(server.get("/").status, 200);
    let log = server.stderr();
    assert!(log.contains("is up to date (no input changed"), "the build was not skipped:\n{log}");
    assert!(log.contains(r#"event="component_loaded" from="cache""#), "the compiled code was not reused:\n{log}");
    assert!(!log.contains("componentize-py:"), "componentize-py ran again:\n{log}");
}

#[test]
fn query_strings_keep_repeated_keys() {
    let server = serve("tests/apps/flask-probe");
    let response = server.get("/query?tag=a&tag=b&one=1&empty=");
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), serde_json::json!({"tag": ["a", "b"], "one": ["1"], "empty": [""]}));
}

#[test]
fn json_and_form_posts_reach_the_app() {
    let server = serve("tests/apps/flask-probe");
    let json = post(&server, "/json", "application/json", br#"{"name": "Zo\u00eb", "n": [1, 2]}"#);
    assert_eq!(json.status, 200);
    assert_eq!(json.json(), serde_json::json!({"received": {"name": "Zoë", "n": [1, 2]}, "type": "dict"}));

    let form = post(&server, "/form", "application/x-www-form-urlencoded", b"a=1&a=2&text=hello+world%21");
    assert_eq!(form.status, 200);
    assert_eq!(form.json(), serde_json::json!({"a": ["1", "2"], "text": ["hello world!"]}));

    let bad = post(&server, "/json", "application/json", b"{not json");
    assert_eq!(bad.status, 400, "{}", bad.text());
}

#[test]
fn one_mebibyte_bodies_travel_both_ways() {
    let server = serve("tests/apps/flask-probe");
    let body: Vec<u8> = (0..(1u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    let echoed = request(server.addr, "PUT", "/echo", &[("Content-Type", "application/octet-stream")], &body);
    assert_eq!(echoed.status, 200);
    assert_eq!(echoed.header("x-body-length"), Some("1048576"));
    assert_eq!(echoed.body.len(), body.len());
    assert!(echoed.body == body, "the echoed body differs");

    let big = server.get("/big");
    assert_eq!(big.status, 200);
    assert_eq!(big.body.len(), 1 << 20);
    let expected: Vec<u8> = (0..(1usize << 20)).map(|i| (i % 256) as u8).collect();
    assert!(big.body == expected, "the 1 MiB response differs");
}

#[test]
fn a_generator_response_is_streamed_chunked() {
    let server = serve("tests/apps/flask-probe");
    let response = server.get("/stream");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.text(), "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
}

#[test]
fn head_gets_the_headers_without_a_body() {
    let server = serve("tests/apps/flask-probe");
    let get = server.get("/");
    let head = request(server.addr, "HEAD", "/", &[], b"");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert_eq!(head.header("content-type"), get.header("content-type"));
    assert!(head.body.is_empty());
}

#[test]
fn several_set_cookie_headers_are_kept_and_cookies_read_back() {
    let server = serve("tests/apps/flask-probe");
    let response = server.get("/cookies");
    let cookies = response.all("set-cookie");
    assert_eq!(cookies.len(), 2, "{:?}", response.headers);
    assert!(cookies[0].starts_with("first=1"), "{cookies:?}");
    assert!(cookies[1].starts_with("second=2") && cookies[1].contains("HttpOnly"), "{cookies:?}");

    let read = request(server.addr, "GET", "/read-cookies", &[("Cookie", "first=1"), ("Cookie", "second=2")], b"");
    assert_eq!(read.json(), serde_json::json!({"first": "1", "second": "2"}));
}

#[test]
fn a_view_that_raises_costs_one_500_and_the_next_request_answers() {
    let server = serve("tests/apps/flask-probe");
    let failed = server.get("/boom");
    assert_eq!(failed.status, 500);
    assert!(
        server.wait_for_log("this view fails on purpose", Duration::from_secs(5)),
        "the traceback was not logged:\n{}",
        server.stderr()
    );
    let next = server.get("/");
    assert_eq!(next.status, 200);
    assert_eq!(next.text(), "probe");
}

#[test]
fn a_guest_that_traps_costs_one_500_and_the_server_keeps_going() {
    let server = serve("tests/apps/flask-probe");
    let trapped = server.get("/trap");
    assert_eq!(trapped.status, 500, "{}", trapped.text());
    assert!(server.wait_for_log("unreachable", Duration::from_secs(5)), "the trap was not logged:\n{}", server.stderr());
    for _ in 0..3 {
        assert_eq!(server.get("/").text(), "probe");
    }
}

#[test]
fn a_guest_that_loops_forever_gets_a_504_at_the_request_timeout() {
    build_once("tests/apps/flask-probe");
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--request-timeout", "1"]);
    let looped = server.get("/loop");
    assert_eq!(looped.status, 504, "{}", looped.text());
    // The spinning guest itself is stopped, not left burning a core.
    assert!(
        server.wait_for_log(r#"event="instance_expired""#, Duration::from_secs(5)),
        "the looping instance was not stopped:\n{}",
        server.stderr()
    );
    assert_eq!(server.get("/").text(), "probe");
}

#[test]
fn sigterm_with_a_guest_still_running_stops_it_and_exits_cleanly() {
    build_once("tests/apps/flask-probe");
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--request-timeout", "120"]);
    let addr = server.addr;
    let client = std::thread::spawn(move || support::exchange(addr, b"GET /loop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::thread::sleep(Duration::from_millis(500));
    let status = server.stop();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    // The client got an error answer or a closed connection, never a hang
    // (its read times out after 60 s) and never a success.
    let response = client.join().expect("the client thread");
    if !response.is_empty() {
        let status = support::parse_response(&response, false).status;
        assert!(status >= 500, "a looping guest answered {status}");
    }
}

#[test]
fn a_connection_accepted_just_before_sigterm_gets_its_response() {
    // `up --watch` stops one generation of the app this way at each edit,
    // with clients connecting all the while.
    build_once("tests/apps/flask-probe");
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--workers", "1"]);
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let stopped = std::thread::spawn(move || server.stop());
    // The server has begun stopping; the request arrives after that.
    std::thread::sleep(Duration::from_millis(200));
    use std::io::{Read, Write};
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    assert!(!response.is_empty(), "the connection was closed without an answer");
    let response = support::parse_response(&response, false);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"), "the server is stopping: the connection is not kept");
    assert_eq!(response.text(), "probe");
    let status = stopped.join().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn several_worker_processes_share_the_port_and_stop_together() {
    build_once("tests/apps/flask-probe");
    // One instance per process: distinct instances are distinct processes.
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--workers", "3", "--max-instances", "1"]);
    let workers = server.worker_pids();
    assert_eq!(workers.len(), 2, "three workers are this process and two more");
    // Each connection goes to whichever listening process the kernel picks;
    // all answer, and more than one process does (all 24 on one of three: p
    // = 3^-23). The other two listen once they have loaded the app, which
    // on a busy machine can take longer than a first round: until then
    // the first process takes every connection, so rounds go on until two
    // answer or a minute has passed.
    let addr = server.addr;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut instances = std::collections::HashSet::new();
    while instances.len() < 2 && Instant::now() < deadline {
        let clients: Vec<_> = (0..24).map(|_| std::thread::spawn(move || request(addr, "GET", "/instance", &[], b""))).collect();
        for client in clients {
            let response = client.join().unwrap();
            assert_eq!(response.status, 200);
            instances.insert(response.text());
        }
        if instances.len() < 2 {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    assert!(instances.len() >= 2, "every connection reached the same process for a minute: {instances:?}");
    let status = server.stop();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    for pid in workers {
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "worker {pid} outlived the server");
    }
}

#[test]
fn a_worker_killed_under_load_is_replaced_and_the_server_answers_throughout() {
    build_once("tests/apps/flask-probe");
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--workers", "3"]);
    let before = server.worker_pids();
    assert_eq!(before.len(), 2);
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    // Two clients request without pause, each on fresh connections.
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut answered, mut failed) = (0u32, 0u32);
                while !stop.load(Ordering::Relaxed) {
                    match support::try_get(addr, "/") {
                        Ok(response) if response.status == 200 => answered += 1,
                        _ => failed += 1,
                    }
                }
                (answered, failed)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let victim = before[0];
    support::kill(victim, 9);
    // A new worker takes the dead one's place.
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let now = server.worker_pids();
        if now.len() == 2 && !now.contains(&victim) {
            break now;
        }
        assert!(Instant::now() < deadline, "no worker replaced {victim}; workers now {now:?}:\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(after.contains(&before[1]), "the worker that was not killed was left alone");
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let (mut answered, mut failed) = (0, 0);
    for client in clients {
        let (a, f) = client.join().unwrap();
        answered += a;
        failed += f;
    }
    // Only connections the killed process had accepted, or had waiting in
    // its own queue, can fail; the others kept answering.
    eprintln!("around the kill: {answered} answered, {failed} failed");
    assert!(answered > 50, "the server answered {answered} requests in ~3 s");
    assert!(failed <= 16, "{failed} requests failed around the kill ({answered} answered)");
    // And after it, every connection is answered, by all three processes.
    for _ in 0..30 {
        assert_eq!(server.get("/").status, 200);
    }
    let (status, stderr) = server.stop_with_stderr();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let replaced = stderr.lines().find(|l| l.contains(r#"event="worker_replaced""#) && l.contains(&format!("pid={victim}")));
    let replaced = replaced.unwrap_or_else(|| panic!("no event for the dead worker {victim}:\n{stderr}"));
    assert!(replaced.contains("signal 9"), "the log says how the worker died: {replaced}");
}

#[test]
fn a_worker_that_cannot_start_stops_the_server_with_an_error() {
    // A component served from a file that goes away while the server runs:
    // a worker started after that cannot load it.
    build_once("tests/apps/flask-probe");
    let built = repo_path("tests/apps/flask-probe/.fabricks/flask-probe.wasm");
    let dir = support::scratch_app("vanishing", &[("Fabrickfile", "[from]\nsource = \"wasm\"\n[wasm]\ncomponent = \"app.wasm\"\n")]);
    std::fs::copy(&built, dir.join("app.wasm")).unwrap();
    let server = Server::start(&dir, &["--workers", "2"]);
    let worker = server.worker_pids();
    assert_eq!(worker.len(), 1);
    assert_eq!(server.get("/").text(), "probe");
    std::fs::remove_file(dir.join("app.wasm")).unwrap();
    support::kill(worker[0], 9);
    let (status, stderr) = server.wait_for_exit(Duration::from_secs(30));
    eprintln!("{stderr}");
    assert!(!status.success(), "the server went on without its worker:\n{stderr}");
    assert!(stderr.contains("app.wasm"), "the worker's own error names the missing file:\n{stderr}");
    assert!(stderr.contains("could not start"), "the server says a worker could not start:\n{stderr}");
}

#[test]
fn codecs_looked_up_at_run_time_were_loaded_at_build_time() {
    let server = serve("tests/apps/flask-probe");
    let response = server.get("/idna");
    assert_eq!((response.status, response.text().as_str()), (200, "xn--bcher-kva.example"));
}

#[test]
fn response_headers_wasi_forbids_are_dropped_and_the_rest_kept() {
    let server = serve("tests/apps/flask-probe");
    let response = server.get("/forbidden-headers");
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.text(), "kept");
    assert_eq!(response.header("x-kept"), Some("yes"));
    assert_eq!(response.header("keep-alive"), None);
}

#[test]
fn redirects_point_where_the_app_says() {
    let server = serve("tests/apps/flask-probe");
    let response = server.get("/go");
    assert_eq!(response.status, 302);
    assert_eq!(response.header("location"), Some("/query?from=go"));
}

#[test]
fn the_guest_sees_spins_headers_and_a_pep_3333_environ() {
    let server = serve("tests/apps/flask-probe");
    let port = server.addr.port();
    let response = request(server.addr, "GET", "/environ/a%20b/c?x=1&x=2", &[("X-Repeated", "one"), ("X-Repeated", "two")], b"");
    assert_eq!(response.status, 200, "{}", response.text());
    let env = response.json();
    assert_eq!(env["REQUEST_METHOD"], "GET");
    assert_eq!(env["SCRIPT_NAME"], "");
    assert_eq!(env["PATH_INFO"], "/environ/a b/c");
    assert_eq!(env["rest"], "a b/c");
    assert_eq!(env["QUERY_STRING"], "x=1&x=2");
    assert_eq!(env["SERVER_NAME"], "127.0.0.1");
    assert_eq!(env["SERVER_PORT"], port.to_string());
    assert_eq!(env["SERVER_PROTOCOL"], "HTTP/1.1");
    assert_eq!(env["REMOTE_ADDR"], "127.0.0.1");
    assert_eq!(env["HTTP_X_REPEATED"], "one, two");
    assert_eq!(env["wsgi.url_scheme"], "http");
    assert_eq!(env["connection"], serde_json::Value::Null, "the Connection header reached the guest");

    // Spin's headers are kept out of the app's headers, and handed over
    // beside them.
    assert_eq!(env["spin_among_headers"], serde_json::json!([]), "the spin-* headers reached the app's headers");
    let spin = &env["spin"];
    let url = format!("http://127.0.0.1:{port}/environ/a%20b/c?x=1&x=2");
    assert_eq!(spin["spin-full-url"], url);
    assert_eq!(spin["spin-path-info"], "/environ/a%20b/c");
    assert_eq!(spin["spin-matched-route"], "/...");
    assert_eq!(spin["spin-raw-component-route"], "/...");
    assert_eq!(spin["spin-component-route"], "");
    assert_eq!(spin["spin-base-path"], "/");
    let client = spin["spin-client-addr"].as_str().unwrap();
    assert!(client.starts_with("127.0.0.1:"), "{client}");
}

#[test]
fn a_bare_wsgi_app_gets_write_close_and_its_mount_point() {
    let server = serve("tests/apps/flask-probe");
    let response = server.get("/raw/some/where");
    assert_eq!(response.status, 201);
    assert_eq!(response.text(), "written; iterated");
    assert_eq!(response.header("x-script-name"), Some("/raw"));
    assert_eq!(response.header("x-path-info"), Some("/some/where"));
    assert!(server.wait_for_log("raw_wsgi: close() called", Duration::from_secs(5)), "close() was not called:\n{}", server.stderr());

    let recovered = server.get("/raw/error-after-start");
    assert_eq!(recovered.status, 500);
    assert_eq!(recovered.text(), "recovered with exc_info");
}

#[test]
fn mounted_files_are_readable_but_not_writable_and_env_is_only_what_was_declared() {
    let server = serve("tests/apps/flask-probe");
    assert_eq!(server.get("/file/message.txt").text(), "hello from a mounted file\n");
    let write = server.get("/write-file");
    assert_eq!((write.status, write.text().as_str()), (403, "refused: PermissionError"));
    assert_eq!(server.get("/env").json(), serde_json::json!({"GREETING": "hello from the Fabrickfile"}));
}

#[test]
fn a_file_larger_than_one_read_reads_back_whole_from_any_offset() {
    let server = serve("tests/apps/flask-probe");
    // click's core.py (~150 KB), where the build put the app's packages,
    // which the guest reads at run time.
    let source = std::fs::read("tests/apps/flask-probe/.fabricks/build/flask-probe/deps/click/core.py").unwrap();
    assert!(source.len() > 2 * 64 * 1024, "the file must take several reads");
    for (offset, size) in [(0, -1), (0, 10_000), (70_001, 4_096), (source.len() - 5, 100), (source.len(), 100)] {
        let read = server.get(&format!("/module-file/click.core?offset={offset}&size={size}"));
        assert_eq!(read.status, 200, "offset {offset}, size {size}: {}", read.text());
        assert!(read.body == source[offset..], "offset {offset}, size {size}: {} bytes differ from the file's", read.body.len());
    }
}

#[test]
fn spins_health_and_info_endpoints_answer() {
    let server = serve("tests/apps/flask-probe");
    let health = server.get("/.well-known/spin/health");
    assert_eq!((health.status, health.text().as_str()), (200, "OK"));
    let info = server.get("/.well-known/spin/info");
    assert_eq!(info.json(), serde_json::json!({"name": "flask-probe", "version": "1.2.3"}));
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let server = serve("tests/apps/flask-probe");
    assert_eq!(server.get("/").status, 200);
    let status = server.stop();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn with_the_defaults_module_state_is_one_state_as_under_flask_run() {
    // One process, one instance, kept: 40 requests from 8 clients at once
    // all count on the same counter, as under `flask run` or gunicorn -w 1.
    let server = serve("tests/apps/flask-probe");
    let addr = server.addr;
    let clients: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || (0..5).map(|_| request(addr, "GET", "/counter", &[], b"").text()).collect::<Vec<_>>()))
        .collect();
    let mut counts: Vec<u32> = clients.into_iter().flat_map(|c| c.join().unwrap()).map(|t| t.parse().unwrap()).collect();
    counts.sort();
    assert_eq!(counts, (1..=40).collect::<Vec<_>>(), "the requests did not all reach one instance");
}

#[test]
fn framework_apps_reuse_warm_instances_and_each_request_starts_clean() {
    build_once("tests/apps/flask-probe");
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &[]);
    // stderr is read on its own thread: the banner on stdout may come first.
    assert!(server.wait_for_log(r#"event="component_ready" reuse_count=unlimited"#, Duration::from_secs(5)), "{}", server.stderr());
    let counts: Vec<String> = (0..3).map(|_| server.get("/counter").text()).collect();
    assert_eq!(counts, ["1", "2", "3"], "the same instance served the requests in turn");
    // Per-request state does not leak from one request into the next.
    let with = request(server.addr, "GET", "/read-cookies", &[("Cookie", "secret=1")], b"");
    assert_eq!(with.json(), serde_json::json!({"secret": "1"}));
    assert_eq!(server.get("/read-cookies").json(), serde_json::json!({}));
}

#[test]
fn max_instance_reuse_count_1_gives_a_fresh_instance_per_request() {
    build_once("tests/apps/flask-probe");
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--max-instance-reuse-count", "1"]);
    // stderr is read on its own thread: the banner on stdout may come first.
    assert!(server.wait_for_log("event=\"component_ready\" reuse_count=1\n", Duration::from_secs(5)), "{}", server.stderr());
    // Each instance's slot is reused: its memory is put back to the
    // snapshot (copied back or unmapped, engine.rs) before the next one.
    for _ in 0..10 {
        assert_eq!(server.get("/counter").text(), "1");
    }
    // Writes all over the heap (every module object) and past its end: the
    // pooling allocator copies each written page back from the snapshot or
    // unmaps it (the vendored wasmtime's pagemap scan, which also covers
    // pages past the first scan's end).
    for _ in 0..5 {
        let marks = server.get("/mark-everything").json();
        assert_eq!(marks["marked_before"], 0, "{marks}");
        assert_eq!(marks["grown_before"], 0, "{marks}");
        assert!(marks["modules"].as_u64().unwrap() > 100, "{marks}");
    }
    // A reused instance does see what its earlier request did.
    let reused = Server::start(&repo_path("tests/apps/flask-probe"), &["--workers", "1"]);
    reused.get("/mark-everything");
    let marks = reused.get("/mark-everything").json();
    assert!(marks["marked_before"].as_u64().unwrap() > 100, "{marks}");
    assert_eq!(marks["grown_before"], 1, "{marks}");
}

#[test]
fn the_same_app_named_by_a_relative_path_is_not_built_again() {
    // The tests name apps by absolute path; the README by a relative one.
    build_once("examples/flask");
    let output = std::process::Command::new(support::binary())
        .args(["build", "examples/flask"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("is up to date"), "rebuilt:\n{stderr}");
}

#[test]
fn log_dir_gets_each_components_output_as_spin_writes_it() {
    build_once("tests/apps/flask-probe");
    let dir = std::env::temp_dir().join(format!("fabricks-log-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--log-dir", dir.to_str().unwrap()]);
    assert_eq!(server.get("/raw/x").status, 201);
    // Still on the server's own output, prefixed...
    assert!(server.wait_for_log("raw_wsgi: close() called", Duration::from_secs(5)), "{}", server.stderr());
    // ...and in the component's file, as the guest wrote it.
    let file = dir.join("flask-probe_stdout.txt");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(text.lines().any(|l| l == "raw_wsgi: close() called"), "{}: {text:?}", file.display());
    assert!(dir.join("flask-probe_stderr.txt").is_file());
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn each_request_gets_a_line_in_the_log_unless_turned_off() {
    build_once("tests/apps/flask-probe");
    let server = Server::start(&repo_path("tests/apps/flask-probe"), &["--workers", "1"]);
    assert_eq!(server.get("/raw/x?y=1").status, 201);
    assert_eq!(server.get("/no-such-page").status, 404);
    assert!(server.wait_for_log("flask-probe: GET /raw/x?y=1 201 ", Duration::from_secs(5)), "{}", server.stderr());
    assert!(server.wait_for_log("flask-probe: GET /no-such-page 404 ", Duration::from_secs(5)), "{}", server.stderr());
    let line = server.stderr().lines().find(|l| l.contains("GET /raw/x?y=1")).unwrap().to_string();
    assert!(line.contains(r#"event="request""#) && line.contains(" ms (instance 0, fresh)"), "{line}");
    // One worker, one instance: the next request reuses it.
    let line = server.stderr().lines().find(|l| l.contains("GET /no-such-page")).unwrap().to_string();
    assert!(line.contains(" ms (instance 0, reused)"), "{line}");
    drop(server);

    let quiet = Server::start(&repo_path("tests/apps/flask-probe"), &["--workers", "1", "--no-request-log"]);
    assert_eq!(quiet.get("/raw/x").status, 201);
    assert!(!quiet.wait_for_log(r#"event="request""#, Duration::from_millis(500)), "{}", quiet.stderr());
}
