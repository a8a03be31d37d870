"""The console's Logs views in a real browser: log groups, a group's tabs, the events viewer,
live tail and Logs Insights, against data written with boto3 (the `logs` fixture of conftest,
a make_client(endpoint, "logs") client)."""
import json
import time
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

GROUP = "/wt/console/app"
STREAM = "web-1"
XSS = '<img src=x onerror="window.__xss=1">'


def now_ms():
    return int(time.time() * 1000)


def put(logs, messages, group=GROUP, stream=STREAM, start=None, step=1):
    """Puts `messages` `step` ms apart (ending about now), in PutLogEvents batches of 10,000."""
    start = now_ms() - len(messages) * step - 1000 if start is None else start
    events = [{"timestamp": start + i * step, "message": m} for i, m in enumerate(messages)]
    for i in range(0, len(events), 10_000):
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events[i : i + 10_000])


def make_group(logs, group=GROUP, streams=(STREAM,)):
    logs.create_log_group(logGroupName=group)
    for s in streams:
        logs.create_log_stream(logGroupName=group, logStreamName=s)


def path(group, sub=""):
    """A view of `group`: its name is one encoded path segment."""
    return "/logs/" + quote(group, safe="") + (f"/{sub}" if sub else "")


def wait_js(console, script, timeout=10):
    """console.wait_js, polling every 100 ms rather than 500: these views answer in a few."""
    return WebDriverWait(console.driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script("return " + script))


def viewer(console):
    """What the events viewer says it holds: {rendered, total, renderMs}."""
    return console.js("return window.__wtPerf && window.__wtPerf.logsViewer")


def wait_total(console, n, timeout=15):
    wait_js(console, f"window.__wtPerf.logsViewer && window.__wtPerf.logsViewer.total === {n}", timeout)
    console.wait_text(f"{n:,} event", ".lg-count", timeout)


def messages(console):
    return console.js("return [...document.querySelectorAll('.lg-pane .lg-msg')].map((m) => m.textContent)")


def text_of(console, css):
    """An element's text, read in the page: WebDriver's .text is slow on a thousand rows."""
    return console.js("const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", css)


def wait_shown(console, text, css, timeout=10):
    wait_js(console, f"(document.querySelector({json.dumps(css)}) || {{}}).textContent?.includes({json.dumps(text)})", timeout)


def click(console, text, css="button, a"):
    """Clicks the visible, enabled `css` element whose text is `text`, found in one round trip (pages
    with thousands of rows make WebDriver's element-by-element search slow)."""
    find = "[...document.querySelectorAll(%s)].find((e) => e.offsetParent && !e.disabled && e.textContent.trim() === %s)"
    wait_js(console, find % (json.dumps(css), json.dumps(text))).click()


def type_into(element, text):
    element.clear()
    element.send_keys(text)


# ---------------------------------------------------------------------------------------------
# Log groups and one group
# ---------------------------------------------------------------------------------------------


def test_log_groups_list_and_group_tabs(console, logs):
    make_group(logs)
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    logs.create_log_group(logGroupName="/other/service")
    logs.tag_log_group(logGroupName=GROUP, tags={"team": "payments"})
    logs.put_metric_filter(
        logGroupName=GROUP, filterName="errors", filterPattern="ERROR",
        metricTransformations=[{"metricNamespace": "App", "metricName": "Errors", "metricValue": "1"}],
    )
    logs.put_subscription_filter(
        logGroupName=GROUP, filterName="to-lambda", filterPattern="",
        destinationArn="arn:aws:lambda:us-east-1:000000000000:function:sink",
    )
    put(logs, ["hello from the list test"])

    console.open("/")
    click(console, "Logs", "#nav a")
    row = console.wait_text(GROUP, "table.grid tbody tr")
    assert "7 days" in row.text and "to-lambda" in console.wait_text("to-lambda", "table.grid tbody tr").text
    other = console.wait_text("/other/service", "table.grid tbody tr")
    assert "Never expire" in other.text
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[4].text == "1"  # metric filters

    # The prefix search narrows the list and lives in the URL.
    type_into(console.find("input[aria-label='Log group name prefix']"), "/other")
    wait_js(console, "document.querySelectorAll('table.grid tbody tr').length === 1")
    assert "/other/service" in console.find("table.grid tbody").text
    assert "prefix=%2Fother" in console.url
    console.driver.refresh()
    console.wait_text("/other/service", "table.grid tbody")
    assert GROUP not in console.find("table.grid tbody").text

    console.open("/logs")
    click(console, GROUP, "table.grid a")
    console.wait_text(f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}", ".lg-details")
    console.wait_text(STREAM, "table.grid a")
    click(console, "Metric filters", ".tabs a")
    console.wait_text("App / Errors", "table.grid")
    click(console, "Subscription filters", ".tabs a")
    console.wait_text("arn:aws:lambda:us-east-1:000000000000:function:sink", "table.grid")
    click(console, "Tags", ".tabs a")
    console.wait_text("payments", "table.grid")
    assert "tab=tags" in console.url
    console.driver.refresh()
    console.wait_text("payments", "table.grid")


