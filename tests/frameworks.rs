//! Every framework, end to end (Python, and Node.js through the fetch bridge): each example app in `examples/` is
//! built by the real toolchain and served over a real socket. All of them
//! implement the same small contract of routes (hello, path and query
//! parameters, JSON, forms, 404, a raising view, streaming, redirects,
//! cookies); the framework-specific features get their own tests.

mod support;

use std::time::Duration;
use support::{Server, build_once, repo_path, request};

fn serve(example: &'static str) -> Server {
    build_once(example);
    Server::start(&repo_path(example), &[])
}

/// The routes every example implements, checked the same way for each.
fn check_the_contract(example: &'static str, hello: &str) {
    let server = serve(example);
    let addr = server.addr;

    let root = server.get("/");
    assert_eq!((root.status, root.text().as_str()), (200, hello), "{example}: /");

    let user = server.get("/users/42?tag=a&tag=b&verbose=1");
    assert_eq!(user.status, 200, "{example}: {}", user.text());
    assert_eq!(user.json(), serde_json::json!({"id": 42, "tags": ["a", "b"], "verbose": "1"}), "{example}");

    let echo = request(addr, "POST", "/echo", &[("Content-Type", "application/json")], br#"{"n": [1, 2], "s": "Zo\u00eb"}"#);
    assert_eq!(echo.status, 200, "{example}: {}", echo.text());
    assert_eq!(echo.json(), serde_json::json!({"received": {"n": [1, 2], "s": "Zoë"}}), "{example}");

    let form = request(addr, "POST", "/form", &[("Content-Type", "application/x-www-form-urlencoded")], b"name=Zo%C3%AB&tag=x&tag=y");
    assert_eq!(form.status, 200, "{example}: {}", form.text());
    assert_eq!(form.json(), serde_json::json!({"name": "Zoë", "tags": ["x", "y"]}), "{example}");

    assert_eq!(server.get("/no/such/page").status, 404, "{example}: 404");

    let boom = server.get("/boom");
    assert_eq!(boom.status, 500, "{example}: /boom");
    assert!(server.wait_for_log("this view fails on purpose", Duration::from_secs(5)), "{example}: no traceback:\n{}", server.stderr());
    assert_eq!(server.get("/").text(), hello, "{example}: the request after a failure");

    let stream = server.get("/stream");
    assert_eq!((stream.status, stream.text().as_str()), (200, "0\n1\n2\n"), "{example}: /stream");
    assert_eq!(stream.header("transfer-encoding"), Some("chunked"), "{example}: /stream is not streamed");

    let redirect = server.get("/redirect");
    assert!([301, 302, 303, 307, 308].contains(&redirect.status), "{example}: /redirect gave {}", redirect.status);
    let location = redirect.header("location").unwrap_or_default();
    assert!(location == "/" || location.ends_with(&format!("{addr}/")), "{example}: Location {location:?}");

    let cookie = server.get("/cookie");
    assert!(cookie.all("set-cookie").iter().any(|c| c.starts_with("flavor=oatmeal")), "{example}: {:?}", cookie.headers);
    let read = request(addr, "GET", "/cookie-read", &[("Cookie", "flavor=oatmeal; other=1")], b"");
    assert_eq!(read.json(), serde_json::json!({"flavor": "oatmeal"}), "{example}");

    let head = request(addr, "HEAD", "/", &[], b"");
    assert_eq!(head.status, 200, "{example}: HEAD");
}

#[test]
fn django() {
    check_the_contract("examples/django", "Hello from Django!");
}

#[test]
fn bottle() {
    check_the_contract("examples/bottle", "Hello from Bottle!");
}

#[test]
fn plain_wsgi() {
    check_the_contract("examples/wsgi", "Hello from WSGI!");
}

#[test]
fn fastapi() {
    check_the_contract("examples/fastapi", "Hello from FastAPI!");
}

#[test]
fn starlette() {
    check_the_contract("examples/starlette", "Hello from Starlette!");
}

#[test]
fn quart() {
    check_the_contract("examples/quart", "Hello from Quart!");
}

#[test]
fn plain_asgi() {
    check_the_contract("examples/asgi", "Hello from ASGI!");
}

#[test]
fn hono() {
    check_the_contract("examples/hono", "Hello from Hono!");
}

#[test]
fn express() {
    check_the_contract("examples/express", "Hello from Express!");
}

/// What the Node examples add to the contract: a 1 MiB binary upload, a
/// binary response, bad JSON refused with 400 by the app's error handling,
/// and the app's own 404 page.
fn check_bodies(example: &'static str) {
    let server = serve(example);
    let addr = server.addr;
    let missing = server.get("/no/such/page");
    assert_eq!((missing.status, missing.text().as_str()), (404, "Not Found"), "{example}: custom 404");
    let upload: Vec<u8> = (0..(1u32 << 20)).map(|i| (i * 31 % 256) as u8).collect();
    let response = request(addr, "POST", "/upload", &[("Content-Type", "application/octet-stream")], &upload);
    assert_eq!(response.status, 200, "{example}: {}", response.text());
    use sha2::Digest;
    let digest = format!("{:x}", sha2::Sha256::digest(&upload));
    assert_eq!(response.json(), serde_json::json!({"length": 1 << 20, "sha256": digest}), "{example}");

    let binary = server.get("/binary");
    assert_eq!(binary.header("content-type"), Some("application/octet-stream"), "{example}");
    assert_eq!(binary.body, (0..1024).map(|i| (i % 256) as u8).collect::<Vec<u8>>(), "{example}");

    let bad = request(addr, "POST", "/echo", &[("Content-Type", "application/json")], b"{not json");
    assert_eq!((bad.status, bad.text().as_str()), (400, "Bad Request"), "{example}");
}

#[test]
fn express_takes_big_and_binary_bodies_and_refuses_bad_json() {
    check_bodies("examples/express");
}

#[test]
fn fastify() {
    check_the_contract("examples/fastify", "Hello from Fastify!");
}

#[test]
fn fastify_takes_big_and_binary_bodies_and_refuses_bad_json() {
    check_bodies("examples/fastify");
}

#[test]
fn hono_takes_big_and_binary_bodies_and_refuses_bad_json() {
    check_bodies("examples/hono");
}

#[test]
fn express_etags_equal_what_express_computes_on_node() {
    let server = serve("examples/express");
    // The etag package Express itself uses, from the app's own installed
    // dependencies, run by Node on the same bodies.
    let deps = repo_path("examples/express/.fabricks/build/express/deps/node_modules/etag");
    for path in ["/", "/users/42?tag=a", "/binary"] {
        let response = server.get(path);
        let body_file = std::env::temp_dir().join(format!("fabricks-etag-{}-{}", std::process::id(), path.len()));
        std::fs::write(&body_file, &response.body).unwrap();
        let script = format!(
            "const etag = require({deps:?}); process.stdout.write(etag(require('fs').readFileSync({body_file:?}), {{ weak: true }}))",
        );
        let node = std::process::Command::new("node").args(["-e", &script]).output().expect("running node");
        assert!(node.status.success(), "{}", String::from_utf8_lossy(&node.stderr));
        assert_eq!(response.header("etag"), Some(String::from_utf8_lossy(&node.stdout).as_ref()), "{path}");
    }
}

#[test]
fn fastapi_validates_injects_and_documents() {
    let server = serve("examples/fastapi");
    let addr = server.addr;
    let invalid = request(addr, "POST", "/items", &[("Content-Type", "application/json")], br#"{"name": "pen", "price": "free"}"#);
    assert_eq!(invalid.status, 422, "{}", invalid.text());
    assert_eq!(invalid.json()["detail"][0]["loc"], serde_json::json!(["body", "price"]));

    let created = request(addr, "POST", "/items", &[("Content-Type", "application/json")], br#"{"name": "pen", "price": 1.5}"#);
    assert_eq!(created.json(), serde_json::json!({"item": {"name": "pen", "price": 1.5, "tags": []}, "currency": "EUR"}));

    // A dependency with its own query parameters, on an async endpoint.
    assert_eq!(server.get("/items?limit=5").json(), serde_json::json!({"limit": 5, "offset": 0}));
    assert_eq!(server.get("/items?limit=many").status, 422);

    let openapi = server.get("/openapi.json").json();
    assert_eq!(openapi["info"]["title"], "fabricks FastAPI example");
    assert!(openapi["paths"]["/items"]["post"].is_object());
    let docs = server.get("/docs");
    assert_eq!(docs.status, 200);
    assert!(docs.text().contains("swagger-ui"), "{}", docs.text());
}

#[test]
fn an_asgi_app_gets_its_lifespan_state_in_every_request() {
    build_once("examples/asgi");
    // One worker process: the requests must reach the same instance.
    let server = Server::start(&repo_path("examples/asgi"), &["--workers", "1"]);
    let state = server.get("/state").json();
    assert_eq!(state["greeting"], "set at startup");
    assert_eq!(state["requests"], 1);
    // The instance is reused (the default for framework apps): startup ran
    // once, and its state lives on into the next request.
    assert_eq!(server.get("/state").json()["requests"], 2);
}

#[test]
fn an_asgi_app_shuts_down_when_its_instance_is_retired() {
    build_once("examples/asgi");
    // One instance at a time, retired after two requests.
    let args = ["--workers", "1", "--max-instances", "1", "--max-instance-reuse-count", "2"];
    let server = Server::start(&repo_path("examples/asgi"), &args);
    assert_eq!(server.get("/state").json()["requests"], 1);
    assert_eq!(server.get("/state").json()["requests"], 2);
    let retired = "asgi example: shutting down after 2 /state requests";
    assert!(server.wait_for_log(retired, Duration::from_secs(10)), "no lifespan shutdown at retirement:\n{}", server.stderr());
    // One process writes the log in order: a shutdown after the first
    // request would be above this line.
    assert_eq!(server.stderr().matches("shutting down").count(), 1, "shut down too early:\n{}", server.stderr());
    // Its successor started afresh, and the server's stop retires it too.
    assert_eq!(server.get("/state").json()["requests"], 1);
    let (status, stderr) = server.stop_with_stderr();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("asgi example: shutting down after 1 /state requests"), "no lifespan shutdown at stop:\n{stderr}");
}

#[test]
fn an_asgi_app_shuts_down_when_its_instance_sat_idle() {
    build_once("examples/asgi");
    let args = ["--workers", "1", "--max-instances", "1", "--idle-instance-timeout", "1"];
    let server = Server::start(&repo_path("examples/asgi"), &args);
    assert_eq!(server.get("/state").json()["requests"], 1);
    let retired = "asgi example: shutting down after 1 /state requests";
    assert!(server.wait_for_log(retired, Duration::from_secs(10)), "no lifespan shutdown when idle:\n{}", server.stderr());
    // The next request gets a new instance, started afresh.
    assert_eq!(server.get("/state").json()["requests"], 1);
}

#[test]
fn a_wsgi_app_gets_its_atexit_handlers_run_when_the_server_stops() {
    build_once("examples/wsgi");
    let server = Server::start(&repo_path("examples/wsgi"), &["--workers", "1"]);
    assert_eq!(server.get("/").status, 200);
    // A failing view logs its traceback: once it is in the log, so is all
    // the one process wrote before it (an exit after the first request).
    assert_eq!(server.get("/boom").status, 500);
    assert!(server.wait_for_log("this view fails on purpose", Duration::from_secs(10)), "{}", server.stderr());
    assert!(!server.stderr().contains("wsgi example: exiting"), "exited early:\n{}", server.stderr());
    let (status, stderr) = server.stop_with_stderr();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("wsgi example: exiting"), "atexit handlers did not run:\n{stderr}");
}

#[test]
fn node_apps_serve_many_requests_from_one_instance() {
    // The adapter exports its own incoming-handler (not the fetch event), so
    // an instance can be reused; Fastify's deferred start runs only once.
    for example in ["examples/hono", "examples/express", "examples/fastify"] {
        build_once(example);
        // One process, one instance: module state shows it is the same one.
        let server = Server::start(&repo_path(example), &["--workers", "1", "--max-instances", "1", "--max-instance-reuse-count", "100"]);
        for id in 0..20 {
            let user = server.get(&format!("/users/{id}?tag=t{id}"));
            assert_eq!(user.status, 200, "{example}: request {id}: {}", user.text());
            assert_eq!(user.json()["id"], id, "{example}");
            assert_eq!(user.json()["tags"], serde_json::json!([format!("t{id}")]), "{example}");
            assert_eq!(server.get("/visits").text(), (id + 1).to_string(), "{example}: a request reached another instance");
        }
        let log = server.stderr();
        assert!(!log.contains(r#"event="instance_failed""#), "{example}: an instance failed:\n{log}");
    }
}
