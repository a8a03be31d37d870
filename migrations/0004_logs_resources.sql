-- CloudWatch Logs resources that are stored and listed but need no query beyond their key:
-- subscription filters (scope: the log group's name), destinations, account resource
-- policies and query definitions. `document` is the JSON the Describe operation returns.

CREATE TABLE log_resources (
    account_id TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    document   TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, kind, scope, name)
) WITHOUT ROWID;
