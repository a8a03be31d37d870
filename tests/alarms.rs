//! CloudWatch alarms through the AWS SDK for Rust, with a manual clock and the evaluate-now
//! endpoint so that every evaluation happens at a known time, without sleeping.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, ComparisonOperator, Dimension, HistoryItemType, Metric, MetricDataQuery,
    MetricDatum, MetricStat, ScanBy, StateValue, Statistic, Tag,
};
use aws_sdk_cloudwatch::Client;
use common::TestServer;
use serde_json::Value;
use watchtrail::clock::ManualClock;
use watchtrail::config::Config;

/// 2025-12-01T10:00:00Z.
const T0: i64 = 1_764_583_200_000;
const MINUTE: i64 = 60_000;

struct Env {
    server: TestServer,
    clock: Arc<ManualClock>,
    cw: Client,
}

async fn start() -> Env {
    let clock = ManualClock::new(T0 + 5_000);
    let mut config = Config::ephemeral();
    // Passes run only when a test asks for one.
    config.alarm_evaluation_ms = 3_600_000;
    let server = TestServer::start_with(config, clock.clone()).await;
    let cw = server.cloudwatch().await;
    Env { server, clock, cw }
}

impl Env {
    /// Runs one evaluation pass; answers how many alarms changed state.
    async fn evaluate(&self) -> u64 {
        let resp = self
            .server
            .post("/_watchtrail/alarms/evaluate", &[], "")
            .await;
        assert_eq!(resp.status().as_u16(), 200);
        let body: Value = resp.json().await.unwrap();
        body["changed"].as_u64().unwrap()
    }

    async fn put(&self, metric: &str, at_ms: i64, value: f64) {
        self.cw
            .put_metric_data()
            .namespace("App")
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("Host").value("a").build())
                    .timestamp(DateTime::from_millis(at_ms))
                    .value(value)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// A one-minute Maximum alarm on App/`metric` (Host=a) above 1.0.
    fn alarm(
        &self,
        name: &str,
        metric: &str,
    ) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder
    {
        self.cw
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("App")
            .metric_name(metric)
            .dimensions(Dimension::builder().name("Host").value("a").build())
            .statistic(Statistic::Maximum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
    }

    async fn metric_alarm(&self, name: &str) -> aws_sdk_cloudwatch::types::MetricAlarm {
        let out = self
            .cw
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
            .unwrap();
        out.metric_alarms().first().cloned().expect("alarm exists")
    }

    async fn state(&self, name: &str) -> StateValue {
        self.metric_alarm(name)
            .await
            .state_value()
            .cloned()
            .unwrap()
    }

    async fn deliveries(&self) -> Vec<Value> {
        let resp = reqwest::get(format!(
            "{}/_watchtrail/deliveries?origin=cloudwatch",
            self.server.endpoint()
        ))
        .await
        .unwrap();
        let body: Value = resp.json().await.unwrap();
        body["deliveries"].as_array().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn an_alarm_goes_to_alarm_and_back_to_ok_with_its_history() {
    let env = start().await;
    env.alarm("cpu-high", "Latency").send().await.unwrap();
    let created = env.metric_alarm("cpu-high").await;
    assert_eq!(created.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(
        created.state_reason(),
        Some("Unchecked: Initial alarm creation")
    );
    assert_eq!(
        created.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high")
    );
    assert_eq!(created.actions_enabled(), Some(true));
    // No data and TreatMissingData missing: still INSUFFICIENT_DATA, nothing changes.
    assert_eq!(env.evaluate().await, 0);

    env.put("Latency", T0 + 5_000, 5.0).await;
    assert_eq!(env.evaluate().await, 1);
    let alarm = env.metric_alarm("cpu-high").await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Alarm));
    assert_eq!(
        alarm.state_reason(),
        Some("Threshold Crossed: 1 datapoint [5.0 (01/12/25 10:00:00)] was greater than the threshold (1.0).")
    );
    let data: Value = serde_json::from_str(alarm.state_reason_data().unwrap()).unwrap();
    assert_eq!(data["version"], "1.0");
    assert_eq!(data["queryDate"], "2025-12-01T10:00:05.000+0000");
    assert_eq!(data["startDate"], "2025-12-01T10:00:00.000+0000");
    assert_eq!(data["statistic"], "Maximum");
    assert_eq!(data["period"], 60);
    assert_eq!(data["threshold"], 1.0);
    assert_eq!(data["recentDatapoints"], serde_json::json!([5.0]));
    assert_eq!(
        data["evaluatedDatapoints"],
        serde_json::json!([{"timestamp": "2025-12-01T10:00:00.000+0000", "sampleCount": 1.0, "value": 5.0}])
    );
    assert_eq!(
        alarm
            .state_transitioned_timestamp()
            .map(|t| t.to_millis().unwrap()),
        Some(T0 + 5_000)
    );
    // A second pass over the same data changes nothing.
    assert_eq!(env.evaluate().await, 0);

    env.clock.set_ms(T0 + MINUTE + 5_000);
    env.put("Latency", T0 + MINUTE + 5_000, 0.5).await;
    assert_eq!(env.evaluate().await, 1);
    let alarm = env.metric_alarm("cpu-high").await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Ok));
    assert_eq!(
        alarm.state_reason(),
        Some("Threshold Crossed: 1 datapoint [0.5 (01/12/25 10:01:00)] was not greater than the threshold (1.0).")
    );

