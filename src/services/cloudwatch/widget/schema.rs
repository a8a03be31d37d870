//! The metric widget schema shared by PutDashboard (a dashboard's `metric` widgets) and
//! GetMetricWidgetImage (the `MetricWidget` document), and the `metrics` array grammar.
//!
//! Checks follow the "Dashboard Body Structure and Syntax" and "Metric Widget Structure and
//! Syntax" pages of the CloudWatch documentation. Messages and data paths mirror the ones
//! CloudWatch answers, which come from a JSON schema validator: JSON-pointer paths
//! (`/widgets/0/properties/metrics/1`) and capitalised messages such as `Should be array`.

use serde::Serialize;
use serde_json::{Map, Value};

/// One problem found in a dashboard body or metric widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidationMessage {
    pub data_path: String,
    pub message: String,
}

/// CloudWatch's own wording for a malformed entry of a `metrics` array.
pub const METRICS_ROW_MESSAGE: &str = "Field \"metrics\" has to be an array of array of strings, with an optional metricRenderer object as last element";

/// Most metrics and expressions one graph may hold.
pub const MAX_METRICS: usize = 100;

/// Collects validation messages; a document is valid when none were collected.
#[derive(Debug, Default)]
pub struct Checker {
    pub messages: Vec<ValidationMessage>,
}

impl Checker {
    pub fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.messages.push(ValidationMessage {
            data_path: path.to_string(),
            message: message.into(),
        });
    }

    /// The messages as CloudWatch prints them in an error: a JSON array of
    /// `{"dataPath", "message"}` objects indented by two spaces.
    pub fn render(&self) -> String {
        let items: Vec<Value> = self
            .messages
            .iter()
            .map(|m| serde_json::json!({ "dataPath": m.data_path, "message": m.message }))
            .collect();
        serde_json::to_string_pretty(&items).unwrap_or_default()
    }

    pub fn required<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let value = object.get(key);
        if value.is_none() {
            self.fail(path, format!("Should have required property '{key}'"));
        }
        value
    }

    pub fn object<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.fail(path, "Should be object");
        }
        object
    }

    pub fn array<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Vec<Value>> {
        let array = value.as_array();
        if array.is_none() {
            self.fail(path, "Should be array");
        }
        array
    }

    pub fn string(&mut self, value: &Value, path: &str) -> bool {
        let ok = value.is_string();
        if !ok {
            self.fail(path, "Should be string");
        }
        ok
    }

    pub fn boolean(&mut self, value: &Value, path: &str) {
        if !value.is_boolean() {
            self.fail(path, "Should be boolean");
        }
    }

    pub fn number(&mut self, value: &Value, path: &str) {
        if !value.is_number() {
            self.fail(path, "Should be number");
        }
    }

    /// An integer within `min..=max` (either bound optional).
    pub fn integer(&mut self, value: &Value, path: &str, min: Option<i64>, max: Option<i64>) {
        let n = match value {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            }),
            _ => None,
        };
        let Some(n) = n else {
            self.fail(path, "Should be integer");
            return;
        };
        if let Some(min) = min.filter(|m| n < *m) {
            self.fail(path, format!("Should be >= {min}"));
        }
        if let Some(max) = max.filter(|m| n > *m) {
            self.fail(path, format!("Should be <= {max}"));
        }
    }

    pub fn one_of(&mut self, value: &Value, path: &str, allowed: &[&str]) {
        if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
            self.fail(path, "Should be equal to one of the allowed values");
        }
    }

    /// Checks the optional members of `object` with `check` when present.
    fn optional(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        check: impl FnOnce(&mut Self, &Value, &str),
    ) {
        if let Some(value) = object.get(key) {
            check(self, value, &format!("{path}/{key}"));
        }
    }
}

pub const VIEWS: &[&str] = &["timeSeries", "singleValue", "gauge", "bar", "pie", "table"];

/// Which document the properties belong to: a dashboard widget requires `region` and takes
/// its size from the grid; a GetMetricWidgetImage widget has pixel `width`/`height` and
/// requires `metrics`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Dashboard,
    Image,
}

