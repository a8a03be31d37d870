"""The console's Alarms view in a real browser: the list (states, counts, filters, bulk actions)
and one alarm (graph with threshold and ALARM bands, details, history, action deliveries, the
Set state form, enabling/disabling actions, composite children).

Alarms are created with boto3 and moved by running an evaluation pass on demand
(POST /_watchtrail/alarms/evaluate), so no test waits for the background evaluator."""
import json
import urllib.request

from selenium.webdriver.support.ui import Select

from conftest import make_client
from console_support import wait_until

TOPIC = "arn:aws:sns:us-east-1:000000000000:topic"
XSS = '<img src=x onerror="window.__xss=1">'


def evaluate(endpoint):
    request = urllib.request.Request(endpoint + "/_watchtrail/alarms/evaluate", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)["changed"]


def metric_alarm(cw, name, metric, threshold, **extra):
    params = dict(
        AlarmName=name,
        Namespace="App",
        MetricName=metric,
        Dimensions=[{"Name": "Host", "Value": "web-1"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=2,
        DatapointsToAlarm=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
    )
    params.update(extra)
    cw.put_metric_alarm(**params)


def put_value(cw, metric, value):
    cw.put_metric_data(Namespace="App", MetricData=[
        {"MetricName": metric, "Dimensions": [{"Name": "Host", "Value": "web-1"}], "Value": value}])


def seed(endpoint):
    """web-cpu in ALARM (with an SNS action), db-latency OK, queue-depth without data (with an
    OK action; missing data ignored) and a composite on the first two, after one evaluation."""
    cw = make_client(endpoint, "cloudwatch")
    metric_alarm(cw, "web-cpu", "CPUUtilization", 80.0, AlarmActions=[TOPIC], AlarmDescription="CPU of the web tier",
                 Tags=[{"Key": "team", "Value": "web"}])
    metric_alarm(cw, "db-latency", "Latency", 500.0)
    metric_alarm(cw, "queue-depth", "QueueDepth", 1000.0, OKActions=[TOPIC], TreatMissingData="ignore")
    cw.put_composite_alarm(AlarmName="service-health", AlarmRule='ALARM("web-cpu") OR ALARM(db-latency)')
    put_value(cw, "CPUUtilization", 95.0)
    put_value(cw, "Latency", 120.0)
    assert evaluate(endpoint) >= 2
    states = {a["AlarmName"]: a["StateValue"] for a in describe(cw)}
    assert states == {"web-cpu": "ALARM", "db-latency": "OK", "queue-depth": "INSUFFICIENT_DATA", "service-health": "ALARM"}
    return cw


def describe(cw, names=None):
    out = cw.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"], **({"AlarmNames": names} if names else {}))
    return out["MetricAlarms"] + out["CompositeAlarms"]


def row_states(console):
    """{alarm name: badge data-state} of the list's rows."""
    return console.js("""
        return Object.fromEntries([...document.querySelectorAll('.alm-list tbody tr')].map((tr) =>
          [tr.querySelector('a.alm-name').textContent, tr.querySelector('.badge').dataset.state]));""")


def wait_rows(console, expected):
    wait_until(lambda: row_states(console) == expected, timeout=10)


def detail_state(console):
    return console.js("const b = document.querySelector('.alm-state .badge'); return b && b.dataset.state;")


def test_alarms_list_detail_graph_history_and_deliveries(console, endpoint):
    seed(endpoint)
    console.open("/")
    console.click_text("Alarms")
    wait_rows(console, {"db-latency": "OK", "queue-depth": "INSUFFICIENT_DATA", "service-health": "ALARM", "web-cpu": "ALARM"})
    # Colour-coded badges and the counts at the top.
    classes = console.js("return [...document.querySelectorAll('.alm-list tbody .badge')].map((b) => b.dataset.state + ':' + b.className)")
    assert "ALARM:badge bad" in classes and "OK:badge good" in classes and "INSUFFICIENT_DATA:badge unknown" in classes
    counts = console.js("return Object.fromEntries([...document.querySelectorAll('.alm-count')].map((c) => [c.dataset.countState, c.querySelector('.alm-count-n').textContent]))")
    assert counts == {"ALL": "4", "ALARM": "2", "OK": "1", "INSUFFICIENT_DATA": "1"}
    assert "CPUUtilization > 80 for 1 datapoint within 2 minutes" in console.find(".alm-list tbody").text
    assert 'ALARM("web-cpu") OR ALARM(db-latency)' in console.find(".alm-list tbody").text

    # Filters: state (select) and name text, both kept in the URL across a reload.
    Select(console.find("#alm-state")).select_by_value("ALARM")
    wait_rows(console, {"service-health": "ALARM", "web-cpu": "ALARM"})
    console.find("#alm-search").send_keys("web")
    wait_rows(console, {"web-cpu": "ALARM"})
    assert "state=ALARM" in console.url and "q=web" in console.url
    console.driver.refresh()
    wait_rows(console, {"web-cpu": "ALARM"})
    console.click_text("OK", css=".alm-count span")
    console.js("const s = document.querySelector('#alm-search'); s.value = ''; s.dispatchEvent(new Event('input'));")
    wait_rows(console, {"db-latency": "OK"})

    # The alarm: state, reason, graph with the threshold and one ALARM band.
    console.click_text("All alarms", css=".alm-count span")
    console.click_text("web-cpu")
    console.wait_text("Threshold Crossed", ".alm-reason")
    assert detail_state(console) == "ALARM"
    assert "CPU of the web tier" in console.find(".alm-description").text
    graph = console.wait_js("window.__wtPerf && window.__wtPerf.alarmGraph")
    assert graph["threshold"] == 80 and graph["bands"] == 1 and graph["points"] == 1
    details = console.find(".alm-tab-body").text
    for shown in ["App", "CPUUtilization", "Host = web-1", "Maximum", "1 minute", "> 80", "1 out of 2",
                  "Treat missing data as missing", TOPIC, "arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-cpu"]:
        assert shown in details, shown
    console.wait_text("team", ".alm-tags")
    console.wait_text("service-health", ".alm-parents")

    # History, newest first, with the state change's reason and its data expandable.
    console.click_text("History", css=".tabs a")
    console.wait_text("Alarm updated from INSUFFICIENT_DATA to ALARM", ".alm-tab-body")
    assert "Threshold Crossed: 1 out of the last 2 datapoints [95.0" in console.find(".alm-tab-body").text
    types = console.js("return [...document.querySelectorAll('.alm-htype')].map((e) => e.dataset.type)")
    assert types[-1] == "ConfigurationUpdate" and "StateUpdate" in types
    console.js("document.querySelector('[data-type=StateUpdate]').closest('tr').querySelector('.alm-hdata summary').click()")
    console.wait_text('"stateValue"', ".alm-hdata .json")

    # Actions: the SNS delivery with its topic and pretty-printed message.
    console.click_text("Actions", css=".tabs a")
    console.wait_text(TOPIC, ".alm-target")
    assert console.find(".alm-tab-body [data-status]").text == "recorded"
    assert '"NewStateValue": "ALARM"' in console.find(".alm-body .json").text
    assert "tab=actions" in console.url

    # A reload keeps the tab.
    console.driver.refresh()
    console.wait_text(TOPIC, ".alm-target")
    assert console.find(".tabs a.active").text == "Actions"


def set_state(console, state, reason):
    """Sets the shown alarm's state through the Set state form and waits for the redraw."""
    console.click_text("Set state")
    Select(console.find("#alm-new-state")).select_by_value(state)
    field = console.find("#alm-reason")
    field.clear()
    field.send_keys(reason)
    console.find("#alm-set-state-submit").click()
    console.wait_shown(reason, ".alm-reason")
    assert detail_state(console) == state


def graph_of(console, state):
    """The graph hook once the graph of the alarm in `state` is drawn."""
    return console.wait_js(f"window.__wtPerf && window.__wtPerf.alarmGraph && window.__wtPerf.alarmGraph.state === '{state}' && window.__wtPerf.alarmGraph")


def test_alarm_set_state_and_disable_actions(console, endpoint):
    cw = seed(endpoint)
    # queue-depth has no data and ignores missing data, so the background evaluator (every few
    # seconds) keeps the states set here.
    console.open("/alarms/queue-depth")
    assert graph_of(console, "INSUFFICIENT_DATA")["bands"] == 0
    set_state(console, "ALARM", "Load test drill")
    alarm = describe(cw, ["queue-depth"])[0]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "Load test drill")
    assert graph_of(console, "ALARM")["bands"] == 1  # open: from the transition until now

    set_state(console, "OK", "Fixed by hand")
    alarm = describe(cw, ["queue-depth"])[0]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("OK", "Fixed by hand")
    assert graph_of(console, "OK")["bands"] == 1  # closed at the transition to OK
    # The OK action ran: its message is in the Actions tab.
    console.click_text("Actions", css=".tabs a")
    console.wait_shown(TOPIC, ".alm-target")
    assert '"NewStateValue": "OK"' in console.find(".alm-body .json").text

    console.find("#alm-disable").click()
    console.find("#alm-enable")
    assert describe(cw, ["queue-depth"])[0]["ActionsEnabled"] is False
    console.wait_shown("Actions are disabled", ".alm-tab-body")
    console.find("#alm-enable").click()
    console.find("#alm-disable")
    assert describe(cw, ["queue-depth"])[0]["ActionsEnabled"] is True


def test_composite_alarm_shows_children_with_states(console, endpoint):
    seed(endpoint)
    console.open("/alarms/service-health")
    console.wait_text('ALARM("web-cpu") OR ALARM(db-latency)', ".alm-rule-text")
    children = console.wait_js("""(() => { const rows = [...document.querySelectorAll('a.alm-child')];
        return rows.length === 2 && rows.map((a) => [a.textContent, a.closest('tr').querySelector('.badge').dataset.state]); })()""")
    assert children == [["web-cpu", "ALARM"], ["db-latency", "OK"]]
    assert not console.find_all(".alm-chart")  # composites have no metric to draw
    console.click_text("db-latency", css="a.alm-child")
    console.wait_shown("Latency", ".alm-tab-body")
    assert detail_state(console) == "OK"
    assert console.url.endswith("/alarms/db-latency")


def test_alarms_bulk_disable_and_delete(console, endpoint):
    cw = seed(endpoint)
    console.open("/alarms")
    wait_until(lambda: len(row_states(console)) == 4)
    for name in ["db-latency", "queue-depth"]:
        console.find(f'input[data-name="{name}"]').click()
    console.find("#alm-bulk-disable").click()
    wait_until(lambda: [a["ActionsEnabled"] for a in describe(cw, ["db-latency", "queue-depth"])] == [False, False])
    console.wait_shown("Actions disabled", ".alm-list tbody")
    assert describe(cw, ["web-cpu"])[0]["ActionsEnabled"] is True
    # The selection survives the reload and is in the URL.
    assert "selected=" in console.url
    console.find("#alm-bulk-delete").click()
    console.wait_text("queue-depth", ".alm-dialog")
    console.find("#alm-confirm").click()
    wait_rows(console, {"service-health": "ALARM", "web-cpu": "ALARM"})
    assert {a["AlarmName"] for a in describe(cw)} == {"service-health", "web-cpu"}


def test_alarm_markup_in_names_and_descriptions_is_text(console, endpoint):
    cw = make_client(endpoint, "cloudwatch")
    # Missing data keeps the state set below, whatever the background evaluator finds.
    metric_alarm(cw, XSS, "CPUUtilization", 1.0, AlarmDescription=XSS, TreatMissingData="ignore")
    cw.put_composite_alarm(AlarmName="xss-composite", AlarmRule=f'ALARM("{XSS.replace(chr(34), chr(92) + chr(34))}")')
    cw.set_alarm_state(AlarmName=XSS, StateValue="ALARM", StateReason=XSS)
    console.open("/alarms")
    console.wait_text(XSS, "a.alm-name")
    console.click_text(XSS, css="a.alm-name")
    console.wait_text(XSS, ".alm-reason")
    assert console.find(".page-title h1").text == XSS
    assert console.find(".alm-description").text == XSS
    console.click_text("History", css=".tabs a")
    console.wait_text(XSS, ".alm-hreason")
    console.open("/alarms/xss-composite")
    console.wait_text(XSS, "a.alm-child")
    assert console.js("return window.__xss") is None
    assert not console.find_all("img[src='x']")


def test_alarm_server_errors_are_shown_next_to_the_form(console, endpoint):
    cw = seed(endpoint)
    console.open("/alarms/web-cpu")
    console.wait_text("Threshold Crossed", ".alm-reason")
    console.click_text("Set state")
    console.find("#alm-reason-data").send_keys("{not json")
    console.find("#alm-set-state-submit").click()
    error = console.wait_text("StateReasonData must be valid JSON.", ".alm-set-state .error")
    assert error.text.startswith("InvalidFormat")  # AWS's code, then its message
    console.screenshot("set-state-error")
    assert describe(cw, ["web-cpu"])[0]["StateValue"] == "ALARM"
    # The browser reports the 400 answer itself; that one is expected, nothing else is.
    logged = console.browser_errors()
    assert all("400" in e["message"] for e in logged), logged

    # An alarm that does not exist: a clear message, not a blank page.
    console.open("/alarms/no-such-alarm")
    console.wait_text('There is no alarm named "no-such-alarm"')
