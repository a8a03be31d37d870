"""CloudWatch metrics through botocore clients forced to each of CloudWatch's three protocols
(AWS query, awsJson 1.0, Smithy RPC v2 CBOR): every scenario runs once per protocol."""
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError

from conftest import PROTOCOLS, make_client

SERVICE_TARGET = "GraniteServiceVersion20100801"


def minute(n_ago):
    """The start of the minute `n_ago` minutes before the current one (UTC)."""
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=n_ago)


def sec(t, seconds):
    return t + dt.timedelta(seconds=seconds)


def header(request, name):
    value = request.headers.get(name)
    return value.decode() if isinstance(value, bytes) else value


# ---------------------------------------------------------------------------------------------
# The protocol really used
# ---------------------------------------------------------------------------------------------


def test_requests_and_responses_use_the_forced_protocol(cloudwatch, protocol):
    cloudwatch.put_metric_data(Namespace="Proto", MetricData=[{"MetricName": "m", "Value": 1}])
    out = cloudwatch.list_metrics(Namespace="Proto")
    assert out["Metrics"] == [{"Namespace": "Proto", "MetricName": "m", "Dimensions": []}]
    assert len(out["ResponseMetadata"]["RequestId"]) >= 16  # from the XML body or x-amzn-RequestId

    request = cloudwatch.wire.requests[-1]
    response = cloudwatch.wire.responses[-1]
    path = urlsplit(request.url).path
    content_type = header(request, "Content-Type")
    response_type = response["headers"].get("content-type") or response["headers"].get("Content-Type")
    assert request.method == "POST"
    if protocol == "query":
        assert content_type.startswith("application/x-www-form-urlencoded")
        form = parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
        assert form["Action"] == ["ListMetrics"] and form["Version"] == ["2010-08-01"]
        assert form["Namespace"] == ["Proto"]
        assert header(request, "X-Amz-Target") is None
        assert path in ("", "/")
        assert response_type.startswith("text/xml")
        assert response["body"].lstrip().startswith(b"<ListMetricsResponse")
    elif protocol == "json":
        assert content_type == "application/x-amz-json-1.0"
        assert header(request, "X-Amz-Target") == f"{SERVICE_TARGET}.ListMetrics"
        assert header(request, "x-amzn-query-mode") == "true"
        assert path in ("", "/")
        assert response_type.startswith("application/x-amz-json-1.0")
        assert response["body"].lstrip().startswith(b"{")
    else:
        assert content_type == "application/cbor"
        assert header(request, "smithy-protocol") == "rpc-v2-cbor"
        assert header(request, "x-amzn-query-mode") == "true"
        assert header(request, "X-Amz-Target") is None
        assert path == f"/service/{SERVICE_TARGET}/operation/ListMetrics"
        assert response_type.startswith("application/cbor")
        assert response["headers"].get("smithy-protocol") == "rpc-v2-cbor"
        # A CBOR map (major type 5), not JSON or XML.
        assert response["body"][0] >> 5 == 5


def test_unforced_client_speaks_the_models_preferred_protocol(endpoint):
    client = make_client(endpoint, "cloudwatch")
    offered = client.meta.service_model.metadata["protocols"]
    assert set(offered) == set(PROTOCOLS)
    assert client.protocol in PROTOCOLS
    client.put_metric_data(Namespace="Default", MetricData=[{"MetricName": "m", "Value": 3}])
    assert client.list_metrics()["Metrics"] == [{"Namespace": "Default", "MetricName": "m", "Dimensions": []}]
    if client.protocol == "smithy-rpc-v2-cbor":
        assert urlsplit(client.wire.requests[-1].url).path.endswith("/operation/ListMetrics")


# ---------------------------------------------------------------------------------------------
# PutMetricData then GetMetricStatistics
# ---------------------------------------------------------------------------------------------

HOST_A = [{"Name": "Host", "Value": "a"}, {"Name": "Env", "Value": "prod"}]


