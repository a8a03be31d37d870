#!/usr/bin/env python3
"""Takes the web console's screenshots for the README (docs/console/<view>.png).

Starts `watchtrail --ephemeral` on a free port, seeds realistic demo data through boto3
(CloudWatch metrics and alarms, a dashboard, CloudWatch Logs, an EventBridge rule with
deliveries, a CloudTrail trail and some deletions), opens each console view in headless
chromium at 1280x800, waits until the view shows its data, and writes an 800 px wide,
256-colour PNG per view.

    # from the repository root
    WATCHTRAIL_CONSOLE_DIR=$PWD/assets/console .venv/bin/python scripts/console_screenshots.py [BINARY]

The binary is the first argument, else $WATCHTRAIL_BIN, else target/debug/watchtrail. The
server inherits the environment, so WATCHTRAIL_CONSOLE_DIR serves the console from disk.
Needs boto3, selenium and Pillow (pip install Pillow; it is not a project requirement).
"""
import datetime as dt
import io
import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config
from PIL import Image
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "compat"))
from console_support import start_browser  # noqa: E402  (the tests' chromium flags and driver)

OUT = ROOT / "docs" / "console"
REGION = "us-east-1"
ACCOUNT = "000000000000"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:ops-alerts"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:order-fulfilment"
SERVICES = ["frontend", "checkout", "search"]
WINDOW = (1280, 800)
SHOT_WIDTH = 800
TIMEOUT = 30  # the machine may be loaded: views get this long to show their data
CHART_SETTLE = 1.0  # canvas charts draw after their data arrives (and on resize)

random.seed(7)  # the same pictures on every run, give or take the clock


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