    let history = env
        .cw
        .describe_alarm_history()
        .alarm_name("cpu-high")
        .send()
        .await
        .unwrap();
    let summaries: Vec<&str> = history
        .alarm_history_items()
        .iter()
        .map(|i| i.history_summary().unwrap())
        .collect();
    assert_eq!(
        summaries,
        vec![
            "Alarm updated from ALARM to OK",
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm \"cpu-high\" created",
        ]
    );
    let item = &history.alarm_history_items()[1];
    assert_eq!(
        item.history_item_type(),
        Some(&HistoryItemType::StateUpdate)
    );
    assert_eq!(item.alarm_type(), Some(&AlarmType::MetricAlarm));
    let data: Value = serde_json::from_str(item.history_data().unwrap()).unwrap();
    assert_eq!(data["oldState"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(
        data["oldState"]["stateReason"],
        "Unchecked: Initial alarm creation"
    );
    assert_eq!(data["newState"]["stateValue"], "ALARM");
    assert_eq!(data["newState"]["stateReasonData"]["statistic"], "Maximum");

    // Updating keeps the state and records the update.
    env.alarm("cpu-high", "Latency")
        .alarm_description("now described")
        .send()
        .await
        .unwrap();
    let updated = env.metric_alarm("cpu-high").await;
    assert_eq!(updated.state_value(), Some(&StateValue::Ok));
    assert_eq!(updated.alarm_description(), Some("now described"));
    let configs = env
        .cw
        .describe_alarm_history()
        .alarm_name("cpu-high")
        .history_item_type(HistoryItemType::ConfigurationUpdate)
        .send()
        .await
        .unwrap();
    let summaries: Vec<&str> = configs
        .alarm_history_items()
        .iter()
        .map(|i| i.history_summary().unwrap())
        .collect();
    assert_eq!(
        summaries,
        vec!["Alarm \"cpu-high\" updated", "Alarm \"cpu-high\" created"]
    );
    env.server.stop().await;
}

#[tokio::test]
async fn each_missing_data_treatment_behaves_as_documented() {
    let env = start().await;
    for treat in ["missing", "notBreaching", "breaching", "ignore"] {
        env.alarm(&format!("gap-{treat}"), "Gappy")
            .treat_missing_data(treat)
            .send()
            .await
            .unwrap();
    }
    env.put("Gappy", T0 + 5_000, 5.0).await;
    assert_eq!(env.evaluate().await, 4);
    for treat in ["missing", "notBreaching", "breaching", "ignore"] {
        assert_eq!(env.state(&format!("gap-{treat}")).await, StateValue::Alarm);
    }
    // Ten minutes without data: the whole evaluation range is missing.
    env.clock.set_ms(T0 + 10 * MINUTE + 5_000);
    assert_eq!(env.evaluate().await, 2);
    let missing = env.metric_alarm("gap-missing").await;
    assert_eq!(missing.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(
        missing.state_reason(),
        Some("Insufficient Data: 3 datapoints were unknown.")
    );
    let not_breaching = env.metric_alarm("gap-notBreaching").await;
    assert_eq!(not_breaching.state_value(), Some(&StateValue::Ok));
    assert_eq!(
        not_breaching.state_reason(),
        Some("Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].")
    );
    assert_eq!(env.state("gap-breaching").await, StateValue::Alarm);
    assert_eq!(env.state("gap-ignore").await, StateValue::Alarm);

    // From the initial state with no data at all: breaching alarms, ignore keeps waiting.
    env.alarm("fresh-breaching", "Never")
        .treat_missing_data("breaching")
        .send()
        .await
        .unwrap();
    env.alarm("fresh-ignore", "Never")
        .treat_missing_data("ignore")
        .send()
        .await
        .unwrap();
    assert_eq!(env.evaluate().await, 1);
    let fresh = env.metric_alarm("fresh-breaching").await;
    assert_eq!(fresh.state_value(), Some(&StateValue::Alarm));
    assert_eq!(
        fresh.state_reason(),
        Some("Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].")
    );
    assert_eq!(
        env.state("fresh-ignore").await,
        StateValue::InsufficientData
    );
    env.server.stop().await;
}

#[tokio::test]
async fn m_out_of_n_alarms_count_breaching_datapoints() {
    let env = start().await;
    env.clock.set_ms(T0 + 2 * MINUTE + 30_000);
    for (minute, v) in [(0, 5.0), (1, 0.0), (2, 5.0)] {
        env.put("Errors", T0 + minute * MINUTE + 1_000, v).await;
        env.put(
            "Quiet",
            T0 + minute * MINUTE + 1_000,
            if minute == 2 { 5.0 } else { 0.0 },
        )
        .await;
    }
    env.alarm("two-of-three", "Errors")
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .send()
        .await
        .unwrap();
    env.alarm("quiet-two-of-three", "Quiet")
        .evaluation_periods(3)
        .datapoints_to_alarm(2)
        .send()
        .await
        .unwrap();
    assert_eq!(env.evaluate().await, 2);
    let alarm = env.metric_alarm("two-of-three").await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Alarm));
    assert_eq!(
        alarm.state_reason(),
        Some("Threshold Crossed: 2 out of the last 3 datapoints [5.0 (01/12/25 10:02:00), 5.0 (01/12/25 10:00:00)] were greater than the threshold (1.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition).")
    );
    let quiet = env.metric_alarm("quiet-two-of-three").await;
    assert_eq!(quiet.state_value(), Some(&StateValue::Ok));
    assert_eq!(
        quiet.state_reason(),
        Some("Threshold Crossed: 2 out of the last 3 datapoints [0.0 (01/12/25 10:01:00), 0.0 (01/12/25 10:00:00)] were not greater than the threshold (1.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> OK transition).")
    );
    env.server.stop().await;
}

#[tokio::test]
async fn metric_math_and_percentile_alarms_evaluate() {
    let env = start().await;
    env.put("Requests", T0 + 1_000, 3.0).await;
    let m1 = MetricDataQuery::builder()
        .id("m1")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("App")
                        .metric_name("Requests")
                        .dimensions(Dimension::builder().name("Host").value("a").build())
                        .build(),
                )
                .period(60)
                .stat("Sum")
                .build(),
        )
        .return_data(false)
        .build();
    let e1 = MetricDataQuery::builder()
        .id("e1")
        .expression("m1 * 2")
        .label("doubled")
        .return_data(true)
        .build();
    env.cw
        .put_metric_alarm()
        .alarm_name("math")
        .metrics(m1)
        .metrics(e1)
        .evaluation_periods(1)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
    // p90 of 1..=10 is 9 (over 8.5), of a single sample too few for `ignore`.
    for v in 1..=10 {
        env.put("Latency", T0 + 1_000, f64::from(v)).await;
    }
    for (name, low) in [("p90-evaluate", "evaluate"), ("p90-ignore", "ignore")] {
        env.cw
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("App")
            .metric_name("Latency")
            .dimensions(Dimension::builder().name("Host").value("a").build())
            .extended_statistic("p90")
            .period(60)
            .evaluation_periods(1)
            .threshold(8.5)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .evaluate_low_sample_count_percentile(low)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(env.evaluate().await, 2);
    let math = env.metric_alarm("math").await;
    assert_eq!(math.state_value(), Some(&StateValue::Alarm));
    assert!(math
        .state_reason()
        .unwrap()
        .starts_with("Threshold Crossed: 1 datapoint [6.0 (01/12/25 10:00:00)] was greater than or equal to the threshold (5.0)"));
    assert_eq!(math.metrics().len(), 2);
    assert_eq!(env.state("p90-evaluate").await, StateValue::Alarm);
    assert_eq!(env.state("p90-ignore").await, StateValue::InsufficientData);
    env.server.stop().await;
}

