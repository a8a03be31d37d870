"""The console's CloudTrail view in a browser: event history with lookups and pages, one
event's record, trails, and the journal's integrity; console actions are marked as such."""
import json
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import make_client

XSS = '<img src=x onerror="window.__xss=1">'


def recorded(endpoint, value, count=1, key="EventName"):
    """Waits until CloudTrail has `count` events whose `key` is `value` (the journal is written
    after the call answers); returns them, newest first."""
    ct = make_client(endpoint, "cloudtrail")
    for _ in range(250):
        got = ct.lookup_events(LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])["Events"]
        if len(got) >= count:
            return got
        time.sleep(0.02)
    raise AssertionError(f"no {key} {value} recorded")


def search(console, attribute, value):
    Select(console.find("#ct-attr")).select_by_visible_text(attribute)
    box = console.find("#ct-value")
    box.clear()
    box.send_keys(value)
    console.click_text("Search")


def rows(console):
    return console.find_all(".ct-results table.grid tbody tr")


def test_history_lookup_and_event_detail(console, endpoint):
    logs = make_client(endpoint, "logs")
    logs.create_log_group(logGroupName="/audited/app")
    logs.delete_log_group(logGroupName="/audited/app")
    recorded(endpoint, "DeleteLogGroup")

    console.open("/")
    console.click_text("CloudTrail")
    row = console.wait_text("DeleteLogGroup", ".ct-results tbody tr")
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[2] == "root"  # the caller
    assert cells[3] == "logs.amazonaws.com"
    assert cells[4] == "AWS::Logs::LogGroup" and cells[5] == "/audited/app"
    assert cells[6] == "API"
    assert any("CreateLogGroup" in r.text for r in rows(console))

    search(console, "Event name", "DeleteLogGroup")
    console.wait_js("location.search.includes('value=DeleteLogGroup')")
    console.wait_js("document.querySelectorAll('.ct-results tbody tr').length === 1")
    assert rows(console)[0].text.startswith("DeleteLogGroup")
    # The lookup is in the URL: a reload shows the same filtered history.
    console.driver.refresh()
    console.wait_text("DeleteLogGroup", ".ct-results tbody tr")
    assert len(rows(console)) == 1
    assert console.find("#ct-value").get_attribute("value") == "DeleteLogGroup"

    console.click_text("DeleteLogGroup", ".ct-event-name")
    console.wait_text("DeleteLogGroup", ".page-title h1")
    assert console.find("#ct-source-ip").text == "127.0.0.1"
    agent = console.find("#ct-user-agent").text
    assert "boto3" in agent.lower() or "botocore" in agent.lower()
    summary = console.find(".ct-summary").text
    assert "Root" in summary and "arn:aws:iam::000000000000:root" in summary
    record = console.wait_text('"eventName": "DeleteLogGroup"', "#ct-record")
    assert '"logGroupName": "/audited/app"' in record.text
    assert '"sourceIPAddress": "127.0.0.1"' in record.text


