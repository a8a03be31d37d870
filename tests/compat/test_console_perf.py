"""The console's performance figures in one place (for BENCHMARKS.md): live tail at 1,000
events/s, the 10 × 1,440-point metrics graph and the 10,000-event viewer. Each test prints
`PERF ...` lines (run pytest with -s to see them) and asserts only generous sanity bounds, not
the budgets: the machines running the suite vary.

JS heap figures come from the DevTools protocol (Runtime.getHeapUsage after
HeapProfiler.collectGarbage): without --enable-precise-memory-info Chromium's
performance.memory answers a bucketed value that it caches for minutes, so two samples ten
seconds apart would read the same."""
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from conftest import make_client
from test_console_metrics import minute_clock, selection_link, wait_graph

GROUP = "/wt/perf/tail"
STREAMS = ["s0", "s1", "s2", "s3"]
CALLS_PER_SECOND = 10
EVENTS_PER_CALL = 100
SECONDS = 10


def now_ms():
    return int(time.time() * 1000)


def heap_mb(console):
    """The page's live heaps after a full collection, in MB: (V8's JS heap, Blink's heap of
    DOM objects)."""
    console.driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    usage = console.driver.execute_cdp_cmd("Runtime.getHeapUsage", {})
    return usage["usedSize"] / 2**20, usage["embedderHeapUsedSize"] / 2**20


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# Installed in the tail's page: when each put's first row is added (Date.now(), the clock
# Python's time.time() reads too), and the most rows the list ever held.
WATCH_ROWS = """
const rows = document.querySelector('.lg-tail-rows');
const seen = (window.__tailWatch = { first: {}, maxRows: 0 });
new MutationObserver((records) => {
  const now = Date.now();
  for (const record of records) {
    for (const node of record.addedNodes) {
      const match = /perf c(\\d+) /.exec(node.textContent);
      if (match && !(Number(match[1]) in seen.first)) seen.first[Number(match[1])] = now;
    }
  }
  seen.maxRows = Math.max(seen.maxRows, rows.childElementCount);
}).observe(rows, { childList: true });
"""


def test_live_tail_keeps_up_with_1000_events_per_second(console, endpoint):
    logs = make_client(endpoint, "logs")
    logs.create_log_group(logGroupName=GROUP)
    for stream in STREAMS:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    console.open("/logs/" + quote(GROUP, safe="") + "/tail")
    console.wait_content(".lg-tail-status", "Live", timeout=30)
    console.js(WATCH_ROWS)

    answered = {}

    def put(call):
        events = [{"timestamp": now_ms(), "message": f"perf c{call:03d} e{i:02d} " + "x" * 40} for i in range(EVENTS_PER_CALL)]
        # Calls in flight together go to different streams, as separate writers would.
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAMS[call % len(STREAMS)], logEvents=events)
        answered[call] = time.time() * 1000

    calls = CALLS_PER_SECOND * SECONDS
    total = calls * EVENTS_PER_CALL
    # Paced: call k is sent at k/10 s; a pool keeps the pace when one call answers slowly.
    with ThreadPoolExecutor(4) as pool:
        t0 = time.monotonic()
        futures = []
        for call in range(calls):
            if call == 2 * CALLS_PER_SECOND:
                heap_start = heap_mb(console)
            time.sleep(max(0.0, t0 + call / CALLS_PER_SECOND - time.monotonic()))
            futures.append(pool.submit(put, call))
        time.sleep(max(0.0, t0 + SECONDS - time.monotonic()))
        heap_end = heap_mb(console)
        for f in futures:
            f.result()
    sent_seconds = time.monotonic() - t0

    console.wait_js(f"window.__wtPerf.liveTail.received >= {total}", timeout=30)
    console.wait_js(f"Object.keys(window.__tailWatch.first).length === {calls}", timeout=30)
    stats = console.js("return window.__wtPerf.liveTail")
    watch = console.js("return window.__tailWatch")
    rows = console.js("return document.querySelectorAll('.lg-tail-rows .lg-row').length")
    lags = [watch["first"][str(call)] - answered[call] for call in range(calls)]
    print(f"PERF live-tail-1000eps received={stats['received']} rows={rows} max_rows={watch['maxRows']} "
          f"heap_start_mb={heap_start[0]:.1f} heap_end_mb={heap_end[0]:.1f} "
          f"dom_heap_start_mb={heap_start[1]:.1f} dom_heap_end_mb={heap_end[1]:.1f} lag_ms_p50={percentile(lags, 50):.0f} "
          f"lag_ms_p99={percentile(lags, 99):.0f} lag_ms_max={max(lags):.0f} lagged={stats['lagged']} "
          f"sent_in_s={sent_seconds:.1f}")
    assert stats["received"] == total
    assert rows <= 1000 and watch["maxRows"] <= 1000 and stats["rows"] <= 1000
    assert f"perf c{calls - 1:03d} e{EVENTS_PER_CALL - 1:02d}" in console.js(
        "return document.querySelector('.lg-tail-rows').lastElementChild.textContent")
    for start, end in zip(heap_start, heap_end):
        assert end < 2 * start + 20, (heap_start, heap_end)
    assert percentile(lags, 99) < 5000


