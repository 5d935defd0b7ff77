"""The worst case, computed: whatever a pod holds, every stored item, message and response fits.

A hostile pod (megabyte fields, four-byte characters) goes through the real ingestion and
grouping; its finding gets the most evidence diagnosis keeps. Then each thing pullmedic writes
is measured against its service's limit: a DynamoDB item (400 KB) and transaction (4 MB, 100
actions), an SNS message (256 KB), a Lambda response and a Step Functions state.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pullmedic.announcing.dynamo import attributes
from pullmedic.announcing.lifecycle import Scope, plan
from pullmedic.announcing.notify import SNS_MESSAGE_MAX, size, sns_messages
from pullmedic.announcing.outbox import new_item
from pullmedic.announcing.state import _item
from pullmedic.app.responses import LAMBDA_RESPONSE_BYTES, STATE_BYTES, fitted
from pullmedic.app.scan import scan_error
from pullmedic.core.causes import Cause
from pullmedic.core.limits import ERROR_MAX, IMAGE_MAX, MESSAGE_MAX, NAME_MAX, lines
from pullmedic.core.model import Announcement, Evidence, Finding, ScanError
from pullmedic.diagnosing.findings import group
from pullmedic.reading.kube.pods import candidates, failures
from pullmedic.reading.kube.workloads import workload_of

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
ITEM_MAX = 400 * 1024
TRANSACTION_MAX, TRANSACTION_ACTIONS = 4 * 1024 * 1024, 100
WIDE = "\U0001d11e"  # four bytes in UTF-8, twelve as a JSON escape


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's measure of an item: attribute names plus values (strings in UTF-8)."""
    total = 0
    for name, value in item.items():
        (kind, raw), = value.items()
        total += len(name.encode()) + (len(raw) if kind == "B" else len(str(raw).encode()))
    return total


def hostile_pod(i: int, fill: str) -> dict[str, Any]:
    """A pod whose every string is a megabyte (a bad or malicious controller can write that)."""
    huge = fill * 1_000_000
    return {"metadata": {"name": f"p{i}-" + huge, "namespace": "n" + huge, "uid": huge,
                         "creationTimestamp": "2026-01-01T00:00:00Z",
                         "labels": {"pod-template-hash": huge, **{f"k{j}": huge for j in range(50)}},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "rs-" + huge,
                                              "controller": True}]},
            "spec": {"nodeName": f"node{i}-" + huge, "serviceAccountName": huge,
                     "imagePullSecrets": [{"name": huge}] * 20},
            "status": {"phase": "Pending", "hostIP": huge, "containerStatuses": [
                {"name": "c" + huge, "image": "docker.io/library/" + huge,
                 "state": {"waiting": {"reason": "ErrImagePull",
                                       "message": f"{i} rpc error: code = NotFound desc = " + huge}}}]}}


def worst_findings(fill: str, count: int = 3) -> list[Finding]:
    found = [c for i in range(count) for c in candidates(hostile_pod(i, fill), NOW, timedelta(0))]
    grouped = group(failures("c" * 100, found, {}), lambda f: workload_of(f.pod, None))
    noise = [fill * 5000] * 100  # diagnosis keeps at most `lines()` of evidence and commands
    items = tuple(Evidence("ecr_repository_policy", "contradicted", line, (line,)) for line in lines(noise))
    return [replace(f, evidence=lines(noise), fix_commands=lines(noise), secret_warning=fill * MESSAGE_MAX,
                    evidence_items=items, account="123456789012", region="ap-southeast-2")
            for f in grouped]


@pytest.mark.parametrize("fill", ["a", WIDE])
def test_ingestion_cuts_every_string_and_says_how_long_it_was(fill: str) -> None:
    (found,) = candidates(hostile_pod(0, fill), NOW, timedelta(0))
    assert len(found.waiting_message) <= MESSAGE_MAX and "characters in all]" in found.waiting_message
    assert len(found.image) <= IMAGE_MAX
    assert all(len(v) <= NAME_MAX for v in (found.container, found.pod.name, found.pod.namespace,
                                            found.pod.node or "", found.pod.owner_name or ""))
    assert set(found.pod.labels) == {"pod-template-hash"}  # only the labels the scan reads


@pytest.mark.parametrize("fill", ["a", WIDE])
def test_a_problem_and_its_outbox_entries_fit_one_transaction(fill: str) -> None:
    base = worst_findings(fill, 1)[0]
    # the most findings one problem can have: one per cause of the same container and image
    same_place = [replace(base, cause=cause) for cause in Cause]
    (change,) = plan({}, same_place, Scope(frozenset({base.cluster})), NOW, None, []).changes
    assert change.record is not None
    record = _item(change.record)
    entries = [attributes(new_item(a, NOW)) for a in change.announcements]
    sizes = [item_bytes(record)] + [item_bytes(e) for e in entries]
    assert max(sizes) < ITEM_MAX, sizes
    assert sum(sizes) < TRANSACTION_MAX and 1 + len(entries) <= TRANSACTION_ACTIONS


@pytest.mark.parametrize("fill", ["a", WIDE])
def test_every_sns_message_fits_and_everything_is_shown_or_counted(fill: str) -> None:
    findings = worst_findings(fill, 3)
    announcements = [Announcement("new", replace(f, cluster=f"c{i % 7}", namespace=f"ns{i}"))
                     for i in range(200) for f in findings[:1]]
    errors = [scan_error(f"cluster-{i}", "pods", fill * 100_000) for i in range(500)]
    messages = sns_messages(announcements, errors, [f"c{i}" for i in range(7)])
    assert all(size(m) <= SNS_MESSAGE_MAX for m in messages)
    assert sum(len(m.announcements) for m in messages) == len(announcements)
    assert sum(len(m.errors) for m in messages) == len(errors)
    assert all(len(e.message) <= ERROR_MAX for e in errors)


def test_an_oversized_summary_is_cut_to_the_response_limits() -> None:
    doc = {"findings": [{"x": "y" * 5000}] * 2000, "errors": [{"m": "z" * 1000}] * 2000, "count": 2000}
    for budget in (LAMBDA_RESPONSE_BYTES, STATE_BYTES):
        cut = fitted(doc, budget)
        assert len(json.dumps(cut).encode()) <= budget
        assert cut["findings_omitted"] + len(cut["findings"]) == 2000 and cut["count"] == 2000


def test_scan_errors_are_cut_and_redacted() -> None:
    error = scan_error("prod", "token", "https://u:hunter2@x.example/ " + "e" * 100_000)
    assert len(error.message) <= ERROR_MAX and "hunter2" not in error.message
    assert isinstance(error, ScanError)
