//! `up --watch`: an edit is rebuilt and served on the same socket while a
//! client keeps requesting (no connection refused, no request failed), a
//! build that fails leaves the last good one serving, and the next good one
//! takes over. On a copy of the Flask example.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Server, repo_path, try_get};

/// Wait until `/` answers `text`.
fn served(server: &Server, text: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if try_get(server.addr, "/").is_ok_and(|r| r.text() == text) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn an_edit_is_served_without_dropping_a_request_and_a_broken_build_keeps_the_last_good_one() {
    let dir = support::scratch_app("watch", &[]);
    for file in ["Fabrickfile", "main.py", "requirements.txt"] {
        std::fs::copy(repo_path("examples/flask").join(file), dir.join(file)).unwrap();
    }
    let main = dir.join("main.py");
    let server = Server::start(&dir, &["--watch", "--workers", "1"]);
    assert_eq!(server.get("/").text(), "Hello World!");

    // A client requests throughout; every answer must be a 200.
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (stop, addr) = (stop.clone(), server.addr);
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            let mut count = 0;
            while !stop.load(Ordering::SeqCst) {
                match try_get(addr, "/") {
                    Ok(response) if response.status == 200 => {}
                    Ok(response) => failures.push(format!("status {}", response.status)),
                    Err(error) => failures.push(error.to_string()),
                }
                count += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            (count, failures)
        })
    };

    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&main).unwrap();
        assert!(text.contains(from), "{text}");
        std::fs::write(&main, text.replace(from, to)).unwrap();
    };
    edit("return \"Hello World!\"", "return \"Hello, edited!\"");
    assert!(served(&server, "Hello, edited!", Duration::from_secs(240)), "{}", server.stderr());
    assert!(server.wait_for_log("main.py changed: rebuilt in", Duration::from_secs(5)), "{}", server.stderr());

    // A syntax error: the build fails, says why, and the edited view goes on serving.
    edit("return \"Hello, edited!\"", "return \"Hello, edited!\" +");
    assert!(server.wait_for_log("the build failed, the last good build goes on serving", Duration::from_secs(240)), "{}", server.stderr());
    assert!(server.stderr().contains("SyntaxError"), "{}", server.stderr());
    assert_eq!(server.get("/").text(), "Hello, edited!");

    edit("return \"Hello, edited!\" +", "return \"Hello, fixed!\"");
    assert!(served(&server, "Hello, fixed!", Duration::from_secs(240)), "{}", server.stderr());

    stop.store(true, Ordering::SeqCst);
    let (count, failures) = client.join().unwrap();
    assert!(count > 20, "{count} requests");
    assert!(failures.is_empty(), "{} of {count} requests failed: {failures:?}", failures.len());
}