def test_metrics_graph_ten_series_of_1440_points(console, endpoint):
    cw = make_client(endpoint, "cloudwatch")
    names = [f"Series{i}" for i in range(10)]
    at = minute_clock()
    # As test_console_metrics does: 1,440 one-minute datapoints per metric, 1,000 per call.
    data = [
        {"MetricName": name, "Dimensions": [{"Name": "Host", "Value": f"h{i}"}],
         "Timestamp": at(-k), "Value": float(i * 10 + k % 60)}
        for i, name in enumerate(names) for k in range(1440)
    ]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda at: cw.put_metric_data(Namespace="Perf", MetricData=data[at:at + 1000]), range(0, len(data), 1000)))
    console.open(selection_link([("Perf", n, [["Host", f"h{i}"]], "Average") for i, n in enumerate(names)], range="1d", period="60"))

    # Five draws of a new chart: the first load, then four reloads of the same link.
    draws = []
    for load in range(5):
        if load:
            console.driver.refresh()
        g = wait_graph(console, lambda g: len(g["series"]) == 10, timeout=30)
        assert [s["points"] for s in g["series"]] == [1440] * 10
        draws.append(g["drawMs"])
    print(f"PERF metrics-graph-10x1440 draws={len(draws)} draw_ms_median={statistics.median(draws):.1f} "
          f"draw_ms_min={min(draws):.1f} draw_ms_max={max(draws):.1f}")
    assert statistics.median(draws) < 2000


def test_logs_viewer_ten_thousand_events(console, endpoint):
    logs = make_client(endpoint, "logs")
    logs.create_log_group(logGroupName="/wt/perf/viewer")
    logs.create_log_stream(logGroupName="/wt/perf/viewer", logStreamName="web-1")
    n = 10_000
    start = now_ms() - n - 1000
    logs.put_log_events(logGroupName="/wt/perf/viewer", logStreamName="web-1", logEvents=[
        {"timestamp": start + i, "message": f"event {i:05d} " + "x" * 40} for i in range(n)])
    console.open("/logs/" + quote("/wt/perf/viewer", safe="") + "/events?stream=web-1")

    # Five renders: the first load, then four reloads.
    renders = []
    for load in range(5):
        if load:
            console.driver.refresh()
        console.wait_js(f"window.__wtPerf && window.__wtPerf.logsViewer && window.__wtPerf.logsViewer.total === {n}"
                        " && window.__wtPerf.logsViewer.renderMs !== undefined", timeout=30)
        viewer = console.js("return window.__wtPerf.logsViewer")
        assert viewer["rendered"] < 300  # only the rows in view are in the DOM
        renders.append(viewer["renderMs"])
    print(f"PERF logs-viewer-10000 renders={len(renders)} render_ms_median={statistics.median(renders):.1f} "
          f"render_ms_min={min(renders):.1f} render_ms_max={max(renders):.1f} dom_rows={viewer['rendered']}")
    assert statistics.median(renders) < 1000
