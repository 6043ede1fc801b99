//! Spin's SQLite interface, `spin:sqlite/sqlite@3.0.0` (spin-contracts.md
//! section 8), on rusqlite's bundled SQLite. A component may open the
//! databases it is granted (the lock's `databases` metadata, which Spin
//! writes from `sqlite_databases`); "default" is the file `sqlite_db.db` in
//! the app's state folder (`.spin/` beside the manifest), where `spin up`
//! keeps it, so both see the same data, unless a runtime config file places
//! it, or another database, elsewhere ([`crate::runtime_config`]). Every guest connection is a host
//! connection of its own while it is open, in WAL mode, waiting out the
//! other connections' locks (on a blocking thread), so instances and worker
//! processes share one file safely; a transaction a guest leaves open is
//! rolled back when its connection is dropped, and the host connection is
//! kept for the next guest that opens one.

use anyhow::{Context, Result};
use rusqlite::types::{Value as SqlValue, ValueRef};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{Linker, Resource, ResourceTable};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../adapters/wit/spin-sqlite",
        world: "sqlite-host",
        imports: { default: async },
        with: { "spin:sqlite/sqlite.connection": super::Connection },
    });
}

use bindings::spin::sqlite::sqlite::{self as api, Error, QueryResult, RowResult, Value};

/// How long a statement waits for another connection's write lock before
/// it fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The name Spin gives the database every app has.
pub const DEFAULT_DATABASE: &str = "default";

/// The SQLite databases one component may open, and where they live.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    /// The database names the component is granted.
    pub allowed: Arc<HashSet<String>>,
    /// The file of each granted database that has one
    /// ([`crate::AppComponent::database_file`]).
    pub files: Arc<std::collections::BTreeMap<String, PathBuf>>,
    /// Host connections guests have closed, ready for the next `open`
    /// (apps open one per request): opening a file and setting it up cost
    /// more than a small query.
    pub idle: Arc<Mutex<Vec<rusqlite::Connection>>>,
}

/// At most this many closed connections are kept for reuse.
const IDLE_CONNECTIONS: usize = 8;

/// One open guest connection. Its statements run on the guest's own thread
/// first, with no busy timeout (a hop to another thread cost more than a
/// small query); one that finds another connection's lock held runs again
/// on tokio's blocking threads with the busy timeout, since waiting out that
/// lock must not hold up the executor, where the instance holding it may
/// need to run to commit. A statement that computes for long holds the
/// guest's thread as long, as the guest's own code would, and is stopped
/// at the request's deadline (SQLite's progress handler), as the epoch
/// stops the guest's own code: a runaway query costs its request, never
/// the thread.
pub struct Connection(Arc<Mutex<rusqlite::Connection>>, Arc<Mutex<Vec<rusqlite::Connection>>>);

/// What a store holds for the SQLite interface.
pub struct SqliteCtx {
    pub grants: Grants,
}

/// The view the generated bindings work on: the grants, the store's
/// resource table, and the deadline of the request being handled.
pub struct SqliteView<'a> {
    ctx: &'a SqliteCtx,
    table: &'a mut ResourceTable,
    deadline: Option<Instant>,
}

impl<'a> SqliteView<'a> {
    pub fn new(ctx: &'a SqliteCtx, table: &'a mut ResourceTable, deadline: Option<Instant>) -> Self {
        SqliteView { ctx, table, deadline }
    }
}

/// How many of SQLite's virtual machine steps run between two looks at
/// the clock (a few microseconds' work).
const PROGRESS_STEPS: std::ffi::c_int = 10_000;

/// Stop `connection`'s statements once `deadline` has passed (they fail
/// with "interrupted"); with no deadline, never.
fn stop_at(connection: &rusqlite::Connection, deadline: Option<Instant>) {
    connection.progress_handler(PROGRESS_STEPS, deadline.map(|deadline| move || Instant::now() >= deadline));
}

/// Give `linker` the interface; `view` finds it in a store's data.
pub fn add_to_linker<T: Send + 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> SqliteView<'_>) -> Result<()> {
    api::add_to_linker::<T, HasSqlite>(linker, view).map_err(anyhow::Error::from).context("linking spin:sqlite")
}

struct HasSqlite;

impl wasmtime::component::HasData for HasSqlite {
    type Data<'a> = SqliteView<'a>;
}

/// Open database `path` as Spin's SQLite would be used by several
/// processes: WAL, a busy timeout, foreign keys as SQLite's default (off).
fn open(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let connection = rusqlite::Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(connection)
}

fn io_error(error: impl std::fmt::Display) -> Error {
    Error::Io(error.to_string())
}

impl api::Host for SqliteView<'_> {}

