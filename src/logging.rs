//! The server's log: `tracing` events on stderr, one line each, as
//! `fabricks: [warning: |error: ]message key=value...`. Which events show is
//! `RUST_LOG`'s to say (e.g. `RUST_LOG=warn` for problems only,
//! `RUST_LOG=fabricks_trigger=debug`); by default fabricks' own at info and
//! up, other crates' warnings and errors. A few events carry an `event`
//! field that names them for tests and tools, whatever the wording.

use std::fmt;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// What shows when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "warn,fabricks_trigger=info,spin_fabricks=info";

/// Send this process's log events to stderr.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).event_format(Line).try_init();
}

/// One event, one line.
struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        write!(writer, "fabricks: ")?;
        match *event.metadata().level() {
            Level::ERROR => write!(writer, "error: ")?,
            Level::WARN => write!(writer, "warning: ")?,
            Level::INFO => {}
            Level::DEBUG => write!(writer, "debug: ")?,
            Level::TRACE => write!(writer, "trace: ")?,
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
