//! Live tail: every batch of log events that a commit makes durable is offered to whoever is
//! tailing, as it is committed.
//!
//! A `broadcast` channel keeps ingest independent of the tails: a send never waits, a tail that
//! falls behind loses the oldest batches (and is told how many) instead of slowing
//! PutLogEvents. When nobody tails, ingest pays one atomic load and no copy.

use std::sync::Arc;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::filter_pattern::FilterPattern;

/// Batches kept for a slow tail before it starts losing them.
const CHANNEL_CAPACITY: usize = 1024;

/// Events of one stream made durable by one commit.
#[derive(Debug)]
pub struct LiveBatch {
    pub account_id: String,
    pub region: String,
    pub group_name: String,
    pub stream_name: String,
    pub ingestion_time_ms: i64,
    /// (timestamp, message), in the order they were stored.
    pub events: Vec<(i64, String)>,
}

#[derive(Clone)]
pub struct LiveTail {
    sender: broadcast::Sender<Arc<LiveBatch>>,
    /// Cancelled when the server shuts down: open tails end so that draining connections
    /// does not wait for streams that would never finish.
    closed: CancellationToken,
}

impl Default for LiveTail {
    fn default() -> Self {
        LiveTail {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
            closed: CancellationToken::new(),
        }
    }
}

impl LiveTail {
    /// True while at least one tail is open: callers copy events only then.
    pub fn is_watched(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub fn publish(&self, batch: LiveBatch) {
        if self.is_watched() {
            // An error only means the last tail closed in between.
            let _ = self.sender.send(Arc::new(batch));
        }
    }

    pub fn subscribe(&self, selection: TailSelection) -> TailSubscription {
        TailSubscription {
            receiver: self.sender.subscribe(),
            selection,
            closed: self.closed.clone(),
        }
    }

    /// Ends every open tail (at shutdown).
    pub fn close(&self) {
        self.closed.cancel();
    }
}

/// What one tail wants: groups of one account and region, optionally some streams, and a
/// filter pattern in CloudWatch Logs' language.
pub struct TailSelection {
    pub account_id: String,
    pub region: String,
    pub group_names: Vec<String>,
    pub stream_names: Vec<String>,
    pub stream_name_prefixes: Vec<String>,
    pub pattern: Option<FilterPattern>,
}

impl TailSelection {
    fn wants_stream(&self, batch: &LiveBatch) -> bool {
        batch.account_id == self.account_id
            && batch.region == self.region
            && self.group_names.contains(&batch.group_name)
            && (self.stream_names.is_empty() && self.stream_name_prefixes.is_empty()
                || self.stream_names.contains(&batch.stream_name)
                || self
                    .stream_name_prefixes
                    .iter()
                    .any(|p| batch.stream_name.starts_with(p.as_str())))
    }
}

/// One event as a tail sees it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TailedEvent {
    pub log_group_name: String,
    pub log_stream_name: String,
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: String,
}

pub enum TailUpdate {
    Events(Vec<TailedEvent>),
    /// The tail fell behind and this many batches were dropped for it.
    Lagged(u64),
    Closed,
}

pub struct TailSubscription {
    receiver: broadcast::Receiver<Arc<LiveBatch>>,
    selection: TailSelection,
    closed: CancellationToken,
}

impl TailSubscription {
    /// Waits for the next batch holding events this tail wants.
    pub async fn next(&mut self) -> TailUpdate {
        loop {
            let received = tokio::select! {
                _ = self.closed.cancelled() => return TailUpdate::Closed,
                received = self.receiver.recv() => received,
            };
            match received {
                Ok(batch) => {
                    let events = self.matching(&batch);
                    if !events.is_empty() {
                        return TailUpdate::Events(events);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => return TailUpdate::Lagged(n),
                Err(broadcast::error::RecvError::Closed) => return TailUpdate::Closed,
            }
        }
    }

    /// Takes whatever is already queued without waiting (to batch a burst into one update).
    pub fn try_next(&mut self) -> Option<TailUpdate> {
        loop {
            match self.receiver.try_recv() {
                Ok(batch) => {
                    let events = self.matching(&batch);
                    if !events.is_empty() {
                        return Some(TailUpdate::Events(events));
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    return Some(TailUpdate::Lagged(n))
                }
                Err(broadcast::error::TryRecvError::Empty) => return None,
                Err(broadcast::error::TryRecvError::Closed) => return Some(TailUpdate::Closed),
            }
        }
    }

    fn matching(&self, batch: &LiveBatch) -> Vec<TailedEvent> {
        if !self.selection.wants_stream(batch) {
            return Vec::new();
        }
        batch
            .events
            .iter()
            .filter(|(_, message)| {
                self.selection
                    .pattern
                    .as_ref()
                    .is_none_or(|p| p.matches(message))
            })
            .map(|(timestamp, message)| TailedEvent {
                log_group_name: batch.group_name.clone(),
                log_stream_name: batch.stream_name.clone(),
                timestamp: *timestamp,
                ingestion_time: batch.ingestion_time_ms,
                message: message.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(group: &str, stream: &str, messages: &[&str]) -> LiveBatch {
        LiveBatch {
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            group_name: group.into(),
            stream_name: stream.into(),
            ingestion_time_ms: 5,
            events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| (i as i64, m.to_string()))
                .collect(),
        }
    }

    fn selection(pattern: Option<&str>) -> TailSelection {
        TailSelection {
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            group_names: vec!["app".into()],
            stream_names: vec![],
            stream_name_prefixes: vec!["web-".into()],
            pattern: pattern.map(|p| FilterPattern::parse(p).unwrap()),
        }
    }

    #[tokio::test]
    async fn a_tail_gets_only_its_groups_streams_and_matching_events() {
        let live = LiveTail::default();
        assert!(!live.is_watched());
        let mut tail = live.subscribe(selection(Some("ERROR")));
        assert!(live.is_watched());
        live.publish(batch("other", "web-1", &["ERROR elsewhere"]));
        live.publish(batch("app", "worker-1", &["ERROR in a worker"]));
        live.publish(batch(
            "app",
            "web-1",
            &["INFO fine", "ERROR boom", "ERROR again"],
        ));
        match tail.next().await {
            TailUpdate::Events(events) => {
                let messages: Vec<_> = events.iter().map(|e| e.message.as_str()).collect();
                assert_eq!(messages, ["ERROR boom", "ERROR again"]);
                assert_eq!(events[0].log_stream_name, "web-1");
                assert_eq!(events[0].ingestion_time, 5);
            }
            _ => panic!("expected events"),
        }
        assert!(tail.try_next().is_none());
        live.close();
        assert!(matches!(tail.next().await, TailUpdate::Closed));
    }

    #[tokio::test]
    async fn a_slow_tail_is_told_how_much_it_lost() {
        let live = LiveTail::default();
        let mut tail = live.subscribe(selection(None));
        for _ in 0..CHANNEL_CAPACITY + 10 {
            live.publish(batch("app", "web-1", &["x"]));
        }
        match tail.next().await {
            TailUpdate::Lagged(n) => assert_eq!(n, 10),
            _ => panic!("expected a lag report"),
        }
    }
}
