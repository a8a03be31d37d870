//! CloudWatch's SQL, and the ingest batcher that shapes writes for it.
//!
//! PutMetricData calls do not write rows themselves: they hand their points to one batcher
//! task, which merges everything queued since its last commit into one write — a single
//! ingest-log row — and answers every caller once that write is committed. A compactor folds
//! the log into per-(series, hour) chunks ten times a second (see the migration for the layout).
//! Series ids are cached in memory so the hot path does not look them up.

/// Series keys are hashed on every ingested point; foldhash is several times cheaper than
/// SipHash here and still seeded per process.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::{Arc, Mutex};

use sqlx::{Row, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::chunk::{self, StoredPoint};
use super::types::Dimension;
use crate::store::{Db, StoreError};

const HOUR_MS: i64 = 3_600_000;
/// `last_put_ms` is refreshed at most this often per series: ListMetrics' RecentlyActive
/// looks three hours back, so minute precision is plenty.
const LAST_PUT_REFRESH_MS: i64 = 60_000;
/// Rows per multi-row INSERT (4 parameters each), under SQLite's parameter limit.
const ROWS_PER_INSERT: usize = 2_000;

/// Identifies a metric: account, region, namespace, name and its (sorted) dimensions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    pub account_id: String,
    pub region: String,
    pub namespace: String,
    pub metric_name: String,
    /// Canonical JSON of the dimensions sorted by name.
    pub dimensions: String,
}

impl SeriesKey {
    pub fn new(
        account_id: &str,
        region: &str,
        namespace: &str,
        metric_name: &str,
        dimensions: &[Dimension],
    ) -> Self {
        SeriesKey {
            account_id: account_id.to_string(),
            region: region.to_string(),
            namespace: namespace.to_string(),
            metric_name: metric_name.to_string(),
            dimensions: canonical_dimensions(dimensions),
        }
    }
}

pub fn canonical_dimensions(dimensions: &[Dimension]) -> String {
    let mut pairs: Vec<(&str, &str)> = dimensions
        .iter()
        .map(|d| (d.name.as_str(), d.value.as_str()))
        .collect();
    pairs.sort();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".to_string())
}

pub fn parse_dimensions(text: &str) -> Vec<Dimension> {
    serde_json::from_str::<Vec<(String, String)>>(text)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| Dimension { name, value })
        .collect()
}

#[derive(Debug, Clone, Copy)]
struct CachedSeries {
    id: i64,
    last_put_ms: i64,
}

type SeriesCache = Arc<Mutex<HashMap<SeriesKey, CachedSeries>>>;

struct IngestRequest {
    points: Vec<(SeriesKey, StoredPoint)>,
    now_ms: i64,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

#[derive(Clone)]
pub struct MetricsRepo {
    db: Db,
    cache: SeriesCache,
    ingest: mpsc::Sender<IngestRequest>,
}

/// What ListMetrics narrows series by (dimension filters are applied by the caller).
#[derive(Debug, Clone, Copy)]
pub struct SeriesFilter<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub namespace: Option<&'a str>,
    pub metric_name: Option<&'a str>,
    pub active_since_ms: Option<i64>,
}

/// A stored series, as ListMetrics reports it.
#[derive(Debug, Clone)]
pub struct SeriesRow {
    pub id: i64,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: String,
}

impl MetricsRepo {
    pub fn new(db: Db) -> Self {
        let cache: SeriesCache = Arc::default();
        let (ingest, rx) = mpsc::channel(4096);
        tokio::spawn(run_batcher(db.clone(), cache.clone(), rx));
        tokio::spawn(run_compactor(db.clone()));
        MetricsRepo { db, cache, ingest }
    }

