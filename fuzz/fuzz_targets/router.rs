//! Routes and a path from the input (first line: the path; the rest: routes).
#![no_main]
use fabricks_trigger::{AppRoute, router::Router};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.lines();
    let path = lines.next().unwrap_or("/");
    let routes: Vec<AppRoute> = lines
        .enumerate()
        .map(|(i, route)| AppRoute { component: format!("c{i}"), route: route.to_string(), wagi: None })
        .collect();
    let router = Router::new(&routes);
    let _ = router.route(path);
    let _ = router.listing().count();
});
