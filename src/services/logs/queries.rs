//! Logs Insights: StartQuery, GetQueryResults, StopQuery, DescribeQueries.
//!
//! A query runs to completion inside StartQuery (the engine in `insights/` streams events and
//! keeps memory bounded by its groups, not its events), and its results are stored, so
//! GetQueryResults answers `Complete` from the first call: clients that poll until the status
//! is final work unchanged.

use serde::Serialize;
use serde_json::Value;

use super::insights::{self, InsightsError, LogRecord};
use super::repo::{decode_events, LogsRepo, NewQuery};
use super::types::*;
use super::{require_group, LogsError, Result};
use crate::context::RequestContext;
use crate::services::input;

const MAX_GROUPS: usize = 50;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryOutput {
    query_id: String,
}

#[derive(Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredResults {
    results: Vec<Vec<ResultField>>,
    statistics: QueryStatistics,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetQueryResultsOutput {
    results: Vec<Vec<ResultField>>,
    statistics: QueryStatistics,
    status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopQueryOutput {
    success: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryInfo {
    query_id: String,
    query_string: String,
    status: String,
    create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_group_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesOutput {
    queries: Vec<QueryInfo>,
}

fn malformed(e: InsightsError) -> LogsError {
    match e {
        InsightsError::Malformed { location, message } => LogsError::MalformedQuery(format!(
            "{message} (line {}, column {}, characters {}-{})",
            location.line, location.column, location.start, location.end
        )),
        InsightsError::Unsupported { location, message } => LogsError::MalformedQuery(format!(
            "{message} (line {}, column {}): not supported by this emulator",
            location.line, location.column
        )),
    }
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html
pub async fn start_query(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<StartQueryOutput> {
    let request: StartQueryInput = input(doc)?;
    let mut names: Vec<String> = Vec::new();
    names.extend(request.log_group_name.clone());
    names.extend(request.log_group_names.clone().unwrap_or_default());
    names.extend(
        request
            .log_group_identifiers
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|i| super::name_from_identifier(i)),
    );
    if names.is_empty() {
        return Err(LogsError::InvalidParameter(
            "One of logGroupName, logGroupNames or logGroupIdentifiers must be specified.".into(),
        ));
    }
    if names.len() > MAX_GROUPS {
        return Err(LogsError::InvalidParameter(format!(
            "A query can search at most {MAX_GROUPS} log groups."
        )));
    }
    if request.end_time < request.start_time {
        return Err(LogsError::InvalidParameter(
            "endTime must be greater than or equal to startTime.".into(),
        ));
    }
    let query = insights::parse(&request.query_string).map_err(malformed)?;
    let mut groups = Vec::with_capacity(names.len());
    for name in &names {
        groups.push(require_group(repo, ctx, name).await?);
    }

    let row_cap = request
        .limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(insights::DEFAULT_RESULT_ROWS);
    let mut execution = query.start_with_row_cap(row_cap);
    // startTime/endTime are epoch seconds, both inclusive.
    let start_ms = request.start_time.saturating_mul(1000);
    let end_ms = request.end_time.saturating_mul(1000).saturating_add(999);
    // Events stream in batch by batch, oldest batches first; the engine keeps the newest rows
    // a query asks for whatever the arrival order, so memory stays bounded by the query's
    // groups and limit, not by the number of events.
    for group in &groups {
        let streams = repo.streams_by_id(group.id).await?;
        let log = format!("{}:{}", ctx.account_id, group.name);
        let mut corrupt = None;
        repo.visit_batches(
            group.id,
            None,
            start_ms,
            end_ms.saturating_add(1),
            |batch| {
                let decoded = decode_events(&batch.data, |index, ts, message| {
                    if ts < start_ms || ts > end_ms {
                        return;
                    }
                    let stream = streams
                        .get(&batch.stream_id)
                        .map(String::as_str)
                        .unwrap_or_default();
                    let ptr = format!("{}:{}:{index}", group.id, batch.id);
                    execution.push(&LogRecord {
                        timestamp_ms: ts,
                        ingestion_time_ms: batch.ingestion_ms,
                        message,
                        log_stream: stream,
                        log_group: &log,
                        ptr: &ptr,
                    });
                });
                if decoded.is_none() {
                    corrupt = Some(batch.id);
                    return std::ops::ControlFlow::Break(());
                }
                std::ops::ControlFlow::Continue(())
            },
        )
        .await?;
        if let Some(id) = corrupt {
            return Err(LogsError::Store(crate::store::StoreError::Corrupt(
                format!("log batch {id}"),
            )));
        }
    }
    let output = execution.finish();
    let stored = StoredResults {
        results: output
            .rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|(field, value)| ResultField { field, value })
                    .collect()
            })
            .collect(),
        statistics: QueryStatistics {
            records_matched: output.records_matched,
            records_scanned: output.records_scanned,
            bytes_scanned: output.bytes_scanned,
            log_groups_scanned: groups.len() as f64,
        },
    };
    let query_id = uuid::Uuid::new_v4().to_string();
    let results =
        serde_json::to_string(&stored).map_err(|e| LogsError::InvalidParameter(e.to_string()))?;
    repo.save_query(NewQuery {
        query_id: query_id.clone(),
        account_id: ctx.account_id.clone(),
        region: ctx.region.clone(),
        query_string: request.query_string,
        log_group_name: names.first().cloned(),
        status: "Complete",
        create_time_ms: ctx.now_ms,
        results: Some(results),
    })
    .await?;
    Ok(StartQueryOutput { query_id })
}

fn unknown_query(id: &str) -> LogsError {
    LogsError::ResourceNotFound(format!("Query {id} does not exist."))
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetQueryResults.html
pub async fn get_query_results(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<GetQueryResultsOutput> {
    let request: QueryIdInput = input(doc)?;
    let row = repo
        .query(&ctx.account_id, &ctx.region, &request.query_id)
        .await?
        .ok_or_else(|| unknown_query(&request.query_id))?;
    let stored: StoredResults = row
        .results
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(StoredResults {
            results: Vec::new(),
            statistics: QueryStatistics::default(),
        });
    Ok(GetQueryResultsOutput {
        results: stored.results,
        statistics: stored.statistics,
        status: row.status,
    })
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StopQuery.html
pub async fn stop_query(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<StopQueryOutput> {
    let request: QueryIdInput = input(doc)?;
    let row = repo
        .query(&ctx.account_id, &ctx.region, &request.query_id)
        .await?
        .ok_or_else(|| unknown_query(&request.query_id))?;
    if matches!(row.status.as_str(), "Scheduled" | "Running") {
        repo.set_query_status(row.query_id, "Cancelled").await?;
        return Ok(StopQueryOutput { success: true });
    }
    // Queries here finish inside StartQuery, so there is never one left to stop.
    Ok(StopQueryOutput { success: false })
}

/// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeQueries.html
pub async fn describe_queries(
    repo: &LogsRepo,
    ctx: &RequestContext,
    doc: Value,
) -> Result<DescribeQueriesOutput> {
    let request: DescribeQueriesInput = input(doc)?;
    let max = request
        .max_results
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(1000);
    let queries = repo
        .queries(&ctx.account_id, &ctx.region)
        .await?
        .into_iter()
        .filter(|q| request.status.as_ref().is_none_or(|s| *s == q.status))
        .filter(|q| {
            request
                .log_group_name
                .as_ref()
                .is_none_or(|g| q.log_group_name.as_ref() == Some(g))
        })
        .take(max)
        .map(|q| QueryInfo {
            query_id: q.query_id,
            query_string: q.query_string,
            status: q.status,
            create_time: q.create_time_ms,
            log_group_name: q.log_group_name,
        })
        .collect();
    Ok(DescribeQueriesOutput { queries })
}
