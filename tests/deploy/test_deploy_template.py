"""template.yaml, transformed offline (LanguageExtensions loop + SAM), has what the bot needs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from deploy_support import (
    LISTED_CLUSTERS,
    REPO,
    condition_true,
    default_parameters,
    schedule_problem,
)


def of_type(cfn: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == resource_type}


def only(cfn: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = of_type(cfn, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def test_function_runtime_and_sizing(translated: dict[str, dict[str, Any]]) -> None:
    props = translated["default"]["Resources"]["ScanFunction"]["Properties"]
    assert props["Runtime"] == "python3.12" and props["Architectures"] == ["arm64"]
    assert props["Handler"] == "app.lambda_handler"
    assert props["Timeout"] == 300 and props["MemorySize"] == 1536
    assert props["ReservedConcurrentExecutions"] == 1
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Role"] == {"Fn::GetAtt": ["ScanFunctionRole", "Arn"]}
    layer_id, layer = next(iter(of_type(translated["default"],
                                        "AWS::Lambda::LayerVersion").items()))
    assert props["Layers"] == [{"Ref": layer_id}]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_function_and_layer_build_with_their_makefiles(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["ScanFunction"]["Metadata"]["BuildMethod"] == "makefile"
    assert resources["ScanFunction"]["Properties"]["CodeUri"] == "functions/scan/"
    assert resources["PullmedicLayer"]["Metadata"]["BuildMethod"] == "makefile"
    assert resources["PullmedicLayer"]["Properties"]["ContentUri"] == "layers/pullmedic/"
    assert "build-ScanFunction:" in (REPO / "functions/scan/Makefile").read_text()
    assert "build-PullmedicLayer:" in (REPO / "layers/pullmedic/Makefile").read_text()


def test_environment_has_every_setting_the_code_reads(translated: dict[str, Any]) -> None:
    variables = translated["default"]["Resources"]["ScanFunction"]["Properties"][
        "Environment"]["Variables"]
    read = set(re.findall(r"PULLMEDIC_[A-Z_]+",
                          (REPO / "layers/pullmedic/pullmedic/core/settings.py").read_text()))
    # the sandbox points the registry probe at its own fronts; a deployment asks the real ones
    sandbox_only = {"PULLMEDIC_REGISTRY_HOSTS", "PULLMEDIC_REGISTRY_CA"}
    missing = read - set(variables) - sandbox_only
    assert not missing, f"settings read but not set: {sorted(missing)}"
    planned = {"PULLMEDIC_TABLE", "PULLMEDIC_REMINDER_HOURS", "PULLMEDIC_READ_SECRETS"}
    assert planned <= set(variables)
    assert variables["PULLMEDIC_TOPIC_ARN"] == {"Ref": "AlertTopic"}
    assert variables["PULLMEDIC_TABLE"] == {"Ref": "StateTable"}
    assert variables["PULLMEDIC_CLUSTERS"] == {"Fn::Join": [",", {"Ref": "ClusterNames"}]}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "pullmedic"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "pullmedic"
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_schedule_is_an_eventbridge_rule_with_the_parameter(translated: dict[str, Any]) -> None:
    cfn = translated["default"]
    rule = only(cfn, "AWS::Events::Rule")["Properties"]
    assert rule["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ScanFunction", "Arn"]}
    # No Input: the function receives the scheduled event itself (parse_event expects it).
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    permission = only(cfn, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"


SCHEDULES = {
    "rate(5 minutes)": True, "rate(1 minute)": True, "rate(2 hours)": True,
    "rate(1 day)": True, "cron(0/15 * ? * MON-FRI *)": True, "cron(0 8 1 * ? *)": True,
    "rate(5 minute)": False, "rate(1 minutes)": False, "rate(0 minutes)": False,
    "rate(5 mins)": False, "every 5 minutes": False, "cron(0 12 * * ?)": False,
}


def test_schedule_default_is_valid(template: dict[str, Any]) -> None:
    assert schedule_problem(template["Parameters"]["ScheduleExpression"]["Default"]) is None


@pytest.mark.parametrize(("expression", "valid"), SCHEDULES.items())
def test_schedule_parameter_pattern_agrees_with_the_check(template: dict[str, Any],
                                                          expression: str, valid: bool) -> None:
    pattern = template["Parameters"]["ScheduleExpression"]["AllowedPattern"]
    assert (schedule_problem(expression) is None) is valid
    assert bool(re.fullmatch(pattern, expression)) is valid


def test_alert_topic_is_encrypted_with_a_key_alarms_can_use(translated: dict[str, Any]) -> None:
    cfn = translated["default"]
    topic = cfn["Resources"]["AlertTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertKey"}
    key = cfn["Resources"]["AlertKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    services = [s for s in key["KeyPolicy"]["Statement"]
                if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert services and set(services[0]["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert services[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == {
        "Ref": "AWS::AccountId"}


def test_email_subscriptions_only_with_an_address(translated: dict[str, Any],
                                                   template: dict[str, Any]) -> None:
    subscriptions = of_type(translated["default"], "AWS::SNS::Subscription")
    alerts, operations = (subscriptions[n] for n in ("AlertEmailSubscription",
                                                     "OperationsEmailSubscription"))
    assert len(subscriptions) == 2
    assert alerts["Condition"] == "HasAlertEmail"
    assert alerts["Properties"]["Protocol"] == "email"
    assert alerts["Properties"]["TopicArn"] == {"Ref": "AlertTopic"}
    assert operations["Properties"]["TopicArn"] == {"Ref": "OperationsTopic"}
    defaults = default_parameters(template)
    assert not condition_true(template, "HasAlertEmail", defaults)
    assert condition_true(template, "HasAlertEmail", defaults | {"AlertEmail": "a@example.com"})
    # The operators' address; without one, the alert address gets the alarms too.
    assert not condition_true(template, operations["Condition"], defaults)
    for given in ({"AlertEmail": "a@example.com"}, {"OperationsEmail": "ops@example.com"}):
        assert condition_true(template, operations["Condition"], defaults | given)
    endpoint = template["Resources"]["OperationsEmailSubscription"]["Properties"]["Endpoint"][
        "Fn::If"]
    assert endpoint == ["HasOperationsEmail", {"Ref": "OperationsEmail"}, {"Ref": "AlertEmail"}]


def test_state_table(translated: dict[str, Any]) -> None:
    table = translated["default"]["Resources"]["StateTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("pk", "HASH"), ("sk", "RANGE")}
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("pk", "S"), ("sk", "S")}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_failed_invocations_go_to_an_encrypted_queue(translated: dict[str, Any]) -> None:
    cfn = translated["default"]
    config = only(cfn, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert config["FunctionName"] == {"Ref": "ScanFunction"}
    assert config["MaximumRetryAttempts"] in (0, 1)
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailureQueue", "Arn"]}
    assert "OnSuccess" not in config["DestinationConfig"]
    queue = cfn["Resources"]["FailureQueue"]["Properties"]
    # The stack's key, which the function's role (Lambda sends with it) may use.
    assert queue["KmsMasterKeyId"] == {"Ref": "AlertKey"}
    # SAM made no queue of its own for the destination.
    assert list(of_type(cfn, "AWS::SQS::Queue")) == ["FailureQueue"]


def _dashboard_metrics(cfn: dict[str, Any]) -> list[list[Any]]:
    body = only(cfn, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{[^}]+\}", "X", body)
    widgets = json.loads(text)["widgets"]
    return [m for w in widgets for m in w["properties"].get("metrics", [])]


def test_dashboard_shows_the_bot_metrics_and_the_function(translated: dict[str, Any]) -> None:
    metrics = [m[:4] for m in _dashboard_metrics(translated["default"])]
    for name in ("FailingWorkloads", "FailingPods", "ScanErrors"):
        # The handler's Metrics(namespace="pullmedic", service="pullmedic") emits these.
        assert ["pullmedic", name, "service", "pullmedic"] in metrics
    for name in ("Errors", "Duration"):
        assert ["AWS/Lambda", name, "FunctionName", "X"] in metrics


def test_dashboard_lists_open_problems_from_the_scan_log(translated: dict[str, Any]) -> None:
    """The table reads the scan function's log group, and exactly the fields the handler logs
    on its "problem" lines (schemas/summary.json: problems)."""
    cfn = translated["default"]
    body = only(cfn, "AWS::CloudWatch::Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
    (table,) = [w for w in json.loads(re.sub(r"\$\{[^}]+\}", "X", body))["widgets"] if w["type"] == "log"]
    assert table["properties"]["view"] == "table"
    raw = re.search(r'"query": "([^"]+)"', body)
    assert raw is not None
    query = raw[1]
    assert query.startswith("SOURCE '${ScanLogGroup}' | filter message = 'problem' | stats ")
    logging = cfn["Resources"]["ScanFunction"]["Properties"]["LoggingConfig"]
    assert logging["LogGroup"] == {"Ref": "ScanLogGroup"}
    schema = json.loads((REPO / "layers/pullmedic/pullmedic/announcing/schemas/summary.json").read_text())
    logged = set(schema["properties"]["problems"]["items"]["properties"])
    read = set(re.findall(r"problem\.(\w+)", query))
    assert read == logged and "filter state = 'open'" in query
    columns = query.rpartition("| display ")[2].split(", ")
    assert columns == ["cluster", "namespace", "workload", "cause", "since", "silenced",
                       "problem.fingerprint"]


def test_alarms_notify_the_operations_topic_only(translated: dict[str, Any]) -> None:
    alarms = of_type(translated["default"], "AWS::CloudWatch::Alarm").values()
    watched = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]): a["Properties"]
               for a in alarms}
    scan_errors = watched[("pullmedic", "ScanErrors")]
    assert scan_errors["Dimensions"] == [{"Name": "service", "Value": "pullmedic"}]
    function_errors = watched[("AWS/Lambda", "Errors")]
    assert function_errors["Dimensions"] == [{"Name": "FunctionName",
                                              "Value": {"Ref": "ScanFunction"}}]
    for alarm in (scan_errors, function_errors):
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Threshold"] == 0
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "OperationsTopic"}]


def test_problem_topic_carries_only_pullmedics_messages(translated: dict[str, Any]) -> None:
    """Nothing but the functions publishes to the alert topic (no alarm, no other resource),
    and the functions publish nowhere else; both topics use the stack's key."""
    cfn = translated["default"]
    referrers = sorted(name for name, resource in cfn["Resources"].items()
                       if _refers_to(resource, "AlertTopic"))
    assert referrers == ["AlertEmailSubscription", "FanOutFunction", "ScanFunction",
                         "ScanFunctionRole"], referrers
    operations = sorted(name for name, resource in cfn["Resources"].items()
                        if _refers_to(resource, "OperationsTopic"))
    assert operations == ["FunctionErrorsAlarm", "OperationsEmailSubscription", "ScanErrorsAlarm"]
    for topic in ("AlertTopic", "OperationsTopic"):
        assert cfn["Resources"][topic]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertKey"}
    assert cfn["Outputs"]["OperationsTopicArn"]["Value"] == {"Ref": "OperationsTopic"}


