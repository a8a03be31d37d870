//! CloudWatch Logs' SQL. Every write goes through `Db::write` (group commit); events are
//! stored as one batch row per accepted PutLogEvents call (see the migration).

use std::collections::BTreeMap;

use sqlx::{Row, SqliteConnection};

use crate::store::{Db, StoreError};

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub creation_time_ms: i64,
    pub retention_days: Option<i64>,
    pub kms_key_id: Option<String>,
    pub log_group_class: String,
    pub deletion_protection: bool,
    pub stored_bytes: i64,
    pub metric_filter_count: i64,
}

/// A log group as PutLogEvents needs it.
#[derive(Debug, Clone, Copy)]
pub struct IngestTarget {
    pub group_id: i64,
    pub retention_days: Option<i64>,
    pub has_metric_filters: bool,
}

#[derive(Debug, Clone)]
pub struct StreamRow {
    pub id: i64,
    pub name: String,
    pub creation_time_ms: i64,
    pub first_event_ms: Option<i64>,
    pub last_event_ms: Option<i64>,
    pub last_ingestion_ms: Option<i64>,
    pub stored_bytes: i64,
}

/// One stored event; `batch_id` and `index` make its position unique and ordered.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub timestamp_ms: i64,
    pub ingestion_ms: i64,
    pub batch_id: i64,
    pub index: u32,
    pub stream_id: i64,
    pub message: String,
}

impl StoredEvent {
    /// The order AWS returns events in: by timestamp, then by arrival.
    pub fn position(&self) -> (i64, i64, u32) {
        (self.timestamp_ms, self.batch_id, self.index)
    }
}

/// A batch row as read: where it is and its encoded events.
pub struct BatchRow {
    pub id: i64,
    pub stream_id: i64,
    pub min_ms: i64,
    pub max_ms: i64,
    pub ingestion_ms: i64,
    pub data: Vec<u8>,
}

/// `Ok(false)` when the row already existed (unique constraint).
fn inserted(
    result: Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error>,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Encodes events (already in timestamp order) as `timestamp: i64, length: u32, bytes`.
pub fn encode_events(events: &[(i64, &str)]) -> Vec<u8> {
    let size: usize = events.iter().map(|(_, m)| m.len() + 12).sum();
    let mut out = Vec::with_capacity(size);
    for (ts, message) in events {
        out.extend_from_slice(&ts.to_le_bytes());
        let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(message.as_bytes());
    }
    out
}

/// Visits `(index, timestamp, message)` of an encoded batch; `None` if the blob is corrupt.
pub fn decode_events<'a>(data: &'a [u8], mut visit: impl FnMut(u32, i64, &'a str)) -> Option<()> {
    let mut rest = data;
    let mut index = 0u32;
    while !rest.is_empty() {
        let (ts, tail) = rest.split_first_chunk::<8>()?;
        let (len, tail) = tail.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
        let (message, tail) = tail.split_at_checked(len)?;
        visit(
            index,
            i64::from_le_bytes(*ts),
            std::str::from_utf8(message).ok()?,
        );
        index += 1;
        rest = tail;
    }
    Some(())
}

#[derive(Clone)]
pub struct LogsRepo {
    db: Db,
}

const GROUP_COLUMNS: &str =
    "g.id, g.name, g.creation_time_ms, g.retention_days, g.kms_key_id, g.log_group_class, \
     g.deletion_protection, \
     (SELECT coalesce(sum(stored_bytes), 0) FROM log_streams s WHERE s.group_id = g.id), \
     (SELECT count(*) FROM log_metric_filters f WHERE f.group_id = g.id)";

fn group_row(r: &sqlx::sqlite::SqliteRow) -> GroupRow {
    GroupRow {
        id: r.get(0),
        name: r.get(1),
        creation_time_ms: r.get(2),
        retention_days: r.get(3),
        kms_key_id: r.get(4),
        log_group_class: r.get(5),
        deletion_protection: r.get::<i64, _>(6) != 0,
        stored_bytes: r.get(7),
        metric_filter_count: r.get(8),
    }
}

const STREAM_COLUMNS: &str =
    "id, name, creation_time_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes";

fn stream_row(r: &sqlx::sqlite::SqliteRow) -> StreamRow {
    StreamRow {
        id: r.get(0),
        name: r.get(1),
        creation_time_ms: r.get(2),
        first_event_ms: r.get(3),
        last_event_ms: r.get(4),
        last_ingestion_ms: r.get(5),
        stored_bytes: r.get(6),
    }
}

/// How DescribeLogStreams orders streams.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StreamOrder {
    Name,
    LastEventTime,
}

