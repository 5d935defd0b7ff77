"""Secrets in kubelet messages reach no log line, alert variant, summary, state item or CLI output."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from pullmedic.cli import main
from pullmedic_sandbox.handler import invoke, load_handler

EVENTS = Path(__file__).resolve().parents[2] / "events"
# Written into the redaction scenario's event messages (see its header).
SECRETS = (
    "hunter2pass",
    "ASIAEXAMPLECREDENTIAL",
    "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
    "5f2c0d9b7e1a4c3f8a6b2d0e9f7c5a3b1d8e6f4a2c0b9d7e5f3a1c8b6d4e2f0a",
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9",
    "c2lnbmF0dXJlLWV4YW1wbGU",
)


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_no_secret_leaves_the_function(world, sandbox, state_table, capsys, monkeypatch) -> None:
    scenario = world("redaction")
    table = state_table()
    handler = load_handler()
    for log_handler in logging.getLogger("pullmedic").handlers:  # log to this test's stdout
        monkeypatch.setattr(log_handler, "stream", sys.stdout)

    summary = invoke(handler, json.loads((EVENTS / "scheduled.json").read_text()))
    assert sorted((f["workload"], f["cause"]) for f in summary["findings"]) == sorted(
        (e["workload"], e["cause"]) for e in scenario.expect)
    assert summary["announced"] == {"new": 2}
    with sandbox.activated():
        assert main(["scan", "--cluster", "vault"]) == 3  # problems found
        assert main(["scan", "--cluster", "vault", "--json"]) == 3
    out, err = capsys.readouterr()
    assert '"message":"scan finished"' in out and "[REDACTED]" in out  # logs and CLI were captured

    (published,) = sandbox.published()
    variants = [published["subject"], json.dumps(published["attributes"]),
                *published["message"].values()]
    assert "https://[REDACTED]@private_registery.mydomain" in published["message"]["email"]
    assert "Bearer [REDACTED]" in published["message"]["sqs"]
    items = sandbox.client("dynamodb").scan(TableName=table)["Items"]
    assert len(items) == 2
    for place, text in [("stdout", out), ("stderr", err), ("summary", json.dumps(summary)),
                        ("SQS", json.dumps(sandbox.messages())), ("table", json.dumps(items)),
                        *(("SNS", variant) for variant in variants)]:
        assert leaked(text) == [], f"secret in {place}"
