//! Python apps in the shapes real ones have, unchanged: an app factory with
//! blueprints, templates and static files read from disk at run time, a
//! login in the session, data in memory, a module imported only while
//! serving, an installed package's data file.

mod support;

use support::{HttpResponse, Server, build_once, repo_path, request};

const FACTORY_APP: &str = "tests/apps/flask-factory";

/// One process, one instance: in-memory data behaves as under `flask run`.
fn serve_factory_app() -> Server {
    build_once(FACTORY_APP);
    Server::start(&repo_path(FACTORY_APP), &["--workers", "1", "--max-instances", "1"])
}

fn post_form(server: &Server, path: &str, form: &str, cookie: Option<&str>) -> HttpResponse {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(cookie) = cookie {
        headers.push(("Cookie", cookie));
    }
    request(server.addr, "POST", path, &headers, form.as_bytes())
}

/// The `name=value` part of a cookie the response sets, if it sets one.
fn set_cookie(response: &HttpResponse, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    let set = response.all("set-cookie").into_iter().find(|c| c.starts_with(&prefix))?;
    Some(set.split(';').next().unwrap().to_string())
}

/// [`set_cookie`], which the response must set.
fn cookie(response: &HttpResponse, name: &str) -> String {
    set_cookie(response, name).unwrap_or_else(|| panic!("no {name} cookie"))
}

