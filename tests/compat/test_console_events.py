"""The console's EventBridge view in a browser: buses, rules, targets and what they received,
the pattern tester, archives and replays, and sending a test event."""
import json
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import make_client

ACCOUNT = "000000000000"
REGION = "us-east-1"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
XSS = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
def events(endpoint):
    return make_client(endpoint, "events")


def rule_with_queue(events, name="orders", bus="default", source="shop.orders", **extra):
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [source]}), **extra)
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{
        "Id": "queue", "Arn": QUEUE,
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
    }])


def set_value(console, css, text):
    """Puts `text` in an input or textarea as if typed (faster than send_keys for JSON)."""
    el = console.find(css)
    console.js("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", el, text)
    return el


def test_rule_page_shows_pattern_target_and_delivery(console, events):
    events.create_event_bus(Name="shop")
    rule_with_queue(events, bus="shop", Description="Orders to the queue")
    put = events.put_events(Entries=[{"EventBusName": "shop", "Source": "shop.orders", "DetailType": "Order",
                                      "Detail": json.dumps({"orderId": "o-77", "lines": [{"sku": "A1", "qty": 2}]})}])
    assert put["FailedEntryCount"] == 0

    console.open("/")
    console.click_text("EventBridge")
    console.wait_text("shop", ".ev-bus-name")
    console.click_text("shop")
    row = console.wait_text("orders", "table.grid tbody tr")
    assert "ENABLED" in row.text and "shop.orders" in row.text and "Orders to the queue" in row.text
    console.click_text("orders")

    console.wait_text('"shop.orders"', "#ev-rule-pattern")
    targets = console.wait_text(QUEUE, "table.grid")
    assert "3 retries, max age 600 s" in targets.text
    assert "The matched event" in targets.text
    # Delivery is asynchronous: the page polls until the queue's copy is recorded.
    delivery = console.wait_content(".ev-delivery", "o-77")
    assert QUEUE in delivery and "recorded" in delivery
    assert '"detail-type": "Order"' in delivery and '"sku": "A1"' in delivery
    assert '"id": "' + put["Entries"][0]["EventId"] + '"' in delivery

    # A second target: the deliveries can be narrowed to one target, and the URL keeps that.
    events.put_targets(Rule="orders", EventBusName="shop", Targets=[{"Id": "fn", "Arn": FUNCTION, "InputPath": "$.detail"}])
    events.put_events(Entries=[{"EventBusName": "shop", "Source": "shop.orders", "DetailType": "Order",
                                "Detail": json.dumps({"orderId": "o-78"})}])
    console.driver.refresh()
    console.wait_content(".ev-delivery", FUNCTION)
    console.wait_js("document.querySelectorAll('#ev-delivery-target option').length === 3")
    Select(console.find("#ev-delivery-target")).select_by_value(FUNCTION)
    console.wait_js("[...document.querySelectorAll('.ev-delivery-target')].every(t => t.textContent.endsWith(':function:f'))")
    console.wait_content(".ev-delivery-body", "o-78")
    assert "target=" in console.url
    url = console.url
    console.driver.refresh()
    console.wait_js("document.querySelector('#ev-delivery-target')?.value.endsWith(':function:f')")
    console.wait_content(".ev-delivery-body", "o-78")
    shown = console.js("return [...document.querySelectorAll('.ev-delivery-target')].map(e => e.textContent)")
    assert shown == [FUNCTION]
    assert console.url == url


def test_deliveries_arrive_while_the_page_is_open(console, events):
    rule_with_queue(events)
    console.open("/events/buses/default/rules/orders")
    console.wait_text("No deliveries yet", "body")
    events.put_events(Entries=[{"Source": "shop.orders", "DetailType": "Order", "Detail": json.dumps({"n": 1})}])
    console.wait_content(".ev-delivery-body", '"n": 1')
    events.put_events(Entries=[{"Source": "shop.orders", "DetailType": "Order", "Detail": json.dumps({"n": 2})}])
    console.wait_content(".ev-delivery-body", '"n": 2')
    # Newest first.
    bodies = console.js("return [...document.querySelectorAll('.ev-delivery-body')].map(e => e.textContent)")
    assert '"n": 2' in bodies[0] and '"n": 1' in bodies[1]