def test_statistics_over_every_kind_of_datum(cloudwatch):
    t0 = minute(30)
    cloudwatch.put_metric_data(
        Namespace="App",
        MetricData=[
            # Minute 0: 10, 20, 30, 30, 30, 40, 50  -> n=7, sum=210, min 10, max 50
            {"MetricName": "Latency", "Dimensions": HOST_A, "Timestamp": t0, "Value": 10, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": HOST_A, "Timestamp": sec(t0, 2), "Values": [20, 30], "Counts": [1, 3],
             "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": HOST_A, "Timestamp": sec(t0, 59.5), "Values": [40, 50],
             "Unit": "Milliseconds"},
            # Minute 1: a statistic set and one value -> n=5, sum=112, min 5, max 60
            {"MetricName": "Latency", "Dimensions": HOST_A, "Timestamp": sec(t0, 61),
             "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 60}, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": HOST_A, "Timestamp": sec(t0, 119), "Value": 12, "Unit": "Milliseconds"},
            # Exactly at EndTime (exclusive): never counted.
            {"MetricName": "Latency", "Dimensions": HOST_A, "Timestamp": sec(t0, 120), "Value": 1000, "Unit": "Milliseconds"},
            # Same name, other dimensions: another metric.
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}], "Timestamp": sec(t0, 5), "Value": 999},
        ],
    )
    out = cloudwatch.get_metric_statistics(
        Namespace="App", MetricName="Latency",
        Dimensions=list(reversed(HOST_A)),  # dimension order does not matter
        StartTime=t0, EndTime=sec(t0, 120), Period=60,
        Statistics=["Sum", "Average", "Minimum", "Maximum", "SampleCount"],
    )
    assert out["Label"] == "Latency"
    points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in points] == [t0, sec(t0, 60)]
    assert [(p["SampleCount"], p["Sum"], p["Average"], p["Minimum"], p["Maximum"], p["Unit"]) for p in points] == [
        (7.0, 210.0, 30.0, 10.0, 50.0, "Milliseconds"),
        (5.0, 112.0, 22.4, 5.0, 60.0, "Milliseconds"),
    ]

    hourly = cloudwatch.get_metric_statistics(
        Namespace="App", MetricName="Latency", Dimensions=HOST_A,
        StartTime=t0, EndTime=sec(t0, 120), Period=3600, Statistics=["Sum", "SampleCount"],
    )
    assert [(p["Sum"], p["SampleCount"]) for p in hourly["Datapoints"]] == [(322.0, 12.0)]

    only_b = cloudwatch.get_metric_statistics(
        Namespace="App", MetricName="Latency", Dimensions=[{"Name": "Host", "Value": "b"}],
        StartTime=t0, EndTime=sec(t0, 120), Period=60, Statistics=["Maximum"],
    )
    assert [(p["Maximum"], p["Unit"]) for p in only_b["Datapoints"]] == [(999.0, "None")]
    assert set(only_b["Datapoints"][0]) == {"Timestamp", "Maximum", "Unit"}


def test_dimensions_must_match_exactly(cloudwatch):
    t0 = minute(10)
    cloudwatch.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Hits", "Dimensions": HOST_A, "Timestamp": t0, "Value": 5},
    ])

    def sums(dimensions):
        out = cloudwatch.get_metric_statistics(
            Namespace="App", MetricName="Hits", Dimensions=dimensions,
            StartTime=t0, EndTime=sec(t0, 60), Period=60, Statistics=["Sum"],
        )
        return [p["Sum"] for p in out["Datapoints"]]

    assert sums(HOST_A) == [5.0]
    assert sums(HOST_A[:1]) == []  # a subset of the dimensions is another metric
    assert sums([]) == []
    assert sums([{"Name": "Host", "Value": "a"}, {"Name": "Env", "Value": "dev"}]) == []


def test_unit_filter(cloudwatch):
    t0 = minute(10)
    cloudwatch.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Size", "Timestamp": sec(t0, 1), "Value": 3, "Unit": "Bytes"},
        {"MetricName": "Size", "Timestamp": sec(t0, 2), "Value": 4, "Unit": "Bytes"},
    ])

    def query(**unit):
        return cloudwatch.get_metric_statistics(Namespace="App", MetricName="Size", StartTime=t0, EndTime=sec(t0, 60),
                                                Period=60, Statistics=["Sum"], **unit)["Datapoints"]

    assert [(p["Sum"], p["Unit"]) for p in query(Unit="Bytes")] == [(7.0, "Bytes")]
    assert query(Unit="Kilobytes") == []
    assert [(p["Sum"], p["Unit"]) for p in query()] == [(7.0, "Bytes")]


