"""The `pullmedic` command line in-process: explain (one message, stdin, JSON lines), output
formats, tables that fit the terminal, flags, error lines and shell completion."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import jsonschema
import pytest
import yaml
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.announcing.render import load_schema
from pullmedic.app.event import parse_silence
from pullmedic.cli import main
from pullmedic.cli.completion import script
from pullmedic.cli.errors import FAILED, USAGE, failure
from pullmedic.cli.explain import LINE_MAX
from pullmedic.cli.output import Terminal
from pullmedic.cli.parser import build
from pullmedic.cli.problems import workload_kind
from pullmedic.cli.scan import findings_table

# tests/fixtures/messages: Docker Hub's anonymous pull limit, as containerd reports it.
RATE_LIMIT = ('Failed to pull image "httpd:latest": rpc error: code = Unknown desc = failed to pull and '
              'unpack image "docker.io/library/httpd:latest": failed to copy: httpReadSeeker: failed open: '
              "unexpected status code https://registry-1.docker.io/v2/library/httpd/manifests/latest: "
              "429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate "
              "limit. You may increase the limit by authenticating and upgrading: "
              "https://www.docker.com/increase-rate-limit")


class Stdin(io.TextIOWrapper):
    """A pipe on stdin (not a terminal), read as text or as bytes."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")

    def isatty(self) -> bool:
        return False


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
        stdin: bytes | str = b"") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", Stdin(stdin.encode() if isinstance(stdin, str) else stdin))
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_explain_one_message(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, [
        "explain", "--image", "nginx:stable", 'Failed to pull image "nginx:stable": rpc error: code = '
        'Unknown desc = Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: '
        "request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"])
    assert code == 0
    assert out.startswith("cause:   registry_unreachable (could also be: pull_timeout)")


def test_explain_reads_a_piped_message(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, ["explain"], RATE_LIMIT + "\n")
    assert code == 0 and out.startswith("cause:   rate_limited")


def test_explain_json_is_json_not_json_lines(monkeypatch, capsys) -> None:
    """--json once became --jsonl by argparse's prefix matching, and then waited on stdin."""
    code, out, _ = run(monkeypatch, capsys, ["explain", "--json", RATE_LIMIT])
    assert code == 0 and json.loads(out)["cause"] == "rate_limited"


def test_explain_yaml_parses_to_the_same_document(monkeypatch, capsys) -> None:
    _, as_json, _ = run(monkeypatch, capsys, ["explain", "-o", "json", RATE_LIMIT])
    _, as_yaml, _ = run(monkeypatch, capsys, ["explain", "-o", "yaml", RATE_LIMIT])
    assert yaml.safe_load(as_yaml) == json.loads(as_json)


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
    assert results[1] == {"schema": "pullmedic.explain/v1", "line": 2, "error": results[1]["error"]}
    assert {"cause", "alternatives", "summary"} <= set(results[0])
    for result in results:
        jsonschema.validate(result, load_schema("explain"))


