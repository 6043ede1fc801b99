//! Python apps call other services with the clients they already use
//! (tests/apps/python-outbound: urllib.request, http.client, requests,
//! httpx; tests/apps/fastapi-patterns: httpx.AsyncClient), through wasi:http,
//! against a real local service (tests/outbound_upstream.py) the component is
//! allowed to call, and one it is not.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use support::{Server, repo_path};

const APP: &str = "tests/apps/python-outbound";

/// The local service, stopped when dropped.
struct Upstream {
    child: Child,
    port: u16,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn upstream() -> Upstream {
    let mut child = Command::new("python3")
        .arg(repo_path("tests/outbound_upstream.py"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the upstream service");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    Upstream { port: line.trim().parse().expect("the upstream's port"), child }
}

/// The Python app `app` (component `id`) allowed to call `allowed`.
fn serve_allowing(app: &'static str, id: &str, name: &str, allowed: &str) -> Server {
    support::serve_built_allowing(app, id, name, allowed, &[("app", "/0"), ("deps", "/1"), ("adapter", "/2")])
}

#[test]
fn urllib_http_client_requests_and_httpx_reach_an_allowed_service() {
    let upstream = upstream();
    let base = format!("http://127.0.0.1:{}", upstream.port);
    let server = serve_allowing(APP, "python-outbound", "outbound-clients", &base);

    let urllib = server.get(&format!("/urllib?url={base}/ping")).json();
    assert_eq!(urllib, serde_json::json!({"status": 200, "body": "pong", "url": format!("{base}/ping")}));
    let redirected = server.get(&format!("/urllib?url={base}/redirect")).json();
    assert_eq!(redirected["url"], format!("{base}/ping"), "urllib follows the redirect");
    assert_eq!(server.get(&format!("/urllib?url={base}/missing")).json(), serde_json::json!({"status": 404, "body": "no such thing"}));

    // Two requests on one connection, then a chunked upload.
    let http_client = server.get(&format!("/http-client?url={base}")).json();
    assert_eq!(
        http_client,
        serde_json::json!([[200, "OK", "text/plain", "pong"], [200, "OK", "text/plain", "pong"], [200, "chunked body"]])
    );

    let requests = server.get(&format!("/requests?url={base}"));
    assert_eq!(requests.status, 200, "{}", requests.text());
    let requests = requests.json();
    assert_eq!(requests["pong"], "pong");
    assert_eq!(requests["echoed"], serde_json::json!({"n": 1, "word": "café"}));
    assert_eq!(requests["echoed_type"], "application/json");
    assert_eq!(requests["redirected"], serde_json::json!([200, "pong", [302]]));
    assert_eq!(requests["upload"], true, "a multipart upload arrives whole");
    // 10 MiB streamed with iter_content, hashed as it arrives.
    let big: Vec<u8> = (0..10 * 1024 * 1024).map(|i: u32| (i * 7 % 251) as u8).collect();
    let digest = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&big));
    assert_eq!(requests["big"], serde_json::json!([big.len(), digest]));
    assert_eq!(requests["raised"], format!("404 Client Error: Not Found for url: {base}/missing"));

    let httpx = server.get(&format!("/httpx?url={base}")).json();
    assert_eq!(httpx, serde_json::json!({"pong": "pong", "echoed": {"via": "httpx"}, "redirected": [200, "pong"]}));

    // A Flask view passing another service's answer on.
    let proxied = server.get(&format!("/proxy/ping?url={base}"));
    assert_eq!((proxied.status, proxied.text().as_str()), (200, "pong"));
}

#[test]
fn a_host_not_allowed_and_a_timeout_are_the_libraries_own_errors() {
    let upstream = upstream();
    let base = format!("http://127.0.0.1:{}", upstream.port);
    let server = serve_allowing(APP, "python-outbound", "outbound-errors", &base);

    let other = format!("http://127.0.0.1:{}", upstream.port + 1);
    let refused = server.get(&format!("/urllib?url={other}/ping"));
    assert_eq!(refused.status, 502, "{}\n{}", refused.text(), server.stderr());
    let refused = refused.json();
    assert_eq!(refused["error"], "URLError");
    let reason = refused["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("the component may not call {other}")), "{reason}");
    assert!(reason.contains(&format!("allowed_outbound_hosts = [\"{other}\"]")), "says how to allow it: {reason}");

    let refused = server.get(&format!("/requests-error?url={other}/ping")).json();
    assert_eq!(refused["error"], "ConnectionError", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("allowed_outbound_hosts"), "{refused}");
    let refused = server.get(&format!("/httpx-error?url={other}/ping")).json();
    assert_eq!(refused["kind"], "ConnectError", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("allowed_outbound_hosts"), "{refused}");
    assert!(server.wait_for_log(r#"event="outbound_refused""#, std::time::Duration::from_secs(2)), "{}", server.stderr());

    let started = std::time::Instant::now();
    let slow = server.get(&format!("/requests-error?url={base}/slow&timeout=1"));
    assert_eq!(slow.status, 504, "{}\n{}", slow.text(), server.stderr());
    assert_eq!(slow.json()["kind"], "ReadTimeout", "{}", slow.text());
    assert!(started.elapsed() < std::time::Duration::from_millis(2900), "{:?}", started.elapsed());
    let slow = server.get(&format!("/httpx-error?url={base}/slow&timeout=1")).json();
    assert_eq!(slow["kind"], "ReadTimeout", "{slow}");
}

#[test]
fn a_name_that_does_not_resolve_is_a_name_error() {
    let server = serve_allowing(APP, "python-outbound", "outbound-dns", "http://no-such-host.invalid");
    let unknown = server.get("/urllib?url=http://no-such-host.invalid/ping");
    assert_eq!(unknown.status, 502, "{}", unknown.text());
    let unknown = unknown.json();
    assert_eq!(unknown["error"], "URLError", "{unknown}");
    assert!(unknown["reason"].as_str().unwrap().contains("Name or service not known"), "{unknown}");
}

#[test]
fn a_fastapi_endpoint_awaits_several_calls_at_once_with_httpx_async() {
    let upstream = upstream();
    let base = format!("http://127.0.0.1:{}", upstream.port);
    let server = serve_allowing("tests/apps/fastapi-patterns", "fastapi-patterns", "outbound-async", &base);

    let fan_out = server.get(&format!("/fan-out?url={base}"));
    assert_eq!(fan_out.status, 200, "{}", fan_out.text());
    let fan_out = fan_out.json();
    assert_eq!(fan_out["answers"], serde_json::json!(["waited 1000", "waited 1000", "waited 1000"]));
    // Three 1 s calls at once take about 1 s, not 3.
    let seconds = fan_out["seconds"].as_f64().unwrap();
    assert!((1.0..2.0).contains(&seconds), "{seconds} s");

    let proxied = server.get(&format!("/upstream/ping?url={base}"));
    assert_eq!((proxied.status, proxied.text().as_str()), (200, "pong"));
    let missing = server.get(&format!("/upstream/missing?url={base}"));
    assert_eq!((missing.status, missing.text().as_str()), (404, "no such thing"));
}