def _refers_to(node: Any, logical_id: str) -> bool:
    if isinstance(node, dict):
        if node.get("Ref") == logical_id or node.get("Fn::GetAtt", [None])[0] == logical_id:
            return True
        return any(_refers_to(v, logical_id) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, logical_id) for v in node)
    return False


def test_access_entries_for_listed_clusters(translated: dict[str, Any]) -> None:
    entries = of_type(translated["listed"], "AWS::EKS::AccessEntry")
    assert sorted(e["Properties"]["ClusterName"] for e in entries.values()) == LISTED_CLUSTERS
    for entry in entries.values():
        props = entry["Properties"]
        assert entry["Condition"] == "CreatesAccessEntries"
        # cfn-lint accepts any string here; CloudFormation fails late on a wrong one.
        assert props["Type"] == "STANDARD"
        assert props["PrincipalArn"] == {"Fn::GetAtt": ["ScanFunctionRole", "Arn"]}
        assert props["KubernetesGroups"] == [{"Ref": "KubernetesGroup"}]
        (policy,) = props["AccessPolicies"]
        assert policy["PolicyArn"] == {"Fn::Sub": "arn:${AWS::Partition}:eks::aws:"
                                                  "cluster-access-policy/AmazonEKSViewPolicy"}
        assert policy["AccessScope"] == {"Type": "cluster"}