/// Validates the properties of a metric widget at `path`.
pub fn check_metric_properties(checker: &mut Checker, value: &Value, path: &str, context: Context) {
    let Some(props) = checker.object(value, path) else {
        return;
    };
    let has_alarm_annotation = props
        .get("annotations")
        .and_then(|a| a.get("alarms"))
        .is_some();
    match context {
        Context::Dashboard => {
            checker.required(props, path, "region");
        }
        Context::Image => {
            checker.required(props, path, "metrics");
            for key in ["width", "height"] {
                checker.optional(props, path, key, |c, v, p| {
                    c.integer(v, p, Some(1), Some(2000))
                });
            }
        }
    }
    if context == Context::Dashboard && !has_alarm_annotation && !props.contains_key("metrics") {
        checker.fail(path, "Should have required property 'metrics'");
    }
    checker.optional(props, path, "metrics", |c, v, p| {
        if let Some(rows) = c.array(v, p) {
            if rows.len() > MAX_METRICS {
                c.fail(p, format!("Should NOT have more than {MAX_METRICS} items"));
            }
            let mut previous: Vec<String> = Vec::new();
            for (i, row) in rows.iter().enumerate() {
                let row_path = format!("{p}/{i}");
                if let Some(parsed) = parse_row(c, row, &row_path, &previous) {
                    if let MetricSource::Metric { strings } = &parsed.source {
                        previous = strings.clone();
                    }
                }
            }
        }
    });
    checker.optional(props, path, "region", |c, v, p| {
        c.string(v, p);
    });
    checker.optional(props, path, "view", |c, v, p| c.one_of(v, p, VIEWS));
    for key in [
        "stacked",
        "liveData",
        "sparkline",
        "setPeriodToTimeRange",
        "singleValueFullPrecision",
    ] {
        checker.optional(props, path, key, |c, v, p| c.boolean(v, p));
    }
    for key in ["stat", "title", "start", "end", "timezone", "accountId"] {
        checker.optional(props, path, key, |c, v, p| {
            c.string(v, p);
        });
    }
    checker.optional(props, path, "period", |c, v, p| {
        c.integer(v, p, Some(1), None)
    });
    checker.optional(props, path, "legend", |c, v, p| {
        if let Some(legend) = c.object(v, p) {
            c.optional(legend, p, "position", |c, v, p| {
                c.one_of(v, p, &["bottom", "right", "hidden"])
            });
        }
    });
    checker.optional(props, path, "yAxis", |c, v, p| {
        if let Some(axes) = c.object(v, p) {
            for side in ["left", "right"] {
                c.optional(axes, p, side, |c, v, p| {
                    if let Some(axis) = c.object(v, p) {
                        c.optional(axis, p, "min", |c, v, p| c.number(v, p));
                        c.optional(axis, p, "max", |c, v, p| c.number(v, p));
                        c.optional(axis, p, "label", |c, v, p| {
                            c.string(v, p);
                        });
                        c.optional(axis, p, "showUnits", |c, v, p| c.boolean(v, p));
                    }
                });
            }
        }
    });
    checker.optional(props, path, "annotations", check_annotations);
}

fn check_annotations(checker: &mut Checker, value: &Value, path: &str) {
    let Some(annotations) = checker.object(value, path) else {
        return;
    };
    checker.optional(annotations, path, "horizontal", |c, v, p| {
        check_annotation_list(c, v, p, true)
    });
    checker.optional(annotations, path, "vertical", |c, v, p| {
        check_annotation_list(c, v, p, false)
    });
    checker.optional(annotations, path, "alarms", |c, v, p| {
        if let Some(list) = c.array(v, p) {
            for (i, arn) in list.iter().enumerate() {
                c.string(arn, &format!("{p}/{i}"));
            }
        }
    });
}

