"""Day two on the command line, against the sandbox: `silence` writes the same silence as the
console event, `problems` lists what the state table holds, `unsilence` lifts a silence, and the
commands an alert (or a plan) prints work when pasted."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from pullmedic.cli import main
from pullmedic_sandbox.handler import invoke, load_handler

EVENTS = Path(__file__).resolve().parents[2] / "events"
STACK_TEMPLATE = {
    "Resources": {"StateTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}]}}},
    "Outputs": {"StateTableName": {"Value": {"Ref": "StateTable"}}},
}


def keys(sandbox, table: str) -> set[tuple[str, str]]:
    return {(i["pk"]["S"], i["sk"]["S"]) for i in sandbox.client("dynamodb").scan(TableName=table)["Items"]}


def test_cli_writes_a_silence_to_the_table(sandbox, new_table, capsys, monkeypatch) -> None:
    table = new_table()
    monkeypatch.delenv("PULLMEDIC_TABLE", raising=False)
    with sandbox.activated():
        code = main(["silence", "--workload", "prod/shop/Deployment/api", "--hours", "2",
                     "--reason", "rollout in progress", "--table", table])
    assert code == 0
    out = capsys.readouterr().out
    assert "Silenced workload prod/shop/Deployment/api until" in out
    lift = f"pullmedic unsilence --workload prod/shop/Deployment/api --table {table} --region us-east-2"
    assert lift in out
    item = sandbox.client("dynamodb").get_item(TableName=table, Key={
        "pk": {"S": "silence#workload"}, "sk": {"S": "prod/shop/Deployment/api"}})["Item"]
    assert item["reason"]["S"] == "rollout in progress"
    ends = datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)
    assert abs(ends - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(minutes=1)

    monkeypatch.setenv("PULLMEDIC_TABLE", table)
    with sandbox.activated():
        assert main(["silence", "--fingerprint", "0FF9C55240FE5160"]) == 0  # pasted in upper case
    assert ("silence#fingerprint", "0ff9c55240fe5160") in keys(sandbox, table)


def test_a_lower_case_kind_is_stored_as_kubernetes_spells_it(sandbox, new_table, capsys) -> None:
    """`deployment` once was stored as written, and then matched no workload at all."""
    table = new_table()
    with sandbox.activated():
        assert main(["silence", "--workload", "c/team/deployment/api", "--table", table, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["silenced"]["value"] == "c/team/Deployment/api"
    assert ("silence#workload", "c/team/Deployment/api") in keys(sandbox, table)


def test_cli_silence_says_what_is_wrong(sandbox, monkeypatch, capsys) -> None:
    monkeypatch.delenv("PULLMEDIC_TABLE", raising=False)
    with sandbox.activated():
        assert main(["silence", "--namespace", "shop", "--hours", "0"]) == 2
        error = capsys.readouterr().err
        assert "--namespace must be cluster/namespace, not 'shop'" in error
        assert "--hours must be a number of hours above 0" in error
        assert len(error.splitlines()) == 1
        assert main(["silence", "--namespace", "prod/shop"]) == 2
        assert ("no state table: pass --table NAME or set PULLMEDIC_TABLE (no stack 'pullmedic' "
                "with a StateTableName output in us-east-2") in capsys.readouterr().err


def test_the_table_is_found_through_the_stack(sandbox, monkeypatch, capsys) -> None:
    monkeypatch.delenv("PULLMEDIC_TABLE", raising=False)
    cloudformation = sandbox.client("cloudformation")
    cloudformation.create_stack(StackName="pullmedic-eu", TemplateBody=json.dumps(STACK_TEMPLATE))
    (output,) = cloudformation.describe_stacks(StackName="pullmedic-eu")["Stacks"][0]["Outputs"]
    with sandbox.activated():
        assert main(["silence", "--namespace", "prod/shop", "--stack", "pullmedic-eu"]) == 0
    assert f"(table {output['OutputValue']})" in capsys.readouterr().out
    assert ("silence#namespace", "prod/shop") in keys(sandbox, output["OutputValue"])


def test_problems_lists_open_problems_and_silences_and_unsilence_lifts_one(
        world, sandbox, state_table, monkeypatch, capsys) -> None:
    world("reference-cases")
    table = state_table()
    summary = invoke(load_handler(), json.loads((EVENTS / "scheduled.json").read_text()))
    found = {f["fingerprint"]: f for f in summary["findings"]}
    assert len(found) >= 4
    nginx = next(f for f in found.values() if f["workload"] == "Deployment/nginx")
    workload = f"demo/{nginx['namespace']}/Deployment/nginx"

    short = f"demo/{nginx['namespace']}/deploy/nginx"  # kubectl's short name for the kind
    assert main(["silence", "--workload", short, "--reason", "rollout"]) == 0
    capsys.readouterr()
    assert main(["problems", "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["table"] == table and listed["clusters"] == ["demo"]
    assert {p["fingerprint"] for p in listed["problems"]} == set(found)
    by_fp = {p["fingerprint"]: p for p in listed["problems"]}
    assert by_fp[nginx["fingerprint"]]["silenced_by"] == f"workload {workload}"
    assert by_fp[nginx["fingerprint"]]["severity"] == nginx["severity"]
    assert [(s["scope"], s["reason"]) for s in listed["silences"]] == [("workload", "rollout")]

    assert main(["problems", "-o", "yaml", "--cause", "rate_limited"]) == 0
    narrowed = yaml.safe_load(capsys.readouterr().out)
    assert [p["cause"] for p in narrowed["problems"]] == ["rate_limited"]

    assert main(["problems"]) == 0
    text = capsys.readouterr().out
    assert "FINGERPRINT" in text and nginx["fingerprint"] in text and "rollout" in text

    assert main(["unsilence", "--workload", workload]) == 0
    assert "Lifted the silence of workload" in capsys.readouterr().out
    assert main(["unsilence", "--workload", workload]) == 1
    assert "no silence of workload" in capsys.readouterr().err
    assert main(["problems", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["silences"] == []


def test_the_silence_line_of_an_alert_works_when_pasted(world, sandbox, state_table, monkeypatch,
                                                         capsys) -> None:
    world("access-denied")
    table = state_table()
    invoke(load_handler(), json.loads((EVENTS / "scheduled.json").read_text()))
    (published,) = sandbox.published()
    line = re.search(r"Silence:   \$ (pullmedic silence .*)", published["message"]["email"])[1]
    assert f"--table {table} --region us-east-2" in line
    monkeypatch.delenv("PULLMEDIC_TABLE")  # a laptop knows nothing of the deployment
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert main(shlex.split(line)[1:]) == 0
    fingerprint = shlex.split(line)[shlex.split(line).index("--fingerprint") + 1]
    assert ("silence#fingerprint", fingerprint) in keys(sandbox, table)
