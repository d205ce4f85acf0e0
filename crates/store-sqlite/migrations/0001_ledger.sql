-- casetrail ledger, SQLite. Events are append-only: triggers refuse UPDATE
-- and DELETE; a correction is a new event.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    recorded_at    TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    idem_key       TEXT    NOT NULL,
    record_type    TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    at             TEXT    NOT NULL,
    canonical      BLOB    NOT NULL,
    leaf_hash      BLOB    NOT NULL CHECK (length(leaf_hash) = 32),
    tree_root      BLOB    NOT NULL CHECK (length(tree_root) = 32),
    UNIQUE (source, idem_key)
) STRICT;

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE is refused'); END;
CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE is refused'); END;

CREATE TABLE ledger_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    frontier BLOB NOT NULL
) STRICT;

CREATE TABLE tree_heads (
    size         INTEGER NOT NULL,
    root         BLOB    NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    signature    BLOB    NOT NULL,
    key_id       BLOB    NOT NULL,
    PRIMARY KEY (size, timestamp_ms)
) STRICT;
CREATE TRIGGER tree_heads_refuse_update BEFORE UPDATE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'tree heads are append-only'); END;
CREATE TRIGGER tree_heads_refuse_delete BEFORE DELETE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'tree heads are append-only'); END;

CREATE TABLE signing_keys (
    public_key BLOB PRIMARY KEY,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    line         INTEGER,
    raw          BLOB    NOT NULL,
    field        TEXT,
    reason       TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_seq INTEGER
) STRICT;
CREATE INDEX quarantine_open ON quarantine (status, id);

CREATE TABLE projection_docs (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    agency TEXT,
    doc    TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX projection_docs_agency ON projection_docs (kind, agency);

CREATE TABLE agency_day_counters (
    agency TEXT    NOT NULL,
    day    TEXT    NOT NULL,
    metric TEXT    NOT NULL,
    value  INTEGER NOT NULL,
    PRIMARY KEY (agency, day, metric)
) STRICT, WITHOUT ROWID;
