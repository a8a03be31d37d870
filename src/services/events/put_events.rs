//! PutEvents, and the events AWS services put on the default bus (alarm state changes, API
//! calls via CloudTrail), both turned into EventBridge's envelope and routed the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::router::ingest;
use super::{bus_exists, string, BusRef, Core, EventsError, Result, DEFAULT_BUS};
use crate::context::RequestContext;
use crate::services::bus::{EmittedEvents, ServiceEvent};
use crate::store::StoreError;

/// AWS's limit on the entries of one PutEvents request, sized as its documentation computes.
pub const MAX_REQUEST_SIZE: usize = 256 * 1024;

/// The size AWS counts for an entry ("Calculating PutEvents event entry size"): 14 bytes for a
/// Time, the UTF-8 bytes of Source, DetailType, Detail and each resource.
pub fn entry_size(entry: &Value) -> usize {
    let text = |name: &str| string(entry, name).map_or(0, str::len);
    let time = if entry.get("Time").is_some_and(|t| !t.is_null()) {
        14
    } else {
        0
    };
    let resources: usize = entry
        .get("Resources")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::len).sum())
        .unwrap_or(0);
    time + text("Source") + text("DetailType") + text("Detail") + resources
}

/// EventBridge's `time`: ISO 8601 to the second, UTC.
pub fn event_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The event as targets and patterns see it.
#[allow(clippy::too_many_arguments)]
pub fn envelope(
    id: &str,
    detail_type: &str,
    source: &str,
    account: &str,
    time_ms: i64,
    region: &str,
    resources: Vec<Value>,
    detail: Value,
) -> Value {
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": event_time(time_ms),
        "region": region,
        "resources": resources,
        "detail": detail,
    })
}

fn failure(code: &str, message: String) -> Value {
    json!({ "ErrorCode": code, "ErrorMessage": message })
}

fn required(name: &str) -> Value {
    failure(
        "InvalidArgument",
        format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
    )
}

