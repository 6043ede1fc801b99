//! Node apps in the shapes real ones have, unchanged (tests/apps/express-views):
//! CommonJS with `__dirname`, views rendered by ejs and hbs from disk (the
//! engines required by a name computed at run time), static files,
//! downloads, a cookie session, controllers found with `fs.readdirSync` and
//! required by computed path, files read and streamed per request, a
//! writable folder, node's error page in development; a Fastify ES module
//! with @fastify/static and @fastify/view; Hono with serveStatic; node's
//! HTTP client (`http.get`, `http.request`) to allowed hosts only; an Express
//! app in production (its error page) with express-session.

mod support;

use support::{HttpResponse, Server, build_once, repo_path, request};

const APP: &str = "tests/apps/express-views";

fn serve() -> Server {
    build_once(APP);
    Server::start(&repo_path(APP), &["--workers", "1", "--max-instances", "1"])
}

fn get_with_cookie(server: &Server, path: &str, cookie: &str) -> HttpResponse {
    request(server.addr, "GET", path, &[("Cookie", cookie)], b"")
}

#[test]
fn modules_see_their_own_paths_and_the_app_folder_as_working_directory() {
    let server = serve();
    let where_ = server.get("/where").json();
    assert_eq!(where_["dirname"], "/app");
    assert_eq!(where_["filename"], "/app/server.js");
    assert_eq!(where_["cwd"], "/app");
    // As `node server.js`: NODE_ENV is unset unless the app's configuration sets it.
    assert_eq!(where_["node_env"], serde_json::Value::Null);

    // require.resolve and require of a computed path, into node_modules.
    let package = server.get("/packages/ejs").json();
    assert_eq!(package, serde_json::json!({"manifest": "/app/node_modules/ejs/package.json", "name": "ejs"}));
    let missing = server.get("/packages/left-pad");
    assert_eq!(missing.status, 500);
    assert!(missing.text().contains("Cannot find module &#39;left-pad/package.json&#39;"), "{}", missing.text());
}

