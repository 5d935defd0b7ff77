"""Secrets in kubelet messages, image references and cluster errors reach no place pullmedic
writes to: log lines, the handler's summaries, every SNS message variant, any item of the state
table (fan-out results unpacked), and CLI output.

The scenario `redaction` carries hand-written secrets; this test adds workloads whose waiting and
event messages carry every shape of tests/fixtures/secrets.yaml, runs a scheduled scan, the CLI
and the fan-out steps (one failing with a cause full of secrets), then searches every sink.
"""

from __future__ import annotations

import json
import logging
import sys
import zlib
from pathlib import Path
from typing import Any

import yaml
from test_alert_lifecycle import pod, replicaset

from pullmedic.cli import main
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.scenario import BUNDLED

EVENTS = Path(__file__).resolve().parents[2] / "events"
CORPUS = yaml.safe_load((Path(__file__).resolve().parents[1] / "fixtures" / "secrets.yaml").read_text())
GROUP = 5  # corpus texts per workload, one per line of its message
# A token cut by the fan-out's 1000-character limit on a failed step's cause.
CUT_TOKEN = "ghp_StraddledTokenExample0123456789abcd"
SECRETS = (
    # written into the scenario's event messages and image references (see its header)
    "hunter2pass", "ASIAEXAMPLECREDENTIAL", "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
    "5f2c0d9b7e1a4c3f8a6b2d0e9f7c5a3b1d8e6f4a2c0b9d7e5f3a1c8b6d4e2f0a",
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9", "c2lnbmF0dXJlLWV4YW1wbGU",
    "ImageTagTokenExample0123456789AB", "ImageRefPassw0rdExample77",
    "StraddledToken", *(secret for entry in CORPUS for secret in entry["secrets"]))
SINKS = ("default", "email", "sqs", "lambda", "https")
# Written into one message too: none of it may reach a text meant for a person.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202eexe.txt\u200b\x08"


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def event(app: str, namespace: str, message: str) -> dict[str, Any]:
    """The kubelet's Failed event for the pod of `pod(app, namespace, ...)`."""
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{app}-7f9c5d-x2x4p.1", "namespace": namespace},
            "involvedObject": {"kind": "Pod", "namespace": namespace, "name": f"{app}-7f9c5d-x2x4p",
                               "fieldPath": f"spec.containers{{{app}}}"},
            "reason": "Failed", "type": "Warning", "count": 3,
            "source": {"component": "kubelet", "host": "ip-10-0-1-10.us-east-2.compute.internal"},
            "firstTimestamp": "now-20m", "lastTimestamp": "now-1m", "message": message}


def corpus_world(tmp_path: Path) -> tuple[Path, list[str]]:
    """The redaction scenario plus one Deployment per GROUP corpus texts: even groups in the
    pod's waiting message, odd ones in an event."""
    scenario = yaml.safe_load((BUNDLED / "redaction.yaml").read_text())
    objects, apps = scenario["clusters"][0]["objects"], []
    for number, start in enumerate(range(0, len(CORPUS), GROUP)):
        app, image = f"corpus-{number}", f"registry.example.com/acme/corpus-{number}:1.0"
        texts = "\n".join(entry["text"] for entry in CORPUS[start:start + GROUP])
        message = f'Failed to pull image "{image}": rpc error: code = Unknown desc = {texts}'
        message += HOSTILE if number == 0 else ""
        if number % 2:
            objects += [pod(app, "corpus", image, f'Back-off pulling image "{image}"'),
                        event(app, "corpus", message)]
        else:
            objects.append(pod(app, "corpus", image, message))
        objects.append(replicaset(app, "corpus"))
        apps.append(f"Deployment/{app}")
    path = tmp_path / "redaction-corpus.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path, apps


