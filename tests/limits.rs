//! Limits and the sandbox, through the real binary: body and header sizes,
//! memory, concurrency, instances per component, malformed HTTP, and outbound HTTP only to allowed hosts.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;
use support::{Server, build_once, exchange, parse_response, repo_path, request};

fn probe(args: &[&str]) -> Server {
    build_once("tests/apps/flask-probe");
    Server::start(&repo_path("tests/apps/flask-probe"), args)
}

#[test]
fn bodies_over_the_limit_get_a_413_whether_declared_or_chunked() {
    let server = probe(&["--max-request-body-size", "1k"]);
    let big = vec![7u8; 2000];
    assert_eq!(request(server.addr, "PUT", "/echo", &[], &big).status, 413);
    let small = request(server.addr, "PUT", "/echo", &[], &[7u8; 500]);
    assert_eq!((small.status, small.body.len()), (200, 500));

    let mut chunked = b"PUT /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        chunked.extend_from_slice(b"200\r\n");
        chunked.extend_from_slice(&[7u8; 0x200]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let response = parse_response(&exchange(server.addr, &chunked), false);
    assert_eq!(response.status, 413, "{}", response.text());
    assert_eq!(server.get("/").text(), "probe");
}

#[test]
fn oversized_headers_get_a_431() {
    let server = probe(&["--max-header-size", "8k"]);
    let huge = "a".repeat(20_000);
    assert_eq!(request(server.addr, "GET", "/", &[("X-Huge", &huge)], b"").status, 431);
    assert_eq!(server.get("/").text(), "probe");
}

#[test]
fn a_guest_that_allocates_without_bound_costs_one_500() {
    let server = probe(&["--max-instance-memory", "64m"]);
    let hog = server.get("/hog");
    assert_eq!(hog.status, 500, "{}", hog.text());
    assert!(server.wait_for_log("MemoryError", Duration::from_secs(5)), "{}", server.stderr());
    assert_eq!(server.get("/").text(), "probe");
}

#[test]
fn beyond_the_concurrency_limit_requests_wait_then_get_a_503() {
    let server = probe(&["--workers", "1", "--max-concurrent-requests", "1", "--max-queue-wait", "0.5", "--request-timeout", "3"]);
    let addr = server.addr;
    let busy = std::thread::spawn(move || request(addr, "GET", "/loop", &[], b"").status);
    std::thread::sleep(Duration::from_millis(500));
    let refused = server.get("/");
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(busy.join().unwrap(), 504);
    assert_eq!(server.get("/").text(), "probe", "the slot is free again");
}

#[test]
fn beyond_max_instances_a_request_waits_for_an_instance() {
    let server = probe(&["--workers", "1", "--max-instances", "1", "--request-timeout", "2"]);
    let addr = server.addr;
    let busy = std::thread::spawn(move || request(addr, "GET", "/loop", &[], b"").status);
    std::thread::sleep(Duration::from_millis(300));
    // The only instance spins until its timeout; this request waits for it
    // to be dropped, then gets a new one.
    assert_eq!(server.get("/").text(), "probe");
    assert!(
        server.wait_for_log(r#"event="instance_expired" instance=0"#, Duration::from_millis(200)),
        "the request did not wait for the busy instance:\n{}",
        server.stderr()
    );
    assert_eq!(busy.join().unwrap(), 504);
}

#[test]
fn fresh_instances_run_side_by_side_by_default() {
    // A fresh instance per request keeps no state between requests, so one
    // worker runs one at a time per core, as Spin runs requests side by side.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = probe(&["--workers", "1", "--max-instance-reuse-count", "1", "--request-timeout", "2"]);
    let announced = format!("up to {cores} instances at once, a fresh one per request");
    assert!(server.wait_for_log(&announced, Duration::from_secs(5)), "{}", server.stderr());
    if cores < 2 {
        return;
    }
    let addr = server.addr;
    let busy = std::thread::spawn(move || request(addr, "GET", "/loop", &[], b"").status);
    std::thread::sleep(Duration::from_millis(300));
    // Served by a second instance while the first still spins.
    let started = std::time::Instant::now();
    assert_eq!(server.get("/").text(), "probe");
    assert!(started.elapsed() < Duration::from_secs(1), "the request waited {:?}:\n{}", started.elapsed(), server.stderr());
    assert!(!server.stderr().contains("instance_expired"), "the request waited for the busy instance:\n{}", server.stderr());
    assert_eq!(busy.join().unwrap(), 504);
}

#[test]
fn malformed_http_gets_a_400_and_the_server_stays_up() {
    let server = probe(&[]);
    let cases: &[&[u8]] = &[
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Bytes: \xff\xfe\x00\r\n\r\n",
        b"PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nbad\r\n0\r\n\r\n",
        b"PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789",
    ];
    // Each gets a 400 that says so, not a dropped connection.
    for raw in cases {
        let answer = exchange(server.addr, raw);
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 400 "), "{:?} -> {text:?}", String::from_utf8_lossy(raw));
    }
    // A body that stops short: the connection closes, nothing else happens.
    let mut truncated = std::net::TcpStream::connect(server.addr).unwrap();
    truncated.write_all(b"PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly this").unwrap();
    drop(truncated);
    assert_eq!(server.get("/").text(), "probe");
}

#[test]
fn a_guest_cannot_read_outside_its_mounted_files() {
    let server = probe(&[]);
    assert_eq!(server.get("/read?path=/static/message.txt").text(), "hello from a mounted file\n");
    for path in ["/static/../../../../etc/passwd", "/etc/passwd", "/static/../Fabrickfile", "../probe.py"] {
        let response = server.get(&format!("/read?path={path}"));
        assert_eq!(response.status, 403, "{path}: {}", response.text());
        assert!(response.text().starts_with("denied"), "{path}: {}", response.text());
    }
}

#[test]
fn a_guest_cannot_open_sockets() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = probe(&[]);
    let response = server.get(&format!("/socket?port={port}"));
    assert_eq!(response.status, 403, "{}", response.text());
    assert!(response.text().starts_with("denied"), "{}", response.text());
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_err(), "the guest reached the listener");
}

