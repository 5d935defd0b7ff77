"""The `pullmedic` command line: explain one message, or a stream of JSON lines in order."""

from __future__ import annotations

import io
import json

import pytest

from pullmedic.cli import main


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_explain_one_message(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, [
        "explain", "--image", "nginx:stable", 'Failed to pull image "nginx:stable": rpc error: code = '
        'Unknown desc = Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: '
        "request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"])
    assert code == 0
    assert out.startswith("cause:   registry_unreachable (could also be: pull_timeout)")


def test_explain_jsonl_keeps_order_and_reports_bad_lines(monkeypatch, capsys) -> None:
    lines = [
        {"message": "toomanyrequests: You have reached your pull rate limit.", "image": "httpd"},
        "not json",
        {"message": "Back-off pulling image \"a:1\""},
        {"image": "a:1"},
        {"message": "x509: certificate signed by unknown authority"},
    ]
    stdin = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n"
    code, out, _ = run(monkeypatch, capsys, ["explain", "--jsonl"], stdin)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(results) == 5
    assert [r.get("cause") for r in results] == ["rate_limited", None, "unknown", None, "tls_error"]
    assert results[1] == {"line": 2, "error": results[1]["error"]}
    assert {"cause", "alternatives", "summary"} <= set(results[0])


def test_explain_without_message_is_an_error(monkeypatch, capsys) -> None:
    code, _, err = run(monkeypatch, capsys, ["explain"])
    assert code == 2 and "give a MESSAGE" in err


def test_demo_rejects_a_missing_scenario(monkeypatch, capsys) -> None:
    code, _, err = run(monkeypatch, capsys, ["demo", "--scenario", "/nonexistent.yaml"])
    assert code == 2 and "no scenario file" in err
