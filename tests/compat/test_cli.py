"""CloudWatch and STS through the aws command, as a user would type it."""
import datetime as dt
import json


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def as_datetime(value):
    """aws-cli v1 prints timestamps as they came on the wire: ISO 8601 text (XML, JSON) or
    epoch seconds (CBOR)."""
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_cli_put_metric_data_then_read_it_back(aws):
    t0 = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) - dt.timedelta(minutes=20)
    code, out, err = aws("cloudwatch", "put-metric-data", "--namespace", "Cli", "--metric-name", "Latency",
                         "--value", "12", "--unit", "Milliseconds", "--timestamp", iso(t0 + dt.timedelta(seconds=10)),
                         "--dimensions", "Host=a,Env=prod")
    assert (code, out) == (0, None), err
    code, _, err = aws("cloudwatch", "put-metric-data", "--namespace", "Cli", "--metric-data", json.dumps([
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Env", "Value": "prod"}],
         "Timestamp": iso(t0 + dt.timedelta(seconds=20)), "Values": [30, 40], "Counts": [2, 1], "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Env", "Value": "prod"}],
         "Timestamp": iso(t0 + dt.timedelta(seconds=70)), "Unit": "Milliseconds",
         "StatisticValues": {"SampleCount": 2, "Sum": 9, "Minimum": 4, "Maximum": 5}},
    ]))
    assert code == 0, err
    code, _, err = aws("cloudwatch", "put-metric-data", "--namespace", "Cli", "--metric-name", "Errors",
                       "--value", "1", "--timestamp", iso(t0))
    assert code == 0, err

    code, out, err = aws("cloudwatch", "get-metric-statistics", "--namespace", "Cli", "--metric-name", "Latency",
                         "--dimensions", "Name=Host,Value=a", "Name=Env,Value=prod",
                         "--start-time", iso(t0), "--end-time", iso(t0 + dt.timedelta(minutes=2)), "--period", "60",
                         "--statistics", "Sum", "Average", "Minimum", "Maximum", "SampleCount")
    assert code == 0, err
    assert out["Label"] == "Latency"
    points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
    assert [(p["SampleCount"], p["Sum"], p["Average"], p["Minimum"], p["Maximum"], p["Unit"]) for p in points] == [
        (4.0, 112.0, 28.0, 12.0, 40.0, "Milliseconds"),
        (2.0, 9.0, 4.5, 4.0, 5.0, "Milliseconds"),
    ]
    assert [as_datetime(p["Timestamp"]) for p in points] == [t0, t0 + dt.timedelta(minutes=1)]

    code, out, err = aws("cloudwatch", "list-metrics", "--namespace", "Cli")
    assert code == 0, err
    listed = sorted((m["MetricName"], sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in out["Metrics"])
    assert listed == [("Errors", []), ("Latency", [("Env", "prod"), ("Host", "a")])]
    assert all(m["Namespace"] == "Cli" for m in out["Metrics"])

    code, out, err = aws("cloudwatch", "list-metrics", "--metric-name", "Latency", "--dimensions", "Name=Host")
    assert code == 0, err
    assert [m["MetricName"] for m in out["Metrics"]] == ["Latency"]


def test_cli_error_exit_code_and_message(aws):
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    code, out, err = aws("cloudwatch", "get-metric-statistics", "--namespace", "Cli", "--metric-name", "Latency",
                         "--start-time", iso(now - dt.timedelta(minutes=10)), "--end-time", iso(now),
                         "--period", "61", "--statistics", "Sum")
    assert code in (254, 255)
    assert out is None
    assert "(InvalidParameterValue)" in err
    assert "GetMetricStatistics" in err


def test_cli_sts_get_caller_identity(aws):
    code, out, err = aws("sts", "get-caller-identity")
    assert code == 0, err
    assert out == {"UserId": "000000000000", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"}
