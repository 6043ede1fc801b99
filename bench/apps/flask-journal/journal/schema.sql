-- Entries first: Spin's SQLite enforces foreign keys (CPython's sqlite3 does not by default).
DROP TABLE IF EXISTS entry;
DROP TABLE IF EXISTS reader;

CREATE TABLE reader (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE NOT NULL,
  password TEXT NOT NULL
);

CREATE TABLE entry (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  author_id INTEGER NOT NULL,
  written TIMESTAMP NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  FOREIGN KEY (author_id) REFERENCES reader (id)
);