def test_percentiles_over_known_data(cloudwatch):
    t0 = minute(20)
    cloudwatch.put_metric_data(Namespace="App", MetricData=[
        # Minute 0: eight 10s and two 50s.
        {"MetricName": "Latency", "Timestamp": sec(t0, 1), "Values": [10, 50], "Counts": [8, 2]},
        # Minute 1: 100 once and 1 nineteen times (the 1s partly as a statistic set whose
        # Minimum equals its Maximum, which AWS documents as usable for percentiles).
        {"MetricName": "Latency", "Timestamp": sec(t0, 61), "Values": [100, 1], "Counts": [1, 9]},
        {"MetricName": "Latency", "Timestamp": sec(t0, 62),
         "StatisticValues": {"SampleCount": 10, "Sum": 10, "Minimum": 1, "Maximum": 1}},
    ])
    out = cloudwatch.get_metric_statistics(
        Namespace="App", MetricName="Latency", StartTime=t0, EndTime=sec(t0, 120), Period=60,
        ExtendedStatistics=["p90", "p50", "p100"],
    )
    points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["ExtendedStatistics"] for p in points] == [
        {"p90": 50.0, "p50": 10.0, "p100": 50.0},
        {"p90": 1.0, "p50": 1.0, "p100": 100.0},
    ]
    assert [p["Timestamp"] for p in points] == [t0, sec(t0, 60)]


# ---------------------------------------------------------------------------------------------
# ListMetrics
# ---------------------------------------------------------------------------------------------


def test_list_metrics_filters(cloudwatch):
    cloudwatch.put_metric_data(Namespace="Web", MetricData=[
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "h1"}, {"Name": "Role", "Value": "web"}], "Value": 1},
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "h2"}, {"Name": "Role", "Value": "db"}], "Value": 1},
        {"MetricName": "CPU", "Dimensions": [{"Name": "Host", "Value": "h3"}], "Value": 1},
        {"MetricName": "Mem", "Dimensions": [{"Name": "Host", "Value": "h1"}], "Value": 1},
        {"MetricName": "Mem", "Value": 1},
    ])
    cloudwatch.put_metric_data(Namespace="Batch", MetricData=[
        {"MetricName": "CPU", "Dimensions": [{"Name": "Role", "Value": "web"}], "Value": 1},
    ])

    def listed(**filters):
        out = cloudwatch.list_metrics(**filters)
        assert "NextToken" not in out
        return sorted(
            (m["Namespace"], m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
            for m in out["Metrics"]
        )

    assert len(listed()) == 6
    assert listed(Namespace="Batch") == [("Batch", "CPU", (("Role", "web"),))]
    assert listed(Namespace="Web", MetricName="Mem") == [
        ("Web", "Mem", ()),
        ("Web", "Mem", (("Host", "h1"),)),
    ]
    assert listed(Dimensions=[{"Name": "Role", "Value": "web"}]) == [
        ("Batch", "CPU", (("Role", "web"),)),
        ("Web", "CPU", (("Host", "h1"), ("Role", "web"))),
    ]
    # A dimension filter without a value matches any value of that dimension.
    assert listed(Namespace="Web", Dimensions=[{"Name": "Role"}]) == [
        ("Web", "CPU", (("Host", "h1"), ("Role", "web"))),
        ("Web", "CPU", (("Host", "h2"), ("Role", "db"))),
    ]
    assert listed(MetricName="CPU", Dimensions=[{"Name": "Host", "Value": "h1"}, {"Name": "Role"}]) == [
        ("Web", "CPU", (("Host", "h1"), ("Role", "web"))),
    ]
    assert listed(Namespace="Nope") == []
    assert listed(Namespace="Web", Dimensions=[{"Name": "Zone"}]) == []


def test_list_metrics_pages_every_metric_exactly_once(cloudwatch):
    names = [f"m{i:04}" for i in range(1234)]
    for chunk in range(0, len(names), 500):
        cloudwatch.put_metric_data(Namespace="Many", MetricData=[
            {"MetricName": name, "Dimensions": [{"Name": "Shard", "Value": str(i % 3)}], "Value": 1.0}
            for i, name in enumerate(names[chunk:chunk + 500], start=chunk)
        ])
    seen, sizes, token = [], [], None
    while True:
        page = cloudwatch.list_metrics(Namespace="Many", **({"NextToken": token} if token else {}))
        sizes.append(len(page["Metrics"]))
        seen.extend(m["MetricName"] for m in page["Metrics"])
        token = page.get("NextToken")
        if not token:
            break
    assert sizes == [500, 500, 234]
    assert sorted(seen) == names

    # The same walk with a dimension filter, through botocore's paginator.
    shard0 = [m["MetricName"] for page in cloudwatch.get_paginator("list_metrics").paginate(
        Namespace="Many", Dimensions=[{"Name": "Shard", "Value": "0"}]) for m in page["Metrics"]]
    assert sorted(shard0) == names[::3]


# ---------------------------------------------------------------------------------------------
# GetMetricData
# ---------------------------------------------------------------------------------------------


def stat_query(qid, name, stat, **extra):
    return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": name}, "Period": 60, "Stat": stat},
            **extra}


