//! End-to-end tests: queries from the AWS Logs Insights pages run over small
//! hand-made log groups, with the expected rows worked out by hand.

use super::*;

/// 2024-01-02 03:04:05.678 UTC.
const T: i64 = 1_704_164_645_678;
const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const GROUP: &str = "123456789012:app";

fn run_with(
    query: &str,
    events: &[(i64, &str)],
    start: impl Fn(&Query) -> Execution,
) -> QueryOutput {
    let parsed = parse(query);
    let Ok(parsed) = parsed else {
        panic!("{query} should parse: {parsed:?}");
    };
    let mut execution = start(&parsed);
    let pointers: Vec<String> = (0..events.len()).map(|i| format!("ptr-{i}")).collect();
    for ((timestamp, message), ptr) in events.iter().zip(&pointers) {
        execution.push(&LogRecord {
            timestamp_ms: *timestamp,
            ingestion_time_ms: timestamp.saturating_add(1500),
            message,
            log_stream: "stream-1",
            log_group: GROUP,
            ptr,
        });
    }
    execution.finish()
}

fn run(query: &str, events: &[(i64, &str)]) -> QueryOutput {
    run_with(query, events, Query::start)
}

fn rows(query: &str, events: &[(i64, &str)]) -> Vec<Vec<(String, String)>> {
    run(query, events).rows
}

fn row(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(field, value)| ((*field).to_owned(), (*value).to_owned()))
        .collect()
}

fn malformed_at(query: &str) -> Option<(QueryLocation, String)> {
    match parse(query) {
        Err(InsightsError::Malformed { location, message }) => Some((location, message)),
        _ => None,
    }
}

#[test]
fn default_columns_are_timestamp_message_and_pointer_newest_first() {
    let events = [
        (T, "java.lang.Exception: boom"),
        (T + SECOND, "all fine"),
        (T + 2 * SECOND, "Exception again"),
    ];
    let output = run("filter @message like /Exception/", &events);
    assert_eq!(
        output.rows,
        vec![
            row(&[
                ("@timestamp", "2024-01-02 03:04:07.678"),
                ("@message", "Exception again"),
                ("@ptr", "ptr-2"),
            ]),
            row(&[
                ("@timestamp", "2024-01-02 03:04:05.678"),
                ("@message", "java.lang.Exception: boom"),
                ("@ptr", "ptr-0"),
            ]),
        ]
    );
    assert_eq!(output.records_matched, 2.0);
    assert_eq!(output.records_scanned, 3.0);
    assert_eq!(output.bytes_scanned, 48.0);
}

#[test]
fn sample_general_queries() {
    let events: Vec<(i64, String)> = (0..30)
        .map(|i| (T + i * SECOND, format!("event {i}")))
        .collect();
    let events: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();

    // "Find the 25 most recently added log events."
    let recent = rows(
        "fields @timestamp, @message | sort @timestamp desc | limit 25",
        &events,
    );
    assert_eq!(recent.len(), 25);
    assert_eq!(
        recent.first(),
        Some(&row(&[
            ("@timestamp", "2024-01-02 03:04:34.678"),
            ("@message", "event 29"),
            ("@ptr", "ptr-29"),
        ]))
    );
    assert_eq!(
        recent.last().and_then(|r| r.get(1)),
        Some(&("@message".to_owned(), "event 5".to_owned()))
    );

    // Comments: the commented-out filter line is ignored.
    let commented = rows(
        "fields @timestamp, @message\n    # | filter @message like /delay/\n    | limit 20",
        &events,
    );
    assert_eq!(commented.len(), 20);
}

#[test]
fn exceptions_per_hour_and_non_exceptions() {
    let events = [
        (T, "Exception one"),
        (T + 26 * MINUTE, "Exception two"),
        (T + HOUR + 6 * MINUTE, "Exception three"),
        (T + HOUR + 16 * MINUTE, "fine"),
        (T + 2 * HOUR, "Exception four"),
    ];
    assert_eq!(
        rows(
            "filter @message like /Exception/ \n    | stats count(*) as exceptionCount by bin(1h)\n    | sort exceptionCount desc",
            &events,
        ),
        vec![
            row(&[("bin(1h)", "2024-01-02 03:00:00.000"), ("exceptionCount", "2")]),
            row(&[("bin(1h)", "2024-01-02 04:00:00.000"), ("exceptionCount", "1")]),
            row(&[("bin(1h)", "2024-01-02 05:00:00.000"), ("exceptionCount", "1")]),
        ]
    );
    assert_eq!(
        rows(
            "fields @message | filter @message not like /Exception/",
            &events
        ),
        vec![row(&[("@message", "fine"), ("@ptr", "ptr-3")])]
    );
}

