//! The delivery worker: takes the router's jobs off a queue and delivers each to its target,
//! off the request path, retrying per the target's RetryPolicy.
//!
//! Targets this emulator hosts are delivered for real: CloudWatch Logs log groups (one log
//! event per event, in a stream named after the event id, stamped with the event time, as AWS
//! does), other event buses (the event is put on that bus and routed by its rules), and API
//! destinations (an HTTP call). Every other target (Lambda, SQS, SNS, Kinesis, Step Functions,
//! ...) is recorded with the body it would have received, for `/_watchtrail/deliveries`.
//!
//! A failure that another attempt cannot fix (a missing log group or bus, an input that cannot
//! be rendered) fails at once; others are retried with exponential backoff until the policy's
//! attempts or event age run out. A failed event is recorded as failed, and a copy goes to the
//! target's dead-letter queue (recorded) when it has one.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::api_destinations::ApiDestinations;
use super::router::{ingest, Job, MAX_HOPS};
use super::transform::render_target_input_for_rule;
use super::{bus_exists, parse_bus_arn, string, Core};
use crate::services::deliveries::{target_kind, Deliveries, Delivery, DeliveryStatus};
use crate::services::logs::LogDeliverer;

/// AWS's defaults when a target has no RetryPolicy.
pub const DEFAULT_MAX_RETRY_ATTEMPTS: i64 = 185;
pub const DEFAULT_MAX_EVENT_AGE_SECONDS: i64 = 86_400;

/// The first retry waits this long; each next one twice as long, up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub struct Worker {
    pub core: Arc<Core>,
    pub logs: LogDeliverer,
    pub deliveries: Deliveries,
    pub api_destinations: Arc<ApiDestinations>,
    pub cancel: CancellationToken,
    pub tasks: TaskTracker,
}

/// Why an attempt failed, and whether another one may succeed.
#[derive(Debug)]
enum Failure {
    Permanent(String),
    Retryable(String),
}

/// The RetryPolicy of a target, with AWS's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: i64,
    pub max_age_ms: i64,
}

impl RetryPolicy {
    pub fn of(target: &Value) -> Self {
        let policy = target.get("RetryPolicy");
        let field = |name: &str| policy.and_then(|p| p.get(name)).and_then(Value::as_i64);
        RetryPolicy {
            max_retries: field("MaximumRetryAttempts").unwrap_or(DEFAULT_MAX_RETRY_ATTEMPTS),
            max_age_ms: field("MaximumEventAgeInSeconds").unwrap_or(DEFAULT_MAX_EVENT_AGE_SECONDS)
                * 1000,
        }
    }
}