@pytest.fixture
def shop(cloudwatch):
    """Orders: 1..5 in minutes 0..4 (two datapoints each); Refunds: 10 in minutes 1 and 3."""
    t0 = minute(15)
    cloudwatch.put_metric_data(Namespace="Shop", MetricData=[
        {"MetricName": "Orders", "Timestamp": sec(t0, 60 * m + s), "Value": (m + 1) * (1 if s == 5 else 3)}
        for m in range(5) for s in (5, 50)
    ] + [
        {"MetricName": "Refunds", "Timestamp": sec(t0, 60 * m + 30), "Value": 10} for m in (1, 3)
    ])
    return t0


def test_get_metric_data_two_queries_labels_and_return_data(cloudwatch, shop):
    t0 = shop
    out = cloudwatch.get_metric_data(
        MetricDataQueries=[
            stat_query("orders", "Orders", "Sum", Label="Orders per minute"),
            stat_query("hidden", "Orders", "Maximum", ReturnData=False),
            stat_query("refunds", "Refunds", "SampleCount"),
        ],
        StartTime=t0, EndTime=sec(t0, 300), ScanBy="TimestampAscending",
    )
    assert "NextToken" not in out
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert [r["Id"] for r in out["MetricDataResults"]] == ["orders", "refunds"]
    orders, refunds = results["orders"], results["refunds"]
    assert orders["Label"] == "Orders per minute"
    assert orders["StatusCode"] == "Complete"
    assert orders["Values"] == [4.0, 8.0, 12.0, 16.0, 20.0]
    assert orders["Timestamps"] == [sec(t0, 60 * m) for m in range(5)]
    assert refunds["Label"] == "Refunds"
    assert refunds["Values"] == [1.0, 1.0]
    assert refunds["Timestamps"] == [sec(t0, 60), sec(t0, 180)]


def test_get_metric_data_scan_by(cloudwatch, shop):
    t0 = shop

    def run(**scan):
        out = cloudwatch.get_metric_data(MetricDataQueries=[stat_query("m", "Orders", "Minimum")],
                                         StartTime=t0, EndTime=sec(t0, 300), **scan)
        (result,) = out["MetricDataResults"]
        return result["Values"], result["Timestamps"]

    ascending = run(ScanBy="TimestampAscending")
    assert ascending == ([1.0, 2.0, 3.0, 4.0, 5.0], [sec(t0, 60 * m) for m in range(5)])
    descending = run(ScanBy="TimestampDescending")
    assert descending == ([5.0, 4.0, 3.0, 2.0, 1.0], [sec(t0, 60 * m) for m in reversed(range(5))])
    assert run() == descending  # TimestampDescending is the default


