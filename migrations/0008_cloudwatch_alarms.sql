-- CloudWatch alarms and their history.
--
-- An alarm is stored as one JSON document (configuration, state, tags): the service keeps every
-- alarm in memory and writes a row back only when it changes, so the database is read once at
-- start-up and never queried field by field.

CREATE TABLE cloudwatch_alarms (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

-- History outlives the alarm (AWS keeps a deleted alarm's history), so it is not keyed to it.
CREATE TABLE cloudwatch_alarm_history (
    id           INTEGER PRIMARY KEY,
    account_id   TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    alarm_name   TEXT    NOT NULL,
    -- MetricAlarm or CompositeAlarm.
    alarm_type   TEXT    NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    -- ConfigurationUpdate, StateUpdate or Action.
    item_type    TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    data         TEXT    NOT NULL
);

CREATE INDEX cloudwatch_alarm_history_by_time
    ON cloudwatch_alarm_history (account_id, region, timestamp_ms);
CREATE INDEX cloudwatch_alarm_history_by_alarm
    ON cloudwatch_alarm_history (account_id, region, alarm_name, timestamp_ms);
