//! Fires scheduled rules: every second the task asks the injected clock for "now", claims the
//! enabled schedules due by then (each firing once, see `repo::claim_due_schedules`), and sends
//! each rule's targets the event AWS sends for a schedule. A firing missed while the emulator
//! was stopped fires once, not once per missed period.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::put_events::envelope;
use super::router::RuleFilter;
use super::{rule_arn, BusRef, Core, DEFAULT_BUS};
use crate::store::StoreError;

const TICK: Duration = Duration::from_secs(1);

pub async fn run(core: Arc<Core>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
        match fire_due(&core, core.clock.now_ms()).await {
            Ok(_) => {}
            Err(StoreError::Closed) => return,
            Err(e) => tracing::error!(error = %e, "scheduled rules not fired"),
        }
    }
}

/// Fires every schedule due at `now_ms`; answers how many rules fired.
pub async fn fire_due(core: &Core, now_ms: i64) -> Result<usize, StoreError> {
    let due = core.repo.claim_due_schedules(now_ms).await?;
    for schedule in &due {
        let bus = BusRef {
            account_id: schedule.account_id.clone(),
            region: schedule.region.clone(),
            name: DEFAULT_BUS.to_string(),
        };
        let arn = rule_arn(&bus.account_id, &bus.region, DEFAULT_BUS, &schedule.name);
        let event = envelope(
            &uuid::Uuid::new_v4().to_string(),
            "Scheduled Event",
            "aws.events",
            &bus.account_id,
            schedule.fire_ms,
            &bus.region,
            vec![json!(arn)],
            json!({}),
        );
        core.router
            .route(
                &bus,
                &[event],
                RuleFilter::Scheduled(&schedule.name),
                now_ms,
                0,
            )
            .await?;
    }
    Ok(due.len())
}
