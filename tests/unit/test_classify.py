"""The rule table against verbatim messages from real runtimes (sources beside each fixture)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from pullmedic.diagnosing.classify import classify
from pullmedic.diagnosing.rules import RULES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "messages"


def _entries(*names: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for name in names:
        for path in sorted(FIXTURES.glob(name)):
            entries += [{**e, "file": path.name} for e in yaml.safe_load(path.read_text()) or []]
    return entries


CORPUS = _entries("public.yaml", "wider.yaml", "reference.yaml", "generated/*.yaml")
HOLDOUTS = {"holdout.yaml": _entries("holdout.yaml"), "wider-holdout.yaml": _entries("wider-holdout.yaml")}
HOLDOUT = [e for entries in HOLDOUTS.values() for e in entries]


def test_corpus_is_present_and_sourced() -> None:
    assert len(CORPUS) >= 50, "the public corpus is missing or small"
    for entry in CORPUS + HOLDOUT:
        assert entry.get("source"), f"{entry['id']} has no source"
    ids = Counter(e["id"] for e in CORPUS + HOLDOUT)
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e["id"])
def test_message_classifies_to_its_cause(entry: dict[str, Any]) -> None:
    verdict = classify(entry["message"], reason=entry.get("reason"), image=entry.get("image"))
    assert verdict.cause.value == entry["cause"], f"rule {verdict.rule_id}: {verdict.summary}"
    if verdict.rule_id in {"no_rule", "no_message"}:
        return
    for alternative in entry.get("alternatives") or []:
        assert alternative in {a.value for a in verdict.alternatives}


def test_every_rule_fires_on_a_real_message() -> None:
    fired = {classify(e["message"], reason=e.get("reason"), image=e.get("image")).rule_id
             for e in CORPUS}
    # Reason rules decide only when the message is empty: tested below, with no message.
    assert sorted({r.id for r in RULES if r.pattern} - fired) == []


@pytest.mark.parametrize("name", sorted(HOLDOUTS))
def test_holdout_score(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Messages never looked at while writing rules: the honest measure of generalisation."""
    entries = HOLDOUTS[name]
    assert entries, f"{name} is missing"
    right = [e for e in entries
             if classify(e["message"], reason=e.get("reason"), image=e.get("image")).cause.value
             == e["cause"]]
    score = len(right) / len(entries)
    with capsys.disabled():
        print(f"\n{name}: {len(right)}/{len(entries)} = {score:.0%}")
    assert score >= 0.85


@pytest.mark.parametrize(("message", "reason", "image", "cause"), [
    ("", "InvalidImageName", None, "invalid_image_name"),
    ("", "ErrImageNeverPull", None, "never_pull"),
    ('Back-off pulling image "nginx:1"', "ImagePullBackOff", "nginx:1", "unknown"),
    ("", "ImagePullBackOff", "Nginx:Latest", "invalid_image_name"),
    ("", "ImagePullBackOff", "nginx:1", "unknown"),
])
def test_reason_and_image_decide_when_the_message_cannot(message: str, reason: str,
                                                          image: str | None, cause: str) -> None:
    assert classify(message, reason=reason, image=image).cause.value == cause


def test_grpc_wrapper_is_unwrapped() -> None:
    verdict = classify('Failed to pull image "a:1": rpc error: code = NotFound desc = failed to '
                       'pull and unpack image "docker.io/library/a:1": failed to resolve reference '
                       '"docker.io/library/a:1": docker.io/library/a:1: not found', image="a:1")
    assert verdict.grpc_code == "NotFound"
    assert verdict.detail.startswith("failed to pull and unpack image")


def _by_id(entry_id: str) -> dict[str, Any]:
    return next(e for e in CORPUS if e["id"] == entry_id)


@pytest.mark.parametrize(("log_line", "event"), [
    ("csi-s3-81-crictl-yandex-oauth-log", "csi-s3-81-crictl-yandex-oauth-fata"),
    ("zalando-pull-qps-structured-log", "tilt-pull-qps-event"),
])
def test_structured_log_line_reads_like_the_event(log_line: str, event: str) -> None:
    """A kubelet/crictl log line carries the event's error Go-quoted inside err="..."."""
    from_log, from_event = (classify(_by_id(i)["message"]) for i in (log_line, event))
    assert (from_log.cause, from_log.rule_id) == (from_event.cause, from_event.rule_id)
    assert (from_log.grpc_code, '\\"' in from_log.detail) == (from_event.grpc_code, False)


def test_pod_sync_wrapper_is_unwrapped() -> None:
    verdict = classify(_by_id("daocloud-1441-kubelet-failedprecondition-log")["message"])
    assert (verdict.rule_id, verdict.grpc_code) == ("digest_mismatch", "FailedPrecondition")
    assert verdict.detail.startswith('failed to pull and unpack image "nvcr.io/')
