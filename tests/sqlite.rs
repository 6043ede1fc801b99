//! Spin's SQLite for Python apps: a component granted a database
//! (`[capabilities] sqlite = ["default"]`) gets an `sqlite3` module over
//! `spin:sqlite`, and the host keeps the database in `.spin/sqlite_db.db`
//! beside the manifest, shared by every worker and instance. Real
//! components, a real SQLite file, real sockets.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{Server, build_once, exec_app, repo_path, request};

const APP: &str = "tests/apps/flask-sqlite";

/// The tests that use the app's "default" database take turns: they share
/// its one file, and each asserts what is in it.
static DATABASE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn database_to_myself() -> std::sync::MutexGuard<'static, ()> {
    DATABASE.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn the_sqlite3_module_behaves_as_cpythons_own() {
    let _database = database_to_myself();
    // The same script against a file of CPython's own sqlite3, and in the
    // component against Spin's SQLite: the same lines.
    let script = include_str!("sqlite_check.py");
    let file = std::env::temp_dir().join(format!("fabricks-sqlite-check-{}.db", std::process::id()));
    let native = std::process::Command::new("python3").args(["-c", script, file.to_str().unwrap()]).output().expect("running python3");
    let _ = std::fs::remove_file(&file);
    assert!(native.status.success(), "{}", String::from_utf8_lossy(&native.stderr));
    let native = String::from_utf8_lossy(&native.stdout).into_owned();
    let (status, guest, stderr) = exec_app(APP, &["python", "-c", script, "instance/any-path.sqlite"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(guest, native);
    assert!(guest.lines().count() >= 29 && guest.contains("IntegrityError: UNIQUE constraint failed"), "{guest}");
}

fn post(server: &Server, path: &str, form: &str) -> u16 {
    request(server.addr, "POST", path, &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes()).status
}

#[test]
fn workers_and_instances_share_one_database_lose_no_write_and_keep_it_across_restarts() {
    let _database = database_to_myself();
    let (status, stdout, stderr) = exec_app(APP, &["flask", "--app", "blog", "init-db"]);
    assert_eq!((status, stdout.as_str()), (0, "Initialized the database.\n"), "{stderr}");
    assert!(repo_path(APP).join(".spin/sqlite_db.db").is_file(), "the default database lives where spin up keeps it");

    const WRITES: usize = 1000;
    const CLIENTS: usize = 64;
    {
        let server = Arc::new(Server::start(&repo_path(APP), &["--workers", "2", "--max-instances", "2"]));
        let next = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (server, next, failures) = (server.clone(), next.clone(), failures.clone());
                std::thread::spawn(move || {
                    while next.fetch_add(1, Ordering::Relaxed) < WRITES {
                        let counted = post(&server, "/counter", "");
                        let inserted = post(&server, "/entries", "title=entry");
                        if counted != 200 || inserted != 201 {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        assert_eq!(failures.load(Ordering::Relaxed), 0, "requests failed:\n{}", server.stderr());
        assert_eq!(server.get("/counter").text(), WRITES.to_string(), "no lost update");
        let entries = server.get("/entries").json();
        assert_eq!(entries["count"], WRITES, "every row: {entries}");
        // PARSE_DECLTYPES: `created TIMESTAMP` came back a datetime.
        assert_eq!(entries["first"]["created"].as_str().map(str::len), Some(10), "{entries}");

        assert_eq!(post(&server, "/authors", "name=ann"), 201);
        let duplicate = request(server.addr, "POST", "/authors", &[("Content-Type", "application/x-www-form-urlencoded")], b"name=ann");
        assert_eq!(duplicate.status, 409);
        assert_eq!(duplicate.json()["error"], "IntegrityError: UNIQUE constraint failed: author.name");
        // A transaction left open at the end of a request is rolled back
        // (the host connection, kept for the next request, carries nothing).
        for _ in 0..4 {
            assert_eq!(post(&server, "/abandon", ""), 200);
        }
        assert_eq!(
            server.get("/transaction").json(),
            serde_json::json!({"before": false, "during": true, "after": false, "ghosts": 0, "abandoned": 0})
        );
    }
    // A new server finds all of it, after running Spin's --sqlite
    // statements (one inline, one from a file) on it.
    let file = std::env::temp_dir().join(format!("fabricks-sqlite-{}.sql", std::process::id()));
    std::fs::write(&file, "UPDATE counter SET n = n + 2 WHERE id = 1;\n").unwrap();
    let from_file = format!("@{}", file.display());
    let server = Server::start(&repo_path(APP), &["--sqlite", "UPDATE counter SET n = n + 3 WHERE id = 1", "--sqlite", &from_file]);
    assert_eq!(server.get("/counter").text(), (WRITES + 5).to_string());
    assert_eq!(server.get("/entries").json()["count"], WRITES);
    let _ = std::fs::remove_file(file);

    // kill -9 in the middle of writes: every insert the server acknowledged
    // is there afterwards.
    let server = Arc::new(server);
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let (server, acknowledged) = (server.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let headers = [("Content-Type", "application/x-www-form-urlencoded")];
                while let Ok(raw) =
                    support::try_exchange(server.addr, &support::raw_request(server.addr, "POST", "/entries", &headers, b"title=late"))
                {
                    if !raw.starts_with(b"HTTP/1.1 201") {
                        break;
                    }
                    acknowledged.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(700));
    support::kill(server.pid(), 9);
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.load(Ordering::Relaxed);
    assert!(acknowledged > 10, "the writes had started: {acknowledged}");
    let server = Server::start(&repo_path(APP), &[]);
    let count = server.get("/entries").json()["count"].as_u64().unwrap() as usize;
    assert!(count >= WRITES + acknowledged, "{count} rows, {} acknowledged", WRITES + acknowledged);
}

#[test]
fn a_query_that_never_ends_costs_its_request_at_the_timeout_not_the_worker() {
    let _database = database_to_myself();
    // One worker, one instance: were the runaway statement left running on
    // the guest's thread, nothing after it would be answered.
    build_once(APP);
    let server = Server::start(&repo_path(APP), &["--workers", "1", "--max-instances", "1", "--request-timeout", "1"]);
    assert_eq!(server.get("/count?to=1000").text(), "1000");
    let started = std::time::Instant::now();
    let runaway = server.get("/count");
    assert!(matches!(runaway.status, 500 | 504), "{} {}", runaway.status, runaway.text());
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "stopped after {:?}", started.elapsed());
    assert_eq!(server.get("/count?to=3").text(), "3", "{}", server.stderr());
}

#[test]
fn without_a_grant_connect_says_how_to_grant_a_database() {
    let code = "import sqlite3\ntry:\n    sqlite3.connect('notes/data.sqlite')\nexcept sqlite3.OperationalError as e:\n    print(e)\n\
                print(sqlite3.connect(':memory:').execute('select 1').fetchone())";
    let (status, stdout, stderr) = exec_app("tests/apps/flask-factory", &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.starts_with("unable to open database file: 'notes/data.sqlite'"), "{stdout}");
    assert!(stdout.contains(r#"[capabilities] sqlite = ["default"]"#) && stdout.ends_with("(1,)\n"), "{stdout}");
}
