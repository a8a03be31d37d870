//! PutDashboard, GetDashboard, ListDashboards and DeleteDashboards, with their SQL.
//!
//! Dashboards belong to an account, not a region (`arn:aws:cloudwatch::<account>:dashboard/
//! <name>`). The body is validated against the documented dashboard body structure and
//! stored exactly as sent, since GetDashboard must give back what was put.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Row, SqliteConnection};

use super::widget::schema::{check_metric_properties, Checker, Context, ValidationMessage};
use super::{CloudWatchError, Result};
use crate::context::RequestContext;
use crate::services::input;
use crate::store::{Db, StoreError};

/// ListDashboards answers at most this many dashboards a page (API reference).
const LIST_PAGE: usize = 1000;
const MAX_NAME_CHARS: usize = 255;
/// DeleteDashboards takes up to 100 names (API reference).
const MAX_DELETE: usize = 100;
const MAX_WIDGETS: usize = 500;

const WIDGET_TYPES: &[&str] = &["metric", "text", "log", "alarm", "explorer", "custom"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutDashboardInput {
    dashboard_name: String,
    dashboard_body: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutDashboardOutput {
    pub dashboard_validation_messages: Vec<ValidationMessage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetDashboardInput {
    dashboard_name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetDashboardOutput {
    pub dashboard_arn: String,
    pub dashboard_body: String,
    pub dashboard_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListDashboardsInput {
    dashboard_name_prefix: Option<String>,
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DashboardEntry {
    pub dashboard_name: String,
    pub dashboard_arn: String,
    /// Epoch seconds.
    pub last_modified: f64,
    pub size: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDashboardsOutput {
    pub dashboard_entries: Vec<DashboardEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteDashboardsInput {
    #[serde(default)]
    dashboard_names: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DeleteDashboardsOutput {}

fn arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch::{account_id}:dashboard/{name}")
}

fn invalid_input(message: impl Into<String>) -> CloudWatchError {
    CloudWatchError::DashboardInvalidInput {
        message: message.into(),
        messages: Vec::new(),
    }
}

fn not_found(name: &str) -> CloudWatchError {
    CloudWatchError::DashboardNotFound(format!("Dashboard {name} does not exist"))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn check_name(name: &str) -> Result<()> {
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME_CHARS {
        return Err(invalid_input(format!(
            "The value for field DashboardName must be between 1 and {MAX_NAME_CHARS} characters long."
        )));
    }
    if !name.chars().all(is_name_char) {
        return Err(invalid_input(
            "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).",
        ));
    }
    Ok(())
}

/// Validates a DashboardBody; the error carries every problem found, as CloudWatch lists
/// them.
pub fn validate_body(body: &str) -> Result<Vec<ValidationMessage>> {
    let parsed: Value = match serde_json::from_str(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Err(invalid_input(
                "The field DashboardBody must be a valid JSON object",
            ))
        }
    };
    let mut checker = Checker::default();
    check_dashboard(&mut checker, &parsed);
    if checker.messages.is_empty() {
        return Ok(Vec::new());
    }
    let count = checker.messages.len();
    Err(CloudWatchError::DashboardInvalidInput {
        message: format!(
            "The dashboard body is invalid, there are {count} validation errors:\n{}",
            checker.render()
        ),
        messages: checker.messages,
    })
}

fn check_dashboard(checker: &mut Checker, body: &Value) {
    let Some(root) = checker.object(body, "") else {
        return;
    };
    for key in ["start", "end"] {
        if let Some(v) = root.get(key) {
            checker.string(v, &format!("/{key}"));
        }
    }
    if let Some(v) = root.get("periodOverride") {
        checker.one_of(v, "/periodOverride", &["auto", "inherit"]);
    }
    if let Some(v) = root.get("variables") {
        checker.array(v, "/variables");
    }
    let Some(widgets) = checker.required(root, "", "widgets") else {
        return;
    };
    let Some(widgets) = checker.array(widgets, "/widgets") else {
        return;
    };
    if widgets.len() > MAX_WIDGETS {
        checker.fail(
            "/widgets",
            format!("Should NOT have more than {MAX_WIDGETS} items"),
        );
    }
    for (i, widget) in widgets.iter().enumerate() {
        check_widget(checker, widget, &format!("/widgets/{i}"));
    }
}

fn check_widget(checker: &mut Checker, value: &Value, path: &str) {
    let Some(widget) = checker.object(value, path) else {
        return;
    };
    let kind = checker.required(widget, path, "type").and_then(|t| {
        checker.one_of(t, &format!("{path}/type"), WIDGET_TYPES);
        t.as_str()
    });
    // Grid position and size: 24 columns, x 0–23, width 1–24, height 1–1000.
    for (key, min, max) in [
        ("x", 0, Some(23)),
        ("y", 0, None),
        ("width", 1, Some(24)),
        ("height", 1, Some(1000)),
    ] {
        if let Some(v) = widget.get(key) {
            checker.integer(v, &format!("{path}/{key}"), Some(min), max);
        }
    }
    let Some(properties) = checker.required(widget, path, "properties") else {
        return;
    };
    let props_path = format!("{path}/properties");
    match kind {
        Some("metric") => {
            check_metric_properties(checker, properties, &props_path, Context::Dashboard)
        }
        Some("text") => {
            if let Some(props) = checker.object(properties, &props_path) {
                if let Some(v) = checker.required(props, &props_path, "markdown") {
                    checker.string(v, &format!("{props_path}/markdown"));
                }
                if let Some(v) = props.get("background") {
                    checker.one_of(
                        v,
                        &format!("{props_path}/background"),
                        &["solid", "transparent"],
                    );
                }
            }
        }
        Some("log") => {
            if let Some(props) = checker.object(properties, &props_path) {
                for key in ["query", "region"] {
                    if let Some(v) = checker.required(props, &props_path, key) {
                        checker.string(v, &format!("{props_path}/{key}"));
                    }
                }
                if let Some(v) = props.get("view") {
                    checker.one_of(
                        v,
                        &format!("{props_path}/view"),
                        &["table", "timeSeries", "bar", "pie"],
                    );
                }
            }
        }
        Some("alarm") => {
            if let Some(props) = checker.object(properties, &props_path) {
                if let Some(v) = checker.required(props, &props_path, "alarms") {
                    let list_path = format!("{props_path}/alarms");
                    if let Some(list) = checker.array(v, &list_path) {
                        for (i, arn) in list.iter().enumerate() {
                            checker.string(arn, &format!("{list_path}/{i}"));
                        }
                    }
                }
            }
        }
        _ => {
            checker.object(properties, &props_path);
        }
    }
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html
pub async fn put_dashboard(
    repo: &DashboardRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<PutDashboardOutput> {
    let request: PutDashboardInput = input(doc)?;
    check_name(&request.dashboard_name)?;
    let warnings = validate_body(&request.dashboard_body)?;
    repo.put(
        ctx.account_id.clone(),
        request.dashboard_name,
        request.dashboard_body,
        ctx.now_ms,
    )
    .await?;
    Ok(PutDashboardOutput {
        dashboard_validation_messages: warnings,
    })
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetDashboard.html
pub async fn get_dashboard(
    repo: &DashboardRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<GetDashboardOutput> {
    let request: GetDashboardInput = input(doc)?;
    let name = request.dashboard_name;
    let row = repo
        .find(&ctx.account_id, &name)
        .await?
        .ok_or_else(|| not_found(&name))?;
    Ok(GetDashboardOutput {
        dashboard_arn: arn(&ctx.account_id, &row.name),
        dashboard_body: row.body,
        dashboard_name: row.name,
    })
}

fn encode_token(after: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("ld:{after}"))
}

fn decode_token(token: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("ld:")
        .map(str::to_string)
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListDashboards.html
pub async fn list_dashboards(
    repo: &DashboardRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<ListDashboardsOutput> {
    let request: ListDashboardsInput = input(doc)?;
    let prefix = request.dashboard_name_prefix.unwrap_or_default();
    if !prefix.chars().all(|c| is_name_char(c) || c == '.') {
        return Err(CloudWatchError::InvalidParameterValue(format!(
            "The value {prefix} for parameter DashboardNamePrefix is invalid: it can only contain alphanumerics, period (.), dash (-) and underscore (_)."
        )));
    }
    let after = match &request.next_token {
        None => None,
        Some(t) => Some(decode_token(t).ok_or_else(|| {
            CloudWatchError::InvalidParameterValue(format!(
                "The value {t} for parameter NextToken is invalid."
            ))
        })?),
    };
    let mut rows = repo
        .list(&ctx.account_id, &prefix, after.as_deref(), LIST_PAGE + 1)
        .await?;
    let next_token = if rows.len() > LIST_PAGE {
        rows.truncate(LIST_PAGE);
        rows.last().map(|r| encode_token(&r.name))
    } else {
        None
    };
    Ok(ListDashboardsOutput {
        dashboard_entries: rows
            .into_iter()
            .map(|r| DashboardEntry {
                dashboard_arn: arn(&ctx.account_id, &r.name),
                dashboard_name: r.name,
                last_modified: r.last_modified_ms as f64 / 1000.0,
                size: r.size,
            })
            .collect(),
        next_token,
    })
}

/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteDashboards.html
/// "If there is an error during this call, no dashboards are deleted."
pub async fn delete_dashboards(
    repo: &DashboardRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DeleteDashboardsOutput> {
    let request: DeleteDashboardsInput = input(doc)?;
    if request.dashboard_names.is_empty() {
        return Err(CloudWatchError::MissingParameter(
            "The parameter DashboardNames is required.".into(),
        ));
    }
    if request.dashboard_names.len() > MAX_DELETE {
        return Err(CloudWatchError::InvalidParameterValue(format!(
            "The collection DashboardNames must not have a size greater than {MAX_DELETE}."
        )));
    }
    let mut names = request.dashboard_names;
    names.sort();
    names.dedup();
    if let Some(missing) = repo.delete_all(ctx.account_id.clone(), names).await? {
        return Err(not_found(&missing));
    }
    Ok(DeleteDashboardsOutput {})
}

#[derive(Debug, Clone)]
pub struct DashboardRow {
    pub name: String,
    pub body: String,
    pub last_modified_ms: i64,
    pub size: i64,
}

#[derive(Clone)]
pub struct DashboardRepo {
    db: Db,
}

impl DashboardRepo {
    pub fn new(db: Db) -> Self {
        DashboardRepo { db }
    }

    pub async fn put(
        &self,
        account_id: String,
        name: String,
        body: String,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO cloudwatch_dashboards (account_id, name, body, last_modified_ms, size) \
                         VALUES (?, ?, ?, ?, ?) \
                         ON CONFLICT (account_id, name) DO UPDATE SET \
                         body = excluded.body, last_modified_ms = excluded.last_modified_ms, size = excluded.size",
                    )
                    .bind(&account_id)
                    .bind(&name)
                    .bind(&body)
                    .bind(now_ms)
                    .bind(body.len() as i64)
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    pub async fn find(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<DashboardRow>, StoreError> {
        let row = sqlx::query(
            "SELECT name, body, last_modified_ms, size FROM cloudwatch_dashboards \
             WHERE account_id = ? AND name = ?",
        )
        .bind(account_id)
        .bind(name)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row.map(|r| DashboardRow {
            name: r.get(0),
            body: r.get(1),
            last_modified_ms: r.get(2),
            size: r.get(3),
        }))
    }

    /// Dashboards whose name starts with `prefix`, by name, after `after`; bodies left out.
    pub async fn list(
        &self,
        account_id: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DashboardRow>, StoreError> {
        // substr() rather than LIKE: names may hold `_`, a LIKE wildcard.
        let rows = sqlx::query(
            "SELECT name, last_modified_ms, size FROM cloudwatch_dashboards \
             WHERE account_id = ? AND substr(name, 1, length(?)) = ? AND name > ? \
             ORDER BY name LIMIT ?",
        )
        .bind(account_id)
        .bind(prefix)
        .bind(prefix)
        .bind(after.unwrap_or(""))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.db.reader())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DashboardRow {
                name: r.get(0),
                body: String::new(),
                last_modified_ms: r.get(1),
                size: r.get(2),
            })
            .collect())
    }

    /// Deletes every named dashboard, or none: answers the first missing name instead.
    pub async fn delete_all(
        &self,
        account_id: String,
        names: Vec<String>,
    ) -> Result<Option<String>, StoreError> {
        self.db
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    for name in &names {
                        let found = sqlx::query(
                            "SELECT 1 FROM cloudwatch_dashboards WHERE account_id = ? AND name = ?",
                        )
                        .bind(&account_id)
                        .bind(name)
                        .fetch_optional(&mut *conn)
                        .await?;
                        if found.is_none() {
                            return Ok(Some(name.clone()));
                        }
                    }
                    for name in &names {
                        sqlx::query(
                            "DELETE FROM cloudwatch_dashboards WHERE account_id = ? AND name = ?",
                        )
                        .bind(&account_id)
                        .bind(name)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(None)
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(body: &str) -> Vec<(String, String)> {
        match validate_body(body) {
            Ok(_) => Vec::new(),
            Err(CloudWatchError::DashboardInvalidInput { message, .. }) => {
                let json = message
                    .split_once('\n')
                    .map(|(_, rest)| rest)
                    .unwrap_or_default();
                let list: Vec<Value> = serde_json::from_str(json).unwrap_or_default();
                list.iter()
                    .map(|m| {
                        (
                            m["dataPath"].as_str().unwrap_or_default().to_string(),
                            m["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            }
            Err(other) => vec![("?".into(), other.to_string())],
        }
    }

    fn pair(path: &str, message: &str) -> (String, String) {
        (path.to_string(), message.to_string())
    }

    #[test]
    fn the_documented_example_is_valid() {
        let body = r#"{"start":"-PT6H","periodOverride":"inherit","widgets":[
            {"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{
              "metrics":[["AWS/EC2","CPUUtilization","InstanceId","i-012345"]],
              "period":300,"stat":"Average","region":"us-east-1","title":"EC2 Instance CPU",
              "liveData":false,"legend":{"position":"right"}}},
            {"type":"text","x":0,"y":7,"width":3,"height":3,"properties":{"markdown":"Hello world"}}]}"#;
        assert_eq!(validate_body(body).map(|w| w.len()).ok(), Some(0));
        assert_eq!(
            validate_body(r#"{"widgets":[]}"#).map(|w| w.len()).ok(),
            Some(0)
        );
    }

    #[test]
    fn structural_errors_name_their_paths() {
        assert_eq!(
            messages(r#"{"start":"-PT1H"}"#),
            vec![pair("", "Should have required property 'widgets'")]
        );
        assert_eq!(
            messages(r#"{"widgets":{}}"#),
            vec![pair("/widgets", "Should be array")]
        );
        assert_eq!(
            messages(
                r#"{"widgets":[{"type":"chart","width":25,"height":0,"x":-1,"properties":{}}]}"#
            ),
            vec![
                pair(
                    "/widgets/0/type",
                    "Should be equal to one of the allowed values"
                ),
                pair("/widgets/0/x", "Should be >= 0"),
                pair("/widgets/0/width", "Should be <= 24"),
                pair("/widgets/0/height", "Should be >= 1"),
            ]
        );
        assert_eq!(
            messages(
                r#"{"widgets":[{"type":"metric","properties":{"metrics":["AWS/EC2","CPUUtilization"],"region":"us-east-1"}}]}"#
            ),
            vec![
                pair("/widgets/0/properties/metrics/0", "Should be array"),
                pair(
                    "/widgets/0/properties/metrics/0",
                    super::super::widget::schema::METRICS_ROW_MESSAGE
                ),
                pair("/widgets/0/properties/metrics/1", "Should be array"),
                pair(
                    "/widgets/0/properties/metrics/1",
                    super::super::widget::schema::METRICS_ROW_MESSAGE
                ),
            ]
        );
        assert_eq!(
            messages(r#"{"widgets":[{"type":"metric","properties":{"metrics":[["A","B"]]}}]}"#),
            vec![pair(
                "/widgets/0/properties",
                "Should have required property 'region'"
            )]
        );
        assert_eq!(
            messages(r#"{"widgets":[{"type":"text","properties":{}}]}"#),
            vec![pair(
                "/widgets/0/properties",
                "Should have required property 'markdown'"
            )]
        );
    }

    #[test]
    fn the_error_message_counts_and_lists_the_problems() {
        let Err(e) = validate_body(r#"{"widgets":[{"type":"text"}, {"x":1}]}"#) else {
            panic!("an invalid body was accepted");
        };
        let text = e.to_string();
        assert!(
            text.starts_with("The dashboard body is invalid, there are 3 validation errors:\n[\n  {\n    \"dataPath\": \"/widgets/0\",\n    \"message\": \"Should have required property 'properties'\"\n  },"),
            "{text}"
        );
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_rejected() {
        for body in ["not json", "[]", "42", ""] {
            let Err(e) = validate_body(body) else {
                panic!("{body} was accepted");
            };
            assert_eq!(
                e.to_string(),
                "The field DashboardBody must be a valid JSON object"
            );
        }
    }

    #[test]
    fn names_follow_aws_rules() {
        assert!(check_name("My-Dashboard_1").is_ok());
        assert!(check_name(&"a".repeat(255)).is_ok());
        assert!(check_name(&"a".repeat(256)).is_err());
        assert!(check_name("").is_err());
        assert!(check_name("has space").is_err());
        assert!(check_name("dot.name").is_err());
    }

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_token(&encode_token("abc")).as_deref(), Some("abc"));
        assert_eq!(decode_token("!!"), None);
    }
}
