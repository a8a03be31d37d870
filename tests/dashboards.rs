//! CloudWatch dashboards and GetMetricWidgetImage through the AWS SDK for Rust.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use common::{now_secs, TestServer};
use futures_util::StreamExt;

const BODY: &str = r#"{
  "start": "-PT6H",
  "widgets": [
    {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
     "properties": {"metrics": [["AWS/EC2", "CPUUtilization", "InstanceId", "i-012345"]],
                    "period": 300, "stat": "Average", "region": "us-east-1", "title": "CPU"}},
    {"type": "text", "x": 0, "y": 7, "width": 3, "height": 3, "properties": {"markdown": "Hello"}}
  ]
}"#;

#[tokio::test]
async fn put_get_list_and_delete() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    for name in ["ops-main", "ops-db", "team_x"] {
        let out = cw
            .put_dashboard()
            .dashboard_name(name)
            .dashboard_body(BODY)
            .send()
            .await
            .unwrap();
        assert_eq!(out.dashboard_validation_messages().len(), 0);
    }

    let got = cw
        .get_dashboard()
        .dashboard_name("ops-db")
        .send()
        .await
        .unwrap();
    assert_eq!(got.dashboard_name(), Some("ops-db"));
    // The body comes back byte for byte, whitespace included.
    assert_eq!(got.dashboard_body(), Some(BODY));
    let account = got
        .dashboard_arn()
        .unwrap()
        .strip_prefix("arn:aws:cloudwatch::")
        .unwrap()
        .strip_suffix(":dashboard/ops-db")
        .unwrap()
        .to_string();
    assert_eq!(account.len(), 12, "{account}");

    let all = cw.list_dashboards().send().await.unwrap();
    let names: Vec<&str> = all
        .dashboard_entries()
        .iter()
        .filter_map(|e| e.dashboard_name())
        .collect();
    assert_eq!(names, vec!["ops-db", "ops-main", "team_x"]);
    assert!(all.next_token().is_none());
    let entry = &all.dashboard_entries()[0];
    assert_eq!(entry.size(), Some(BODY.len() as i64));
    assert_eq!(
        entry.dashboard_arn(),
        Some(format!("arn:aws:cloudwatch::{account}:dashboard/ops-db").as_str())
    );
    let modified = entry.last_modified().unwrap().as_secs_f64();
    assert!((modified - now_secs()).abs() < 60.0, "{modified}");

    let ops = cw
        .list_dashboards()
        .dashboard_name_prefix("ops-")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = ops
        .dashboard_entries()
        .iter()
        .filter_map(|e| e.dashboard_name())
        .collect();
    assert_eq!(names, vec!["ops-db", "ops-main"]);
    // `_` is an ordinary character in a prefix, not a wildcard.
    let underscore = cw
        .list_dashboards()
        .dashboard_name_prefix("team_")
        .send()
        .await
        .unwrap();
    assert_eq!(underscore.dashboard_entries().len(), 1);
    let none = cw
        .list_dashboards()
        .dashboard_name_prefix("teamx")
        .send()
        .await
        .unwrap();
    assert_eq!(none.dashboard_entries().len(), 0);

    // Putting again replaces the body.
    let new_body = r#"{"widgets":[]}"#;
    cw.put_dashboard()
        .dashboard_name("ops-db")
        .dashboard_body(new_body)
        .send()
        .await
        .unwrap();
    let got = cw
        .get_dashboard()
        .dashboard_name("ops-db")
        .send()
        .await
        .unwrap();
    assert_eq!(got.dashboard_body(), Some(new_body));

    cw.delete_dashboards()
        .dashboard_names("ops-db")
        .dashboard_names("team_x")
        .send()
        .await
        .unwrap();
    let left = cw.list_dashboards().send().await.unwrap();
    assert_eq!(left.dashboard_entries().len(), 1);
    let err = cw
        .get_dashboard()
        .dashboard_name("ops-db")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_dashboard_not_found_error(), "{err:?}");
    assert_eq!(err.code(), Some("ResourceNotFound"));
    assert_eq!(err.message(), Some("Dashboard ops-db does not exist"));
}