def table_text(sandbox: Any, table: str) -> tuple[str, list[str]]:
    """Every item of the state table as text (binary attributes unpacked), and the item keys."""
    texts, keys = [], []
    for page in sandbox.client("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            keys.append(item["pk"]["S"])
            texts.append(json.dumps(_plain(item)))
    return "\n".join(texts), keys


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return zlib.decompress(value).decode()
        except zlib.error:  # a chunk of a larger body: search the whole body below
            return value.decode("latin-1")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_no_secret_leaves_the_function(world, sandbox, state_table, capsys, monkeypatch, tmp_path) -> None:
    path, corpus_apps = corpus_world(tmp_path)
    scenario = world(path)
    table = state_table()
    handler = load_handler()
    for log_handler in logging.getLogger("pullmedic").handlers:  # log to this test's stdout
        monkeypatch.setattr(log_handler, "stream", sys.stdout)

    summary = invoke(handler, json.loads((EVENTS / "scheduled.json").read_text()))
    found = {f["workload"]: f for f in summary["findings"]}
    assert {(e["workload"], e["cause"]) for e in scenario.expect} <= {
        (w, f["cause"]) for w, f in found.items()}
    assert set(corpus_apps) <= set(found) and all(
        "[REDACTED]" in found[app]["message"] for app in corpus_apps)  # every text went through
    logs, err = capsys.readouterr()
    with sandbox.activated():
        assert main(["scan", "--cluster", "vault"]) == 3  # problems found
        cli_text, text_err = capsys.readouterr()
        assert main(["scan", "--cluster", "vault", "--json"]) == 3
        cli_json, json_err = capsys.readouterr()
    cli, cli_err = cli_text + cli_json, text_err + json_err
    listed = invoke(handler, {"fanout": "list"})
    steps = [invoke(handler, {"fanout": "cluster", "execution": "run-1", "target": t})
             for t in listed["targets"]]
    secrets = "\n".join(entry["text"] for entry in CORPUS)
    padding = "x" * (1000 - len("the scan step failed: States.TaskFailed: ") - 21)
    failed = {"target": listed["targets"][0], "error": "States.TaskFailed",
              "cause": f"{padding} {CUT_TOKEN} then {secrets}"}
    aggregated = invoke(handler, {"fanout": "aggregate", "execution": "run-1",
                                  "results": [*steps, failed]})
    assert [e["stage"] for e in aggregated["errors"]] == ["fanout"]
    more_logs, more_err = capsys.readouterr()
    logs, err = logs + more_logs, err + more_err + cli_err
    assert '"message":"scan finished"' in logs and "[REDACTED]" in logs  # the logs were captured
    assert "NAMESPACE" in cli_text and "[REDACTED]" in cli_text and '"findings"' in cli_json

    published = sandbox.published()
    assert len(published) == 2  # the scheduled scan's findings, then the fan-out's error
    assert all(set(p["message"]) == set(SINKS) for p in published)
    assert "https://[REDACTED]@private_registery.mydomain" in published[0]["message"]["sqs"]
    assert "[REDACTED]" in published[0]["message"]["email"]  # the email quotes less, redacted too
    assert "Bearer [REDACTED]" in published[0]["message"]["sqs"]
    stored, keys = table_text(sandbox, table)
    assert {key.split("#")[0] for key in keys} >= {"cluster", "error", "fanout"}
    places = [("logs", logs), ("CLI", cli), ("stderr", err), ("summary", json.dumps(summary)),
              ("fan-out summaries", json.dumps([listed, *steps, aggregated])),
              ("SQS", json.dumps(sandbox.messages())), ("state table", stored)]
    for number, message in enumerate(published):
        places += [(f"SNS {number} subject", message["subject"]),
                   (f"SNS {number} attributes", json.dumps(message["attributes"]))]
        places += [(f"SNS {number} {sink}", message["message"][sink]) for sink in SINKS]
    leaks = [(place, leaked(text)) for place, text in places if leaked(text)]
    assert leaks == [], "\n".join(f"{place}: {found}" for place, found in leaks)
    human = [("CLI", cli_text), *((f"SNS {n} {sink}", m["message"][sink]) for n, m in enumerate(published)
                             for sink in ("default", "email", "https"))]
    assert "pwned" not in cli_text and "exe.txt" in cli_text  # the hostile message, cleaned
    assert [place for place, text in human if any(c in text for c in "\x1b\x07\x08\u202e\u200b")] == []
