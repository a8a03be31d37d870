//! EventBridge (CloudWatch Events): buses, rules, targets, PutEvents, schedules and the
//! asynchronous delivery of matched events to targets.
//!
//! Who does what: `buses.rs`, `rules.rs`, `targets.rs` and `put_events.rs` are the handlers;
//! `router.rs` matches an event against a bus's rules (patterns compiled by `pattern.rs`, cached)
//! and queues one job per matched target; `delivery.rs` drains that queue off the request path
//! with the targets' retry policies; `scheduler.rs` fires scheduled rules (`schedule.rs`) by the
//! injected clock. Archives, replays, connections and API destinations live in `archives.rs` and
//! `api_destinations.rs`; operations this module does not know are handed to them.

pub mod api_destinations;
pub mod archives;
pub mod buses;
pub mod delivery;
pub mod pattern;
pub mod put_events;
pub mod repo;
pub mod router;
pub mod rules;
pub mod schedule;
pub mod scheduler;
pub mod targets;
pub mod transform;

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::SharedClock;
use crate::context::RequestContext;
use crate::services::bus::EmittedEvents;
use crate::services::deliveries::Deliveries;
use crate::services::logs::LogDeliverer;
use crate::services::AwsError;
use crate::services::HandlerFuture;
use crate::store::Db;
use crate::store::StoreError;

/// EventBridge's errors, named after the model's error shapes. `Validation` is the generic
/// `ValidationException` EventBridge answers for bad parameters the model does not declare.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceAlreadyExists(String),
    #[error("{0}")]
    InvalidEventPattern(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ConcurrentModification(String),
    #[error("{0}")]
    IllegalStatus(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    ManagedRule(String),
    #[error("{0}")]
    PolicyLengthExceeded(String),
    #[error("{0}")]
    OperationDisabled(String),
    #[error("storage failure: {0}")]
    Store(#[from] StoreError),
}

impl From<crate::services::InputError> for EventsError {
    fn from(e: crate::services::InputError) -> Self {
        EventsError::Validation(e.0)
    }
}

impl From<sqlx::Error> for EventsError {
    fn from(e: sqlx::Error) -> Self {
        EventsError::Store(StoreError::from(e))
    }
}

impl AwsError for EventsError {
    fn error_shape(&self) -> &'static str {
        match self {
            EventsError::Validation(_) => "ValidationException",
            EventsError::ResourceNotFound(_) => "ResourceNotFoundException",
            EventsError::ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            EventsError::InvalidEventPattern(_) => "InvalidEventPatternException",
            EventsError::LimitExceeded(_) => "LimitExceededException",
            EventsError::ConcurrentModification(_) => "ConcurrentModificationException",
            EventsError::IllegalStatus(_) => "IllegalStatusException",
            EventsError::InvalidState(_) => "InvalidStateException",
            EventsError::ManagedRule(_) => "ManagedRuleException",
            EventsError::PolicyLengthExceeded(_) => "PolicyLengthExceededException",
            EventsError::OperationDisabled(_) => "OperationDisabledException",
            EventsError::Store(_) => "InternalException",
        }
    }

    fn is_internal(&self) -> bool {
        matches!(self, EventsError::Store(_))
    }
}

pub type Result<T, E = EventsError> = std::result::Result<T, E>;

/// What the handlers, the router, the delivery worker and the scheduler share.
pub struct Core {
    pub repo: repo::EventsRepo,
    pub clock: SharedClock,
    pub router: router::Router,
    pub archives: Arc<archives::Archives>,
}

pub struct Events {
    core: Arc<Core>,
    api_destinations: Arc<api_destinations::ApiDestinations>,
    cancel: CancellationToken,
    tasks: TaskTracker,
}

impl Events {
    /// Builds the service and starts its tasks: the delivery worker, the scheduler, and the
    /// listeners for service events (onto the default bus) and replayed events.
    pub fn new(
        db: Db,
        clock: SharedClock,
        deliveries: Deliveries,
        logs: LogDeliverer,
        emitted: EmittedEvents,
    ) -> Self {
        let (jobs, queued) = mpsc::unbounded_channel();
        let (replays, replayed) = mpsc::unbounded_channel();
        let repo = repo::EventsRepo::new(db.clone());
        let archives = Arc::new(archives::Archives::new(db.clone(), clock.clone(), replays));
        let api_destinations = Arc::new(api_destinations::ApiDestinations::new(
            db,
            clock.clone(),
            deliveries.clone(),
        ));
        let core = Arc::new(Core {
            router: router::Router::new(repo.clone(), jobs),
            repo,
            clock,
            archives,
        });
        let cancel = CancellationToken::new();
        let tasks = TaskTracker::new();
        let worker = delivery::Worker {
            core: core.clone(),
            logs,
            deliveries,
            api_destinations: api_destinations.clone(),
            cancel: cancel.clone(),
            tasks: tasks.clone(),
        };
        tasks.spawn(worker.run(queued));
        tasks.spawn(scheduler::run(core.clone(), cancel.clone()));
        tasks.spawn(put_events::route_service_events(
            core.clone(),
            emitted,
            cancel.clone(),
        ));
        tasks.spawn(router::route_replays(
            core.clone(),
            replayed,
            cancel.clone(),
        ));
        let retention = core.archives.spawn_retention(cancel.clone());
        tasks.spawn(async move {
            let _ = retention.await;
        });
        Events {
            core,
            api_destinations,
            cancel,
            tasks,
        }
    }

    /// Fires the scheduled rules due at `now_ms` (the scheduler task calls this every second;
    /// tests driving a manual clock call it directly). Answers how many rules fired.
    pub async fn fire_due_schedules(&self, now_ms: i64) -> Result<usize> {
        Ok(scheduler::fire_due(&self.core, now_ms).await?)
    }

    /// Stops the tasks: queued deliveries and pending retries are dropped, a delivery being
    /// written finishes first.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    pub fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &str,
        input: Value,
    ) -> Option<HandlerFuture<'a>> {
        fn boxed<'a>(
            f: impl std::future::Future<Output = Result<Value>> + Send + 'a,
        ) -> HandlerFuture<'a> {
            Box::pin(async move {
                f.await
                    .map_err(|e| Box::new(e) as crate::services::BoxError)
            })
        }
        let core = &*self.core;
        Some(match operation {
            "CreateEventBus" => boxed(buses::create_event_bus(core, ctx, input)),
            "DescribeEventBus" => boxed(buses::describe_event_bus(core, ctx, input)),
            "ListEventBuses" => boxed(buses::list_event_buses(core, ctx, input)),
            "DeleteEventBus" => boxed(buses::delete_event_bus(core, ctx, input)),
            "UpdateEventBus" => boxed(buses::update_event_bus(core, ctx, input)),
            "PutPermission" => boxed(buses::put_permission(core, ctx, input)),
            "RemovePermission" => boxed(buses::remove_permission(core, ctx, input)),
            "PutRule" => boxed(rules::put_rule(core, ctx, input)),
            "DescribeRule" => boxed(rules::describe_rule(core, ctx, input)),
            "ListRules" => boxed(rules::list_rules(core, ctx, input)),
            "EnableRule" => boxed(rules::set_rule_state(core, ctx, input, "ENABLED")),
            "DisableRule" => boxed(rules::set_rule_state(core, ctx, input, "DISABLED")),
            "DeleteRule" => boxed(rules::delete_rule(core, ctx, input)),
            "TestEventPattern" => boxed(rules::test_event_pattern(input)),
            "TagResource" => boxed(rules::tag_resource(core, input)),
            "UntagResource" => boxed(rules::untag_resource(core, input)),
            "ListTagsForResource" => boxed(rules::list_tags_for_resource(core, input)),
            "PutTargets" => boxed(targets::put_targets(core, ctx, input)),
            "RemoveTargets" => boxed(targets::remove_targets(core, ctx, input)),
            "ListTargetsByRule" => boxed(targets::list_targets_by_rule(core, ctx, input)),
            "ListRuleNamesByTarget" => boxed(targets::list_rule_names_by_target(core, ctx, input)),
            "PutEvents" => boxed(put_events::put_events(core, ctx, input)),
            _ => {
                return self
                    .core
                    .archives
                    .call(ctx, operation, input.clone())
                    .or_else(|| self.api_destinations.call(ctx, operation, input));
            }
        })
    }
}

