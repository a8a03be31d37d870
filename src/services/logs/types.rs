//! Input and output DTOs of the CloudWatch Logs operations, named as in the model (camelCase).
//! Timestamps in this API are epoch milliseconds (`long`), not the protocol's timestamp type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLogGroupInput {
    pub log_group_name: String,
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub log_group_class: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupNameInput {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsInput {
    pub log_group_name_prefix: Option<String>,
    pub log_group_name_pattern: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub log_group_class: Option<String>,
    #[serde(default)]
    pub log_group_identifiers: Vec<String>,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct LogGroup {
    pub log_group_name: String,
    pub creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<i64>,
    pub metric_filter_count: i64,
    pub arn: String,
    pub stored_bytes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    pub log_group_class: String,
    pub log_group_arn: String,
    pub deletion_protection_enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsOutput {
    pub log_groups: Vec<LogGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamInput {
    pub log_group_name: String,
    pub log_stream_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsInput {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_name_prefix: Option<String>,
    pub order_by: Option<String>,
    pub descending: Option<bool>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStream {
    pub log_stream_name: String,
    pub creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ingestion_time: Option<i64>,
    pub arn: String,
    pub stored_bytes: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsOutput {
    pub log_streams: Vec<LogStream>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputLogEvent {
    pub timestamp: i64,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsInput {
    pub log_group_name: String,
    pub log_stream_name: String,
    pub log_events: Vec<InputLogEvent>,
}

#[derive(Debug, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RejectedLogEventsInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_new_log_event_start_index: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_old_log_event_end_index: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_log_event_end_index: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsOutput {
    pub next_sequence_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_log_events_info: Option<RejectedLogEventsInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsInput {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_name: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub start_from_head: Option<bool>,
}

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OutputLogEvent {
    pub timestamp: i64,
    pub message: String,
    pub ingestion_time: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsOutput {
    pub events: Vec<OutputLogEvent>,
    pub next_forward_token: String,
    pub next_backward_token: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsInput {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_names: Option<Vec<String>>,
    pub log_stream_name_prefix: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub filter_pattern: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FilteredLogEvent {
    pub log_stream_name: String,
    pub timestamp: i64,
    pub message: String,
    pub ingestion_time: i64,
    pub event_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsOutput {
    pub events: Vec<FilteredLogEvent>,
    pub searched_log_streams: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRetentionPolicyInput {
    pub log_group_name: String,
    pub retention_in_days: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceInput {
    pub resource_arn: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceInput {
    pub resource_arn: String,
    pub tag_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceArnInput {
    pub resource_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagLogGroupInput {
    pub log_group_name: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagLogGroupInput {
    pub log_group_name: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsOutput {
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartQueryInput {
    pub log_group_name: Option<String>,
    pub log_group_names: Option<Vec<String>>,
    pub log_group_identifiers: Option<Vec<String>>,
    pub start_time: i64,
    pub end_time: i64,
    pub query_string: String,
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryIdInput {
    pub query_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeQueriesInput {
    pub log_group_name: Option<String>,
    pub status: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResultField {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Serialize, Deserialize, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatistics {
    pub records_matched: f64,
    pub records_scanned: f64,
    pub bytes_scanned: f64,
    pub log_groups_scanned: f64,
}