pub struct NewGroup {
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub now_ms: i64,
    pub kms_key_id: Option<String>,
    pub log_group_class: String,
    pub deletion_protection: bool,
    pub tags: BTreeMap<String, String>,
}

impl LogsRepo {
    pub fn new(db: Db) -> Self {
        LogsRepo { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// `Ok(false)` if a group of that name exists.
    pub async fn create_group(&self, group: NewGroup) -> Result<bool, StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    let result = sqlx::query(
                        "INSERT INTO log_groups (account_id, region, name, creation_time_ms, kms_key_id, log_group_class, deletion_protection) \
                         VALUES (?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(&group.account_id)
                    .bind(&group.region)
                    .bind(&group.name)
                    .bind(group.now_ms)
                    .bind(&group.kms_key_id)
                    .bind(&group.log_group_class)
                    .bind(group.deletion_protection)
                    .execute(&mut *conn)
                    .await;
                    let id = match result {
                        Ok(r) => r.last_insert_rowid(),
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(false),
                        Err(e) => return Err(e.into()),
                    };
                    for (k, v) in &group.tags {
                        sqlx::query("INSERT INTO log_group_tags (group_id, key, value) VALUES (?, ?, ?)")
                            .bind(id)
                            .bind(k)
                            .bind(v)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(true)
                })
            })
            .await
    }

    pub async fn find_group(
        &self,
        account_id: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<GroupRow>, StoreError> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM log_groups g WHERE g.account_id = ? AND g.region = ? AND g.name = ?");
        let row = sqlx::query(&sql)
            .bind(account_id)
            .bind(region)
            .bind(name)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row.as_ref().map(group_row))
    }

    /// What ingestion needs of a group, and the stream's id, in one cheap query (no stored-bytes
    /// aggregate): `None` for a missing group, `Some((group, None))` for a missing stream.
    pub async fn find_for_ingest(
        &self,
        account_id: &str,
        region: &str,
        group: &str,
        stream: &str,
    ) -> Result<Option<(IngestTarget, Option<i64>)>, StoreError> {
        let row = sqlx::query(
            "SELECT g.id, g.retention_days, EXISTS (SELECT 1 FROM log_metric_filters f WHERE f.group_id = g.id), \
             (SELECT s.id FROM log_streams s WHERE s.group_id = g.id AND s.name = ?4) \
             FROM log_groups g WHERE g.account_id = ?1 AND g.region = ?2 AND g.name = ?3",
        )
        .bind(account_id)
        .bind(region)
        .bind(group)
        .bind(stream)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row.map(|r| {
            let target = IngestTarget {
                group_id: r.get(0),
                retention_days: r.get(1),
                has_metric_filters: r.get::<i64, _>(2) != 0,
            };
            (target, r.get::<Option<i64>, _>(3))
        }))
    }

    /// Groups in name order after `after_name` whose name starts with `prefix`.
    pub async fn list_groups(
        &self,
        account_id: &str,
        region: &str,
        prefix: &str,
        after_name: &str,
        limit: i64,
    ) -> Result<Vec<GroupRow>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM log_groups g WHERE g.account_id = ?1 AND g.region = ?2 \
             AND substr(g.name, 1, length(?3)) = ?3 AND g.name > ?4 ORDER BY g.name LIMIT ?5"
        );
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .bind(region)
            .bind(prefix)
            .bind(after_name)
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows.iter().map(group_row).collect())
    }

    /// Deletes a group with its streams, events, tags and filters.
    pub async fn delete_group(&self, group_id: i64) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    for sql in [
                        "DELETE FROM log_event_batches WHERE group_id = ?",
                        "DELETE FROM log_streams WHERE group_id = ?",
                        "DELETE FROM log_group_tags WHERE group_id = ?",
                        "DELETE FROM log_metric_filters WHERE group_id = ?",
                        "DELETE FROM log_groups WHERE id = ?",
                    ] {
                        sqlx::query(sql).bind(group_id).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    pub async fn set_retention(&self, group_id: i64, days: Option<i64>) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query("UPDATE log_groups SET retention_days = ? WHERE id = ?")
                        .bind(days)
                        .bind(group_id)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await
    }

    /// `Ok(false)` if the stream exists.
    pub async fn create_stream(
        &self,
        group_id: i64,
        name: String,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    inserted(
                        sqlx::query("INSERT INTO log_streams (group_id, name, creation_time_ms) VALUES (?, ?, ?)")
                            .bind(group_id)
                            .bind(&name)
                            .bind(now_ms)
                            .execute(&mut *conn)
                            .await,
                    )
                })
            })
            .await
    }

    pub async fn find_stream(
        &self,
        group_id: i64,
        name: &str,
    ) -> Result<Option<StreamRow>, StoreError> {
        let sql =
            format!("SELECT {STREAM_COLUMNS} FROM log_streams WHERE group_id = ? AND name = ?");
        let row = sqlx::query(&sql)
            .bind(group_id)
            .bind(name)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row.as_ref().map(stream_row))
    }

    pub async fn delete_stream(&self, stream_id: i64) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM log_event_batches WHERE stream_id = ?")
                        .bind(stream_id)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("DELETE FROM log_streams WHERE id = ?")
                        .bind(stream_id)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await
    }

    /// All streams of a group (optionally by prefix), in the requested order.
    pub async fn list_streams(
        &self,
        group_id: i64,
        prefix: &str,
        order: StreamOrder,
        descending: bool,
    ) -> Result<Vec<StreamRow>, StoreError> {
        let order_sql = match (order, descending) {
            (StreamOrder::Name, false) => "name ASC",
            (StreamOrder::Name, true) => "name DESC",
            (StreamOrder::LastEventTime, false) => "coalesce(last_event_ms, -1) ASC, name ASC",
            (StreamOrder::LastEventTime, true) => "coalesce(last_event_ms, -1) DESC, name DESC",
        };
        let sql = format!(
            "SELECT {STREAM_COLUMNS} FROM log_streams WHERE group_id = ?1 AND substr(name, 1, length(?2)) = ?2 ORDER BY {order_sql}"
        );
        let rows = sqlx::query(&sql)
            .bind(group_id)
            .bind(prefix)
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows.iter().map(stream_row).collect())
    }

    pub async fn streams_by_id(&self, group_id: i64) -> Result<BTreeMap<i64, String>, StoreError> {
        let rows = sqlx::query("SELECT id, name FROM log_streams WHERE group_id = ?")
            .bind(group_id)
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Stores accepted events (in timestamp order) as one batch and updates the stream's
    /// summary; returns the batch id.
    pub async fn append(
        &self,
        group_id: i64,
        stream_id: i64,
        events: Vec<(i64, String)>,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        // Encoded before reaching the writer, so the single writer only inserts.
        let borrowed: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
        let data = encode_events(&borrowed);
        let min = events.first().map(|e| e.0).unwrap_or_default();
        let max = events.last().map(|e| e.0).unwrap_or_default();
        // storedBytes counts message bytes, as AWS reports uncompressed size.
        let bytes: i64 = events.iter().map(|(_, m)| m.len() as i64).sum();
        let count = events.len() as i64;
        drop(borrowed);
        drop(events);
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    let id = sqlx::query(
                        "INSERT INTO log_event_batches (group_id, stream_id, min_ms, max_ms, ingestion_ms, events, bytes, data) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(group_id)
                    .bind(stream_id)
                    .bind(min)
                    .bind(max)
                    .bind(now_ms)
                    .bind(count)
                    .bind(bytes)
                    .bind(data)
                    .execute(&mut *conn)
                    .await?
                    .last_insert_rowid();
                    sqlx::query(
                        "UPDATE log_streams SET first_event_ms = min(coalesce(first_event_ms, ?1), ?1), \
                         last_event_ms = max(coalesce(last_event_ms, ?2), ?2), last_ingestion_ms = ?3, \
                         stored_bytes = stored_bytes + ?4 WHERE id = ?5",
                    )
                    .bind(min)
                    .bind(max)
                    .bind(now_ms)
                    .bind(bytes)
                    .bind(stream_id)
                    .execute(&mut *conn)
                    .await?;
                    Ok(id)
                })
            })
            .await
    }

    /// Visits the batches of a group (or of some of its streams) that may hold events in
    /// `[start_ms, end_ms)`, by their first timestamp, one row in memory at a time, until
    /// `visit` breaks.
    pub async fn visit_batches(
        &self,
        group_id: i64,
        stream_ids: Option<&[i64]>,
        start_ms: i64,
        end_ms: i64,
        mut visit: impl FnMut(BatchRow) -> std::ops::ControlFlow<()>,
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        let query = match stream_ids {
            Some([only]) => sqlx::query(
                "SELECT id, stream_id, min_ms, max_ms, ingestion_ms, data FROM log_event_batches \
                 WHERE stream_id = ? AND min_ms < ? AND max_ms >= ? ORDER BY min_ms, id",
            )
            .bind(*only),
            _ => sqlx::query(
                "SELECT id, stream_id, min_ms, max_ms, ingestion_ms, data FROM log_event_batches \
                 WHERE group_id = ? AND min_ms < ? AND max_ms >= ? ORDER BY min_ms, id",
            )
            .bind(group_id),
        };
        let mut rows = query.bind(end_ms).bind(start_ms).fetch(self.db.reader());
        while let Some(r) = rows.try_next().await? {
            let batch = BatchRow {
                id: r.get(0),
                stream_id: r.get(1),
                min_ms: r.get(2),
                max_ms: r.get(3),
                ingestion_ms: r.get(4),
                data: r.get(5),
            };
            if stream_ids.is_some_and(|ids| !ids.contains(&batch.stream_id)) {
                continue;
            }
            if visit(batch).is_break() {
                break;
            }
        }
        Ok(())
    }

    pub async fn tags(&self, group_id: i64) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT key, value FROM log_group_tags WHERE group_id = ?")
            .bind(group_id)
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn set_tags(
        &self,
        group_id: i64,
        add: BTreeMap<String, String>,
        remove: Vec<String>,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    for k in &remove {
                        sqlx::query("DELETE FROM log_group_tags WHERE group_id = ? AND key = ?")
                            .bind(group_id)
                            .bind(k)
                            .execute(&mut *conn)
                            .await?;
                    }
                    for (k, v) in &add {
                        sqlx::query("INSERT OR REPLACE INTO log_group_tags (group_id, key, value) VALUES (?, ?, ?)")
                            .bind(group_id)
                            .bind(k)
                            .bind(v)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Deletes events older than each group's retention; returns the number of batches removed.
    /// A batch goes once its newest event has expired.
    pub async fn sweep_retention(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    let removed = sqlx::query(
                        "DELETE FROM log_event_batches WHERE id IN ( \
                           SELECT b.id FROM log_event_batches b JOIN log_groups g ON g.id = b.group_id \
                           WHERE g.retention_days IS NOT NULL AND b.max_ms < ?1 - g.retention_days * 86400000)",
                    )
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if removed > 0 {
                        // Streams' stored bytes follow what is left.
                        sqlx::query(
                            "UPDATE log_streams SET stored_bytes = \
                             (SELECT coalesce(sum(bytes), 0) FROM log_event_batches b WHERE b.stream_id = log_streams.id)",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(removed)
                })
            })
            .await
    }

    /// Creates or replaces a metric filter.
    pub async fn put_metric_filter(
        &self,
        group_id: i64,
        name: String,
        pattern: String,
        transformations: String,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO log_metric_filters (group_id, name, pattern, transformations, creation_time_ms) VALUES (?1, ?2, ?3, ?4, ?5) \
                         ON CONFLICT (group_id, name) DO UPDATE SET pattern = ?3, transformations = ?4",
                    )
                    .bind(group_id)
                    .bind(&name)
                    .bind(&pattern)
                    .bind(&transformations)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// `Ok(false)` when there was no such filter.
    pub async fn delete_metric_filter(
        &self,
        group_id: i64,
        name: String,
    ) -> Result<bool, StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "DELETE FROM log_metric_filters WHERE group_id = ? AND name = ?",
                    )
                    .bind(group_id)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected() > 0)
                })
            })
            .await
    }

    /// Metric filters of an account and region (or of one group), by group name then filter name.
    pub async fn metric_filters(
        &self,
        account_id: &str,
        region: &str,
        group_id: Option<i64>,
    ) -> Result<Vec<MetricFilterRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.name, f.pattern, f.transformations, f.creation_time_ms, g.name FROM log_metric_filters f \
             JOIN log_groups g ON g.id = f.group_id WHERE g.account_id = ?1 AND g.region = ?2 \
             AND (?3 IS NULL OR g.id = ?3) ORDER BY g.name, f.name",
        )
        .bind(account_id)
        .bind(region)
        .bind(group_id)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows.iter().map(metric_filter_row).collect())
    }

    pub async fn metric_filters_of_group(
        &self,
        group_id: i64,
    ) -> Result<Vec<MetricFilterRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.name, f.pattern, f.transformations, f.creation_time_ms, g.name FROM log_metric_filters f \
             JOIN log_groups g ON g.id = f.group_id WHERE f.group_id = ? ORDER BY f.name",
        )
        .bind(group_id)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows.iter().map(metric_filter_row).collect())
    }

    /// Stores (creates or replaces) a keyed resource document.
    pub async fn put_resource(
        &self,
        key: ResourceKey,
        document: String,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT OR REPLACE INTO log_resources (account_id, region, kind, scope, name, document, updated_ms) \
                         VALUES (?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(key.kind)
                    .bind(&key.scope)
                    .bind(&key.name)
                    .bind(&document)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Deletes resources; with `name` None, every one of that kind and scope. Returns how many.
    pub async fn delete_resources(
        &self,
        key: ResourceKey,
        every_name: bool,
    ) -> Result<u64, StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "DELETE FROM log_resources WHERE account_id = ?1 AND region = ?2 AND kind = ?3 AND scope = ?4 \
                         AND (?5 OR name = ?6)",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(key.kind)
                    .bind(&key.scope)
                    .bind(every_name)
                    .bind(&key.name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(done.rows_affected())
                })
            })
            .await
    }

    /// (name, document) of every resource of a kind and scope, by name.
    pub async fn resources(
        &self,
        account_id: &str,
        region: &str,
        kind: &str,
        scope: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, document FROM log_resources WHERE account_id = ? AND region = ? AND kind = ? AND scope = ? ORDER BY name",
        )
        .bind(account_id)
        .bind(region)
        .bind(kind)
        .bind(scope)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn save_query(&self, query: NewQuery) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT OR REPLACE INTO log_queries (query_id, account_id, region, query_string, log_group_name, status, create_time_ms, results) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(&query.query_id)
                    .bind(&query.account_id)
                    .bind(&query.region)
                    .bind(&query.query_string)
                    .bind(&query.log_group_name)
                    .bind(query.status)
                    .bind(query.create_time_ms)
                    .bind(&query.results)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// (status, create time, query string, group name, results JSON) of a query of this account.
    pub async fn query(
        &self,
        account_id: &str,
        region: &str,
        query_id: &str,
    ) -> Result<Option<QueryRow>, StoreError> {
        let row = sqlx::query(
            "SELECT query_id, status, create_time_ms, query_string, log_group_name, results FROM log_queries \
             WHERE account_id = ? AND region = ? AND query_id = ?",
        )
        .bind(account_id)
        .bind(region)
        .bind(query_id)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row.as_ref().map(query_row))
    }

    pub async fn queries(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<QueryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT query_id, status, create_time_ms, query_string, log_group_name, results FROM log_queries \
             WHERE account_id = ? AND region = ? ORDER BY create_time_ms DESC, query_id",
        )
        .bind(account_id)
        .bind(region)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows.iter().map(query_row).collect())
    }

    pub async fn set_query_status(
        &self,
        query_id: String,
        status: &'static str,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query("UPDATE log_queries SET status = ? WHERE query_id = ?")
                        .bind(status)
                        .bind(&query_id)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await
    }
}

