"""The console's Dashboards view in a real browser: the list (prefix search, delete) and a
dashboard drawn from its body (metric graphs in each view, markdown text, alarm status, Logs
Insights widgets), with data created through boto3."""
import datetime as dt
import json
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import make_client
from console_support import wait_until

XSS = '<img src=x onerror="window.__xss=1">'
HOOK = "window.__wtPerf && window.__wtPerf.dashboard"
MARKDOWN = "\n".join([
    "# Shop overview",
    "",
    "- first item",
    "- second item",
    "",
    "See the [runbook](https://example.com/runbook).",
    "",
    XSS,
])


def minute_now():
    return dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)


def put_metrics(cloudwatch):
    """30 minutes of Shop metrics: Latency for hosts a (101…130) and b (201…230), Orders
    (11…40); the newest datapoint (a minute ago) is Latency 101/201, Orders 11."""
    now = minute_now()
    data = []
    for m in range(1, 31):
        ts = now - dt.timedelta(minutes=m)
        data += [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}], "Timestamp": ts, "Value": 100 + m},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}], "Timestamp": ts, "Value": 200 + m},
            {"MetricName": "Orders", "Timestamp": ts, "Value": 10 + m},
        ]
    cloudwatch.put_metric_data(Namespace="Shop", MetricData=data)


def put_alarms(cloudwatch):
    """latency-high (in ALARM: its data is over the threshold too) and orders-high (OK)."""
    common = {"Namespace": "Shop", "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1,
              "ComparisonOperator": "GreaterThanThreshold"}
    cloudwatch.put_metric_alarm(AlarmName="latency-high", MetricName="Latency", Threshold=50,
                                Dimensions=[{"Name": "Host", "Value": "a"}], **common)
    cloudwatch.put_metric_alarm(AlarmName="orders-high", MetricName="Orders", Threshold=1000, **common)
    cloudwatch.set_alarm_state(AlarmName="latency-high", StateValue="ALARM", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName="orders-high", StateValue="OK", StateReason="test")
    alarms = cloudwatch.describe_alarms(AlarmNames=["latency-high", "orders-high"])["MetricAlarms"]
    return {a["AlarmName"]: a["AlarmArn"] for a in alarms}


def put_logs(logs):
    logs.create_log_group(logGroupName="app")
    logs.create_log_stream(logGroupName="app", logStreamName="web")
    now_ms = int(time.time() * 1000)
    messages = ["GET /home 200", "GET /cart 200", "ERROR payment timeout", "POST /order 201"]
    logs.put_log_events(logGroupName="app", logStreamName="web", logEvents=[
        {"timestamp": now_ms - (len(messages) - i) * 60_000, "message": m} for i, m in enumerate(messages)
    ])
    return messages


def metric(view, metrics, x, y, **extra):
    return {"type": "metric", "x": x, "y": y, "width": 8, "height": 6,
            "properties": {"view": view, "metrics": metrics, "region": "us-east-1", "period": 60, **extra}}


def full_body(alarm_arns):
    ghost = alarm_arns["latency-high"].replace(":alarm:latency-high", ":alarm:ghost")
    return {
        "start": "-PT12H",
        "widgets": [
            metric("timeSeries", [["Shop", "Latency", "Host", "a"], [".", ".", ".", "b"]], 0, 0,
                   title="Latency by host", stat="Average",
                   annotations={"horizontal": [{"value": 150, "label": "SLO"}]}),
            metric("singleValue", [["Shop", "Orders", {"stat": "Sum", "label": "Orders"}]], 8, 0, title="Orders"),
            metric("bar", [["Shop", "Latency", "Host", "a"], ["...", "b"]], 16, 0, title="Latency bars"),
            metric("pie", [["Shop", "Latency", "Host", "a"], ["...", "b"]], 0, 6, title="Latency share"),
            {"type": "text", "x": 8, "y": 6, "width": 8, "height": 6, "properties": {"markdown": MARKDOWN}},
            {"type": "alarm", "x": 16, "y": 6, "width": 8, "height": 3,
             "properties": {"title": "Alarms", "alarms": [alarm_arns["latency-high"], alarm_arns["orders-high"], ghost]}},
            {"type": "log", "x": 0, "y": 12, "width": 12, "height": 6,
             "properties": {"title": "Requests", "region": "us-east-1", "view": "timeSeries",
                            "query": "SOURCE 'app' | stats count(*) by bin(5m)"}},
            {"type": "log", "x": 12, "y": 12, "width": 12, "height": 6,
             "properties": {"title": "Recent events", "region": "us-east-1",
                            "query": "SOURCE 'app' | fields @timestamp, @message | sort @timestamp desc | limit 20"}},
            {"type": "explorer", "x": 16, "y": 9, "width": 8, "height": 3, "properties": {}},
        ],
    }


