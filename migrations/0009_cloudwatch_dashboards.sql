-- CloudWatch dashboards. Dashboards are global to an account (their ARN names no region), so
-- the key is (account, name). `body` is the DashboardBody exactly as the caller sent it;
-- `last_modified_ms` feeds ListDashboards' LastModified and `size` its Size (body bytes).

CREATE TABLE cloudwatch_dashboards (
    account_id        TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    last_modified_ms  INTEGER NOT NULL,
    size              INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
