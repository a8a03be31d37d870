-- CloudWatch metrics.
--
-- A series is one (namespace, metric name, dimension set) of one account and region. Its
-- datapoints are stored in chunks: each group commit writes, per series and per hour of
-- timestamps, one row whose blob holds that batch's points. Under interleaved traffic from many
-- series this turns thousands of index inserts per commit into a few dozen, and a query for one
-- series and a time range reads a handful of rows found by (series_id, hour).

CREATE TABLE metric_series (
    id          INTEGER PRIMARY KEY,
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    namespace   TEXT    NOT NULL,
    metric_name TEXT    NOT NULL,
    -- Canonical JSON array of [name, value] pairs sorted by name.
    dimensions  TEXT    NOT NULL,
    -- Last time (epoch ms) a datapoint was put, for ListMetrics RecentlyActive.
    last_put_ms INTEGER NOT NULL,
    UNIQUE (account_id, region, namespace, metric_name, dimensions)
);

CREATE INDEX metric_series_by_name ON metric_series (account_id, region, metric_name);

CREATE TABLE metric_chunks (
    id        INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL,
    -- floor(timestamp_ms / 3600000) of every point in the chunk.
    hour      INTEGER NOT NULL,
    points    INTEGER NOT NULL,
    data      BLOB    NOT NULL
);

CREATE INDEX metric_chunks_by_series_hour ON metric_chunks (series_id, hour);