#[tokio::test]
async fn list_dashboards_pages_by_a_thousand() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    futures_util::stream::iter(0..1003)
        .map(|i| {
            let cw = cw.clone();
            async move {
                cw.put_dashboard()
                    .dashboard_name(format!("d{i:04}"))
                    .dashboard_body(r#"{"widgets":[]}"#)
                    .send()
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let first = cw.list_dashboards().send().await.unwrap();
    assert_eq!(first.dashboard_entries().len(), 1000);
    assert_eq!(
        first.dashboard_entries()[999].dashboard_name(),
        Some("d0999")
    );
    let token = first.next_token().unwrap();
    let second = cw.list_dashboards().next_token(token).send().await.unwrap();
    let names: Vec<&str> = second
        .dashboard_entries()
        .iter()
        .filter_map(|e| e.dashboard_name())
        .collect();
    assert_eq!(names, vec!["d1000", "d1001", "d1002"]);
    assert!(second.next_token().is_none());

    let err = cw
        .list_dashboards()
        .next_token("garbage")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidParameterValue"));
}

#[tokio::test]
async fn invalid_bodies_and_names_are_rejected_with_their_paths() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let put = |name: &str, body: &str| {
        cw.put_dashboard()
            .dashboard_name(name)
            .dashboard_body(body)
            .send()
    };

    let err = put("d", "{not json")
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_dashboard_invalid_input_error(), "{err:?}");
    assert_eq!(err.code(), Some("InvalidParameterInput"));
    assert_eq!(
        err.message(),
        Some("The field DashboardBody must be a valid JSON object")
    );

    let err = put(
        "d",
        r#"{"widgets":[{"type":"metric","width":30,"properties":{"region":"us-east-1","metrics":["AWS/EC2","CPUUtilization"]}}]}"#,
    )
    .await
    .unwrap_err()
    .into_service_error();
    assert_eq!(err.code(), Some("InvalidParameterInput"));
    let message = err.message().unwrap();
    assert!(
        message.starts_with("The dashboard body is invalid, there are 5 validation errors:\n["),
        "{message}"
    );
    let listed: serde_json::Value =
        serde_json::from_str(message.split_once('\n').unwrap().1).unwrap();
    assert_eq!(
        listed[0],
        serde_json::json!({"dataPath": "/widgets/0/width", "message": "Should be <= 24"})
    );
    assert_eq!(
        listed[1],
        serde_json::json!({"dataPath": "/widgets/0/properties/metrics/0", "message": "Should be array"})
    );
    // The same problems, structured, in the error's dashboardValidationMessages.
    let aws_sdk_cloudwatch::operation::put_dashboard::PutDashboardError::DashboardInvalidInputError(
        invalid,
    ) = &err
    else {
        panic!("{err:?}");
    };
    let structured: Vec<(&str, &str)> = invalid
        .dashboard_validation_messages()
        .iter()
        .map(|m| (m.data_path().unwrap(), m.message().unwrap()))
        .collect();
    assert_eq!(structured.len(), 5);
    assert_eq!(structured[0], ("/widgets/0/width", "Should be <= 24"));
    assert_eq!(
        structured[1],
        ("/widgets/0/properties/metrics/0", "Should be array")
    );

    let err = put("d", r#"{"widgets":[]}  "#.trim_end())
        .await
        .map(|_| ())
        .err();
    assert!(err.is_none());

    let err = put("has space", r#"{"widgets":[]}"#)
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidParameterInput"));
    // Nothing invalid was stored.
    let listed = cw.list_dashboards().send().await.unwrap();
    let names: Vec<&str> = listed
        .dashboard_entries()
        .iter()
        .filter_map(|e| e.dashboard_name())
        .collect();
    assert_eq!(names, vec!["d"]);
}

#[tokio::test]
async fn delete_dashboards_deletes_all_or_nothing() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    for name in ["a", "b"] {
        cw.put_dashboard()
            .dashboard_name(name)
            .dashboard_body(r#"{"widgets":[]}"#)
            .send()
            .await
            .unwrap();
    }
    let err = cw
        .delete_dashboards()
        .dashboard_names("a")
        .dashboard_names("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ResourceNotFound"));
    assert_eq!(err.message(), Some("Dashboard missing does not exist"));
    // "a" survived the failed call.
    cw.get_dashboard().dashboard_name("a").send().await.unwrap();
    cw.delete_dashboards()
        .dashboard_names("a")
        .dashboard_names("b")
        .send()
        .await
        .unwrap();
    let left = cw.list_dashboards().send().await.unwrap();
    assert!(left.dashboard_entries().is_empty());
}

/// Width and height from the PNG's IHDR chunk, after checking the signature.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    )
}

/// How many pixels of the decoded image have exactly this colour.
fn pixels_of(png_bytes: &[u8], rgb: (u8, u8, u8)) -> usize {
    let mut reader = png::Decoder::new(png_bytes).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf[..info.buffer_size()]
        .chunks_exact(3)
        .filter(|p| (p[0], p[1], p[2]) == rgb)
        .count()
}

async fn widget_image(cw: &aws_sdk_cloudwatch::Client, widget: &serde_json::Value) -> Vec<u8> {
    cw.get_metric_widget_image()
        .metric_widget(widget.to_string())
        .send()
        .await
        .unwrap()
        .metric_widget_image()
        .unwrap()
        .as_ref()
        .to_vec()
}

#[tokio::test]
async fn widget_images_are_pngs_of_the_requested_size_with_the_data_drawn() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let now = now_secs();
    let start = ((now / 60.0).floor() - 120.0) * 60.0;
    for host in ["a", "b"] {
        let data: Vec<MetricDatum> = (0..100)
            .map(|i| {
                MetricDatum::builder()
                    .metric_name("Latency")
                    .dimensions(Dimension::builder().name("Host").value(host).build())
                    .timestamp(DateTime::from_secs_f64(start + f64::from(i) * 60.0))
                    .value(if host == "a" { 10.0 } else { 20.0 } + f64::from(i % 7))
                    .build()
            })
            .collect();
        cw.put_metric_data()
            .namespace("App")
            .set_metric_data(Some(data))
            .send()
            .await
            .unwrap();
    }

    // Defaults: 600 x 400.
    let default = widget_image(
        &cw,
        &serde_json::json!({"legend": {"position": "hidden"},
            "metrics": [["App", "Latency", "Host", "a", {"color": "#0000ff"}]]}),
    )
    .await;
    assert_eq!(png_size(&default), (600, 400));
    assert!(pixels_of(&default, (0, 0, 255)) > 100);

    // Two metrics (the second through the "..." shorthand) and an expression over them,
    // each in its own colour, with a title and a horizontal annotation. The legend is hidden
    // so that every pixel of a series colour comes from its line.
    let widget = serde_json::json!({
        "title": "Latency by host",
        "width": 800,
        "height": 300,
        "period": 60,
        "start": "-PT3H",
        "metrics": [
            ["App", "Latency", "Host", "a", {"id": "m1", "color": "#0000ff"}],
            ["...", "b", {"id": "m2", "color": "#00aa00"}],
            [{"expression": "m1 + m2", "label": "Total", "id": "e1", "color": "#aa00aa"}]
        ],
        "annotations": {"horizontal": [{"value": 25, "label": "SLO", "color": "#ff0000"}]},
        "yAxis": {"left": {"min": 0, "max": 60}},
        "legend": {"position": "hidden"}
    });
    let image = widget_image(&cw, &widget).await;
    assert_eq!(png_size(&image), (800, 300));
    assert!(pixels_of(&image, (0, 0, 255)) > 100, "metric a not drawn");
    assert!(pixels_of(&image, (0, 0xaa, 0)) > 100, "metric b not drawn");
    assert!(
        pixels_of(&image, (0xaa, 0, 0xaa)) > 100,
        "expression not drawn"
    );
    assert!(
        pixels_of(&image, (0xff, 0, 0)) > 100,
        "annotation not drawn"
    );

    // A metric without data: a valid image with no series colour in it.
    let empty = widget_image(
        &cw,
        &serde_json::json!({"width": 320, "height": 240, "legend": {"position": "hidden"},
            "metrics": [["App", "Nothing", {"color": "#0000ff"}]]}),
    )
    .await;
    assert_eq!(png_size(&empty), (320, 240));
    assert_eq!(pixels_of(&empty, (0, 0, 255)), 0);

    // Stacked areas render too.
    let stacked = widget_image(
        &cw,
        &serde_json::json!({"stacked": true, "view": "timeSeries", "legend": {"position": "right"},
            "metrics": [["App", "Latency", "Host", "a"], ["...", "b"]]}),
    )
    .await;
    assert_eq!(png_size(&stacked), (600, 400));
}

#[tokio::test]
async fn widget_image_errors() {
    let server = TestServer::start().await;
    let cw = server.cloudwatch().await;
    let err = cw
        .get_metric_widget_image()
        .metric_widget("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidParameterInput"));

    let err = cw
        .get_metric_widget_image()
        .metric_widget(r#"{"metrics":[["App","Latency"]],"width":5000}"#)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidParameterInput"));
    assert!(
        err.message().unwrap().contains("\"dataPath\": \"/width\""),
        "{err:?}"
    );

    let err = cw
        .get_metric_widget_image()
        .metric_widget(r#"{"metrics":[["App","Latency"]]}"#)
        .output_format("gif")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidParameterValue"));

    // A bad expression answers GetMetricData's error.
    let err = cw
        .get_metric_widget_image()
        .metric_widget(r#"{"metrics":[[{"expression":"m9 * 2","id":"e1"}]]}"#)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"), "{err:?}");
}
