//! End-to-end tests of parse + evaluate against hand-computed results.
//!
//! Where the user guide gives a worked example (the comparison table, the three IF tables,
//! the example expressions of the function table) the test uses its data and output;
//! the other values are computed by hand from the documented definitions and written next
//! to each case. Every series lives on a 60-second grid starting at 0, written as five
//! optional values, `None` marking a missing point.

use std::collections::HashMap;

use super::*;

const PERIOD: i64 = 60;
const STEP_MS: i64 = PERIOD * 1000;
const POINTS: usize = 5;

fn series(label: &str, values: &[Option<f64>]) -> Series {
    let points: Vec<(i64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| value.map(|v| (index as i64 * STEP_MS, v)))
        .collect();
    Series::from_points(label, &points)
}

/// The grid values of a series, asserting it has no point off the grid.
fn dense(series: &Series) -> Vec<Option<f64>> {
    let mut out = vec![None; POINTS];
    for (timestamp, value) in series.timestamps.iter().zip(&series.values) {
        assert_eq!(timestamp % STEP_MS, 0, "off-grid timestamp {timestamp}");
        let index = usize::try_from(timestamp / STEP_MS).unwrap();
        out[index] = Some(*value);
    }
    out
}

struct Fixture {
    series: HashMap<String, MathValue>,
    metric_ids: Vec<String>,
    searches: HashMap<String, Vec<Series>>,
    period_seconds: i64,
    end_ms: i64,
}

impl Fixture {
    fn new(metrics: &[(&str, &[Option<f64>])]) -> Fixture {
        let mut fixture = Fixture {
            series: HashMap::new(),
            metric_ids: Vec::new(),
            searches: HashMap::new(),
            period_seconds: PERIOD,
            end_ms: POINTS as i64 * STEP_MS,
        };
        for (id, values) in metrics {
            fixture.metric_ids.push(id.to_string());
            fixture.series.insert(
                id.to_string(),
                MathValue::Series(series(&format!("{id} label"), values)),
            );
        }
        fixture
    }

    /// The main data set; values are indexed by grid step 0..5.
    fn standard() -> Fixture {
        let mut fixture = Fixture::new(&[
            (
                "m1",
                &[Some(10.0), Some(20.0), None, Some(40.0), Some(50.0)],
            ),
            ("m2", &[Some(2.0), Some(0.0), Some(5.0), None, Some(10.0)]),
            ("errors4xx", &[Some(1.0), None, Some(3.0), None, None]),
            ("errors5xx", &[None, Some(2.0), None, None, Some(1.0)]),
            ("idle", &[]),
        ]);
        // An expression result: usable by id, but not part of METRICS().
        fixture.series.insert(
            "e1".to_string(),
            MathValue::Series(series("e1", &[Some(1.0); POINTS])),
        );
        fixture.searches.insert(
            r#" {AWS/EC2,InstanceId} MetricName="CPUUtilization" "#.to_string(),
            vec![
                series("i-1", &[Some(10.0), Some(30.0), None, None, None]),
                series("i-2", &[Some(20.0), None, Some(40.0), None, None]),
            ],
        );
        fixture
    }

    fn run(&self, text: &str) -> Result<MathValue, MathError> {
        let expression = Expression::parse(text)?;
        let ctx = EvalContext {
            series: &self.series,
            metric_ids: &self.metric_ids,
            search_results: &self.searches,
            period_seconds: self.period_seconds,
            start_ms: 0,
            end_ms: self.end_ms,
        };
        evaluate(&expression, &ctx)
    }
}