def wait_dashboard(console, name, runs=1):
    return console.wait_js(f"{HOOK} && {HOOK}.name === {json.dumps(name)} && {HOOK}.runs >= {runs} && {HOOK}", timeout=15)


def widget(console, title):
    """The widget element whose title is `title`."""
    for el in console.find_all(".dash-widget"):
        heads = el.find_elements(By.CSS_SELECTOR, "h3")
        if heads and heads[0].text == title:
            return el
    raise AssertionError(f"no widget titled {title!r}")


def drain_http_errors(console):
    """The browser logs each 4xx answer as an error; those the test provoked are dropped, and
    anything else is still a failure."""
    errors = console.browser_errors()
    unexpected = [e for e in errors if "status of 400" not in e.get("message", "")]
    assert not unexpected, unexpected


def test_dashboard_draws_every_widget(endpoint, console):
    cloudwatch = make_client(endpoint, "cloudwatch")
    put_metrics(cloudwatch)
    arns = put_alarms(cloudwatch)
    messages = put_logs(make_client(endpoint, "logs"))
    cloudwatch.put_dashboard(DashboardName="ops-main", DashboardBody=json.dumps(full_body(arns)))

    console.open("/")
    console.click_text("Dashboards")
    console.click_text("ops-main")
    hook = wait_dashboard(console, "ops-main")
    assert "/_watchtrail/console/dashboards/ops-main" in console.url

    kinds = [(w["type"], w["view"], w["series"], w["error"]) for w in hook["widgets"]]
    assert kinds == [
        ("metric", "timeSeries", 2, None),
        ("metric", "singleValue", 1, None),
        ("metric", "bar", 2, None),
        ("metric", "pie", 2, None),
        ("text", None, 0, None),
        ("alarm", None, 3, None),
        ("log", "timeSeries", 1, None),
        ("log", "table", len(messages), None),
        ("explorer", None, 0, None),
    ]
    # Values: the newest datapoint of each series ("." and "..." rows resolved to host b).
    assert hook["widgets"][0]["latest"] == [101, 201]
    assert hook["widgets"][1]["latest"] == [11]
    assert hook["widgets"][2]["latest"] == [101, 201]
    assert widget(console, "Orders").text.splitlines()[-1] == "11"
    assert hook["drawMs"] >= 0 and hook["loadMs"] > 0
    # Grid placement from x/y/width/height.
    style = console.js("const s = document.querySelectorAll('.dash-widget')[4].style; return [s.gridColumn, s.gridRow];")
    assert style == ["9 / span 8", "7 / span 6"]
    assert len(console.find_all(".dash-widget canvas")) >= 3 * 2  # line, bar, pie, log line: 2 canvases each

    # Markdown: heading, list, link; the markup in it is text, never run.
    text = console.find(".dash-w-text .markdown")
    assert text.find_element(By.CSS_SELECTOR, "h2").text == "Shop overview"
    assert [li.text for li in text.find_elements(By.CSS_SELECTOR, "li")] == ["first item", "second item"]
    assert text.find_element(By.CSS_SELECTOR, "a").get_attribute("href") == "https://example.com/runbook"
    assert XSS in text.text
    assert not text.find_elements(By.CSS_SELECTOR, "img")
    assert console.js("return window.__xss") is None

    # Alarm tiles: name, state badge, link to the alarm's page.
    alarms = widget(console, "Alarms")
    tiles = {t.find_element(By.CSS_SELECTOR, ".dash-alarm-name").text: t for t in alarms.find_elements(By.CSS_SELECTOR, ".dash-alarm")}
    assert set(tiles) == {"latency-high", "orders-high", "ghost"}
    assert tiles["latency-high"].find_element(By.CSS_SELECTOR, ".badge").get_attribute("data-state") == "ALARM"
    assert tiles["orders-high"].find_element(By.CSS_SELECTOR, ".badge").get_attribute("data-state") == "OK"
    assert "Not found" in tiles["ghost"].text
    assert tiles["latency-high"].get_attribute("href").endswith("/_watchtrail/console/alarms/latency-high")

    # Logs: the table lists the events newest first; the bin() query is a line chart.
    rows = widget(console, "Recent events").find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [r.find_elements(By.CSS_SELECTOR, "td")[1].text for r in rows] == list(reversed(messages))
    assert widget(console, "Requests").find_elements(By.CSS_SELECTOR, "canvas")
    assert "not drawn" in console.find(".dash-w-unknown").text

    # The body's start (-PT12H) is the default range: its button is selected.
    assert hook["range"]["end"] - hook["range"]["start"] == 12 * 3600_000
    assert console.find(".range-picker button.active").text == "12h"


