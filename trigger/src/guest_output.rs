//! A guest's stdout and stderr, written to the server's with each line
//! prefixed by who wrote it: the component's id, and the worker process's
//! number when there are several (`wasmtime serve` prefixes lines the same
//! way). Writes go out at once, in order, as the guest makes them. With a
//! log folder (Spin's `--log-dir`), each stream also goes, as written, to
//! `<dir>/<component>_stdout.txt` or `_stderr.txt`, appended.

use bytes::Bytes;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// One of the server's output streams, for one component's guests.
#[derive(Clone)]
pub struct GuestOutput {
    prefix: Arc<[u8]>,
    stderr: bool,
    file: Option<Arc<std::fs::File>>,
}

impl GuestOutput {
    /// Lines go to the server's stdout (or `stderr`), each after `prefix`.
    pub fn new(prefix: &str, stderr: bool) -> Self {
        GuestOutput { prefix: prefix.as_bytes().into(), stderr, file: None }
    }

    /// Also append what the guest writes to `<log_dir>/<component>_stdout.txt`
    /// (or `_stderr.txt`), as Spin's `--log-dir` does.
    pub fn with_log_dir(mut self, log_dir: &std::path::Path, component: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(log_dir)?;
        let name = format!("{component}_{}.txt", if self.stderr { "stderr" } else { "stdout" });
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log_dir.join(name))?;
        self.file = Some(Arc::new(file));
        Ok(self)
    }

    fn writer(&self) -> PrefixedWriter {
        PrefixedWriter { prefix: self.prefix.clone(), stderr: self.stderr, at_line_start: true, file: self.file.clone() }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.writer())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.writer())
    }
}

/// One stream a guest opened: it remembers whether its next byte starts a line.
struct PrefixedWriter {
    prefix: Arc<[u8]>,
    stderr: bool,
    at_line_start: bool,
    file: Option<Arc<std::fs::File>>,
}

impl PrefixedWriter {
    fn write_prefixed(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(mut file) = self.file.as_deref() {
            // One append per guest write; a failing log file does not fail the guest.
            let _ = file.write_all(bytes);
        }
        let text = prefixed(&self.prefix, bytes, &mut self.at_line_start);
        // One write per guest write: lines from other writers do not cut in.
        if self.stderr { std::io::stderr().lock().write_all(&text) } else { std::io::stdout().lock().write_all(&text) }
    }

    fn flush_output(&self) -> std::io::Result<()> {
        if self.stderr { std::io::stderr().flush() } else { std::io::stdout().flush() }
    }
}

/// `bytes` with `prefix` before each line that starts in it.
fn prefixed(prefix: &[u8], bytes: &[u8], at_line_start: &mut bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + prefix.len());
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if *at_line_start {
            out.extend_from_slice(prefix);
        }
        out.extend_from_slice(line);
        *at_line_start = line.ends_with(b"\n");
    }
    out
}

impl OutputStream for PrefixedWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_prefixed(&bytes).map_err(|e| StreamError::LastOperationFailed(e.into()))
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.flush_output().map_err(|e| StreamError::LastOperationFailed(e.into()))
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for PrefixedWriter {
    async fn ready(&mut self) {}
}

impl AsyncWrite for PrefixedWriter {
    fn poll_write(mut self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_prefixed(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(self.flush_output())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::prefixed;

    #[test]
    fn every_line_gets_the_prefix_once_even_across_writes() {
        let mut at_start = true;
        let mut out = prefixed(b"app: ", b"one\ntw", &mut at_start);
        out.extend(prefixed(b"app: ", b"o\n\nthree", &mut at_start));
        out.extend(prefixed(b"app: ", b"\n", &mut at_start));
        assert_eq!(String::from_utf8(out).unwrap(), "app: one\napp: two\napp: \napp: three\n");
    }
}
