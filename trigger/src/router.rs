//! Spin's route rules: `/a/b` exact, `/a/...` trailing wildcard (matching
//! `/a`, `/a/` and `/a/x/y`), `:name` segments capturing. Exact routes beat
//! wildcards; among wildcards the longest prefix wins, whatever the order;
//! a duplicate route replaces the earlier one (and is reported). The query
//! string plays no part.

use crate::app::AppRoute;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Capture(String),
}

#[derive(Clone, Debug)]
struct Route {
    component: String,
    /// The route as written, e.g. `/api/...`.
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

/// What a request path matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    pub component: String,
    /// The route as written (`spin-raw-component-route`, `spin-matched-route`).
    pub raw_route: String,
    /// The route without a trailing `/...` (`spin-component-route`).
    pub component_route: String,
    /// The part of the path the `...` matched (`spin-path-info`).
    pub path_info: String,
    /// `:name` captures, in order.
    pub captures: Vec<(String, String)>,
}

#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Route>,
    /// Problems found while building the table (duplicates), for the log.
    pub warnings: Vec<String>,
}

impl Router {
    pub fn new(app_routes: &[AppRoute]) -> Self {
        let mut router = Router::default();
        for app_route in app_routes {
            let route = parse(&app_route.component, &app_route.route);
            if let Some(existing) = router.routes.iter_mut().find(|r| same_shape(r, &route)) {
                router.warnings.push(format!(
                    "route {:?} of component {:?} duplicates the route of component {:?}; the later one ({:?}) serves it",
                    route.raw, route.component, existing.component, route.component
                ));
                *existing = route;
            } else {
                router.routes.push(route);
            }
        }
        router
    }

    /// The routes, for the `Available Routes` listing: (component, route, wildcard).
    pub fn listing(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.routes.iter().map(|r| (r.component.as_str(), r.raw.as_str(), r.wildcard))
    }

    /// Find the route for `path` (no query string).
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let parts: Vec<&str> = if trimmed.is_empty() { Vec::new() } else { trimmed.split('/').collect() };

        let exact = self
            .routes
            .iter()
            .filter(|r| !r.wildcard)
            .filter_map(|r| exact_match(r, &parts).map(|captures| (r, captures)))
            // Fewer captures = more literal = more specific.
            .min_by_key(|(_, captures)| captures.len());
        if let Some((route, captures)) = exact {
            return Some(route_match(route, captures, String::new()));
        }

        self.routes
            .iter()
            .filter(|r| r.wildcard)
            .filter_map(|r| prefix_match(r, &parts).map(|captures| (r, captures)))
            .max_by_key(|(r, _)| r.segments.len())
            .map(|(route, captures)| {
                let prefix_len: usize = parts[..route.segments.len()].iter().map(|p| p.len() + 1).sum();
                let path_info = if route.segments.is_empty() { path.to_string() } else { path[prefix_len.min(path.len())..].to_string() };
                route_match(route, captures, path_info)
            })
    }
}

fn route_match(route: &Route, captures: Vec<(String, String)>, path_info: String) -> RouteMatch {
    let component_route = route.raw.strip_suffix("/...").unwrap_or(&route.raw).to_string();
    RouteMatch {
        component: route.component.clone(),
        raw_route: route.raw.clone(),
        component_route: if route.raw == "/..." { String::new() } else { component_route },
        path_info,
        captures,
    }
}

fn parse(component: &str, raw: &str) -> Route {
    let raw = if raw.starts_with('/') { raw.to_string() } else { format!("/{raw}") };
    let (body, wildcard) = match raw.strip_suffix("/...") {
        Some(body) => (body.to_string(), true),
        None if raw == "..." => (String::new(), true),
        None => (raw.clone(), false),
    };
    let segments = body
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix(':') {
            Some(name) => Segment::Capture(name.to_string()),
            None => Segment::Literal(s.to_string()),
        })
        .collect();
    Route { component: component.to_string(), raw, segments, wildcard }
}

fn same_shape(a: &Route, b: &Route) -> bool {
    a.wildcard == b.wildcard && a.segments == b.segments
}

fn exact_match(route: &Route, parts: &[&str]) -> Option<Vec<(String, String)>> {
    // A trailing slash names the same resource: `/a/b/` matches `/a/b`.
    let parts = match parts.split_last() {
        Some((&"", rest)) => rest,
        _ => parts,
    };
    if parts.len() != route.segments.len() {
        return None;
    }
    match_segments(&route.segments, parts)
}

fn prefix_match(route: &Route, parts: &[&str]) -> Option<Vec<(String, String)>> {
    if parts.len() < route.segments.len() {
        return None;
    }
    match_segments(&route.segments, &parts[..route.segments.len()])
}

fn match_segments(segments: &[Segment], parts: &[&str]) -> Option<Vec<(String, String)>> {
    let mut captures = Vec::new();
    for (segment, part) in segments.iter().zip(parts) {
        match segment {
            Segment::Literal(text) if text == part => {}
            Segment::Literal(_) => return None,
            Segment::Capture(_) if part.is_empty() => return None,
            Segment::Capture(name) => captures.push((name.clone(), part.to_string())),
        }
    }
    Some(captures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        Router::new(
            &routes.iter().map(|(c, r)| AppRoute { component: c.to_string(), route: r.to_string(), wagi: None }).collect::<Vec<_>>(),
        )
    }

    fn matched(r: &Router, path: &str) -> Option<(String, String)> {
        r.route(path).map(|m| (m.component, m.path_info))
    }

    #[test]
    fn wildcard_path_info_follows_spin() {
        let r = router(&[("t", "/test/...")]);
        assert_eq!(matched(&r, "/test"), Some(("t".into(), "".into())));
        assert_eq!(matched(&r, "/test/"), Some(("t".into(), "/".into())));
        assert_eq!(matched(&r, "/test/a/"), Some(("t".into(), "/a/".into())));
        assert_eq!(matched(&r, "/testing"), None);
        assert_eq!(matched(&r, "/"), None);
    }

    #[test]
    fn root_wildcard_matches_everything_with_the_whole_path() {
        let r = router(&[("app", "/...")]);
        assert_eq!(matched(&r, "/"), Some(("app".into(), "/".into())));
        assert_eq!(matched(&r, "/users/42"), Some(("app".into(), "/users/42".into())));
        assert_eq!(r.route("/x").unwrap().component_route, "");
    }

    #[test]
    fn exact_beats_wildcard_and_longest_prefix_wins() {
        let r = router(&[("deep", "/a/b/..."), ("exact", "/a/b"), ("root", "/..."), ("a", "/a/...")]);
        assert_eq!(matched(&r, "/a/b").unwrap().0, "exact");
        assert_eq!(matched(&r, "/a/b/c").unwrap().0, "deep");
        assert_eq!(matched(&r, "/a/x").unwrap().0, "a");
        assert_eq!(matched(&r, "/z").unwrap().0, "root");
    }

    #[test]
    fn captures_are_named() {
        let r = router(&[("u", "/users/:id/posts/...")]);
        let m = r.route("/users/42/posts/7").unwrap();
        assert_eq!(m.captures, vec![("id".to_string(), "42".to_string())]);
        assert_eq!(m.path_info, "/7");
        assert_eq!(m.component_route, "/users/:id/posts");
    }

    #[test]
    fn the_last_duplicate_wins_and_is_reported() {
        let r = router(&[("first", "/x"), ("second", "/x")]);
        assert_eq!(matched(&r, "/x").unwrap().0, "second");
        assert_eq!(r.warnings.len(), 1);
    }
}