/// An annotation is an object, or a band: an array of two objects.
fn check_annotation_list(checker: &mut Checker, value: &Value, path: &str, horizontal: bool) {
    let Some(list) = checker.array(value, path) else {
        return;
    };
    for (i, item) in list.iter().enumerate() {
        let item_path = format!("{path}/{i}");
        match item {
            Value::Array(band) => {
                if band.len() != 2 {
                    checker.fail(&item_path, "Should NOT have more than 2 items");
                }
                for (j, edge) in band.iter().enumerate() {
                    check_annotation(checker, edge, &format!("{item_path}/{j}"), horizontal);
                }
            }
            other => check_annotation(checker, other, &item_path, horizontal),
        }
    }
}

fn check_annotation(checker: &mut Checker, value: &Value, path: &str, horizontal: bool) {
    let Some(annotation) = checker.object(value, path) else {
        return;
    };
    if let Some(v) = checker.required(annotation, path, "value") {
        let value_path = format!("{path}/value");
        if horizontal {
            checker.number(v, &value_path);
        } else if checker.string(v, &value_path)
            && parse_instant(v.as_str().unwrap_or("")).is_none()
        {
            checker.fail(&value_path, "Should match format \"date-time\"");
        }
    }
    let fills: &[&str] = if horizontal {
        &["above", "below", "between"]
    } else {
        &["before", "after", "between"]
    };
    checker.optional(annotation, path, "fill", |c, v, p| c.one_of(v, p, fills));
    checker.optional(annotation, path, "label", |c, v, p| {
        c.string(v, p);
    });
    checker.optional(annotation, path, "color", check_color);
    checker.optional(annotation, path, "visible", |c, v, p| c.boolean(v, p));
    if horizontal {
        checker.optional(annotation, path, "yAxis", |c, v, p| {
            c.one_of(v, p, &["left", "right"])
        });
    }
}

fn check_color(checker: &mut Checker, value: &Value, path: &str) {
    if checker.string(value, path) && parse_color(value.as_str().unwrap_or("")).is_none() {
        checker.fail(path, "Should match pattern \"^#([0-9a-fA-F]{6})$\"");
    }
}

/// `#rrggbb`, the only colour form CloudWatch accepts.
pub fn parse_color(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some((channel(0)?, channel(2)?, channel(4)?))
}

/// An absolute time such as `2018-04-25T12:00:00.000Z`, as epoch milliseconds.
pub fn parse_instant(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Where a graph line's data comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    /// Namespace, metric name, then dimension name/value pairs, shorthand resolved.
    Metric {
        strings: Vec<String>,
    },
    Expression(String),
}

/// One entry of a `metrics` array, shorthand resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub source: MetricSource,
    pub id: Option<String>,
    pub label: Option<String>,
    pub stat: Option<String>,
    pub period: Option<i64>,
    pub right_axis: bool,
    pub visible: bool,
    pub color: Option<(u8, u8, u8)>,
}

impl MetricRow {
    pub fn namespace(&self) -> Option<&str> {
        match &self.source {
            MetricSource::Metric { strings } => strings.first().map(String::as_str),
            MetricSource::Expression(_) => None,
        }
    }

    pub fn metric_name(&self) -> Option<&str> {
        match &self.source {
            MetricSource::Metric { strings } => strings.get(1).map(String::as_str),
            MetricSource::Expression(_) => None,
        }
    }

    pub fn dimensions(&self) -> Vec<(String, String)> {
        match &self.source {
            MetricSource::Metric { strings } => strings
                .get(2..)
                .unwrap_or_default()
                .chunks_exact(2)
                .map(|pair| (pair[0].clone(), pair[1].clone()))
                .collect(),
            MetricSource::Expression(_) => Vec::new(),
        }
    }
}