def test_get_metric_data_max_datapoints_and_next_token(cloudwatch, shop):
    t0 = shop
    values, timestamps, pages, token = [], [], 0, None
    while True:
        page = cloudwatch.get_metric_data(
            MetricDataQueries=[stat_query("m", "Orders", "Maximum")], StartTime=t0, EndTime=sec(t0, 300),
            ScanBy="TimestampAscending", MaxDatapoints=2, **({"NextToken": token} if token else {}))
        pages += 1
        (result,) = page["MetricDataResults"]
        assert len(result["Values"]) <= 2
        values.extend(result["Values"])
        timestamps.extend(result["Timestamps"])
        token = page.get("NextToken")
        if token:
            assert result["StatusCode"] == "PartialData"
        else:
            assert result["StatusCode"] == "Complete"
            break
    assert pages == 3
    assert values == [3.0, 6.0, 9.0, 12.0, 15.0]
    assert timestamps == [sec(t0, 60 * m) for m in range(5)]

    # Two queries: the pages together hold each query's full series, MaxDatapoints at a time.
    queries = [stat_query("orders", "Orders", "Sum"), stat_query("refunds", "Refunds", "Sum")]
    full = {r["Id"]: r["Values"] for r in cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=t0, EndTime=sec(t0, 300))["MetricDataResults"]}
    assert full == {"orders": [20.0, 16.0, 12.0, 8.0, 4.0], "refunds": [10.0, 10.0]}
    paged, token = {"orders": [], "refunds": []}, None
    for _ in range(10):
        page = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=t0, EndTime=sec(t0, 300),
                                          MaxDatapoints=3, **({"NextToken": token} if token else {}))
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= 3
        for r in page["MetricDataResults"]:
            paged[r["Id"]].extend(r["Values"])
        token = page.get("NextToken")
        if not token:
            break
    assert paged == full


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

