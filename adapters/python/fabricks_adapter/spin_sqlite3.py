"""`sqlite3` for a component granted a SQLite database: the DB-API 2.0
module apps import, over Spin's SQLite interface (`spin:sqlite@3.0.0`), so
that every instance and worker shares one database the host keeps (and
`spin up` keeps in the same place). `install()` puts it in `sys.modules`
as `sqlite3` before the app is imported; the app's code is unchanged.

`connect(path)` opens the database the host grants: "default", whatever the
path (`instance/flaskr.sqlite`, `db.sqlite3`); `":memory:"` (and `""`) stay
private in-memory databases of the guest's own SQLite, as natively.

Behaves as CPython's module in its default (legacy) transaction control:
an implicit BEGIN before INSERT, UPDATE, DELETE and REPLACE unless
`isolation_level` is None (IMMEDIATE, so that concurrent writers queue), `commit`/`rollback`, `in_transaction`, the
context manager; qmark and named parameters; `Row`; adapters and
converters (`PARSE_COLNAMES`; `PARSE_DECLTYPES` finds declared types in
the schema for columns of a single table); the exception hierarchy.
Foreign keys are not enforced unless the app turns them on (`PRAGMA
foreign_keys = ON`), as in CPython's: Spin's SQLite enforces them by
default, so a connection that is about to write says so first (Flask's
tutorial drops a referenced table in its `init-db`). Functions registered
with `create_function` and friends cannot run inside the host's SQLite: a
statement that calls one fails naming it."""

import datetime
import re
import sys
import time

import sqlite3 as _native

from componentize_py_types import Err
from wit_world.imports import sqlite as _spin

# What stays the guest's own: constants, version, the statement splitter.
from sqlite3 import (  # noqa: F401
    PARSE_COLNAMES,
    PARSE_DECLTYPES,
    SQLITE_OK,
    complete_statement,
    sqlite_version,
    sqlite_version_info,
)

apilevel = "2.0"
paramstyle = "qmark"
threadsafety = 1
version = "2.6.0"
version_info = (2, 6, 0)

Warning = _native.Warning
Error = _native.Error
InterfaceError = _native.InterfaceError
DatabaseError = _native.DatabaseError
DataError = _native.DataError
OperationalError = _native.OperationalError
IntegrityError = _native.IntegrityError
InternalError = _native.InternalError
ProgrammingError = _native.ProgrammingError
NotSupportedError = _native.NotSupportedError
PrepareProtocol = _native.PrepareProtocol
Blob = _native.Blob
LEGACY_TRANSACTION_CONTROL = getattr(_native, "LEGACY_TRANSACTION_CONTROL", -1)

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime
Binary = memoryview


def DateFromTicks(ticks):
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks):
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks):
    return Timestamp(*time.localtime(ticks)[:6])


# Shared with the guest's own module, so that adapters and converters an app
# registers apply to in-memory databases too.
adapters = _native.adapters
converters = _native.converters
register_adapter = _native.register_adapter
adapt = _native.adapt


def register_converter(name, converter):
    _native.register_converter(name, converter)


def enable_callback_tracebacks(flag):
    _native.enable_callback_tracebacks(flag)


_INT64 = (-(2**63), 2**63 - 1)
_DML = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(insert|update|delete|replace)\b", re.I | re.S)
# Statements that never write: they need no word about foreign keys first.
_READ_ONLY = frozenset(["SELECT", "VALUES", "EXPLAIN", "PRAGMA"])
_KEYWORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(\w+)(?:\s+(\w+))?", re.S)


def _database_name(database):
    """The granted database a path means: "default", whatever the path."""
    return "default"