/// Parses one `metrics` entry, reporting problems at `path`. `previous` holds the strings
/// of the last metric entry, which `"."` (same value at this position) and `"..."` (the
/// previous entry's values up to where the explicit values at the end take over) refer to.
pub fn parse_row(
    checker: &mut Checker,
    row: &Value,
    path: &str,
    previous: &[String],
) -> Option<MetricRow> {
    let before = checker.messages.len();
    let Some(items) = row.as_array() else {
        checker.fail(path, "Should be array");
        checker.fail(path, METRICS_ROW_MESSAGE);
        return None;
    };
    let (renderer, written) = match items.split_last() {
        Some((Value::Object(o), rest)) => (Some(o), rest),
        _ => (None, items.as_slice()),
    };
    let mut texts = Vec::with_capacity(written.len());
    for item in written {
        match item.as_str() {
            Some(s) => texts.push(s),
            None => {
                checker.fail(path, METRICS_ROW_MESSAGE);
                return None;
            }
        }
    }
    let mut strings: Vec<String> = Vec::with_capacity(texts.len().max(previous.len()));
    for (i, text) in texts.iter().enumerate() {
        match *text {
            "." => match previous.get(strings.len()) {
                Some(s) => strings.push(s.clone()),
                None => checker.fail(
                    &format!("{path}/{i}"),
                    "\".\" refers to a value the previous metric does not have",
                ),
            },
            "..." | ".." => {
                let explicit_after = texts.len() - i - 1;
                let until = previous.len().saturating_sub(explicit_after);
                while strings.len() < until {
                    strings.push(previous[strings.len()].clone());
                }
            }
            other => strings.push(other.to_string()),
        }
    }

    let mut parsed = MetricRow {
        source: MetricSource::Metric {
            strings: Vec::new(),
        },
        id: None,
        label: None,
        stat: None,
        period: None,
        right_axis: false,
        visible: true,
        color: None,
    };
    let mut expression = None;
    if let Some(r) = renderer {
        let rpath = format!("{path}/{}", items.len() - 1);
        let text = |c: &mut Checker, key: &str| -> Option<String> {
            let v = r.get(key)?;
            if c.string(v, &format!("{rpath}/{key}")) {
                v.as_str().map(str::to_string)
            } else {
                None
            }
        };
        expression = text(checker, "expression");
        parsed.label = text(checker, "label");
        parsed.stat = text(checker, "stat");
        text(checker, "region");
        text(checker, "accountId");
        if let Some(id) = text(checker, "id") {
            if !is_valid_id(&id) {
                checker.fail(
                    &format!("{rpath}/id"),
                    "Should match pattern \"^[a-z][a-zA-Z0-9_]*$\"",
                );
            }
            parsed.id = Some(id);
        }
        if let Some(v) = r.get("period") {
            checker.integer(v, &format!("{rpath}/period"), Some(1), None);
            parsed.period = v.as_i64();
        }
        if let Some(v) = r.get("yAxis") {
            checker.one_of(v, &format!("{rpath}/yAxis"), &["left", "right"]);
            parsed.right_axis = v.as_str() == Some("right");
        }
        if let Some(v) = r.get("visible") {
            checker.boolean(v, &format!("{rpath}/visible"));
            parsed.visible = v.as_bool().unwrap_or(true);
        }
        if let Some(v) = r.get("color") {
            check_color(checker, v, &format!("{rpath}/color"));
            parsed.color = v.as_str().and_then(parse_color);
        }
    }
    match (expression, strings.is_empty() && texts.is_empty()) {
        (Some(e), true) => parsed.source = MetricSource::Expression(e),
        (Some(_), false) => checker.fail(path, METRICS_ROW_MESSAGE),
        (None, true) => checker.fail(path, METRICS_ROW_MESSAGE),
        (None, false) => {
            // Namespace and metric name, then whole name/value pairs.
            if strings.len() < 2 || !strings.len().is_multiple_of(2) {
                checker.fail(path, METRICS_ROW_MESSAGE);
            }
            parsed.source = MetricSource::Metric { strings };
        }
    }
    (checker.messages.len() == before).then_some(parsed)
}