    pub fn clear_cache(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    /// Stores points; resolves once they are committed.
    pub async fn put(
        &self,
        points: Vec<(SeriesKey, StoredPoint)>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.ingest
            .send(IngestRequest {
                points,
                now_ms,
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        done.await.map_err(|_| StoreError::Closed)?
    }

    /// The series with exactly this key, if any datapoint was ever put to it.
    pub async fn find_series(&self, key: &SeriesKey) -> Result<Option<i64>, StoreError> {
        if let Some(found) = self.cache.lock().ok().and_then(|c| c.get(key).copied()) {
            return Ok(Some(found.id));
        }
        let row = sqlx::query(
            "SELECT id FROM metric_series WHERE account_id = ? AND region = ? AND namespace = ? \
             AND metric_name = ? AND dimensions = ?",
        )
        .bind(&key.account_id)
        .bind(&key.region)
        .bind(&key.namespace)
        .bind(&key.metric_name)
        .bind(&key.dimensions)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row.map(|r| r.get::<i64, _>(0)))
    }

    /// Visits the points of a series with `start_ms <= timestamp < end_ms`.
    pub async fn visit_points(
        &self,
        series_id: i64,
        start_ms: i64,
        end_ms: i64,
        mut visit: impl FnMut(StoredPoint),
    ) -> Result<(), StoreError> {
        // One statement, so chunks and the uncompacted log come from the same snapshot.
        let rows = sqlx::query(
            "SELECT data, 0 FROM metric_chunks WHERE series_id = ?1 AND hour BETWEEN ?2 AND ?3 \
             UNION ALL \
             SELECT data, 1 FROM metric_ingest_log WHERE max_ms >= ?4 AND min_ms < ?5",
        )
        .bind(series_id)
        .bind(start_ms.div_euclid(HOUR_MS))
        .bind((end_ms - 1).div_euclid(HOUR_MS))
        .bind(start_ms)
        .bind(end_ms)
        .fetch_all(self.db.reader())
        .await?;
        let in_range = |t: i64| t >= start_ms && t < end_ms;
        for row in rows {
            let data: &[u8] = row.get(0);
            let from_log: i64 = row.get(1);
            let decoded = if from_log == 0 {
                chunk::decode(data, in_range, &mut visit)
            } else {
                chunk::decode_tagged(data, |s, t| s == series_id && in_range(t), |_, p| visit(p))
            };
            decoded
                .ok_or_else(|| StoreError::Corrupt(format!("metric data of series {series_id}")))?;
        }
        Ok(())
    }

    /// Series of an account and region in id order after `after_id`, optionally narrowed.
    pub async fn list_series(
        &self,
        filter: &SeriesFilter<'_>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<SeriesRow>, StoreError> {
        let SeriesFilter {
            account_id,
            region,
            namespace,
            metric_name,
            active_since_ms,
        } = *filter;
        let rows = sqlx::query(
            "SELECT id, namespace, metric_name, dimensions FROM metric_series \
             WHERE account_id = ?1 AND region = ?2 AND id > ?3 \
             AND (?4 IS NULL OR namespace = ?4) AND (?5 IS NULL OR metric_name = ?5) \
             AND (?6 IS NULL OR last_put_ms >= ?6) ORDER BY id LIMIT ?7",
        )
        .bind(account_id)
        .bind(region)
        .bind(after_id)
        .bind(namespace)
        .bind(metric_name)
        .bind(active_since_ms)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SeriesRow {
                id: r.get(0),
                namespace: r.get(1),
                metric_name: r.get(2),
                dimensions: r.get(3),
            })
            .collect())
    }
}

async fn run_batcher(db: Db, cache: SeriesCache, mut rx: mpsc::Receiver<IngestRequest>) {
    let mut batch = Vec::with_capacity(256);
    while rx.recv_many(&mut batch, 1024).await > 0 {
        let requests: Vec<IngestRequest> = std::mem::take(&mut batch);
        let mut replies = Vec::with_capacity(requests.len());
        let mut points = Vec::new();
        let mut now_ms = i64::MIN;
        for r in requests {
            now_ms = now_ms.max(r.now_ms);
            points.extend(r.points);
            replies.push(r.reply);
        }
        let outcome = write_points(&db, &cache, points, now_ms).await;
        for reply in replies {
            let answer = match &outcome {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Corrupt(format!("metric write failed: {e}"))),
            };
            let _ = reply.send(answer);
        }
    }
}

