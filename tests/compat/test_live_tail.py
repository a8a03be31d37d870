"""StartLiveTail through boto3 (its event-stream parser checks every frame's CRCs) and the aws
command.

StartLiveTail's model gives it the host prefix ``stream-``: botocore puts it before the endpoint's
host even when an endpoint URL is given, so ``http://127.0.0.1:PORT`` becomes
``http://stream-127.0.0.1:PORT``, a name that does not resolve. Two ways reach watchtrail's one
port: turn the injection off (``Config(inject_host_prefix=False)`` in boto3,
``AWS_DISABLE_HOST_PREFIX_INJECTION=true`` or ``disable_host_prefix_injection = true`` in the
config file for boto3 and the aws command), or give the prefixed name an address (a hosts-file
line ``127.0.0.1 stream-localhost`` with the endpoint ``http://localhost:PORT``).
"""
import os
import subprocess
import threading
import time

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from conftest import ACCESS_KEY, AWS_CLI, REGION, SECRET_KEY, _binary, _free_port, _healthy, make_client


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture
def tail(endpoint):
    return make_client(endpoint, "logs", inject_host_prefix=False)


def put(logs, group, stream, messages):
    t = now_ms()
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t, "message": m} for m in messages])
    return t


def next_results(events):
    """The next sessionUpdate that carries events (the once-a-second empty ones skipped)."""
    for event in events:
        update = event.get("sessionUpdate")
        if update and update["sessionResults"]:
            return update
    raise AssertionError("the stream ended")


def test_botocore_prefixes_the_host_unless_told_not_to(endpoint, logs):
    logs.create_log_group(logGroupName="g")
    prefixed = make_client(endpoint, "logs")
    with pytest.raises(EndpointConnectionError) as raised:
        prefixed.start_live_tail(logGroupIdentifiers=["g"])
    port = endpoint.rsplit(":", 1)[1]
    assert f"http://stream-127.0.0.1:{port}/" in str(raised.value)


def test_boto3_tails_a_group(logs, tail):
    logs.create_log_group(logGroupName="/app")
    logs.create_log_stream(logGroupName="/app", logStreamName="web-1")
    logs.create_log_stream(logGroupName="/app", logStreamName="db-1")
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/app"
    out = tail.start_live_tail(logGroupIdentifiers=[arn], logStreamNamePrefixes=["web-"],
                               logEventFilterPattern='{ $.level = "ERROR" }')
    events = iter(out["responseStream"])
    start = next(events)["sessionStart"]
    assert start["logGroupIdentifiers"] == [arn]
    assert start["logStreamNamePrefixes"] == ["web-"]
    assert start["logEventFilterPattern"] == '{ $.level = "ERROR" }'
    assert start["requestId"] == out["ResponseMetadata"]["RequestId"]
    assert len(start["sessionId"]) == 36

    put(logs, "/app", "db-1", ['{"level":"ERROR","where":"db"}'])
    t = put(logs, "/app", "web-1", ['{"level":"INFO"}', '{"level":"ERROR","where":"web"}'])
    update = next_results(events)
    assert update["sessionMetadata"] == {"sampled": False}
    [event] = update["sessionResults"]
    assert event["message"] == '{"level":"ERROR","where":"web"}'
    assert event["logStreamName"] == "web-1"
    assert event["logGroupIdentifier"] == arn
    assert event["timestamp"] == t
    assert abs(event["ingestionTime"] - t) < 10_000
    out["responseStream"].close()


def test_boto3_errors_before_the_stream(logs, tail):
    with pytest.raises(ClientError) as missing:
        tail.start_live_tail(logGroupIdentifiers=["arn:aws:logs:us-east-1:000000000000:log-group:none"])
    assert missing.value.response["Error"] == {
        "Code": "ResourceNotFoundException", "Message": "The specified log group does not exist."}
    logs.create_log_group(logGroupName="g")
    with pytest.raises(ClientError) as both:
        tail.start_live_tail(logGroupIdentifiers=["g"], logStreamNames=["a"], logStreamNamePrefixes=["b"])
    assert both.value.response["Error"]["Code"] == "InvalidParameterException"


@pytest.fixture
def short_sessions():
    """A server of its own whose Live Tail sessions end after 2.5 s, so that the aws command,
    which tails until the session ends, exits by itself."""
    port = _free_port()
    proc = subprocess.Popen([_binary(), "--ephemeral", "--port", str(port), "--log-level", "warn",
                             "--live-tail-session-ms", "2500"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _healthy(url):
        assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
        time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_aws_cli_start_live_tail_prints_events_until_the_session_times_out(short_sessions, tmp_path):
    logs = make_client(short_sessions, "logs")
    logs.create_log_group(logGroupName="cli")
    logs.create_log_stream(logGroupName="cli", logStreamName="s")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
               AWS_DISABLE_HOST_PREFIX_INJECTION="true")
    proc = subprocess.Popen([AWS_CLI, "--endpoint-url", short_sessions, "logs", "start-live-tail",
                             "--log-group-identifiers", "cli", "--log-event-filter-pattern", "hello"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # The command prints nothing before its first event, and its start-up takes a while: events
    # are put until it exits, so that some reach the open session.
    def feed():
        while proc.poll() is None:
            put(logs, "cli", "s", ["hello from the cli test", "ignored"])
            time.sleep(0.2)
    feeder = threading.Thread(target=feed)
    feeder.start()
    out, err = proc.communicate(timeout=30)
    feeder.join()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1] == ("An error occurred (SessionTimeoutException) when calling the StartLiveTail operation: "
                         "The Live Tail session has timed out after being open for 2.5 seconds.")
    printed = lines[:-1]
    assert printed and set(printed) == {"hello from the cli test"}, out