#[test]
fn an_app_factory_with_blueprints_renders_templates_and_serves_static_files() {
    let server = serve_factory_app();
    let home = server.get("/");
    assert_eq!(home.status, 200, "{}", home.text());
    let page = home.text();
    assert!(page.contains("<title>Notes - Notes</title>"), "the base template and the factory's config: {page}");
    assert!(page.contains("No notes yet."), "{page}");
    assert!(page.contains(r#"href="/static/style.css""#), "{page}");

    let css = server.get("/static/style.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.text(), "body { font-family: sans-serif; }\n.note { color: #333; }\n");
    assert!(css.header("content-type").unwrap_or_default().starts_with("text/css"), "{:?}", css.headers);

    let login = server.get("/auth/login");
    assert_eq!(login.status, 200);
    assert!(login.text().contains("<title>Log in - Notes</title>"), "a template in a subfolder: {}", login.text());
}

#[test]
fn a_user_registers_logs_in_and_writes_notes_kept_in_memory() {
    let server = serve_factory_app();
    let registered = post_form(&server, "/auth/register", "username=ann&password=secret", None);
    assert_eq!((registered.status, registered.header("location")), (302, Some("/auth/login")), "{}", registered.text());

    let wrong = post_form(&server, "/auth/login", "username=ann&password=nope", None);
    assert_eq!(wrong.status, 200);
    assert!(wrong.text().contains("Incorrect username or password."), "{}", wrong.text());

    let logged_in = post_form(&server, "/auth/login", "username=ann&password=secret", None);
    assert_eq!((logged_in.status, logged_in.header("location")), (302, Some("/")), "{}", logged_in.text());
    let cookie = cookie(&logged_in, "session");
    // The password was hashed with werkzeug's default, scrypt (hashlib.scrypt).
    assert_eq!(server.get("/auth/methods").json(), serde_json::json!({"ann": "scrypt:32768:8:1"}));

    assert_eq!(post_form(&server, "/notes", "text=first+note", None).status, 403, "a note without logging in");
    assert_eq!(post_form(&server, "/notes", "text=first+note", Some(&cookie)).status, 302);
    let home = request(server.addr, "GET", "/", &[("Cookie", &cookie)], b"");
    let page = home.text();
    assert!(page.contains("Logged in as ann"), "{page}");
    assert!(page.contains(r#"<li class="note">first note (ann)</li>"#), "{page}");
    assert_eq!(server.get("/report").text(), "1 notes by ann");
}

#[test]
fn modules_and_package_data_are_read_from_disk_while_serving_and_writes_fail_cleanly() {
    let server = serve_factory_app();
    // A module of the app's own that nothing imported at build time.
    let report = server.get("/report");
    assert_eq!((report.status, report.text().as_str()), (200, "0 notes by nobody"));
    // A data file of an installed package.
    let data = server.get("/package-data").json();
    assert!(data["bytes"].as_u64().unwrap() > 1000, "{data}");
    // The app's files are read-only: a write is an OSError the app can catch.
    let write = server.get("/write");
    assert_eq!(write.status, 500, "{}", write.text());
    assert_eq!(write.json()["error"], "PermissionError", "{}", write.text());
}

/// Where fabricks keeps the factory app's instance folder on the host.
fn factory_instance_folder() -> std::path::PathBuf {
    repo_path(FACTORY_APP).join(".fabricks/state/flask-factory/instance")
}

#[test]
fn the_instance_folder_is_writable_kept_apart_from_the_sources_and_outlives_the_server() {
    let name = format!("upload-{}.txt", std::process::id());
    {
        let server = serve_factory_app();
        let path = format!("/attachments/{name}");
        let saved = request(server.addr, "PUT", &path, &[], b"attached text");
        assert_eq!(saved.status, 201, "{}", saved.text());
        assert_eq!(server.get(&path).text(), "attached text");
        // Flask's own idea of the instance folder: beside the package, where
        // the guest sees the app.
        assert_eq!(server.get("/attachments/").json()["instance_path"], "/0/instance");
    }
    // On the host it is under .fabricks/state, not in the app's sources.
    let on_host = factory_instance_folder().join("uploads").join(&name);
    assert_eq!(std::fs::read_to_string(&on_host).unwrap_or_default(), "attached text", "{}", on_host.display());
    assert!(!repo_path(FACTORY_APP).join("instance").exists());
    // A new server (a new instance) finds it.
    let server = serve_factory_app();
    assert_eq!(server.get(&format!("/attachments/{name}")).text(), "attached text");
    assert!(server.get("/attachments/").json()["files"].as_array().unwrap().iter().any(|f| f == name.as_str()));
    std::fs::remove_file(on_host).unwrap();
}

#[test]
fn send_from_directory_sends_a_file_of_several_blocks_whole() {
    let server = serve_factory_app();
    // 600 KB: werkzeug's send_file hands it to wsgi.file_wrapper, which
    // reads it in blocks (the app asks for 8 KiB ones).
    let name = format!("blocks-{}.bin", std::process::id());
    let bytes: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();
    let path = format!("/attachments/{name}");
    assert_eq!(request(server.addr, "PUT", &path, &[], &bytes).status, 201);
    let back = server.get(&path);
    assert_eq!((back.status, back.header("content-length")), (200, Some("600000")));
    assert!(back.body == bytes, "the download differs from the upload");
    let part = request(server.addr, "GET", &path, &[("Range", "bytes=300000-")], b"");
    assert_eq!(part.status, 206);
    assert!(part.body == bytes[300_000..], "the range differs from the file's bytes");
    std::fs::remove_file(factory_instance_folder().join("uploads").join(&name)).unwrap();
}

use support::exec_app as exec;

#[test]
fn the_apps_own_command_line_runs_inside_its_component() {
    // A console script of an installed package, on the app factory.
    let (status, stdout, stderr) = exec(FACTORY_APP, &["flask", "--app", "notes", "routes"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("auth.login") && stdout.contains("/static/<path:filename>"), "{stdout}");
    // python -c, with its arguments, the app importable and its files there.
    let code = "import sys, notes; print(sys.argv[1:], notes.create_app().name, open('/0/notes/static/style.css').read(9))";
    let (status, stdout, _) = exec(FACTORY_APP, &["python", "-c", code, "x"]);
    assert_eq!((status, stdout.as_str()), (0, "['x'] notes body { fo\n"));
    // The exit status is the command's.
    assert_eq!(exec(FACTORY_APP, &["python", "-c", "raise SystemExit(3)"]).0, 3);
    let (status, _, stderr) = exec(FACTORY_APP, &["python", "-c", "1/0"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("ZeroDivisionError"), "{stderr}");
    let (status, _, stderr) = exec(FACTORY_APP, &["nosuch"]);
    assert_eq!(status, 127);
    assert!(stderr.contains("'nosuch' is neither python nor a command of the app's packages") && stderr.contains("flask"), "{stderr}");
}

#[test]
fn the_snapshots_objects_are_immortal_and_its_free_chunks_taken_up() {
    // What the build snapshot holds (the app's modules, the framework's
    // classes and functions, the strings they name) is marked immortal, so
    // requests leave its pages unwritten; objects made afterwards are
    // counted as usual. And the heap's free chunks can be found and taken
    // up (status 0: dlmalloc's layout is the one the extension reads).
    let code = "import sys, flask, notes, _fabricks_heap\n\
                made = [object()]\n\
                alias = made\n\
                print(sys._is_immortal(notes), sys._is_immortal(flask.Flask.wsgi_app), sys._is_immortal(flask.Flask.__name__),\n\
                      sys._is_immortal(made), sys.getrefcount(made), _fabricks_heap.plug_free_chunks()[2])";
    let (status, stdout, stderr) = exec(FACTORY_APP, &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "True True True False 3 0\n");
}

#[test]
fn the_snapshot_holds_every_werkzeug_routes_compiled_pattern() {
    // werkzeug compiles a dynamic part's pattern (through `re`'s cache) each
    // time it tries the part; the build compiled only what its warm-up
    // request reached, so every instance compiled `/attachments/<name>`'s
    // at its first such request (a fresh instance: at every request).
    // (The snapshot's objects are frozen out of `gc.get_objects()`'s sight.)
    let code = "import gc, re, werkzeug.routing\n\
                gc.unfreeze()\n\
                cached = {key[1] for key in [*re._cache, *re._cache2]}\n\
                parts = {p.content for r in gc.get_objects() if isinstance(r, werkzeug.routing.Rule) for p in r._parts if not p.static}\n\
                print(len(parts), sorted(p in cached for p in parts))";
    let (status, stdout, stderr) = exec(FACTORY_APP, &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    // `<name>` and `<path:filename>`: two patterns.
    assert_eq!(stdout, "2 [True, True]\n");
}

#[test]
fn weakref_finalize_is_the_adapters_and_behaves_as_cpythons() {
    // The bindings make a `weakref.finalize` per WASI resource; the adapter's
    // `__init__` skips CPython's write to the class on every call. What a
    // finalizer does must not change: these lines are what native CPython
    // prints for the same code (after the first).
    let code = "import gc, weakref\n\
                class O: pass\n\
                print(getattr(weakref.finalize.__init__, '_fabricks', False))\n\
                calls = []\n\
                o = O()\n\
                fin = weakref.finalize(o, calls.append, 'collected')\n\
                print(fin.alive, fin.atexit, fin.peek()[1:] == (calls.append, ('collected',), {}))\n\
                del o\n\
                gc.collect()\n\
                print(calls, fin.alive)\n\
                o = O()\n\
                fin = weakref.finalize(o, calls.append, 'detached')\n\
                got = fin.detach()\n\
                print(got[0] is o, got[2], fin.alive, fin.detach())\n\
                o = O()\n\
                print(weakref.finalize(o, dict, a=1)())\n\
                keep = O()\n\
                weakref.finalize(keep, print, 'at exit')";
    let (status, stdout, stderr) = exec(FACTORY_APP, &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "True\nTrue True True\n['collected'] False\nTrue ('detached',) False None\n{'a': 1}\nat exit\n");
}

#[test]
fn the_snapshot_holds_the_apps_templates_compiled_and_a_reload_forgets_them() {
    // Jinja compiles a template at its first render; the build compiled
    // every template the app's environment lists (none is rendered then).
    // An instance asked to reload (`up --watch`) forgets them.
    let code = "import gc, jinja2\n\
                from fabricks_adapter import templates\n\
                gc.unfreeze()\n\
                [env] = [e for e in gc.get_objects() if isinstance(e, jinja2.Environment)]\n\
                print(sorted(key[1] for key in env.cache.keys()))\n\
                templates.forget()\n\
                print(len(env.cache))";
    let (status, stdout, stderr) = exec(FACTORY_APP, &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "['auth/login.html', 'auth/register.html', 'base.html', 'index.html']\n0\n");
}

#[test]
fn commands_write_to_the_same_instance_folder_the_server_reads() {
    let name = format!("from-exec-{}.txt", std::process::id());
    let code = format!(
        "import os; os.makedirs('instance/uploads', exist_ok=True); open('instance/uploads/{name}', 'w').write('made by a command')"
    );
    let (status, _, stderr) = exec(FACTORY_APP, &["python", "-c", &code]);
    assert_eq!(status, 0, "{stderr}");
    let server = serve_factory_app();
    assert_eq!(server.get(&format!("/attachments/{name}")).text(), "made by a command");
    std::fs::remove_file(factory_instance_folder().join("uploads").join(&name)).unwrap();
}

#[test]
fn hashlibs_pbkdf2_hmac_and_scrypt_give_what_cpython_with_openssl_gives() {
    let script = include_str!("kdf_check.py");
    let native = std::process::Command::new("python3").args(["-c", script]).output().expect("running python3");
    assert!(native.status.success(), "{}", String::from_utf8_lossy(&native.stderr));
    let native = String::from_utf8_lossy(&native.stdout).into_owned();
    let (status, guest, stderr) = exec(FACTORY_APP, &["python", "-c", script]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(guest, native);
    assert!(guest.lines().count() > 20 && guest.contains("memory limit exceeded"), "{guest}");
    assert_eq!(guest.matches(": ok\n").count(), 8, "the RFC 6070 and RFC 7914 vectors: {guest}");
}

#[test]
fn djangos_default_password_hasher_works_in_the_component() {
    // The project's settings are loaded (the component serves it).
    let code = "from django.contrib.auth.hashers import make_password, check_password\n\
                h = make_password('s3cret'); print(h.split('$')[:2], check_password('s3cret', h), check_password('nope', h))";
    let (status, stdout, stderr) = exec(DJANGO_APP, &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "['pbkdf2_sha256', '1000000'] True False\n");
}

#[test]
fn a_django_projects_management_commands_run_through_exec() {
    let (status, stdout, stderr) = exec("examples/django", &["django-admin", "check", "--settings", "mysite.settings"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("System check identified no issues"), "{stdout}");
}

const DJANGO_APP: &str = "tests/apps/django-admin";

#[test]
fn the_snapshot_holds_djangos_compiled_url_patterns_and_reverse_lookup() {
    // Django compiles a URL pattern when a request first tries it and
    // builds the reverse lookup at the first `reverse`; the build's warm-up
    // request reached 4 of this project's 36 patterns and no `reverse`.
    let code = "from django.urls import get_resolver, URLResolver\n\
                def walk(e):\n\
                \x20   yield e\n\
                \x20   for s in (e.url_patterns if isinstance(e, URLResolver) else []):\n\
                \x20       yield from walk(s)\n\
                root = get_resolver()\n\
                entries = list(walk(root))\n\
                print(len(entries) > 30, all('regex' in e.pattern.__dict__ for e in entries), root._populated)";
    let (status, stdout, stderr) = exec(DJANGO_APP, &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "True True True\n");
}

#[test]
fn the_snapshot_holds_djangos_templates_compiled_and_a_reload_forgets_them() {
    // The admin's templates, in the cached loader as after their first
    // render; an instance asked to reload (`up --watch`) forgets them.
    let code = "from django.template import engines\n\
                from fabricks_adapter import templates\n\
                [loader] = engines['django'].engine.template_loaders\n\
                print(type(loader).__module__, 'admin/login.html' in loader.get_template_cache, 'admin/change_list.html' in loader.get_template_cache)\n\
                templates.forget()\n\
                print(len(loader.get_template_cache))";
    let (status, stdout, stderr) = exec(DJANGO_APP, &["python", "-c", code]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "django.template.loaders.cached True True\n0\n");
}

fn serve_django_app() -> Server {
    build_once(DJANGO_APP);
    Server::start(&repo_path(DJANGO_APP), &[])
}

#[test]
fn a_django_project_serves_its_admin_login_and_debug_pages_from_djangos_own_templates() {
    let server = serve_django_app();
    // The admin's templates are files of the installed django package.
    let login = server.get("/admin/login/");
    assert_eq!(login.status, 200, "{}", login.text());
    assert!(login.text().contains("<title>Log in | Django site admin</title>"), "{}", login.text());
    assert!(login.text().contains(r#"href="/static/admin/css/base.css""#), "{}", login.text());
    assert!(login.all("set-cookie").iter().any(|c| c.starts_with("csrftoken=")), "{:?}", login.headers);
    // Not logged in: the admin index sends the user to the login page.
    let index = server.get("/admin/");
    assert_eq!((index.status, index.header("location")), (302, Some("/admin/login/?next=/admin/")));
    // DEBUG comes from the environment the settings module read (at build
    // time as while serving): Django's technical 404 and 500 pages.
    let missing = server.get("/nope");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("<title>Page not found at /nope</title>"), "{}", missing.text());
    let boom = server.get("/boom/");
    assert_eq!(boom.status, 500);
    assert!(boom.text().contains("RuntimeError") && boom.text().contains("this view fails on purpose"), "{}", boom.text());
    assert_eq!(server.get("/products/").text(), "products page");
}

#[test]
fn whitenoise_serves_the_admins_static_css_from_the_installed_package() {
    let server = serve_django_app();
    let css = server.get("/static/admin/css/base.css");
    assert_eq!(css.status, 200, "{}", css.text());
    assert_eq!(css.header("content-type"), Some(r#"text/css; charset="utf-8""#));
    let file = repo_path(DJANGO_APP).join(".fabricks/build/django-admin/deps/django/contrib/admin/static/admin/css/base.css");
    assert_eq!(css.body, std::fs::read(&file).unwrap(), "{}", file.display());
}

/// A copy of `app` (without its build) in a scratch folder, with `edit`
/// applied to its Fabrickfile.
fn variant(app: &str, name: &str, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name == ".fabricks" || name == "__pycache__" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &to.join(&name));
            } else {
                std::fs::copy(entry.path(), to.join(&name)).unwrap();
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("fabricks-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy(&repo_path(app), &dir);
    let fabrickfile = dir.join("Fabrickfile");
    std::fs::write(&fabrickfile, edit(std::fs::read_to_string(&fabrickfile).unwrap())).unwrap();
    dir
}

#[test]
fn with_debug_off_django_serves_its_plain_error_pages_and_the_static_css() {
    // What gunicorn serves for the same project with DJANGO_DEBUG=0.
    let dir = variant(DJANGO_APP, "django-no-debug", |text| text.replace(r#"DJANGO_DEBUG = "1""#, r#"DJANGO_DEBUG = "0""#));
    let built = support::run(&["build", dir.to_str().unwrap(), "-q"]);
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let server = Server::start(&dir, &[]);
    let missing = server.get("/nope");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("<title>Not Found</title>"), "{}", missing.text());
    let boom = server.get("/boom/");
    assert_eq!(boom.status, 500);
    assert!(boom.text().contains("<h1>Server Error (500)</h1>") && !boom.text().contains("RuntimeError"), "{}", boom.text());
    assert!(server.get("/admin/login/").text().contains("<title>Log in | Django site admin</title>"));
    let css = server.get("/static/admin/css/base.css");
    assert_eq!((css.status, css.header("cache-control")), (200, Some("max-age=60, public")), "{:?}", css.headers);
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

/// The admin's CSRF form field on a page.
fn csrf_field(page: &str) -> String {
    let at = page.find(r#"name="csrfmiddlewaretoken" value=""#).expect("a CSRF field") + r#"name="csrfmiddlewaretoken" value=""#.len();
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

#[test]
fn django_migrates_and_its_admin_logs_in_adds_changes_and_deletes_on_spins_sqlite() {
    let (status, stdout, stderr) = exec(DJANGO_APP, &["python", "manage.py", "migrate", "--noinput"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("Operations to perform:"), "{stdout}");
    // A superuser, its password hashed with Django's default (PBKDF2), its
    // password from the environment of this one command (`exec -e`).
    let forget = "from django.contrib.auth.models import User; User.objects.filter(username='admin').delete()";
    let (status, _, stderr) = exec(DJANGO_APP, &["python", "manage.py", "shell", "-c", forget]);
    assert_eq!(status, 0, "{stderr}");
    let (status, stdout, stderr) = support::exec_app_with(
        DJANGO_APP,
        &["-e", "DJANGO_SUPERUSER_PASSWORD=pw-12345"],
        &["python", "manage.py", "createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com"],
    );
    assert_eq!((status, stdout.as_str()), (0, "Superuser created successfully.\n"), "{stderr}");

    // The ORM: what Django 5.2 prints for the same script on CPython's own
    // sqlite3; a regex lookup, which needs a Python function inside SQLite,
    // fails with an error that says so.
    let (status, stdout, stderr) = exec(DJANGO_APP, &["python", "manage.py", "shell", "-c", include_str!("django_orm_check.py")]);
    assert_eq!(status, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(": ")).collect();
    assert_eq!(
        lines,
        [
            "filter: 3",
            "exclude/order/slice: ['p5', 'p4']",
            "aggregate: {'avg': 4.0, 'n': 3, 'top': 5}",
            "select_related: [('p3', 3), ('p3', 4), ('p3', 5)]",
            "annotate: 3",
            "join filter: ['p3']",
            "savepoints: ['outer', 'p1']",
            "atomic rollback: 5.00",
            "update: 2",
            "decimal: Decimal('7.00')",
            "regex: True",
        ],
        "{stdout}"
    );
    let (status, _, stderr) =
        exec(DJANGO_APP, &["python", "manage.py", "shell", "-c", "from shop.models import Product; Product.objects.all().delete()"]);
    assert_eq!(status, 0, "{stderr}");

    let server = serve_django_app();
    let login_page = server.get("/admin/login/");
    let csrf = cookie(&login_page, "csrftoken");
    let form = |token: &str, fields: &str| format!("csrfmiddlewaretoken={token}&{fields}");
    let post = |path: &str, cookies: &str, body: String| {
        let referer = format!("http://{}{path}", server.addr);
        let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookies), ("Referer", referer.as_str())];
        request(server.addr, "POST", path, &headers, body.as_bytes())
    };
    let token = csrf_field(&login_page.text());
    let wrong = post("/admin/login/", &csrf, form(&token, "username=admin&password=nope&next=/admin/"));
    assert_eq!(wrong.status, 200, "a wrong password shows the form again");
    let logged_in = post("/admin/login/", &csrf, form(&token, "username=admin&password=pw-12345&next=/admin/"));
    assert_eq!((logged_in.status, logged_in.header("location")), (302, Some("/admin/")), "{}", logged_in.text());
    let session = cookie(&logged_in, "sessionid");
    let csrf = set_cookie(&logged_in, "csrftoken").unwrap_or(csrf);
    let cookies = format!("{csrf}; {session}");
    let get = |path: &str| request(server.addr, "GET", path, &[("Cookie", cookies.as_str())], b"");
    assert!(get("/admin/").text().contains("<title>Site administration | Django site admin</title>"));

    let add_page = get("/admin/shop/product/add/");
    let token = csrf_field(&add_page.text());
    let added = post("/admin/shop/product/add/", &cookies, form(&token, "name=Lamp&price=12.50&_save=Save"));
    assert_eq!((added.status, added.header("location")), (302, Some("/admin/shop/product/")), "{}", added.text());
    let list = get("/admin/shop/product/").text();
    assert!(list.contains(">Lamp</a>") && list.contains("1 product"), "{list}");
    let id =
        list.split("/admin/shop/product/").filter_map(|rest| rest.split('/').next()?.parse::<u64>().ok()).next().expect("the product's id");

    let change_path = format!("/admin/shop/product/{id}/change/");
    let token = csrf_field(&get(&change_path).text());
    let changed = post(&change_path, &cookies, form(&token, "name=Desk+lamp&price=15.00&_save=Save"));
    assert_eq!(changed.status, 302, "{}", changed.text());
    assert!(get("/admin/shop/product/").text().contains(">Desk lamp</a>"));

    let delete_path = format!("/admin/shop/product/{id}/delete/");
    let token = csrf_field(&get(&delete_path).text());
    let deleted = post(&delete_path, &cookies, form(&token, "post=yes"));
    assert_eq!(deleted.status, 302, "{}", deleted.text());
    assert!(get("/admin/shop/product/").text().contains("0 products"));
}

#[test]
fn manage_py_runs_through_exec() {
    let (status, stdout, stderr) = exec(DJANGO_APP, &["python", "manage.py", "check"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("System check identified no issues"), "{stdout}");
}

#[test]
fn collectstatic_writes_to_static_root_through_exec() {
    let (status, stdout, stderr) = exec(DJANGO_APP, &["python", "manage.py", "collectstatic", "--noinput", "--clear"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("static files copied to '/0/staticfiles'"), "{stdout}");
    // On the host, in the folder the Fabrickfile made writable.
    let css = repo_path(DJANGO_APP).join(".fabricks/state/django-admin/staticfiles/admin/css/base.css");
    let text = std::fs::read_to_string(&css).unwrap_or_default();
    assert!(text.contains("DJANGO Admin styles"), "{}: {}", css.display(), &text[..text.len().min(200)]);
}

const FASTAPI_APP: &str = "tests/apps/fastapi-patterns";

fn serve_fastapi_app() -> Server {
    build_once(FASTAPI_APP);
    Server::start(&repo_path(FASTAPI_APP), &[])
}

#[test]
fn fastapis_yield_dependencies_file_responses_and_static_files_work() {
    let server = serve_fastapi_app();
    // The dependency's cleanup runs after each request.
    assert_eq!(server.get("/items").json(), serde_json::json!({"db": "session", "events": ["open"]}));
    assert_eq!(server.get("/items").json()["events"], serde_json::json!(["open", "close", "open"]));
    // Paths relative to the app's folder, as under uvicorn started there.
    assert_eq!(server.get("/file").text(), "hello file\n");
    assert_eq!(server.get("/static/hello.txt").text(), "hello file\n");
    let agent = request(server.addr, "GET", "/agent", &[("User-Agent", "tester")], b"");
    assert_eq!(agent.json(), serde_json::json!({"user_agent": "tester"}));
}

#[test]
fn fastapis_jinja2_templates_link_to_its_static_mount() {
    let server = serve_fastapi_app();
    let page = server.get("/items/7");
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("<h1>Item 7</h1>"), "{}", page.text());
    // url_for builds the absolute URL from the Host header, as under uvicorn.
    let link = format!(r#"href="http://{}/static/styles.css""#, server.addr);
    assert!(page.text().contains(&link), "{}", page.text());
    assert_eq!(server.get("/static/styles.css").text(), "h1 { color: green; }\n");
}

#[test]
fn a_header_model_that_forbids_extra_headers_sees_only_the_clients_headers() {
    let server = serve_fastapi_app();
    let trace = request(server.addr, "GET", "/trace", &[("User-Agent", "tester"), ("X-Trace", "abc")], b"");
    // Spin's own spin-* headers would be extra headers here.
    assert_eq!((trace.status, trace.json()), (200, serde_json::json!({"x_trace": "abc", "user_agent": "tester"})), "{}", trace.text());
    let extra = request(server.addr, "GET", "/trace", &[("X-Trace", "abc"), ("X-Other", "1")], b"");
    assert_eq!(extra.status, 422, "{}", extra.text());
    let errors = extra.json()["detail"].clone();
    assert_eq!(errors.as_array().map(Vec::len), Some(1), "{errors}");
    assert_eq!(errors[0]["loc"], serde_json::json!(["header", "x-other"]), "{errors}");
    assert_eq!(request(server.addr, "GET", "/trace", &[], b"").status, 422, "the required header is missing");
}

#[test]
fn oauth2_password_flow_with_jwt_bearer_tokens() {
    let server = serve_fastapi_app();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let wrong = request(server.addr, "POST", "/token", &form, b"username=ann&password=nope");
    assert_eq!((wrong.status, wrong.header("www-authenticate")), (401, Some("Bearer")), "{}", wrong.text());

    let token = request(server.addr, "POST", "/token", &form, b"username=ann&password=secret");
    assert_eq!(token.status, 200, "{}", token.text());
    assert_eq!(token.json()["token_type"], "bearer");
    let token = token.json()["access_token"].as_str().expect("an access token").to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    let bearer = format!("Bearer {token}");
    let me = request(server.addr, "GET", "/users/me", &[("Authorization", &bearer)], b"");
    assert_eq!((me.status, me.json()), (200, serde_json::json!({"username": "ann", "full_name": "Ann Example"})), "{}", me.text());
    // A token whose signature does not match is refused.
    let forged = format!("Bearer {}x", token);
    assert_eq!(request(server.addr, "GET", "/users/me", &[("Authorization", &forged)], b"").status, 401);
    assert_eq!(server.get("/users/me").status, 401, "no token");
}