/// Groups points into chunks per (series, hour) and writes them in one job.
/// Appends one batch of points as a single ingest-log row, creating or refreshing series rows.
async fn write_points(
    db: &Db,
    cache: &SeriesCache,
    points: Vec<(SeriesKey, StoredPoint)>,
    now_ms: i64,
) -> Result<(), StoreError> {
    // Series ids already known, and the series that need a row (new) or a fresher last_put_ms.
    let mut known_ids: HashMap<SeriesKey, i64> = HashMap::default();
    let mut to_upsert: Vec<SeriesKey> = Vec::new();
    {
        let cache = cache.lock().map_err(|_| StoreError::Closed)?;
        for (key, _) in &points {
            if known_ids.contains_key(key) || to_upsert.contains(key) {
                continue;
            }
            match cache.get(key) {
                Some(c) if now_ms - c.last_put_ms < LAST_PUT_REFRESH_MS => {
                    known_ids.insert(key.clone(), c.id);
                }
                _ => to_upsert.push(key.clone()),
            }
        }
    }

    let resolved = db
        .write(move |conn: &mut SqliteConnection| {
            Box::pin(async move {
                let mut ids = known_ids;
                let mut refreshed = Vec::with_capacity(to_upsert.len());
                for key in to_upsert {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO metric_series (account_id, region, namespace, metric_name, dimensions, last_put_ms) \
                         VALUES (?, ?, ?, ?, ?, ?) \
                         ON CONFLICT (account_id, region, namespace, metric_name, dimensions) \
                         DO UPDATE SET last_put_ms = max(last_put_ms, excluded.last_put_ms) RETURNING id",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(&key.namespace)
                    .bind(&key.metric_name)
                    .bind(&key.dimensions)
                    .bind(now_ms)
                    .fetch_one(&mut *conn)
                    .await?;
                    ids.insert(key.clone(), id);
                    refreshed.push((key, id));
                }
                let mut blob = Vec::with_capacity(points.len() * 32);
                let (mut min_ms, mut max_ms) = (i64::MAX, i64::MIN);
                for (key, point) in &points {
                    let id = ids.get(key).copied().ok_or_else(|| {
                        StoreError::Corrupt("series id missing for an ingested point".into())
                    })?;
                    min_ms = min_ms.min(point.timestamp_ms);
                    max_ms = max_ms.max(point.timestamp_ms);
                    chunk::encode_tagged_into(&mut blob, id, point);
                }
                sqlx::query("INSERT INTO metric_ingest_log (min_ms, max_ms, data) VALUES (?, ?, ?)")
                    .bind(min_ms)
                    .bind(max_ms)
                    .bind(blob)
                    .execute(&mut *conn)
                    .await?;
                Ok(refreshed)
            })
        })
        .await?;

    if let Ok(mut cache) = cache.lock() {
        for (key, id) in resolved {
            cache.insert(
                key,
                CachedSeries {
                    id,
                    last_put_ms: now_ms,
                },
            );
        }
    }
    Ok(())
}

/// How often the ingest log is folded into chunks, and how many log rows one pass takes: small
/// passes, because every write waits while one runs (a pass of ~20,000 points takes ~1 ms).
const COMPACTION_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
const COMPACTION_ROWS: i64 = 48;

/// Moves ingest-log rows into per-(series, hour) chunks, forever; stops when the store closes.
async fn run_compactor(db: Db) {
    loop {
        match compact_once(&db).await {
            Ok(moved) if moved >= COMPACTION_ROWS => continue,
            Ok(_) => {}
            Err(StoreError::Closed) => return,
            Err(e) => tracing::error!(error = %e, "metric compaction failed"),
        }
        tokio::time::sleep(COMPACTION_INTERVAL).await;
    }
}

/// A chunk being assembled: its point count and encoded points.
type ChunkDraft = (i64, Vec<u8>);