# Lines that once crashed the stream (the first six) or could: one error line each, in place.
MALFORMED = [
    (b'{"message": "x", "image": 5}', '"image" must be a string or null, not a number'),
    (b'{"message": ["a"]}', '"message" must be a non-empty string, not a list'),
    (b'{"message": {"text": "a"}}', '"message" must be a non-empty string, not an object'),
    (b'{"message": "x", "reason": ["Failed"]}', '"reason" must be a string or null, not a list'),
    (b'{"message": "x", "image": {"ref": "a"}}', '"image" must be a string or null, not an object'),
    (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    (b'{"message": "x", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "JSON nested too deeply"),
    (b"", "empty line"),
    (b"   \t", "empty line"),
    (b"\xff\xfe not utf-8", "not UTF-8 (byte 0)"),
    (b"null", 'expected an object with a string "message", not null'),
    (b"42", 'expected an object with a string "message", not a number'),
    (b'"just a string"', 'expected an object with a string "message", not a string'),
    (b'{"message": ""}', '"message" must be a non-empty string, not an empty string'),
    (b'{"message": null}', '"message" must be a non-empty string, not null'),
    (b'{"message": true}', '"message" must be a non-empty string, not a boolean'),
    (b'{"message": "' + b"a" * 70_000 + b'"}', '"message" is longer than 65536 characters'),
    (b"{truncated", "not JSON"),
]


def test_explain_jsonl_answers_every_line_whatever_it_holds(monkeypatch, capsys) -> None:
    good = b'{"message": "x509: certificate signed by unknown authority", "image": null}'
    stdin = b"\n".join([good, *(line for line, _ in MALFORMED), good]) + b"\n"
    code, out, err = run(monkeypatch, capsys, ["explain", "--jsonl"], stdin)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and err == ""
    assert len(results) == len(MALFORMED) + 2
    assert results[0]["cause"] == results[-1]["cause"] == "tls_error"
    for number, ((_, error), result) in enumerate(zip(MALFORMED, results[1:-1], strict=True), 2):
        assert result["line"] == number and result["error"].startswith(error), result


def test_explain_jsonl_skips_a_line_longer_than_the_limit_and_goes_on(monkeypatch, capsys) -> None:
    stdin = b'{"message": "' + b"a" * (LINE_MAX + 10) + b'"}\n{"message": "manifest unknown"}\r\n'
    code, out, _ = run(monkeypatch, capsys, ["explain", "--jsonl"], stdin)
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 1 and first == {"schema": "pullmedic.explain/v1", "line": 1,
                                   "error": f"line longer than {LINE_MAX} bytes"}
    assert second["cause"] == "image_not_found"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=80).map(lambda b: b.replace(b"\n", b"")), min_size=1, max_size=8))
def test_explain_jsonl_writes_one_json_line_per_input_line(lines: list[bytes]) -> None:
    from pullmedic.cli.explain import explain_lines

    out = io.StringIO()
    explain_lines(io.BytesIO(b"\n".join(lines) + b"\n"), out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(answers) == len(lines)
    assert all("cause" in a or a["line"] == n for n, a in enumerate(answers, 1))


@pytest.mark.parametrize("argv, says", [
    (["explain", "--jsonl", "a message"], "--jsonl reads stdin: give no MESSAGE with it"),
    (["scan", "--severity", "extreme"], "'extreme' is not one of: low, medium, high"),
    (["scan", "--cause", "rate_limited,boom"], "'boom' is not one of: image_not_found"),
    (["scan", "--cluster", "a", "--all"], "not allowed with argument --cluster"),
    (["silence", "--workload", "c/team/deployment/api", "--hours", "0"],
     "--hours must be a number of hours above 0"),
    (["silence", "--workload", "c/team/deploymnt/api"], "unknown workload kind 'deploymnt': use one of"),
    (["fix", "cafe"], "FINGERPRINT must be 16 hex digits (from the alert), not 'cafe'"),
    (["fix", "0ff9c55240fe5160", "--yes", "--by", " "], "--by must name who approves"),
    (["demo", "no-such-scenario"], "no bundled scenario 'no-such-scenario': see `pullmedic demo --list`"),
    (["completion", "fish"], "invalid choice: 'fish'"),
    (["scan", "--out", "json"], "unrecognized arguments: --out json"),
])
def test_usage_errors_are_one_line_and_exit_2(monkeypatch, capsys, argv, says) -> None:
    code, out, err = run(monkeypatch, capsys, argv)
    assert code == USAGE and out == ""
    assert len(err.splitlines()) == 1 and says in err and err.startswith("pullmedic"), err


def test_version_names_the_versions_a_bug_report_needs(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, ["--version"])
    assert code == 0 and out.startswith("pullmedic 0.") and "botocore 1." in out and "Python 3." in out


@pytest.mark.parametrize("kind, spelled", [("deployment", "Deployment"), ("deploy", "Deployment"),
                                           ("STATEFULSETS", "StatefulSet"), ("cj", "CronJob"),
                                           ("Rollout", "Rollout")])
def test_workload_kinds_are_spelled_as_kubernetes_spells_them(kind, spelled) -> None:
    assert workload_kind(kind) == spelled


def test_a_normalised_workload_is_a_valid_silence() -> None:
    order = parse_silence({"silence": {"workload": f"c/team/{workload_kind('deploy')}/api"}})
    assert order.value == "c/team/Deployment/api"


def _client_error(code: str, operation: str = "Query") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, operation)


