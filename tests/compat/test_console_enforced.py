"""The console against a server that enforces signatures (`--enforce-signatures
--credentials-file`): the sign-in dialog, a wrong secret or an unknown key answered inside it, the
signed-in account in the scope bar, the key's data in the views, console actions journaled for
the key's user, the integrity view and live tail signed with the key, and a reload keeping the
session.

This module starts its own server (the session's `endpoint` one does not check signatures), and
its data is written with boto3 clients signing with alice's real secret."""
import json
import time
from urllib.parse import quote

import pytest

from conftest import make_client, reset_server, running_server
from console_support import console_view

ALICE_KEY = "AKIAALICE"
ALICE_SECRET = "alice-secret"
ALICE_ACCOUNT = "111122223333"
CREDENTIALS = f"""[alice]
aws_access_key_id = {ALICE_KEY}
aws_secret_access_key = {ALICE_SECRET}
account_id = {ALICE_ACCOUNT}
user_name = alice
"""
XSS = '<img src=x onerror="window.__xss=1">'


# ---------------------------------------------------------------------------------------------
# The server, clients and the page
# ---------------------------------------------------------------------------------------------


# Resets go through the admin token: under enforcement the emulator's own endpoints are closed.
ADMIN_TOKEN = "console-tests-admin"


@pytest.fixture(scope="module")
def enforced(tmp_path_factory):
    """`watchtrail --ephemeral --enforce-signatures --credentials-file <alice>` on a free port."""
    credentials = tmp_path_factory.mktemp("enforced") / "credentials"
    credentials.write_text(CREDENTIALS)
    with running_server("--enforce-signatures", "--credentials-file", str(credentials),
                        "--admin-token", ADMIN_TOKEN) as url:
        yield url


@pytest.fixture(autouse=True)
def reset(enforced):
    """Overrides conftest's: every test starts from an empty server, this module's one."""
    reset_server(enforced, ADMIN_TOKEN)
    yield


def alice(url, service):
    """A boto3 client signing as alice."""
    return make_client(url, service, access_key=ALICE_KEY, secret_key=ALICE_SECRET)


@pytest.fixture
def page(browser, enforced, request):
    """conftest's `console`, on this module's server."""
    with console_view(browser, enforced, request) as view:
        yield view


def dialog_open(page):
    return page.js("const d = document.querySelector('dialog'); return !!(d && d.open)")


def submit_key(page, key, secret):
    """Fills the sign-in dialog and submits it."""
    page.visible("dialog #access-key")
    for css, value in (("#access-key", key), ("#secret-key", secret)):
        box = page.find(css)
        box.clear()
        box.send_keys(value)
    page.click_text("Sign in", "dialog button")


def sign_in(page, path="/", reopen=True):
    """Opens `path` in a fresh tab state (unless `reopen` is false: the dialog is already open)
    and signs in as alice."""
    if reopen:
        page.open(path)
    submit_key(page, ALICE_KEY, ALICE_SECRET)
    page.wait_js("!document.querySelector('dialog')")
    page.wait_js(f"document.querySelector('#account').value === '{ALICE_ACCOUNT}'")


def logs_path(group, sub=""):
    return "/logs/" + quote(group, safe="") + (f"/{sub}" if sub else "")


def recorded_as_alice(url, name):
    """Waits until alice's CloudTrail has an event named `name` (the journal is written after
    the call answers); returns its record."""
    ct = alice(url, "cloudtrail")
    deadline = time.monotonic() + 10
    while True:
        got = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])["Events"]
        if got:
            return got[0], json.loads(got[0]["CloudTrailEvent"])
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name} in alice's CloudTrail")
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# Signing in
# ---------------------------------------------------------------------------------------------


def test_sign_in_dialog_rejects_a_wrong_secret_then_signs_in(page):
    page.open("/")
    page.visible("dialog #access-key")
    assert dialog_open(page)
    assert page.find("dialog h2").text == "Sign in"
    assert page.find("#secret-key").get_attribute("type") == "password"

    # A wrong secret: the server's signature error, inside the dialog, which stays.
    submit_key(page, ALICE_KEY, "not-alice-secret")
    problem = page.wait_content("#sign-in-problem", "SignatureDoesNotMatch")
    assert "The request signature we calculated does not match" in problem
    assert dialog_open(page)
    page.expect_http_errors(403)
    assert page.js("return sessionStorage.getItem('watchtrail.secretAccessKey')") is None

    # An unknown key: the server's answer too.
    submit_key(page, "AKIANOBODY", "whatever")
    page.wait_content("#sign-in-problem", "InvalidClientTokenId")
    assert dialog_open(page)
    page.expect_http_errors(403)

    # The right key: the dialog goes, the scope bar shows the key's account, fixed.
    submit_key(page, ALICE_KEY, ALICE_SECRET)
    page.wait_js("!document.querySelector('dialog')")
    account = page.find("#account")
    page.wait_js(f"document.querySelector('#account').value === '{ALICE_ACCOUNT}'")
    assert account.get_attribute("disabled") is not None
    page.wait_text(f"Key {ALICE_KEY} · sign out", "#scope button")
    # The view behind the dialog is drawn again, for alice's account.
    page.wait_text(f"{ALICE_ACCOUNT} · us-east-1", "#main")


