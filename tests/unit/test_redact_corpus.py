"""Every secret shape of tests/fixtures/secrets.yaml is removed, in plain text and in JSON, and
the text around it stays readable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pullmedic.core.redact import _COMPILED, _TRIGGER, redact, redacted_json

CORPUS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "fixtures" / "secrets.yaml").read_text())


def test_corpus_is_well_formed() -> None:
    names = [entry["name"] for entry in CORPUS]
    assert len(names) == len(set(names)) >= 30
    for entry in CORPUS:
        assert entry["secrets"] and entry["keep"], entry["name"]
        assert all(secret in entry["text"] for secret in entry["secrets"]), entry["name"]
        assert all(kept in entry["text"] for kept in entry["keep"]), entry["name"]


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["name"])
def test_secret_removed_and_text_kept(entry: dict[str, Any]) -> None:
    cleaned = redact(entry["text"])
    assert "[REDACTED]" in cleaned
    assert [s for s in entry["secrets"] if s in cleaned] == [], cleaned
    assert [k for k in entry["keep"] if k not in cleaned] == [], cleaned
    assert redact(cleaned) == cleaned  # nothing left to find


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["name"])
def test_quotes_and_backslashes_are_never_consumed(entry: dict[str, Any]) -> None:
    for text in (entry["text"], json.dumps(entry["text"]), json.dumps(json.dumps(entry["text"]))):
        cleaned = redact(text)
        assert [cleaned.count(c) for c in "\"'\\"] == [text.count(c) for c in "\"'\\"]


FRAGMENTS = ['"', "'", "\\", "\\\"", " ", "\n", ":", "=", "%3D", "&", "@", "://", "%3A%2F%2F", "%40",
             "auth", "password", "token", "Authorization", "Bearer ", "x-amz-signature", "sig",
             "AKIA", "ghp_", "glpat-", "eyJ", ".", "k8s-aws-v1.", "FwoGZXIvYXdz", "abcdefghij0123456789"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=24))
def test_no_text_loses_a_quote_or_a_backslash(parts: list[str]) -> None:
    text = "".join(parts)
    for form in (text, json.dumps(text)):
        cleaned = redact(form)
        assert [cleaned.count(c) for c in "\"'\\"] == [form.count(c) for c in "\"'\\"]
    json.loads(redact(json.dumps({"message": text})))


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["name"])
def test_redacting_json_equals_encoding_the_redacted_text(entry: dict[str, Any]) -> None:
    """A log line (JSON, redacted as it is written) reads as the redacted message."""
    text = entry["text"]
    line = redacted_json({"message": "cluster not scanned", "detail": {"error": text}})
    assert json.loads(line)["detail"]["error"] == redact(text)
    assert json.loads(redact(json.dumps(text, ensure_ascii=True))) == redact(text)
    assert json.loads(json.loads(redact(json.dumps(json.dumps(text))))) == redact(text)


MESSAGES = [entry for path in sorted((Path(__file__).resolve().parents[1] / "fixtures" / "messages")
                                     .glob("**/*.yaml")) for entry in yaml.safe_load(path.read_text()) or []]


def test_redaction_never_changes_a_classification() -> None:
    """Messages may be redacted when they are read: every verbatim message keeps its cause."""
    from pullmedic.diagnosing.classify import classify

    assert len(MESSAGES) >= 50
    def verdict(text: str, m: dict[str, Any]) -> tuple[Any, ...]:
        found = classify(text, reason=m.get("reason"), image=m.get("image"))
        return found.cause, found.alternatives, found.rule_id  # `detail` quotes the (redacted) text

    changed = [m["id"] for m in MESSAGES if verdict(redact(m["message"]), m) != verdict(m["message"], m)]
    assert changed == []


@pytest.mark.parametrize("name", sorted(_COMPILED))
def test_every_match_holds_what_redact_looks_for_first(name: str) -> None:
    """redact() skips text without a _TRIGGER: each pattern's every match in the corpus has one."""
    pattern, _ = _COMPILED[name]
    matches = [m.group(0) for entry in CORPUS for m in pattern.finditer(entry["text"])]
    assert matches, f"no corpus entry exercises {name}"
    assert [m for m in matches if _TRIGGER.search(m) is None] == []


def test_text_without_a_trigger_is_returned_as_is() -> None:
    name = "web-0042-7d9f8c6b5-x2k4q i-0abc123 123456789012.dkr.ecr.us-east-2.amazonaws.com/shop/svc-01"
    assert _TRIGGER.search(name) is None and redact(name) is name
    assert redact("glpat-abcdefghijklmnopqrstuvwx") == "glpat-[REDACTED]"
    assert redact("x k8s-aws-v1.aHR0cHM6Ly9zdHM") == "x k8s-aws-v1.[REDACTED]"