def binary():
    candidate = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WATCHTRAIL_BIN", "target/debug/watchtrail")
    path = Path(candidate)
    path = path if path.is_absolute() else ROOT / path
    if not path.is_file():
        sys.exit(f"watchtrail binary not found: {path}")
    return str(path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server():
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([binary(), "--ephemeral", "--port", str(port), "--log-level", "warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url + "/_watchtrail/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            sys.exit(f"watchtrail did not start on {url}:\n{log.read().decode(errors='replace')}")
        time.sleep(0.1)


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def post(url):
    request = urllib.request.Request(url, method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as r:
        return json.load(r)


def client(endpoint, service):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 2}, read_timeout=TIMEOUT))


# ---------------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------------


def minutes_back(n):
    """The last n whole minutes, oldest first."""
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    return [now - dt.timedelta(minutes=m) for m in range(n, 0, -1)]


def traffic(service, i, n):
    """Requests a minute: a slow rise over the three hours, a lunchtime-like bump, noise."""
    base = {"frontend": 1200, "checkout": 180, "search": 520}[service]
    shape = 1 + 0.25 * math.sin(i / n * math.pi * 1.6) + 0.15 * math.exp(-((i - n * 0.55) / 12) ** 2)
    return max(1, round(base * shape * random.uniform(0.92, 1.08)))


def latency(service, i, n):
    """Average latency in ms; checkout degrades over the last 25 minutes (the breaching alarm)."""
    base = {"frontend": 85, "checkout": 210, "search": 140}[service]
    value = base * (1 + 0.1 * math.sin(i / 9)) * random.uniform(0.9, 1.12)
    if service == "checkout" and i >= n - 25:
        value += 360 * min(1, (i - (n - 25)) / 6) * random.uniform(0.9, 1.1)
    return value


def seed_metrics(cw):
    times = minutes_back(180)
    n = len(times)
    data = []
    for i, ts in enumerate(times):
        for service in SERVICES:
            dims = [{"Name": "Service", "Value": service}]
            requests = traffic(service, i, n)
            avg = latency(service, i, n)
            errors = round(requests * random.uniform(0.001, 0.006) * (8 if service == "checkout" and i >= n - 25 else 1))
            data += [
                {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": ts, "Value": requests, "Unit": "Count"},
                # A minute's latencies as a statistic set: Average, Minimum and Maximum all mean something.
                {"MetricName": "Latency", "Dimensions": dims, "Timestamp": ts, "Unit": "Milliseconds",
                 "StatisticValues": {"SampleCount": requests, "Sum": avg * requests,
                                     "Minimum": avg * 0.3, "Maximum": avg * random.uniform(2.2, 3.5)}},
                {"MetricName": "5xxErrors", "Dimensions": dims, "Timestamp": ts, "Value": errors, "Unit": "Count"},
            ]
        depth = max(0, 40 + 30 * math.sin(i / 14) + random.uniform(-8, 8))
        data += [
            {"MetricName": "QueueDepth", "Timestamp": ts, "Value": round(depth), "Unit": "Count"},
            {"MetricName": "JobsProcessed", "Timestamp": ts, "Value": random.randint(55, 75), "Unit": "Count"},
        ]
    web = [d for d in data if d["MetricName"] not in ("QueueDepth", "JobsProcessed")]
    worker = [d for d in data if d["MetricName"] in ("QueueDepth", "JobsProcessed")]
    for namespace, items in (("App/Web", web), ("App/Worker", worker)):
        for start in range(0, len(items), 500):
            cw.put_metric_data(Namespace=namespace, MetricData=items[start:start + 500])


def seed_alarms(cw, endpoint):
    common = dict(Namespace="App/Web", MetricName="Latency", Statistic="Average", Period=60,
                  EvaluationPeriods=5, DatapointsToAlarm=3, ComparisonOperator="GreaterThanThreshold",
                  TreatMissingData="ignore", AlarmActions=[TOPIC], OKActions=[TOPIC])
    cw.put_metric_alarm(AlarmName="checkout-latency-high", Threshold=400,
                        AlarmDescription="Checkout average latency above 400 ms for 3 of 5 minutes",
                        Dimensions=[{"Name": "Service", "Value": "checkout"}],
                        Tags=[{"Key": "team", "Value": "payments"}], **common)
    cw.put_metric_alarm(AlarmName="frontend-latency-high", Threshold=250,
                        AlarmDescription="Frontend average latency above 250 ms",
                        Dimensions=[{"Name": "Service", "Value": "frontend"}], **common)
    cw.put_composite_alarm(AlarmName="web-service-health", AlarmActions=[TOPIC],
                           AlarmDescription="Any web service is degraded",
                           AlarmRule='ALARM("checkout-latency-high") OR ALARM("frontend-latency-high")')
    cw.put_metric_alarm(AlarmName="legacy-cpu-high", Namespace="AWS/EC2", MetricName="CPUUtilization",
                        Statistic="Average", Period=300, EvaluationPeriods=1, Threshold=90,
                        ComparisonOperator="GreaterThanThreshold")
    post(endpoint + "/_watchtrail/alarms/evaluate")
    out = cw.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    states = {a["AlarmName"]: a["StateValue"] for a in out["MetricAlarms"] + out["CompositeAlarms"]}
    expected = {"checkout-latency-high": "ALARM", "frontend-latency-high": "OK", "web-service-health": "ALARM"}
    if any(states.get(k) != v for k, v in expected.items()):
        sys.exit(f"alarms not in the expected states: {states}")
    return {a["AlarmName"]: a["AlarmArn"] for a in out["MetricAlarms"] + out["CompositeAlarms"]}


def seed_dashboard(cw, alarm_arns):
    def latency_line(service):
        return ["App/Web", "Latency", "Service", service, {"label": service}]

    body = {
        "start": "-PT3H",
        "widgets": [
            {"type": "metric", "x": 0, "y": 0, "width": 16, "height": 6, "properties": {
                "title": "Latency by service (ms)", "view": "timeSeries", "region": REGION, "stat": "Average",
                "period": 300, "metrics": [latency_line(s) for s in SERVICES],
                "annotations": {"horizontal": [{"value": 400, "label": "checkout alarm"}]}}},
            {"type": "metric", "x": 16, "y": 0, "width": 8, "height": 6, "properties": {
                "title": "Requests (last 5 min)", "view": "singleValue", "region": REGION, "stat": "Sum",
                "period": 300, "metrics": [["App/Web", "RequestCount", "Service", s, {"label": s}] for s in SERVICES]}},
            {"type": "text", "x": 0, "y": 6, "width": 8, "height": 5, "properties": {"markdown": "\n".join([
                "## Web tier",
                "",
                "Latency and traffic of the **frontend**, **checkout** and **search** services.",
                "",
                "- Pager: `ops-alerts` SNS topic",
                "- [Runbook](https://example.com/runbooks/web)",
            ])}},
            {"type": "alarm", "x": 8, "y": 6, "width": 8, "height": 5, "properties": {
                "title": "Alarms", "alarms": [alarm_arns[n] for n in
                                              ("checkout-latency-high", "frontend-latency-high", "web-service-health")]}},
            {"type": "metric", "x": 16, "y": 6, "width": 8, "height": 5, "properties": {
                "title": "Requests per minute", "view": "timeSeries", "stacked": True, "region": REGION,
                "stat": "Sum", "period": 60,
                "metrics": [["App/Web", "RequestCount", "Service", s, {"label": s}] for s in SERVICES]}},
        ],
    }
    cw.put_dashboard(DashboardName="web-overview", DashboardBody=json.dumps(body))


WEB_PATHS = ["/", "/search?q=boots", "/product/4711", "/cart", "/checkout", "/api/orders", "/static/app.js"]


def web_event(i):
    """An access-log line, a JSON request log, or now and then an ERROR."""
    path = random.choice(WEB_PATHS)
    if i % 23 == 7:
        return f"ERROR checkout failed: payment gateway timeout after 3000 ms (order o-{4000 + i})"
    if i % 3 == 0:
        return json.dumps({"level": "info", "msg": "request", "method": random.choice(["GET", "GET", "POST"]),
                           "path": path, "status": random.choice([200, 200, 200, 201, 304, 404]),
                           "latencyMs": random.randint(20, 400), "requestId": f"req-{i:05d}"})
    status = random.choice([200, 200, 200, 302, 404])
    return f'10.0.{i % 7}.{20 + i % 50} - - "GET {path} HTTP/1.1" {status} {random.randint(200, 9000)} {random.randint(5, 300)}ms'


def worker_event(i):
    if i % 17 == 5:
        return f"ERROR job j-{9000 + i} failed: connection reset by peer (attempt 2/3)"
    if i % 4 == 0:
        return json.dumps({"level": "info", "msg": "job done", "job": f"j-{9000 + i}", "kind": "send-receipt",
                           "durationMs": random.randint(40, 900)})
    return f"INFO picked job j-{9000 + i} from order-fulfilment"


# Log group: (streams, events per stream, message maker).
LOG_GROUPS = {"/app/web": (["web-1", "web-2"], 220, web_event), "/app/worker": (["worker-1"], 160, worker_event)}
WEB_EVENTS = len(LOG_GROUPS["/app/web"][0]) * LOG_GROUPS["/app/web"][1]


def seed_logs(logs):
    now_ms = int(time.time() * 1000)
    start = now_ms - 170 * 60_000
    for group, (streams, count, make) in LOG_GROUPS.items():
        logs.create_log_group(logGroupName=group)
        logs.put_retention_policy(logGroupName=group, retentionInDays=30)
        for s, stream in enumerate(streams):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            step = (now_ms - start) // count
            events = [{"timestamp": start + k * step + random.randint(0, step // 2),
                       "message": make(k * len(streams) + s)} for k in range(count)]
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def seed_events(events):
    pattern = {"source": ["com.example.orders"], "detail-type": ["Order Placed"], "detail": {"currency": ["EUR"]}}
    events.put_rule(Name="order-placed-to-fulfilment", EventPattern=json.dumps(pattern),
                    Description="Paid orders go to the fulfilment queue")
    events.put_targets(Rule="order-placed-to-fulfilment", Targets=[{
        "Id": "fulfilment-queue", "Arn": QUEUE,
        "RetryPolicy": {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}}])
    entries = [{"Source": "com.example.orders", "DetailType": "Order Placed",
                "Detail": json.dumps({"orderId": f"o-{n}", "customer": c, "amount": a, "currency": "EUR"})}
               for n, c, a in ((4711, "c-1001", 89.9), (4712, "c-1044", 23.5))]
    entries.append({"Source": "com.example.orders", "DetailType": "Order Cancelled",
                    "Detail": json.dumps({"orderId": "o-4705"})})
    events.put_events(Entries=entries)


def seed_cloudtrail(endpoint):
    """A logging trail, and a few resources created only to be deleted."""
    ct = client(endpoint, "cloudtrail")
    ct.create_trail(Name="management-events", S3BucketName="acme-audit-logs", S3KeyPrefix="cloudtrail",
                    IsMultiRegionTrail=True)
    ct.start_logging(Name="management-events")
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="/app/legacy-batch")
    logs.delete_log_group(logGroupName="/app/legacy-batch")
    logs.create_log_stream(logGroupName="/app/worker", logStreamName="worker-0-retired")
    logs.delete_log_stream(logGroupName="/app/worker", logStreamName="worker-0-retired")
    cw = client(endpoint, "cloudwatch")
    cw.put_dashboard(DashboardName="scratch", DashboardBody=json.dumps({"widgets": []}))
    cw.delete_dashboards(DashboardNames=["scratch"])
    cw.delete_alarms(AlarmNames=["legacy-cpu-high"])
    ev = client(endpoint, "events")
    ev.put_rule(Name="nightly-report", ScheduleExpression="cron(0 2 * * ? *)")
    ev.delete_rule(Name="nightly-report")


def seed(endpoint):
    cw = client(endpoint, "cloudwatch")
    seed_metrics(cw)
    arns = seed_alarms(cw, endpoint)
    seed_dashboard(cw, arns)
    seed_logs(client(endpoint, "logs"))
    seed_events(client(endpoint, "events"))
    seed_cloudtrail(endpoint)


# ---------------------------------------------------------------------------------------------
# Screenshots
# ---------------------------------------------------------------------------------------------


def console_path(path, **query):
    query = {k: v for k, v in query.items() if v is not None}
    return "/_watchtrail/console" + path + ("?" + urllib.parse.urlencode(query) if query else "")


def sel(*metrics):
    """The metrics view's `sel` parameter: the graphed metrics, each (namespace, name, dimension
    pairs, label)."""
    return json.dumps([{"n": ns, "m": name, "d": dims, "l": label} for ns, name, dims, label in metrics])


# Each view: (file name, path, a JS expression true once the view shows its data, scroll
# target or None). The expressions read the views' own test hooks (window.__wtPerf) or DOM.
VIEWS = [
    # First, so that the history shows the seeding calls rather than the console's own reads.
    ("cloudtrail", console_path("/cloudtrail"),
     "[...document.querySelectorAll('.ct-results tbody tr')].some(r => r.textContent.includes('DeleteRule'))",
     None),
    ("metrics",
     console_path("/metrics", ns="App/Web", metric="Latency", range="3h", sel=sel(
         ("App/Web", "Latency", [["Service", "checkout"]], "checkout"),
         ("App/Web", "Latency", [["Service", "frontend"]], "frontend"))),
     "window.__wtPerf?.metricsGraph?.series?.length === 2"
     " && document.querySelectorAll('.mx-rows tbody input:checked').length === 2", None),
    ("alarms", console_path("/alarms"),
     "document.querySelectorAll('.alm-list tbody tr .badge').length === 3", None),
    ("alarm-detail", console_path("/alarms/checkout-latency-high"),
     "window.__wtPerf?.alarmGraph?.state === 'ALARM'", None),
    ("dashboard", console_path("/dashboards/web-overview"),
     "window.__wtPerf?.dashboard?.name === 'web-overview'"
     " && window.__wtPerf.dashboard.widgets.every(w => !w.error)", None),
    ("logs-events", console_path("/logs/" + urllib.parse.quote("/app/web", safe="") + "/events"),
     f"window.__wtPerf?.logsViewer?.total === {WEB_EVENTS}", None),
    ("logs-insights", console_path("/insights", groups="/app/web", range="3h", q="stats count(*) by bin(5m)"),
     "window.__wtPerf?.insights?.status === 'Complete' && window.__wtPerf.insights.chartSeries > 0", None),
    ("eventbridge-rule", console_path("/events/buses/default/rules/order-placed-to-fulfilment"),
     "document.querySelectorAll('.ev-delivery').length === 2", ".ev-delivery"),
]

BUSY = "[...document.querySelectorAll('.spinner')].some(e => e.offsetParent !== null)"


def wait_js(driver, script, what):
    try:
        WebDriverWait(driver, TIMEOUT, poll_frequency=0.2).until(lambda d: d.execute_script("return " + script))
    except TimeoutException:
        body = driver.execute_script("return document.body.innerText.slice(0, 1500)")
        raise SystemExit(f"{what}: not ready within {TIMEOUT}s ({script}); page says:\n{body}")


def shoot(driver, endpoint, name, path, ready, scroll_to):
    driver.get(endpoint + path)
    wait_js(driver, ready, name)
    wait_js(driver, "!(" + BUSY + ")", name + " (spinners)")
    if scroll_to:
        # Scroll towards the element, but no further than the page title going under the
        # sticky top bar: the shot keeps the page's name.
        driver.execute_script("""
            const top = document.querySelector(arguments[0]).getBoundingClientRect().top;
            const title = document.querySelector('.page-title').getBoundingClientRect().top;
            const bar = document.querySelector('.topbar').getBoundingClientRect().bottom;
            window.scrollBy(0, Math.max(0, Math.min(top - window.innerHeight / 2, title - bar - 8)));""", scroll_to)
    time.sleep(CHART_SETTLE)
    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    if errors:
        raise SystemExit(f"{name}: the page logged errors: {errors}")
    return driver.get_screenshot_as_png()


def save(png, name):
    """Downsized to SHOT_WIDTH and quantized to 256 colours: small files for the README."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    height = round(image.height * SHOT_WIDTH / image.width)
    image = image.resize((SHOT_WIDTH, height), Image.LANCZOS)
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = OUT / f"{name}.png"
    small.save(path, optimize=True)
    return path


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    proc, endpoint = start_server()
    driver = None
    try:
        seed(endpoint)
        profile = tempfile.mkdtemp(prefix="wt-shots-")
        driver = start_browser(profile)
        driver.set_window_size(*WINDOW)
        # The window size includes the browser's frame: make the page itself 1280x800.
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(2 * WINDOW[0] - inner[0], 2 * WINDOW[1] - inner[1])
        for name, path, ready, scroll_to in VIEWS:
            path_out = save(shoot(driver, endpoint, name, path, ready, scroll_to), name)
            print(f"{path_out.relative_to(ROOT)}  {path_out.stat().st_size / 1024:.0f} KB")
    finally:
        if driver:
            driver.quit()
        stop_server(proc)


if __name__ == "__main__":
    main()