def test_range_change_requeries_and_source_toggle(endpoint, console):
    cloudwatch = make_client(endpoint, "cloudwatch")
    put_metrics(cloudwatch)
    body = {"widgets": [metric("timeSeries", [["Shop", "Latency", "Host", "a"]], 0, 0, title="Latency")]}
    cloudwatch.put_dashboard(DashboardName="ranges", DashboardBody=json.dumps(body))

    console.open("/dashboards/ranges")
    hook = wait_dashboard(console, "ranges")
    assert hook["range"]["end"] - hook["range"]["start"] == 3 * 3600_000
    # Record the GetMetricData requests the page sends from now on.
    console.js("""
        window.__gmd = [];
        const original = window.fetch;
        window.fetch = function (url, init) {
          if (init && String(init.headers['x-amz-target']).endsWith('.GetMetricData')) window.__gmd.push(JSON.parse(init.body));
          return original.apply(this, arguments);
        };""")
    console.click_text("1d", css=".range-picker button")
    sent = console.wait_js("window.__gmd.length && window.__gmd")
    assert sent[0]["EndTime"] - sent[0]["StartTime"] in range(86400, 86400 + 61)
    hook = wait_dashboard(console, "ranges", runs=2)
    assert hook["range"]["end"] - hook["range"]["start"] == 86400_000
    assert "range=1d" in console.url

    # View source shows the body; both choices survive a reload.
    console.click_text("View source")
    source = console.visible(".dash-source")
    assert '"widgets"' in source.text and '"Latency"' in source.text
    assert "source=1" in console.url
    console.driver.refresh()
    hook = wait_dashboard(console, "ranges")
    assert hook["range"]["end"] - hook["range"]["start"] == 86400_000
    assert console.visible(".dash-source").is_displayed()
    console.click_text("Hide source")
    wait_until(lambda: not console.find(".dash-source").is_displayed())

    # Auto refresh is recorded in the URL with its interval.
    console.find("#dash-autorefresh").click()
    wait_until(lambda: "refresh=60" in console.url)


