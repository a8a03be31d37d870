//! Trail storage: configuration documents, delivery status and cursors.

use serde_json::Value;
use sqlx::{Row, SqliteConnection};

use crate::store::{Db, StoreError};

#[derive(Debug, Clone)]
pub struct TrailRow {
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub document: Value,
    pub logging: bool,
    pub cursor_seq: i64,
    pub status: Value,
}

fn trail_row(r: &sqlx::sqlite::SqliteRow) -> TrailRow {
    let parse = |s: String| serde_json::from_str(&s).unwrap_or(Value::Null);
    TrailRow {
        account_id: r.get(0),
        region: r.get(1),
        name: r.get(2),
        document: parse(r.get(3)),
        logging: r.get::<i64, _>(4) != 0,
        cursor_seq: r.get(5),
        status: parse(r.get(6)),
    }
}

const COLUMNS: &str = "account_id, region, name, document, logging, cursor_seq, status";

#[derive(Clone)]
pub struct TrailRepo {
    db: Db,
}

impl TrailRepo {
    pub fn new(db: Db) -> Self {
        TrailRepo { db }
    }

    /// `Ok(false)` if a trail of that name exists in the region.
    pub async fn create(
        &self,
        account_id: String,
        region: String,
        name: String,
        document: Value,
    ) -> Result<bool, StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    let result = sqlx::query(
                        "INSERT INTO cloudtrail_trails (account_id, region, name, document, cursor_seq) \
                         VALUES (?, ?, ?, ?, (SELECT coalesce(max(seq), 0) FROM cloudtrail_journal))",
                    )
                    .bind(&account_id)
                    .bind(&region)
                    .bind(&name)
                    .bind(document.to_string())
                    .execute(&mut *conn)
                    .await;
                    match result {
                        Ok(_) => Ok(true),
                        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
                        Err(e) => Err(e.into()),
                    }
                })
            })
            .await
    }

    pub async fn find(
        &self,
        account_id: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<TrailRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM cloudtrail_trails WHERE account_id = ? AND region = ? AND name = ?");
        let row = sqlx::query(&sql)
            .bind(account_id)
            .bind(region)
            .bind(name)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row.as_ref().map(trail_row))
    }

    /// Trails of an account visible in a region: its own, and multi-region trails of other regions.
    pub async fn visible(&self, account_id: &str) -> Result<Vec<TrailRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM cloudtrail_trails WHERE account_id = ? ORDER BY name");
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .fetch_all(self.db.reader())
            .await?;
        Ok(rows.iter().map(trail_row).collect())
    }

    pub async fn logging(&self) -> Result<Vec<TrailRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM cloudtrail_trails WHERE logging = 1");
        let rows = sqlx::query(&sql).fetch_all(self.db.reader()).await?;
        Ok(rows.iter().map(trail_row).collect())
    }

    pub async fn set_document(
        &self,
        account_id: String,
        region: String,
        name: String,
        document: Value,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query("UPDATE cloudtrail_trails SET document = ? WHERE account_id = ? AND region = ? AND name = ?")
                        .bind(document.to_string())
                        .bind(&account_id)
                        .bind(&region)
                        .bind(&name)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Starts or stops logging; merges `status` fields into the stored status.
    pub async fn set_logging(
        &self,
        account_id: String,
        region: String,
        name: String,
        logging: bool,
        status: Value,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    // Starting again delivers only what happens from now on.
                    sqlx::query(
                        "UPDATE cloudtrail_trails SET logging = ?1, status = json_patch(status, ?2), \
                         cursor_seq = CASE WHEN ?1 = 1 AND logging = 0 THEN (SELECT coalesce(max(seq), 0) FROM cloudtrail_journal) ELSE cursor_seq END \
                         WHERE account_id = ?3 AND region = ?4 AND name = ?5",
                    )
                    .bind(logging)
                    .bind(status.to_string())
                    .bind(&account_id)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Records a delivery: the new cursor and status fields.
    pub async fn delivered(
        &self,
        account_id: String,
        region: String,
        name: String,
        cursor_seq: i64,
        status: Value,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE cloudtrail_trails SET cursor_seq = max(cursor_seq, ?1), status = json_patch(status, ?2) \
                         WHERE account_id = ?3 AND region = ?4 AND name = ?5",
                    )
                    .bind(cursor_seq)
                    .bind(status.to_string())
                    .bind(&account_id)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    pub async fn delete(
        &self,
        account_id: String,
        region: String,
        name: String,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM cloudtrail_trails WHERE account_id = ? AND region = ? AND name = ?")
                        .bind(&account_id)
                        .bind(&region)
                        .bind(&name)
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Journal records after `after_seq`, oldest first: (seq, account, region, management, event JSON).
    pub async fn journal_after(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, bool, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, account_id, region, management, event FROM cloudtrail_journal WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get::<i64, _>(3) != 0,
                    r.get(4),
                )
            })
            .collect())
    }
}
