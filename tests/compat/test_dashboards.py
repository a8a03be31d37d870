"""CloudWatch dashboards and GetMetricWidgetImage through botocore (each of CloudWatch's three
protocols) and the aws command."""
import base64
import datetime as dt
import json
import struct

import pytest
from botocore.exceptions import ClientError

BODY = json.dumps({
    "widgets": [
        {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
         "properties": {"metrics": [["App", "Latency", "Host", "a"]], "region": "us-east-1",
                        "stat": "Average", "period": 60, "title": "Latency"}},
        {"type": "text", "x": 12, "y": 0, "width": 6, "height": 3, "properties": {"markdown": "# Notes"}},
    ]
}, indent=1)


def png_size(data):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def put_latency(cloudwatch, host, value, minutes=30):
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    cloudwatch.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": host}],
         "Timestamp": now - dt.timedelta(minutes=m), "Value": value + m % 5}
        for m in range(1, minutes + 1)
    ])


def test_put_get_list_delete(cloudwatch):
    out = cloudwatch.put_dashboard(DashboardName="ops-main", DashboardBody=BODY)
    assert out["DashboardValidationMessages"] == []
    cloudwatch.put_dashboard(DashboardName="ops-db", DashboardBody='{"widgets":[]}')
    cloudwatch.put_dashboard(DashboardName="team", DashboardBody='{"widgets":[]}')

    got = cloudwatch.get_dashboard(DashboardName="ops-main")
    assert got["DashboardName"] == "ops-main"
    assert got["DashboardBody"] == BODY
    assert got["DashboardArn"].startswith("arn:aws:cloudwatch::")
    assert got["DashboardArn"].endswith(":dashboard/ops-main")

    listed = cloudwatch.list_dashboards(DashboardNamePrefix="ops-")
    assert [e["DashboardName"] for e in listed["DashboardEntries"]] == ["ops-db", "ops-main"]
    sizes = {e["DashboardName"]: e["Size"] for e in listed["DashboardEntries"]}
    assert sizes == {"ops-db": len('{"widgets":[]}'), "ops-main": len(BODY.encode())}
    modified = listed["DashboardEntries"][0]["LastModified"]
    assert abs((dt.datetime.now(dt.timezone.utc) - modified).total_seconds()) < 60
    assert "NextToken" not in listed

    cloudwatch.delete_dashboards(DashboardNames=["ops-db", "team"])
    left = cloudwatch.list_dashboards()
    assert [e["DashboardName"] for e in left["DashboardEntries"]] == ["ops-main"]

    with pytest.raises(ClientError) as caught:
        cloudwatch.get_dashboard(DashboardName="team")
    error = caught.value.response["Error"]
    assert error["Code"] == "ResourceNotFound"
    assert error["Message"] == "Dashboard team does not exist"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_is_all_or_nothing(cloudwatch):
    cloudwatch.put_dashboard(DashboardName="keep", DashboardBody='{"widgets":[]}')
    with pytest.raises(ClientError) as caught:
        cloudwatch.delete_dashboards(DashboardNames=["keep", "missing"])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFound"
    assert cloudwatch.get_dashboard(DashboardName="keep")["DashboardName"] == "keep"


def test_invalid_body_lists_validation_errors(cloudwatch):
    body = json.dumps({"widgets": [{"type": "metric", "height": 0,
                                    "properties": {"metrics": [["App"]], "region": "us-east-1"}}]})
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_dashboard(DashboardName="bad", DashboardBody=body)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterInput"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    head, listed = error["Message"].split("\n", 1)
    assert head == "The dashboard body is invalid, there are 2 validation errors:"
    assert json.loads(listed) == [
        {"dataPath": "/widgets/0/height", "message": "Should be >= 1"},
        {"dataPath": "/widgets/0/properties/metrics/0",
         "message": 'Field "metrics" has to be an array of array of strings, with an optional metricRenderer object as last element'},
    ]

    expected = [
        {"DataPath": "/widgets/0/height", "Message": "Should be >= 1"},
        {"DataPath": "/widgets/0/properties/metrics/0",
         "Message": 'Field "metrics" has to be an array of array of strings, with an optional metricRenderer object as last element'},
    ]
    if cloudwatch.protocol == "query":
        # botocore leaves query error members unparsed (repeated <member> elements collapse
        # into one dict); what it kept must be one of the messages.
        raw = caught.value.response["Error"]["dashboardValidationMessages"]["member"]
        assert all(m in expected for m in (raw if isinstance(raw, list) else [raw])), raw
    else:
        assert caught.value.response["dashboardValidationMessages"] == expected

    with pytest.raises(ClientError) as caught:
        cloudwatch.put_dashboard(DashboardName="bad", DashboardBody="[1, 2]")
    assert caught.value.response["Error"]["Message"] == "The field DashboardBody must be a valid JSON object"
    assert cloudwatch.list_dashboards()["DashboardEntries"] == []


def test_metric_widget_image(cloudwatch):
    put_latency(cloudwatch, "a", 10)
    put_latency(cloudwatch, "b", 20)
    widget = {
        "title": "Latency", "width": 640, "height": 360, "period": 60, "start": "-PT1H",
        "metrics": [["App", "Latency", "Host", "a", {"id": "m1"}], ["...", "b", {"id": "m2"}],
                    [{"expression": "(m1 + m2) / 2", "label": "Mean", "id": "e1"}]],
        "annotations": {"horizontal": [{"value": 18, "label": "Target"}]},
    }
    out = cloudwatch.get_metric_widget_image(MetricWidget=json.dumps(widget), OutputFormat="png")
    image = out["MetricWidgetImage"]
    assert isinstance(image, bytes)
    assert png_size(image) == (640, 360)

    default = cloudwatch.get_metric_widget_image(MetricWidget=json.dumps({"metrics": [["App", "Nothing"]]}))
    assert png_size(default["MetricWidgetImage"]) == (600, 400)

    with pytest.raises(ClientError) as caught:
        cloudwatch.get_metric_widget_image(MetricWidget="{oops")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterInput"


def test_cli_dashboards_and_widget_image(aws, tmp_path):
    code, out, err = aws("cloudwatch", "put-dashboard", "--dashboard-name", "cli-board", "--dashboard-body", BODY)
    assert code == 0, err
    assert out == {"DashboardValidationMessages": []}

    code, out, err = aws("cloudwatch", "get-dashboard", "--dashboard-name", "cli-board")
    assert code == 0, err
    assert out["DashboardBody"] == BODY
    assert out["DashboardName"] == "cli-board"

    code, out, err = aws("cloudwatch", "list-dashboards", "--dashboard-name-prefix", "cli-")
    assert code == 0, err
    assert [e["DashboardName"] for e in out["DashboardEntries"]] == ["cli-board"]

    code, out, err = aws("cloudwatch", "get-metric-widget-image", "--metric-widget",
                         json.dumps({"metrics": [["App", "Latency", "Host", "a"]], "width": 300, "height": 200}),
                         "--output-format", "png")
    assert code == 0, err
    image = base64.b64decode(out["MetricWidgetImage"])
    target = tmp_path / "widget.png"
    target.write_bytes(image)
    assert png_size(target.read_bytes()) == (300, 200)

    code, out, err = aws("cloudwatch", "delete-dashboards", "--dashboard-names", "cli-board", "nope")
    assert code in (254, 255)
    assert "(ResourceNotFound)" in err
    code, out, err = aws("cloudwatch", "delete-dashboards", "--dashboard-names", "cli-board")
    assert code == 0, err
    code, out, err = aws("cloudwatch", "list-dashboards")
    assert code == 0, err
    assert out["DashboardEntries"] == []