const VPC: [(i64, &str); 6] = [
    (
        T,
        r#"{"srcAddr":"10.0.0.1","dstAddr":"10.0.0.2","packets":10,"bytes":1000,"protocol":6,"logStatus":"OK"}"#,
    ),
    (
        T + HOUR,
        r#"{"srcAddr":"10.0.0.1","dstAddr":"10.0.0.2","packets":5,"bytes":500,"protocol":6,"logStatus":"OK"}"#,
    ),
    (
        T + HOUR + 10 * MINUTE,
        r#"{"srcAddr":"10.0.0.3","dstAddr":"10.0.0.2","packets":20,"bytes":2000,"protocol":6,"logStatus":"SKIPDATA"}"#,
    ),
    (
        T + 2 * HOUR,
        r#"{"srcAddr":"192.0.2.5","dstAddr":"10.0.0.9","packets":1,"bytes":100,"protocol":17,"logStatus":"OK"}"#,
    ),
    (
        T + 2 * HOUR + 5 * MINUTE,
        r#"{"srcAddr":"192.0.2.200","dstAddr":"10.0.0.9","packets":3,"bytes":300,"protocol":17,"logStatus":"SKIPDATA"}"#,
    ),
    (
        T + 3 * HOUR,
        r#"{"srcAddr":"192.0.2.7","dstAddr":"10.0.0.8","packets":2,"bytes":50,"protocol":6,"logStatus":"OK"}"#,
    ),
];

#[test]
fn sample_vpc_flow_log_queries() {
    assert_eq!(
        rows(
            "stats sum(packets) as packetsTransferred by srcAddr, dstAddr\n    | sort packetsTransferred  desc\n    | limit 15",
            &VPC,
        ),
        vec![
            row(&[("srcAddr", "10.0.0.3"), ("dstAddr", "10.0.0.2"), ("packetsTransferred", "20")]),
            row(&[("srcAddr", "10.0.0.1"), ("dstAddr", "10.0.0.2"), ("packetsTransferred", "15")]),
            row(&[("srcAddr", "192.0.2.200"), ("dstAddr", "10.0.0.9"), ("packetsTransferred", "3")]),
            row(&[("srcAddr", "192.0.2.7"), ("dstAddr", "10.0.0.8"), ("packetsTransferred", "2")]),
            row(&[("srcAddr", "192.0.2.5"), ("dstAddr", "10.0.0.9"), ("packetsTransferred", "1")]),
        ]
    );
    assert_eq!(
        rows(
            "filter isIpv4InSubnet(srcAddr, \"192.0.2.0/24\")\n    | stats sum(bytes) as bytesTransferred by dstAddr\n    | sort bytesTransferred desc\n    | limit 15",
            &VPC,
        ),
        vec![
            row(&[("dstAddr", "10.0.0.9"), ("bytesTransferred", "400")]),
            row(&[("dstAddr", "10.0.0.8"), ("bytesTransferred", "50")]),
        ]
    );
    assert_eq!(
        rows("filter protocol=17 | stats count(*) by srcAddr", &VPC),
        vec![
            row(&[("srcAddr", "192.0.2.5"), ("count(*)", "1")]),
            row(&[("srcAddr", "192.0.2.200"), ("count(*)", "1")]),
        ]
    );
    assert_eq!(
        rows(
            "filter logStatus=\"SKIPDATA\"\n    | stats count(*) by bin(1h) as t\n    | sort t",
            &VPC,
        ),
        vec![
            row(&[("t", "2024-01-02 04:00:00.000"), ("count(*)", "1")]),
            row(&[("t", "2024-01-02 05:00:00.000"), ("count(*)", "1")]),
        ]
    );
}

