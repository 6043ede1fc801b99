# The sqlite3 module's behaviour, one line per check. tests/sqlite.rs runs
# this in a component granted Spin's SQLite (through exec) and with the
# python3 on PATH on a file of its own, and compares what they print.
import datetime
import sqlite3
import sys

conn = sqlite3.connect(sys.argv[1], detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)
conn.executescript("""
    DROP TABLE IF EXISTS api_check;
    CREATE TABLE api_check (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB, born DATE, seen TIMESTAMP);
    INSERT INTO api_check (name, score) VALUES ('seed', 0.5); -- a comment; with a semicolon
""")
print("after script, in transaction:", conn.in_transaction)
cur = conn.execute("INSERT INTO api_check (name, score, data, born, seen) VALUES (?, ?, ?, ?, ?)",
                   ("ann", 1.25, b"\x00\x01", datetime.date(2020, 2, 29), datetime.datetime(2021, 3, 4, 5, 6, 7)))
print("insert:", cur.lastrowid, cur.rowcount, conn.in_transaction, cur.description)
conn.execute("INSERT INTO api_check (name, score) VALUES (:name, :score)", {"name": "bob", "score": 2})
cur = conn.executemany("INSERT INTO api_check (name) VALUES (?)", [("c1",), ("c2",), ("c3",)])
print("executemany rowcount:", cur.rowcount)
conn.commit()
print("after commit:", conn.in_transaction)
cur = conn.execute("SELECT id, name, score, data, born, seen FROM api_check ORDER BY id")
print("description:", [d[0] for d in cur.description])
print("fetchone:", cur.fetchone())
print("fetchmany:", cur.fetchmany(2))
print("fetchall:", cur.fetchall())
print("exhausted:", cur.fetchone())
conn.row_factory = sqlite3.Row
row = conn.execute("SELECT name, score AS Points FROM api_check WHERE name = ?", ("ann",)).fetchone()
print("row:", row["name"], row["points"], row[1], tuple(row), row.keys(), len(row))
print("row keys in any case:", row["NAME"], row["Points"], row["POINTS"])
try:
    row["nope"]
except IndexError as error:
    print("IndexError:", error)
cur = conn.cursor()
twice = [cur.execute(sql).fetchone() for sql in ("SELECT 1 AS a, 2 AS A", "SELECT 3 AS b, 4 AS a")]
print("same cursor, new columns:", [(r["a"], r.keys()) for r in twice])
print("colnames:", conn.execute('SELECT born AS "b [date]" FROM api_check WHERE name = \'ann\'').fetchone()[0] is not None)
conn.row_factory = None
print("update rowcount:", conn.execute("UPDATE api_check SET score = score + 1 WHERE score IS NOT NULL").rowcount)
conn.rollback()
print("after rollback:", conn.execute("SELECT sum(score) FROM api_check").fetchone())
try:
    conn.execute("INSERT INTO api_check (name) VALUES ('ann')")
except sqlite3.IntegrityError as error:
    print("IntegrityError:", error)
conn.rollback()
for bad in ["SELECT nope FROM api_check", "SELEC 1", "SELECT * FROM no_such_table"]:
    try:
        conn.execute(bad)
    except sqlite3.OperationalError as error:
        print("OperationalError:", error)
try:
    conn.execute("SELECT ?", (object(),))
except sqlite3.ProgrammingError as error:
    print("ProgrammingError:", type(error).__name__)
try:
    conn.execute("SELECT :missing", {})
except sqlite3.ProgrammingError as error:
    print("ProgrammingError: missing named parameter")
print("types:", conn.execute("SELECT 1, 2.5, 'x', x'ff', NULL, 9223372036854775807").fetchone())
print("literal colon:", conn.execute("SELECT ':not_a_param', ?", (1,)).fetchone())
with conn:
    conn.execute("INSERT INTO api_check (name) VALUES ('in-with')")
print("with commits:", conn.in_transaction, conn.execute("SELECT count(*) FROM api_check WHERE name = 'in-with'").fetchone())
try:
    with conn:
        conn.execute("INSERT INTO api_check (name) VALUES ('rolled-back')")
        raise ValueError
except ValueError:
    pass
print("with rolls back:", conn.execute("SELECT count(*) FROM api_check WHERE name = 'rolled-back'").fetchone())
auto = sqlite3.connect(sys.argv[1], isolation_level=None)
auto.execute("INSERT INTO api_check (name) VALUES ('auto')")
print("autocommit:", auto.in_transaction, conn.execute("SELECT count(*) FROM api_check WHERE name = 'auto'").fetchone())
auto.execute("BEGIN")
auto.execute("SAVEPOINT sp")
auto.execute("INSERT INTO api_check (name) VALUES ('sp')")
auto.execute("ROLLBACK TO sp")
auto.execute("RELEASE sp")
print("savepoint:", auto.in_transaction)
auto.execute("COMMIT")
print("after COMMIT:", auto.in_transaction, auto.execute("SELECT count(*) FROM api_check WHERE name = 'sp'").fetchone())
auto.close()
# Foreign keys: not enforced by default (Flask's tutorial drops a referenced
# table first in its init-db), enforced once the app turns them on.
keys = sqlite3.connect(sys.argv[1])
keys.executescript("""
    DROP TABLE IF EXISTS fk_child;
    DROP TABLE IF EXISTS fk_parent;
    CREATE TABLE fk_parent (id INTEGER PRIMARY KEY);
    CREATE TABLE fk_child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES fk_parent (id));
    INSERT INTO fk_parent (id) VALUES (1);
    INSERT INTO fk_child (parent_id) VALUES (1);
""")
keys.execute("INSERT INTO fk_child (parent_id) VALUES (2)")
keys.commit()
keys.executescript("DROP TABLE IF EXISTS fk_parent; CREATE TABLE fk_parent (id INTEGER PRIMARY KEY);")
print("foreign keys off:", keys.execute("SELECT count(*) FROM fk_child").fetchone())
keys.close()
keys = sqlite3.connect(sys.argv[1])
keys.execute("PRAGMA foreign_keys = ON")
try:
    keys.execute("INSERT INTO fk_child (parent_id) VALUES (3)")
except sqlite3.IntegrityError as error:
    print("foreign keys on:", error)
keys.rollback()
keys.close()
memory = sqlite3.connect(":memory:")
print("memory:", memory.execute("SELECT count(*) FROM sqlite_master").fetchone())
print("total_changes > 0:", conn.total_changes > 0)
conn.close()
try:
    conn.execute("SELECT 1")
except sqlite3.ProgrammingError as error:
    print("closed:", error)