# ---------------------------------------------------------------------------------------------
# The events viewer
# ---------------------------------------------------------------------------------------------


def test_events_viewer_shows_messages_literally_and_filters(console, logs):
    make_group(logs, streams=(STREAM, "worker-1"))
    put(logs, ["GET /index 200", "ERROR payment declined", XSS, json.dumps({"level": "info", "user": "ana"})])
    put(logs, ["ERROR worker crashed", "job done"], stream="worker-1")

    console.open("/")
    click(console, "Logs", "#nav a")
    click(console, GROUP, "table.grid a")
    click(console, "Search all streams")
    wait_total(console, 6)
    shown = messages(console)
    assert XSS in shown
    assert console.js("return document.querySelector('.lg-pane img')") is None
    assert console.js("return window.__xss") is None
    assert "worker-1" in console.find(".lg-pane").text  # group-wide: the stream column

    # A filter pattern narrows the list; it is kept in the URL and survives a reload.
    type_into(console.find("input[aria-label='Filter pattern']"), "ERROR")
    click(console, "Search")
    wait_total(console, 2)
    assert sorted(messages(console)) == ["ERROR payment declined", "ERROR worker crashed"]
    assert "pattern=ERROR" in console.url
    console.driver.refresh()
    wait_total(console, 2)

    # A stream's link opens that stream, every event of it.
    click(console, "worker-1", ".lg-pane a")
    wait_js(console, "location.search.includes('stream=worker-1')")
    wait_total(console, 2)
    assert messages(console) == ["ERROR worker crashed", "job done"]
    assert console.js("return window.__xss") is None


def test_events_viewer_bad_pattern_shows_the_server_message(console, logs):
    make_group(logs)
    put(logs, ["one line"])
    bad = '{ $.level = '
    with pytest.raises(logs.exceptions.InvalidParameterException) as expected:
        logs.filter_log_events(logGroupName=GROUP, filterPattern=bad)
    console.open(path(GROUP, "events"))
    wait_total(console, 1)
    type_into(console.find("input[aria-label='Filter pattern']"), bad + Keys.ENTER)
    error = console.wait_text("InvalidParameterException", ".lg-feedback .error")
    assert expected.value.response["Error"]["Message"] in error.text
    assert not console.find_all(".lg-pane .lg-row")
    console.expect_http_errors()


def test_json_event_folds_and_unfolds(console, logs):
    make_group(logs)
    doc = {"level": "error", "request": {"id": "r-1", "path": "/pay"}, "tags": ["a", "b"]}
    put(logs, ["plain text line", json.dumps(doc)])
    console.open(path(GROUP, "events") + "?stream=" + STREAM)
    wait_total(console, 2)
    row = console.find(".lg-row.json")
    assert "open" not in row.get_attribute("class")
    assert row.size["height"] <= 26  # one line until opened
    row.find_element(By.CSS_SELECTOR, ".lg-toggle").click()
    opened = console.find(".lg-row.json.open")
    console.wait_text('"request"', ".lg-row.json.open .json")
    assert opened.size["height"] > 60  # pretty-printed, one key a line
    # The nested object folds and unfolds.
    fold = opened.find_element(By.CSS_SELECTOR, ".j-body details.j-fold")
    assert fold.get_attribute("open") is not None
    fold.find_element(By.TAG_NAME, "summary").click()
    assert console.js("return arguments[0].open", fold) is False
    fold.find_element(By.TAG_NAME, "summary").click()
    assert console.js("return arguments[0].open", fold) is True
    console.find(".lg-row.json.open .lg-toggle").click()
    wait_js(console, "!document.querySelector('.lg-row.json.open')")
    assert '"path":"/pay"' in console.find(".lg-row.json .lg-msg").text.replace(" ", "")


