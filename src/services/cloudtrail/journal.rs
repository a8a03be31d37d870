//! The journal's storage: batched, hash-chained appends off the request path, lookups, and
//! the chain verifier.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, Notify};

use super::record::JournalRecord;
use crate::store::{Db, StoreError};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Records per write: large batches amortize the commit; the channel holds the rest.
const BATCH: usize = 2_048;
/// Rows per multi-row INSERT: 15 parameters each, well under SQLite's parameter limit.
const ROWS_PER_INSERT: usize = 500;

pub fn chain_hash(prev_hash: &str, event: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(event.as_bytes());
    hex::encode(h.finalize())
}

/// Accepts records from the request path without waiting and appends them in batches.
pub struct JournalWriter {
    queue: mpsc::UnboundedSender<JournalRecord>,
    closing: Arc<Notify>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl JournalWriter {
    pub fn start(db: Db) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let closing = Arc::new(Notify::new());
        let task = tokio::spawn(run(db, rx, closing.clone()));
        JournalWriter {
            queue,
            closing,
            task: Mutex::new(Some(task)),
        }
    }

    pub fn record(&self, record: JournalRecord) {
        // Only fails after shutdown, when no request is in flight any more.
        if self.queue.send(record).is_err() {
            tracing::warn!("journal record after shutdown dropped");
        }
    }

    /// Writes everything queued, then stops. Call after the server stopped taking requests and
    /// before the store closes.
    pub async fn shutdown(&self) {
        self.closing.notify_one();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn run(db: Db, mut rx: mpsc::UnboundedReceiver<JournalRecord>, closing: Arc<Notify>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            received = rx.recv_many(&mut batch, BATCH) => {
                if received == 0 {
                    return;
                }
                append(&db, std::mem::take(&mut batch)).await;
            }
            () = closing.notified() => {
                rx.close();
                while rx.recv_many(&mut batch, BATCH).await > 0 {
                    append(&db, std::mem::take(&mut batch)).await;
                }
                return;
            }
        }
    }
}

