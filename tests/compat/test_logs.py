"""CloudWatch Logs through boto3 and the aws command."""
import time

import pytest
from botocore.exceptions import ClientError


def now_ms():
    return int(time.time() * 1000)


def test_ingest_filter_and_insights(logs):
    logs.create_log_group(logGroupName="/app")
    logs.create_log_stream(logGroupName="/app", logStreamName="web")
    t = now_ms()
    out = logs.put_log_events(logGroupName="/app", logStreamName="web", logEvents=[
        {"timestamp": t - 3000, "message": "ERROR disk full"},
        {"timestamp": t - 2000, "message": '{"level":"INFO","latency":12}'},
        {"timestamp": t - 1000, "message": '{"level":"ERROR","latency":250}'},
    ])
    assert "rejectedLogEventsInfo" not in out
    got = logs.get_log_events(logGroupName="/app", logStreamName="web", startFromHead=True)
    assert [e["message"] for e in got["events"]][0] == "ERROR disk full"
    again = logs.get_log_events(logGroupName="/app", logStreamName="web", nextToken=got["nextForwardToken"])
    assert again["events"] == [] and again["nextForwardToken"] == got["nextForwardToken"]
    hits = logs.filter_log_events(logGroupName="/app", filterPattern='{ $.latency > 100 }')
    assert [e["message"] for e in hits["events"]] == ['{"level":"ERROR","latency":250}']
    terms = logs.filter_log_events(logGroupName="/app", filterPattern="ERROR")
    assert len(terms["events"]) == 2
    qid = logs.start_query(logGroupName="/app", startTime=t // 1000 - 60, endTime=t // 1000 + 60,
                           queryString="stats count(*) as n")["queryId"]
    res = logs.get_query_results(queryId=qid)
    assert res["status"] == "Complete"
    assert res["results"] == [[{"field": "n", "value": "3"}]]


def test_errors_match_aws(logs):
    logs.create_log_group(logGroupName="g")
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="g")
    assert e.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="nope", logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "x"}])
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName="g", retentionInDays=2)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_aws_cli_logs(aws):
    assert aws("logs", "create-log-group", "--log-group-name", "/cli")[0] == 0
    assert aws("logs", "create-log-stream", "--log-group-name", "/cli", "--log-stream-name", "s")[0] == 0
    t = now_ms()
    code, _, err = aws("logs", "put-log-events", "--log-group-name", "/cli", "--log-stream-name", "s",
                       "--log-events", f"timestamp={t},message=hello from the cli")
    assert code == 0, err
    code, out, _ = aws("logs", "filter-log-events", "--log-group-name", "/cli", "--filter-pattern", "hello")
    assert [e["message"] for e in out["events"]] == ["hello from the cli"]
    code, out, _ = aws("logs", "describe-log-groups")
    assert [g["logGroupName"] for g in out["logGroups"]] == ["/cli"]
