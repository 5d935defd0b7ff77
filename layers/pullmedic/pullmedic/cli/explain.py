"""`pullmedic explain`: classify one message, or a stream of JSON lines, one out per line in."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any, TextIO

from pullmedic.cli.errors import FAILED, OK, UsageError
from pullmedic.cli.output import dump, say
from pullmedic.core.causes import ADVICE
from pullmedic.diagnosing.classify import classify

SCHEMA = "pullmedic.explain/v1"  # schemas/explain.json: every JSON line and document out
LINE_MAX = 1 << 20  # a longer input line is answered with an error line (and skipped)
MESSAGE_MAX = 64 << 10  # kubelet messages are a few hundred bytes; this bounds the regex work
_OPTIONAL = ("image", "reason")


class BadLine(ValueError):
    """One input line that cannot be explained; the stream goes on."""


def run(args: argparse.Namespace) -> int:
    """Explain the argument, else stdin (a pipe): text, JSON or YAML."""
    if args.jsonl:
        if args.message:
            raise UsageError("--jsonl reads stdin: give no MESSAGE with it")
        return explain_lines(sys.stdin.buffer, sys.stdout)
    message = args.message
    if message is None or message == "-":
        if sys.stdin.isatty():
            raise UsageError("give a MESSAGE (quoted), pipe one on stdin, or use --jsonl for JSON lines")
        message = sys.stdin.read(MESSAGE_MAX + 1).strip()
    if not message:
        raise UsageError("the message is empty")
    if len(message) > MESSAGE_MAX:
        raise UsageError(f"the message is longer than {MESSAGE_MAX} characters")
    result = explanation(message, args.image, args.reason)
    if args.output != "table":
        say(dump(result, args.output), end="")
        return OK
    also = f" (could also be: {', '.join(result['alternatives'])})" if result["alternatives"] else ""
    say(f"cause:   {result['cause']}{also}\nwhy:     {result['summary']}\n"
        f"rule:    {result['rule']}\nfix:     {result['advice']}")
    return OK


def explanation(message: str, image: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """The classification of one message as a JSON-ready dict."""
    classification = classify(message, reason=reason, image=image)
    return {"schema": SCHEMA, "cause": classification.cause.value,
            "alternatives": [a.value for a in classification.alternatives],
            "summary": classification.summary, "rule": classification.rule_id,
            "grpc_code": classification.grpc_code,
            "advice": ADVICE[classification.cause]}


def explain_lines(stdin: IO[bytes], stdout: TextIO) -> int:
    """Exactly one JSON line out per line in, in order, flushed as it goes; a line that cannot
    be explained gets {"line": N, "error": ...}. Exit 1 when any line was an error."""
    status = OK
    for number, raw in enumerate(_lines(stdin), 1):
        try:
            out = _explain_line(raw)
        except BadLine as err:
            out, status = {"schema": SCHEMA, "line": number, "error": str(err)}, FAILED
        stdout.write(json.dumps(out) + "\n")
        stdout.flush()
    return status


def _lines(stream: IO[bytes]) -> Any:
    """Each line (without its end), or None for one longer than LINE_MAX (read and dropped)."""
    while raw := stream.readline(LINE_MAX + 1):
        if len(raw) > LINE_MAX and not raw.endswith(b"\n"):
            while (rest := stream.readline(LINE_MAX)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield raw.rstrip(b"\r\n")


def _explain_line(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise BadLine(f"line longer than {LINE_MAX} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadLine(f"not UTF-8 (byte {err.start})") from None
    if not text.strip():
        raise BadLine("empty line")
    try:
        item = json.loads(text)
    except RecursionError:
        raise BadLine("JSON nested too deeply") from None
    except ValueError as err:
        raise BadLine(f"not JSON: {err}") from None
    if not isinstance(item, dict):
        raise BadLine(f'expected an object with a string "message", not {_kind(item)}')
    message = item.get("message")
    if not isinstance(message, str) or not message.strip():
        raise BadLine(f'"message" must be a non-empty string, not {_kind(message)}')
    for key in _OPTIONAL:
        if item.get(key) is not None and not isinstance(item[key], str):
            raise BadLine(f'"{key}" must be a string or null, not {_kind(item[key])}')
    for key in ("message", *_OPTIONAL):
        if len(item.get(key) or "") > MESSAGE_MAX:
            raise BadLine(f'"{key}" is longer than {MESSAGE_MAX} characters')
    return explanation(message, item.get("image"), item.get("reason"))


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a string" if value.strip() else "an empty string"
    return {dict: "an object", list: "a list", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