ERROR_CASES = {
    "period-61": (
        "InvalidParameterValue",
        lambda c, t: c.get_metric_statistics(Namespace="A", MetricName="B", StartTime=t, EndTime=sec(t, 600),
                                             Period=61, Statistics=["Sum"])),
    "start-after-end": (
        "InvalidParameterValue",
        lambda c, t: c.get_metric_statistics(Namespace="A", MetricName="B", StartTime=sec(t, 600), EndTime=t,
                                             Period=60, Statistics=["Sum"])),
    "start-equals-end": (
        "InvalidParameterValue",
        lambda c, t: c.get_metric_statistics(Namespace="A", MetricName="B", StartTime=t, EndTime=t,
                                             Period=60, Statistics=["Sum"])),
    "1441-datapoints": (
        "InvalidParameterCombination",
        lambda c, t: c.get_metric_statistics(Namespace="A", MetricName="B", StartTime=t - dt.timedelta(minutes=1441),
                                             EndTime=t, Period=60, Statistics=["Sum"])),
    "value-and-statistic-values": (
        "InvalidParameterCombination",
        lambda c, t: c.put_metric_data(Namespace="A", MetricData=[{
            "MetricName": "x", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])),
    "missing-metric-name": (
        "MissingParameter",
        lambda c, t: c.get_metric_statistics(Namespace="A", StartTime=t, EndTime=sec(t, 600), Period=60,
                                             Statistics=["Sum"])),
    "missing-namespace": (
        "MissingParameter",
        lambda c, t: c.put_metric_data(MetricData=[{"MetricName": "x", "Value": 1}])),
}

# The modeled exception each code maps to in botocore.
EXCEPTIONS = {
    "InvalidParameterValue": "InvalidParameterValueException",
    "InvalidParameterCombination": "InvalidParameterCombinationException",
    "MissingParameter": "MissingRequiredParameterException",
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_carry_aws_codes(cloudwatch_unvalidated, case):
    client = cloudwatch_unvalidated
    code, call = ERROR_CASES[case]
    with pytest.raises(ClientError) as excinfo:
        call(client, minute(30))
    error = excinfo.value.response["Error"]
    assert (error["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, 400)
    assert error["Type"] == "Sender"
    assert error["Message"]
    assert isinstance(excinfo.value, getattr(client.exceptions, EXCEPTIONS[code]))


def test_1440_datapoints_is_the_limit_not_an_error(cloudwatch):
    t = minute(30)
    cloudwatch.put_metric_data(Namespace="A", MetricData=[{"MetricName": "B", "Timestamp": sec(t, -90), "Value": 2}])
    out = cloudwatch.get_metric_statistics(Namespace="A", MetricName="B", StartTime=t - dt.timedelta(minutes=1440),
                                           EndTime=t, Period=60, Statistics=["Sum"])
    assert [(p["Timestamp"], p["Sum"]) for p in out["Datapoints"]] == [(sec(t, -120), 2.0)]


def test_unknown_operation_uses_the_protocols_error(cloudwatch, protocol):
    # Metric streams are not implemented (README coverage table).
    with pytest.raises(ClientError) as raised:
        cloudwatch.list_metric_streams()
    expected = "InvalidAction" if protocol == "query" else "UnknownOperationException"
    assert raised.value.response["Error"]["Code"] == expected
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# ---------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------


def test_accounts_are_isolated(endpoint, protocol):
    alice = make_client(endpoint, "cloudwatch", protocol, access_key="111111111111")
    bob = make_client(endpoint, "cloudwatch", protocol, access_key="222222222222")
    t0 = minute(5)
    alice.put_metric_data(Namespace="Mine", MetricData=[{"MetricName": "m", "Timestamp": t0, "Value": 1}])
    bob.put_metric_data(Namespace="Mine", MetricData=[{"MetricName": "m", "Timestamp": t0, "Value": 40},
                                                      {"MetricName": "only-bob", "Timestamp": t0, "Value": 2}])
    assert [m["MetricName"] for m in alice.list_metrics()["Metrics"]] == ["m"]
    assert sorted(m["MetricName"] for m in bob.list_metrics()["Metrics"]) == ["m", "only-bob"]

    def total(client):
        out = client.get_metric_statistics(Namespace="Mine", MetricName="m", StartTime=t0, EndTime=sec(t0, 60),
                                           Period=60, Statistics=["Sum"])
        return [p["Sum"] for p in out["Datapoints"]]

    assert total(alice) == [1.0]
    assert total(bob) == [40.0]


# ---------------------------------------------------------------------------------------------
# More of what AWS documents
# ---------------------------------------------------------------------------------------------


def test_start_time_is_rounded_down_to_the_minute(cloudwatch):
    # GetMetricStatistics reference: a start time less than 15 days ago is rounded down to the
    # minute (12:32:34 -> 12:32:00), and datapoints are stamped from that rounded start.
    t0 = minute(10)
    cloudwatch.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": "Hits", "Timestamp": sec(t0, 10), "Value": 5},
        {"MetricName": "Hits", "Timestamp": sec(t0, 70), "Value": 7},
    ])
    out = cloudwatch.get_metric_statistics(Namespace="App", MetricName="Hits", StartTime=sec(t0, 34),
                                           EndTime=sec(t0, 120), Period=60, Statistics=["Sum"])
    assert sorted((p["Timestamp"], p["Sum"]) for p in out["Datapoints"]) == [(t0, 5.0), (sec(t0, 60), 7.0)]


def test_high_resolution_metrics_and_short_periods(cloudwatch):
    t0 = minute(5)
    cloudwatch.put_metric_data(Namespace="Hi", MetricData=[
        {"MetricName": "Ticks", "Timestamp": sec(t0, s), "Value": v, "StorageResolution": 1}
        for s, v in [(1, 1), (9, 2), (11, 4), (25, 8)]
    ])
    out = cloudwatch.get_metric_statistics(Namespace="Hi", MetricName="Ticks", StartTime=t0, EndTime=sec(t0, 30),
                                           Period=10, Statistics=["Sum", "SampleCount"])
    assert sorted((p["Timestamp"], p["Sum"], p["SampleCount"]) for p in out["Datapoints"]) == [
        (t0, 3.0, 2.0), (sec(t0, 10), 4.0, 1.0), (sec(t0, 20), 8.0, 1.0)]
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "t", "MetricStat": {"Metric": {"Namespace": "Hi", "MetricName": "Ticks"},
                                                      "Period": 5, "Stat": "Maximum"}}],
        StartTime=t0, EndTime=sec(t0, 30), ScanBy="TimestampAscending")
    (result,) = data["MetricDataResults"]
    assert result["Values"] == [1.0, 2.0, 4.0, 8.0]
    assert result["Timestamps"] == [t0, sec(t0, 5), sec(t0, 10), sec(t0, 25)]