def test_pattern_tester(console):
    console.open("/")
    console.click_text("EventBridge")
    console.click_text("Pattern tester")
    sample = json.loads(console.find("#ev-test-event").get_attribute("value"))
    assert {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"} <= set(sample)

    console.find("#ev-test-run").click()
    console.wait_text("Matches", "#ev-test-result")

    set_value(console, "#ev-test-pattern", json.dumps({"source": ["other.app"]}))
    console.find("#ev-test-run").click()
    console.wait_text("Does not match", "#ev-test-result")

    # The state is in the URL: a reload shows the same pattern and runs it again.
    console.driver.refresh()
    console.wait_text("Does not match", "#ev-test-result")
    assert "other.app" in console.find("#ev-test-pattern").get_attribute("value")

    set_value(console, "#ev-test-pattern", '{"source": "not-a-list"}')
    console.find("#ev-test-run").click()
    error = console.wait_text("InvalidEventPatternException", ".ev-tester .error")
    assert "Event pattern is not valid" in error.text
    assert console.find("#ev-test-result").text == ""

    set_value(console, "#ev-test-pattern", json.dumps({"source": ["x"]}))
    set_value(console, "#ev-test-event", json.dumps({"source": "x"}))
    console.find("#ev-test-run").click()
    console.wait_text("Parameter Event is not valid.", ".ev-tester .error")
    console.expect_http_errors()


def test_send_test_event_from_the_form(console, events):
    rule_with_queue(events, source="console.test")
    console.open("/events/send")
    assert Select(console.find("#ev-send-bus")).first_selected_option.text == "default"
    set_value(console, "#ev-send-source", "console.test")
    set_value(console, "#ev-send-detail-type", "Probe")
    set_value(console, "#ev-send-detail", json.dumps({"probe": "from-the-form"}))
    console.find("#ev-send").click()
    event_id = console.wait_text("Event sent", "#ev-send-outcome").find_element(By.ID, "ev-sent-id").text
    assert len(event_id) >= 32
    console.wait_text(event_id, "#ev-sent")

    # The rule delivered it to its queue, and the page shows the body the queue received.
    console.click_text("rules of default")
    console.click_text("orders")
    delivery = console.wait_content(".ev-delivery-body", "from-the-form")
    assert event_id in delivery

    # A refused entry: the server's code and message next to the form.
    console.open("/events/send")
    set_value(console, "#ev-send-detail", "{oops")
    console.find("#ev-send").click()
    console.wait_text("MalformedDetail: Detail is malformed.", "#ev-send-outcome .error")
    # The form's values are in the URL.
    assert "detail=%7Boops" in console.url


def test_disable_and_enable_a_rule_from_the_console(console, events):
    rule_with_queue(events)
    console.open("/events/buses/default/rules/orders")
    console.wait_content("#ev-rule-state", "ENABLED")
    console.find("#ev-rule-toggle").click()
    console.wait_content("#ev-rule-state", "DISABLED")
    assert events.describe_rule(Name="orders")["State"] == "DISABLED"
    console.wait_content("#ev-rule-toggle", "Enable")
    console.find("#ev-rule-toggle").click()
    console.wait_content("#ev-rule-state", "ENABLED")
    assert events.describe_rule(Name="orders")["State"] == "ENABLED"


def test_archives_replays_and_bus_policy(console, events):
    bus_arn = events.create_event_bus(Name="audit")["EventBusArn"]
    events.put_permission(EventBusName="audit", Action="events:PutEvents", Principal="111122223333", StatementId="partner")
    archive_arn = events.create_archive(ArchiveName="keep", EventSourceArn=bus_arn, RetentionDays=7)["ArchiveArn"]
    now = time.time()
    events.start_replay(ReplayName="again", EventSourceArn=archive_arn, EventStartTime=now - 3600,
                        EventEndTime=now, Destination={"Arn": bus_arn})

    console.open("/events/archives")
    row = console.wait_text("keep", "table.grid tbody tr")
    assert "audit" in row.text and "7 days" in row.text
    replay = console.wait_text("again", "table.grid tbody tr")
    assert "keep" in replay.text

    console.click_text("audit")
    policy = console.wait_text("partner", "#ev-bus-policy")
    assert "events:PutEvents" in policy.text
    console.click_text("Event buses")
    row = console.wait_text("audit", "table.grid tbody tr")
    assert "Yes" in row.text


def test_markup_in_descriptions_and_events_is_shown_as_text(console, events):
    rule_with_queue(events, Description=XSS)
    events.put_events(Entries=[{"Source": "shop.orders", "DetailType": "Order", "Detail": json.dumps({"note": XSS})}])
    console.open("/events/buses/default")
    console.wait_text(XSS, "table.grid")
    console.click_text("orders")
    assert console.wait_content("#ev-rule-description", XSS) == XSS
    # The delivered body is shown as JSON: the string with its quotes escaped.
    console.wait_content(".ev-delivery-body", json.dumps(XSS))
    assert console.js("return window.__xss") is None
    assert not console.find_all("main img")


def test_missing_rule_and_bus_show_the_server_message(console):
    console.open("/events/buses/default/rules/missing")
    console.wait_text("ResourceNotFoundException: Rule missing does not exist on EventBus default.", ".error")
    console.open("/events/buses/nope")
    console.wait_text("Event bus nope does not exist.", ".error")
    console.expect_http_errors()