enum Expected {
    Scalar(f64),
    Series(Vec<Option<f64>>),
    Array(Vec<Vec<Option<f64>>>),
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn same_points(actual: &[Option<f64>], expected: &[Option<f64>]) -> bool {
    actual.len() == expected.len()
        && actual.iter().zip(expected).all(|pair| match pair {
            (Some(a), Some(b)) => close(*a, *b),
            (None, None) => true,
            _ => false,
        })
}

fn check(fixture: &Fixture, text: &str, expected: &Expected) {
    let actual = fixture
        .run(text)
        .unwrap_or_else(|error| panic!("{text}: {error}"));
    let ok = match (&actual, expected) {
        (MathValue::Scalar(a), Expected::Scalar(b)) => close(*a, *b),
        (MathValue::Series(series), Expected::Series(points)) => {
            same_points(&dense(series), points)
        }
        (MathValue::Array(items), Expected::Array(arrays)) => {
            items.len() == arrays.len()
                && items
                    .iter()
                    .zip(arrays)
                    .all(|(series, points)| same_points(&dense(series), points))
        }
        _ => false,
    };
    assert!(ok, "{text}: got {actual:?}");
}

const N: Option<f64> = None;

fn s(values: [Option<f64>; POINTS]) -> Expected {
    Expected::Series(values.to_vec())
}

fn v(value: f64) -> Option<f64> {
    Some(value)
}

#[test]
fn documented_comparison_and_logical_operator_table() {
    // metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -]
    let fixture = Fixture::new(&[
        ("metric1", &[v(30.0), v(20.0), v(0.0), v(0.0), N]),
        ("metric2", &[v(20.0), N, v(20.0), N, N]),
    ]);
    let cases = [
        (
            "(metric1 < metric2)",
            s([v(0.0), v(0.0), v(1.0), v(0.0), N]),
        ),
        ("(metric1 >= 30)", s([v(1.0), v(0.0), v(0.0), v(0.0), N])),
        (
            "(metric1 > 15 AND metric2 > 15)",
            s([v(1.0), v(0.0), v(0.0), v(0.0), N]),
        ),
        (
            "(metric1 > 15 && metric2 > 15)",
            s([v(1.0), v(0.0), v(0.0), v(0.0), N]),
        ),
        // _NEG of the AND row: OR keeps the points where only one side holds.
        (
            "(metric1 > 15 OR metric2 > 15)",
            s([v(1.0), v(1.0), v(1.0), v(0.0), N]),
        ),
        (
            "(metric1 > 15 || metric2 > 15)",
            s([v(1.0), v(1.0), v(1.0), v(0.0), N]),
        ),
        ("metric1 == 20", s([v(0.0), v(1.0), v(0.0), v(0.0), N])),
        ("metric1 != 20", s([v(1.0), v(0.0), v(1.0), v(1.0), N])),
        ("metric1 <= 20", s([v(0.0), v(1.0), v(1.0), v(1.0), N])),
        ("3 > 2", Expected::Scalar(1.0)),
        ("3 < 2", Expected::Scalar(0.0)),
        ("1 AND 0", Expected::Scalar(0.0)),
        ("1 OR 0", Expected::Scalar(1.0)),
    ];
    for (text, expected) in &cases {
        check(&fixture, text, expected);
    }
}

#[test]
fn documented_if_tables() {
    // metric1 = [1, 1, 0, 0, -], metric2 = [30, -, 0, 0, 30], metric3 = [0, 0, 20, -, 20]
    let fixture = Fixture::new(&[
        ("metric1", &[v(1.0), v(1.0), v(0.0), v(0.0), N]),
        ("metric2", &[v(30.0), N, v(0.0), v(0.0), v(30.0)]),
        ("metric3", &[v(0.0), v(0.0), v(20.0), N, v(20.0)]),
    ]);
    let cases = [
        (
            "IF(metric1, metric2, metric3)",
            s([v(30.0), v(0.0), v(20.0), N, N]),
        ),
        (
            "IF(metric1, 5, metric3)",
            s([v(5.0), v(5.0), v(20.0), N, N]),
        ),
        (
            "IF(metric1, metric2, 5)",
            s([v(30.0), v(0.0), v(5.0), v(5.0), N]),
        ),
        // Omitted false branch: false points are dropped.
        ("IF(metric1, metric2)", s([v(30.0), v(0.0), N, N, N])),
        // Any non-zero value is TRUE, including negative ones.
        (
            "IF(metric1 - 2, 7, 8)",
            s([v(7.0), v(7.0), v(7.0), v(7.0), N]),
        ),
        // IF(scalar, TS, TS) picks one whole series.
        (
            "IF(1, metric2, metric3)",
            s([v(30.0), N, v(0.0), v(0.0), v(30.0)]),
        ),
        (
            "IF(0, metric2, metric3)",
            s([v(0.0), v(0.0), v(20.0), N, v(20.0)]),
        ),
        ("IF(0, metric2)", s([N, N, N, N, N])),
        (
            "IF(MAX(metric2) > 25, metric2, metric3)",
            s([v(30.0), N, v(0.0), v(0.0), v(30.0)]),
        ),
        // IF(TS comparison S, S, S): the use-case examples of the guide.
        ("IF(metric2 < 25, metric2)", s([N, N, v(0.0), v(0.0), N])),
        (
            "IF(metric2 < 25, 10, 2)",
            s([v(2.0), N, v(10.0), v(10.0), v(2.0)]),
        ),
    ];
    for (text, expected) in &cases {
        check(&fixture, text, expected);
    }
}

#[test]
fn arithmetic_between_series_and_scalars() {
    let fixture = Fixture::standard();
    // m1 = [10, 20, -, 40, 50], m2 = [2, 0, 5, -, 10]
    let cases = [
        ("5 * m1", s([v(50.0), v(100.0), N, v(200.0), v(250.0)])),
        ("m1 * 5", s([v(50.0), v(100.0), N, v(200.0), v(250.0)])),
        // Union of timestamps, a missing value counting as 0.
        ("m1 - m2", s([v(8.0), v(20.0), v(-5.0), v(40.0), v(40.0)])),
        ("m1 + m2", s([v(12.0), v(20.0), v(5.0), v(40.0), v(60.0)])),
        // Division by zero (including by a missing value) drops the point.
        ("m1 / m2", s([v(5.0), N, v(0.0), N, v(5.0)])),
        ("m2 ^ 2", s([v(4.0), v(0.0), v(25.0), N, v(100.0)])),
        ("-m1", s([v(-10.0), v(-20.0), N, v(-40.0), v(-50.0)])),
        ("-5 * m1", s([v(-50.0), v(-100.0), N, v(-200.0), v(-250.0)])),
        ("m1 + 1 * 2", s([v(12.0), v(22.0), N, v(42.0), v(52.0)])),
        ("(m1 + 1) * 2", s([v(22.0), v(42.0), N, v(82.0), v(102.0)])),
        (
            "m1 - m1 - m1",
            s([v(-10.0), v(-20.0), N, v(-40.0), v(-50.0)]),
        ),
        ("e1 * 3", s([v(3.0); POINTS])),
        ("PERIOD(m1)/60", Expected::Scalar(1.0)),
        (
            "m1/PERIOD(m1)",
            s([
                v(10.0 / 60.0),
                v(20.0 / 60.0),
                N,
                v(40.0 / 60.0),
                v(50.0 / 60.0),
            ]),
        ),
        ("2 + 3 * 4", Expected::Scalar(14.0)),
        ("2 ^ 3 ^ 2", Expected::Scalar(512.0)),
        ("-2 ^ 2", Expected::Scalar(-4.0)),
        ("10 - 4 - 3", Expected::Scalar(3.0)),
        ("1.5e1 / .5", Expected::Scalar(30.0)),
    ];
    for (text, expected) in &cases {
        check(&fixture, text, expected);
    }
}

#[test]
fn arithmetic_with_arrays() {
    let fixture = Fixture::standard();
    let cases = [
        // 100/m1 = [10, 5, -, 2.5, 2]; 100/m2 = [50, -, 20, -, 10] (100/0 dropped)
        (
            "SUM(100/[m1, m2])",
            s([v(60.0), v(5.0), v(20.0), v(2.5), v(12.0)]),
        ),
        // m1/m2 = [5, -, 0, -, 5]; m2/m2 = [1, -, 1, -, 1]; averaged over both series
        ("AVG([m1, m2]/m2)", s([v(3.0), N, v(0.5), N, v(3.0)])),
        (
            "SUM(-[m1, m2])",
            s([v(-12.0), v(-20.0), v(-5.0), v(-40.0), v(-60.0)]),
        ),
        (
            "METRICS()/100",
            Expected::Array(vec![
                vec![v(0.1), v(0.2), N, v(0.4), v(0.5)],
                vec![v(0.02), v(0.0), v(0.05), N, v(0.1)],
                vec![v(0.01), N, v(0.03), N, N],
                vec![N, v(0.02), N, N, v(0.01)],
                vec![N; POINTS],
            ]),
        ),
        (
            "m1 - [errors4xx, errors5xx]",
            Expected::Array(vec![
                vec![v(9.0), v(20.0), v(-3.0), v(40.0), v(50.0)],
                vec![v(10.0), v(18.0), N, v(40.0), v(49.0)],
            ]),
        ),
        (
            "[errors4xx, errors5xx] * e1",
            Expected::Array(vec![
                vec![v(1.0), v(0.0), v(3.0), v(0.0), v(0.0)],
                vec![v(0.0), v(2.0), v(0.0), v(0.0), v(1.0)],
            ]),
        ),
    ];
    for (text, expected) in &cases {
        check(&fixture, text, expected);
    }
}

#[test]
fn aggregates_of_a_series_and_of_an_array() {
    let fixture = Fixture::standard();
    let cases = [
        // m1 = [10, 20, -, 40, 50]
        ("AVG(m1)", Expected::Scalar(30.0)),
        ("SUM(m1)", Expected::Scalar(120.0)),
        ("MIN(m1)", Expected::Scalar(10.0)),
        ("MAX(m1)", Expected::Scalar(50.0)),
        ("DATAPOINT_COUNT(m1)", Expected::Scalar(4.0)),
        // deviations -20, -10, 10, 20: variance (400+100+100+400)/4 = 250
        ("STDDEV(m1)", Expected::Scalar(250.0_f64.sqrt())),
        ("SUM(m1) / DATAPOINT_COUNT(m1)", Expected::Scalar(30.0)),
        ("m1 - AVG(m1)", s([v(-20.0), v(-10.0), N, v(10.0), v(20.0)])),
        ("MAX(m1)/m1", s([v(5.0), v(2.5), N, v(1.25), v(1.0)])),
        ("SUM(idle)", Expected::Scalar(0.0)),
        ("DATAPOINT_COUNT(idle)", Expected::Scalar(0.0)),
        // m2 = [2, 0, 5, -, 10]
        (
            "SUM([m1, m2])",
            s([v(12.0), v(20.0), v(5.0), v(40.0), v(60.0)]),
        ),
        // AVG of an array treats a missing value as 0: (0 + 5) / 2 at step 2.
        (
            "AVG([m1, m2])",
            s([v(6.0), v(10.0), v(2.5), v(20.0), v(30.0)]),
        ),
        (
            "MIN([m1, m2])",
            s([v(2.0), v(0.0), v(5.0), v(40.0), v(10.0)]),
        ),
        (
            "MAX([m1, m2])",
            s([v(10.0), v(20.0), v(5.0), v(40.0), v(50.0)]),
        ),
        (
            "STDDEV([m1, m2])",
            s([v(4.0), v(10.0), v(0.0), v(0.0), v(20.0)]),
        ),
        (
            "DATAPOINT_COUNT([m1, m2])",
            s([v(2.0), v(2.0), v(1.0), v(1.0), v(2.0)]),
        ),
        (
            "SUM(METRICS())/SUM(m1)",
            s([
                v(13.0 / 120.0),
                v(22.0 / 120.0),
                v(8.0 / 120.0),
                v(40.0 / 120.0),
                v(61.0 / 120.0),
            ]),
        ),
        (
            "SUM(METRICS(\"errors\"))",
            s([v(1.0), v(2.0), v(3.0), N, v(1.0)]),
        ),
        (
            "SUM([METRICS('4xx'), METRICS('5xx')])",
            s([v(1.0), v(2.0), v(3.0), N, v(1.0)]),
        ),
        ("SUM(METRICS('nothing'))", s([N; POINTS])),
        ("METRIC_COUNT(METRICS())", Expected::Scalar(5.0)),
        (
            "m1/METRIC_COUNT(METRICS())",
            s([v(2.0), v(4.0), N, v(8.0), v(10.0)]),
        ),
        (
            "SUM(SEARCH(' {AWS/EC2,InstanceId} MetricName=\"CPUUtilization\" ', 'Average', 300))",
            s([v(30.0), v(30.0), v(40.0), N, N]),
        ),
        (
            "METRIC_COUNT(SEARCH(' \"NoSuchMetric\" ', 'Average', 300))",
            Expected::Scalar(0.0),
        ),
    ];
    for (text, expected) in &cases {
        check(&fixture, text, expected);
    }
}

#[test]
fn point_to_point_functions() {
    let fixture = Fixture::standard();
    let cases = [
        // m1 = [10, 20, -, 40, 50]
        ("DIFF(m1)", s([N, v(10.0), N, v(20.0), v(10.0)])),
        ("DIFF_TIME(m1)", s([N, v(60.0), N, v(120.0), v(60.0)])),
        (
            "RATE(m1)",
            s([N, v(10.0 / 60.0), N, v(20.0 / 120.0), v(10.0 / 60.0)]),
        ),
        (
            "RUNNING_SUM(m1)",
            s([v(10.0), v(30.0), N, v(70.0), v(120.0)]),
        ),
        (
            "RUNNING_SUM([m1, m2])",
            Expected::Array(vec![
                vec![v(10.0), v(30.0), N, v(70.0), v(120.0)],
                vec![v(2.0), v(2.0), v(7.0), N, v(17.0)],
            ]),
        ),
        // m1 - 10*m2 = [-10, 20, -50, 40, -50]
        (
            "ABS(m1 - m2 * 10)",
            s([v(10.0), v(20.0), v(50.0), v(40.0), v(50.0)]),
        ),
        ("CEIL(m1 / 3)", s([v(4.0), v(7.0), N, v(14.0), v(17.0)])),
        ("FLOOR(m1 / 3)", s([v(3.0), v(6.0), N, v(13.0), v(16.0)])),
        (
            "LOG10(m1)",
            s([
                v(1.0),
                v(20.0_f64.log10()),
                N,
                v(40.0_f64.log10()),
                v(50.0_f64.log10()),
            ]),
        ),
        // ln(0) is -infinity and is dropped.
        (
            "LOG(m2)",
            s([v(2.0_f64.ln()), N, v(5.0_f64.ln()), N, v(10.0_f64.ln())]),
        ),
        ("DIFF(idle)", s([N; POINTS])),
    ];
    for (text, expected) in &cases {
        check(&fixture, text, expected);
    }
}

#[test]
fn fill_variants() {
    let fixture = Fixture::standard();
    let cases = [
        (
            "FILL(m1, 0)",
            s([v(10.0), v(20.0), v(0.0), v(40.0), v(50.0)]),
        ),
        (
            "FILL(m1,10)",
            s([v(10.0), v(20.0), v(10.0), v(40.0), v(50.0)]),
        ),
        (
            "FILL(m1, MIN(m1))",
            s([v(10.0), v(20.0), v(10.0), v(40.0), v(50.0)]),
        ),
        (
            "FILL(m1, m2)",
            s([v(10.0), v(20.0), v(5.0), v(40.0), v(50.0)]),
        ),
        (
            "FILL(m1, LINEAR)",
            s([v(10.0), v(20.0), v(30.0), v(40.0), v(50.0)]),
        ),
        // errors4xx = [1, -, 3, -, -]; errors5xx = [-, 2, -, -, 1]
        (
            "FILL(errors4xx, REPEAT)",
            s([v(1.0), v(1.0), v(3.0), v(3.0), v(3.0)]),
        ),
        (
            "FILL(errors5xx, REPEAT)",
            s([N, v(2.0), v(2.0), v(2.0), v(1.0)]),
        ),
        ("FILL(errors4xx, LINEAR)", s([v(1.0), v(2.0), v(3.0), N, N])),
        (
            "FILL(errors5xx, LINEAR)",
            s([N, v(2.0), v(5.0 / 3.0), v(4.0 / 3.0), v(1.0)]),
        ),
        ("FILL(idle, 7)", s([v(7.0); POINTS])),
        ("FILL(idle, REPEAT)", s([N; POINTS])),
        (
            "FILL(METRICS('errors'), m1)",
            Expected::Array(vec![
                vec![v(1.0), v(20.0), v(3.0), v(40.0), v(50.0)],
                vec![v(10.0), v(2.0), N, v(40.0), v(1.0)],
            ]),
        ),
        (
            "SUM(FILL(METRICS(), 0))",
            s([v(13.0), v(22.0), v(8.0), v(40.0), v(61.0)]),
        ),
        ("TIME_SERIES(10)", s([v(10.0); POINTS])),
        ("TIME_SERIES(MAX(m1))", s([v(50.0); POINTS])),
        ("TIME_SERIES(5*AVG(m1))", s([v(150.0); POINTS])),
        ("TIME_SERIES(1/0)", s([N; POINTS])),
        // The grid starts at 1970-01-01T00:00:00Z, a Thursday.
        ("MINUTE(m1)", s([v(0.0), v(1.0), v(2.0), v(3.0), v(4.0)])),
        ("HOUR(m1)", s([v(0.0); POINTS])),
        ("DAY(m1)", s([v(4.0); POINTS])),
        ("DATE(m1)", s([v(1.0); POINTS])),
        ("MONTH(m1)", s([v(1.0); POINTS])),
        ("YEAR(m1)", s([v(1970.0); POINTS])),
        (
            "EPOCH(m1)",
            s([v(0.0), v(60.0), v(120.0), v(180.0), v(240.0)]),
        ),
        // DAY is non-sparse, so the condition is TRUE at step 2 too, where m1 has no point:
        // the IF table gives 0 there.
        (
            "IF(DAY(m1)<6,m1)",
            s([v(10.0), v(20.0), v(0.0), v(40.0), v(50.0)]),
        ),
        // _NEG: the same filter for weekends keeps nothing on a Thursday.
        ("IF(DAY(m1)>5,m1)", s([N; POINTS])),
        ("IF(MONTH(m1) == 4,m1)", s([N; POINTS])),
    ];
    for (text, expected) in &cases {
        check(&fixture, text, expected);
    }
}

fn labels(value: &MathValue) -> Vec<&str> {
    match value {
        MathValue::Array(items) => items.iter().map(|series| series.label.as_str()).collect(),
        MathValue::Series(series) => vec![series.label.as_str()],
        MathValue::Scalar(_) => Vec::new(),
    }
}

#[test]
fn array_functions_and_labels() {
    let fixture = Fixture::standard();
    // Averages: m1 30, m2 4.25, errors4xx 2, errors5xx 1.5, idle none.
    // Sums: m1 120, m2 17, errors4xx 4, errors5xx 3. Maxima: 50, 10, 3, 2.
    let cases: [(&str, &[&str]); 13] = [
        (
            "METRICS()",
            &[
                "m1 label",
                "m2 label",
                "errors4xx label",
                "errors5xx label",
                "idle label",
            ],
        ),
        ("METRICS('errors')", &["errors4xx label", "errors5xx label"]),
        (
            "REMOVE_EMPTY(METRICS())",
            &["m1 label", "m2 label", "errors4xx label", "errors5xx label"],
        ),
        (
            "SORT(METRICS(), MAX, ASC)",
            &[
                "errors5xx label",
                "errors4xx label",
                "m2 label",
                "m1 label",
                "idle label",
            ],
        ),
        (
            "SORT(METRICS(), AVG, DESC)",
            &[
                "m1 label",
                "m2 label",
                "errors4xx label",
                "errors5xx label",
                "idle label",
            ],
        ),
        ("SORT(METRICS(), SUM, DESC, 2)", &["m1 label", "m2 label"]),
        ("SORT(METRICS(), MIN, ASC, 0)", &[]),
        (
            "SLICE(SORT(METRICS(), SUM, DESC), 0, 2)",
            &["m1 label", "m2 label"],
        ),
        (
            "SLICE(SORT(METRICS(), AVG, ASC), 1)",
            &["errors4xx label", "m2 label", "m1 label", "idle label"],
        ),
        ("SLICE(METRICS(), 3, 1)", &[]),
        ("SLICE(METRICS(), 4, 99)", &["idle label"]),
        ("FIRST(SORT(METRICS(), AVG, DESC))", &["m1 label"]),
        ("LAST(SORT(METRICS(), SUM, DESC))", &["idle label"]),
    ];
    for (text, expected) in cases {
        let value = fixture.run(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(labels(&value), expected, "{text}");
    }
    // Elementwise results keep their series' labels; combined ones are unnamed.
    let value = fixture.run("FILL(METRICS('errors'), 0) * 2").unwrap();
    assert_eq!(labels(&value), ["errors4xx label", "errors5xx label"]);
    assert_eq!(labels(&fixture.run("m1 * 2").unwrap()), ["m1 label"]);
    assert_eq!(labels(&fixture.run("SUM(METRICS())").unwrap()), [""]);
    // The documented FIRST/SORT example.
    check(
        &fixture,
        "IF(FIRST(SORT(METRICS(), AVG, DESC))>25, 1, 0)",
        &s([v(0.0), v(0.0), N, v(1.0), v(1.0)]),
    );
    check(&fixture, "FIRST(METRICS('none'))", &s([N; POINTS]));
}

#[test]
fn evaluation_errors_carry_positions() {
    let fixture = Fixture::standard();
    let cases: Vec<(&str, MathError)> = vec![
        ("m9 + 1", MathError::UnknownId { position: 0, id: "m9".into() }),
        ("m1 + m9", MathError::UnknownId { position: 5, id: "m9".into() }),
        ("PERIOD(zz)", MathError::UnknownId { position: 7, id: "zz".into() }),
        (
            "ABS(5)",
            MathError::ArgumentType {
                position: 4,
                detail: "argument 1 of ABS must be a time series or an array of time series, not a scalar".into(),
            },
        ),
        (
            "SUM(5)",
            MathError::ArgumentType {
                position: 4,
                detail: "argument 1 of SUM must be a time series or an array of time series, not a scalar".into(),
            },
        ),
        (
            "[m1, 5]",
            MathError::ArgumentType {
                position: 5,
                detail: "an array can hold only time series, not a scalar".into(),
            },
        ),
        (
            "METRICS() + METRICS()",
            MathError::ArgumentType {
                position: 10,
                detail: "operator + cannot combine two arrays of time series".into(),
            },
        ),
        (
            "FILL(5, 0)",
            MathError::ArgumentType {
                position: 5,
                detail: "argument 1 of FILL must be a time series or an array of time series, not a scalar".into(),
            },
        ),
        (
            "FIRST(m1)",
            MathError::ArgumentType {
                position: 6,
                detail: "argument 1 of FIRST must be an array of time series, not a time series".into(),
            },
        ),
        (
            "FILL(m1, METRICS())",
            MathError::ArgumentType {
                position: 9,
                detail: "argument 2 of FILL must be a scalar, a time series, REPEAT or LINEAR, not an array of time series".into(),
            },
        ),
        (
            "IF(METRICS(), 1)",
            MathError::ArgumentType {
                position: 3,
                detail: "argument 1 of IF must be a scalar or a time series, not an array of time series".into(),
            },
        ),
        (
            "IF(1, 2, 3)",
            MathError::ArgumentType {
                position: 6,
                detail: "argument 2 of IF must be a time series when the condition is a scalar, not a scalar".into(),
            },
        ),
        (
            "PERIOD(e1)",
            MathError::ArgumentType {
                position: 7,
                detail: "PERIOD accepts only metrics, and e1 is the result of an expression".into(),
            },
        ),
        (
            "TIME_SERIES(m1)",
            MathError::ArgumentType {
                position: 12,
                detail: "argument 1 of TIME_SERIES must be a scalar, not a time series".into(),
            },
        ),
        (
            "SLICE(METRICS(), -1)",
            MathError::InvalidArgument {
                position: 17,
                detail: "argument 2 of SLICE must be a whole number of at least 0, not -1".into(),
            },
        ),
        (
            "SLICE(METRICS(), 0, 1.5)",
            MathError::InvalidArgument {
                position: 20,
                detail: "argument 3 of SLICE must be a whole number of at least 0, not 1.5".into(),
            },
        ),
        (
            "SORT(METRICS(), AVG, ASC, 0/0)",
            MathError::InvalidArgument {
                position: 26,
                detail: "argument 4 of SORT must be a whole number of at least 0, not NaN".into(),
            },
        ),
        (
            "ANOMALY_DETECTION_BAND(m1, 2)",
            MathError::Unsupported { position: 0, name: "ANOMALY_DETECTION_BAND".into() },
        ),
        (
            "m1 + SERVICE_QUOTA(m1)",
            MathError::Unsupported { position: 5, name: "SERVICE_QUOTA".into() },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(fixture.run(text).unwrap_err(), expected, "{text}");
    }
}

#[test]
fn context_limits() {
    let mut fixture = Fixture::standard();
    fixture.period_seconds = 1;
    fixture.end_ms = 1_000_000_000;
    assert_eq!(
        fixture.run("TIME_SERIES(1)").unwrap_err(),
        MathError::TooManyDatapoints {
            period_seconds: 1,
            limit: 100_800
        }
    );
    // _NEG: sparse functions do not materialise the grid, so they still work.
    assert!(fixture.run("m1 + 1").is_ok());
    fixture.period_seconds = 0;
    assert!(matches!(
        fixture.run("FILL(m1, 0)"),
        Err(MathError::Context { .. })
    ));
    assert!(matches!(
        fixture.run("PERIOD(m1)"),
        Err(MathError::Context { .. })
    ));
    fixture.period_seconds = 60;
    fixture.end_ms = 0;
    check(&fixture, "TIME_SERIES(1)", &s([N; POINTS]));
}

#[test]
fn public_api_reports_dependencies() {
    let expression = Expression::parse(
        "e1 - MIN(e1) + SUM(SEARCH('{AWS/Lambda, FunctionName} MetricName=\"Errors\"', 'Sum', 300)) + m2",
    )
    .unwrap();
    assert_eq!(expression.referenced_ids(), vec!["e1", "m2"]);
    let calls = expression.search_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].expression,
        "{AWS/Lambda, FunctionName} MetricName=\"Errors\""
    );
    assert_eq!(calls[0].statistic, "Sum");
    assert_eq!(calls[0].period, Some(300));
    let query = SearchQuery::parse(&calls[0].expression).unwrap();
    let dimensions = vec![("FunctionName".to_string(), "api".to_string())];
    assert!(query.matches("AWS/Lambda", "Errors", &dimensions));
    assert!(!query.matches("AWS/Lambda", "Throttles", &dimensions));
    assert!(Expression::parse("METRICS()")
        .unwrap()
        .referenced_ids()
        .is_empty());
}

#[test]
fn large_inputs_stay_linear_and_do_not_panic() {
    let points: Vec<(i64, f64)> = (0..100_000).map(|i| (i * STEP_MS, i as f64)).collect();
    let mut fixture = Fixture::new(&[]);
    for id in ["a", "b"] {
        fixture.metric_ids.push(id.to_string());
        fixture.series.insert(
            id.to_string(),
            MathValue::Series(Series::from_points(id, &points)),
        );
    }
    fixture.end_ms = 100_000 * STEP_MS;
    let text = vec!["a"; 500].join(" + ") + " - SUM(METRICS()) * 249";
    match fixture.run(&text).unwrap() {
        MathValue::Series(series) => {
            assert_eq!(series.values.len(), 100_000);
            assert!(close(series.values[7], 14.0));
        }
        other => panic!("{other:?}"),
    }
    // Hostile literals and nesting produce errors, not panics.
    for text in ["1e400", "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((m1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", "SEARCH('{', 'Average', 300)", "9^9^9^9"] {
        let _ = fixture.run(text);
    }
}
