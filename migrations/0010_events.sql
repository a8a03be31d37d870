-- EventBridge buses, rules, targets and tags.
--
-- The default bus of an account and region exists without a row; a row named 'default' is
-- written only once something about it is stored (its permission policy, its description).
CREATE TABLE events_buses (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT,
    -- The resource policy document (PutPermission), as JSON text.
    policy      TEXT,
    -- KmsKeyIdentifier, DeadLetterConfig and LogConfig as given, a JSON object.
    settings    TEXT    NOT NULL DEFAULT '{}',
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, name)
) WITHOUT ROWID;

CREATE TABLE events_rules (
    account_id          TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    bus                 TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    event_pattern       TEXT,
    schedule_expression TEXT,
    -- ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS.
    state               TEXT    NOT NULL,
    description         TEXT,
    role_arn            TEXT,
    managed_by          TEXT,
    created_by          TEXT    NOT NULL,
    -- When an enabled schedule fires next (epoch ms); NULL for pattern-only or disabled rules.
    next_fire_ms        INTEGER,
    -- Rates are phased from the rule's creation or last update (epoch ms).
    schedule_anchor_ms  INTEGER,
    created_ms          INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, bus, name)
) WITHOUT ROWID;

CREATE INDEX events_rules_due ON events_rules (next_fire_ms) WHERE next_fire_ms IS NOT NULL;

CREATE TABLE events_targets (
    account_id TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    bus        TEXT    NOT NULL,
    rule       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    arn        TEXT    NOT NULL,
    -- The Target as given (model member names), a JSON object.
    document   TEXT    NOT NULL,
    -- Insertion order, so listings answer targets in the order they were put.
    position   INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, bus, rule, id)
) WITHOUT ROWID;

CREATE INDEX events_targets_by_arn ON events_targets (account_id, region, arn);

-- Tags of rules and buses, keyed by the resource's ARN.
CREATE TABLE events_tags (
    resource_arn TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (resource_arn, key)
) WITHOUT ROWID;
