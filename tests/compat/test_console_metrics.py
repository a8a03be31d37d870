"""The console's Metrics view in a real browser: browse namespaces → metrics → dimension sets,
graph ticked metrics through GetMetricData, statistics and periods, metric math and its errors,
state kept in the URL (reload, back button), auto-refresh, markup shown literally, and the
drawing time of a 10 × 1,440-point graph.

Graph data is read from `window.__wtPerf.metricsGraph` (what the view drew last)."""
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from urllib.parse import quote

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import make_client

XSS = '<img src=x onerror="window.__xss=1">'
# Three minutes of Latency per host: per-minute averages 2, 20, 5 and sums 4, 40, 10.
MINUTE_VALUES = [[1, 3], [10, 30], [5, 5]]


def minute_clock():
    """`at(offset)`: the whole minute `offset` minutes from the current one, the current one
    fixed now so that a batch of datapoints never straddles a minute boundary."""
    now = int(time.time()) // 60 * 60
    return lambda offset=0: datetime.fromtimestamp(now + offset * 60, tz=timezone.utc)


def put_shop_metrics(endpoint):
    """Shop/Web: Latency for hosts web-1 and web-2, Requests for web-1; Shop/Batch: JobsDone."""
    cw = make_client(endpoint, "cloudwatch")
    at = minute_clock()
    data = []
    for host, scale in (("web-1", 1), ("web-2", 10)):
        for i, values in enumerate(MINUTE_VALUES):
            data.append({
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Host", "Value": host}],
                "Timestamp": at(i - 12),
                "Values": [v * scale for v in values],
            })
    data.append({"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": "web-1"}], "Timestamp": at(-5), "Value": 7})
    cw.put_metric_data(Namespace="Shop/Web", MetricData=data)
    cw.put_metric_data(Namespace="Shop/Batch", MetricData=[
        {"MetricName": "JobsDone", "Dimensions": [{"Name": "Queue", "Value": "q1"}], "Timestamp": at(-3), "Value": 1},
    ])
    return cw


def graph(console):
    return console.js("return window.__wtPerf && window.__wtPerf.metricsGraph")


