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
    // RSS after each quarter of the requests has been answered.
    let mut samples = Vec::new();
    for quarter in 1..=3 {
        while answered(&next, &failures) < TOTAL * quarter / 4 {
            std::thread::sleep(Duration::from_millis(5));
        }
        samples.push(server.rss_kb());
    }
    for worker in workers {
        worker.join().unwrap();
    }
    samples.push(server.rss_kb());
    eprintln!("load: RSS after each quarter of {TOTAL} requests: {samples:?} KiB");
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed requests:\n{}", server.stderr());
    assert!(samples.iter().all(|&kb| kb > 0), "RSS not readable");
    // Each worker process has at most --max-instances instances (1 by
    // default for kept ones, one per core for fresh ones), all made in the
    // first few requests: over the second half,
    // memory stays within what one more instance would add (~12 MB), not
    // one per connection (64 would be ~800 MB).
    let (half, end) = (samples[1], samples[3]);
    assert!(end <= half + 16 * 1024, "memory kept growing: {samples:?} KiB after each quarter of {TOTAL} requests");
    assert_eq!(server.get("/").text(), "Hello World!");
}

/// Requests answered so far (claimed ones may still be in flight: at most one per connection).
fn answered(next: &AtomicUsize, failures: &AtomicUsize) -> usize {
    next.load(Ordering::Relaxed).saturating_sub(CONNECTIONS).saturating_sub(failures.load(Ordering::Relaxed))
}
