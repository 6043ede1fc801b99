//! The HTTP server: accepts connections (hyper, HTTP/1.1 with keep-alive),
//! answers Spin's `/.well-known/spin/` endpoints itself, routes every other
//! request to a component with Spin's `spin-*` headers, and stops cleanly:
//! on shutdown it stops accepting and lets in-flight requests finish.

use crate::app::App;
use crate::instances::{self, ComponentInstances, Expired};
use crate::limits::ServerLimits;
use crate::pool::{InstancePool, Instances};
use crate::router::{RouteMatch, Router};
use anyhow::{Context, Result};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::io::TokioIo;

/// How long in-flight requests may run on after shutdown was asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// At shutdown, how long a connection accepted just before may take to
/// bring its first request (its client is sending it).
const FIRST_REQUEST_WAIT: Duration = Duration::from_secs(1);

/// What every connection shares.
pub struct Server {
    pub app: App,
    pub router: Router,
    pub handlers: HashMap<String, InstancePool<ComponentInstances>>,
    /// Components run by the wagi executor.
    pub wagi: HashMap<String, crate::wagi::WagiModule>,
    pub local_addr: SocketAddr,
    /// Permits for requests being handled (`ServerLimits::max_concurrent_requests`).
    pub in_flight: Arc<tokio::sync::Semaphore>,
    pub limits: ServerLimits,
    /// Log a line per request.
    pub request_log: bool,
}

/// The lines Spin prints at start-up; test harnesses read the port from the first.
pub fn banner(router: &Router, addr: SocketAddr) -> String {
    let base = format!("http://{addr}");
    let mut text = format!("Serving {base}\nAvailable Routes:\n");
    for (component, route, wildcard) in router.listing() {
        let path = route.strip_suffix("/...").unwrap_or(route);
        let path = if path == "/" { "" } else { path };
        let suffix = if wildcard { " (wildcard)" } else { "" };
        text.push_str(&format!("  {component}: {base}{path}{suffix}\n"));
    }
    text
}