async fn append(db: &Db, records: Vec<JournalRecord>) {
    let outcome = db
        .write(move |conn: &mut SqliteConnection| {
            Box::pin(async move {
                // The chain continues from whatever is last in the table, so a reset (which
                // empties it) restarts the chain at the genesis hash.
                let mut prev: String = sqlx::query_scalar("SELECT hash FROM cloudtrail_journal ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *conn)
                    .await?
                    .unwrap_or_else(|| GENESIS.to_string());
                let mut hashes = Vec::with_capacity(records.len());
                for r in &records {
                    let hash = chain_hash(&prev, &r.event);
                    hashes.push((std::mem::replace(&mut prev, hash.clone()), hash));
                }
                // Multi-row inserts: one statement per many records keeps the single writer free.
                for (chunk, chunk_hashes) in records.chunks(ROWS_PER_INSERT).zip(hashes.chunks(ROWS_PER_INSERT)) {
                    let mut sql = String::from(
                        "INSERT INTO cloudtrail_journal (account_id, region, event_time_ms, event_id, event_name, event_source, \
                         read_only, username, access_key_id, resource_type, resource_name, management, event, prev_hash, hash) VALUES ",
                    );
                    for i in 0..chunk.len() {
                        sql.push_str(if i == 0 { "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" } else { ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" });
                    }
                    let mut query = sqlx::query(&sql);
                    for (r, (prev_hash, hash)) in chunk.iter().zip(chunk_hashes) {
                        query = query
                            .bind(&r.account_id)
                            .bind(&r.region)
                            .bind(r.event_time_ms)
                            .bind(&r.event_id)
                            .bind(&r.event_name)
                            .bind(&r.event_source)
                            .bind(r.read_only)
                            .bind(&r.username)
                            .bind(&r.access_key_id)
                            .bind(r.resource.as_ref().map(|x| x.0.as_str()))
                            .bind(r.resource.as_ref().map(|x| x.1.as_str()))
                            .bind(r.management)
                            .bind(&r.event)
                            .bind(prev_hash)
                            .bind(hash);
                    }
                    query.execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .await;
    if let Err(e) = outcome {
        tracing::error!(error = %e, "journal append failed");
    }
}

/// One LookupEvents filter column and its value.
#[derive(Debug, Clone)]
pub enum Filter {
    None,
    Column(&'static str, String),
    ReadOnly(bool),
}

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: i64,
    pub event_time_ms: i64,
    pub event_id: String,
    pub event_name: String,
    pub event_source: String,
    pub read_only: bool,
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_name: Option<String>,
    pub event: String,
}

pub struct LookupQuery<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub filter: Filter,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Continue strictly after (older than) this (time, seq).
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

/// Management events, newest first.
pub async fn lookup(pool: &SqlitePool, q: LookupQuery<'_>) -> Result<Vec<StoredEvent>, StoreError> {
    let (condition, value): (String, Option<String>) = match &q.filter {
        Filter::None => (String::new(), None),
        Filter::Column(column, value) => (format!(" AND {column} = ?8"), Some(value.clone())),
        Filter::ReadOnly(flag) => (format!(" AND read_only = {}", i64::from(*flag)), None),
    };
    let (before_time, before_seq) = q.before.unwrap_or((i64::MAX, i64::MAX));
    let sql = format!(
        "SELECT seq, event_time_ms, event_id, event_name, event_source, read_only, username, access_key_id, \
         resource_type, resource_name, event FROM cloudtrail_journal \
         WHERE account_id = ?1 AND region = ?2 AND management = 1 AND event_time_ms >= ?3 AND event_time_ms <= ?4 \
         AND (event_time_ms < ?5 OR (event_time_ms = ?5 AND seq < ?6)){condition} \
         ORDER BY event_time_ms DESC, seq DESC LIMIT ?7"
    );
    let mut query = sqlx::query(&sql)
        .bind(q.account_id)
        .bind(q.region)
        .bind(q.start_ms)
        .bind(q.end_ms)
        .bind(before_time)
        .bind(before_seq)
        .bind(q.limit);
    if let Some(value) = value {
        query = query.bind(value);
    }
    let rows = query.fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(|r| StoredEvent {
            seq: r.get(0),
            event_time_ms: r.get(1),
            event_id: r.get(2),
            event_name: r.get(3),
            event_source: r.get(4),
            read_only: r.get::<i64, _>(5) != 0,
            username: r.get(6),
            access_key_id: r.get(7),
            resource_type: r.get(8),
            resource_name: r.get(9),
            event: r.get(10),
        })
        .collect())
}

/// What the verifier found.
#[derive(Debug, Serialize, PartialEq)]
pub struct Verification {
    pub intact: bool,
    pub records: i64,
    /// Always present (null when intact), so a report reads the same either way.
    pub first_broken_event_id: Option<String>,
    /// The 1-based position in the chain of the first record that does not verify.
    pub position: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Walks the whole chain, recomputing every hash; reports the first record that does not
/// verify and counts every record.
pub async fn verify(pool: &SqlitePool) -> Result<Verification, StoreError> {
    use futures_util::TryStreamExt;
    let mut rows =
        sqlx::query("SELECT event_id, event, prev_hash, hash FROM cloudtrail_journal ORDER BY seq")
            .fetch(pool);
    let mut expected_prev = GENESIS.to_string();
    let mut position = 0i64;
    let mut broken: Option<(String, i64, &'static str)> = None;
    while let Some(r) = rows.try_next().await? {
        position += 1;
        if broken.is_some() {
            continue;
        }
        let event_id: String = r.get(0);
        let event: String = r.get(1);
        let prev: String = r.get(2);
        let hash: String = r.get(3);
        if prev != expected_prev {
            broken = Some((
                event_id,
                position,
                "prev_hash does not match the previous record's hash (a record was removed or reordered)",
            ));
        } else if chain_hash(&prev, &event) != hash {
            broken = Some((
                event_id,
                position,
                "hash does not match the record's content (the record was altered)",
            ));
        }
        expected_prev = hash;
    }
    Ok(match broken {
        None => Verification {
            intact: true,
            records: position,
            first_broken_event_id: None,
            position: None,
            problem: None,
        },
        Some((event_id, at, problem)) => Verification {
            intact: false,
            records: position,
            first_broken_event_id: Some(event_id),
            position: Some(at),
            problem: Some(problem.to_string()),
        },
    })
}