#[tokio::test]
async fn composite_alarms_follow_their_children() {
    let env = start().await;
    env.alarm("child-a", "A").send().await.unwrap();
    env.alarm("child-b", "B").send().await.unwrap();
    let missing = env
        .cw
        .put_composite_alarm()
        .alarm_name("parent")
        .alarm_rule("ALARM(child-a) AND ALARM(nope)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ValidationError"));
    assert_eq!(
        missing.message(),
        Some("Could not save the composite alarm as alarms [nope] in the alarm rule do not exist")
    );
    env.cw
        .put_composite_alarm()
        .alarm_name("parent")
        .alarm_rule(r#"ALARM("child-a") AND ALARM(child-b)"#)
        .alarm_actions("arn:aws:sns:us-east-1:000000000000:pager")
        .send()
        .await
        .unwrap();
    let composite = |out: aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput| {
        out.composite_alarms().first().cloned().unwrap()
    };
    let parent = composite(
        env.cw
            .describe_alarms()
            .alarm_types(AlarmType::CompositeAlarm)
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(parent.state_value(), Some(&StateValue::Ok));
    // Composite alarms are only listed when asked for.
    let default = env.cw.describe_alarms().send().await.unwrap();
    assert!(default.composite_alarms().is_empty());
    assert_eq!(default.metric_alarms().len(), 2);

    for child in ["child-a", "child-b"] {
        env.cw
            .set_alarm_state()
            .alarm_name(child)
            .state_value(StateValue::Alarm)
            .state_reason("testing")
            .send()
            .await
            .unwrap();
    }
    let parent = composite(
        env.cw
            .describe_alarms()
            .alarm_names("parent")
            .alarm_types(AlarmType::CompositeAlarm)
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(parent.state_value(), Some(&StateValue::Alarm));
    assert!(parent.state_reason().unwrap().starts_with(
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:child-b transitioned to ALARM at Monday 01 December, 2025 10:00:05 UTC"
    ));
    let deliveries = env.deliveries().await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0]["subject"],
        "ALARM: \"parent\" in US East (N. Virginia)"
    );

    let children = env
        .cw
        .describe_alarms()
        .children_of_alarm_name("parent")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = children
        .metric_alarms()
        .iter()
        .map(|a| a.alarm_name().unwrap())
        .collect();
    assert_eq!(names, vec!["child-a", "child-b"]);
    let parents = env
        .cw
        .describe_alarms()
        .parents_of_alarm_name("child-a")
        .send()
        .await
        .unwrap();
    assert_eq!(parents.composite_alarms().len(), 1);

    // The evaluator moves the children back (no data, TreatMissingData missing) and the
    // parent follows.
    env.clock.advance_ms(MINUTE);
    assert_eq!(env.evaluate().await, 3);
    assert_eq!(env.state("child-a").await, StateValue::InsufficientData);

    // A rule that would make a cycle is refused.
    env.cw
        .put_composite_alarm()
        .alarm_name("grand")
        .alarm_rule("OK(parent)")
        .send()
        .await
        .unwrap();
    let cycle = env
        .cw
        .put_composite_alarm()
        .alarm_name("parent")
        .alarm_rule("ALARM(grand)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(cycle.code(), Some("ValidationError"));
    env.server.stop().await;
}

/// The campaign's crash: an AlarmRule of ~3,000 nested parentheses (6 KB, under AWS's 10,240
/// characters) overflowed a worker's stack and aborted the server. It must be refused with
/// ValidationError, the server must keep serving, and the deepest rule that parses must go
/// through evaluation, describe and delete.
#[tokio::test]
async fn deeply_nested_alarm_rules_are_refused_and_the_deepest_accepted_one_works() {
    let env = start().await;
    env.alarm("child", "A").send().await.unwrap();
    let hostile = format!("{}ALARM(child){}", "(".repeat(3000), ")".repeat(3000));
    assert_eq!(hostile.len(), 6012);
    let err = env
        .cw
        .put_composite_alarm()
        .alarm_name("hostile")
        .alarm_rule(&hostile)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(
        err.message(),
        Some("Invalid AlarmRule: The expression has 6001 elements; an AlarmRule can have as many as 500 elements (child alarms, TRUE or FALSE statements, and parentheses)")
    );
    // NOT nests without adding elements; the nesting cap answers it.
    let nots = format!("{}ALARM(child)", "NOT ".repeat(2500));
    let err = env
        .cw
        .put_composite_alarm()
        .alarm_name("hostile")
        .alarm_rule(&nots)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(
        err.message(),
        Some("Invalid AlarmRule: The rule is nested more than 100 levels deep")
    );

    // The deepest rule accepted: 100 levels, half parentheses and half NOTs (an even number of
    // NOTs, so it is ALARM(child)).
    let deepest = format!("{}ALARM(child){}", "(NOT ".repeat(50), ")".repeat(50));
    env.cw
        .put_composite_alarm()
        .alarm_name("deep")
        .alarm_rule(&deepest)
        .send()
        .await
        .unwrap();
    env.cw
        .set_alarm_state()
        .alarm_name("child")
        .state_value(StateValue::Alarm)
        .state_reason("testing")
        .send()
        .await
        .unwrap();
    let described = env
        .cw
        .describe_alarms()
        .alarm_names("deep")
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    let deep = described.composite_alarms().first().cloned().unwrap();
    assert_eq!(deep.alarm_rule(), Some(deepest.as_str()));
    assert_eq!(deep.state_value(), Some(&StateValue::Alarm));
    let parents = env
        .cw
        .describe_alarms()
        .parents_of_alarm_name("child")
        .send()
        .await
        .unwrap();
    assert_eq!(parents.composite_alarms().len(), 1);
    env.clock.advance_ms(MINUTE);
    // The child goes back to INSUFFICIENT_DATA (no data) and the deep parent to OK.
    assert_eq!(env.evaluate().await, 2);
    let deep = env
        .cw
        .describe_alarms()
        .alarm_names("deep")
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deep.composite_alarms()[0].state_value(),
        Some(&StateValue::Ok)
    );
    env.cw
        .delete_alarms()
        .alarm_names("deep")
        .alarm_names("child")
        .send()
        .await
        .unwrap();
    let left = env
        .cw
        .describe_alarms()
        .alarm_types(AlarmType::CompositeAlarm)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .unwrap();
    assert!(left.composite_alarms().is_empty());
    assert!(left.metric_alarms().is_empty());
    env.server.stop().await;
}

