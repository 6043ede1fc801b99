//! Serving an app that is replaced while it runs (`up --watch`): one socket,
//! served by one generation of the app after another. A newer app stops the
//! current generation from accepting; its requests finish on its own
//! instances while connections wait in the socket's backlog, then the next
//! generation (its components loaded from the compiled-code cache) accepts
//! them. No connection is refused on the way. One worker process. How many
//! generations have finished (every request answered, the instances gone)
//! is published, so that whoever made an app's files can remove them once
//! nothing serves from them.

use crate::{App, ServeOptions};
use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedReceiver;

/// Serve `app`, then each app that arrives on `apps`, until a stop signal.
/// `finished` counts the generations done with: `app` is the first, each
/// app from `apps` the next.
pub fn serve(app: App, options: ServeOptions, mut apps: UnboundedReceiver<App>, finished: tokio::sync::watch::Sender<u64>) -> Result<()> {
    let listener = crate::bind(options.listen, options.find_free_port, false)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let mut app = app;
        let mut options = options;
        loop {
            let next: Arc<Mutex<Option<App>>> = Arc::default();
            let stop = {
                let next = next.clone();
                let apps = &mut apps;
                async move {
                    tokio::select! {
                        _ = crate::shutdown_signal() => {}
                        Some(app) = apps.recv() => *next.lock().unwrap() = Some(app),
                    }
                }
            };
            let socket = listener.try_clone().context("sharing the listening socket with the next generation")?;
            crate::serve(app, options.clone(), socket, stop, || Ok(())).await?;
            finished.send_modify(|count| *count += 1);
            let Some(newer) = next.lock().unwrap().take() else {
                tracing::info!("stopped");
                return Ok(());
            };
            app = newer;
            // The banner was printed once; the address stays.
            options.announce = false;
            tracing::info!(event = "reloaded", "serving the new version of the app");
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