def test_bad_expression_fails_only_its_widget(endpoint, console):
    cloudwatch = make_client(endpoint, "cloudwatch")
    put_metrics(cloudwatch)
    body = {"widgets": [
        metric("timeSeries", [["Shop", "Latency", "Host", "a"]], 0, 0, title="Good"),
        metric("timeSeries", [["Shop", "Latency", "Host", "a", {"id": "m1", "visible": False}],
                              [{"expression": "m1 +* 2", "id": "e1", "label": "Broken"}]], 8, 0, title="Bad math"),
        {"type": "text", "x": 16, "y": 0, "width": 8, "height": 3, "properties": {"markdown": "Still here"}},
    ]}
    cloudwatch.put_dashboard(DashboardName="broken", DashboardBody=json.dumps(body))

    console.open("/dashboards/broken")
    hook = wait_dashboard(console, "broken")
    errors = [w["error"] for w in hook["widgets"]]
    assert errors[0] is None and errors[2] is None
    assert errors[1].startswith("ValidationError: Error in expression e1")
    shown = widget(console, "Bad math").find_element(By.CSS_SELECTOR, ".error").text
    assert shown == errors[1]
    assert not widget(console, "Good").find_elements(By.CSS_SELECTOR, ".error")
    assert hook["widgets"][0]["series"] == 1
    assert "Still here" in console.find(".dash-w-text").text
    drain_http_errors(console)


def test_metric_rows_translate_to_queries(endpoint, console):
    console.open("/dashboards")
    console.find(".page-header")
    props = {
        "stat": "Maximum", "period": 300,
        "metrics": [
            ["AWS/EC2", "CPUUtilization", "InstanceId", "i-1", {"id": "m2"}],
            ["...", "i-2", {"stat": "p99", "label": "second"}],
            [".", "NetworkIn", ".", ".", {"visible": False}],
            [{"expression": "SUM(METRICS())", "label": "Total"}],
        ],
    }
    out = console.driver.execute_async_script("""
        const [props, done] = arguments;
        import('/_watchtrail/console/assets/views/dashboards.js')
          .then((m) => done(m.metricQueries(props, {override: 'auto', rangeMs: 3 * 3600e3})))
          .catch((e) => done({error: String(e)}));""", props)
    queries = out["queries"]
    assert [q["Id"] for q in queries] == ["m2", "m1", "m3", "e1"]
    assert queries[1]["MetricStat"] == {
        "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": [{"Name": "InstanceId", "Value": "i-2"}]},
        "Period": 300, "Stat": "p99"}
    assert queries[2]["MetricStat"]["Metric"] == {
        "Namespace": "AWS/EC2", "MetricName": "NetworkIn", "Dimensions": [{"Name": "InstanceId", "Value": "i-2"}]}
    assert queries[2]["MetricStat"]["Stat"] == "Maximum"
    assert [q["ReturnData"] for q in queries] == [True, True, False, True]
    assert queries[3] == {"Id": "e1", "Expression": "SUM(METRICS())", "Label": "Total", "Period": 300, "ReturnData": True}
    assert [r["label"] for r in out["rows"]] == ["CPUUtilization i-1", "second", "Total"]


def test_list_prefix_search_and_delete(endpoint, console):
    cloudwatch = make_client(endpoint, "cloudwatch")
    for name in ["ops-main", "ops-db", "team"]:
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody='{"widgets":[]}')

    console.open("/")
    console.click_text("Dashboards")
    console.wait_text("team", ".dash-list")
    names = lambda: [a.text for a in console.find_all(".dash-list a.dash-name")]  # noqa: E731
    assert names() == ["ops-db", "ops-main", "team"]
    assert console.find(".dash-list tbody tr").text.endswith("14 B")

    search = console.find("#dash-prefix")
    search.send_keys("ops-", Keys.ENTER)
    wait_until(lambda: names() == ["ops-db", "ops-main"])
    assert "prefix=ops-" in console.url

    console.find("input[aria-label='Select ops-db']").click()
    wait_until(lambda: "selected=ops-db" in console.url)
    console.find("#dash-delete").click()
    dialog = console.visible("#dash-confirm")
    assert "ops-db" in dialog.text
    console.find("#dash-confirm-delete").click()
    wait_until(lambda: names() == ["ops-main"])
    assert [e["DashboardName"] for e in cloudwatch.list_dashboards()["DashboardEntries"]] == ["ops-main", "team"]
    assert "selected" not in console.url

    # A prefix the API refuses: its message is shown under the search box.
    search.clear()
    search.send_keys("bad prefix!", Keys.ENTER)
    error = console.wait_text("DashboardNamePrefix is invalid", ".dash-list .error")
    assert "bad prefix!" in error.text
    drain_http_errors(console)