#[tokio::test]
async fn invalid_alarms_are_refused_with_aws_errors() {
    let env = start().await;
    let err = env.alarm("bad", "M").period(45).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValue"));
    assert_eq!(
        err.message(),
        Some("The parameter Period must be 10, 20, 30 or a multiple of 60.")
    );
    let err = env
        .alarm("bad", "M")
        .evaluation_periods(1441)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(
        err.message(),
        Some("Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).")
    );
    let err = env
        .alarm("bad", "M")
        .evaluation_periods(2)
        .datapoints_to_alarm(3)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    let err = env
        .alarm("bad", "M")
        .extended_statistic("p99")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterCombination"));
    let err = env
        .cw
        .put_metric_alarm()
        .alarm_name("bad")
        .metrics(
            MetricDataQuery::builder()
                .id("e1")
                .expression("TIME_SERIES(1)")
                .build(),
        )
        .metrics(
            MetricDataQuery::builder()
                .id("e2")
                .expression("TIME_SERIES(2)")
                .build(),
        )
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(
        err.message(),
        Some("Exactly one element of the metrics list should return data.")
    );
    let err = env
        .alarm("bad", "M")
        .treat_missing_data("sometimes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    assert!(env
        .cw
        .describe_alarms()
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .is_empty());

    let err = env
        .cw
        .set_alarm_state()
        .alarm_name("ghost")
        .state_value(StateValue::Alarm)
        .state_reason("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFound"));
    env.alarm("real", "M").send().await.unwrap();
    let err = env
        .cw
        .set_alarm_state()
        .alarm_name("real")
        .state_value(StateValue::Alarm)
        .state_reason("x")
        .state_reason_data("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidFormat"));
    let err = env
        .cw
        .list_tags_for_resource()
        .resource_arn("arn:aws:cloudwatch:us-east-1:000000000000:alarm:ghost")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    env.server.stop().await;
}

