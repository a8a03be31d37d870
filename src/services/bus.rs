//! Events one service puts on another's event bus, as AWS services put theirs on EventBridge's
//! default bus: "CloudWatch Alarm State Change" from the alarm evaluator, "AWS API Call via
//! CloudTrail" from the journal.
//!
//! Emitters hold an [`EventEmitter`]; EventBridge owns the one [`EmittedEvents`] receiver and
//! routes what arrives through the default bus's rules. Emitting never blocks and never fails
//! the emitter's own work: an event nobody can take any more (shutdown) is dropped.

use serde_json::Value;
use tokio::sync::mpsc;

/// An event in EventBridge's envelope terms, before the bus gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    pub account_id: String,
    pub region: String,
    /// `aws.cloudwatch`, `aws.logs`, ...
    pub source: String,
    /// `CloudWatch Alarm State Change`, `AWS API Call via CloudTrail`, ...
    pub detail_type: String,
    /// ARNs of the resources the event is about.
    pub resources: Vec<String>,
    pub detail: Value,
    /// When it happened, in epoch milliseconds.
    pub time_ms: i64,
}

/// The sending half, cloned into every service that emits events.
#[derive(Clone, Debug)]
pub struct EventEmitter {
    tx: mpsc::UnboundedSender<ServiceEvent>,
}

/// The receiving half, owned by EventBridge.
pub type EmittedEvents = mpsc::UnboundedReceiver<ServiceEvent>;

impl EventEmitter {
    pub fn emit(&self, event: ServiceEvent) {
        if self.tx.send(event).is_err() {
            tracing::debug!("event bus is gone; service event dropped");
        }
    }

    /// An emitter whose events go nowhere, for parts built without EventBridge (unit tests).
    pub fn detached() -> Self {
        let (tx, _) = mpsc::unbounded_channel();
        EventEmitter { tx }
    }
}

pub fn channel() -> (EventEmitter, EmittedEvents) {
    let (tx, rx) = mpsc::unbounded_channel();
    (EventEmitter { tx }, rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn emitted_events_arrive_in_order() {
        let (emitter, mut rx) = channel();
        for n in 0..3 {
            emitter.emit(ServiceEvent {
                account_id: "1".into(),
                region: "us-east-1".into(),
                source: "aws.test".into(),
                detail_type: "Test".into(),
                resources: vec![],
                detail: serde_json::json!({ "n": n }),
                time_ms: n,
            });
        }
        for n in 0..3 {
            assert_eq!(rx.recv().await.map(|e| e.time_ms), Some(n));
        }
    }
}