/// A bus in a given account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusRef {
    pub account_id: String,
    pub region: String,
    pub name: String,
}

impl BusRef {
    pub fn arn(&self) -> String {
        bus_arn(&self.account_id, &self.region, &self.name)
    }

    pub fn key(&self) -> repo::BusKey {
        repo::BusKey {
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            bus: self.name.clone(),
        }
    }

    /// The bus an `EventBusName` (a name or an ARN; absent means the default bus) names, in
    /// the caller's account and region unless an ARN says otherwise.
    pub fn resolve(ctx: &RequestContext, name_or_arn: Option<&str>) -> BusRef {
        let given = name_or_arn.filter(|s| !s.is_empty()).unwrap_or(DEFAULT_BUS);
        match parse_bus_arn(given) {
            Some(bus) => bus,
            None => BusRef {
                account_id: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: given.to_string(),
            },
        }
    }
}

pub const DEFAULT_BUS: &str = "default";

/// `arn:aws:events:<region>:<account>:event-bus/<name>` → the bus.
pub fn parse_bus_arn(arn: &str) -> Option<BusRef> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let _partition = parts.next()?;
    if parts.next()? != "events" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let name = parts.next()?.strip_prefix("event-bus/")?;
    Some(BusRef {
        account_id: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
    })
}

pub fn bus_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:event-bus/{name}")
}

/// Rules of the default bus are `rule/<name>`, others `rule/<bus>/<name>`.
pub fn rule_arn(account: &str, region: &str, bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS {
        format!("arn:aws:events:{region}:{account}:rule/{name}")
    } else {
        format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}")
    }
}

pub fn bus_not_found(name: &str) -> EventsError {
    EventsError::ResourceNotFound(format!("Event bus {name} does not exist."))
}

pub fn rule_not_found(name: &str, bus: &str) -> EventsError {
    EventsError::ResourceNotFound(format!("Rule {name} does not exist on EventBus {bus}."))
}

/// Whether the bus exists: the default bus always does.
pub async fn bus_exists(core: &Core, bus: &BusRef) -> Result<bool> {
    Ok(bus.name == DEFAULT_BUS
        || core
            .repo
            .find_bus(&bus.account_id, &bus.region, &bus.name)
            .await?
            .is_some())
}

/// The string member `name` of an input document.
pub fn string<'v>(input: &'v Value, name: &str) -> Option<&'v str> {
    input.get(name).and_then(Value::as_str)
}

/// Page tokens are opaque to clients; ours carry the last key of the previous page.
pub fn encode_token(last: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.as_bytes())
}

pub fn decode_token(token: Option<&str>) -> Result<String> {
    use base64::Engine;
    let Some(token) = token else {
        return Ok(String::new());
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| EventsError::Validation("The nextToken provided is invalid.".into()))
}

/// Tags of an input document's `Tags` list.
pub fn tag_pairs(input: &Value) -> Vec<(String, String)> {
    input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| {
                    Some((
                        string(t, "Key")?.to_string(),
                        string(t, "Value")?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Epoch milliseconds as the model's timestamps (epoch seconds).
pub fn seconds(ms: i64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}