/// The wait before retry number `retry` (1-based).
pub fn backoff(retry: u32) -> Duration {
    FIRST_BACKOFF
        .checked_mul(1u32 << retry.saturating_sub(1).min(20))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

/// The log group a `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` ARN names.
fn log_group(arn: &str) -> Option<(String, String, String)> {
    let mut parts = arn.strip_prefix("arn:")?.splitn(5, ':');
    let _partition = parts.next()?;
    if parts.next()? != "logs" {
        return None;
    }
    let region = parts.next()?.to_string();
    let account = parts.next()?.to_string();
    let name = parts.next()?.strip_prefix("log-group:")?;
    let name = name.strip_suffix(":*").unwrap_or(name).to_string();
    Some((account, region, name))
}

fn event_time_ms(event: &Value, fallback: i64) -> i64 {
    event
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(fallback)
}

/// The log event a log group target writes: the event time and the body, except that an input
/// template of the form `{"timestamp": ..., "message": ...}` (the shape AWS asks of
/// transformers feeding CloudWatch Logs) sets both.
fn log_event(target: &Value, event: &Value, body: &str, now_ms: i64) -> (i64, String) {
    let event_time = event_time_ms(event, now_ms);
    if target.get("InputTransformer").is_none_or(Value::is_null) {
        return (event_time, body.to_string());
    }
    let shaped = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .filter(|o| o.len() == 2 && o.contains_key("timestamp") && o.contains_key("message"));
    let Some(fields) = shaped else {
        return (event_time, body.to_string());
    };
    let timestamp = match &fields["timestamp"] {
        Value::Number(n) => n.as_i64().unwrap_or(event_time),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .or_else(|_| s.parse::<i64>())
            .unwrap_or(event_time),
        _ => event_time,
    };
    let message = match &fields["message"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    (timestamp, message)
}

impl Worker {
    /// Delivers queued jobs, each in its own task (a job waiting to retry holds up no other),
    /// until cancelled.
    pub async fn run(self, mut queued: mpsc::UnboundedReceiver<Job>) {
        let worker = Arc::new(self);
        loop {
            let job = tokio::select! {
                _ = worker.cancel.cancelled() => return,
                next = queued.recv() => match next {
                    Some(job) => job,
                    None => return,
                },
            };
            worker.tasks.spawn(worker.clone().deliver(job));
        }
    }

    async fn deliver(self: Arc<Self>, job: Job) {
        let target_arn = string(&job.target, "Arn").unwrap_or_default().to_string();
        let body = match render_target_input_for_rule(
            &job.target,
            &job.event,
            &job.rule_arn,
            &job.rule_name,
            job.ingested_ms,
        ) {
            Ok(body) => body,
            Err(message) => {
                self.fail(&job, &target_arn, job.event.to_string(), 0, message)
                    .await;
                return;
            }
        };
        let policy = RetryPolicy::of(&job.target);
        let mut attempts: i64 = 0;
        loop {
            attempts += 1;
            let message = match self.attempt(&job, &target_arn, &body, attempts).await {
                Ok(()) => return,
                Err(Failure::Permanent(message)) => {
                    self.fail(&job, &target_arn, body, attempts, message).await;
                    return;
                }
                Err(Failure::Retryable(message)) => message,
            };
            let age = self.core.clock.now_ms() - job.ingested_ms;
            if attempts > policy.max_retries || age >= policy.max_age_ms {
                self.fail(&job, &target_arn, body, attempts, message).await;
                return;
            }
            let wait = backoff(attempts as u32);
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn attempt(
        &self,
        job: &Job,
        target_arn: &str,
        body: &str,
        attempt: i64,
    ) -> Result<(), Failure> {
        let now_ms = self.core.clock.now_ms();
        if let Some((account, region, group)) = log_group(target_arn) {
            let stream = job
                .event
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let (timestamp, message) = log_event(&job.target, &job.event, body, now_ms);
            return self
                .logs
                .deliver(
                    &account,
                    &region,
                    &group,
                    &stream,
                    vec![(timestamp, message)],
                    now_ms,
                )
                .await
                .map_err(|e| {
                    // AWS retries throttling, server errors and unreachable endpoints; other
                    // client errors and configuration problems are final.
                    if super::api_destinations::is_retryable(&e) {
                        Failure::Retryable(e)
                    } else {
                        Failure::Permanent(e)
                    }
                });
        }
        if let Some(bus) = parse_bus_arn(target_arn) {
            if job.hops >= MAX_HOPS {
                return Err(Failure::Permanent(format!(
                    "The event crossed {MAX_HOPS} event buses and was dropped."
                )));
            }
            match bus_exists(&self.core, &bus).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Failure::Permanent(format!(
                        "Event bus {} does not exist.",
                        bus.name
                    )))
                }
                Err(e) => return Err(Failure::Retryable(e.to_string())),
            }
            // A bus receives the event itself, never a transformed input.
            return ingest(&self.core, &bus, &[(*job.event).clone()], job.hops + 1)
                .await
                .map_err(|e| Failure::Retryable(e.to_string()));
        }
        if target_arn.contains(":api-destination/") {
            // Each attempt is recorded by the API destination itself, with its outcome.
            return self
                .api_destinations
                .send_attempt(
                    &job.account_id,
                    &job.region,
                    target_arn,
                    job.target.get("HttpParameters"),
                    body.to_string(),
                    Some(&job.rule_arn),
                    attempt,
                )
                .await
                .map_err(|e| {
                    // AWS retries throttling, server errors and unreachable endpoints; other
                    // client errors and configuration problems are final.
                    if super::api_destinations::is_retryable(&e) {
                        Failure::Retryable(e)
                    } else {
                        Failure::Permanent(e)
                    }
                });
        }
        self.deliveries
            .record(vec![Delivery {
                account_id: job.account_id.clone(),
                region: job.region.clone(),
                origin: "events",
                target: target_arn.to_string(),
                target_kind: target_kind(target_arn),
                source: Some(job.rule_arn.clone()),
                subject: None,
                body: body.to_string(),
                status: DeliveryStatus::Recorded,
                attempts: 1,
                error: None,
                created_ms: now_ms,
            }])
            .await
            .map_err(|e| Failure::Retryable(e.to_string()))
    }

    /// Records a failed delivery, and the event's copy to the dead-letter queue if any.
    async fn fail(&self, job: &Job, target_arn: &str, body: String, attempts: i64, error: String) {
        let now_ms = self.core.clock.now_ms();
        let failed = Delivery {
            account_id: job.account_id.clone(),
            region: job.region.clone(),
            origin: "events",
            target: target_arn.to_string(),
            target_kind: target_kind(target_arn),
            source: Some(job.rule_arn.clone()),
            subject: None,
            body,
            status: DeliveryStatus::Failed,
            attempts,
            error: Some(error.clone()),
            created_ms: now_ms,
        };
        // API destinations record every attempt themselves, the last failed one included.
        let recorded_already = target_arn.contains(":api-destination/") && attempts > 0;
        let mut records = vec![failed.clone()];
        let dead_letter = job
            .target
            .get("DeadLetterConfig")
            .and_then(|d| string(d, "Arn"))
            .filter(|a| !a.is_empty());
        if let Some(queue) = dead_letter {
            records.push(Delivery {
                target: queue.to_string(),
                target_kind: target_kind(queue),
                body: job.event.to_string(),
                status: DeliveryStatus::Recorded,
                subject: Some(format!("Failed delivery to {target_arn}")),
                ..failed
            });
        }
        if recorded_already {
            records.remove(0);
        }
        if let Err(e) = self.deliveries.record(records).await {
            tracing::warn!(error = %e, "failed delivery not recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_policy_defaults_are_aws_defaults() {
        assert_eq!(
            RetryPolicy::of(&json!({"Id": "t", "Arn": "a"})),
            RetryPolicy {
                max_retries: 185,
                max_age_ms: 86_400_000
            }
        );
        assert_eq!(
            RetryPolicy::of(&json!({"RetryPolicy": {"MaximumRetryAttempts": 0,
                "MaximumEventAgeInSeconds": 60}})),
            RetryPolicy {
                max_retries: 0,
                max_age_ms: 60_000
            }
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(30), Duration::from_secs(300));
    }

    #[test]
    fn log_templates_with_timestamp_and_message_set_both() {
        let event = json!({"time": "2026-01-01T00:00:00Z"});
        let plain = json!({"Id": "t", "Arn": "a"});
        assert_eq!(
            log_event(&plain, &event, r#"{"a":1}"#, 5),
            (1_767_225_600_000, r#"{"a":1}"#.to_string())
        );
        let transformed =
            json!({"Id": "t", "Arn": "a", "InputTransformer": {"InputTemplate": "x"}});
        assert_eq!(
            log_event(
                &transformed,
                &event,
                r#"{"timestamp": "2026-01-01T00:00:01Z", "message": "hello"}"#,
                5
            ),
            (1_767_225_601_000, "hello".to_string())
        );
        assert_eq!(
            log_event(&transformed, &event, r#"{"message": "only"}"#, 5),
            (1_767_225_600_000, r#"{"message": "only"}"#.to_string())
        );
    }

    #[test]
    fn log_group_arns_name_account_region_and_group() {
        assert_eq!(
            log_group("arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/x:*"),
            Some((
                "123456789012".into(),
                "us-east-1".into(),
                "/aws/events/x".into()
            ))
        );
        assert_eq!(
            log_group("arn:aws:logs:eu-west-1:123456789012:log-group:g"),
            Some(("123456789012".into(), "eu-west-1".into(), "g".into()))
        );
        assert_eq!(log_group("arn:aws:sqs:us-east-1:123456789012:q"), None);
    }
}