#[tokio::test]
async fn describe_alarms_filters_and_pages() {
    let env = start().await;
    for name in ["p-1", "p-2", "p-3", "p-4", "p-5", "q-1"] {
        env.alarm(name, "M")
            .ok_actions(format!("arn:aws:sns:us-east-1:000000000000:{name}"))
            .send()
            .await
            .unwrap();
    }
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let out = env
            .cw
            .describe_alarms()
            .alarm_name_prefix("p-")
            .max_records(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages.push(
            out.metric_alarms()
                .iter()
                .map(|a| a.alarm_name().unwrap().to_string())
                .collect::<Vec<_>>(),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        pages,
        vec![vec!["p-1", "p-2"], vec!["p-3", "p-4"], vec!["p-5"]]
    );
    env.cw
        .set_alarm_state()
        .alarm_name("p-3")
        .state_value(StateValue::Ok)
        .state_reason("manual")
        .send()
        .await
        .unwrap();
    let ok = env
        .cw
        .describe_alarms()
        .state_value(StateValue::Ok)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.metric_alarms().len(), 1);
    assert_eq!(ok.metric_alarms()[0].state_reason(), Some("manual"));
    let by_action = env
        .cw
        .describe_alarms()
        .action_prefix("arn:aws:sns:us-east-1:000000000000:q")
        .send()
        .await
        .unwrap();
    assert_eq!(by_action.metric_alarms().len(), 1);
    let for_metric = env
        .cw
        .describe_alarms_for_metric()
        .namespace("App")
        .metric_name("M")
        .dimensions(Dimension::builder().name("Host").value("a").build())
        .send()
        .await
        .unwrap();
    assert_eq!(for_metric.metric_alarms().len(), 6);
    let bad = env
        .cw
        .describe_alarms()
        .next_token("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("InvalidNextToken"));

    env.cw
        .delete_alarms()
        .alarm_names("p-1")
        .alarm_names("never-existed")
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.cw
            .describe_alarms()
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .len(),
        5
    );

    // Tags on alarm ARNs.
    let arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:p-2";
    env.cw
        .tag_resource()
        .resource_arn(arn)
        .tags(Tag::builder().key("team").value("ops").build())
        .send()
        .await
        .unwrap();
    let tags = env
        .cw
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].value(), Some("ops"));
    env.cw
        .untag_resource()
        .resource_arn(arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = env
        .cw
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_empty());
    env.server.stop().await;
}

