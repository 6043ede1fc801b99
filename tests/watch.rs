//! `up --watch`: each kind of edit is served on the same socket while a
//! client keeps requesting (no connection refused, no request failed): a
//! template or a static file is copied, a Python app's own modules are
//! loaded again by new instances, a requirements file or JavaScript is
//! rebuilt. An edit that does not load leaves the last good version serving,
//! and the next good one takes over. On copies of the test apps.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::{Server, repo_path, try_get};

/// A copy of the test app at `app` (without build outputs or packages).
fn copy_app(app: &str, name: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            let name = entry.file_name();
            if name == ".fabricks" || name == "node_modules" || name == "__pycache__" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &to.join(&name));
            } else {
                std::fs::copy(entry.path(), to.join(&name)).unwrap();
            }
        }
    }
    let dir = support::scratch_app(name, &[]);
    copy(&repo_path(app), &dir);
    dir
}

/// Wait until `path` answers 200 with a body containing `text`.
fn served(server: &Server, path: &str, text: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if try_get(server.addr, path).is_ok_and(|r| r.status == 200 && r.text().contains(text)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A client requesting `path` every 50 ms until told to stop; then how many
/// requests it made and what went wrong.
struct Client {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<(usize, Vec<String>)>,
}

impl Client {
    fn start(server: &Server, path: &'static str) -> Client {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, addr) = (stop.clone(), server.addr);
        let thread = std::thread::spawn(move || {
            let (mut count, mut failures) = (0, Vec::new());
            while !flag.load(Ordering::SeqCst) {
                match try_get(addr, path) {
                    Ok(response) if response.status == 200 => {}
                    Ok(response) => failures.push(format!("status {}", response.status)),
                    Err(error) => failures.push(error.to_string()),
                }
                count += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            (count, failures)
        });
        Client { stop, thread }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        let (count, failures) = self.thread.join().unwrap();
        assert!(count > 20, "{count} requests");
        assert!(failures.is_empty(), "{} of {count} requests failed: {failures:?}", failures.len());
    }
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{}: {text}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

const SERVED: Duration = Duration::from_secs(60);
const REBUILT: Duration = Duration::from_secs(300);

#[test]
fn flask_templates_views_and_requirements_are_served_as_they_are_edited_and_a_broken_view_keeps_the_last_good_one() {
    let dir = copy_app("tests/apps/flask-factory", "watch-flask");
    let (template, pages) = (dir.join("notes/templates/index.html"), dir.join("notes/pages.py"));
    let server = Server::start(&dir, &["--watch", "--workers", "1"]);
    assert!(server.get("/").text().contains("No notes yet."));
    let client = Client::start(&server, "/");

    // A template: the build compiled it into the snapshot, so new instances
    // forget the compiled templates and load the app again; not rebuilt.
    edit(&template, "No notes yet.", "Nothing written yet.");
    assert!(served(&server, "/", "Nothing written yet.", SERVED), "{}", server.stderr());
    assert!(server.wait_for_log("notes/templates/index.html changed: reloaded the app's code in", SERVED), "{}", server.stderr());

    // A view in a blueprint of an app factory: new instances load the app again.
    let route = "\n\n@bp.route(\"/version\")\ndef version():\n    return \"one\"\n";
    std::fs::write(&pages, std::fs::read_to_string(&pages).unwrap() + route).unwrap();
    assert!(served(&server, "/version", "one", SERVED), "{}", server.stderr());
    assert!(server.wait_for_log("notes/pages.py changed: reloaded the app's code in", SERVED), "{}", server.stderr());
    assert!(server.get("/").text().contains("Nothing written yet."), "the template edit stays");

    // A syntax error: not served, the error shown, the last good view goes on.
    edit(&pages, "return \"one\"", "return \"one\" +");
    assert!(
        server.wait_for_log("notes/pages.py changed: not served, the last good version goes on serving", SERVED),
        "{}",
        server.stderr()
    );
    assert!(server.stderr().contains("SyntaxError"), "{}", server.stderr());
    assert_eq!(server.get("/version").text(), "one");
    edit(&pages, "return \"one\" +", "return \"two\"");
    assert!(served(&server, "/version", "two", SERVED), "{}", server.stderr());

    // A view importing a standard-library module the snapshot lacks (it is
    // not on disk while serving): only a rebuild serves it.
    edit(&pages, "return \"two\"", "import sched\n    return sched.__name__");
    assert!(served(&server, "/version", "sched", REBUILT), "{}", server.stderr());
    assert!(
        server.stderr().contains("the standard-library module 'sched', which the build did not load: rebuilding"),
        "{}",
        server.stderr()
    );

    // A new requirement, and a view that imports it: a rebuild installs it.
    edit(&dir.join("requirements.txt"), "flask==3.1.3", "flask==3.1.3\nsix==1.17.0");
    edit(&pages, "return sched.__name__", "return __import__(\"six\").__name__");
    assert!(served(&server, "/version", "six", REBUILT), "{}", server.stderr());
    assert!(server.stderr().contains("requirements.txt changed: rebuilt in"), "{}", server.stderr());

    client.finish();
}

#[test]
fn express_views_routes_and_packages_are_served_as_they_are_edited_and_a_broken_route_keeps_the_last_good_one() {
    let dir = copy_app("tests/apps/express-views", "watch-express");
    let server = Server::start(&dir, &["--watch", "--workers", "1"]);
    assert_eq!(server.get("/about").text().trim(), "<p>Bookshelf: Read widely</p>");
    let client = Client::start(&server, "/about");

    // A view: read from disk while serving, so copied, not rebuilt.
    edit(&dir.join("views/about.hbs"), "{{motto}}", "{{motto}}, edited");
    assert!(served(&server, "/about", "Read widely, edited", SERVED), "{}", server.stderr());
    assert!(server.wait_for_log("views/about.hbs changed: copied the app's files in", SERVED), "{}", server.stderr());

    // A route: the edited app is bundled alone and new instances load it.
    let server_js = dir.join("server.js");
    edit(&server_js, "app.get('/about'", "app.get('/version', (req, res) => res.send('one'))\napp.get('/about'");
    assert!(served(&server, "/version", "one", SERVED), "{}", server.stderr());
    assert!(server.wait_for_log("server.js changed: reloaded the app's code in", SERVED), "{}", server.stderr());
    assert!(server.get("/about").text().contains("Read widely, edited"), "the view edit stays");
    // A controller it requires by a path computed at run time: from the edited copy too.
    let controller = dir.join("controllers/books/index.js");
    edit(&controller, "res.render('books', { books })", "res.send(`${books.length} books, edited`)");
    assert!(served(&server, "/books", "books, edited", SERVED), "{}", server.stderr());

    // A syntax error: not served, the error shown, the last good route goes on.
    edit(&server_js, "res.send('one'))", "res.send('one')))");
    assert!(server.wait_for_log("server.js changed: not served, the last good version goes on serving", SERVED), "{}", server.stderr());
    assert_eq!(server.get("/version").text(), "one");
    edit(&server_js, "res.send('one')))", "res.send('two'))");
    assert!(served(&server, "/version", "two", SERVED), "{}", server.stderr());

    // The packages' file: a rebuild (npm, the bundle, the snapshot).
    edit(&dir.join("package.json"), "\"name\"", "\"description\": \"edited\",\n  \"name\"");
    assert!(server.wait_for_log("package.json changed: rebuilt in", REBUILT), "{}", server.stderr());
    assert_eq!(server.get("/version").text(), "two");

    client.finish();
}