def _to_spin(value, index):
    if value is None:
        return _spin.Value_Null()
    if isinstance(value, bool) or isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return _spin.Value_Integer(int(value))
    if isinstance(value, float):
        return _spin.Value_Real(value)
    if isinstance(value, str):
        return _spin.Value_Text(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _spin.Value_Blob(bytes(value))
    adapted = adapters.get((type(value), PrepareProtocol))
    if adapted is not None:
        return _to_spin(adapted(value), index)
    conform = getattr(value, "__conform__", None)
    if conform is not None:
        result = conform(PrepareProtocol)
        if result is not None:
            return _to_spin(result, index)
    raise ProgrammingError(f"Error binding parameter {index}: type '{type(value).__name__}' is not supported")


def _from_spin(value, text_factory):
    if isinstance(value, _spin.Value_Null):
        return None
    if isinstance(value, _spin.Value_Text):
        if text_factory is str:
            return value.value
        return text_factory(value.value.encode())
    if isinstance(value, _spin.Value_Blob):
        return bytes(value.value)
    return value.value


def _named_to_positional(sql, parameters):
    """`:name`, `@name` and `$name` parameters as numbered ones (`?N`), with
    the values in order; string literals, quoted names and comments are
    left alone."""
    names, out, i, n = [], [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`[":
            end_char = "]" if c == "[" else c
            j = sql.find(end_char, i + 1)
            j = n - 1 if j < 0 else j
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
        elif c in ":@$" and i + 1 < n and (sql[i + 1].isalnum() or sql[i + 1] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            name = sql[i + 1:j]
            if name not in names:
                names.append(name)
            out.append(f"?{names.index(name) + 1}")
            i = j
        else:
            out.append(c)
            i += 1
    try:
        values = [parameters[name] for name in names]
    except KeyError as missing:
        raise ProgrammingError(f"You did not supply a value for binding parameter :{missing.args[0]}.") from None
    return "".join(out), values


def _has_code(sql):
    """Whether `sql` holds more than comments, whitespace and semicolons."""
    i, n = 0, len(sql)
    while i < n:
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif sql[i].isspace() or sql[i] == ";":
            i += 1
        else:
            return True
    return False


def _split_script(script):
    """The statements of a script, one at a time (Spin's `execute` runs one):
    split at each semicolon that completes a statement, as SQLite's own
    `sqlite3_complete` sees it (not in a string, comment or trigger body)."""
    statements, start = [], 0
    for index, char in enumerate(script):
        if char == ";" and complete_statement(script[start:index + 1]):
            statements.append(script[start:index + 1])
            start = index + 1
    statements.append(script[start:])
    return [statement for statement in statements if _has_code(statement)]


class Row:
    """A result row: a tuple that also maps column names (case-insensitive)."""

    __slots__ = ("_description", "_values", "_index")

    def __init__(self, cursor, values):
        self._description = cursor.description
        self._values = tuple(values)
        self._index = _column_index(cursor)

    def keys(self):
        return [column[0] for column in self._description]

    def __getitem__(self, key):
        if isinstance(key, str):
            position = self._index.get(key)
            if position is None:
                position = self._index.get(key.lower())
                if position is None:
                    raise IndexError("No item with that key")
            return self._values[position]
        return self._values[key]

    def __len__(self):
        return len(self._values)

    def __iter__(self):
        return iter(self._values)

    def __eq__(self, other):
        return isinstance(other, Row) and self._description == other._description and self._values == other._values

    def __hash__(self):
        return hash((tuple(self.keys()), self._values))

    def __repr__(self):
        return f"<sqlite3.Row object at {id(self):#x}>"


def _column_index(cursor):
    """{lower-cased column name: its first position} for the cursor's
    current result, made once for all of its rows."""
    description = cursor.description
    made = cursor.__dict__.get("_column_index")
    if made is not None and made[0] is description:
        return made[1]
    index = {}
    for position, column in enumerate(description or ()):
        index.setdefault(column[0].lower(), position)
    cursor._column_index = (description, index)
    return index


class Cursor:
    def __init__(self, connection):
        if not isinstance(connection, Connection):
            raise TypeError("argument 1 must be sqlite3.Connection")
        self.connection = connection
        self.arraysize = 1
        self.row_factory = connection.row_factory
        self.description = None
        self.rowcount = -1
        self.lastrowid = None
        self._rows = []
        self._closed = False

    def _check(self):
        if self._closed:
            raise ProgrammingError("Cannot operate on a closed cursor.")
        self.connection._check()

    def execute(self, sql, parameters=()):
        self._check()
        if not isinstance(sql, str):
            raise TypeError(f"execute() argument 1 must be str, not {type(sql).__name__}")
        self.rowcount = -1
        result = self.connection._run(sql, parameters, self)
        self._take(result)
        return self

    def executemany(self, sql, seq_of_parameters):
        self._check()
        total = 0
        for parameters in seq_of_parameters:
            result = self.connection._run(sql, parameters, self)
            if result.columns:
                raise ProgrammingError("executemany() can only execute DML statements.")
            total += self.connection._last_changes
        self.description, self._rows = None, []
        self.rowcount = total
        return self

    def executescript(self, script):
        self._check()
        self.connection.executescript(script)
        self.description, self._rows = None, []
        return self

    def _take(self, result):
        columns = list(result.columns)
        if columns:
            names = [_column_name(name, self.connection._detect_types) for name in columns]
            self.description = tuple((name, None, None, None, None, None, None) for name in names)
        else:
            self.description = None
        converters_by_column = self.connection._converters_for(columns, result, self._last_sql)
        text_factory = self.connection.text_factory
        rows = []
        for row in result.rows:
            values = [_from_spin(value, text_factory) for value in row.values]
            for index, converter in converters_by_column:
                if values[index] is not None:
                    raw = values[index]
                    values[index] = converter(raw if isinstance(raw, bytes) else str(raw).encode())
            rows.append(tuple(values))
        self._rows = rows
        self._position = 0

    _last_sql = ""

    def _make(self, values):
        factory = self.row_factory
        return factory(self, values) if factory is not None else values

    def fetchone(self):
        self._check()
        if self._position >= len(self._rows):
            return None
        row = self._rows[self._position]
        self._position += 1
        return self._make(row)

    def fetchmany(self, size=None):
        size = self.arraysize if size is None else size
        rows = []
        while len(rows) < size:
            row = self.fetchone()
            if row is None:
                break
            rows.append(row)
        return rows

    def fetchall(self):
        rows = []
        while (row := self.fetchone()) is not None:
            rows.append(row)
        return rows

    def __iter__(self):
        return self

    def __next__(self):
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def close(self):
        self._closed = True
        self._rows = []

    def setinputsizes(self, sizes):
        pass

    def setoutputsize(self, size, column=None):
        pass


def _column_name(name, detect_types):
    if detect_types & PARSE_COLNAMES and " [" in name:
        return name.split(" [", 1)[0]
    return name


class Connection:
    def __init__(self, database, timeout=5.0, detect_types=0, isolation_level="", check_same_thread=True,
                 factory=None, cached_statements=128, uri=False, *, autocommit=LEGACY_TRANSACTION_CONTROL):
        try:
            self._spin = _spin.Connection.open(_database_name(database))
        except Err as error:
            raise OperationalError(_explain_open_error(error.value)) from None
        self._detect_types = detect_types
        self.isolation_level = isolation_level
        self.autocommit = autocommit
        self.row_factory = None
        self.text_factory = str
        self.total_changes = 0
        self.in_transaction = False
        self._savepoints_outside_transaction = []
        self._functions = set()
        self._decltypes = None
        self._last_changes = 0
        self._closed = False
        # Whether the host connection was told CPython's default about
        # foreign keys (or the app set them itself).
        self._foreign_keys_set = False
        for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
                     "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError"):
            setattr(self, name, globals()[name])
        if autocommit is False:
            self._statement("BEGIN")

    def _check(self):
        if self._closed:
            raise ProgrammingError("Cannot operate on a closed database.")

    def _statement(self, sql, values=()):
        # The statement's first two words, upper-cased ("" when missing).
        match = _KEYWORD.match(sql)
        word, second = (match.group(1).upper(), (match.group(2) or "").upper()) if match else ("", "")
        if not self._foreign_keys_set and not self.in_transaction:
            self._foreign_keys_as_cpython(sql, word)
        try:
            result = self._spin.execute(sql, list(values))
        except Err as error:
            raise self._error(error.value) from None
        self._track(word, second)
        return result

    def _foreign_keys_as_cpython(self, sql, word):
        """Before the first statement that may write (outside a transaction,
        where the pragma is a no-op): foreign keys off, as CPython's sqlite3
        opens connections, unless the app sets them itself."""
        if word == "PRAGMA" and "foreign_keys" in sql.lower():
            self._foreign_keys_set = True
        if word in _READ_ONLY:
            return
        self._foreign_keys_set = True
        try:
            self._spin.execute("PRAGMA foreign_keys = OFF", [])
        except Err:
            pass  # the statement itself will say what is wrong

    def _error(self, error):
        if not isinstance(error, _spin.Error_Io):
            return OperationalError(type(error).__name__.replace("Error_", "").lower())
        message = error.value
        missing = re.search(r"no such function: (\w+)", message)
        if missing and missing.group(1).lower() in self._functions:
            return OperationalError(
                f"{message}: {missing.group(1)} was registered with create_function, which cannot run inside Spin's SQLite "
                "(the database is the host's; functions in the guest's Python are out of its reach)")
        if "constraint failed" in message:
            return IntegrityError(message)
        if "datatype mismatch" in message:
            return IntegrityError(message)
        if "too big" in message:
            return DataError(message)
        return OperationalError(message)

    def _track(self, word, second):
        """Follow the transaction state a statement that ran left behind."""
        if word == "BEGIN":
            self.in_transaction = True
        elif word in ("COMMIT", "END") or (word == "ROLLBACK" and second != "TO"):
            self.in_transaction = False
            self._savepoints_outside_transaction = []
        elif word == "SAVEPOINT" and not self.in_transaction:
            self.in_transaction = True
            self._savepoints_outside_transaction.append(True)
        elif word == "RELEASE" and self._savepoints_outside_transaction:
            self._savepoints_outside_transaction.pop()
            if not self._savepoints_outside_transaction:
                self.in_transaction = False
        if word in ("CREATE", "DROP", "ALTER"):
            self._decltypes = None

    def _run(self, sql, parameters, cursor):
        if isinstance(parameters, dict) or (hasattr(parameters, "keys") and not isinstance(parameters, (list, tuple))):
            sql_to_run, values = _named_to_positional(sql, parameters)
        else:
            sql_to_run, values = sql, list(parameters)
        spin_values = [_to_spin(value, index + 1) for index, value in enumerate(values)]
        legacy = self.autocommit == LEGACY_TRANSACTION_CONTROL
        dml = _DML.match(sql)
        if legacy and self.isolation_level is not None and not self.in_transaction and dml:
            # The transaction is about to write: take the write lock now
            # (IMMEDIATE rather than DEFERRED), so that writers in other
            # instances wait their turn under the busy timeout instead of
            # failing with "database is locked" on a stale read snapshot.
            mode = self.isolation_level.upper() if self.isolation_level.upper() == "EXCLUSIVE" else "IMMEDIATE"
            self._statement(f"BEGIN {mode}")
        cursor._last_sql = sql
        result = self._statement(sql_to_run, spin_values)
        if dml:
            self._last_changes = self._spin.changes()
            self.total_changes += self._last_changes
            cursor.rowcount = self._last_changes
            if re.match(r"\s*(insert|replace)\b", sql, re.I):
                cursor.lastrowid = self._spin.last_insert_rowid()
        return result

    def _converters_for(self, columns, result, sql):
        """(index, converter) for the columns whose type has a converter."""
        if not self._detect_types or not converters:
            return []
        found = []
        declared = self._declared_types(sql, columns) if self._detect_types & PARSE_DECLTYPES else {}
        for index, name in enumerate(columns):
            type_name = None
            if self._detect_types & PARSE_COLNAMES and " [" in name and name.endswith("]"):
                type_name = name.rsplit(" [", 1)[1][:-1]
            elif name in declared:
                type_name = declared[name]
            if type_name:
                converter = converters.get(type_name.split("(")[0].split()[0].upper())
                if converter is not None:
                    found.append((index, converter))
        return found

    def _declared_types(self, sql, columns):
        """Declared column types of the table a query reads from: Spin's
        results carry none, so they are read from the schema (`PRAGMA
        table_info`) for a `SELECT ... FROM table` (joins: the first table)."""
        match = re.search(r"\bfrom\s+[\"`\[]?(\w+)", sql, re.I)
        if not match:
            return {}
        if self._decltypes is None:
            self._decltypes = {}
        tables = (match.group(1), *re.findall(r"\bjoin\s+[\"`\[]?(\w+)", sql, re.I))
        if tables not in self._decltypes:
            types = {}
            for name in tables:
                result = self._spin.execute(f"PRAGMA table_info(\"{name}\")", [])
                for row in result.rows:
                    column, declared = row.values[1].value, row.values[2].value
                    types.setdefault(column, declared)
            self._decltypes[tables] = types
        return self._decltypes[tables]

    def cursor(self, factory=None):
        self._check()
        return (factory or Cursor)(self)

    def execute(self, sql, parameters=()):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters):
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, script):
        self._check()
        if self.autocommit == LEGACY_TRANSACTION_CONTROL and self.in_transaction:
            self._statement("COMMIT")
        for statement in _split_script(script):
            self._statement(statement)
        return self.cursor()

    def commit(self):
        self._end_transaction("COMMIT")

    def rollback(self):
        self._end_transaction("ROLLBACK")

    def _end_transaction(self, statement):
        self._check()
        if self.in_transaction:
            self._statement(statement)
        if self.autocommit is False:
            self._statement("BEGIN")

    def close(self):
        if self._closed:
            return
        if self.autocommit is False and self.in_transaction:
            self._statement("ROLLBACK")
        self._closed = True
        # Dropping the host connection rolls back what is left open.
        self._spin.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.commit()
        else:
            self.rollback()
        return False

    def create_function(self, name, narg, func, *, deterministic=False):
        self._functions.add(name.lower())

    def create_aggregate(self, name, n_arg, aggregate_class):
        self._functions.add(name.lower())

    def create_window_function(self, name, num_params, aggregate_class):
        self._functions.add(name.lower())

    def create_collation(self, name, callable):
        pass

    def set_authorizer(self, authorizer_callback):
        pass

    def set_progress_handler(self, progress_handler, n):
        pass

    def set_trace_callback(self, trace_callback):
        pass

    def interrupt(self):
        pass

    def getlimit(self, category):
        raise NotSupportedError("getlimit is not available on Spin's SQLite")

    def setlimit(self, category, limit):
        raise NotSupportedError("setlimit is not available on Spin's SQLite")


