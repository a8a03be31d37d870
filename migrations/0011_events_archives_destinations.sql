-- EventBridge archives and replays, connections and API destinations.

CREATE TABLE events_archives (
    account_id     TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    source_arn     TEXT    NOT NULL,
    description    TEXT,
    event_pattern  TEXT,
    -- 0 keeps events indefinitely.
    retention_days INTEGER NOT NULL DEFAULT 0,
    state          TEXT    NOT NULL,
    state_reason   TEXT,
    created_ms     INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

CREATE INDEX events_archives_by_source ON events_archives (account_id, region, source_arn);

-- One row per archived event envelope, kept until the archive's retention passes.
CREATE TABLE events_archive_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    archive_name TEXT    NOT NULL,
    received_ms  INTEGER NOT NULL,
    event        TEXT    NOT NULL
);

CREATE INDEX events_archive_events_by_time
    ON events_archive_events (account_id, region, archive_name, received_ms);

CREATE TABLE events_replays (
    account_id       TEXT    NOT NULL,
    region           TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    archive_arn      TEXT    NOT NULL,
    archive_name     TEXT    NOT NULL,
    description      TEXT,
    event_start_ms   INTEGER NOT NULL,
    event_end_ms     INTEGER NOT NULL,
    -- The Destination structure as given (Arn, FilterArns), JSON.
    destination      TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    state_reason     TEXT,
    replay_start_ms  INTEGER NOT NULL,
    replay_end_ms    INTEGER,
    last_replayed_ms INTEGER,
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE events_connections (
    account_id         TEXT    NOT NULL,
    region             TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    arn                TEXT    NOT NULL,
    description        TEXT,
    authorization_type TEXT    NOT NULL,
    -- AuthParameters as given, secrets included (they never leave through Describe).
    auth_parameters    TEXT    NOT NULL,
    secret_arn         TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    state_reason       TEXT,
    created_ms         INTEGER NOT NULL,
    modified_ms        INTEGER NOT NULL,
    authorized_ms      INTEGER,
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE events_api_destinations (
    account_id      TEXT    NOT NULL,
    region          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    arn             TEXT    NOT NULL,
    description     TEXT,
    connection_arn  TEXT    NOT NULL,
    endpoint        TEXT    NOT NULL,
    http_method     TEXT    NOT NULL,
    rate_limit      INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    modified_ms     INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

CREATE INDEX events_api_destinations_by_arn ON events_api_destinations (arn);
