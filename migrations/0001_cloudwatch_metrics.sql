-- CloudWatch metrics.
--
-- A series is one (namespace, metric name, dimension set) of one account and region.
--
-- Datapoints arrive interleaved across many series. Each group commit appends them as ONE row
-- of metric_ingest_log (rowid order: no index to update, one or two pages written per commit).
-- A background compaction regularly moves the log into metric_chunks: one row per series and
-- hour of timestamps holding that series' points, found by (series_id, hour). A query reads
-- the chunks of its series and hours plus the (small) uncompacted log, in one statement so
-- that both come from the same snapshot.

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

CREATE TABLE metric_ingest_log (
    id     INTEGER PRIMARY KEY,
    -- Timestamp range (epoch ms) of the points in the row, to skip rows a query cannot use.
    min_ms INTEGER NOT NULL,
    max_ms INTEGER NOT NULL,
    data   BLOB    NOT NULL
);