def _explain_open_error(error):
    if isinstance(error, _spin.Error_AccessDenied):
        return ("unable to open database file: this component is not granted a SQLite database "
                "(grant one: [capabilities] sqlite = [\"default\"] in the Fabrickfile, or sqlite_databases = [\"default\"] in spin.toml)")
    if isinstance(error, _spin.Error_NoSuchDatabase):
        return "unable to open database file: the host has no database \"default\""
    return f"unable to open database file: {getattr(error, 'value', error)}"


def connect(database, timeout=5.0, detect_types=0, isolation_level="", check_same_thread=True, factory=None,
            cached_statements=128, uri=False, *, autocommit=LEGACY_TRANSACTION_CONTROL):
    target = str(database) if not isinstance(database, bytes) else database.decode()
    if target in (":memory:", "") or (uri and target.startswith("file::memory:")) or "mode=memory" in target:
        return _native.connect(database, timeout, detect_types, isolation_level, check_same_thread,
                               factory or _native.Connection, cached_statements, uri, autocommit=autocommit)
    factory = factory or Connection
    return factory(database, timeout, detect_types, isolation_level, check_same_thread, None, cached_statements,
                   uri, autocommit=autocommit)


def install():
    """Become `sqlite3` (and `sqlite3.dbapi2`) for the app."""
    module = sys.modules[__name__]
    module.dbapi2 = module
    sys.modules["sqlite3"] = module
    sys.modules["sqlite3.dbapi2"] = module
