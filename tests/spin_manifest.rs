//! `up` of a directory holding a spin.toml: fabricks builds the components
//! that have fabricks settings, then serves every `[[trigger.fabricks]]` and
//! `[[trigger.http]]` route with Spin's rules.

mod support;

use support::{Server, build_once, repo_path};

fn serve_multi() -> Server {
    build_once("tests/apps/multi");
    Server::start(&repo_path("tests/apps/multi"), &[])
}

#[test]
fn every_route_of_several_components_is_listed_like_spin_lists_them() {
    let server = serve_multi();
    let base = format!("http://127.0.0.1:{}", server.addr.port());
    let stdout = server.stdout();
    assert_eq!(
        stdout[..5],
        [
            format!("Serving {base}"),
            "Available Routes:".to_string(),
            format!("  api: {base}/api (wildcard)"),
            format!("  site: {base}/site (wildcard)"),
            format!("  site: {base}/users/:id"),
        ]
    );
}

#[test]
fn each_route_reaches_its_component_with_its_environment_and_mount_point() {
    let server = serve_multi();
    let api = server.get("/api/x/y?q=1").json();
    assert_eq!(api["greeting"], "api");
    assert_eq!(api["script_root"], "/api");
    assert_eq!(api["path"], "/x/y");
    assert_eq!(api["spin"]["spin-matched-route"], "/api/...");
    assert_eq!(api["spin"]["spin-path-info"], "/x/y");
    assert_eq!(api["spin"]["spin-component-route"], "/api");
    assert_eq!(api["spin_among_headers"], serde_json::json!([]), "Spin's headers reached the app's own");

    // `/site` is the mount point itself: PATH_INFO is empty, so Flask sends
    // the client to `/site/`, as it does under any WSGI server.
    let bare = server.get("/site");
    assert_eq!(bare.status, 308, "{}", bare.text());
    assert_eq!(bare.header("location"), Some(format!("http://127.0.0.1:{}/site/", server.addr.port()).as_str()));
    let site = server.get("/site/").json();
    assert_eq!(site["greeting"], "site");
    assert_eq!(site["script_root"], "/site");
    assert_eq!(site["path"], "/");
    assert_eq!(site["spin"]["spin-path-info"], "/");

    let user = server.get("/users/42").json();
    assert_eq!(user["greeting"], "site");
    assert_eq!(user["script_root"], "", "an exact route mounts the app at the root");
    assert_eq!(user["path"], "/users/42");
    assert_eq!(user["spin"]["spin-path-match-id"], "42");
    assert_eq!(user["spin"]["spin-component-route"], "/users/:id");
}

#[test]
fn a_path_no_route_matches_gets_an_empty_404_from_the_host() {
    let server = serve_multi();
    let response = server.get("/nothing/here");
    assert_eq!(response.status, 404);
    assert!(response.body.is_empty(), "{}", response.text());
    // The route prefix must match whole segments.
    assert_eq!(server.get("/apiary").status, 404);
}

#[test]
fn the_info_endpoint_names_the_application() {
    let server = serve_multi();
    let info = server.get("/.well-known/spin/info");
    assert_eq!(info.json(), serde_json::json!({"name": "multi", "version": "3.0.0"}));
    assert_eq!(server.get("/.well-known/spin/nothing").status, 404);
}

#[test]
fn a_component_can_carry_its_own_limits() {
    let server = serve_multi();
    let body = vec![b'x'; 2000];
    // `site` allows 1 KiB bodies; `api` has the server-wide 64 MiB.
    assert_eq!(support::request(server.addr, "POST", "/site/x", &[], &body).status, 413);
    let api = support::request(server.addr, "POST", "/api/x", &[], &body);
    assert_eq!(api.status, 405, "the api component took the body to its app: {}", api.text());
}