/// Accept connections on `listener` until `shutdown` resolves.
pub async fn run(listener: tokio::net::TcpListener, server: Arc<Server>, shutdown: impl Future<Output = ()>) -> Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors and the like: wait, do not die.
                    tracing::warn!("accepting a connection failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let server = server.clone();
        let mut stop = stop_rx.clone();
        let max_head = server.limits.max_header_size.max(8192);
        connections.spawn(async move {
            let requested = Arc::new(tokio::sync::Notify::new());
            let service = {
                let requested = requested.clone();
                hyper::service::service_fn(move |request| {
                    requested.notify_one();
                    let server = server.clone();
                    async move { Ok::<_, Infallible>(server.handle_and_log(request, client).await) }
                })
            };
            // A request head beyond the buffer gets hyper's 431.
            let connection = http1::Builder::new().keep_alive(true).max_buf_size(max_head).serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.changed() => {
                    // hyper's graceful shutdown closes a connection with no
                    // request under way at once, unanswered, even one
                    // accepted a moment ago whose request is on its way: such
                    // a connection is given a moment to bring it (as nginx
                    // does), then answered with `Connection: close`.
                    tokio::select! {
                        _ = connection.as_mut() => return,
                        _ = requested.notified() => {}
                        _ = tokio::time::sleep(FIRST_REQUEST_WAIT) => {}
                    }
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        // Reap finished connections as we go.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("some requests were still running after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
    Ok(())
}

impl Server {
    /// [`Server::handle`], and the request's line in the log: component,
    /// method, target, status, and the time to the response's head.
    async fn handle_and_log(&self, request: Request<Incoming>, client: SocketAddr) -> Response<WasiBody> {
        let route = self.router.route(request.uri().path());
        if !self.request_log {
            return self.handle(request, route, client).await;
        }
        let started = std::time::Instant::now();
        let method = request.method().clone();
        let target = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let component = route.as_ref().map(|route| route.component.clone()).unwrap_or_else(|| "-".into());
        let response = self.handle(request, route, client).await;
        let instance = match response.extensions().get::<crate::instances::Answered>() {
            Some(answered) => format!(" (instance {}, {})", answered.instance, if answered.fresh { "fresh" } else { "reused" }),
            None => String::new(),
        };
        tracing::info!(
            event = "request",
            "{component}: {method} {target} {} {:.1} ms{instance}",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        response
    }

    /// Answer `request`, which the router sent to `route`.
    async fn handle(&self, request: Request<Incoming>, route: Option<RouteMatch>, client: SocketAddr) -> Response<WasiBody> {
        let path = request.uri().path().to_string();
        if let Some(endpoint) = path.strip_prefix("/.well-known/spin/") {
            return self.well_known(endpoint);
        }
        let Some(route) = route else {
            return plain(StatusCode::NOT_FOUND, "");
        };
        if let Some(module) = self.wagi.get(&route.component) {
            let give_up = tokio::time::Instant::now() + self.limits.queue_timeout;
            let Ok(Ok(_in_flight)) = tokio::time::timeout_at(give_up, self.in_flight.clone().acquire_owned()).await else {
                return plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable: too many requests at once\n");
            };
            return module.handle(request, &route, client).await;
        }
        let Some(pool) = self.handlers.get(&route.component) else {
            return plain(StatusCode::NOT_FOUND, "");
        };
        let limits = pool.instances().limits();
        let max_body = limits.max_request_body;
        let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > max_body) {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("Payload Too Large: the limit is {max_body} bytes\n"));
        }
        // In line: first for the server's request slots, then for one of
        // the component's instances, for `queue_timeout` in all.
        let give_up = tokio::time::Instant::now() + self.limits.queue_timeout;
        let permit = tokio::time::timeout_at(give_up, self.in_flight.clone().acquire_owned()).await;
        let turn = match permit {
            Ok(Ok(permit)) => pool.turn(give_up).await.map(|turn| (turn, permit)),
            _ => None,
        };
        let Some((turn, _in_flight)) = turn else {
            tracing::warn!(
                event = "queue_timeout",
                "{}: {path} waited {:?} for a free slot; answered 503",
                route.component,
                self.limits.queue_timeout
            );
            let mut busy = plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable: too many requests at once\n");
            busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return busy;
        };
        let body_fault = Arc::new(BodyFault::default());
        let request = match self.guest_request(request, &route, client, max_body, body_fault.clone()) {
            Ok(request) => request,
            Err(error) => return plain(StatusCode::BAD_REQUEST, &format!("Bad Request: {error:#}\n")),
        };
        let outcome = instances::handle(turn, request).await;
        // The guest saw its body fail (cut off at the limit, or malformed):
        // whatever it answered, the client is told why.
        match body_fault.get() {
            BodyFault::TOO_LARGE => {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("Payload Too Large: the limit is {max_body} bytes\n"));
            }
            BodyFault::MALFORMED => return plain(StatusCode::BAD_REQUEST, "Bad Request: the request body is malformed\n"),
            _ => {}
        }
        match outcome {
            Ok(response) => response,
            Err(error) if error.is::<Expired>() => {
                let timeout = limits.request_timeout;
                tracing::warn!(
                    event = "request_timeout",
                    "{}: request {path} produced no response within {timeout:?}; its instance is dropped",
                    route.component
                );
                plain(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout\n")
            }
            Err(error) => {
                tracing::error!(event = "request_failed", "{}: request {path} failed: {error:#}", route.component);
                plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
            }
        }
    }

    fn well_known(&self, endpoint: &str) -> Response<WasiBody> {
        match endpoint {
            "health" => plain(StatusCode::OK, "OK"),
            "info" => {
                let body = serde_json::json!({ "name": self.app.name, "version": self.app.version }).to_string();
                let mut response = plain(StatusCode::OK, &body);
                response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            _ => plain(StatusCode::NOT_FOUND, ""),
        }
    }

    /// The request as the guest sees it: the absolute URL, every header but
    /// `Connection`, and Spin's `spin-*` headers.
    fn guest_request(
        &self,
        request: Request<Incoming>,
        route: &RouteMatch,
        client: SocketAddr,
        max_body: u64,
        body_fault: Arc<BodyFault>,
    ) -> Result<Request<WasiBody>> {
        let (mut parts, body) = request.into_parts();
        let authority = match parts.headers.get(header::HOST) {
            Some(host) => host.to_str().context("the Host header is not valid text")?.to_string(),
            None => self.local_addr.to_string(),
        };
        let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let full_url = format!("http://{authority}{path_and_query}");
        parts.uri = full_url.parse::<Uri>().context("the Host header is not a valid authority")?;
        parts.headers.remove(header::CONNECTION);

        let headers = &mut parts.headers;
        let mut set = |name: &str, value: &str| -> Result<()> {
            let value = HeaderValue::from_str(value).with_context(|| format!("cannot pass {name}"))?;
            headers.insert(HeaderName::from_bytes(name.as_bytes())?, value);
            Ok(())
        };
        set("spin-full-url", &full_url)?;
        set("spin-path-info", &route.path_info)?;
        set("spin-matched-route", &route.raw_route)?;
        set("spin-base-path", "/")?;
        set("spin-raw-component-route", &route.raw_route)?;
        set("spin-component-route", &route.component_route)?;
        set("spin-client-addr", &client.to_string())?;
        for (name, value) in &route.captures {
            set(&format!("spin-path-match-{}", name.to_ascii_lowercase()), value)?;
        }
        // A body without a Content-Length is cut off at the limit: the guest
        // sees the read fail.
        let body = http_body_util::Limited::new(body, usize::try_from(max_body).unwrap_or(usize::MAX))
            .map_err(move |error| match error.downcast::<hyper::Error>() {
                Ok(hyper_error) => {
                    if hyper_error.is_parse() || !hyper_error.is_incomplete_message() {
                        body_fault.set(BodyFault::MALFORMED);
                    }
                    wasmtime_wasi_http::Error::from(*hyper_error)
                }
                Err(_) => {
                    body_fault.set(BodyFault::TOO_LARGE);
                    wasmtime_wasi_http::Error::HttpRequestBodySize(Some(max_body))
                }
            })
            .boxed_unsync();
        Ok(Request::from_parts(parts, body))
    }
}

/// What went wrong with a request body while the guest read it.
#[derive(Default)]
struct BodyFault(std::sync::atomic::AtomicU8);

impl BodyFault {
    const TOO_LARGE: u8 = 1;
    const MALFORMED: u8 = 2;

    fn set(&self, fault: u8) {
        self.0.store(fault, std::sync::atomic::Ordering::Relaxed);
    }

    fn get(&self) -> u8 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn plain(status: StatusCode, body: &str) -> Response<WasiBody> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    if !body.is_empty() {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    }
    response
}
