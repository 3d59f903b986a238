-- The SQLite schema of Hoist's store as of commit bf71aac (before Alembic): the
-- migration test builds a data directory with it, as that release did.
CREATE TABLE IF NOT EXISTS events (
  key TEXT PRIMARY KEY, source TEXT NOT NULL, registry TEXT, repository TEXT NOT NULL,
  tag TEXT, digest TEXT, received_at REAL NOT NULL, processed_at REAL
);
CREATE TABLE IF NOT EXISTS promotions (
  id TEXT PRIMARY KEY, image_key TEXT NOT NULL, repository TEXT NOT NULL, tag TEXT,
  digest TEXT, version_key TEXT NOT NULL, environment TEXT NOT NULL, state TEXT NOT NULL,
  event_key TEXT, received_at REAL NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
  plan TEXT, base_sha TEXT, commit_sha TEXT, merge_sha TEXT, approved_by TEXT NOT NULL DEFAULT '[]',
  reason TEXT, step INTEGER, step_started REAL, last_check REAL, tally TEXT, next_at REAL,
  UNIQUE (repository, version_key, environment)
);
CREATE TABLE IF NOT EXISTS transitions (
  promotion_id TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, at REAL NOT NULL, note TEXT
);
CREATE TABLE IF NOT EXISTS change_requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT, promotion_id TEXT NOT NULL UNIQUE, branch TEXT NOT NULL,
  base TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL,
  created_at REAL NOT NULL, merged_at REAL, merge_sha TEXT, number INTEGER, url TEXT
);
CREATE TABLE IF NOT EXISTS comments (
  key TEXT PRIMARY KEY, number INTEGER NOT NULL, comment_id INTEGER, user TEXT NOT NULL,
  body TEXT NOT NULL, kind TEXT NOT NULL, received_at REAL NOT NULL, processed_at REAL
);
CREATE INDEX IF NOT EXISTS promotions_active ON promotions (state);
CREATE TABLE IF NOT EXISTS quarantine (
  repository TEXT NOT NULL, digest TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL,
  PRIMARY KEY (repository, digest)
);
