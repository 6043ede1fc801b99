//! Spin's `wagi` executor (WAGI: CGI for WebAssembly): a component that is
//! a WASI preview1 command module (a `.wasm` core module, or its `.wat`
//! text) is run once per request, as a CGI program: the request's CGI 1.1
//! variables and the component's environment as its environment, the query
//! as its arguments, the body on stdin; what it prints to stdout is parsed
//! as CGI headers (`Content-Type`, `Status`, `Location`, any other header)
//! and the body. A module that exits non-zero, traps, runs past the request
//! timeout or prints no usable headers costs its request a 500 (504 for the
//! timeout) and a log line, never the server.

use crate::AppComponent;
use crate::guest_output::GuestOutput;
use crate::limits::Limits;
use crate::router::RouteMatch;
use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use wasmtime::{Engine, Linker, Module, Store, StoreLimits, UpdateDeadline};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};
use wasmtime_wasi_http::WasiBody;

/// The executor's settings (`executor = { type = "wagi", argv = "..." }`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WagiConfig {
    /// The program's arguments, space-separated: `${SCRIPT_NAME}` is the
    /// request's path, `${ARGS}` its query's `name=value` pairs.
    pub argv: String,
    /// The function to run: WASI's `_start` unless another export is named
    /// (as WAGI allowed; Spin 3 ignores the setting and runs `_start`).
    pub entrypoint: String,
}

impl Default for WagiConfig {
    fn default() -> Self {
        WagiConfig { argv: "${SCRIPT_NAME} ${ARGS}".into(), entrypoint: "_start".into() }
    }
}

/// What CGI calls the server software.
const SERVER_SOFTWARE: &str = "WAGI/1";

/// Whether `bytes` (a component's file) is a core module or its text, not a
/// component.
pub fn is_core_module(bytes: &[u8]) -> bool {
    // The binary format's preamble: magic, then version 1 and layer 0 (a
    // component's layer is 1).
    if bytes.starts_with(b"\0asm") {
        return bytes.get(4..8) == Some(&[1, 0, 0, 0]);
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let text = text.trim_start();
    // WAT: comments may come first.
    let code = text.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with(";;")).unwrap_or("");
    code.starts_with("(module")
}

/// [`is_core_module`] of a file's first bytes (a component is tens of
/// megabytes: only its preamble is read). False if it cannot be read.
pub fn is_core_module_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path).and_then(|file| file.take(4096).read_to_end(&mut head)).is_ok() && is_core_module(&head)
}

/// A WAGI component: its compiled module, and what each run is given.
pub struct WagiModule {
    component: AppComponent,
    config: WagiConfig,
    engine: Engine,
    module: Module,
    linker: Linker<WagiHost>,
    limits: Limits,
    /// One permit per run at once (`max_instances`).
    turns: Arc<tokio::sync::Semaphore>,
    stderr: GuestOutput,
    stopping: Arc<AtomicBool>,
}

struct WagiHost {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
    deadline: Instant,
    stopping: Arc<AtomicBool>,
}