def test_load_older_and_newer(console, logs):
    make_group(logs)
    put(logs, [f"line {i:03d}" for i in range(250)])
    console.open(path(GROUP, "events") + "?stream=" + STREAM)
    wait_total(console, 250)
    select = console.find("select[aria-label='Events per page']")
    select.find_element(By.CSS_SELECTOR, "option[value='100']").click()
    wait_total(console, 100)
    assert messages(console)[0] == "line 150"  # the newest page first
    click(console, "Load older")
    wait_total(console, 200)
    click(console, "Load older")
    wait_total(console, 250)
    console.js("document.querySelector('.lg-pane').scrollTop = 0")
    wait_js(console, "document.querySelector('.lg-pane .lg-msg').textContent === 'line 000'")
    wait_js(console, "document.evaluate(\"//button[text()='Load older']\", document, null, 9, null).singleNodeValue.disabled")

    put(logs, [f"new {i}" for i in range(5)], start=now_ms())
    click(console, "Load newer")
    wait_total(console, 255)
    console.js("document.querySelector('.lg-pane').scrollTop = 1e9")
    wait_shown(console, "new 4", ".lg-pane")
    assert "limit=100" in console.url


def test_search_load_older_widens_the_range(console, logs):
    make_group(logs)
    put(logs, ["ERROR two hours ago"], start=now_ms() - 2 * 3600_000 + 60_000)
    put(logs, ["ERROR just now", "INFO just now"])
    console.open(path(GROUP, "events") + "?range=1h&pattern=ERROR")
    wait_total(console, 1)
    click(console, "Load older")  # FilterLogEvents reads forward: the range grows back by 1h
    wait_total(console, 2)
    assert messages(console) == ["ERROR two hours ago", "ERROR just now"]
    assert "start=" in console.url and "range=" not in console.url