impl api::HostConnection for SqliteView<'_> {
    async fn open(&mut self, database: String) -> Result<Resource<Connection>, Error> {
        if !self.ctx.grants.allowed.contains(&database) {
            return Err(Error::AccessDenied);
        }
        let Some(file) = self.ctx.grants.files.get(&database).cloned() else {
            return Err(Error::NoSuchDatabase);
        };
        let idle = self.ctx.grants.idle.clone();
        let reused = idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match reused {
            Some(connection) => connection,
            None => {
                blocking(move || {
                    if let Some(dir) = file.parent() {
                        std::fs::create_dir_all(dir).map_err(|e| io_error(format!("creating {}: {e}", dir.display())))?;
                    }
                    let connection = open(&file).map_err(io_error)?;
                    // Statements run without waiting unless `execute` says so.
                    connection.busy_timeout(Duration::ZERO).map_err(io_error)?;
                    Ok(connection)
                })
                .await?
            }
        };
        self.table.push(Connection(Arc::new(Mutex::new(connection)), idle)).map_err(io_error)
    }

    async fn execute(&mut self, connection: Resource<Connection>, statement: String, parameters: Vec<Value>) -> Result<QueryResult, Error> {
        let connection = self.table.get(&connection).map_err(|_| Error::InvalidConnection)?.0.clone();
        let parameters: Vec<SqlValue> = parameters.into_iter().map(to_sql).collect();
        // Most statements take microseconds: run them here, on the guest's
        // thread, without waiting for another connection's lock. Only one
        // that would wait goes to a blocking thread, to wait there.
        {
            let guard = connection.lock().map_err(|_| Error::InvalidConnection)?;
            stop_at(&guard, self.deadline);
            match execute(&guard, &statement, &parameters) {
                Err(error) if is_busy(&error) => {}
                done => return done.map_err(to_error),
            }
        }
        blocking(move || {
            let connection = connection.lock().map_err(|_| Error::InvalidConnection)?;
            connection.busy_timeout(BUSY_TIMEOUT).map_err(io_error)?;
            let done = execute(&connection, &statement, &parameters);
            // Should this fail, the connection merely keeps waiting for locks.
            let _ = connection.busy_timeout(Duration::ZERO);
            done.map_err(to_error)
        })
        .await
    }

    async fn last_insert_rowid(&mut self, connection: Resource<Connection>) -> i64 {
        self.table.get(&connection).ok().and_then(|c| c.0.lock().ok().map(|c| c.last_insert_rowid())).unwrap_or(0)
    }

    async fn changes(&mut self, connection: Resource<Connection>) -> u64 {
        self.table.get(&connection).ok().and_then(|c| c.0.lock().ok().map(|c| c.changes())).unwrap_or(0)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        // What the guest left open is rolled back, as closing a connection
        // would; the connection is kept for the next `open` (or closed).
        let Connection(connection, idle) = self.table.delete(connection)?;
        let Ok(connection) = Arc::try_unwrap(connection) else { return Ok(()) };
        let Ok(connection) = connection.into_inner() else { return Ok(()) };
        if connection.is_autocommit() {
            keep_idle(&idle, connection);
        } else {
            tokio::task::spawn_blocking(move || {
                if connection.execute_batch("ROLLBACK").is_ok() {
                    keep_idle(&idle, connection);
                }
            });
        }
        Ok(())
    }
}

/// Keep a closed connection for the next `open`, if there is room.
fn keep_idle(idle: &Mutex<Vec<rusqlite::Connection>>, connection: rusqlite::Connection) {
    if let Ok(mut idle) = idle.lock()
        && idle.len() < IDLE_CONNECTIONS
    {
        idle.push(connection);
    }
}

/// Whether a statement failed because another connection holds a lock it
/// needs (it did nothing, and may be run again).
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// A statement's failure as Spin reports it.
fn to_error(error: rusqlite::Error) -> Error {
    match error {
        rusqlite::Error::SqliteFailure(code, _) if code.code == rusqlite::ErrorCode::DiskFull => Error::DatabaseFull,
        // SQLite's own words, as the guest's sqlite3 module would report them.
        rusqlite::Error::SqliteFailure(_, Some(message)) | rusqlite::Error::SqlInputError { msg: message, .. } => Error::Io(message),
        other => io_error(other),
    }
}

/// Run `work` on a blocking thread.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.map_err(|e| io_error(format!("the database call failed: {e}")))?
}

/// Run one statement with its parameters; rows as Spin returns them.
fn execute(connection: &rusqlite::Connection, statement: &str, parameters: &[SqlValue]) -> rusqlite::Result<QueryResult> {
    let mut prepared = connection.prepare_cached(statement)?;
    let columns: Vec<String> = prepared.column_names().into_iter().map(str::to_string).collect();
    let mut rows = prepared.query(rusqlite::params_from_iter(parameters))?;
    let mut results = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns.len());
        for index in 0..columns.len() {
            values.push(from_sql(row.get_ref(index)?));
        }
        results.push(RowResult { values });
    }
    Ok(QueryResult { columns, rows: results })
}

fn to_sql(value: Value) -> SqlValue {
    match value {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(f) => SqlValue::Real(f),
        Value::Text(t) => SqlValue::Text(t),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Null => Value::Null,
    }
}

/// Spin's `--sqlite` flag: run `statements` (each a statement, or `@FILE`
/// for the statements in a file) on the "default" database of `app`, in
/// order, before it serves.
pub fn run_startup_statements(app: &crate::App, statements: &[String]) -> Result<()> {
    if statements.is_empty() {
        return Ok(());
    }
    let granted = app.components.iter().find(|c| c.sqlite_databases.iter().any(|d| d == DEFAULT_DATABASE));
    let Some(file) = granted.and_then(|c| c.database_file(DEFAULT_DATABASE)) else {
        anyhow::bail!(
            "--sqlite: no component of the app is granted the \"default\" database\n  fix: grant one ([capabilities] sqlite = [\"default\"] in the Fabrickfile, or sqlite_databases = [\"default\"] in spin.toml)"
        );
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let connection = open(&file).with_context(|| format!("--sqlite: opening {}", file.display()))?;
    for statement in statements {
        let sql = match statement.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path).with_context(|| format!("--sqlite: reading {path}"))?,
            None => statement.clone(),
        };
        connection.execute_batch(&sql).with_context(|| format!("--sqlite {statement:?} on {}", file.display()))?;
    }
    Ok(())
}
