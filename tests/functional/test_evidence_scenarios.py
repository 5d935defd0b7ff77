"""The evidence-* scenarios: the real handler must prove each cause with AWS evidence and a fix.

Each `expect` entry must be met by one finding of its workload: the same `cause` and
`confidence`, every `evidence_mentions` substring somewhere in its `evidence`, every
`fix_mentions` substring somewhere in its `fix_commands`. An `expect_absent` entry fails when
a finding matches its `workload` / `cause` / `confidence` (those given) and mentions any of its
`evidence_mentions` / `fix_mentions` (or, with no mentions listed, matches at all).
`${name}` in either is resolved through the sandbox's refs to the seeded AWS ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pullmedic_sandbox.aws_seed import substitute
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import BUNDLED

SCENARIOS = sorted(BUNDLED.glob("evidence-*.yaml"))
EXACT = ("workload", "cause", "confidence")
MENTIONS = (("evidence_mentions", "evidence"), ("fix_mentions", "fix_commands"))
ARCH = {"amd64": "x86_64", "arm64": "arm64"}


@pytest.fixture(scope="module")
def handler() -> Any:
    return load_handler()


def expectations(path: Path, sandbox: Sandbox) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The scenario's `expect` and `expect_absent` entries with `${...}` resolved."""
    raw = yaml.safe_load(path.read_text())
    return (substitute(raw.get("expect") or [], sandbox.refs),
            substitute(raw.get("expect_absent") or [], sandbox.refs))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_seeds_and_its_nodes_match_their_instances(world, sandbox: Sandbox, path: Path) -> None:
    scenario = world(path)
    assert scenario.name == path.stem and scenario.description and scenario.region == "us-east-2"
    assert list(sandbox.clusters) == [scenario.name]
    expect, absent = expectations(path, sandbox)
    assert all(e.get("workload") and e.get("cause") for e in expect)
    assert expect or absent or "lookalike" in scenario.name
    ec2 = sandbox.client("ec2")
    for node in sandbox.clusters[scenario.name].objects("Node"):
        if node["metadata"]["labels"].get("eks.amazonaws.com/compute-type") == "fargate":
            continue
        instance_id = node["spec"]["providerID"].rsplit("/", 1)[1]
        (reservation,) = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        (instance,) = reservation["Instances"]
        addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
        assert addresses["InternalIP"] == instance["PrivateIpAddress"]
        assert node["metadata"]["name"] == instance["PrivateDnsName"]
        arch = node["status"]["nodeInfo"]["architecture"]
        assert node["metadata"]["labels"]["kubernetes.io/arch"] == arch
        assert ARCH[arch] == instance["Architecture"]
        assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == \
            instance["Placement"]["AvailabilityZone"]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_findings_prove_the_cause(world, sandbox: Sandbox, handler: Any, path: Path) -> None:
    scenario = world(path)
    summary = invoke(handler, {"dry_run": True})
    assert summary["errors"] == [], summary["errors"]
    findings = summary["findings"]
    expect, absent = expectations(path, sandbox)
    problems = [_missing(e, findings) for e in expect if not any(_meets(e, f) for f in findings)]
    problems += [_present(e, hits) for e in absent if (hits := [f for f in findings if _hits(e, f)])]
    assert not problems, f"{scenario.name}: {scenario.description}\n\n" + "\n\n".join(problems)


def _text(finding: dict[str, Any], field: str) -> str:
    return "\n".join(finding.get(field) or [])


def _exact(entry: dict[str, Any], finding: dict[str, Any]) -> bool:
    return all(finding.get(key) == entry[key] for key in EXACT if key in entry)


def _meets(entry: dict[str, Any], finding: dict[str, Any]) -> bool:
    return _exact(entry, finding) and all(
        mention in _text(finding, field) for key, field in MENTIONS for mention in entry.get(key, []))


def _hits(entry: dict[str, Any], finding: dict[str, Any]) -> bool:
    mentions = [(m, field) for key, field in MENTIONS for m in entry.get(key, [])]
    return _exact(entry, finding) and (not mentions or any(m in _text(finding, f) for m, f in mentions))


def _missing(entry: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    same = [f for f in findings if f.get("workload") == entry.get("workload")]
    lines = [f"expected {json.dumps(entry)}"]
    if not same:
        got = sorted({f"{f.get('workload')} ({f.get('cause')})" for f in findings})
        return "\n".join([*lines, f"  but no finding for {entry.get('workload')}; findings: {got or 'none'}"])
    for finding in same:
        lines.append(f"  got {_show(finding)}")
        wrong = [f"{k}={finding.get(k)!r}" for k in EXACT if k in entry and finding.get(k) != entry[k]]
        lost = [f"{field} lacks {m!r}" for key, field in MENTIONS for m in entry.get(key, [])
                if m not in _text(finding, field)]
        lines.append(f"  differs: {'; '.join(wrong + lost)}")
    return "\n".join(lines)


def _present(entry: dict[str, Any], hits: list[dict[str, Any]]) -> str:
    return "\n".join([f"expected no finding like {json.dumps(entry)}",
                      *(f"  got {_show(f)}" for f in hits)])


def _show(finding: dict[str, Any]) -> str:
    keys = ("workload", "container", "image", "cause", "confidence", "evidence", "fix_commands", "message")
    return json.dumps({k: finding.get(k, "<absent>") for k in keys}, indent=2).replace("\n", "\n  ")
