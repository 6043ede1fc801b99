//! A file's bytes read on the thread that runs the guest.
//!
//! `descriptor.read-via-stream` in wasmtime-wasi hands every read of the
//! stream it returns to tokio's blocking pool, even with
//! `allow_blocking_current_thread`: the stream's `read` starts the read on
//! another thread and answers "nothing yet", and the guest (wasi-libc's
//! `read`, through the preview1 adapter) then subscribes and blocks until
//! it is done, and reads again. A small static file cost two such round
//! trips (its bytes, then its end) and four extra host calls. This module
//! puts back `read-via-stream` with a stream that reads the file where it
//! is asked, as the guest's other file calls already do: the guest waits
//! for its bytes either way, and the app's files are local.
//!
//! Everything else about the descriptor (permissions, other methods) is
//! wasmtime-wasi's; the guest sees the same interface and the same bytes.

use anyhow::{Context, Result};
use bytes::{Bytes, BytesMut};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::filesystem::Descriptor;
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;
use wasmtime_wasi::p2::{DynInputStream, InputStream, Pollable, StreamError, StreamResult};

/// The `wasi:filesystem` version wasmtime-wasi defines; guests importing
/// any 0.2.x resolve to it.
const TYPES_INTERFACE: &str = "wasi:filesystem/types@0.2.12";

/// The most one read returns (wasmtime-wasi's own cap).
const MAX_READ: usize = 64 * 1024;

/// Replace `[method]descriptor.read-via-stream` in a linker that has WASI p2.
pub fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) -> Result<()> {
    linker.allow_shadowing(true);
    let defined = linker
        .instance(TYPES_INTERFACE)
        .and_then(|mut types| {
            types.func_wrap("[method]descriptor.read-via-stream", |mut store, (descriptor, offset): (Resource<Descriptor>, u64)| {
                let table = store.data_mut().ctx().table;
                let file = match table.get(&descriptor)? {
                    Descriptor::File(file) => file.file.clone(),
                    Descriptor::Dir(_) => return Ok((Err(ErrorCode::IsDirectory),)),
                };
                let stream: DynInputStream = Box::new(FileStream { file, position: offset, ended: false });
                Ok((Ok(table.push(stream)?),))
            })
        })
        .map_err(anyhow::Error::from);
    linker.allow_shadowing(false);
    defined.context("linking wasi:filesystem's read-via-stream")
}

/// The bytes of a file from `position` on, read when asked.
struct FileStream {
    file: Arc<std::fs::File>,
    position: u64,
    ended: bool,
}

impl InputStream for FileStream {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if self.ended {
            return Err(StreamError::Closed);
        }
        if size == 0 {
            return Ok(Bytes::new());
        }
        let mut buffer = BytesMut::zeroed(size.min(MAX_READ));
        loop {
            match self.file.read_at(&mut buffer, self.position) {
                Ok(0) => {
                    self.ended = true;
                    return Err(StreamError::Closed);
                }
                Ok(read) => {
                    buffer.truncate(read);
                    self.position += read as u64;
                    return Ok(buffer.freeze());
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.ended = true;
                    return Err(StreamError::LastOperationFailed(error.into()));
                }
            }
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for FileStream {
    /// Always ready: a read does its work when it is made.
    async fn ready(&mut self) {}
}