def test_alices_log_group_shows_in_the_logs_view(page, enforced):
    logs = alice(enforced, "logs")
    logs.create_log_group(logGroupName="/alice/app")
    logs.create_log_group(logGroupName="/alice/other")
    logs.create_log_stream(logGroupName="/alice/app", logStreamName=XSS)  # log group names forbid markup
    # test/test is always known: its account's groups are not alice's.
    make_client(enforced, "logs").create_log_group(logGroupName="/default/only")

    sign_in(page)
    page.click_text("Logs", "#nav a")
    page.wait_text("/alice/app", "table.grid")
    names = page.js("return [...document.querySelectorAll('a.lg-name')].map((a) => a.textContent)")
    assert names == ["/alice/app", "/alice/other"]

    page.click_text("/alice/app", "a.lg-name")
    page.wait_text(f"arn:aws:logs:us-east-1:{ALICE_ACCOUNT}:log-group:/alice/app", ".lg-details")
    page.wait_content("a.lg-name", XSS)
    assert page.js("return document.querySelector('table.grid img')") is None
    assert page.js("return window.__xss") is None


def test_console_action_is_journaled_for_alice(page, enforced):
    alice(enforced, "events").put_rule(Name="nightly", ScheduleExpression="rate(1 day)")

    sign_in(page)
    page.click_text("EventBridge", "#nav a")
    page.click_text("default")
    page.click_text("nightly")
    page.wait_content("#ev-rule-state", "ENABLED")
    page.find("#ev-rule-toggle").click()
    page.wait_content("#ev-rule-state", "DISABLED")
    assert alice(enforced, "events").describe_rule(Name="nightly")["State"] == "DISABLED"

    event, record = recorded_as_alice(enforced, "DisableRule")
    identity = record["userIdentity"]
    assert identity["userName"] == "alice"
    assert identity["accessKeyId"] == ALICE_KEY
    assert identity["accountId"] == ALICE_ACCOUNT
    assert record["recipientAccountId"] == ALICE_ACCOUNT
    assert record["sessionCredentialFromConsole"] == "true"
    assert event["Username"] == "alice"
    # PutRule came from boto3, not the console.
    _, put_rule = recorded_as_alice(enforced, "PutRule")
    assert "sessionCredentialFromConsole" not in put_rule

    # The console's own history says the same.
    page.click_text("CloudTrail", "#nav a")
    row = page.wait_text("DisableRule", ".ct-results tbody tr")
    cells = [c.strip() for c in page.js("return [...arguments[0].cells].map((c) => c.textContent)", row)]
    assert cells[0] == "DisableRule" and cells[2] == "alice" and cells[6] == "Console"


def test_integrity_and_live_tail_signed_in(page, enforced):
    logs = alice(enforced, "logs")
    logs.create_log_group(logGroupName="/alice/tail")
    logs.create_log_stream(logGroupName="/alice/tail", logStreamName="s1")

    sign_in(page)
    page.click_text("CloudTrail", "#nav a")
    page.click_text("Integrity", "nav.tabs a")
    verdict = page.wait_content(".ct-verdict", "Journal intact")
    assert page.find(".ct-verdict").get_attribute("data-intact") == "true"
    assert "records verified" in verdict

    page.click_text("Logs", "#nav a")
    page.click_text("/alice/tail", "a.lg-name")
    page.click_text("Live tail")
    page.wait_content(".lg-tail-status", "Live", timeout=20)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/alice/tail", logStreamName="s1", logEvents=[
        {"timestamp": now, "message": "alice tail one"},
        {"timestamp": now + 1, "message": XSS},
    ])
    page.wait_js("window.__wtPerf.liveTail.rows === 2", timeout=20)
    shown = page.js("return [...document.querySelectorAll('.lg-tail-rows .lg-msg')].map((m) => m.textContent)")
    assert shown == ["alice tail one", XSS]
    assert page.js("return document.querySelector('.lg-tail-rows img')") is None
    assert page.js("return window.__xss") is None


def test_reload_keeps_the_session(page, enforced):
    alice(enforced, "logs").create_log_group(logGroupName="/alice/kept")
    sign_in(page, "/logs")
    page.wait_text("/alice/kept", "table.grid")

    page.driver.refresh()
    page.wait_text("/alice/kept", "table.grid", timeout=20)
    assert not page.js("return document.querySelector('dialog')")
    assert page.find("#account").get_attribute("value") == ALICE_ACCOUNT
    page.wait_text(f"Key {ALICE_KEY} · sign out", "#scope button")


def test_sign_out_asks_again_without_failing_calls(page, enforced):
    sign_in(page)
    page.wait_text(f"{ALICE_ACCOUNT} · us-east-1", "#main")
    page.click_text(f"Key {ALICE_KEY} · sign out", "#scope button")
    page.wait_js("document.querySelector('dialog') && document.querySelector('dialog').open", timeout=20)
    assert page.js("return sessionStorage.getItem('watchtrail.accessKeyId')") is None
    assert page.js("return sessionStorage.getItem('watchtrail.account')") is None
    # No view loads behind the dialog, so nothing is sent that the server would refuse.
    time.sleep(1)
    assert page.browser_errors() == []
    assert page.js("return document.querySelectorAll('#main > :not(noscript)').length") == 0
    # Signing in again shows the views.
    sign_in(page, reopen=False)
    page.wait_text(f"{ALICE_ACCOUNT} · us-east-1", "#main")