#[derive(Debug, Clone)]
pub struct MetricFilterRow {
    pub name: String,
    pub pattern: String,
    pub transformations: String,
    pub creation_time_ms: i64,
    pub group_name: String,
}

fn metric_filter_row(r: &sqlx::sqlite::SqliteRow) -> MetricFilterRow {
    MetricFilterRow {
        name: r.get(0),
        pattern: r.get(1),
        transformations: r.get(2),
        creation_time_ms: r.get(3),
        group_name: r.get(4),
    }
}

/// Identifies a row of `log_resources`.
pub struct ResourceKey {
    pub account_id: String,
    pub region: String,
    pub kind: &'static str,
    pub scope: String,
    pub name: String,
}

/// A Logs Insights query to record.
pub struct NewQuery {
    pub query_id: String,
    pub account_id: String,
    pub region: String,
    pub query_string: String,
    pub log_group_name: Option<String>,
    pub status: &'static str,
    pub create_time_ms: i64,
    /// JSON of the rows and statistics.
    pub results: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueryRow {
    pub query_id: String,
    pub status: String,
    pub create_time_ms: i64,
    pub query_string: String,
    pub log_group_name: Option<String>,
    pub results: Option<String>,
}

fn query_row(r: &sqlx::sqlite::SqliteRow) -> QueryRow {
    QueryRow {
        query_id: r.get(0),
        status: r.get(1),
        create_time_ms: r.get(2),
        query_string: r.get(3),
        log_group_name: r.get(4),
        results: r.get(5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_blobs_round_trip_and_reject_corruption() {
        let blob = encode_events(&[(5, "hello"), (7, ""), (9, "wörld")]);
        let mut seen = Vec::new();
        decode_events(&blob, |i, t, m| seen.push((i, t, m.to_string()))).unwrap();
        assert_eq!(
            seen,
            vec![
                (0, 5, "hello".into()),
                (1, 7, String::new()),
                (2, 9, "wörld".into())
            ]
        );
        assert!(decode_events(&blob[..blob.len() - 1], |_, _, _| ()).is_none());
    }
}
