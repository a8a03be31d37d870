-- The CloudTrail journal: one row per API call, append-only.
--
-- Rows are never updated: the UPDATE trigger always aborts. DELETE aborts too unless the gate
-- is open, which only the reset endpoint does (inside the same transaction that wipes
-- everything). Each row carries hash = SHA-256(prev_hash || event JSON), chained in `seq`
-- order, so a row altered or removed behind the server's back is found by the verifier.

CREATE TABLE cloudtrail_journal (
    seq           INTEGER PRIMARY KEY,
    account_id    TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    event_time_ms INTEGER NOT NULL,
    event_id      TEXT    NOT NULL,
    event_name    TEXT    NOT NULL,
    event_source  TEXT    NOT NULL,
    read_only     INTEGER NOT NULL,
    username      TEXT,
    access_key_id TEXT,
    resource_type TEXT,
    resource_name TEXT,
    management    INTEGER NOT NULL,
    event         TEXT    NOT NULL,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL
);

-- LookupEvents reads management events only, so its indexes are partial: data events (the
-- high-volume PutMetricData / PutLogEvents calls) append to the table without touching them.
CREATE INDEX cloudtrail_by_time ON cloudtrail_journal (account_id, region, event_time_ms) WHERE management = 1;
CREATE INDEX cloudtrail_by_id ON cloudtrail_journal (account_id, region, event_id) WHERE management = 1;
CREATE INDEX cloudtrail_by_name ON cloudtrail_journal (account_id, region, event_name, event_time_ms) WHERE management = 1;
CREATE INDEX cloudtrail_by_user ON cloudtrail_journal (account_id, region, username, event_time_ms) WHERE management = 1;
CREATE INDEX cloudtrail_by_key ON cloudtrail_journal (account_id, region, access_key_id, event_time_ms) WHERE management = 1;
CREATE INDEX cloudtrail_by_source ON cloudtrail_journal (account_id, region, event_source, event_time_ms) WHERE management = 1;
CREATE INDEX cloudtrail_by_resource ON cloudtrail_journal (account_id, region, resource_name, event_time_ms) WHERE management = 1;
CREATE INDEX cloudtrail_by_resource_type ON cloudtrail_journal (account_id, region, resource_type, event_time_ms) WHERE management = 1;

CREATE TABLE cloudtrail_journal_gate (open INTEGER NOT NULL);
INSERT INTO cloudtrail_journal_gate (open) VALUES (0);

CREATE TRIGGER cloudtrail_journal_no_update BEFORE UPDATE ON cloudtrail_journal
BEGIN
    SELECT RAISE(ABORT, 'the CloudTrail journal is append-only');
END;

CREATE TRIGGER cloudtrail_journal_no_delete BEFORE DELETE ON cloudtrail_journal
WHEN coalesce((SELECT open FROM cloudtrail_journal_gate), 0) = 0
BEGIN
    SELECT RAISE(ABORT, 'the CloudTrail journal is append-only');
END;