#[tokio::test]
async fn history_pages_in_either_order() {
    let env = start().await;
    env.alarm("flappy", "M").send().await.unwrap();
    for (i, state) in [
        StateValue::Alarm,
        StateValue::Ok,
        StateValue::Alarm,
        StateValue::Ok,
    ]
    .into_iter()
    .enumerate()
    {
        env.clock.set_ms(T0 + 10_000 * (i as i64 + 1));
        env.cw
            .set_alarm_state()
            .alarm_name("flappy")
            .state_value(state)
            .state_reason(format!("step {i}"))
            .send()
            .await
            .unwrap();
    }
    let mut ascending = Vec::new();
    let mut token = None;
    loop {
        let out = env
            .cw
            .describe_alarm_history()
            .alarm_name("flappy")
            .scan_by(ScanBy::TimestampAscending)
            .max_records(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(out.alarm_history_items().len() <= 2);
        ascending.extend(
            out.alarm_history_items()
                .iter()
                .map(|i| i.history_summary().unwrap().to_string()),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        ascending,
        vec![
            "Alarm \"flappy\" created",
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Alarm updated from ALARM to OK",
            "Alarm updated from OK to ALARM",
            "Alarm updated from ALARM to OK",
        ]
    );
    let descending = env
        .cw
        .describe_alarm_history()
        .alarm_name("flappy")
        .history_item_type(HistoryItemType::StateUpdate)
        .start_date(DateTime::from_millis(T0 + 20_000))
        .send()
        .await
        .unwrap();
    let summaries: Vec<&str> = descending
        .alarm_history_items()
        .iter()
        .map(|i| i.history_summary().unwrap())
        .collect();
    assert_eq!(
        summaries,
        vec![
            "Alarm updated from ALARM to OK",
            "Alarm updated from OK to ALARM",
            "Alarm updated from ALARM to OK",
        ]
    );
    env.server.stop().await;
}

#[tokio::test]
async fn alarm_actions_record_sns_deliveries_unless_disabled() {
    let env = start().await;
    let topic = "arn:aws:sns:us-east-1:000000000000:ops";
    env.alarm("notify", "Load")
        .alarm_description("load too high")
        .alarm_actions(topic)
        .ok_actions(topic)
        .send()
        .await
        .unwrap();
    env.put("Load", T0 + 1_000, 7.0).await;
    assert_eq!(env.evaluate().await, 1);
    let deliveries = env.deliveries().await;
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d["target"], topic);
    assert_eq!(d["targetKind"], "sns");
    assert_eq!(
        d["source"],
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:notify"
    );
    assert_eq!(d["subject"], "ALARM: \"notify\" in US East (N. Virginia)");
    let body: Value = serde_json::from_str(d["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["AlarmName"], "notify");
    assert_eq!(body["AlarmDescription"], "load too high");
    assert_eq!(body["AWSAccountId"], "000000000000");
    assert_eq!(body["NewStateValue"], "ALARM");
    assert_eq!(body["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(body["Region"], "US East (N. Virginia)");
    assert_eq!(body["StateChangeTime"], "2025-12-01T10:00:05.000+0000");
    assert_eq!(body["Trigger"]["MetricName"], "Load");
    assert_eq!(body["Trigger"]["Statistic"], "MAXIMUM");
    assert_eq!(body["Trigger"]["Threshold"], 1.0);
    assert_eq!(
        body["Trigger"]["Dimensions"],
        serde_json::json!([{"value": "a", "name": "Host"}])
    );
    let actions = env
        .cw
        .describe_alarm_history()
        .alarm_name("notify")
        .history_item_type(HistoryItemType::Action)
        .send()
        .await
        .unwrap();
    assert_eq!(
        actions.alarm_history_items()[0].history_summary(),
        Some("Successfully executed action arn:aws:sns:us-east-1:000000000000:ops")
    );

    env.cw
        .disable_alarm_actions()
        .alarm_names("notify")
        .send()
        .await
        .unwrap();
    assert_eq!(
        env.metric_alarm("notify").await.actions_enabled(),
        Some(false)
    );
    env.clock.set_ms(T0 + MINUTE + 5_000);
    env.put("Load", T0 + MINUTE + 1_000, 0.0).await;
    assert_eq!(env.evaluate().await, 1);
    assert_eq!(env.state("notify").await, StateValue::Ok);
    assert_eq!(
        env.deliveries().await.len(),
        1,
        "disabled actions do not run"
    );
    env.server.stop().await;
}