/// A one-shot HTTP server on 127.0.0.1 answering `pong`; returns its port.
fn pong_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\npong");
        }
    });
    port
}

#[test]
fn outbound_http_reaches_allowed_hosts_only() {
    let port = pong_server();
    let server = support::serve_built_allowing("tests/apps/outbound", "outbound", "outbound", &format!("http://127.0.0.1:{port}"), &[]);
    let allowed = server.get(&format!("/fetch?url=http://127.0.0.1:{port}/ping"));
    assert_eq!((allowed.status, allowed.text().as_str()), (200, "200 pong"));

    for denied in [format!("http://localhost:{port}/ping"), format!("http://127.0.0.1:{}/ping", port + 1), "https://example.com/".into()] {
        let response = server.get(&format!("/fetch?url={denied}"));
        assert_eq!(response.status, 502, "{denied}: {}", response.text());
        assert!(response.text().starts_with("refused"), "{denied}: {}", response.text());
    }
    assert!(server.wait_for_log(r#"event="outbound_refused""#, Duration::from_secs(2)), "{}", server.stderr());
}

/// An app of the built probe component, served as a ready `.wasm` with `extra` in its Fabrickfile.
fn probe_as_wasm(name: &str, extra: &str) -> std::path::PathBuf {
    build_once("tests/apps/flask-probe");
    let fabrickfile = format!("[from]\nsource = \"wasm\"\n[wasm]\ncomponent = \"app.wasm\"\n{extra}");
    let dir = support::scratch_app(name, &[("Fabrickfile", &fabrickfile)]);
    std::fs::copy(repo_path("tests/apps/flask-probe/.fabricks/flask-probe.wasm"), dir.join("app.wasm")).unwrap();
    dir
}

#[test]
fn a_fabrickfile_app_carries_its_own_limits_in_serve() {
    let dir = probe_as_wasm("serve-limits", "[serve]\nmax_request_body_size = \"1k\"\n");
    let server = Server::start(&dir, &["--workers", "1"]);
    assert_eq!(request(server.addr, "PUT", "/echo", &[], &[7u8; 2000]).status, 413);
    assert_eq!(request(server.addr, "PUT", "/echo", &[], &[7u8; 500]).status, 200);
}

#[test]
fn a_bad_serve_setting_is_named_with_its_file_and_fix() {
    let dir = probe_as_wasm("serve-bad", "[serve]\nrequest_timeout = \"soon\"\n");
    let output = support::run(&["up", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    let fabrickfile = dir.join("Fabrickfile");
    assert!(stderr.contains(&format!("{}: [serve] request_timeout", fabrickfile.display())), "{stderr}");
    assert!(stderr.contains("fix: give seconds"), "{stderr}");
}
