//! Load: many requests over many keep-alive connections, none may fail, and
//! the server's memory must level off rather than grow with the request
//! count. (Speed is measured in bench/, never asserted here.)

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{Server, build_once, repo_path};

const TOTAL: usize = 20_000;
const CONNECTIONS: usize = 64;

/// One GET on an open keep-alive connection; returns the status and body.
fn get(reader: &mut BufReader<TcpStream>, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    reader.get_mut().write_all(format!("GET {path} HTTP/1.1\r\nHost: load\r\n\r\n").as_bytes())?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, body))
}

#[test]
fn twenty_thousand_requests_on_64_connections_all_succeed_and_memory_levels_off() {
    build_once("examples/flask");
    let server = Server::start(&repo_path("examples/flask"), &[]);
    let addr = server.addr;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (next, failures) = (next.clone(), failures.clone());
            std::thread::spawn(move || {
                let stream = TcpStream::connect(addr).expect("connecting");
                stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                let mut reader = BufReader::new(stream);
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= TOTAL {
                        return;
                    }
                    let id = n % 1000;
                    match get(&mut reader, &format!("/users/{id}")) {
                        Ok((200, body)) if body == format!("{{\"id\":{id},\"name\":\"Alice\"}}\n").into_bytes() => {}
                        _ => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            // Start over on a fresh connection.
                            let stream = TcpStream::connect(addr).expect("reconnecting");
                            stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                            reader = BufReader::new(stream);
                        }
                    }
                }
            })
        })
        .collect();
    while next.load(Ordering::Relaxed) < TOTAL / 2 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let middle_rss = server.rss_kb();
    for worker in workers {
        worker.join().unwrap();
    }
    let end_rss = server.rss_kb();
    eprintln!("load: RSS {middle_rss} KiB after {} requests, {end_rss} KiB after {TOTAL}", TOTAL / 2);
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed requests:\n{}", server.stderr());
    assert!(middle_rss > 0 && end_rss > 0, "RSS not readable");
    // Each worker process has at most --max-instances instances (2 by
    // default), all made in the first few requests: the second 10,000
    // requests must not grow memory.
    assert!(
        end_rss <= middle_rss + middle_rss / 4,
        "memory kept growing: {middle_rss} KiB after {} requests, {end_rss} KiB after {TOTAL}",
        TOTAL / 2
    );
    assert_eq!(server.get("/").text(), "Hello World!");
}