/// Metric ids: a lowercase letter first, then letters, digits and underscores.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(metrics: Value) -> (Vec<MetricRow>, Vec<ValidationMessage>) {
        let mut checker = Checker::default();
        let mut previous = Vec::new();
        let mut out = Vec::new();
        for (i, row) in metrics.as_array().into_iter().flatten().enumerate() {
            if let Some(r) = parse_row(&mut checker, row, &format!("/metrics/{i}"), &previous) {
                if let MetricSource::Metric { strings } = &r.source {
                    previous = strings.clone();
                }
                out.push(r);
            }
        }
        (out, checker.messages)
    }

    #[test]
    fn shorthand_repeats_the_previous_metric() {
        let (parsed, messages) = rows(json!([
            ["AWS/EC2", "CPUUtilization", "InstanceId", "i-111"],
            ["...", "i-222"],
            [".", "NetworkIn", ".", "."],
        ]));
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(parsed[1].namespace(), Some("AWS/EC2"));
        assert_eq!(parsed[1].metric_name(), Some("CPUUtilization"));
        assert_eq!(
            parsed[1].dimensions(),
            vec![("InstanceId".to_string(), "i-222".to_string())]
        );
        assert_eq!(parsed[2].metric_name(), Some("NetworkIn"));
        assert_eq!(
            parsed[2].dimensions(),
            vec![("InstanceId".to_string(), "i-222".to_string())]
        );
    }

    #[test]
    fn rendering_properties_are_read() {
        let (parsed, messages) = rows(json!([
            ["NS", "Latency", {"stat": "p99", "yAxis": "right", "color": "#ff0000", "id": "m1", "period": 60}],
            [{"expression": "m1 * 2", "label": "Doubled", "id": "e1"}],
        ]));
        assert!(messages.is_empty(), "{messages:?}");
        assert_eq!(parsed[0].stat.as_deref(), Some("p99"));
        assert!(parsed[0].right_axis);
        assert_eq!(parsed[0].color, Some((255, 0, 0)));
        assert_eq!(parsed[0].period, Some(60));
        assert_eq!(
            parsed[1].source,
            MetricSource::Expression("m1 * 2".to_string())
        );
        assert_eq!(parsed[1].label.as_deref(), Some("Doubled"));
    }

    #[test]
    fn malformed_rows_are_reported_where_they_are() {
        let (_, messages) = rows(json!([
            "AWS/EC2",
            ["NS", "Metric", "DimNameWithoutValue"],
            ["NS", "Metric", {"color": "red"}],
            [{"label": "no expression"}],
        ]));
        let at = |p: &str| -> Vec<&str> {
            messages
                .iter()
                .filter(|m| m.data_path == p)
                .map(|m| m.message.as_str())
                .collect()
        };
        assert_eq!(
            at("/metrics/0"),
            vec!["Should be array", METRICS_ROW_MESSAGE]
        );
        assert_eq!(at("/metrics/1"), vec![METRICS_ROW_MESSAGE]);
        assert_eq!(
            at("/metrics/2/2/color"),
            vec!["Should match pattern \"^#([0-9a-fA-F]{6})$\""]
        );
        assert_eq!(at("/metrics/3"), vec![METRICS_ROW_MESSAGE]);
    }

    #[test]
    fn integers_and_ranges_use_the_validator_wording() {
        let mut c = Checker::default();
        c.integer(&json!(0), "/w", Some(1), Some(24));
        c.integer(&json!(25), "/w", Some(1), Some(24));
        c.integer(&json!("6"), "/w", Some(1), Some(24));
        c.integer(&json!(6.0), "/w", Some(1), Some(24));
        let messages: Vec<&str> = c.messages.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(
            messages,
            vec!["Should be >= 1", "Should be <= 24", "Should be integer"]
        );
    }

    #[test]
    fn errors_render_as_cloudwatch_prints_them() {
        let mut c = Checker::default();
        c.fail("/widgets/0/properties/metrics/0", "Should be array");
        assert_eq!(
            c.render(),
            "[\n  {\n    \"dataPath\": \"/widgets/0/properties/metrics/0\",\n    \"message\": \"Should be array\"\n  }\n]"
        );
    }

    #[test]
    fn colors_and_instants_parse() {
        assert_eq!(parse_color("#1f77b4"), Some((0x1f, 0x77, 0xb4)));
        assert_eq!(parse_color("red"), None);
        assert_eq!(parse_color("#12345"), None);
        assert_eq!(parse_instant("1970-01-01T00:01:00.000Z"), Some(60_000));
        assert_eq!(parse_instant("yesterday"), None);
    }
}