def test_names_with_characters_that_need_escaping(cloudwatch):
    namespace = "Team A/Svc&Co <prod>"
    name = "p99 'latency' = \"50%\" + more"
    dims = [{"Name": "Path & Query", "Value": "/a?b=c&d=<e>"}]
    t0 = minute(5)
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Dimensions": dims, "Timestamp": t0, "Value": 42}])
    listed = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert listed == [{"Namespace": namespace, "MetricName": name, "Dimensions": dims}]
    out = cloudwatch.get_metric_statistics(Namespace=namespace, MetricName=name, Dimensions=dims, StartTime=t0,
                                           EndTime=sec(t0, 60), Period=60, Statistics=["Maximum"])
    assert out["Label"] == name
    assert [p["Maximum"] for p in out["Datapoints"]] == [42.0]


def test_gzip_compressed_put_metric_data(endpoint, protocol):
    # PutMetricData carries the requestcompression trait: SDKs gzip bodies above a threshold
    # (10 KiB by default). Force it for a small body.
    client = make_client(endpoint, "cloudwatch", protocol, request_min_compression_size_bytes=1)
    t0 = minute(5)
    client.put_metric_data(Namespace="Zip", MetricData=[
        {"MetricName": "z", "Timestamp": t0, "Value": v} for v in (1, 2, 3)])
    assert header(client.wire.requests[-1], "Content-Encoding") == "gzip"
    out = client.get_metric_statistics(Namespace="Zip", MetricName="z", StartTime=t0, EndTime=sec(t0, 60),
                                       Period=60, Statistics=["Sum", "SampleCount"])
    assert [(p["Sum"], p["SampleCount"]) for p in out["Datapoints"]] == [(6.0, 3.0)]


def test_invalid_next_tokens(cloudwatch):
    t0 = minute(5)
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_data(MetricDataQueries=[stat_query("m", "Orders", "Sum")], StartTime=t0,
                                   EndTime=sec(t0, 60), NextToken="not-a-token")
    assert excinfo.value.response["Error"]["Code"] == "InvalidNextToken"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.list_metrics(NextToken="not-a-token")
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_timestamps_older_than_two_weeks_are_rejected(cloudwatch):
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.put_metric_data(Namespace="Old", MetricData=[
            {"MetricName": "m", "Timestamp": minute(15 * 24 * 60), "Value": 1}])
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert cloudwatch.list_metrics(Namespace="Old")["Metrics"] == []


def test_regions_are_isolated(endpoint, protocol):
    east = make_client(endpoint, "cloudwatch", protocol)
    west = make_client(endpoint, "cloudwatch", protocol, region="eu-west-1")
    east.put_metric_data(Namespace="Geo", MetricData=[{"MetricName": "m", "Value": 1}])
    assert [m["MetricName"] for m in east.list_metrics(Namespace="Geo")["Metrics"]] == ["m"]
    assert west.list_metrics(Namespace="Geo")["Metrics"] == []


# Error messages as AWS words them, where real AWS responses are on record.
def test_datapoint_limit_message(cloudwatch):
    t = minute(30)
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_statistics(Namespace="A", MetricName="B", StartTime=t - dt.timedelta(minutes=1441),
                                         EndTime=t, Period=60, Statistics=["Sum"])
    assert excinfo.value.response["Error"]["Message"] == (
        "You have requested up to 1441 datapoints, which exceeds the limit of 1440. "
        "You may reduce the datapoints requested by increasing Period, or decreasing the time range.")


def test_get_metric_statistics_start_equal_to_end_message(cloudwatch):
    t = minute(30)
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_statistics(Namespace="A", MetricName="B", StartTime=t, EndTime=t, Period=60,
                                         Statistics=["Sum"])
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue", "The parameter StartTime must not equal parameter EndTime.")


def test_get_metric_data_start_equal_to_end(cloudwatch):
    t = minute(30)
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_data(MetricDataQueries=[stat_query("m", "Orders", "Sum")], StartTime=t, EndTime=t)
    error = excinfo.value.response["Error"]
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (error["Code"], error["Message"]) == (
        "ValidationError", "The parameter StartTime must not equal parameter EndTime.")


def test_get_metric_data_start_after_end(cloudwatch):
    t = minute(30)
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_data(MetricDataQueries=[stat_query("m", "Orders", "Sum")], StartTime=sec(t, 60),
                                   EndTime=t)
    error = excinfo.value.response["Error"]
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Type"] == "Sender"
    # No AWS response is on record for this case; either client-error code is plausible.
    assert error["Code"] in ("ValidationError", "InvalidParameterValue")
