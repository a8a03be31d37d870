//! EventBridge storage: buses, rules, targets and tags. Writes go through `Db::write`;
//! checks that must hold at commit time (the per-rule target quota, "no targets left" before a
//! rule is deleted, due schedules claimed once) run inside the write.

use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::schedule::Schedule;
use crate::store::{Db, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

/// Whether `rule` exists on the bus, read inside the caller's write so the answer holds at
/// commit time.
async fn rule_exists(conn: &mut SqliteConnection, key: &BusKey, rule: &str) -> Result<bool> {
    let found = sqlx::query(
        "SELECT 1 FROM events_rules WHERE account_id = ? AND region = ? AND bus = ? AND name = ?",
    )
    .bind(&key.account_id)
    .bind(&key.region)
    .bind(&key.bus)
    .bind(rule)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

#[derive(Debug, Clone)]
pub struct BusRow {
    pub name: String,
    pub description: Option<String>,
    pub policy: Option<String>,
    pub settings: Value,
    pub created_ms: i64,
    pub modified_ms: i64,
}

const BUS_COLUMNS: &str = "name, description, policy, settings, created_ms, modified_ms";

fn bus_row(r: &SqliteRow) -> BusRow {
    BusRow {
        name: r.get(0),
        description: r.get(1),
        policy: r.get(2),
        settings: serde_json::from_str(&r.get::<String, _>(3)).unwrap_or(Value::Null),
        created_ms: r.get(4),
        modified_ms: r.get(5),
    }
}

/// Which account, region and bus a rule lives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusKey {
    pub account_id: String,
    pub region: String,
    pub bus: String,
}

#[derive(Debug, Clone)]
pub struct RuleRow {
    pub name: String,
    pub bus: String,
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    pub state: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub managed_by: Option<String>,
    pub created_by: String,
}

const RULE_COLUMNS: &str = "name, bus, event_pattern, schedule_expression, state, description, \
                            role_arn, managed_by, created_by";

fn rule_row(r: &SqliteRow) -> RuleRow {
    RuleRow {
        name: r.get(0),
        bus: r.get(1),
        event_pattern: r.get(2),
        schedule_expression: r.get(3),
        state: r.get(4),
        description: r.get(5),
        role_arn: r.get(6),
        managed_by: r.get(7),
        created_by: r.get(8),
    }
}

/// A rule as the router needs it: what it matches and where matches go.
#[derive(Debug, Clone)]
pub struct RoutingRule {
    pub name: String,
    pub event_pattern: Option<String>,
    pub state: String,
    pub managed_by: Option<String>,
    pub targets: Vec<Value>,
}

/// What PutTargets did inside its commit.
#[derive(Debug, PartialEq, Eq)]
pub enum PutTargetsOutcome {
    Applied,
    RuleNotFound,
    /// The rule would hold more targets than the quota.
    OverQuota,
}

/// What DeleteRule did inside its commit.
#[derive(Debug, PartialEq, Eq)]
pub enum DeleteRuleOutcome {
    Deleted,
    NotFound,
    HasTargets,
    Managed,
}

/// A scheduled rule whose firing was claimed: `fire_ms` is the scheduled time.
#[derive(Debug, Clone)]
pub struct DueSchedule {
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub fire_ms: i64,
}

#[derive(Clone)]
pub struct EventsRepo {
    db: Db,
}

impl EventsRepo {
    pub fn new(db: Db) -> Self {
        EventsRepo { db }
    }

    // ---- buses ----

    pub async fn find_bus(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<BusRow>> {
        let row = sqlx::query(&format!(
            "SELECT {BUS_COLUMNS} FROM events_buses WHERE account_id = ? AND region = ? AND name = ?"
        ))
        .bind(account)
        .bind(region)
        .bind(name)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row.as_ref().map(bus_row))
    }

    /// `Ok(false)` when a bus of that name exists.
    pub async fn create_bus(
        &self,
        account: String,
        region: String,
        row: BusRow,
        tags: Vec<(String, String)>,
        arn: String,
    ) -> Result<bool> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let inserted = sqlx::query(
                        "INSERT INTO events_buses (account_id, region, name, description, policy, \
                         settings, created_ms, modified_ms) VALUES (?, ?, ?, ?, NULL, ?, ?, ?) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&row.name)
                    .bind(&row.description)
                    .bind(row.settings.to_string())
                    .bind(row.created_ms)
                    .bind(row.modified_ms)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
                        == 1;
                    if inserted {
                        put_tags(conn, &arn, &tags).await?;
                    }
                    Ok(inserted)
                })
            })
            .await
    }

    /// Buses of the account and region whose name starts with `prefix`, by name.
    pub async fn list_buses(
        &self,
        account: &str,
        region: &str,
        prefix: &str,
    ) -> Result<Vec<BusRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {BUS_COLUMNS} FROM events_buses WHERE account_id = ? AND region = ? \
             AND substr(name, 1, length(?3)) = ?3 ORDER BY name"
        ))
        .bind(account)
        .bind(region)
        .bind(prefix)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows.iter().map(bus_row).collect())
    }

    /// Deletes a bus with its rules, their targets and the tags of all of them.
    pub async fn delete_bus(
        &self,
        account: String,
        region: String,
        name: String,
        arn_prefix: String,
    ) -> Result<()> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    for table in ["events_targets", "events_rules"] {
                        sqlx::query(&format!(
                            "DELETE FROM {table} WHERE account_id = ? AND region = ? AND bus = ?"
                        ))
                        .bind(&account)
                        .bind(&region)
                        .bind(&name)
                        .execute(&mut *conn)
                        .await?;
                    }
                    sqlx::query(
                        "DELETE FROM events_buses WHERE account_id = ? AND region = ? AND name = ?",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    // The bus's own ARN, and rule ARNs `rule/<bus>/...`.
                    sqlx::query(
                        "DELETE FROM events_tags WHERE resource_arn = ?1 \
                         OR substr(resource_arn, 1, length(?2)) = ?2",
                    )
                    .bind(format!("{arn_prefix}event-bus/{name}"))
                    .bind(format!("{arn_prefix}rule/{name}/"))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Stores a bus's policy (None removes it); writes the default bus's row when it has none.
    pub async fn set_policy(
        &self,
        account: String,
        region: String,
        name: String,
        policy: Option<String>,
        now_ms: i64,
    ) -> Result<()> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO events_buses (account_id, region, name, policy, created_ms, \
                         modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
                         ON CONFLICT (account_id, region, name) DO UPDATE SET policy = ?4, \
                         modified_ms = ?5",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .bind(&policy)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Replaces a bus's description and settings (UpdateEventBus).
    pub async fn update_bus(
        &self,
        account: String,
        region: String,
        name: String,
        description: Option<String>,
        settings: Value,
        now_ms: i64,
    ) -> Result<()> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO events_buses (account_id, region, name, description, settings, \
                         created_ms, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
                         ON CONFLICT (account_id, region, name) DO UPDATE SET description = ?4, \
                         settings = ?5, modified_ms = ?6",
                    )
                    .bind(&account)
                    .bind(&region)
                    .bind(&name)
                    .bind(&description)
                    .bind(settings.to_string())
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    // ---- rules ----

    pub async fn find_rule(&self, key: &BusKey, name: &str) -> Result<Option<RuleRow>> {
        let row = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM events_rules WHERE account_id = ? AND region = ? AND bus = ? \
             AND name = ?"
        ))
        .bind(&key.account_id)
        .bind(&key.region)
        .bind(&key.bus)
        .bind(name)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row.as_ref().map(rule_row))
    }

    /// Creates or replaces a rule. Tags are applied only when the rule is created (AWS leaves
    /// an existing rule's tags alone). `next_fire_ms` and the anchor are for schedules.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_rule(
        &self,
        key: BusKey,
        rule: RuleRow,
        next_fire_ms: Option<i64>,
        now_ms: i64,
        tags: Vec<(String, String)>,
        arn: String,
    ) -> Result<()> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let created = sqlx::query(
                        "SELECT 1 FROM events_rules WHERE account_id = ? AND region = ? \
                         AND bus = ? AND name = ?",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(&key.bus)
                    .bind(&rule.name)
                    .fetch_optional(&mut *conn)
                    .await?
                    .is_none();
                    sqlx::query(
                        "INSERT INTO events_rules (account_id, region, bus, name, event_pattern, \
                         schedule_expression, state, description, role_arn, managed_by, created_by, \
                         next_fire_ms, schedule_anchor_ms, created_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11, ?12, ?12) \
                         ON CONFLICT (account_id, region, bus, name) DO UPDATE SET \
                         event_pattern = ?5, schedule_expression = ?6, state = ?7, description = ?8, \
                         role_arn = ?9, next_fire_ms = ?11, schedule_anchor_ms = ?12",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(&key.bus)
                    .bind(&rule.name)
                    .bind(&rule.event_pattern)
                    .bind(&rule.schedule_expression)
                    .bind(&rule.state)
                    .bind(&rule.description)
                    .bind(&rule.role_arn)
                    .bind(&rule.created_by)
                    .bind(next_fire_ms)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    if created {
                        put_tags(conn, &arn, &tags).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// Rules of a bus whose name starts with `prefix` and sorts after `after`, by name.
    pub async fn list_rules(
        &self,
        key: &BusKey,
        prefix: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RuleRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RULE_COLUMNS} FROM events_rules WHERE account_id = ? AND region = ? AND bus = ? \
             AND substr(name, 1, length(?4)) = ?4 AND name > ?5 ORDER BY name LIMIT ?6"
        ))
        .bind(&key.account_id)
        .bind(&key.region)
        .bind(&key.bus)
        .bind(prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows.iter().map(rule_row).collect())
    }

    /// Sets a rule's state and next schedule firing; `Ok(false)` when there is no such rule.
    pub async fn set_rule_state(
        &self,
        key: BusKey,
        name: String,
        state: &'static str,
        now_ms: i64,
    ) -> Result<bool> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "SELECT schedule_expression FROM events_rules WHERE account_id = ? \
                         AND region = ? AND bus = ? AND name = ?",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(&key.bus)
                    .bind(&name)
                    .fetch_optional(&mut *conn)
                    .await?;
                    let Some(row) = row else {
                        return Ok(false);
                    };
                    let expression: Option<String> = row.get(0);
                    // A re-enabled rate schedule is phased from now, as after an update.
                    let next_fire = match (state, expression) {
                        ("DISABLED", _) | (_, None) => None,
                        (_, Some(expr)) => Schedule::parse(&expr)
                            .ok()
                            .and_then(|s| s.anchored_at(now_ms).next_fire_after(now_ms)),
                    };
                    sqlx::query(
                        "UPDATE events_rules SET state = ?, next_fire_ms = ?, \
                         schedule_anchor_ms = coalesce(?, schedule_anchor_ms) \
                         WHERE account_id = ? AND region = ? AND bus = ? AND name = ?",
                    )
                    .bind(state)
                    .bind(next_fire)
                    .bind(next_fire.map(|_| now_ms))
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(&key.bus)
                    .bind(&name)
                    .execute(&mut *conn)
                    .await?;
                    Ok(true)
                })
            })
            .await
    }

    pub async fn delete_rule(
        &self,
        key: BusKey,
        name: String,
        force: bool,
        arn: String,
    ) -> Result<DeleteRuleOutcome> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "SELECT managed_by, (SELECT count(*) FROM events_targets t WHERE \
                         t.account_id = r.account_id AND t.region = r.region AND t.bus = r.bus \
                         AND t.rule = r.name) FROM events_rules r WHERE account_id = ? \
                         AND region = ? AND bus = ? AND name = ?",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(&key.bus)
                    .bind(&name)
                    .fetch_optional(&mut *conn)
                    .await?;
                    let Some(row) = row else {
                        return Ok(DeleteRuleOutcome::NotFound);
                    };
                    let managed: Option<String> = row.get(0);
                    let targets: i64 = row.get(1);
                    if managed.is_some() && !force {
                        return Ok(DeleteRuleOutcome::Managed);
                    }
                    if targets > 0 && !force {
                        return Ok(DeleteRuleOutcome::HasTargets);
                    }
                    for table in ["events_targets", "events_rules"] {
                        let column = if table == "events_rules" {
                            "name"
                        } else {
                            "rule"
                        };
                        sqlx::query(&format!(
                            "DELETE FROM {table} WHERE account_id = ? AND region = ? AND bus = ? \
                             AND {column} = ?"
                        ))
                        .bind(&key.account_id)
                        .bind(&key.region)
                        .bind(&key.bus)
                        .bind(&name)
                        .execute(&mut *conn)
                        .await?;
                    }
                    sqlx::query("DELETE FROM events_tags WHERE resource_arn = ?")
                        .bind(&arn)
                        .execute(&mut *conn)
                        .await?;
                    Ok(DeleteRuleOutcome::Deleted)
                })
            })
            .await
    }

    /// Names of the bus's rules with a target of this ARN, sorted, after `after`.
    pub async fn rule_names_by_target(
        &self,
        key: &BusKey,
        target_arn: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT rule FROM events_targets WHERE account_id = ? AND region = ? \
             AND bus = ? AND arn = ? AND rule > ? ORDER BY rule LIMIT ?",
        )
        .bind(&key.account_id)
        .bind(&key.region)
        .bind(&key.bus)
        .bind(target_arn)
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    // ---- targets ----

    /// Adds or replaces targets (id, arn, document) of a rule, refusing to go over `quota`.
    pub async fn put_targets(
        &self,
        key: BusKey,
        rule: String,
        targets: Vec<(String, String, Value)>,
        quota: i64,
    ) -> Result<PutTargetsOutcome> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    if !rule_exists(&mut *conn, &key, &rule).await? {
                        return Ok(PutTargetsOutcome::RuleNotFound);
                    }
                    let existing: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT id, position FROM events_targets WHERE account_id = ? AND region = ? \
                         AND bus = ? AND rule = ?",
                    )
                    .bind(&key.account_id)
                    .bind(&key.region)
                    .bind(&key.bus)
                    .bind(&rule)
                    .fetch_all(&mut *conn)
                    .await?;
                    let mut ids: std::collections::BTreeSet<&str> =
                        existing.iter().map(|(id, _)| id.as_str()).collect();
                    for (id, _, _) in &targets {
                        ids.insert(id);
                    }
                    if ids.len() as i64 > quota {
                        return Ok(PutTargetsOutcome::OverQuota);
                    }
                    let first_position = existing.iter().map(|(_, p)| *p).max().unwrap_or(0) + 1;
                    for (position, (id, arn, document)) in (first_position..).zip(&targets) {
                        sqlx::query(
                            "INSERT INTO events_targets (account_id, region, bus, rule, id, arn, \
                             document, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                             ON CONFLICT (account_id, region, bus, rule, id) DO UPDATE SET \
                             arn = excluded.arn, document = excluded.document",
                        )
                        .bind(&key.account_id)
                        .bind(&key.region)
                        .bind(&key.bus)
                        .bind(&rule)
                        .bind(id)
                        .bind(arn)
                        .bind(document.to_string())
                        .bind(position)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(PutTargetsOutcome::Applied)
                })
            })
            .await
    }

    /// Removes targets by id; `Ok(None)` when the rule does not exist.
    pub async fn remove_targets(
        &self,
        key: BusKey,
        rule: String,
        ids: Vec<String>,
    ) -> Result<Option<()>> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    if !rule_exists(&mut *conn, &key, &rule).await? {
                        return Ok(None);
                    }
                    for id in &ids {
                        sqlx::query(
                            "DELETE FROM events_targets WHERE account_id = ? AND region = ? \
                             AND bus = ? AND rule = ? AND id = ?",
                        )
                        .bind(&key.account_id)
                        .bind(&key.region)
                        .bind(&key.bus)
                        .bind(&rule)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(Some(()))
                })
            })
            .await
    }

    /// Targets of a rule in the order they were put, after position `after`: (position, target).
    pub async fn list_targets(
        &self,
        key: &BusKey,
        rule: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Value)>> {
        let rows = sqlx::query(
            "SELECT position, document FROM events_targets WHERE account_id = ? AND region = ? \
             AND bus = ? AND rule = ? AND position > ? ORDER BY position LIMIT ?",
        )
        .bind(&key.account_id)
        .bind(&key.region)
        .bind(&key.bus)
        .bind(rule)
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let doc: String = r.get(1);
                (r.get(0), serde_json::from_str(&doc).unwrap_or(Value::Null))
            })
            .collect())
    }

    // ---- routing and schedules ----

    /// The bus's enabled rules that have targets, each with its targets.
    pub async fn routing_rules(&self, key: &BusKey) -> Result<Vec<RoutingRule>> {
        let rows = sqlx::query(
            "SELECT r.name, r.event_pattern, r.state, r.managed_by, t.document \
             FROM events_rules r JOIN events_targets t ON t.account_id = r.account_id \
             AND t.region = r.region AND t.bus = r.bus AND t.rule = r.name \
             WHERE r.account_id = ? AND r.region = ? AND r.bus = ? AND r.state != 'DISABLED' \
             ORDER BY r.name, t.position",
        )
        .bind(&key.account_id)
        .bind(&key.region)
        .bind(&key.bus)
        .fetch_all(self.db.reader())
        .await?;
        let mut rules: Vec<RoutingRule> = Vec::new();
        for r in &rows {
            let name: String = r.get(0);
            let document: String = r.get(4);
            let target = serde_json::from_str(&document).unwrap_or(Value::Null);
            match rules.last_mut() {
                Some(last) if last.name == name => last.targets.push(target),
                _ => rules.push(RoutingRule {
                    name,
                    event_pattern: r.get(1),
                    state: r.get(2),
                    managed_by: r.get(3),
                    targets: vec![target],
                }),
            }
        }
        Ok(rules)
    }

    /// Claims every enabled schedule due at `now_ms` and moves it to its next firing, in one
    /// commit, so a firing is handed out once however many callers ask.
    pub async fn claim_due_schedules(&self, now_ms: i64) -> Result<Vec<DueSchedule>> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    let rows = sqlx::query(
                        "SELECT account_id, region, name, schedule_expression, next_fire_ms, \
                         coalesce(schedule_anchor_ms, created_ms) FROM events_rules \
                         WHERE next_fire_ms IS NOT NULL AND next_fire_ms <= ? AND bus = 'default' \
                         AND state != 'DISABLED'",
                    )
                    .bind(now_ms)
                    .fetch_all(&mut *conn)
                    .await?;
                    let mut due = Vec::with_capacity(rows.len());
                    for r in &rows {
                        let expression: Option<String> = r.get(3);
                        let anchor: i64 = r.get(5);
                        let next = expression
                            .and_then(|e| Schedule::parse(&e).ok())
                            .and_then(|s| s.anchored_at(anchor).next_fire_after(now_ms));
                        let item = DueSchedule {
                            account_id: r.get(0),
                            region: r.get(1),
                            name: r.get(2),
                            fire_ms: r.get(4),
                        };
                        sqlx::query(
                            "UPDATE events_rules SET next_fire_ms = ? WHERE account_id = ? \
                             AND region = ? AND bus = 'default' AND name = ?",
                        )
                        .bind(next)
                        .bind(&item.account_id)
                        .bind(&item.region)
                        .bind(&item.name)
                        .execute(&mut *conn)
                        .await?;
                        due.push(item);
                    }
                    Ok(due)
                })
            })
            .await
    }

    // ---- tags ----

    pub async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as(
                "SELECT key, value FROM events_tags WHERE resource_arn = ? ORDER BY key",
            )
            .bind(arn)
            .fetch_all(self.db.reader())
            .await?,
        )
    }

    pub async fn tag(&self, arn: String, tags: Vec<(String, String)>) -> Result<()> {
        self.db
            .write(move |conn| Box::pin(async move { put_tags(conn, &arn, &tags).await }))
            .await
    }

    pub async fn untag(&self, arn: String, keys: Vec<String>) -> Result<()> {
        self.db
            .write(move |conn| {
                Box::pin(async move {
                    for key in &keys {
                        sqlx::query("DELETE FROM events_tags WHERE resource_arn = ? AND key = ?")
                            .bind(&arn)
                            .bind(key)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .await
    }
}

async fn put_tags(conn: &mut SqliteConnection, arn: &str, tags: &[(String, String)]) -> Result<()> {
    for (key, value) in tags {
        sqlx::query(
            "INSERT INTO events_tags (resource_arn, key, value) VALUES (?, ?, ?) \
             ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value",
        )
        .bind(arn)
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