def wait_graph(console, predicate, timeout=10):
    """Waits until the last drawn graph satisfies `predicate`; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        g = graph(console)
        if g and predicate(g):
            return g
        if time.monotonic() > deadline:
            console.screenshot("graph-timeout")
            raise AssertionError(f"graph not as expected; last drawn: {json.dumps(g)[:1500]}")
        time.sleep(0.05)


def values_of(g):
    return [s["values"] for s in g["series"]]


def selection_link(metrics, **query):
    """A deep link with `metrics` [(namespace, name, [[dim, value]], stat)] ticked."""
    sel = [{"n": n, "m": m, "d": d, "s": s} for n, m, d, s in metrics]
    query["sel"] = json.dumps(sel, separators=(",", ":"))
    return "/metrics?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())


def wait_rows(console, predicate):
    """Waits until the texts of the browse rows satisfy `predicate` (read in one go in the page,
    as the rows are redrawn while the search is typed); returns them."""
    script = "[...document.querySelectorAll('.mx-rows tbody tr')].map((r) => r.innerText)"
    deadline = time.monotonic() + 10
    while True:
        rows = console.js("return " + script)
        if predicate(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"browse rows not as expected: {rows}")
        time.sleep(0.05)


def tick(console, value):
    """Ticks the dimension row whose cells show `value`."""
    for row in console.find_all(".mx-rows tbody tr"):
        if value in row.text:
            row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
            return
    raise AssertionError(f"no row shows {value!r}")


def test_browse_select_graph_reload_and_back(console, endpoint):
    put_shop_metrics(endpoint)
    console.open("/")
    # Namespaces with their metric counts.
    tile = console.wait_text("Shop/Web", ".mx-tile")
    assert "3 metrics" in tile.text
    assert "1 metric" in console.wait_text("Shop/Batch", ".mx-tile").text
    assert graph(console)["series"] == []
    assert "Your graph is empty" in console.find(".mx-chart").text

    console.click_text("Shop/Web", ".mx-tile a")
    names = console.wait_text("Latency", ".mx-metric-names")
    assert "Requests" in names.text and "JobsDone" not in names.text
    latency_row = [r for r in console.find_all(".mx-metric-names tbody tr") if r.get_attribute("data-metric") == "Latency"][0]
    assert latency_row.find_elements(By.TAG_NAME, "td")[1].text == "2"  # two dimension sets
    assert "ns=Shop%2FWeb" in console.url

    console.click_text("Latency", ".mx-metric-names a")
    console.wait_text("web-2", ".mx-rows")
    assert [th.text for th in console.find_all(".mx-rows thead th")][1:] == ["Host", "Metric name"]
    assert "metric=Latency" in console.url
    tick(console, "web-1")
    tick(console, "web-2")

    # Default statistic Average, auto period for 3 h is 1 minute: three points per host.
    g = wait_graph(console, lambda g: len(g["series"]) == 2)
    assert [s["id"] for s in g["series"]] == ["m1", "m2"]
    assert [s["label"] for s in g["series"]] == ["Latency", "Latency"]  # the server's default label
    assert [s["points"] for s in g["series"]] == [3, 3]
    assert values_of(g) == [[2, 20, 5], [20, 200, 50]]
    assert g["period"] == 60
    assert len(console.find_all(".mx-graphed-table tbody tr")) == 2

    Select(console.find("#mx-stat")).select_by_value("Sum")
    g = wait_graph(console, lambda g: values_of(g) == [[4, 40, 10], [40, 400, 100]])
    Select(console.find("#mx-stat")).select_by_value("SampleCount")
    wait_graph(console, lambda g: values_of(g) == [[2, 2, 2], [2, 2, 2]])
    Select(console.find("#mx-stat")).select_by_value("Sum")
    wait_graph(console, lambda g: values_of(g)[0] == [4, 40, 10])

    # A per-metric statistic and label.
    row = console.find(".mx-graphed-table tr[data-id=m2]")
    Select(row.find_element(By.CSS_SELECTOR, "select")).select_by_value("Maximum")
    wait_graph(console, lambda g: values_of(g)[1] == [30, 300, 50])
    label = row.find_element(By.CSS_SELECTOR, "input.mx-label")
    label.send_keys("web two", Keys.ENTER)
    wait_graph(console, lambda g: [s["label"] for s in g["series"]] == ["Latency", "web two"])

    # One hour periods: the three minutes fall into one or two buckets; the sum is kept.
    Select(console.find("#mx-period")).select_by_value("3600")
    g = wait_graph(console, lambda g: g["period"] == 3600)
    assert sum(values_of(g)[0]) == 54 and g["series"][0]["points"] <= 2
    Select(console.find("#mx-period")).select_by_value("60")
    wait_graph(console, lambda g: g["period"] == 60)

    # A reload draws the same selection with the same statistics and labels.
    console.driver.refresh()
    g = wait_graph(console, lambda g: len(g["series"]) == 2)
    assert [s["label"] for s in g["series"]] == ["Latency", "web two"]
    assert values_of(g) == [[4, 40, 10], [30, 300, 50]]
    assert Select(console.find("#mx-stat")).first_selected_option.text == "Sum"
    boxes = console.find_all(".mx-rows tbody input[type=checkbox]")
    console.wait_js("document.querySelectorAll('.mx-rows tbody input:checked').length === 2")
    assert len(boxes) == 2

    # Back goes up one browse step at a time; the graph stays as it was left.
    console.driver.back()
    console.wait_text("Requests", ".mx-metric-names")
    assert "metric=" not in console.url and "sel=" in console.url
    g = wait_graph(console, lambda g: len(g["series"]) == 2)
    assert values_of(g) == [[4, 40, 10], [30, 300, 50]]
    console.driver.back()
    console.wait_text("Shop/Batch", ".mx-tile")
    console.driver.forward()
    console.wait_text("Latency", ".mx-metric-names")
    assert len(console.find_all(".mx-graphed-table tbody tr")) == 2

    # Removing a graphed metric from the table takes it off the graph and unticks its row.
    console.click_text("Latency", ".mx-metric-names a")
    console.wait_text("web-1", ".mx-rows")
    console.find(".mx-graphed-table tr[data-id=m1] .mx-remove").click()
    g = wait_graph(console, lambda g: [s["id"] for s in g["series"]] == ["m2"])
    console.wait_js("document.querySelectorAll('.mx-rows tbody input:checked').length === 1")


def test_search_filters_by_metric_name_and_dimension_value(console, endpoint):
    put_shop_metrics(endpoint)
    console.open("/metrics")
    console.wait_text("Shop/Web", ".mx-tile")
    console.find("#mx-search").send_keys("q1")
    [row] = wait_rows(console, lambda rows: len(rows) == 1 and "JobsDone" in rows[0])
    assert "Shop/Batch" in row and "Queue: q1" in row
    assert "q=q1" in console.url
    search = console.find("#mx-search")
    search.clear()
    search.send_keys("requests")
    wait_rows(console, lambda rows: len(rows) == 1 and "Requests" in rows[0])
    tick(console, "Requests")
    g = wait_graph(console, lambda g: len(g["series"]) == 1)
    assert g["series"][0]["values"] == [7]


def test_metric_math_and_bad_expression(console, endpoint):
    put_shop_metrics(endpoint)
    console.open(selection_link([("Shop/Web", "Latency", [["Host", "web-1"]], "Average")], ns="Shop/Web", metric="Latency"))
    wait_graph(console, lambda g: len(g["series"]) == 1)

    console.find("#mx-math").send_keys("m1 * 2")
    console.find("#mx-add-math").click()
    g = wait_graph(console, lambda g: len(g["series"]) == 2)
    assert [s["id"] for s in g["series"]] == ["m1", "e1"]
    assert values_of(g)[1] == [4, 40, 10]
    assert "e1" in console.find(".mx-graphed-table tr[data-id=e1]").text

    # The server's ValidationError shows next to the expression; the rest is still drawn.
    box = console.find("#mx-math")
    box.clear()
    box.send_keys("FOO(m1)", Keys.ENTER)
    error = console.wait_text("Unrecognized function FOO", ".mx-graphed-table tr[data-id=e2] .mx-math-error")
    assert "ValidationError" in error.text and "Error in expression e2" in error.text
    g = wait_graph(console, lambda g: [s["id"] for s in g["series"]] == ["m1", "e1"])
    assert [s["points"] for s in g["series"]] == [3, 3]
    assert console.find_all(".mx-chart canvas")

    # Fixing the expression in place draws it and clears the message.
    expression = console.find(".mx-graphed-table tr[data-id=e2] .mx-expression")
    expression.clear()
    expression.send_keys("m1 + e1", Keys.ENTER)
    g = wait_graph(console, lambda g: [s["id"] for s in g["series"]] == ["m1", "e1", "e2"])
    assert values_of(g)[2] == [6, 60, 15]  # m1 + e1
    assert not console.find_all(".mx-math-error .error")
    console.expect_http_errors()


def test_server_error_is_shown_in_the_graph_panel(console, endpoint):
    put_shop_metrics(endpoint)
    console.open(selection_link([("Shop/Web", "Latency", [["Host", "web-1"]], "Median")]))
    error = console.wait_text("Median", ".mx-graph-error .error")
    assert "not a valid statistic" in error.text
    # Choosing a valid statistic recovers.
    Select(console.find(".mx-graphed-table tr[data-id=m1] select")).select_by_value("Minimum")
    wait_graph(console, lambda g: values_of(g) == [[1, 10, 5]])
    assert not console.find_all(".mx-graph-error .error")
    console.expect_http_errors()


def test_markup_in_names_and_values_is_shown_literally(console, endpoint):
    cw = make_client(endpoint, "cloudwatch")
    cw.put_metric_data(Namespace=XSS, MetricData=[
        {"MetricName": XSS, "Dimensions": [{"Name": "Host", "Value": XSS}], "Timestamp": minute_clock()(-2), "Value": 3},
    ])
    console.open("/")
    console.wait_text(XSS, ".mx-tile")
    console.click_text(XSS, ".mx-tile a")
    console.wait_text(XSS, ".mx-metric-names")
    console.click_text(XSS, ".mx-metric-names a")
    console.wait_text(XSS, ".mx-rows td")
    tick(console, XSS)
    g = wait_graph(console, lambda g: len(g["series"]) == 1)
    assert g["series"][0]["label"] == XSS
    console.wait_text(XSS, ".mx-chart")  # the legend
    console.wait_text(XSS, ".mx-graphed-table")
    console.find("#mx-search").send_keys("onerror")
    console.wait_text(XSS, ".mx-rows")
    assert console.find_all("main img") == []
    assert console.js("return window.__xss") is None


def test_auto_refresh_updates_the_same_chart(console, endpoint):
    cw = put_shop_metrics(endpoint)
    console.open(selection_link([("Shop/Web", "Requests", [["Host", "web-1"]], "Sum")], range="1h"))
    g = wait_graph(console, lambda g: g["series"] and g["series"][0]["points"] == 1)
    console.js("window.__mxCanvas = document.querySelector('.mx-chart canvas')")
    # Records the interval timers made and cleared, to check that leaving the view stops them.
    console.js("""
        const made = [], cleared = [], set = window.setInterval, clear = window.clearInterval;
        window.__mxTimers = { made, cleared };
        window.setInterval = (...args) => { const id = set(...args); made.push(id); return id; };
        window.clearInterval = (id) => { cleared.push(id); clear(id); };
    """)
    Select(console.find("#mx-autorefresh")).select_by_value("10")
    assert "refresh=10" in console.url
    cw.put_metric_data(Namespace="Shop/Web", MetricData=[
        {"MetricName": "Requests", "Dimensions": [{"Name": "Host", "Value": "web-1"}], "Timestamp": minute_clock()(-1), "Value": 9},
    ])
    g = wait_graph(console, lambda g: g["series"][0]["points"] == 2, timeout=15)
    assert g["series"][0]["values"] == [7, 9]
    assert console.js("return document.querySelector('.mx-chart canvas') === window.__mxCanvas")
    assert console.js("return window.__mxTimers.made.length") == 1
    # Leaving the view stops the timer.
    made = console.js("return window.__mxTimers.made.slice()")
    console.click_text("Alarms", "#nav a")
    console.wait_js("!document.querySelector('.mx-chart')")
    cleared = console.js("return window.__mxTimers.cleared")
    assert all(t in cleared for t in made), (made, cleared)


def test_perf_ten_series_of_1440_points(console, endpoint):
    cw = make_client(endpoint, "cloudwatch")
    names = [f"Series{i}" for i in range(10)]
    at = minute_clock()
    # 1,440 one-minute datapoints per metric ending at the current minute, 1,000 per call.
    data = [
        {"MetricName": name, "Dimensions": [{"Name": "Host", "Value": f"h{i}"}],
         "Timestamp": at(-k), "Value": float(i * 10 + k % 60)}
        for i, name in enumerate(names) for k in range(1440)
    ]
    with ThreadPoolExecutor(4) as pool:  # the server stores one batch while the next is encoded
        list(pool.map(lambda at: cw.put_metric_data(Namespace="Perf", MetricData=data[at:at + 1000]), range(0, len(data), 1000)))
    link = selection_link([("Perf", n, [["Host", f"h{i}"]], "Average") for i, n in enumerate(names)], range="1d", period="60")
    console.open(link)
    g = wait_graph(console, lambda g: len(g["series"]) == 10, timeout=20)
    assert [s["points"] for s in g["series"]] == [1440] * 10
    assert [s["label"] for s in g["series"]] == names
    print(f"PERF metrics-graph-10x1440 draw_ms={g['drawMs']:.1f}")
    assert g["drawMs"] < 2000