#[test]
fn sample_route53_queries() {
    let events = [
        (
            T,
            r#"{"queryType":"A","resolverIp":"10.1.1.1","responseCode":"NOERROR","queryName":"example.com"}"#,
        ),
        (
            T + 10 * MINUTE,
            r#"{"queryType":"AAAA","resolverIp":"10.1.1.1","responseCode":"SERVFAIL","queryName":"api.example.com"}"#,
        ),
        (
            T + HOUR,
            r#"{"queryType":"A","resolverIp":"10.1.1.2","responseCode":"SERVFAIL","queryName":"api.example.com"}"#,
        ),
        (
            T + HOUR + 5 * MINUTE,
            r#"{"queryType":"A","resolverIp":"10.1.1.1","responseCode":"NOERROR","queryName":"example.com"}"#,
        ),
    ];
    assert_eq!(
        rows("stats count(*) by queryType, bin(1h)", &events),
        vec![
            row(&[
                ("queryType", "A"),
                ("bin(1h)", "2024-01-02 03:00:00.000"),
                ("count(*)", "1")
            ]),
            row(&[
                ("queryType", "AAAA"),
                ("bin(1h)", "2024-01-02 03:00:00.000"),
                ("count(*)", "1")
            ]),
            row(&[
                ("queryType", "A"),
                ("bin(1h)", "2024-01-02 04:00:00.000"),
                ("count(*)", "2")
            ]),
        ]
    );
    assert_eq!(
        rows(
            "stats count(*) as numRequests by resolverIp\n    | sort numRequests desc\n    | limit 10",
            &events,
        ),
        vec![
            row(&[("resolverIp", "10.1.1.1"), ("numRequests", "3")]),
            row(&[("resolverIp", "10.1.1.2"), ("numRequests", "1")]),
        ]
    );
    assert_eq!(
        rows(
            "filter responseCode=\"SERVFAIL\" | stats count(*) by queryName",
            &events
        ),
        vec![row(&[("queryName", "api.example.com"), ("count(*)", "2")])]
    );
}

const CLOUDTRAIL: [(i64, &str); 5] = [
    (
        T,
        r#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","requestParameters":{"userName":"bob"},"responseElements":{"user":{"arn":"arn:aws:iam::123456789012:user/bob"}}}"#,
    ),
    (
        T + SECOND,
        r#"{"eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"us-east-2"}"#,
    ),
    (
        T + 2 * SECOND,
        r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","awsRegion":"us-east-2","errorCode":"TrailNotFoundException","errorMessage":"Unknown trail"}"#,
    ),
    (
        T + 3 * SECOND,
        r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","awsRegion":"us-east-2"}"#,
    ),
    (
        T + 4 * SECOND,
        r#"{"eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"us-east-2"}"#,
    ),
];

#[test]
fn sample_cloudtrail_queries() {
    assert_eq!(
        rows(
            "stats count(*) by eventSource, eventName, awsRegion",
            &CLOUDTRAIL
        ),
        vec![
            row(&[
                ("eventSource", "iam.amazonaws.com"),
                ("eventName", "CreateUser"),
                ("awsRegion", "us-east-1"),
                ("count(*)", "1")
            ]),
            row(&[
                ("eventSource", "ec2.amazonaws.com"),
                ("eventName", "StartInstances"),
                ("awsRegion", "us-east-2"),
                ("count(*)", "2")
            ]),
            row(&[
                ("eventSource", "cloudtrail.amazonaws.com"),
                ("eventName", "UpdateTrail"),
                ("awsRegion", "us-east-2"),
                ("count(*)", "2")
            ]),
        ]
    );
    assert_eq!(
        rows(
            "filter eventName=\"CreateUser\"\n    | fields awsRegion, requestParameters.userName, responseElements.user.arn",
            &CLOUDTRAIL,
        ),
        vec![row(&[
            ("awsRegion", "us-east-1"),
            ("requestParameters.userName", "bob"),
            ("responseElements.user.arn", "arn:aws:iam::123456789012:user/bob"),
            ("@ptr", "ptr-0"),
        ])]
    );
    assert_eq!(
        rows(
            "filter eventName=\"UpdateTrail\" and ispresent(errorCode)\n    | stats count(*) by errorCode, errorMessage",
            &CLOUDTRAIL,
        ),
        vec![row(&[
            ("errorCode", "TrailNotFoundException"),
            ("errorMessage", "Unknown trail"),
            ("count(*)", "1"),
        ])]
    );
    // _NEG: the documented query filters on "region", which CloudTrail events do
    // not have (they use awsRegion), so nothing matches.
    let output = run(
        "filter (eventName=\"StartInstances\" or eventName=\"StopInstances\") and region=\"us-east-2\"",
        &CLOUDTRAIL,
    );
    assert!(output.rows.is_empty());
    assert_eq!(output.records_matched, 0.0);
}

