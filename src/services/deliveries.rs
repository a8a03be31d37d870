//! Deliveries to targets this emulator does not host: an alarm action's SNS topic, a rule's
//! Lambda function or SQS queue. Each is recorded with the message body the target would have
//! received, so a developer can list them (`GET /_watchtrail/deliveries`) and assert on them.
//! Attempts against HTTP API destinations are recorded here too, with their outcome.

use serde::Serialize;
use sqlx::Row;

use crate::store::{Db, StoreError};

/// One delivery to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub account_id: String,
    pub region: String,
    /// `cloudwatch` or `events`.
    pub origin: &'static str,
    pub target: String,
    pub target_kind: String,
    /// The alarm or rule ARN that caused it.
    pub source: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// The target is not hosted here; the message is kept as it would have been sent.
    Recorded,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Recorded => "recorded",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// A recorded delivery as the listing endpoint shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecordedDelivery {
    pub id: i64,
    pub account_id: String,
    pub region: String,
    pub origin: String,
    pub target: String,
    pub target_kind: String,
    pub source: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_ms: i64,
}

/// What to list; every field narrows the listing.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryFilter {
    pub target: Option<String>,
    pub origin: Option<String>,
    pub source: Option<String>,
    /// Only deliveries with an id above this one (to poll for new ones).
    pub after: Option<i64>,
    pub limit: Option<i64>,
    /// Only this account's deliveries. Set by the server from the caller's verified identity,
    /// never read from the query string.
    #[serde(skip)]
    pub account_id: Option<String>,
}

#[derive(Clone)]
pub struct Deliveries {
    db: Db,
}

impl Deliveries {
    pub fn new(db: Db) -> Self {
        Deliveries { db }
    }

    /// Records deliveries in one commit; resolves once they are durable.
    pub async fn record(&self, deliveries: Vec<Delivery>) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    for d in &deliveries {
                        sqlx::query(
                            "INSERT INTO deliveries (account_id, region, origin, target, \
                             target_kind, source, subject, body, status, attempts, error, \
                             created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        )
                        .bind(&d.account_id)
                        .bind(&d.region)
                        .bind(d.origin)
                        .bind(&d.target)
                        .bind(&d.target_kind)
                        .bind(&d.source)
                        .bind(&d.subject)
                        .bind(&d.body)
                        .bind(d.status.as_str())
                        .bind(d.attempts)
                        .bind(&d.error)
                        .bind(d.created_ms)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Oldest first, at most `limit` (default 1,000).
    pub async fn list(&self, filter: &DeliveryFilter) -> Result<Vec<RecordedDelivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, account_id, region, origin, target, target_kind, source, subject, body, \
             status, attempts, error, created_ms FROM deliveries \
             WHERE (?1 IS NULL OR target = ?1) AND (?2 IS NULL OR origin = ?2) \
             AND (?3 IS NULL OR source = ?3) AND id > ?4 \
             AND (?6 IS NULL OR account_id = ?6) ORDER BY id LIMIT ?5",
        )
        .bind(&filter.target)
        .bind(&filter.origin)
        .bind(&filter.source)
        .bind(filter.after.unwrap_or(0))
        .bind(filter.limit.unwrap_or(1000).clamp(1, 10_000))
        .bind(&filter.account_id)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RecordedDelivery {
                id: r.get(0),
                account_id: r.get(1),
                region: r.get(2),
                origin: r.get(3),
                target: r.get(4),
                target_kind: r.get(5),
                source: r.get(6),
                subject: r.get(7),
                body: r.get(8),
                status: r.get(9),
                attempts: r.get(10),
                error: r.get(11),
                created_ms: r.get(12),
            })
            .collect())
    }
}

/// The kind of target an ARN names (`arn:aws:sns:...` → `sns`), or `url` for an HTTP address.
pub fn target_kind(target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        return "url".to_string();
    }
    target
        .split(':')
        .nth(2)
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_arn_service() {
        assert_eq!(target_kind("arn:aws:sns:us-east-1:1:topic"), "sns");
        assert_eq!(
            target_kind("arn:aws:lambda:us-east-1:1:function:f"),
            "lambda"
        );
        assert_eq!(target_kind("https://example.com/x"), "url");
        assert_eq!(target_kind("nonsense"), "unknown");
    }
}
