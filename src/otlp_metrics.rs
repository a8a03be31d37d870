//! OTLP/HTTP metrics: `POST /v1/metrics` → CloudWatch datapoints, put through PutMetricData's
//! own handler (its limits and storage).
//!
//! The mapping follows the AWS Distro for OpenTelemetry's EMF exporter (`awsemf`), as AWS
//! documents no other for OTLP metrics into CloudWatch:
//! - namespace: the resource's `service.namespace` and `service.name` joined by `/` (either
//!   alone if only one is set), else `default`;
//! - dimensions: the resource's attributes and then the data point's (a data point's attribute
//!   wins over the resource's of the same name), at most 30, values as text;
//! - gauge → its value; sum → its value when delta or not monotonic, and when cumulative and
//!   monotonic the change since the previous point of the same series (the first point of a
//!   series, or one after a reset, only sets the baseline), as the exporter does;
//! - histogram → a statistic set (SampleCount = count, Sum, Minimum, Maximum; min and max taken
//!   from the bucket bounds when the point carries none); a cumulative one puts the changes of
//!   its count and sum since the previous point, after a baseline, like cumulative sums;
//! - exponential histogram → Values and Counts at each bucket's midpoint (as the exporter's
//!   newer versions send them), the zero bucket as 0;
//! - summary → a statistic set from count and sum, min and max from the 0 and 1 quantiles.
//!
//! Units: OTLP's UCUM units become CloudWatch's where they have a name (`ms` → Milliseconds,
//! `By` → Bytes, `1` → None, …), else no unit.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, NumberDataPoint};
use prost::Message;
use serde_json::{json, Value};

use crate::protocol::ServiceId;
use crate::server::AppState;

/// PutMetricData's payload limit; the OTLP body shares it.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// CloudWatch's limit of dimensions per metric.
const MAX_DIMENSIONS: usize = 30;
/// PutMetricData's limit of metric data items per call.
const MAX_ITEMS_PER_CALL: usize = 1000;
/// OTLP's AGGREGATION_TEMPORALITY_CUMULATIVE.
const CUMULATIVE: i32 = 2;

/// The last value of each cumulative monotonic series, to send changes rather than totals.
#[derive(Default)]
pub struct Deltas {
    last: Mutex<HashMap<String, (u64, f64)>>,
}

impl Deltas {
    /// The change since the previous point of `key`; `None` for a first point or a reset
    /// (another start time, or a lower total).
    fn delta(&self, key: String, start: u64, value: f64) -> Option<f64> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let previous = last.insert(key, (start, value));
        match previous {
            Some((previous_start, previous_value))
                if previous_start == start && value >= previous_value =>
            {
                Some(value - previous_value)
            }
            _ => None,
        }
    }
}

fn unit(otlp: &str) -> Option<&'static str> {
    Some(match otlp {
        "s" => "Seconds",
        "ms" => "Milliseconds",
        "us" => "Microseconds",
        "By" => "Bytes",
        "KBy" | "kBy" => "Kilobytes",
        "MBy" => "Megabytes",
        "GBy" => "Gigabytes",
        "bit" => "Bits",
        "By/s" => "Bytes/Second",
        "%" => "Percent",
        "1" | "" => "None",
        _ if otlp.starts_with('{') => "Count",
        _ => return None,
    })
}

fn text(kv: &KeyValue) -> String {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(V::StringValue(s)) => s.clone(),
        Some(V::BoolValue(b)) => b.to_string(),
        Some(V::IntValue(i)) => i.to_string(),
        Some(V::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn namespace(resource: &[KeyValue]) -> String {
    let get = |name: &str| {
        resource
            .iter()
            .find(|kv| kv.key == name)
            .map(text)
            .filter(|v| !v.is_empty())
    };
    match (get("service.namespace"), get("service.name")) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => "default".into(),
    }
}

fn dimensions(resource: &[KeyValue], point: &[KeyValue]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for kv in resource.iter().chain(point) {
        let value = text(kv);
        if kv.key.is_empty() || value.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(k, _)| *k == kv.key) {
            Some(existing) => existing.1 = value,
            None => out.push((kv.key.clone(), value)),
        }
    }
    out.truncate(MAX_DIMENSIONS);
    out
}

fn number(point: &NumberDataPoint) -> Option<f64> {
    match point.value? {
        number_data_point::Value::AsDouble(d) => Some(d),
        number_data_point::Value::AsInt(i) => Some(i as f64),
    }
}

fn seconds(nanos: u64, now_ms: i64) -> f64 {
    if nanos == 0 {
        now_ms as f64 / 1000.0
    } else {
        nanos as f64 / 1e9
    }
}

