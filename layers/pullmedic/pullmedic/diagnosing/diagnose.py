"""Run the checks that fit each finding's cause and fold their verdicts into the finding."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial

from pullmedic.core.causes import ADVICE, Cause
from pullmedic.core.console import resources
from pullmedic.core.limits import COMMAND_MAX, EVIDENCE_LINE_MAX, EVIDENCE_LINES_MAX, cut, lines
from pullmedic.core.model import Evidence, Finding
from pullmedic.core.unavailable import Unavailable
from pullmedic.core.vocab import Confidence
from pullmedic.diagnosing.checks import REGISTRY
from pullmedic.diagnosing.checks.base import CONFIRMED, CONTRADICTED, PASSED, UNAVAILABLE, Check, Verdict
from pullmedic.diagnosing.checks.facts import Fact, Snapshot, Subject, subject_of
from pullmedic.diagnosing.evidence import Facts
from pullmedic.diagnosing.findings import severity
from pullmedic.diagnosing.gathering import gather
from pullmedic.reading.parallel import ordered

_MARK = {CONFIRMED: "confirmed", CONTRADICTED: "contradicts the message", PASSED: "ok"}


def diagnose(findings: list[Finding], facts: Facts, workers: int = 1) -> list[Finding]:
    """Every finding with its evidence, confidence, fix commands and (if disproved) new cause;
    `workers` findings at a time (their reads wait on the network; each is made once)."""
    subjects = [subject_of(finding) for finding in findings]  # each image parsed once
    facts.prepare_subjects(subjects)
    return ordered([partial(_diagnose, subject, facts) for subject in subjects], workers)


def in_region(command: str, region: str) -> str:
    """An `aws` command as it works when pasted in any shell: with the cluster's Region unless it
    names one (the checks' EC2 and IAM commands are about the cluster's account and Region)."""
    if not command.startswith("aws ") or "--region" in command:
        return command
    return f"{command} --region {region}"


def in_context(command: str, cluster_arn: str) -> str:
    """A `kubectl` command aimed at the cluster it is about, whatever the current context: the
    context `aws eks update-kubeconfig` creates is named after the cluster's ARN."""
    if not command.startswith("kubectl ") or "--context" in command or not cluster_arn:
        return command
    return f"kubectl --context {cluster_arn} {command.removeprefix('kubectl ')}"


def _checks(cause: Cause, done: Iterable[str] = ()) -> tuple[Check, ...]:
    """The checks of `cause`, in registry order, but those that already gave a verdict."""
    return tuple(c for c in REGISTRY if cause in c.META.causes and c.META.id not in done)


def _needs(checks: Iterable[Check]) -> frozenset[Fact]:
    return frozenset(kind for check in checks for kind in check.META.needs)


def _run(checks: Iterable[Check], subject: Subject, snapshot: Snapshot) -> list[Verdict]:
    return [v for check in checks if (v := check.run(subject, snapshot)) is not None]


def _diagnose(subject: Subject, facts: Facts) -> Finding:
    finding = subject.finding
    checks = _checks(finding.cause)
    snapshot = gather(facts, subject, _needs(checks))
    verdicts = _run(checks, subject, snapshot)
    cause = finding.cause
    named = next((v.rediagnose for v in verdicts if v.rediagnose and v.status != PASSED), None)
    contradicted = any(v.status == CONTRADICTED for v in verdicts)
    if named is not None and named != cause:
        cause = named
        more = _checks(cause, done={v.check for v in verdicts})
        snapshot = gather(facts, subject, _needs(more) - _needs(checks), into=snapshot)
        verdicts += _run(more, subject, snapshot)
    confidence = Confidence.CONTRADICTED if contradicted else (
        Confidence.CONFIRMED if any(v.status == CONFIRMED for v in verdicts) else Confidence.LIKELY)
    return _fold(finding, cause, confidence, verdicts, snapshot, facts.cluster.arn)


def _fold(finding: Finding, cause: Cause, confidence: Confidence, verdicts: list[Verdict],
          snapshot: Snapshot, cluster_arn: str) -> Finding:
    """The finding with what its checks found."""
    useful = [v for v in verdicts if v.status in (CONFIRMED, PASSED)]
    return replace(
        finding, cause=cause, confidence=confidence, severity=severity(cause),
        evidence=lines(_evidence(verdicts) + tuple(filter(None, [snapshot.host_note]))),
        fix_commands=lines(tuple(dict.fromkeys(in_context(in_region(c, snapshot.region), cluster_arn)
                                               for v in useful for c in v.commands)), COMMAND_MAX),
        advice=" ".join(dict.fromkeys(v.fix for v in useful if v.fix)) or ADVICE[cause],
        message_cause=finding.cause if cause != finding.cause else None,
        verdicts=tuple(sorted({(v.check, v.status) for v in verdicts})),
        evidence_items=_items(verdicts),
    )


def _evidence(verdicts: list[Verdict]) -> tuple[str, ...]:
    """One line per fact; the same missing fact for several checks is said once."""
    lines: dict[str, list[str]] = {}
    for verdict in verdicts:
        for line, text in zip(verdict.evidence, verdict.text(), strict=True):
            if isinstance(line, Unavailable):
                lines.setdefault(text, []).append(verdict.check)
            else:
                lines[f"{_MARK.get(verdict.status, verdict.status)} [{verdict.check}]: {text}"] = []
    return tuple(f"[{', '.join(checks)}] {line}" if checks else line for line, checks in lines.items())


def _items(verdicts: list[Verdict]) -> tuple[Evidence, ...]:
    """The evidence as data: one per check and line, as many as the text keeps; a line that
    says a fact could not be read is `unavailable` whatever the check concluded."""
    items = []
    for verdict in verdicts:
        for line in verdict.evidence:
            status = UNAVAILABLE if isinstance(line, Unavailable) else verdict.status
            text = cut(line.why if isinstance(line, Unavailable) else line, EVIDENCE_LINE_MAX)
            items.append(Evidence(verdict.check, status, text, resources(text)))
    return tuple(items[:EVIDENCE_LINES_MAX])
