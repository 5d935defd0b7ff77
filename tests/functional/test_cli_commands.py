"""The `pullmedic` command against the sandbox and as a user runs it (a subprocess): exit codes,
-o json / yaml, filters, progress, pasted commands, the demo's `expect`, and every expected
failure ending in one line that says what to do, never a traceback."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import jsonschema
import pytest
import yaml

from pullmedic.announcing.render import load_schema
from pullmedic.cli import main
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.scenario import BUNDLED

EVENTS = Path(__file__).resolve().parents[2] / "events"
FP = "0ff9c55240fe5160"


def pullmedic(*argv: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pullmedic.cli", *argv], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    """A user with no AWS configuration at all."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials")}


@pytest.fixture
def keys_env(bare_env: dict[str, str]) -> dict[str, str]:
    """A user with access keys (that nothing has checked yet)."""
    return {**bare_env, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}


@contextmanager
def aws_answering(code: str, status: int = 400) -> Iterator[str]:
    """A local endpoint that answers every AWS JSON call with the error `code`."""

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps({"__type": code, "message": f"{code} (from the test endpoint)"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_line(done: subprocess.CompletedProcess, code: int, says: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, (done.returncode, done.stderr)
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("pullmedic"), done.stderr
    assert says in done.stderr, done.stderr


def test_no_credentials(bare_env) -> None:
    assert_one_line(pullmedic("scan", "--cluster", "prod", "--region", "us-east-1", env=bare_env), 1,
                    "no AWS credentials found: run `aws configure` or `aws sso login`, or pass --profile")


def test_unknown_profile_flag(bare_env) -> None:
    assert_one_line(pullmedic("problems", "--profile", "prdo", "--region", "us-east-1", env=bare_env), 1,
                    "the AWS profile 'prdo' is not in your AWS config")


def test_unknown_profile_in_the_environment(bare_env) -> None:
    assert_one_line(pullmedic("scan", "--cluster", "prod", env={**bare_env, "AWS_PROFILE": "prdo"}), 1,
                    "the AWS profile 'prdo' is not in your AWS config")


def test_no_region(keys_env) -> None:
    assert_one_line(pullmedic("silence", "--fingerprint", FP, env=keys_env), 2,
                    "no AWS region: set AWS_REGION or pass --region")


def test_no_network(keys_env) -> None:
    env = {**keys_env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}"}
    assert_one_line(pullmedic("silence", "--fingerprint", FP, "--table", "t", "--region", "us-east-1",
                              env=env), 1, "cannot reach AWS (http://127.0.0.1:")


@pytest.mark.parametrize("code, says", [
    ("ExpiredTokenException", "your AWS credentials have expired"),
    ("AccessDeniedException", "your AWS identity may not call Query"),
    ("ThrottlingException", "AWS throttled Query even after retries"),
    ("ResourceNotFoundException", "check the name (--table, --cluster) and --region"),
])
def test_aws_refusals(keys_env, code, says) -> None:
    with aws_answering(code) as endpoint:
        done = pullmedic("problems", "--cluster", "prod", "--table", "t", "--region", "us-east-1",
                         env={**keys_env, "AWS_ENDPOINT_URL": endpoint})
    assert_one_line(done, 1, says)


def test_a_broken_scenario_file_is_named(bare_env, tmp_path) -> None:
    broken = tmp_path / "mine.yaml"
    broken.write_text("clusters: [\n")
    assert_one_line(pullmedic("demo", "--scenario", str(broken), env=bare_env), 2, f"{broken}: while parsing")
    broken.write_text("clusters:\n  - objects: []\n")
    assert_one_line(pullmedic("demo", "--scenario", str(broken), env=bare_env), 2,
                    f"{broken}: each of 'clusters' needs a 'name'")


def test_a_missing_scenario_file(bare_env, tmp_path) -> None:
    assert_one_line(pullmedic("demo", "--scenario", str(tmp_path), env=bare_env), 2,
                    f"no scenario file {tmp_path}")


def test_a_malformed_setting(keys_env) -> None:
    env = {**keys_env, "PULLMEDIC_GRACE_SECONDS": "two minutes"}
    assert_one_line(pullmedic("scan", "--cluster", "prod", "--region", "us-east-1", env=env), 2,
                    "PULLMEDIC_GRACE_SECONDS must be a whole number, not 'two minutes'")


def test_a_closed_pipe_ends_quietly(bare_env) -> None:
    """`pullmedic explain --jsonl | head -1` once ended with a BrokenPipeError traceback."""
    line = json.dumps({"message": "x509: certificate signed by unknown authority"}) + "\n"
    reader = subprocess.Popen([sys.executable, "-m", "pullmedic.cli", "explain", "--jsonl"], env=bare_env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdin and reader.stdout and reader.stderr
    reader.stdin.write(line.encode())
    reader.stdin.flush()
    assert json.loads(reader.stdout.readline())["cause"] == "tls_error"
    reader.stdout.close()  # `head -1` has what it wanted
    try:
        reader.stdin.write(line.encode() * 20_000)
        reader.stdin.close()
    except BrokenPipeError:
        pass
    assert reader.wait(timeout=60) == 141
    assert reader.stderr.read() == b""


def test_a_pipe_closed_before_any_output_ends_quietly(bare_env) -> None:
    reader = subprocess.Popen([sys.executable, "-m", "pullmedic.cli", "completion", "bash"], env=bare_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout and reader.stderr
    reader.stdout.close()  # gone before the interpreter has even started
    assert reader.wait(timeout=60) == 141
    assert reader.stderr.read() == b""


def stable(summary: dict[str, Any]) -> dict[str, Any]:
    """A scan summary less what differs from one scan to the next (timing, a first-seen time
    that no state table remembers)."""
    return {**summary, "duration_ms": 0, "problems": [{**p, "since": ""} for p in summary["problems"]]}


def test_scan_exit_codes_and_formats(world, sandbox, capsys) -> None:
    world("access-denied")  # "open": a misspelt image; "locked": every request is 401
    assert main(["scan", "--cluster", "open"]) == 3
    text, progress = capsys.readouterr()
    assert "image_not_found" in text and "Silence:   $ pullmedic silence --fingerprint" in text
    assert "[1/1] cluster open" in progress
    assert main(["scan", "--all", "-o", "json"]) == 4
    as_json = json.loads(capsys.readouterr().out)
    assert [e["cluster"] for e in as_json["errors"]] == ["locked"] and as_json["finding_count"] == 1
    jsonschema.validate(as_json, load_schema("summary"))
    assert main(["scan", "--all", "-o", "yaml", "-q"]) == 4
    as_yaml, quiet = capsys.readouterr()
    assert stable(yaml.safe_load(as_yaml)) == stable(as_json) and quiet == ""
    for narrower in (["--severity", "low"], ["--cause", "rate_limited,tls_error"], ["-n", "elsewhere"]):
        assert main(["scan", "--cluster", "open", "-o", "json", *narrower]) == 0, narrower
        assert json.loads(capsys.readouterr().out)["findings"] == []
    assert main(["scan", "--cluster", "open", "-n", "team", "--cause", "image_not_found"]) == 3


def test_scan_of_a_healthy_cluster_exits_0(world, sandbox, capsys) -> None:
    world("healthy")
    assert main(["scan", "--all"]) == 0
    assert capsys.readouterr().out.startswith("No pods failing to pull in: ")


def test_the_approve_line_of_a_plan_works_when_pasted(world, sandbox, state_table, monkeypatch,
                                                      capsys) -> None:
    """It once lacked the --cluster it needs."""
    world("remediate-node-role-no-ecr")
    state_table()
    monkeypatch.setenv("PULLMEDIC_REMEDIATION", "approve")
    summary = invoke(load_handler(), json.loads((EVENTS / "scheduled.json").read_text()))
    fp = next(f["fingerprint"] for f in summary["findings"] if f["workload"] == "Deployment/api")
    capsys.readouterr()
    monkeypatch.setenv("PULLMEDIC_CLUSTERS", "")  # nothing left to find the cluster with
    assert main(["fix", fp, "--action", "grant_ecr_pull", "--cluster", summary["clusters_scanned"][0]]) == 0
    line = re.search(r"approve: \$ (pullmedic fix .*)", capsys.readouterr().out)[1]
    assert f"--cluster {summary['clusters_scanned'][0]} --table " in line
    assert main(["fix", fp, "--action", "grant_ecr_pull", "--cluster", summary["clusters_scanned"][0],
                 "-o", "json"]) == 0
    (planned,) = json.loads(capsys.readouterr().out)["results"]
    assert planned["approve"]["command"] == line
    assert main([*shlex.split(line)[1:], "--by", "bob"]) == 0
    assert "grant_ecr_pull: remediated" in capsys.readouterr().out


def test_demo_checks_the_scenario_expect(tmp_path, capsys) -> None:
    text = (BUNDLED / "access-denied.yaml").read_text()
    assert main(["demo", "access-denied", "-o", "json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["finding_count"] == 1
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("cause: image_not_found}", "cause: rate_limited}"))
    assert main(["demo", "--scenario", str(wrong)]) == 1
    out, err = capsys.readouterr()
    assert "=== scenario access-denied" in out
    assert ('access-denied: expected {"cause": "rate_limited", "image": "nginxx:latest", "workload": '
            "\"Deployment/nginx\"}; got cause='image_not_found'") in err
    assert "[1/1] scenario access-denied" in err and "1 not as expected" in err