impl WagiModule {
    /// `runs`: how many runs of the module at once (more requests wait).
    pub fn new(
        engine: &Engine,
        component: &AppComponent,
        config: WagiConfig,
        limits: Limits,
        runs: usize,
        stderr: GuestOutput,
    ) -> Result<Self> {
        let module = Module::from_file(engine, &component.source)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling the WAGI module {} of component {:?}", component.source.display(), component.id))?;
        if !module.exports().any(|export| export.name() == config.entrypoint) {
            bail!(
                "component {:?}: {} exports no function {:?}: the wagi executor runs WASI command modules, from `_start` unless its entrypoint names another\n  fix: build it as a WASI command (a program with a main function), or correct the executor's entrypoint",
                component.id,
                component.source.display(),
                config.entrypoint
            );
        }
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut linker, |host: &mut WagiHost| &mut host.wasi)
            .map_err(anyhow::Error::from)
            .context("linking WASI preview1")?;
        for import in module.imports() {
            if import.module() != "wasi_snapshot_preview1" {
                bail!(
                    "component {:?}: {} imports {}::{}, which the wagi executor does not provide (only WASI preview1, `wasi_snapshot_preview1`)",
                    component.id,
                    component.source.display(),
                    import.module(),
                    import.name()
                );
            }
        }
        Ok(WagiModule {
            turns: Arc::new(tokio::sync::Semaphore::new(runs)),
            component: component.clone(),
            config,
            engine: engine.clone(),
            module,
            linker,
            limits,
            stderr,
            stopping: Arc::default(),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Make every run trap at its next epoch tick (the server is stopping).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Answer one request by running the module.
    pub async fn handle(&self, request: Request<Incoming>, route: &RouteMatch, client: SocketAddr) -> Response<WasiBody> {
        let Ok(_turn) = self.turns.acquire().await else { return plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n") };
        let (parts, body) = request.into_parts();
        let max_body = usize::try_from(self.limits.max_request_body).unwrap_or(usize::MAX);
        let body = match http_body_util::Limited::new(body, max_body).collect().await {
            Ok(body) => body.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, &format!("Payload Too Large: the limit is {max_body} bytes\n"));
            }
            Err(_) => return plain(StatusCode::BAD_REQUEST, "Bad Request: the request body is malformed\n"),
        };
        let variables = cgi_variables(&parts, route, client, body.len());
        let started = Instant::now();
        match self.run(&parts, variables, body).await {
            Ok(stdout) => match compose_response(&stdout) {
                Ok(response) => response,
                Err(error) => {
                    tracing::error!(event = "wagi_bad_output", "{}: {error:#}", self.component.id);
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
                }
            },
            Err(error) if started.elapsed() >= self.limits.request_timeout => {
                tracing::warn!(event = "request_timeout", "{}: the WAGI module ran past the request timeout: {error:#}", self.component.id);
                plain(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout\n")
            }
            Err(error) => {
                tracing::error!(event = "wagi_failed", "{}: {error:#}", self.component.id);
                plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
            }
        }
    }

    /// Run the module once; what it printed to stdout.
    async fn run(&self, parts: &http::request::Parts, variables: Vec<(String, String)>, body: Bytes) -> Result<Bytes> {
        let script_name = parts.uri.path();
        let args = parts.uri.query().unwrap_or_default().replace('&', " ");
        let argv = self.config.argv.replace("${SCRIPT_NAME}", script_name).replace("${ARGS}", &args);
        let argv: Vec<&str> = argv.split(' ').collect();

        let stdout = MemoryOutputPipe::new(usize::try_from(self.limits.max_request_body).unwrap_or(usize::MAX).max(64 << 20));
        let mut wasi = WasiCtxBuilder::new();
        // The component's environment, then the request's CGI variables.
        wasi.envs(&self.component.environment).envs(&variables).args(&argv);
        wasi.stdin(MemoryInputPipe::new(body)).stdout(stdout.clone()).stderr(self.stderr.clone());
        for mount in &self.component.files {
            let perms = if mount.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            wasi.preopened_dir(&mount.host, &mount.guest, perms)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("mounting {} at {}", mount.host.display(), mount.guest))?;
        }
        let mut store = Store::new(
            &self.engine,
            WagiHost {
                wasi: wasi.build_p1(),
                limits: self.limits.store_limits(),
                deadline: Instant::now() + self.limits.request_timeout,
                stopping: self.stopping.clone(),
            },
        );
        store.limiter(|host| &mut host.limits);
        store.epoch_deadline_callback(|store| {
            let host = store.data();
            if host.stopping.load(Ordering::Relaxed) {
                return Err(wasmtime::Error::msg("the server is stopping"));
            }
            if Instant::now() >= host.deadline {
                return Err(wasmtime::Error::msg("the request ran past its timeout"));
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);
        let instance =
            self.linker.instantiate_async(&mut store, &self.module).await.map_err(anyhow::Error::from).context("instantiating")?;
        let entrypoint = &self.config.entrypoint;
        let start = instance
            .get_typed_func::<(), ()>(&mut store, entrypoint)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{entrypoint:?} is not a function without parameters or results"))?;
        let deadline = tokio::time::Instant::from_std(store.data().deadline + std::time::Duration::from_millis(100));
        match tokio::time::timeout_at(deadline, start.call_async(&mut store, ())).await {
            Err(_) => bail!("the module ran past the request timeout"),
            Ok(Ok(())) => {}
            Ok(Err(error)) => match error.downcast_ref::<I32Exit>() {
                Some(I32Exit(0)) => {}
                Some(I32Exit(status)) => bail!("the module exited with status {status}"),
                None => return Err(anyhow!("the module failed: {:#}", error.root_cause())),
            },
        }
        drop(store);
        let printed = stdout.contents();
        if printed.is_empty() {
            bail!("the module printed nothing: a WAGI module prints CGI headers (at least Content-Type), a blank line, then the body");
        }
        Ok(printed)
    }
}

/// The CGI 1.1 variables for a request, as Spin's wagi executor sets them.
fn cgi_variables(parts: &http::request::Parts, route: &RouteMatch, client: SocketAddr, content_length: usize) -> Vec<(String, String)> {
    let host_header = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let (server_name, server_port) = match host_header.split_once(':') {
        Some((name, port)) => (name.to_string(), port.to_string()),
        None => (host_header.to_string(), "80".to_string()),
    };
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let decoded = percent_encoding::percent_decode_str(&route.path_info).decode_utf8_lossy().into_owned();
    let mut variables: Vec<(String, String)> = vec![
        ("AUTH_TYPE".into(), String::new()),
        ("CONTENT_LENGTH".into(), content_length.to_string()),
        ("CONTENT_TYPE".into(), parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()),
        ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
        ("QUERY_STRING".into(), parts.uri.query().unwrap_or("").to_string()),
        ("REMOTE_ADDR".into(), client.ip().to_string()),
        ("REMOTE_HOST".into(), client.ip().to_string()),
        ("REMOTE_USER".into(), String::new()),
        ("REQUEST_METHOD".into(), parts.method.to_string()),
        ("SCRIPT_NAME".into(), route.component_route.clone()),
        // As Spin passes them: PATH_INFO as sent, PATH_TRANSLATED decoded.
        ("PATH_INFO".into(), route.path_info.clone()),
        ("X_RAW_PATH_INFO".into(), route.path_info.clone()),
        ("PATH_TRANSLATED".into(), decoded),
        ("SERVER_NAME".into(), server_name),
        ("SERVER_PORT".into(), server_port),
        ("SERVER_PROTOCOL".into(), format!("{:?}", parts.version)),
        ("SERVER_SOFTWARE".into(), SERVER_SOFTWARE.into()),
        ("X_FULL_URL".into(), format!("http://{host_header}{path_and_query}")),
        ("X_MATCHED_ROUTE".into(), route.raw_route.clone()),
        ("X_BASE_PATH".into(), "/".into()),
        ("X_RAW_COMPONENT_ROUTE".into(), route.raw_route.clone()),
        ("X_COMPONENT_ROUTE".into(), route.component_route.clone()),
        ("X_CLIENT_ADDR".into(), client.to_string()),
    ];
    for (name, value) in &route.captures {
        variables.push((format!("X_PATH_MATCH_{}", name.to_ascii_uppercase()), value.clone()));
    }
    for (name, value) in &parts.headers {
        let key = format!("HTTP_{}", name.as_str().to_ascii_uppercase().replace('-', "_"));
        // RFC 3875 4.1.18: credentials and hop-by-hop headers are not passed.
        if key == "HTTP_AUTHORIZATION" || key == "HTTP_CONNECTION" {
            continue;
        }
        let value = value.to_str().unwrap_or("CORRUPT VALUE").to_string();
        match variables.iter_mut().find(|(existing, _)| *existing == key) {
            // A repeated header: its values joined, as a CGI server does.
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            None => variables.push((key, value)),
        }
    }
    variables
}

/// The response a CGI program printed: headers (lines of `Name: value`,
/// CRs ignored) until a blank line, then the body. `Status: CODE [text]`
/// sets the status; `Location` redirects (302 unless a status is given);
/// a response needs `Content-Type`, `Location` or `Status`.
fn compose_response(stdout: &[u8]) -> Result<Response<WasiBody>> {
    let (head, body) = split_head(stdout);
    let head = String::from_utf8(head).context("the module's CGI headers are not UTF-8")?;
    let mut response = Response::new(Full::new(Bytes::copy_from_slice(body)).map_err(|never| match never {}).boxed_unsync());
    let mut sufficient = false;
    let mut explicit_status = false;
    for line in head.lines().filter(|line| !line.trim().is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            tracing::warn!(event = "wagi_bad_header", "a WAGI module printed a header line without a colon: {line:?}");
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        let header_value = HeaderValue::from_str(value).with_context(|| format!("the header {name}: {value:?} is not a valid value"))?;
        match name.as_str() {
            "content-type" => {
                sufficient = true;
                response.headers_mut().insert(header::CONTENT_TYPE, header_value);
            }
            "status" => {
                sufficient = true;
                explicit_status = true;
                let code = value.split_once(' ').map(|(code, _)| code).unwrap_or(value);
                *response.status_mut() = code.parse::<StatusCode>().unwrap_or(StatusCode::BAD_GATEWAY);
            }
            "location" => {
                sufficient = true;
                response.headers_mut().insert(header::LOCATION, header_value);
                if !explicit_status {
                    *response.status_mut() = StatusCode::FOUND;
                }
            }
            _ => match HeaderName::from_bytes(name.as_bytes()) {
                Ok(name) => {
                    response.headers_mut().append(name, header_value);
                }
                Err(_) => tracing::warn!(event = "wagi_bad_header", "a WAGI module printed an invalid header name: {name:?}"),
            },
        }
    }
    if !sufficient {
        bail!("the module's output has no Content-Type, Location or Status header before its first blank line");
    }
    Ok(response)
}

/// The header block (without CRs) and the body of a CGI program's output.
fn split_head(stdout: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut head = Vec::new();
    let mut last = 0u8;
    for (at, &byte) in stdout.iter().enumerate() {
        if byte == b'\r' {
            continue;
        }
        if byte == b'\n' && last == b'\n' {
            return (head, &stdout[at + 1..]);
        }
        head.push(byte);
        last = byte;
    }
    // No blank line: all head, no body.
    (head, &[])
}

fn plain(status: StatusCode, body: &str) -> Response<WasiBody> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_output_becomes_a_response() {
        let ok = compose_response(b"Content-Type: text/plain\r\nX-Thing: 1\r\n\r\nhello\n").unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.headers()["content-type"], "text/plain");
        assert_eq!(ok.headers()["x-thing"], "1");

        let missing = compose_response(b"Status: 404 Not Found\n\ngone").unwrap();
        assert_eq!(missing.status(), 404);

        let redirect = compose_response(b"Location: /elsewhere\n\n").unwrap();
        assert_eq!((redirect.status(), &redirect.headers()["location"]), (StatusCode::FOUND, &HeaderValue::from_static("/elsewhere")));
        let moved = compose_response(b"Status: 301\nLocation: /new\n\n").unwrap();
        assert_eq!(moved.status(), 301);

        assert!(compose_response(b"X-Only: 1\n\nbody").is_err(), "no Content-Type, Location or Status");
        assert!(compose_response(b"hello world").is_err());
    }

    #[test]
    fn a_body_keeps_its_carriage_returns_and_blank_lines() {
        let (head, body) = split_head(b"Content-Type: a\r\n\r\nline\r\n\r\nmore");
        assert_eq!((head.as_slice(), body), (&b"Content-Type: a\n"[..], &b"line\r\n\r\nmore"[..]));
    }

    #[test]
    fn core_modules_and_their_text_are_told_from_components() {
        assert!(is_core_module(b"\0asm\x01\0\0\0"));
        assert!(!is_core_module(b"\0asm\x0d\0\x01\0"));
        assert!(is_core_module(b";; a WAGI module\n(module (func (export \"_start\")))"));
        assert!(!is_core_module(b"(component)"));
    }
}
