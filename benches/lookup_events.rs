//! LookupEvents over 1,000,000 journal records: the time for one page (50 events) with an
//! EventName filter, measured on the journal's query directly and over HTTP.
//!
//! Run with `cargo bench --bench lookup_events`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use watchtrail::services::cloudtrail::journal::{self, Filter, JournalWriter, LookupQuery};
use watchtrail::services::cloudtrail::record::JournalRecord;
use watchtrail::store::{Db, Location};

const NAMES: [&str; 10] = [
    "CreateLogGroup",
    "DeleteLogGroup",
    "PutRetentionPolicy",
    "DescribeLogGroups",
    "CreateLogStream",
    "PutMetricAlarm",
    "DescribeAlarms",
    "TagResource",
    "LookupEvents",
    "PutDashboard",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn run() {
    let (db, _writer) = Db::open(&Location::Ephemeral).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let writer = JournalWriter::start(db.clone());
    let filled = Instant::now();
    for i in 0..1_000_000i64 {
        let name = NAMES[(i % 10) as usize];
        writer.record(JournalRecord {
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            event_time_ms: now - 80 * 86_400_000 + i * 6_000,
            event_id: format!("{i:036}"),
            event_name: name.into(),
            event_source: "logs.amazonaws.com".into(),
            read_only: name.starts_with("Describe") || name.starts_with("Lookup"),
            username: Some("root".into()),
            access_key_id: Some("test".into()),
            resource: Some(("AWS::Logs::LogGroup".into(), format!("/group/{}", i % 1000))),
            management: true,
            event: format!(r#"{{"eventVersion":"1.11","eventName":"{name}","eventID":"{i:036}","requestParameters":{{"logGroupName":"/group/{}"}}}}"#, i % 1000),
        });
    }
    writer.shutdown().await;
    println!(
        "journaled 1,000,000 records in {:.1} s",
        filled.elapsed().as_secs_f64()
    );

    for (label, filter) in [
        (
            "EventName",
            Filter::Column("event_name", "PutRetentionPolicy".into()),
        ),
        (
            "ResourceName",
            Filter::Column("resource_name", "/group/7".into()),
        ),
        ("no attribute", Filter::None),
    ] {
        let mut first_page = Vec::new();
        let mut deep_page = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let page = journal::lookup(
                db.reader(),
                LookupQuery {
                    account_id: "000000000000",
                    region: "us-east-1",
                    filter: filter.clone(),
                    start_ms: now - 90 * 86_400_000,
                    end_ms: now,
                    before: None,
                    limit: 51,
                },
            )
            .await
            .unwrap();
            first_page.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(page.len(), 51);
            let last = page.last().unwrap();
            // A page deep into the history, through the token position.
            let t = Instant::now();
            let deeper = journal::lookup(
                db.reader(),
                LookupQuery {
                    account_id: "000000000000",
                    region: "us-east-1",
                    filter: filter.clone(),
                    start_ms: now - 90 * 86_400_000,
                    end_ms: now,
                    before: Some((last.event_time_ms - 40 * 86_400_000, i64::MAX)),
                    limit: 51,
                },
            )
            .await
            .unwrap();
            deep_page.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!deeper.is_empty());
        }
        println!(
            "LookupEvents page of 50 over 1,000,000 records, {label}: first page median {:.2} ms, a page 40 days back median {:.2} ms",
            median(first_page),
            median(deep_page)
        );
    }
    let t = Instant::now();
    let v = journal::verify(db.reader()).await.unwrap();
    println!(
        "verifying the chain of {} records: {:.1} s (intact: {})",
        v.records,
        t.elapsed().as_secs_f64(),
        v.intact
    );
}

fn main() {
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}
