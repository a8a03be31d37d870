-- CloudWatch Logs.
--
-- Events are stored as batches: one row per accepted PutLogEvents call, holding that call's
-- events (in timestamp order) as a blob. Ingestion writes one row per request instead of one
-- per event; reads find the batches of a group or stream by time through the two indexes and
-- decode only those.

CREATE TABLE log_groups (
    id                  INTEGER PRIMARY KEY,
    account_id          TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    creation_time_ms    INTEGER NOT NULL,
    retention_days      INTEGER,
    kms_key_id          TEXT,
    log_group_class     TEXT    NOT NULL,
    deletion_protection INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, region, name)
);

CREATE TABLE log_group_tags (
    group_id INTEGER NOT NULL,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (group_id, key)
) WITHOUT ROWID;

CREATE TABLE log_streams (
    id                INTEGER PRIMARY KEY,
    group_id          INTEGER NOT NULL,
    name              TEXT    NOT NULL,
    creation_time_ms  INTEGER NOT NULL,
    first_event_ms    INTEGER,
    last_event_ms     INTEGER,
    last_ingestion_ms INTEGER,
    stored_bytes      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);

CREATE TABLE log_event_batches (
    id           INTEGER PRIMARY KEY,
    group_id     INTEGER NOT NULL,
    stream_id    INTEGER NOT NULL,
    min_ms       INTEGER NOT NULL,
    max_ms       INTEGER NOT NULL,
    ingestion_ms INTEGER NOT NULL,
    events       INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    data         BLOB    NOT NULL
);

CREATE INDEX log_event_batches_by_group ON log_event_batches (group_id, min_ms);
CREATE INDEX log_event_batches_by_stream ON log_event_batches (stream_id, min_ms);

CREATE TABLE log_metric_filters (
    group_id         INTEGER NOT NULL,
    name             TEXT    NOT NULL,
    pattern          TEXT    NOT NULL,
    -- JSON array of metricTransformations as the API takes them.
    transformations  TEXT    NOT NULL,
    creation_time_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, name)
) WITHOUT ROWID;

CREATE TABLE log_queries (
    query_id         TEXT    PRIMARY KEY,
    account_id       TEXT    NOT NULL,
    region           TEXT    NOT NULL,
    query_string     TEXT    NOT NULL,
    log_group_name   TEXT,
    status           TEXT    NOT NULL,
    create_time_ms   INTEGER NOT NULL,
    -- JSON: the rows and statistics once the query completed.
    results          TEXT
);