def test_access_entries_only_when_clusters_are_listed(template: dict[str, Any]) -> None:
    defaults = default_parameters(template)
    assert defaults["ClusterNames"] == [""]
    assert not condition_true(template, "CreatesAccessEntries", defaults)
    assert not condition_true(template, "CreatesAccessEntries", defaults | {"ClusterNames": ["*"]})
    listed = defaults | {"ClusterNames": LISTED_CLUSTERS}
    assert condition_true(template, "CreatesAccessEntries", listed)
    assert not condition_true(template, "CreatesAccessEntries",
                              listed | {"CreateAccessEntries": "false"})


def test_outputs(translated: dict[str, Any]) -> None:
    outputs = translated["default"]["Outputs"]
    assert set(outputs) >= {"TopicArn", "FunctionName", "FunctionRoleArn", "StateTableName",
                            "FailureQueueUrl", "DashboardUrl"}
    assert outputs["FunctionRoleArn"]["Value"] == {"Fn::GetAtt": ["ScanFunctionRole", "Arn"]}


def test_parameter_defaults(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["ClusterNames"]["Type"] == "CommaDelimitedList"
    assert params["ClusterNames"]["Default"] == ""
    assert params["GracePeriodSeconds"]["Default"] == 120
    assert params["ReminderHours"]["Default"] == 24
    assert params["LogLevel"]["Default"] == "INFO"
    assert params["ReadPullSecrets"]["Default"] == "false"
    assert params["KubernetesGroup"]["Default"] == "pullmedic-readers"
    assert params["AlertEmail"]["Default"] == ""
    for name, spec in params.items():
        if "AllowedPattern" in spec and spec.get("Default") not in (None, ""):
            assert re.fullmatch(spec["AllowedPattern"], str(spec["Default"])), name
