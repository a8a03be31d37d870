"""CloudTrail through boto3 and the aws command: the journal finds who did what."""
import time

import pytest
from botocore.exceptions import ClientError

from conftest import make_client


def wait_for(fetch, count):
    for _ in range(200):
        events = fetch()
        if len(events) >= count:
            return events
        time.sleep(0.02)
    raise AssertionError("events never appeared")


def test_lookup_events_with_the_cli(aws, endpoint):
    logs = make_client(endpoint, "logs", access_key="777777777777")
    logs.create_log_group(logGroupName="/cli-audited")

    def fetch():
        code, out, err = aws("cloudtrail", "lookup-events", "--lookup-attributes",
                             "AttributeKey=EventName,AttributeValue=CreateLogGroup")
        assert code == 0, err
        return out["Events"]

    # The aws command signs as "test" (account 000000000000): it must not see 777777777777's call.
    time.sleep(0.3)
    assert fetch() == []
    ct = make_client(endpoint, "cloudtrail", access_key="777777777777")
    events = wait_for(lambda: ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateLogGroup"}])["Events"], 1)
    assert events[0]["Username"] == "root"
    assert events[0]["AccessKeyId"] == "777777777777"
    assert events[0]["Resources"] == [{"ResourceType": "AWS::Logs::LogGroup", "ResourceName": "/cli-audited"}]

    own = make_client(endpoint, "logs")
    own.create_log_group(logGroupName="/mine")
    cli_events = wait_for(fetch, 1)
    assert cli_events[0]["EventName"] == "CreateLogGroup"
    assert '"logGroupName": "/mine"' in cli_events[0]["CloudTrailEvent"] or '"logGroupName":"/mine"' in cli_events[0]["CloudTrailEvent"]


def test_trails_with_boto3(endpoint):
    ct = make_client(endpoint, "cloudtrail")
    with pytest.raises(ClientError) as e:
        ct.create_trail(Name="a", S3BucketName="b")
    assert e.value.response["Error"]["Code"] == "InvalidTrailNameException"
    created = ct.create_trail(Name="audit", S3BucketName="bucket", IsMultiRegionTrail=True)
    assert created["TrailARN"] == "arn:aws:cloudtrail:us-east-1:000000000000:trail/audit"
    assert created["IsMultiRegionTrail"] is True
    ct.start_logging(Name="audit")
    assert ct.get_trail_status(Name="audit")["IsLogging"] is True
    selectors = ct.get_event_selectors(TrailName="audit")
    assert selectors["EventSelectors"][0]["ReadWriteType"] == "All"
    ct.delete_trail(Name="audit")
    with pytest.raises(ClientError) as e:
        ct.get_trail(Name="audit")
    assert e.value.response["Error"]["Code"] == "TrailNotFoundException"
