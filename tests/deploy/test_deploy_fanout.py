"""The Step Functions fan-out: a valid definition, failures contained per cluster, and the
permissions it adds (starting itself, reaching member accounts) scoped and conditional."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deploy_support import REPO, condition_true, default_parameters, run

DEFINITION = REPO / "functions/scan/statemachine.asl.json"
ASL_VALIDATOR = REPO / ".npm-tools/node_modules/.bin/asl-validator"


def test_definition_passes_asl_validator() -> None:
    if not ASL_VALIDATOR.exists():
        pytest.fail("asl-validator is missing: run `make test` (it installs it into .npm-tools)")
    proc = run([str(ASL_VALIDATOR), "--json-path", str(DEFINITION)])
    assert "is valid" in proc.stdout


def test_each_cluster_is_retried_then_caught_and_aggregated_once() -> None:
    asl = json.loads(DEFINITION.read_text())
    assert asl["StartAt"] == "ListTargets" and asl["States"]["ListTargets"]["Next"] == "ScanEachCluster"
    fan = asl["States"]["ScanEachCluster"]
    assert fan["Type"] == "Map" and fan["Next"] == "Aggregate" and fan["ResultPath"] == "$.results"
    assert fan["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert 1 <= fan["MaxConcurrency"] <= 100 and fan["ToleratedFailurePercentage"] == 100
    assert fan["ItemSelector"] == {"fanout": "cluster", "execution.$": "$$.Execution.Name",
                                   "target.$": "$$.Map.Item.Value"}
    task = fan["ItemProcessor"]["States"]["ScanCluster"]
    assert all(r["BackoffRate"] >= 2 and r["MaxAttempts"] >= 1 for r in task["Retry"])
    (catch,) = task["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.failure"
    failed = fan["ItemProcessor"]["States"][catch["Next"]]
    assert failed["Type"] == "Pass" and failed["End"] and set(failed["Parameters"]) == {
        "target.$", "error.$", "cause.$"}
    aggregate = asl["States"]["Aggregate"]
    assert aggregate["End"] and aggregate["Parameters"]["Payload"]["fanout"] == "aggregate"
    functions = {s["Parameters"]["FunctionName"] for s in
                 [asl["States"]["ListTargets"], task, aggregate]}
    assert functions == {"${FanOutFunctionArn}"}


def test_fan_out_resources_follow_the_threshold(template: dict[str, Any],
                                                translated: dict[str, Any]) -> None:
    defaults = default_parameters(template)
    assert defaults["FanOutThreshold"] == "10" and condition_true(template, "FansOut", defaults)
    assert not condition_true(template, "FansOut", defaults | {"FanOutThreshold": "0"})
    resources = translated["default"]["Resources"]
    machine = resources["FanOutStateMachine"]
    assert machine["Type"] == "AWS::StepFunctions::StateMachine" and machine["Condition"] == "FansOut"
    assert machine["Properties"]["DefinitionSubstitutions"] == {
        "FanOutFunctionArn": {"Fn::GetAtt": ["FanOutFunction", "Arn"]}}
    scan, fan = (resources[n]["Properties"] for n in ("ScanFunction", "FanOutFunction"))
    assert fan["Environment"] == scan["Environment"] and fan["Role"] == scan["Role"]
    assert "ReservedConcurrentExecutions" not in fan and scan["ReservedConcurrentExecutions"] == 1
    arn = scan["Environment"]["Variables"]["PULLMEDIC_STATE_MACHINE_ARN"]["Fn::Sub"]
    assert arn.endswith(":stateMachine:" + machine["Properties"]["StateMachineName"]["Fn::Sub"])
    start = resources["StartFanOutPolicy"]
    assert start["Condition"] == "FansOut"
    assert start["Properties"]["PolicyDocument"]["Statement"] == [{
        "Sid": "StartFanOut", "Effect": "Allow", "Action": "states:StartExecution",
        "Resource": {"Ref": "FanOutStateMachine"}}]


def test_member_accounts_are_reached_only_through_their_reader_role(template: dict[str, Any]) -> None:
    defaults = default_parameters(template)
    assert not condition_true(template, "ReachesOtherAccounts", defaults)
    assert condition_true(template, "ReachesOtherAccounts", defaults | {"Targets": '[{"account": "1"}]'})
    reach = template["Resources"]["ReachMemberAccountsPolicy"]
    assert reach["Condition"] == "ReachesOtherAccounts"
    assert reach["Properties"]["PolicyDocument"]["Statement"] == [{
        "Sid": "AssumeReaderRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/pullmedic-reader"}}]
