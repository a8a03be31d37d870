//! Matching events to rules: every event put on a bus (by PutEvents, by a service, by another
//! bus, by a replay) is matched against the bus's enabled rules, and each target of each
//! matching rule becomes one delivery job on the worker's queue. Routing never waits for a
//! delivery.
//!
//! Patterns are compiled once per distinct pattern text and kept: rules change far less often
//! than events arrive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::archives::ReplayedEvent;
use super::pattern::EventPattern;
use super::repo::{EventsRepo, RoutingRule};
use super::{parse_bus_arn, rule_arn, BusRef, Core};
use crate::store::StoreError;

/// Compiled patterns kept at most; past this the cache starts over (rules are few in practice).
const PATTERN_CACHE_LIMIT: usize = 10_000;

/// How many buses an event may cross through bus targets, so a loop of buses ends.
pub const MAX_HOPS: u8 = 5;

/// The rule AWS creates for an archive is internal: replays never go through it.
const ARCHIVE_RULE_OWNER: &str = "prod.vhs.events.aws.internal";
const ARCHIVE_RULE_PREFIX: &str = "Events-Archive-";

const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
const ALL_MANAGEMENT_EVENTS: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

/// One event for one target of one rule.
#[derive(Debug, Clone)]
pub struct Job {
    pub account_id: String,
    pub region: String,
    pub rule_name: String,
    pub rule_arn: String,
    pub target: Value,
    pub event: Arc<Value>,
    /// When the bus accepted the event: retries stop once it is older than the target allows.
    pub ingested_ms: i64,
    pub hops: u8,
}

/// Which rules of the bus an event may go to.
#[derive(Debug, Clone, Copy)]
pub enum RuleFilter<'a> {
    All,
    /// A replay: the listed rule ARNs (all when `None`), never an archive's own rule.
    Replay(Option<&'a [String]>),
    /// A schedule firing: that rule alone, whatever its pattern.
    Scheduled(&'a str),
}

pub struct Router {
    repo: EventsRepo,
    patterns: Mutex<HashMap<String, Arc<EventPattern>>>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl Router {
    pub fn new(repo: EventsRepo, jobs: mpsc::UnboundedSender<Job>) -> Self {
        Router {
            repo,
            patterns: Mutex::new(HashMap::new()),
            jobs,
        }
    }

    fn pattern(&self, text: &str) -> Option<Arc<EventPattern>> {
        let mut cache = match self.patterns.lock() {
            Ok(cache) => cache,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(p) = cache.get(text) {
            return Some(p.clone());
        }
        // Stored patterns were validated by PutRule; one that no longer parses matches nothing.
        let compiled = Arc::new(EventPattern::parse(text).ok()?);
        if cache.len() >= PATTERN_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(text.to_string(), compiled.clone());
        Some(compiled)
    }

    fn rule_takes(
        &self,
        rule: &RoutingRule,
        event: &Value,
        filter: RuleFilter<'_>,
        arn: &str,
    ) -> bool {
        match filter {
            RuleFilter::Scheduled(name) => return rule.name == name,
            RuleFilter::Replay(only) => {
                let archive_rule = rule.managed_by.as_deref() == Some(ARCHIVE_RULE_OWNER)
                    || rule.name.starts_with(ARCHIVE_RULE_PREFIX);
                if archive_rule || only.is_some_and(|arns| !arns.iter().any(|a| a == arn)) {
                    return false;
                }
            }
            RuleFilter::All => {}
        }
        let Some(pattern) = rule.event_pattern.as_deref().and_then(|p| self.pattern(p)) else {
            return false;
        };
        // Read-only management calls reach only rules enabled for all management events.
        let read_only_call = event.get("detail-type").and_then(Value::as_str)
            == Some(CLOUDTRAIL_DETAIL_TYPE)
            && event
                .get("detail")
                .and_then(|d| d.get("readOnly"))
                .and_then(Value::as_bool)
                == Some(true);
        if read_only_call && rule.state != ALL_MANAGEMENT_EVENTS {
            return false;
        }
        pattern.matches(event)
    }

    /// Queues a job per target of every rule of `bus` that takes each event; answers how many.
    pub async fn route(
        &self,
        bus: &BusRef,
        events: &[Value],
        filter: RuleFilter<'_>,
        now_ms: i64,
        hops: u8,
    ) -> Result<usize, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let rules = self.repo.routing_rules(&bus.key()).await?;
        let mut queued = 0;
        for event in events {
            let event = Arc::new(event.clone());
            for rule in &rules {
                let arn = rule_arn(&bus.account_id, &bus.region, &bus.name, &rule.name);
                if !self.rule_takes(rule, &event, filter, &arn) {
                    continue;
                }
                for target in &rule.targets {
                    let job = Job {
                        account_id: bus.account_id.clone(),
                        region: bus.region.clone(),
                        rule_name: rule.name.clone(),
                        rule_arn: arn.clone(),
                        target: target.clone(),
                        event: event.clone(),
                        ingested_ms: now_ms,
                        hops,
                    };
                    if self.jobs.send(job).is_err() {
                        tracing::debug!("delivery worker stopped; event not delivered");
                    }
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }
}

/// Puts events on a bus: routes them through its rules, then keeps them in its archives.
pub async fn ingest(
    core: &Core,
    bus: &BusRef,
    events: &[Value],
    hops: u8,
) -> Result<(), StoreError> {
    let now_ms = core.clock.now_ms();
    core.router
        .route(bus, events, RuleFilter::All, now_ms, hops)
        .await?;
    core.archives
        .archive(&bus.account_id, &bus.region, &bus.arn(), events)
        .await
}

/// Routes replayed events as they arrive from the archives, until cancelled.
pub async fn route_replays(
    core: Arc<Core>,
    mut replayed: mpsc::UnboundedReceiver<ReplayedEvent>,
    cancel: CancellationToken,
) {
    loop {
        let replay = tokio::select! {
            _ = cancel.cancelled() => return,
            next = replayed.recv() => match next {
                Some(replay) => replay,
                None => return,
            },
        };
        let bus = parse_bus_arn(&replay.bus_arn).unwrap_or_else(|| BusRef {
            account_id: replay.account_id.clone(),
            region: replay.region.clone(),
            name: replay
                .bus_arn
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        });
        let mut event = replay.event;
        if let Some(fields) = event.as_object_mut() {
            fields.insert(
                "replay-name".into(),
                Value::String(replay.replay_name.clone()),
            );
        }
        let filter = RuleFilter::Replay(replay.rule_arns.as_deref());
        let now_ms = core.clock.now_ms();
        match core.router.route(&bus, &[event], filter, now_ms, 0).await {
            Ok(_) => {}
            Err(StoreError::Closed) => return,
            Err(e) => tracing::error!(error = %e, "replayed event not routed"),
        }
    }
}