def test_console_actions_are_marked_as_console_origin(console, endpoint):
    make_client(endpoint, "events").put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    console.open("/")
    console.click_text("EventBridge")
    console.click_text("default")
    console.click_text("nightly")
    console.click_text("Disable")
    console.wait_content("#ev-rule-state", "DISABLED")

    # The server's contract: the record of a console call says so.
    event = recorded(endpoint, "DisableRule")[0]
    assert json.loads(event["CloudTrailEvent"])["sessionCredentialFromConsole"] == "true"
    put_rule = json.loads(recorded(endpoint, "PutRule")[0]["CloudTrailEvent"])
    assert "sessionCredentialFromConsole" not in put_rule

    console.click_text("CloudTrail")
    search(console, "Event name", "DisableRule")
    row = console.wait_text("DisableRule", ".ct-results tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "[data-origin]").text == "Console"
    console.click_text("DisableRule", ".ct-event-name")
    console.wait_text('"sessionCredentialFromConsole": "true"', "#ct-record")
    assert "AWS console session" in console.find(".ct-summary").text

    search_url = "/cloudtrail?attr=EventName&value=PutRule"
    console.open(search_url)
    row = console.wait_text("PutRule", ".ct-results tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "[data-origin]").text == "API"


def test_pages_of_history(console, endpoint):
    logs = make_client(endpoint, "logs")
    for i in range(56):
        logs.create_log_group(logGroupName=f"/paged/{i:02d}")
    recorded(endpoint, "/paged/55", key="ResourceName")
    console.open("/cloudtrail?attr=EventName&value=CreateLogGroup")
    console.wait_js("document.querySelectorAll('.ct-results tbody tr').length === 50")
    # Newest first.
    assert rows(console)[0].text.split("\n")[0].startswith("CreateLogGroup")
    assert "/paged/55" in rows(console)[0].text
    perf = console.js("return window.__wtPerf.cloudtrail")
    assert perf["rows"] == 50
    console.find("button[aria-label='Next page']").click()
    console.wait_js("document.querySelectorAll('.ct-results tbody tr').length === 6")
    assert "/paged/00" in rows(console)[-1].text
    assert "page=2" in console.url
    console.driver.refresh()
    console.wait_js("document.querySelectorAll('.ct-results tbody tr').length === 6")
    console.click_text("1", ".ct-pager button")
    console.wait_js("document.querySelectorAll('.ct-results tbody tr').length === 50")


def test_integrity(console, endpoint):
    make_client(endpoint, "logs").create_log_group(logGroupName="/one")
    recorded(endpoint, "CreateLogGroup")
    console.open("/cloudtrail")
    console.click_text("Integrity")
    verdict = console.wait_text("Journal intact", ".ct-verdict.good")
    first = int(verdict.text.split("Journal intact: ")[1].split(" ")[0])
    assert first > 0
    make_client(endpoint, "logs").create_log_group(logGroupName="/two")
    recorded(endpoint, "CreateLogGroup", 2)
    console.click_text("Verify again")
    console.wait_js(f"/Journal intact: (\\d+)/.exec(document.querySelector('.ct-verdict')?.textContent || '')?.[1] > {first}")

    # A broken chain cannot be made through the API; the page is handed the server's answer
    # for one (the shape journal/verify gives) to show how it reads.
    console.js("""
        const real = window.fetch;
        window.fetch = (url, ...rest) => String(url).includes('/journal/verify')
          ? Promise.resolve(new Response(JSON.stringify({intact: false, records: 7, first_broken_event_id: 'e-3',
              position: 3, problem: "hash does not match the record's content (the record was altered)"})))
          : real(url, ...rest);
    """)
    console.find("#ct-verify").click()
    broken = console.wait_content(".ct-verdict.bad", "Journal broken at record 3 of 7")
    assert "the record was altered" in broken and "e-3" in broken
    assert console.find(".ct-verdict.bad a").get_attribute("href").endswith("/cloudtrail/events/e-3")


def test_trails(console, endpoint):
    ct = make_client(endpoint, "cloudtrail")
    ct.create_trail(Name="audit", S3BucketName="audit-bucket", S3KeyPrefix="logs", IsMultiRegionTrail=True)
    ct.start_logging(Name="audit")
    ct.create_trail(Name="quiet", S3BucketName="quiet-bucket")
    console.open("/cloudtrail")
    console.click_text("Trails")
    row = console.wait_text("audit", "table.grid tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "[data-logging]").get_attribute("data-logging") == "on"
    assert "us-east-1" in row.text and "Yes" in row.text and "audit-bucket/logs" in row.text
    assert "All management events" in row.text
    quiet = console.wait_text("quiet", "table.grid tbody tr")
    assert quiet.find_element(By.CSS_SELECTOR, "[data-logging]").text == "Off"

    console.click_text("audit", ".ct-trail-name")
    console.wait_text("arn:aws:cloudtrail:us-east-1:000000000000:trail/audit", ".ct-trail-detail")
    console.wait_text('"ReadWriteType": "All"', ".ct-trail-detail")
    console.find("#ct-stop-logging").click()
    console.wait_content(".ct-trail-detail", "Start logging")
    assert ct.get_trail_status(Name="audit")["IsLogging"] is False
    assert "trail=audit" in console.url


def test_markup_in_records_is_shown_as_text(console, endpoint):
    make_client(endpoint, "events").put_rule(Name="marked", ScheduleExpression="rate(5 minutes)", Description=XSS)
    event = recorded(endpoint, "PutRule")[0]
    console.open("/cloudtrail/events/" + event["EventId"])
    record = console.wait_text(json.dumps(XSS), "#ct-record")
    assert '"description"' in record.text
    assert console.js("return window.__xss") is None
    assert not console.find_all("main img")


def test_errors_show_the_server_message(console):
    console.open("/cloudtrail?attr=ReadOnly&value=maybe")
    console.wait_text("InvalidLookupAttributesException: ReadOnly must be true or false, not maybe.", ".ct-results .error")
    console.open("/cloudtrail/events/no-such-event")
    console.wait_text("No event with ID no-such-event", "main")
    console.expect_http_errors()