#[test]
fn views_render_from_disk_with_engines_required_by_computed_names() {
    let server = serve();
    let home = server.get("/");
    assert_eq!(home.status, 200, "{}", home.text());
    let page = home.text();
    assert!(page.contains("<title>Bookshelf</title>"), "an ejs include, and the Fabrickfile's environment: {page}");
    assert!(page.contains("Visit 1"), "{page}");
    // The controllers found by fs.readdirSync while the app loaded.
    assert!(page.contains(r#"<a href="/authors">authors</a></li><li><a href="/books">books</a>"#), "{page}");

    let about = server.get("/about");
    assert_eq!(about.status, 200, "{}", about.text());
    assert_eq!(about.text().trim(), "<p>Bookshelf: Read widely</p>", "hbs, and a config file read at load time");

    let books = server.get("/books");
    assert_eq!(books.status, 200, "{}", books.text());
    assert!(books.text().contains("<li>Kindred (Octavia E. Butler)</li>"), "{}", books.text());
    assert_eq!(server.get("/books/0").json()["author"], "Ursula K. Le Guin");
    assert_eq!(server.get("/authors").json(), serde_json::json!(["Le Guin", "Butler"]));
}

#[test]
fn static_files_downloads_and_streams_come_from_the_app_folder() {
    let server = serve();
    let css = server.get("/css/shelf.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.text(), "body { margin: 2em; }\n");
    assert!(css.header("content-type").unwrap_or_default().starts_with("text/css"), "{:?}", css.headers);
    assert!(css.header("etag").is_some() && css.header("last-modified").is_some(), "{:?}", css.headers);
    let etag = css.header("etag").unwrap().to_string();
    let again = request(server.addr, "GET", "/css/shelf.css", &[("If-None-Match", &etag)], b"");
    assert_eq!(again.status, 304);

    let download = server.get("/files/groceries.txt");
    assert_eq!(download.status, 200, "{}", download.text());
    assert_eq!(download.text(), "Milk\nBread\n");
    assert_eq!(download.header("content-disposition"), Some(r#"attachment; filename="groceries.txt""#));
    assert_eq!(server.get("/files/docs/reading.md").status, 200);
    // A path past ASCII goes to the host as UTF-8.
    let accented = server.get("/files/docs/caf%C3%A9.txt");
    assert_eq!(accented.status, 200, "{}", accented.text());
    assert_eq!(accented.text(), "Cr\u{e8}me br\u{fb}l\u{e9}e\n");
    assert_eq!(server.get("/files/missing.txt").status, 404);
    // send refuses a path that climbs out of its root.
    assert_eq!(server.get("/files/..%2fserver.js").status, 403);

    let note = server.get("/notes/reading");
    assert_eq!(note.status, 200);
    assert_eq!(note.text(), "<h1>Reading list</h1>\n\nMore books.\n");
    assert_eq!(server.get("/notes/nothing").status, 404);
    assert_eq!(server.get("/listing").json(), serde_json::json!(["big.txt", "docs/", "groceries.txt"]));

    let expected: String = (0..20000).map(|i| format!("line {i:05} of the big file\n")).collect();
    for path in ["/stream", "/stream-watched"] {
        let stream = server.get(path);
        assert_eq!(stream.status, 200, "{path}");
        assert_eq!(stream.body.len(), expected.len(), "{path}");
        assert!(stream.text() == expected, "{path}: the streamed file differs");
    }
    // The app's own listener saw the file too.
    let line = format!("stream-watched: the listener saw {} bytes", expected.len());
    assert!(server.wait_for_log(&line, std::time::Duration::from_secs(5)), "{}", server.stderr());
}

#[test]
fn a_cookie_session_is_set_through_the_response_head() {
    let server = serve();
    let first = server.get("/");
    let cookies: Vec<String> = first.all("set-cookie").iter().map(|c| c.split(';').next().unwrap().to_string()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("shelf=")), "cookie-session sets its cookie in writeHead: {:?}", first.headers);
    let second = get_with_cookie(&server, "/", &cookies.join("; "));
    assert!(second.text().contains("Visit 2"), "{}", second.text());
}

#[test]
fn the_client_s_address_reaches_the_request_s_socket() {
    let server = serve();
    let client = server.get("/client").json();
    assert_eq!(client["ip"], "127.0.0.1", "{client}");
    assert_eq!(client["remoteAddress"], "127.0.0.1", "{client}");
    assert_eq!(client["remoteFamily"], "IPv4", "{client}");
    assert!(client["remotePort"].as_u64().is_some_and(|port| port > 0), "{client}");
    assert_eq!(client["shared"], true, "req.socket is res.socket: {client}");
    assert_eq!(client["secure"], false, "{client}");
}

#[test]
fn a_kept_instance_lets_go_of_each_request_it_served() {
    let server = serve();
    // 16 headers of 1 KiB: what the host holds for a request until the
    // guest drops it.
    let names: Vec<String> = (0..16).map(|i| format!("X-Bulk-{i:02}")).collect();
    let value = "v".repeat(1024);
    let headers: Vec<(&str, &str)> = names.iter().map(|name| (name.as_str(), value.as_str())).collect();
    let serve_many = |count: usize| {
        for _ in 0..count {
            let response = request(server.addr, "GET", "/client", &headers, b"");
            assert_eq!(response.status, 200, "{}", response.text());
        }
    };
    // The guest's JavaScript heap grows before its collector keeps up (to
    // ~200 MiB here, in ~7,000 such requests); wait until the server stops
    // growing, or 12,000 requests.
    let mut last = server.rss_kb();
    for _ in 0..24 {
        serve_many(500);
        let now = server.rss_kb();
        let settled = now.saturating_sub(last) < 1024;
        last = now;
        if settled {
            break;
        }
    }
    serve_many(2000);
    let grown = server.rss_kb().saturating_sub(last);
    // Kept by the host, 2,000 such requests are ~50 MiB.
    assert!(grown < 8 * 1024, "the server grew by {grown} KiB over 2,000 requests");
}

#[test]
fn the_snapshotted_bindings_are_the_changed_ones() {
    build_once(APP);
    let wasm = std::fs::read(repo_path(APP).join(".fabricks/express-views.wasm")).unwrap();
    let holds = |text: &str| wasm.windows(text.len()).any(|window| window == text.as_bytes());
    // componentize-js's glue logs each host call and its return with these
    // messages; the build leaves those calls out (~1.5 us a host call), so
    // the snapshot holds neither string.
    assert!(!holds("[Instruction::CallWasm] enter"), "the bindings still log every host call");
    assert!(!holds("[Instruction::Return]"), "the bindings still log every return");
    // The export's own glue keeps its log call: its message is there, so the
    // snapshot's strings are where these searches look.
    assert!(holds("[Instruction::CallInterface]"), "the bindings' strings are not in the component");
    // The snapshot keeps the names the glue's code uses (not its source):
    // those of adapters/nodejs/bindings.mjs's memory view and header
    // lifting are there, and the UTF-8 length counter it replaced is not.
    assert!(holds("dvBuffer") && holds("view4"), "the bindings are componentize-js's own");
    assert!(!holds("codepoints"), "strings are still lowered a character at a time");
}

#[test]
fn request_headers_reach_the_app_as_node_decodes_them() {
    let server = serve();
    let names: Vec<String> = (0..30).map(|i| format!("X-Many-{i:02}")).collect();
    let values: Vec<String> = (0..30).map(|i| format!("value {i} of thirty")).collect();
    let mut headers: Vec<(&str, &str)> = names.iter().map(String::as_str).zip(values.iter().map(String::as_str)).collect();
    // An empty value, and bytes past ASCII (here UTF-8's for "é"), which
    // node hands over as latin1 text, one character a byte.
    headers.push(("X-Empty", ""));
    headers.push(("X-Accent", "caf\u{e9}"));
    let response = request(server.addr, "GET", "/headers", &headers, b"");
    assert_eq!(response.status, 200, "{}", response.text());
    let seen = response.json();
    for (name, value) in names.iter().zip(&values) {
        assert_eq!(seen["headers"][name.to_ascii_lowercase()], value.as_str(), "{seen}");
    }
    assert_eq!(seen["headers"]["x-empty"], "", "{seen}");
    assert_eq!(seen["headers"]["x-accent"], "caf\u{c3}\u{a9}", "{seen}");
    // rawHeaders keeps the client's order: the 30 in a row, then the two.
    let raw: Vec<&str> = seen["raw"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let at = raw.iter().position(|name| name.eq_ignore_ascii_case("x-many-00")).expect("x-many-00 in rawHeaders");
    for (i, (name, value)) in names.iter().zip(&values).enumerate() {
        assert!(raw[at + 2 * i].eq_ignore_ascii_case(name) && raw[at + 2 * i + 1] == value, "{raw:?}");
    }
    // No Spin header reaches the app.
    assert!(raw.iter().all(|name| !name.to_ascii_lowercase().starts_with("spin-")), "{raw:?}");
}

#[test]
fn the_app_writes_only_where_it_was_granted() {
    let server = serve();
    let stored = request(server.addr, "POST", "/uploads/note.txt", &[("Content-Type", "text/plain")], b"kept on disk\n");
    assert_eq!(stored.status, 201, "{}", stored.text());
    let back = server.get("/uploads/note.txt");
    assert_eq!(back.text(), "kept on disk\n");
    let on_disk = repo_path(APP).join(".fabricks/state/express-views/uploads/note.txt");
    assert_eq!(std::fs::read_to_string(on_disk).unwrap(), "kept on disk\n");

    let refused = server.get("/readonly");
    assert_eq!(refused.status, 500);
    assert!(refused.text().starts_with("EROFS: read-only file system"), "{}", refused.text());
    assert!(refused.text().contains("[capabilities.filesystem] write"), "the error says how to grant a folder: {}", refused.text());
}

#[test]
fn a_file_sent_whole_or_in_part_goes_out_without_passing_through_the_guest() {
    let server = serve();
    // A 48 MiB upload, put in the app's writable folder by hand, sent back
    // by `res.sendFile` (the `send` module piping `fs.createReadStream`).
    let uploads = repo_path(APP).join(".fabricks/state/express-views/uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    let bytes: Vec<u8> = (0..48u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(uploads.join("big-download.bin"), &bytes).unwrap();

    let part = request(server.addr, "GET", "/uploads/big-download.bin", &[("Range", "bytes=1000-70999")], b"");
    assert_eq!(part.status, 206, "{}", part.text());
    assert_eq!(part.header("content-range"), Some("bytes 1000-70999/50331648"));
    assert!(part.body == bytes[1000..71000], "the range differs from the file's bytes");
    // Piped into a response whose `write` a middleware replaced, a file goes
    // through it.
    assert_eq!(server.get("/shouted/groceries").text(), "MILK\nBREAD\n");
    let head = request(server.addr, "HEAD", "/uploads/big-download.bin", &[], b"");
    assert_eq!((head.status, head.header("content-length"), head.body.len()), (200, Some("50331648"), 0));

    let before = server.rss_kb();
    let whole = server.get("/uploads/big-download.bin");
    let grown = server.rss_kb().saturating_sub(before);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body.len(), bytes.len());
    assert!(whole.body == bytes, "the download differs from the file");
    // Written through the guest, each chunk stayed allocated in its memory
    // until the request ended: the server grew by the file's size.
    assert!(grown < 16 * 1024, "the server grew by {grown} KiB sending a 48 MiB file");
    std::fs::remove_file(uploads.join("big-download.bin")).unwrap();
}

#[test]
fn errors_show_node_s_development_page_with_the_message() {
    let server = serve();
    let boom = server.get("/boom");
    assert_eq!(boom.status, 500);
    let page = boom.text();
    assert!(page.contains("<pre>Error: the shelf collapsed<br>"), "the message first, as node's stack has it: {page}");
    assert!(page.contains("<br> &nbsp; &nbsp;at "), "node's frames: {page}");
}

#[test]
fn crypto_derives_keys_compiled_and_draws_bytes_only_while_serving() {
    let server = serve();
    let started = std::time::Instant::now();
    let key = server.get("/hash?password=hunter2");
    let elapsed = started.elapsed();
    assert_eq!(key.status, 200, "{}", key.text());
    let expected = std::process::Command::new("node")
        .args(["-e", "process.stdout.write(require('crypto').pbkdf2Sync('hunter2', 'salt', 100000, 32, 'sha256').toString('hex'))"])
        .output()
        .expect("running node");
    assert_eq!(key.text(), String::from_utf8(expected.stdout).unwrap());
    // 100,000 iterations take ~50 ms compiled and minutes interpreted.
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");

    // Random bytes asked for while the app loaded arrive at the first request.
    let key = server.get("/instance-key").text();
    assert!(key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
}

#[test]
fn crypto_hashes_compiled_give_what_node_gives() {
    // createHash and createHmac hash in the compiled kdf component (sha1 of
    // a small body took ~180 us interpreted: Express's ETag of every
    // response), and with @noble/hashes while the app loads (`atLoad`).
    let server = serve();
    let got = server.get("/digests");
    assert_eq!(got.status, 200, "{}", got.text());
    let expected = std::process::Command::new("node")
        .current_dir(repo_path(APP))
        .args(["-e", "process.stdout.write(JSON.stringify(require('./lib/digests')()))"])
        .output()
        .expect("running node");
    let expected: serde_json::Value = serde_json::from_slice(&expected.stdout).expect("node's digests");
    assert_eq!(expected["twice"], "refused", "{expected}");
    assert_eq!(got.json(), expected);
}

#[test]
fn a_fastify_module_awaits_listen_and_serves_views_and_static_files() {
    const FASTIFY: &str = "tests/apps/fastify-views";
    build_once(FASTIFY);
    let server = Server::start(&repo_path(FASTIFY), &["--workers", "1"]);
    let page = server.get("/?name=Ann");
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.text().trim(), "<h1>Hello Ann</h1>");
    let notice = server.get("/public/notice.txt");
    assert_eq!(notice.status, 200);
    assert_eq!(notice.text(), "served by @fastify/static\n");
    assert!(notice.header("etag").is_some(), "{:?}", notice.headers);
    assert_eq!(server.get("/public/missing.txt").status, 404);
}

#[test]
fn hono_serve_static_reads_from_the_working_directory() {
    const HONO: &str = "tests/apps/hono-static";
    build_once(HONO);
    let server = Server::start(&repo_path(HONO), &["--workers", "1"]);
    assert_eq!(server.get("/").text(), "Hello from Hono!");
    let css = server.get("/static/css/site.css");
    assert_eq!(css.status, 200, "{}", css.text());
    assert_eq!(css.text(), "h1 { color: teal; }\n");
    assert!(css.header("content-type").unwrap_or_default().starts_with("text/css"), "{:?}", css.headers);
    assert_eq!(server.get("/static/nothing.css").status, 404);
}

/// An HTTP server on 127.0.0.1 for outbound calls: `GET` answers `pong`,
/// `POST` answers `got <body>`. Returns its port.
fn echo_server() -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let answer =
                if request_line.starts_with("POST") { format!("got {}", String::from_utf8_lossy(&body)) } else { "pong".to_string() };
            let _ = reader.get_mut().write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
        }
    });
    port
}

#[test]
fn node_s_http_client_reaches_allowed_hosts_only() {
    let port = echo_server();
    let server =
        support::serve_built_allowing("tests/apps/outbound", "outbound", "node-http-client", &format!("http://127.0.0.1:{port}"), &[]);
    let allowed = server.get(&format!("/http-get?url=http://127.0.0.1:{port}/ping"));
    assert_eq!((allowed.status, allowed.text().as_str()), (200, "200 text/plain pong"));
    let posted = request(server.addr, "POST", &format!("/http-post?url=http://127.0.0.1:{port}/echo"), &[], b"a body in two writes");
    assert_eq!((posted.status, posted.text().as_str()), (200, "200 got a body in two writes"));

    let denied = server.get(&format!("/http-get?url=http://127.0.0.1:{}/ping", port + 1));
    assert_eq!(denied.status, 502, "{}", denied.text());
    assert!(denied.text().starts_with("refused: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:"), "{}", denied.text());
    assert!(denied.text().contains("allowed_outbound_hosts"), "the error says how to allow the host: {}", denied.text());
    assert!(server.wait_for_log(r#"event="outbound_refused""#, std::time::Duration::from_secs(2)), "{}", server.stderr());
}

#[test]
fn in_production_errors_hide_their_detail_and_express_session_keeps_a_session() {
    const PRODUCTION: &str = "tests/apps/express-production";
    build_once(PRODUCTION);
    let server = Server::start(&repo_path(PRODUCTION), &["--workers", "1"]);
    assert_eq!(server.get("/env").text(), "production", "NODE_ENV from [config.environment]");
    let boom = server.get("/boom");
    assert_eq!(boom.status, 500);
    assert!(boom.text().contains("<pre>Internal Server Error</pre>"), "{}", boom.text());
    assert!(!boom.text().contains("a secret detail"), "{}", boom.text());

    let first = server.get("/count");
    assert_eq!(first.text(), "1");
    let cookie = first.all("set-cookie").first().map(|c| c.split(';').next().unwrap().to_string());
    let cookie = cookie.unwrap_or_else(|| panic!("express-session sets its cookie in writeHead: {:?}", first.headers));
    assert!(cookie.starts_with("connect.sid="), "{cookie}");
    assert_eq!(get_with_cookie(&server, "/count", &cookie).text(), "2", "the session in the memory store");
}