@pytest.mark.parametrize("code, says", [
    ("ExpiredTokenException", "your AWS credentials have expired (ExpiredTokenException): refresh them "
                              "(`aws sso login --profile dev`"),
    ("UnrecognizedClientException", "AWS rejected your credentials"),
    ("ThrottlingException", "AWS throttled Query even after retries"),
    ("ProvisionedThroughputExceededException", "wait a minute and try again"),
    ("AccessDeniedException", "your AWS identity may not call Query: AccessDeniedException happened"),
    ("ResourceNotFoundException", "check the name (--table, --cluster) and --region"),
    ("InternalServerError", "AWS refused Query (InternalServerError)"),
])
def test_aws_errors_become_one_line_saying_what_to_do(code, says) -> None:
    exit_code, line = failure(_client_error(code), profile="dev") or (0, "")
    assert exit_code == FAILED and says in line and "\n" not in line


def test_an_unexpected_error_is_not_dressed_up() -> None:
    assert failure(KeyError("bug")) is None


DOCS = [{"cluster": "prod-eu-west-1-main", "namespace": "payments", "workload": "Deployment/" + "a" * 60,
         "container": "api", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:" + "9" * 40,
         "severity": "high", "cause": "image_not_found", "confidence": "confirmed", "pod_count": 3,
         "fingerprint": "0ff9c55240fe5160"}]


def test_a_table_fits_the_terminal_and_keeps_the_fingerprint_whole() -> None:
    wide = findings_table(DOCS, Terminal(None, False))
    narrow = findings_table(DOCS, Terminal(100, False))
    assert max(map(len, wide.splitlines())) > 200
    assert max(map(len, narrow.splitlines())) <= 100
    assert "0ff9c55240fe5160" in narrow and "image_not_found" in narrow and "~" in narrow
    assert "CONFIDENCE" in wide and "CONFIDENCE" not in narrow  # left out before the cause is cut
    tiny = findings_table(DOCS, Terminal(60, False))  # cannot fit: cut what may be cut, never the ids
    assert "0ff9c55240fe5160" in tiny and "image_not_found" in tiny


def test_colour_only_on_a_colour_terminal() -> None:
    assert "\x1b[31;1mhigh" in findings_table(DOCS, Terminal(None, True))
    assert "\x1b" not in findings_table(DOCS, Terminal(None, False))
    piped = io.StringIO()
    assert Terminal.of(piped, {}) == Terminal(None, False)
    assert Terminal.of(piped, {"COLUMNS": "80"}) == Terminal(80, False)


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
@pytest.mark.parametrize("line, offered", [
    ("pullmedic sc", ["scan"]), ("pullmedic un", ["unsilence"]), ("pullmedic scan --sev", ["--severity"]),
    ("pullmedic scan --severity h", ["high"]), ("pullmedic problems -o y", ["yaml"]),
    ("pullmedic scan --cause rate", ["rate_limited"]), ("pullmedic completion z", ["zsh"]),
])
def test_bash_completion_offers_commands_flags_and_values(line, offered) -> None:
    words = line.split(" ")
    probe = (f"{script(build(), 'bash')}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
             '_pullmedic; printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == offered


def test_zsh_completion_loads_the_bash_function_through_bashcompinit() -> None:
    text = script(build(), "zsh")
    assert text.startswith("autoload -U +X bashcompinit && bashcompinit\n")
    assert "complete -F _pullmedic pullmedic" in text
