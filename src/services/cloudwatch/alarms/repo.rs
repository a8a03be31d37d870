//! Alarm SQL: the alarm documents and their history.

use sqlx::Row;

use super::model::Alarm;
use crate::store::{Db, StoreError};

/// Rows per multi-row INSERT (at most 8 parameters each), under SQLite's parameter limit.
const ROWS_PER_STATEMENT: usize = 100;

/// One alarm history item, as DescribeAlarmHistory lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub account_id: String,
    pub region: String,
    pub alarm_name: String,
    pub alarm_type: &'static str,
    pub timestamp_ms: i64,
    pub item_type: &'static str,
    pub summary: String,
    pub data: String,
}

/// A stored history item and its row id (the paging cursor's tie-breaker).
#[derive(Debug, Clone)]
pub struct StoredHistoryItem {
    pub id: i64,
    pub alarm_name: String,
    pub alarm_type: String,
    pub timestamp_ms: i64,
    pub item_type: String,
    pub summary: String,
    pub data: String,
}

/// What one commit changes: alarms written (whole documents), alarms deleted, history added.
#[derive(Debug, Default)]
pub struct Changes {
    pub upserts: Vec<Alarm>,
    pub deletes: Vec<(String, String, String)>,
    pub history: Vec<HistoryItem>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.deletes.is_empty() && self.history.is_empty()
    }
}

pub struct HistoryQuery<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub alarm_name: Option<&'a str>,
    pub alarm_types: &'a [String],
    pub item_type: Option<&'a str>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub ascending: bool,
    /// Resume after this (timestamp, id).
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

#[derive(Clone)]
pub struct AlarmRepo {
    db: Db,
}

impl AlarmRepo {
    pub fn new(db: Db) -> Self {
        AlarmRepo { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn load_all(&self) -> Result<Vec<Alarm>, StoreError> {
        let rows = sqlx::query("SELECT doc FROM cloudwatch_alarms")
            .fetch_all(self.db.reader())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let doc: String = r.get(0);
            match serde_json::from_str::<Alarm>(&doc) {
                Ok(a) => out.push(a),
                Err(e) => tracing::error!(error = %e, "unreadable stored alarm skipped"),
            }
        }
        Ok(out)
    }

    /// Writes all changes in one commit.
    pub async fn apply(&self, changes: Changes) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut docs = Vec::with_capacity(changes.upserts.len());
        for a in &changes.upserts {
            let doc = serde_json::to_string(a)
                .map_err(|e| StoreError::Corrupt(format!("alarm document: {e}")))?;
            docs.push((a.account_id.clone(), a.region.clone(), a.name.clone(), doc));
        }
        let deletes = changes.deletes;
        let history = changes.history;
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    for batch in docs.chunks(ROWS_PER_STATEMENT) {
                        let sql = format!(
                            "INSERT INTO cloudwatch_alarms (account_id, region, name, doc) \
                             VALUES {} ON CONFLICT (account_id, region, name) \
                             DO UPDATE SET doc = excluded.doc",
                            vec!["(?, ?, ?, ?)"; batch.len()].join(", ")
                        );
                        let mut query = sqlx::query(&sql);
                        for (account, region, name, doc) in batch {
                            query = query.bind(account).bind(region).bind(name).bind(doc);
                        }
                        query.execute(&mut *conn).await?;
                    }
                    for (account, region, name) in &deletes {
                        sqlx::query(
                            "DELETE FROM cloudwatch_alarms WHERE account_id = ? AND region = ? \
                             AND name = ?",
                        )
                        .bind(account)
                        .bind(region)
                        .bind(name)
                        .execute(&mut *conn)
                        .await?;
                    }
                    for batch in history.chunks(ROWS_PER_STATEMENT) {
                        let sql = format!(
                            "INSERT INTO cloudwatch_alarm_history (account_id, region, \
                             alarm_name, alarm_type, timestamp_ms, item_type, summary, data) \
                             VALUES {}",
                            vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; batch.len()].join(", ")
                        );
                        let mut query = sqlx::query(&sql);
                        for h in batch {
                            query = query
                                .bind(&h.account_id)
                                .bind(&h.region)
                                .bind(&h.alarm_name)
                                .bind(h.alarm_type)
                                .bind(h.timestamp_ms)
                                .bind(h.item_type)
                                .bind(&h.summary)
                                .bind(&h.data);
                        }
                        query.execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    pub async fn history(
        &self,
        q: &HistoryQuery<'_>,
    ) -> Result<Vec<StoredHistoryItem>, StoreError> {
        let types_json = serde_json::to_string(q.alarm_types).unwrap_or_else(|_| "[]".into());
        let (after_ts, after_id) = q.after.unwrap_or(if q.ascending {
            (i64::MIN, i64::MIN)
        } else {
            (i64::MAX, i64::MAX)
        });
        let (cursor, order) = if q.ascending {
            (
                "(timestamp_ms > ?8 OR (timestamp_ms = ?8 AND id > ?9))",
                "timestamp_ms ASC, id ASC",
            )
        } else {
            (
                "(timestamp_ms < ?8 OR (timestamp_ms = ?8 AND id < ?9))",
                "timestamp_ms DESC, id DESC",
            )
        };
        let sql = format!(
            "SELECT id, alarm_name, alarm_type, timestamp_ms, item_type, summary, data \
             FROM cloudwatch_alarm_history WHERE account_id = ?1 AND region = ?2 \
             AND (?3 IS NULL OR alarm_name = ?3) \
             AND alarm_type IN (SELECT value FROM json_each(?4)) \
             AND (?5 IS NULL OR item_type = ?5) \
             AND (?6 IS NULL OR timestamp_ms >= ?6) AND (?7 IS NULL OR timestamp_ms <= ?7) \
             AND {cursor} ORDER BY {order} LIMIT ?10"
        );
        let rows = sqlx::query(&sql)
            .bind(q.account_id)
            .bind(q.region)
            .bind(q.alarm_name)
            .bind(types_json)
            .bind(q.item_type)
            .bind(q.start_ms)
            .bind(q.end_ms)
            .bind(after_ts)
            .bind(after_id)
            .bind(q.limit)
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredHistoryItem {
                id: r.get(0),
                alarm_name: r.get(1),
                alarm_type: r.get(2),
                timestamp_ms: r.get(3),
                item_type: r.get(4),
                summary: r.get(5),
                data: r.get(6),
            })
            .collect())
    }
}