/// An export → PutMetricData calls' documents, grouped by namespace.
pub fn metric_data(
    export: &ExportMetricsServiceRequest,
    deltas: &Deltas,
    account: &str,
    now_ms: i64,
) -> Vec<(String, Vec<Value>)> {
    let mut by_namespace: HashMap<String, Vec<Value>> = HashMap::new();
    for resource_metrics in &export.resource_metrics {
        let resource = resource_metrics
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        let ns = namespace(resource);
        for scope_metrics in &resource_metrics.scope_metrics {
            for m in &scope_metrics.metrics {
                if m.name.is_empty() {
                    continue;
                }
                let base = |attributes: &[KeyValue], nanos: u64| {
                    let mut item = json!({
                        "MetricName": m.name,
                        "Timestamp": seconds(nanos, now_ms),
                        "Dimensions": dimensions(resource, attributes)
                            .into_iter()
                            .map(|(n, v)| json!({"Name": n, "Value": v}))
                            .collect::<Vec<_>>(),
                    });
                    if let Some(unit) = unit(&m.unit) {
                        item["Unit"] = json!(unit);
                    }
                    item
                };
                let items = by_namespace.entry(ns.clone()).or_default();
                match &m.data {
                    Some(metric::Data::Gauge(g)) => {
                        for p in &g.data_points {
                            if let Some(v) = number(p).filter(|v| v.is_finite()) {
                                let mut item = base(&p.attributes, p.time_unix_nano);
                                item["Value"] = json!(v);
                                items.push(item);
                            }
                        }
                    }
                    Some(metric::Data::Sum(s)) => {
                        for p in &s.data_points {
                            let Some(v) = number(p).filter(|v| v.is_finite()) else {
                                continue;
                            };
                            let value = if s.is_monotonic && s.aggregation_temporality == CUMULATIVE
                            {
                                let key = format!(
                                    "{account}\u{0}{ns}\u{0}{}\u{0}{:?}",
                                    m.name,
                                    dimensions(resource, &p.attributes)
                                );
                                match deltas.delta(key, p.start_time_unix_nano, v) {
                                    Some(d) => d,
                                    None => continue,
                                }
                            } else {
                                v
                            };
                            let mut item = base(&p.attributes, p.time_unix_nano);
                            item["Value"] = json!(value);
                            items.push(item);
                        }
                    }
                    Some(metric::Data::Histogram(h)) => {
                        for p in &h.data_points {
                            if p.count == 0 {
                                continue;
                            }
                            let bounds = &p.explicit_bounds;
                            let first = p.bucket_counts.iter().position(|c| *c > 0);
                            let last = p.bucket_counts.iter().rposition(|c| *c > 0);
                            let sum = p.sum.unwrap_or(0.0);
                            let mean = sum / p.count as f64;
                            let min = p.min.unwrap_or_else(|| {
                                first
                                    .and_then(|i| i.checked_sub(1))
                                    .and_then(|i| bounds.get(i).copied())
                                    .unwrap_or(mean)
                            });
                            let max = p.max.unwrap_or_else(|| {
                                last.and_then(|i| bounds.get(i).copied()).unwrap_or(mean)
                            });
                            // A cumulative histogram carries every sample since its start:
                            // its count and sum are put as changes (min and max stay as they
                            // are, having no change to take), as the EMF exporter does.
                            let (count, sum) = if h.aggregation_temporality == CUMULATIVE {
                                let key = format!(
                                    "{account}\u{0}{ns}\u{0}{}\u{0}{:?}",
                                    m.name,
                                    dimensions(resource, &p.attributes)
                                );
                                let start = p.start_time_unix_nano;
                                let count =
                                    deltas.delta(format!("{key}#count"), start, p.count as f64);
                                let sum = deltas.delta(format!("{key}#sum"), start, sum);
                                match (count, sum) {
                                    (Some(count), Some(sum)) if count > 0.0 => (count, sum),
                                    _ => continue,
                                }
                            } else {
                                (p.count as f64, sum)
                            };
                            let mut item = base(&p.attributes, p.time_unix_nano);
                            item["StatisticValues"] = json!({
                                "SampleCount": count,
                                "Sum": sum,
                                "Minimum": min.min(max),
                                "Maximum": max.max(min),
                            });
                            items.push(item);
                        }
                    }
                    Some(metric::Data::ExponentialHistogram(h)) => {
                        for p in &h.data_points {
                            let base_factor = 2f64.powf(2f64.powi(-p.scale));
                            let mut values = Vec::new();
                            let mut counts = Vec::new();
                            if p.zero_count > 0 {
                                values.push(0.0);
                                counts.push(p.zero_count as f64);
                            }
                            for (sign, buckets) in [(1.0, &p.positive), (-1.0, &p.negative)] {
                                let Some(buckets) = buckets else { continue };
                                for (i, c) in buckets.bucket_counts.iter().enumerate() {
                                    if *c == 0 {
                                        continue;
                                    }
                                    let index = buckets.offset as f64 + i as f64;
                                    let lower = base_factor.powf(index);
                                    let upper = base_factor.powf(index + 1.0);
                                    let mid = sign * (lower + upper) / 2.0;
                                    if mid.is_finite() {
                                        values.push(mid);
                                        counts.push(*c as f64);
                                    }
                                }
                            }
                            if values.is_empty() {
                                continue;
                            }
                            // PutMetricData takes at most 150 values per item.
                            for (vs, cs) in values.chunks(150).zip(counts.chunks(150)) {
                                let mut item = base(&p.attributes, p.time_unix_nano);
                                item["Values"] = json!(vs);
                                item["Counts"] = json!(cs);
                                items.push(item);
                            }
                        }
                    }
                    Some(metric::Data::Summary(s)) => {
                        for p in &s.data_points {
                            if p.count == 0 {
                                continue;
                            }
                            let quantile = |q: f64| {
                                p.quantile_values
                                    .iter()
                                    .find(|v| v.quantile == q)
                                    .map(|v| v.value)
                            };
                            let mean = p.sum / p.count as f64;
                            let mut item = base(&p.attributes, p.time_unix_nano);
                            item["StatisticValues"] = json!({
                                "SampleCount": p.count as f64,
                                "Sum": p.sum,
                                "Minimum": quantile(0.0).unwrap_or(mean),
                                "Maximum": quantile(1.0).unwrap_or(mean),
                            });
                            items.push(item);
                        }
                    }
                    None => {}
                }
            }
        }
    }
    let mut out: Vec<(String, Vec<Value>)> = by_namespace
        .into_iter()
        .filter(|(_, items)| !items.is_empty())
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// An ExportMetricsServiceRequest body (OTLP/JSON if `json`, else protobuf); public for the
/// fuzz target.
pub fn decode_metrics(body: &[u8], json: bool) -> Result<ExportMetricsServiceRequest, String> {
    if json {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    } else {
        ExportMetricsServiceRequest::decode(body).map_err(|e| e.to_string())
    }
    .map_err(|e| format!("The request body is not a valid ExportMetricsServiceRequest: {e}"))
}

/// `POST /v1/metrics`.
pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    use crate::otlp::{self, Encoding, INVALID_ARGUMENT};
    let read = match otlp::read_body(request, MAX_BODY_BYTES).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let (headers, body, encoding, path, query) = read;
    let export = match decode_metrics(&body, encoding == Encoding::Json) {
        Ok(export) => export,
        Err(message) => {
            return otlp::error(StatusCode::BAD_REQUEST, encoding, INVALID_ARGUMENT, message)
        }
    };
    let ctx = otlp::context(&state, &headers, &path, query.as_deref(), &body, remote);
    let calls = metric_data(&export, &state.otlp_deltas, &ctx.account_id, ctx.now_ms);
    for (namespace, items) in calls {
        for chunk in items.chunks(MAX_ITEMS_PER_CALL) {
            let input = json!({ "Namespace": namespace, "MetricData": chunk });
            let Some(call) =
                state
                    .services
                    .call(ServiceId::CloudWatch, &ctx, "PutMetricData", input)
            else {
                continue;
            };
            match call.await {
                Ok(_) => {}
                Err(e) if e.is_internal() => {
                    tracing::error!(error = %e, "OTLP metrics: storing the datapoints failed");
                    return otlp::error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        encoding,
                        otlp::INTERNAL,
                        "The datapoints could not be stored; retry.",
                    );
                }
                Err(e) => {
                    return otlp::error(
                        StatusCode::BAD_REQUEST,
                        encoding,
                        INVALID_ARGUMENT,
                        format!("{}: {e}", e.error_shape()),
                    )
                }
            }
        }
    }
    let body = match encoding {
        Encoding::Protobuf => ExportMetricsServiceResponse::default().encode_to_vec(),
        Encoding::Json => b"{}".to_vec(),
    };
    otlp::answer(StatusCode::OK, encoding, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_totals_become_changes_after_a_baseline() {
        let deltas = Deltas::default();
        assert_eq!(deltas.delta("a".into(), 1, 10.0), None);
        assert_eq!(deltas.delta("a".into(), 1, 15.0), Some(5.0));
        assert_eq!(deltas.delta("a".into(), 1, 3.0), None, "a reset");
        assert_eq!(deltas.delta("a".into(), 1, 4.0), Some(1.0));
        assert_eq!(deltas.delta("a".into(), 2, 9.0), None, "a new start time");
    }

    #[test]
    fn namespaces_and_units_follow_the_emf_exporter() {
        let kv = |k: &str, v: &str| KeyValue {
            key: k.into(),
            value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(
                    opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(v.into()),
                ),
            }),
            ..Default::default()
        };
        assert_eq!(
            namespace(&[kv("service.name", "api"), kv("service.namespace", "shop")]),
            "shop/api"
        );
        assert_eq!(namespace(&[kv("service.name", "api")]), "api");
        assert_eq!(namespace(&[]), "default");
        assert_eq!(unit("ms"), Some("Milliseconds"));
        assert_eq!(unit("{requests}"), Some("Count"));
        assert_eq!(unit("furlongs"), None);
        assert_eq!(
            dimensions(&[kv("host", "a"), kv("env", "x")], &[kv("env", "prod")]),
            [("host".into(), "a".into()), ("env".into(), "prod".into())]
        );
    }
}