/// An accepted entry's event, or the result entry that reports why it was refused.
async fn accept(
    core: &Core,
    ctx: &RequestContext,
    entry: &Value,
) -> Result<Result<(BusRef, Value), Value>> {
    let present = |name: &str| string(entry, name).filter(|s| !s.is_empty());
    let Some(source) = present("Source") else {
        return Ok(Err(required("Source")));
    };
    let Some(detail_type) = present("DetailType") else {
        return Ok(Err(required("DetailType")));
    };
    let Some(detail) = present("Detail") else {
        return Ok(Err(required("Detail")));
    };
    let Some(detail) = serde_json::from_str::<Value>(detail)
        .ok()
        .filter(Value::is_object)
    else {
        return Ok(Err(failure(
            "MalformedDetail",
            "Detail is malformed.".into(),
        )));
    };
    let bus = BusRef::resolve(ctx, string(entry, "EventBusName"));
    if !bus_exists(core, &bus).await? {
        return Ok(Err(failure(
            "ResourceNotFoundException",
            format!("Event bus {} does not exist.", bus.name),
        )));
    }
    let time_ms = entry
        .get("Time")
        .and_then(Value::as_f64)
        .map(|s| (s * 1000.0).round() as i64)
        .unwrap_or(ctx.now_ms);
    let resources = entry
        .get("Resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let id = uuid::Uuid::new_v4().to_string();
    // The envelope's account is the sender's, even on another account's bus.
    let event = envelope(
        &id,
        detail_type,
        source,
        &ctx.account_id,
        time_ms,
        &bus.region,
        resources,
        detail,
    );
    Ok(Ok((bus, event)))
}

pub async fn put_events(core: &Core, ctx: &RequestContext, input: Value) -> Result<Value> {
    let entries = input
        .get("Entries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let total: usize = entries.iter().map(entry_size).sum();
    if total > MAX_REQUEST_SIZE {
        return Err(EventsError::Validation(
            "Total size of the entries in the request is over the limit.".into(),
        ));
    }
    let mut results = Vec::with_capacity(entries.len());
    let mut failed = 0;
    // Accepted events by bus, in request order within each bus.
    let mut by_bus: BTreeMap<(String, String, String), (BusRef, Vec<Value>)> = BTreeMap::new();
    for entry in &entries {
        match accept(core, ctx, entry).await? {
            Ok((bus, event)) => {
                results.push(json!({ "EventId": event["id"] }));
                by_bus
                    .entry((bus.account_id.clone(), bus.region.clone(), bus.name.clone()))
                    .or_insert_with(|| (bus, Vec::new()))
                    .1
                    .push(event);
            }
            Err(result) => {
                failed += 1;
                results.push(result);
            }
        }
    }
    for (bus, events) in by_bus.values() {
        ingest(core, bus, events, 0).await?;
    }
    Ok(json!({ "FailedEntryCount": failed, "Entries": results }))
}

/// The envelope of an event a service emitted.
pub fn service_envelope(event: &ServiceEvent) -> Value {
    envelope(
        &uuid::Uuid::new_v4().to_string(),
        &event.detail_type,
        &event.source,
        &event.account_id,
        event.time_ms,
        &event.region,
        event.resources.iter().map(|r| json!(r)).collect(),
        event.detail.clone(),
    )
}

/// At most this many service events are taken off the channel for one routing round.
const SERVICE_EVENTS_PER_ROUND: usize = 512;

/// Puts service events on their account's default bus as they arrive, until cancelled. What
/// arrived meanwhile is routed together, one round per account and region, so a burst of API
/// calls costs one rule lookup per default bus rather than one per call.
pub async fn route_service_events(
    core: Arc<Core>,
    mut emitted: EmittedEvents,
    cancel: CancellationToken,
) {
    let mut arrived = Vec::with_capacity(SERVICE_EVENTS_PER_ROUND);
    loop {
        let received = tokio::select! {
            _ = cancel.cancelled() => return,
            received = emitted.recv_many(&mut arrived, SERVICE_EVENTS_PER_ROUND) => received,
        };
        if received == 0 {
            return;
        }
        // Grouped by default bus, each group in arrival order.
        let mut by_bus: Vec<(BusRef, Vec<Value>)> = Vec::new();
        for event in arrived.drain(..) {
            let envelope = service_envelope(&event);
            match by_bus
                .iter_mut()
                .find(|(bus, _)| bus.account_id == event.account_id && bus.region == event.region)
            {
                Some((_, envelopes)) => envelopes.push(envelope),
                None => by_bus.push((
                    BusRef {
                        account_id: event.account_id,
                        region: event.region,
                        name: DEFAULT_BUS.to_string(),
                    },
                    vec![envelope],
                )),
            }
        }
        for (bus, envelopes) in by_bus {
            match ingest(&core, &bus, &envelopes, 0).await {
                Ok(()) => {}
                Err(StoreError::Closed) => return,
                Err(e) => tracing::error!(error = %e, "service events not routed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_sizes_count_what_aws_counts() {
        // 14 (Time) + 6 + 4 + 13 + 2 + 3 bytes.
        let entry = json!({"Time": 1.0, "Source": "my.app", "DetailType": "type",
            "Detail": "{\"k\": \"v\"} ", "Resources": ["r1", "r22"]});
        assert_eq!(entry_size(&entry), 14 + 6 + 4 + 11 + 2 + 3);
        // Multi-byte characters count as their UTF-8 bytes.
        assert_eq!(entry_size(&json!({"Source": "é"})), 2);
    }

    #[test]
    fn envelopes_carry_the_documented_fields() {
        let e = envelope(
            "id-1",
            "Scheduled Event",
            "aws.events",
            "123456789012",
            1_700_000_000_123,
            "us-east-1",
            vec![json!("arn:r")],
            json!({}),
        );
        assert_eq!(e["version"], "0");
        assert_eq!(e["time"], "2023-11-14T22:13:20Z");
        assert_eq!(e["detail-type"], "Scheduled Event");
        assert_eq!(e["resources"], json!(["arn:r"]));
        assert_eq!(e["account"], "123456789012");
    }
}
