"""CloudWatch alarms through botocore clients forced to each protocol, and through aws-cli.

Evaluation passes are run on demand with POST /_watchtrail/alarms/evaluate, so no test waits for
the background evaluator."""
import datetime as dt
import json
import urllib.request

import pytest
from botocore.exceptions import ClientError


def evaluate(endpoint):
    request = urllib.request.Request(endpoint + "/_watchtrail/alarms/evaluate", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)["changed"]


def deliveries(endpoint):
    with urllib.request.urlopen(endpoint + "/_watchtrail/deliveries?origin=cloudwatch", timeout=10) as r:
        return json.load(r)["deliveries"]


def put_alarm(cloudwatch, name, **extra):
    params = dict(
        AlarmName=name,
        Namespace="Compat",
        MetricName="Load",
        Dimensions=[{"Name": "Host", "Value": "a"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    params.update(extra)
    cloudwatch.put_metric_alarm(**params)


def test_put_and_describe_alarms(cloudwatch):
    put_alarm(cloudwatch, "compat-a", AlarmDescription="first", TreatMissingData="notBreaching")
    cloudwatch.put_metric_alarm(
        AlarmName="compat-b",
        Namespace="Compat",
        MetricName="Load",
        Dimensions=[{"Name": "Host", "Value": "a"}],
        ExtendedStatistic="p99",
        Period=300,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=10.0,
        ComparisonOperator="LessThanOrEqualToThreshold",
    )
    out = cloudwatch.describe_alarms(AlarmNamePrefix="compat-")
    alarms = {a["AlarmName"]: a for a in out["MetricAlarms"]}
    assert list(alarms) == ["compat-a", "compat-b"]
    assert out["CompositeAlarms"] == []
    a = alarms["compat-a"]
    assert a["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:compat-a"
    assert a["AlarmDescription"] == "first"
    assert a["StateValue"] == "INSUFFICIENT_DATA"
    assert a["StateReason"] == "Unchecked: Initial alarm creation"
    assert a["TreatMissingData"] == "notBreaching"
    assert a["Dimensions"] == [{"Name": "Host", "Value": "a"}]
    assert a["ActionsEnabled"] is True
    assert isinstance(a["AlarmConfigurationUpdatedTimestamp"], dt.datetime)
    b = alarms["compat-b"]
    assert b["ExtendedStatistic"] == "p99" and "Statistic" not in b
    assert (b["Period"], b["EvaluationPeriods"], b["DatapointsToAlarm"]) == (300, 3, 2)

    for_metric = cloudwatch.describe_alarms_for_metric(Namespace="Compat", MetricName="Load", Period=300)
    assert [m["AlarmName"] for m in for_metric["MetricAlarms"]] == ["compat-b"]


def test_breaching_data_moves_the_alarm_and_notifies(cloudwatch, endpoint):
    topic = "arn:aws:sns:us-east-1:000000000000:compat"
    put_alarm(cloudwatch, "compat-load", AlarmActions=[topic])
    cloudwatch.put_metric_data(
        Namespace="Compat",
        MetricData=[{"MetricName": "Load", "Dimensions": [{"Name": "Host", "Value": "a"}], "Value": 5.0}],
    )
    assert evaluate(endpoint) == 1
    alarm = cloudwatch.describe_alarms(AlarmNames=["compat-load"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [5.0 (")
    assert alarm["StateReason"].endswith(")] was greater than the threshold (1.0).")
    data = json.loads(alarm["StateReasonData"])
    assert data["recentDatapoints"] == [5.0] and data["threshold"] == 1.0
    sent = deliveries(endpoint)
    assert len(sent) == 1
    assert sent[0]["target"] == topic
    assert sent[0]["subject"] == 'ALARM: "compat-load" in US East (N. Virginia)'
    assert json.loads(sent[0]["body"])["NewStateValue"] == "ALARM"


def test_set_alarm_state_history_and_delete(cloudwatch):
    put_alarm(cloudwatch, "compat-h")
    cloudwatch.set_alarm_state(AlarmName="compat-h", StateValue="ALARM", StateReason="drill",
                               StateReasonData='{"why": "test"}')
    cloudwatch.set_alarm_state(AlarmName="compat-h", StateValue="OK", StateReason="over")
    alarm = cloudwatch.describe_alarms(AlarmNames=["compat-h"], StateValue="OK")["MetricAlarms"][0]
    assert alarm["StateReason"] == "over"

    items = cloudwatch.describe_alarm_history(AlarmName="compat-h", ScanBy="TimestampAscending")["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == [
        'Alarm "compat-h" created',
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert [i["HistoryItemType"] for i in items] == ["ConfigurationUpdate", "StateUpdate", "StateUpdate"]
    update = json.loads(items[1]["HistoryData"])
    assert update["newState"] == {"stateValue": "ALARM", "stateReason": "drill", "stateReasonData": {"why": "test"}}

    page = cloudwatch.describe_alarm_history(AlarmName="compat-h", MaxRecords=2)
    assert len(page["AlarmHistoryItems"]) == 2 and "NextToken" in page
    rest = cloudwatch.describe_alarm_history(AlarmName="compat-h", MaxRecords=2, NextToken=page["NextToken"])
    assert [i["HistorySummary"] for i in rest["AlarmHistoryItems"]] == ['Alarm "compat-h" created']

    cloudwatch.delete_alarms(AlarmNames=["compat-h"])
    assert cloudwatch.describe_alarms(AlarmNames=["compat-h"])["MetricAlarms"] == []


def test_alarm_errors(cloudwatch):
    with pytest.raises(ClientError) as e:
        put_alarm(cloudwatch, "compat-bad", Period=45)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert e.value.response["Error"]["Message"] == "The parameter Period must be 10, 20, 30 or a multiple of 60."
    with pytest.raises(ClientError) as e:
        cloudwatch.set_alarm_state(AlarmName="compat-missing", StateValue="OK", StateReason="x")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_cli_alarm_lifecycle(aws):
    code, _, err = aws("cloudwatch", "put-metric-alarm", "--alarm-name", "cli-alarm", "--namespace", "Cli",
                       "--metric-name", "Errors", "--statistic", "Sum", "--period", "60",
                       "--evaluation-periods", "2", "--threshold", "3", "--comparison-operator",
                       "GreaterThanOrEqualToThreshold", "--treat-missing-data", "breaching")
    assert code == 0, err
    code, out, err = aws("cloudwatch", "describe-alarms", "--alarm-names", "cli-alarm")
    assert code == 0, err
    alarm = out["MetricAlarms"][0]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["TreatMissingData"]) == ("Sum", 3.0, "breaching")
    code, _, err = aws("cloudwatch", "set-alarm-state", "--alarm-name", "cli-alarm", "--state-value", "ALARM",
                       "--state-reason", "from the cli")
    assert code == 0, err
    code, out, err = aws("cloudwatch", "describe-alarm-history", "--alarm-name", "cli-alarm",
                         "--history-item-type", "StateUpdate")
    assert code == 0, err
    assert [i["HistorySummary"] for i in out["AlarmHistoryItems"]] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]
    code, _, err = aws("cloudwatch", "delete-alarms", "--alarm-names", "cli-alarm")
    assert code == 0, err
    code, out, err = aws("cloudwatch", "describe-alarms")
    assert code == 0, err
    assert out["MetricAlarms"] == []
    code, _, err = aws("cloudwatch", "set-alarm-state", "--alarm-name", "cli-alarm", "--state-value", "OK",
                       "--state-reason", "gone")
    assert code != 0 and "ResourceNotFound" in err