/// One compaction pass in one transaction, so readers see every point exactly once: either
/// still in the log or already in a chunk. Returns the number of log rows moved.
pub async fn compact_once(db: &Db) -> Result<i64, StoreError> {
    db.write(|conn: &mut SqliteConnection| {
        Box::pin(async move {
            let rows = sqlx::query("SELECT id, data FROM metric_ingest_log ORDER BY id LIMIT ?")
                .bind(COMPACTION_ROWS)
                .fetch_all(&mut *conn)
                .await?;
            let Some(last_id) = rows.last().map(|r| r.get::<i64, _>(0)) else {
                return Ok(0);
            };
            let mut groups: HashMap<(i64, i64), ChunkDraft> = HashMap::default();
            for row in &rows {
                let data: &[u8] = row.get(1);
                chunk::decode_tagged(
                    data,
                    |_, _| true,
                    |series, point| {
                        let slot = groups
                            .entry((series, point.timestamp_ms.div_euclid(HOUR_MS)))
                            .or_default();
                        slot.0 += 1;
                        chunk::encode_into(&mut slot.1, &point);
                    },
                )
                .ok_or_else(|| StoreError::Corrupt("metric ingest log row".into()))?;
            }
            let groups: Vec<((i64, i64), ChunkDraft)> = groups.into_iter().collect();
            for group in groups.chunks(ROWS_PER_INSERT) {
                let mut sql = String::from(
                    "INSERT INTO metric_chunks (series_id, hour, points, data) VALUES ",
                );
                for i in 0..group.len() {
                    sql.push_str(if i == 0 {
                        "(?, ?, ?, ?)"
                    } else {
                        ", (?, ?, ?, ?)"
                    });
                }
                let mut query = sqlx::query(&sql);
                for ((series, hour), (n, data)) in group {
                    query = query
                        .bind(*series)
                        .bind(*hour)
                        .bind(*n)
                        .bind(data.as_slice());
                }
                query.execute(&mut *conn).await?;
            }
            sqlx::query("DELETE FROM metric_ingest_log WHERE id <= ?")
                .bind(last_id)
                .execute(&mut *conn)
                .await?;
            Ok(rows.len() as i64)
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::cloudwatch::stats::Sample;
    use crate::store::Location;

    fn point(ts: i64, v: f64) -> StoredPoint {
        StoredPoint {
            timestamp_ms: ts,
            unit: 0,
            high_resolution: false,
            sample: Sample::Single(v),
        }
    }

    async fn values(repo: &MetricsRepo, series: i64) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        repo.visit_points(series, 0, 10 * HOUR_MS, |p| {
            if let Sample::Single(v) = p.sample {
                out.push((p.timestamp_ms, v));
            }
        })
        .await
        .unwrap();
        out.sort_by(|a, b| a.partial_cmp(b).unwrap());
        out
    }

    #[tokio::test]
    async fn points_read_the_same_before_and_after_compaction() {
        let (db, _writer) = Db::open(&Location::Ephemeral).await.unwrap();
        let repo = MetricsRepo::new(db.clone());
        let a = SeriesKey::new("1", "r", "ns", "a", &[]);
        let b = SeriesKey::new("1", "r", "ns", "b", &[]);
        repo.put(
            vec![(a.clone(), point(10, 1.0)), (b.clone(), point(20, 2.0))],
            0,
        )
        .await
        .unwrap();
        repo.put(vec![(a.clone(), point(HOUR_MS + 5, 3.0))], 0)
            .await
            .unwrap();
        let (ia, ib) = (
            repo.find_series(&a).await.unwrap().unwrap(),
            repo.find_series(&b).await.unwrap().unwrap(),
        );
        let before = (values(&repo, ia).await, values(&repo, ib).await);
        assert_eq!(before.0, vec![(10, 1.0), (HOUR_MS + 5, 3.0)]);
        assert_eq!(before.1, vec![(20, 2.0)]);
        // The background compactor may already have run; a pass moves whatever is left.
        compact_once(&db).await.unwrap();
        assert_eq!(compact_once(&db).await.unwrap(), 0);
        assert_eq!((values(&repo, ia).await, values(&repo, ib).await), before);
        let log_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_ingest_log")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(log_rows, 0);
        let chunk_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM metric_chunks")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(chunk_rows, 3, "one chunk per (series, hour)");
    }
}