def test_ten_thousand_events_render_without_freezing(console, logs):
    make_group(logs)
    n = 10_000
    put(logs, [f"event {i:05d} " + ("x" * 40) for i in range(n)])
    console.open(path(GROUP, "events") + "?stream=" + STREAM)
    wait_total(console, n, timeout=30)
    perf = viewer(console)
    print(f"PERF logs-viewer-10000 render_ms={perf['renderMs']:.1f} dom_rows={perf['rendered']}")
    assert perf["rendered"] < 300  # only the rows in view are in the DOM
    assert perf["renderMs"] < 1000
    # Responsive: a scroll to the end paints within a few frames and shows the last event.
    frame_ms = console.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const pane = document.querySelector('.lg-pane');
        const t0 = performance.now();
        pane.scrollTop = pane.scrollHeight;
        requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
    """)
    print(f"PERF logs-viewer-10000 scroll_to_end_ms={frame_ms:.1f}")
    assert frame_ms < 500
    wait_shown(console, f"event {n - 1:05d}", ".lg-pane")
    assert len(console.find_all(".lg-pane .lg-row")) < 300


# ---------------------------------------------------------------------------------------------
# Live tail
# ---------------------------------------------------------------------------------------------


def tail_stats(console):
    return console.js("return window.__wtPerf.liveTail")


def test_live_tail(console, logs):
    make_group(logs)
    console.open(path(GROUP))
    click(console, "Live tail")
    console.wait_text("Live", ".lg-tail-status")

    t0 = time.time() * 1000
    put(logs, ["tail one", XSS, json.dumps({"tail": 3})], start=now_ms())
    wait_js(console, "window.__wtPerf.liveTail.rows === 3")
    latency = tail_stats(console)["displayedAt"] - t0
    print(f"PERF logs-live-tail put_to_display_ms={latency:.0f}")
    assert latency < 3000
    assert XSS in text_of(console, ".lg-tail-rows")
    assert console.js("return document.querySelector('.lg-tail-rows img')") is None
    assert console.js("return window.__xss") is None

    # A burst: at most 1,000 rows stay in the DOM.
    for b in range(5):
        put(logs, [f"burst {b}-{i}" for i in range(500)], start=now_ms())
    wait_js(console, "window.__wtPerf.liveTail.received >= 2503", timeout=20)
    wait_shown(console, "burst 4-499", ".lg-tail-rows")
    rows = console.js("return document.querySelectorAll('.lg-tail-rows .lg-row').length")
    print(f"PERF logs-live-tail burst_2500 dom_rows={rows}")
    assert rows <= 1000 and tail_stats(console)["rows"] <= 1000

    # Paused, new events wait; resumed, they show. Clear empties the list.
    click(console, "Pause")
    put(logs, ["while paused"], start=now_ms())
    wait_js(console, "window.__wtPerf.liveTail.received >= 2504")
    assert "while paused" not in text_of(console, ".lg-tail-rows")
    click(console, "Resume")
    wait_shown(console, "while paused", ".lg-tail-rows")
    click(console, "Clear")
    wait_js(console, "document.querySelectorAll('.lg-tail-rows .lg-row').length === 0")

    # Leaving the view closes the tail.
    click(console, "Log groups", ".crumbs a")
    console.wait_text(GROUP, "table.grid")
    received = tail_stats(console)["received"]
    put(logs, ["after leaving"], start=now_ms())
    time.sleep(0.5)
    assert tail_stats(console)["received"] == received


def test_live_tail_pattern_and_bad_pattern(console, logs):
    make_group(logs)
    console.open(path(GROUP, "tail") + "?pattern=ERROR")
    console.wait_text("Live", ".lg-tail-status")
    put(logs, ["INFO fine", "ERROR broken"], start=now_ms())
    wait_shown(console, "ERROR broken", ".lg-tail-rows")
    assert "INFO fine" not in text_of(console, ".lg-tail-rows")

    pattern = console.find("input[aria-label='Filter pattern']")
    type_into(pattern, '{ $.level = ' + Keys.ENTER)
    console.wait_text("InvalidParameterException", ".lg-feedback .error")
    console.wait_text("Stopped", ".lg-tail-status")
    console.expect_http_errors()


# ---------------------------------------------------------------------------------------------
# Logs Insights
# ---------------------------------------------------------------------------------------------


def run_query(console, text):
    type_into(console.find("textarea[aria-label='Query']"), text)
    click(console, "Run query")
    wait_js(console, "window.__wtPerf.insights && window.__wtPerf.insights.status === 'Complete'", timeout=15)
    return console.js("return window.__wtPerf.insights")


def test_insights_stats_chart_and_filter(console, logs):
    make_group(logs)
    # Events over the last 40 minutes: one every 4 minutes, every third an ERROR.
    start = now_ms() - 40 * 60_000
    for i in range(10):
        put(logs, [f"{'ERROR' if i % 3 == 0 else 'INFO'} request {i}"], start=start + i * 4 * 60_000)

    console.open("/")
    click(console, "Logs Insights", "#nav a")
    click(console, "Select log groups", "summary")
    click(console, GROUP, "label.lg-check")
    console.wait_text(GROUP, ".lg-chips")
    click(console, "Select log groups", "summary")  # closes the dropdown

    console.js("window.__wtPerf.insights = null")
    result = run_query(console, "stats count(*) by bin(5m)")
    expected = logs.get_query_results(queryId=logs.start_query(
        logGroupName=GROUP, startTime=start // 1000 - 60, endTime=now_ms() // 1000 + 60,
        queryString="stats count(*) by bin(5m)")["queryId"])["results"]
    rows = console.find_all(".lg-results tbody tr")
    assert len(rows) == result["rows"] == len(expected)
    assert result["chartSeries"] == 1 and result["chartPoints"] == len(expected)
    assert console.js("const c = document.querySelector('.lg-chart canvas'); return c && c.width > 0")
    column = [th.text for th in console.find_all(".lg-results thead th")].index("count(*)")
    assert sum(int(r.find_elements(By.TAG_NAME, "td")[column].text) for r in rows) == 10

    console.js("window.__wtPerf.insights = null")
    result = run_query(console, "fields @message | filter @message like /ERROR/")
    assert result["rows"] == 4 and result["chartSeries"] == 0
    assert result["fields"] == ["@message"]  # @ptr is not a column
    table_text = console.find(".lg-results").text
    assert "ERROR request 9" in table_text and "INFO" not in table_text
    assert not console.find_all(".lg-chart canvas")

    # The query, groups and range are in the URL: a reload runs the same query again.
    console.driver.refresh()
    wait_js(console, "window.__wtPerf.insights && window.__wtPerf.insights.status === 'Complete'", timeout=15)
    assert console.js("return window.__wtPerf.insights.rows") == 4
    assert "like /ERROR/" in console.find("textarea[aria-label='Query']").get_attribute("value")


def test_insights_malformed_query_shows_the_server_message(console, logs):
    make_group(logs)
    bad = "fields @message | filter ("
    with pytest.raises(logs.exceptions.MalformedQueryException) as expected:
        logs.start_query(logGroupName=GROUP, startTime=0, endTime=10, queryString=bad)
    console.open("/insights?groups=" + GROUP)
    console.wait_text(GROUP, ".lg-chips")
    type_into(console.find("textarea[aria-label='Query']"), bad)
    click(console, "Run query")
    error = console.wait_text("MalformedQueryException", ".lg-feedback .error")
    assert expected.value.response["Error"]["Message"] in error.text
    console.expect_http_errors()