#[test]
fn parse_examples() {
    let latency = [
        (T, "user=alice, method:GET, latency := 100"),
        (T + SECOND, "user=alice, method:GET, latency := 300"),
        (T + 2 * SECOND, "user=bob, method:POST, latency := 50"),
    ];
    assert_eq!(
        rows(
            "parse @message \"user=*, method:*, latency := *\" as @user,\n    @method, @latency | stats avg(@latency) by @method,\n    @user",
            &latency,
        ),
        vec![
            row(&[("@method", "GET"), ("@user", "alice"), ("avg(@latency)", "200")]),
            row(&[("@method", "POST"), ("@user", "bob"), ("avg(@latency)", "50")]),
        ]
    );

    let error_line = [(
        T,
        "25 May 2019 10:24:39,474 [ERROR] {foo=2, bar=data} The error was: DataIntegrityException",
    )];
    let expected = vec![row(&[
        ("level", "ERROR"),
        ("config", "{foo=2, bar=data}"),
        ("exception", "DataIntegrityException"),
        ("@ptr", "ptr-0"),
    ])];
    assert_eq!(
        rows(
            "parse @message \"[*] * The error was: *\" as level, config, exception | display level, config, exception",
            &error_line,
        ),
        expected
    );
    assert_eq!(
        rows(
            r"parse @message /\[(?<level>\S+)\]\s+(?<config>\{.*\})\s+The error was: (?<exception>\S+)/ | display level, config, exception",
            &error_line,
        ),
        expected
    );

    let flow = [(T, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK")];
    assert_eq!(
        rows(
            "parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message",
            &flow,
        ),
        vec![row(&[
            ("NetworkInterface", "eni-1235b8ca123456789"),
            ("@message", flow[0].1),
            ("@ptr", "ptr-0"),
        ])]
    );

    let streams = [(T, "ignored")];
    let output = run_with(
        "parse @logStream \"*-*\" as kind, number | stats count(*) by kind, number",
        &streams,
        Query::start,
    );
    assert_eq!(
        output.rows,
        vec![row(&[
            ("kind", "stream"),
            ("number", "1"),
            ("count(*)", "1")
        ])]
    );

    let chained = [(T, "GET url=/api/v2/users/42 200")];
    assert_eq!(
        rows(
            "parse @message \"url=* \" as url | parse url \"/api/*/users/*\" as apiVersion, userId | display apiVersion, userId",
            &chained,
        ),
        vec![row(&[("apiVersion", "v2"), ("userId", "42"), ("@ptr", "ptr-0")])]
    );

    // _NEG: events the pattern does not match stay in the results without the fields.
    assert_eq!(
        rows(
            "parse @message \"user=* \" as who | fields who, @message",
            &[(T, "no user here")]
        ),
        vec![row(&[("@message", "no user here"), ("@ptr", "ptr-0")])]
    );
}

#[test]
fn display_and_parse_examples_with_in_and_boolean_columns() {
    let events = [
        (T, "2024-01-02T03:04:05Z [ERROR] disk full"),
        (T + SECOND, "2024-01-02T03:04:06Z [INFO] started"),
        (T + 2 * SECOND, "2024-01-02T03:04:07Z [DEBUG] noise"),
    ];
    assert_eq!(
        rows(
            "FIELDS @message\n    | PARSE @message \"* [*] *\" as loggingTime, loggingType, loggingMessage\n    | FILTER loggingType IN [\"ERROR\", \"INFO\"]\n    | DISPLAY loggingMessage, loggingType = \"ERROR\" as isError",
            &events,
        ),
        vec![
            row(&[("loggingMessage", "started"), ("isError", "0"), ("@ptr", "ptr-1")]),
            row(&[("loggingMessage", "disk full"), ("isError", "1"), ("@ptr", "ptr-0")]),
        ]
    );
    assert_eq!(
        rows(
            "fields @message\n    | parse @message \"[*] *\" as loggingType, loggingMessage\n    | filter loggingType = \"ERROR\"\n    | display loggingMessage",
            &events,
        ),
        vec![row(&[("loggingMessage", "disk full"), ("@ptr", "ptr-0")])]
    );
}

#[test]
fn dedup_keeps_the_first_row_per_value_and_rows_without_the_field() {
    let events = [
        (T, r#"{"server":"a","severity":"INFO","message":"m1"}"#),
        (
            T + SECOND,
            r#"{"server":"b","severity":"INFO","message":"m2"}"#,
        ),
        (
            T + 2 * SECOND,
            r#"{"server":"a","severity":"ERROR","message":"m3"}"#,
        ),
        (T + 3 * SECOND, r#"{"severity":"WARN","message":"m4"}"#),
        (T + 4 * SECOND, r#"{"severity":"WARN","message":"m5"}"#),
    ];
    assert_eq!(
        rows(
            "fields @timestamp, server, severity, message \n| sort @timestamp desc \n| dedup server",
            &events,
        ),
        vec![
            row(&[("@timestamp", "2024-01-02 03:04:09.678"), ("severity", "WARN"), ("message", "m5"), ("@ptr", "ptr-4")]),
            row(&[("@timestamp", "2024-01-02 03:04:08.678"), ("severity", "WARN"), ("message", "m4"), ("@ptr", "ptr-3")]),
            row(&[("@timestamp", "2024-01-02 03:04:07.678"), ("server", "a"), ("severity", "ERROR"), ("message", "m3"), ("@ptr", "ptr-2")]),
            row(&[("@timestamp", "2024-01-02 03:04:06.678"), ("server", "b"), ("severity", "INFO"), ("message", "m2"), ("@ptr", "ptr-1")]),
        ]
    );
    // Without a sort, dedup uses the default newest-first order.
    let unsorted = rows("fields server | dedup server | limit 1", &events);
    assert_eq!(unsorted, vec![row(&[("@ptr", "ptr-4")])]);
}

#[test]
fn two_stats_commands_compute_peak_ingestion() {
    let half_megabyte = "x".repeat(512 * 1024);
    let base = 1_704_164_400_000; // 2024-01-02 03:00:00.000
    let events: Vec<(i64, &str)> = vec![
        (base, half_megabyte.as_str()),
        (base + MINUTE, half_megabyte.as_str()),
        (base + 5 * MINUTE, half_megabyte.as_str()),
        (base + 6 * MINUTE, half_megabyte.as_str()),
        (base + 7 * MINUTE, half_megabyte.as_str()),
        (base + 8 * MINUTE, half_megabyte.as_str()),
    ];
    let output = run(
        "FIELDS strlen(@message) AS message_length\n| STATS sum(message_length)/1024/1024 as logs_mb BY bin(5m)\n| STATS max(logs_mb) AS peak_ingest_mb, \n        min(logs_mb) AS min_ingest_mb, \n        avg(logs_mb) AS avg_ingest_mb",
        &events,
    );
    assert_eq!(
        output.rows,
        vec![row(&[
            ("peak_ingest_mb", "2"),
            ("min_ingest_mb", "1"),
            ("avg_ingest_mb", "1.5"),
        ])]
    );
    assert_eq!(output.records_matched, 6.0);
}

#[test]
fn aliases_and_field_expressions() {
    let events = [
        (
            T,
            r#"{"accountId":"111","duration":5,"myField":-5,"myField2":"x","Operation":"GetItem","StatusCode":200,"f1":1}"#,
        ),
        (T + SECOND, r#"{"accountId":"222","duration":10,"f1":2}"#),
        (T + 2 * SECOND, r#"{"accountId":"333","duration":5,"f1":4}"#),
    ];
    assert_eq!(
        rows(
            "fields @timestamp, @message, accountId as ID | sort @timestamp desc | limit 2 | display @timestamp, ID",
            &events,
        ),
        vec![
            row(&[("@timestamp", "2024-01-02 03:04:07.678"), ("ID", "333"), ("@ptr", "ptr-2")]),
            row(&[("@timestamp", "2024-01-02 03:04:06.678"), ("ID", "222"), ("@ptr", "ptr-1")]),
        ]
    );
    assert_eq!(
        rows(
            "stats count(*) by duration as time | sort time desc",
            &events
        ),
        vec![
            row(&[("time", "10"), ("count(*)", "1")]),
            row(&[("time", "5"), ("count(*)", "2")]),
        ]
    );
    assert_eq!(
        rows(
            "fields abs(myField) as AbsoluteValuemyField, myField2 | limit 1 | sort @timestamp asc",
            &events,
        ),
        vec![row(&[("@ptr", "ptr-2")])],
        "limit before sort keeps the newest event, which lacks both fields"
    );
    assert_eq!(
        rows(
            "filter ispresent(myField) | fields abs(myField) as AbsoluteValuemyField, myField2",
            &events,
        ),
        vec![row(&[
            ("AbsoluteValuemyField", "5"),
            ("myField2", "x"),
            ("@ptr", "ptr-0")
        ])]
    );
    assert_eq!(
        rows("stats avg(f1) as myAvgF1 | sort myAvgF1 desc", &events),
        vec![row(&[("myAvgF1", "2.3333333333333335")])]
    );
    assert_eq!(
        rows(
            "filter ispresent(Operation) | fields concat(Operation, '-', StatusCode) as opStatus",
            &events,
        ),
        vec![row(&[("opStatus", "GetItem-200"), ("@ptr", "ptr-0")])]
    );
    assert_eq!(
        rows(
            "fields @timestamp, @message | filter (duration>7 or accountId=111) | sort @timestamp desc | limit 20 | fields accountId",
            &events,
        ),
        vec![
            row(&[("@timestamp", "2024-01-02 03:04:06.678"), ("@message", events[1].1), ("accountId", "222"), ("@ptr", "ptr-1")]),
            row(&[("@timestamp", "2024-01-02 03:04:05.678"), ("@message", events[0].1), ("accountId", "111"), ("@ptr", "ptr-0")]),
        ]
    );
}

#[test]
fn every_aggregate_function() {
    let events = [
        (T, r#"{"x":4,"user":"a"}"#),
        (T + SECOND, r#"{"x":8,"user":"b"}"#),
        (T + 2 * SECOND, r#"{"x":15,"user":"a"}"#),
        (T + 3 * SECOND, r#"{"x":16}"#),
        (T + 4 * SECOND, r#"{"x":23}"#),
        (T + 5 * SECOND, r#"{"x":42}"#),
        (T + 6 * SECOND, r#"{"y":1}"#),
    ];
    assert_eq!(
        rows(
            "stats count(*) as n, count(x) as present, count_distinct(user) as users, sum(x) as total, avg(x) as mean, min(x) as low, max(x) as high, pct(x, 50) as median, stddev(x) as sd, earliest(x) as first, latest(x) as last, sortsFirst(user) as uf, sortsLast(user) as ul, max(@timestamp) as newest",
            &events,
        ),
        vec![row(&[
            ("n", "7"),
            ("present", "6"),
            ("users", "2"),
            ("total", "108"),
            ("mean", "18"),
            ("low", "4"),
            ("high", "42"),
            ("median", "15"),
            // sqrt(910 / 5): sample standard deviation of the six values.
            ("sd", "13.490737563232042"),
            ("first", "4"),
            ("last", "42"),
            ("uf", "a"),
            ("ul", "b"),
            ("newest", "2024-01-02 03:04:11.678"),
        ])]
    );
}

#[test]
fn stats_edge_cases() {
    // Without `by`, an empty input still gives one row; with `by`, none.
    assert_eq!(
        rows("stats count(*), sum(x)", &[]),
        vec![row(&[("count(*)", "0")])]
    );
    assert!(rows("stats count(*) by x", &[]).is_empty());
    let events = [
        (T, r#"{"k":"a"}"#),
        (T + SECOND, r#"{"k":"a"}"#),
        (T + 2 * SECOND, r#"{"k":"b"}"#),
        (T + 3 * SECOND, "not json"),
    ];
    assert_eq!(
        rows(
            "stats count(*) as c by k | filter c > 1 | fields c * 10 as tenfold",
            &events
        ),
        vec![row(&[("k", "a"), ("c", "2"), ("tenfold", "20")])]
    );
    assert_eq!(
        rows("stats count(*) as c by k | sort k", &events),
        vec![
            row(&[("k", "a"), ("c", "2")]),
            row(&[("k", "b"), ("c", "1")]),
            // Events without the field form their own group, shown without it.
            row(&[("c", "1")]),
        ]
    );
    assert_eq!(
        rows(
            "sort @timestamp asc | limit 3 | stats count(*) as c by k",
            &events
        ),
        vec![
            row(&[("k", "a"), ("c", "2")]),
            row(&[("k", "b"), ("c", "1")])
        ]
    );
}

#[test]
fn system_fields_and_column_rules() {
    let events = [(T, r#"{"a":"1","b":"2","@requestId":"r-1"}"#)];
    assert_eq!(
        rows(
            "fields @log, @logStream, @ingestionTime, @@requestId",
            &events
        ),
        vec![row(&[
            ("@log", GROUP),
            ("@logStream", "stream-1"),
            ("@ingestionTime", "2024-01-02 03:04:07.178"),
            ("@@requestId", "r-1"),
            ("@ptr", "ptr-0"),
        ])]
    );
    // Several `fields` commands show all their fields; a later `display` wins.
    assert_eq!(
        rows("fields a | fields b", &events),
        vec![row(&[("a", "1"), ("b", "2"), ("@ptr", "ptr-0")])]
    );
    assert_eq!(
        rows("fields a | display a | fields b | display b", &events),
        vec![row(&[("b", "2"), ("@ptr", "ptr-0")])]
    );
    assert_eq!(
        rows("fields toMillis(@timestamp) as ms, datefloor(@timestamp, 1d) as day, fromMillis(0) as epoch", &events),
        vec![row(&[
            ("ms", "1704164645678"),
            ("day", "2024-01-02 00:00:00.000"),
            ("epoch", "1970-01-01 00:00:00.000"),
            ("@ptr", "ptr-0"),
        ])]
    );
    // An empty pointer leaves @ptr out.
    let parsed = parse("fields a");
    let Ok(parsed) = parsed else {
        panic!("should parse");
    };
    let mut execution = parsed.start();
    execution.push(&LogRecord {
        timestamp_ms: T,
        ingestion_time_ms: T,
        message: events[0].1,
        log_stream: "s",
        log_group: GROUP,
        ptr: "",
    });
    assert_eq!(execution.finish().rows, vec![row(&[("a", "1")])]);
}

#[test]
fn early_stop_applies_only_when_order_is_not_needed() {
    let cases: &[(&str, Option<usize>)] = &[
        ("fields @message | limit 2", Some(2)),
        ("filter @message like /x/", Some(DEFAULT_RESULT_ROWS)),
        ("fields @message | limit any 3", Some(3)),
        ("fields @message | limit 50000", Some(50_000)),
        ("limit 5 | filter @message like /x/", Some(5)),
        ("stats count(*)", None),
        ("sort @timestamp desc | limit 2", None),
        ("fields a | dedup a", None),
    ];
    for (query, expected) in cases {
        let hint = parse(query).ok().and_then(|q| q.source_limit_hint());
        assert_eq!(hint, *expected, "{query}");
    }

    let Ok(query) = parse("fields @message | limit 2") else {
        panic!("should parse");
    };
    let mut execution = query.start();
    for i in 0..5 {
        let message = format!("m{i}");
        execution.push(&LogRecord {
            timestamp_ms: T - i * SECOND,
            ingestion_time_ms: T,
            message: &message,
            log_stream: "s",
            log_group: GROUP,
            ptr: "",
        });
        assert_eq!(execution.is_done(), i >= 1, "after {} events", i + 1);
    }
    let output = execution.finish();
    assert_eq!(
        output.rows,
        vec![row(&[("@message", "m0")]), row(&[("@message", "m1")])]
    );
    assert_eq!(output.records_scanned, 5.0);
    assert_eq!(output.records_matched, 2.0);

    // The StartQuery limit caps rows and stops early too.
    let events = [(T, "a"), (T + 1, "b"), (T + 2, "c")];
    let capped = run_with("fields @message", &events, |q| q.start_with_row_cap(1));
    assert_eq!(
        capped.rows,
        vec![row(&[("@message", "a"), ("@ptr", "ptr-0")])]
    );
}

#[test]
fn sorted_limited_queries_keep_a_bounded_buffer() {
    let Ok(query) = parse("sort n desc | limit 3 | fields n") else {
        panic!("should parse");
    };
    let mut execution = query.start();
    let mut largest_buffer = 0;
    for i in 0..10_000i64 {
        let message = format!("{{\"n\":{i}}}");
        execution.push(&LogRecord {
            timestamp_ms: T + i,
            ingestion_time_ms: T,
            message: &message,
            log_stream: "s",
            log_group: GROUP,
            ptr: "",
        });
        if let Sink::Rows(rows) = &execution.sink {
            largest_buffer = largest_buffer.max(rows.len());
        }
    }
    assert!(largest_buffer <= 64, "buffer grew to {largest_buffer}");
    assert_eq!(
        execution.finish().rows,
        vec![
            row(&[("n", "9999")]),
            row(&[("n", "9998")]),
            row(&[("n", "9997")])
        ]
    );
}

#[test]
fn sort_uses_natural_order_and_puts_missing_values_last() {
    let events = [
        (T, r#"{"v":"item10"}"#),
        (T + 1, r#"{"v":"item9"}"#),
        (T + 2, r#"{"v":"7"}"#),
        (T + 3, r#"{"other":1}"#),
        (T + 4, r#"{"v":"Apple"}"#),
    ];
    let ascending: Vec<Vec<(String, String)>> = rows("fields v | sort v asc", &events)
        .into_iter()
        .map(|r| r.into_iter().filter(|(f, _)| f == "v").collect())
        .collect();
    assert_eq!(
        ascending,
        vec![
            row(&[("v", "Apple")]),
            row(&[("v", "item9")]),
            row(&[("v", "item10")]),
            row(&[("v", "7")]),
            row(&[]),
        ]
    );
    let descending: Vec<Vec<(String, String)>> = rows("fields v | sort v desc", &events)
        .into_iter()
        .map(|r| r.into_iter().filter(|(f, _)| f == "v").collect())
        .collect();
    assert_eq!(
        descending,
        vec![
            row(&[("v", "7")]),
            row(&[("v", "item10")]),
            row(&[("v", "item9")]),
            row(&[("v", "Apple")]),
            row(&[]),
        ]
    );
}

#[test]
fn errors_carry_line_column_and_character_offsets() {
    let cases: &[(&str, QueryLocation, &str)] = &[
        (
            "fields a\n| bogus",
            QueryLocation {
                line: 2,
                column: 3,
                start: 11,
                end: 16,
            },
            "unknown command 'bogus'",
        ),
        (
            "fields é, !",
            QueryLocation {
                line: 1,
                column: 11,
                start: 10,
                end: 11,
            },
            "unexpected '!'",
        ),
        (
            "stats count(*) by",
            QueryLocation {
                line: 1,
                column: 18,
                start: 17,
                end: 17,
            },
            "unexpected end of query",
        ),
    ];
    for (query, location, message) in cases {
        let error = malformed_at(query);
        assert_eq!(error.as_ref().map(|(l, _)| l), Some(location), "{query}");
        assert!(error.is_some_and(|(_, m)| m.contains(message)), "{query}");
    }
    let error = parse("fields a | bogus").err();
    assert_eq!(
        error.map(|e| e.to_string()),
        Some("unknown command 'bogus' at line 1, column 12".to_owned())
    );
    assert!(matches!(
        parse("fields @message | diff"),
        Err(InsightsError::Unsupported { .. })
    ));
}

#[test]
fn hostile_inputs_do_not_panic() {
    let queries = [
        "filter x = 99999999999999999999999999999999999999999999",
        "fields 1e308 * 1e308 as big, -1e308 - 1e308 as small, 10 % 0 as m, log(-1) as l",
        "fields substr(@message, -5, 99999999999999999999) as s, pow(10, 400) as p",
        "fields fromMillis(1e300) as far, datefloor(fromMillis(-9e18), 1y) as early",
        "stats count(*) by bin(99999999999ms)",
        "fields dateceil(@timestamp, 1000000y) as c",
    ];
    let events = [(T, r#"{"x":"1e999"}"#), (i64::MAX, "x"), (i64::MIN, "y")];
    for query in queries {
        let output = run(query, &events);
        assert!(output.rows.len() <= 3, "{query}");
    }
    assert_eq!(
        rows(
            "fields 1e308 * 1e308 as big, 10 % 0 as m | limit 1",
            &[(T, "x")]
        ),
        vec![row(&[("@ptr", "ptr-0")])]
    );
}

#[test]
fn row_caps_follow_the_documented_defaults() {
    let messages: Vec<String> = (0..12_000).map(|i| format!("m{i}")).collect();
    let events: Vec<(i64, &str)> = messages
        .iter()
        .zip(0i64..)
        .map(|(m, i)| (T + i, m.as_str()))
        .collect();
    let cases: &[(&str, Option<usize>, usize)] = &[
        // Without limit, at most 10,000 rows; a limit may ask for up to 100,000.
        ("fields @message", None, 10_000),
        ("fields @message | limit 11000", None, 11_000),
        ("fields @message | limit 11000", Some(5), 5),
        ("stats count(*) by @message", None, 10_000),
    ];
    for (query, start_query_limit, expected) in cases {
        let output = run_with(query, &events, |q| match start_query_limit {
            Some(cap) => q.start_with_row_cap(*cap),
            None => q.start(),
        });
        assert_eq!(output.rows.len(), *expected, "{query}");
    }
}

#[test]
fn vpc_flow_log_records_in_the_default_format() {
    let events = [
        (T, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"),
        (T + SECOND, "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK"),
        (T + 2 * SECOND, "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK"),
        (T + 3 * SECOND, "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"),
    ];
    assert_eq!(
        rows(
            "filter action=\"ACCEPT\" | stats sum(packets) as packetsTransferred, sum(bytes) as bytesTransferred by interfaceId",
            &events,
        ),
        vec![row(&[
            ("interfaceId", "eni-1235b8ca123456789"),
            ("packetsTransferred", "24"),
            ("bytesTransferred", "4585"),
        ])]
    );
    assert_eq!(
        rows("filter protocol=6 | stats count(*) by srcAddr", &events),
        vec![
            row(&[("srcAddr", "172.31.16.139"), ("count(*)", "1")]),
            row(&[("srcAddr", "172.31.9.69"), ("count(*)", "1")]),
        ]
    );
}

#[test]
fn queries_and_executions_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Query>();
    assert_send::<Execution>();
    assert_send_sync::<QueryOutput>();
    assert_send_sync::<InsightsError>();
}
