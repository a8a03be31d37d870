-- Deliveries to targets this emulator does not host (SNS topics of alarm actions, Lambda, SQS,
-- ... targets of EventBridge rules) and attempts against HTTP API destinations: what would have
-- been sent, to whom, and how it went. Listed over HTTP at /_watchtrail/deliveries.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    -- Who sent it: 'cloudwatch' (alarm actions) or 'events' (rule targets).
    origin      TEXT    NOT NULL,
    -- The ARN (or URL) the message was addressed to.
    target      TEXT    NOT NULL,
    -- What kind of target the address names: 'sns', 'lambda', 'sqs', 'api-destination', ...
    target_kind TEXT    NOT NULL,
    -- Free-form context: the alarm or the rule that caused it.
    source      TEXT,
    subject     TEXT,
    body        TEXT    NOT NULL,
    -- 'recorded' (not deliverable here), 'delivered' or 'failed'.
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    created_ms  INTEGER NOT NULL
);

CREATE INDEX deliveries_by_target ON deliveries (target, id);
