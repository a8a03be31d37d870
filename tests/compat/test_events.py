"""EventBridge through boto3 and the aws command: rules, targets, PutEvents, patterns."""
import json
import time
import urllib.parse
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import make_client

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture
def events(endpoint):
    return make_client(endpoint, "events")


def deliveries(endpoint, target):
    query = urllib.parse.urlencode({"target": target})
    with urllib.request.urlopen(f"{endpoint}/_watchtrail/deliveries?{query}", timeout=5) as r:
        return json.load(r)["deliveries"]


def wait_for(fetch):
    for _ in range(250):
        got = fetch()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("nothing arrived")


def test_rule_targets_and_delivery_with_boto3(events, endpoint):
    arn = events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))["RuleArn"]
    assert arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders"
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"
    out = events.put_targets(Rule="orders", Targets=[
        {"Id": "q", "Arn": queue, "InputPath": "$.detail"},
        {"Id": "bad", "Arn": queue, "Input": "{oops"},
    ])
    assert out["FailedEntryCount"] == 1
    assert out["FailedEntries"][0]["TargetId"] == "bad"
    assert [t["Id"] for t in events.list_targets_by_rule(Rule="orders")["Targets"]] == ["q"]

    put = events.put_events(Entries=[
        {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"id": 7})},
        {"Source": "shop", "DetailType": "Order"},
    ])
    assert put["FailedEntryCount"] == 1
    assert "EventId" in put["Entries"][0]
    assert put["Entries"][1]["ErrorCode"] == "InvalidArgument"

    got = wait_for(lambda: deliveries(endpoint, queue))
    assert json.loads(got[0]["body"]) == {"id": 7}
    assert got[0]["source"] == arn

    with pytest.raises(ClientError) as e:
        events.delete_rule(Name="orders")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == "Rule can't be deleted since it has targets."
    events.remove_targets(Rule="orders", Ids=["q"])
    events.delete_rule(Name="orders")
    assert events.list_rules()["Rules"] == []


def test_errors_match_aws(events):
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name="missing")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "Rule missing does not exist on EventBus default."
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="bad", EventPattern='{"source": "shop"}')
    assert e.value.response["Error"]["Code"] == "InvalidEventPatternException"
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name="nope")
    assert e.value.response["Error"]["Message"] == "Event bus nope does not exist."


def test_aws_cli_events(aws):
    code, out, err = aws("events", "put-rule", "--name", "cli-rule",
                         "--event-pattern", '{"detail-type": [{"prefix": "Order"}]}')
    assert code == 0, err
    assert out["RuleArn"].endswith(":rule/cli-rule")
    code, out, err = aws("events", "put-targets", "--rule", "cli-rule", "--targets",
                         f"Id=fn,Arn=arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")
    assert code == 0, err
    assert out["FailedEntryCount"] == 0
    code, out, err = aws("events", "put-events", "--entries",
                         json.dumps([{"Source": "cli", "DetailType": "Order Placed", "Detail": "{}"}]))
    assert code == 0, err
    assert out["FailedEntryCount"] == 0
    code, out, _ = aws("events", "list-rules", "--name-prefix", "cli")
    assert [r["Name"] for r in out["Rules"]] == ["cli-rule"]
    event = json.dumps({"id": "1", "account": ACCOUNT, "source": "cli", "time": "2026-01-01T00:00:00Z",
                        "region": REGION, "detail-type": "Order Placed", "resources": [], "detail": {}})
    code, out, err = aws("events", "test-event-pattern", "--event-pattern",
                         '{"detail-type": [{"prefix": "Order"}]}', "--event", event)
    assert code == 0, err
    assert out["Result"] is True
    code, out, _ = aws("events", "test-event-pattern", "--event-pattern", '{"source": ["other"]}', "--event", event)
    assert out["Result"] is False
    assert aws("events", "remove-targets", "--rule", "cli-rule", "--ids", "fn")[0] == 0
    assert aws("events", "delete-rule", "--name", "cli-rule")[0] == 0
    code, out, _ = aws("events", "list-rules")
    assert out["Rules"] == []
