"""Run the checks that fit each finding's cause and fold their verdicts into the finding."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial

from pullmedic.causes import ADVICE, Cause
from pullmedic.checks import CHECKS
from pullmedic.checks.base import CONFIRMED, CONTRADICTED, PASSED, UNAVAILABLE, Verdict
from pullmedic.console import resources
from pullmedic.evidence import Facts, subject_of
from pullmedic.findings import severity
from pullmedic.limits import EVIDENCE_LINE_MAX, EVIDENCE_LINES_MAX, cut, lines
from pullmedic.model import Evidence, Finding
from pullmedic.parallel import ordered

_MARK = {CONFIRMED: "confirmed", CONTRADICTED: "contradicts the message", PASSED: "ok"}


def diagnose(findings: list[Finding], facts: Facts, workers: int = 1) -> list[Finding]:
    """Every finding with its evidence, confidence, fix commands and (if disproved) new cause;
    `workers` findings at a time (their reads wait on the network; each is made once)."""
    facts.prepare(findings)
    return ordered([partial(_diagnose, finding, facts) for finding in findings], workers)


def in_region(command: str, region: str) -> str:
    """An `aws` command as it works when pasted in any shell: with the cluster's Region unless it
    names one (the checks' EC2 and IAM commands are about the cluster's account and Region)."""
    if not command.startswith("aws ") or "--region" in command:
        return command
    return f"{command} --region {region}"


def _run(cause: Cause, finding: Finding, facts: Facts, done: Iterable[str] = ()) -> list[Verdict]:
    subject = subject_of(finding)
    verdicts = []
    for check_id, check in CHECKS.items():
        if cause in check.META.causes and check_id not in done:
            verdict = check.run(subject, facts)
            if verdict is not None:
                verdicts.append(verdict)
    return verdicts


def _diagnose(finding: Finding, facts: Facts) -> Finding:
    verdicts = _run(finding.cause, finding, facts)
    cause, confidence = finding.cause, "likely"
    named = next((v.rediagnose for v in verdicts if v.rediagnose and v.status != PASSED), None)
    if any(v.status == CONTRADICTED for v in verdicts):
        confidence = "contradicted"
    if named is not None and named != cause:
        cause = named
        verdicts += _run(cause, finding, facts, done={v.check for v in verdicts})
    if confidence != "contradicted" and any(v.status == CONFIRMED for v in verdicts):
        confidence = "confirmed"
    useful = [v for v in verdicts if v.status in (CONFIRMED, PASSED)]
    return replace(
        finding, cause=cause, confidence=confidence, severity=severity(cause),
        evidence=lines(_evidence(verdicts) + tuple(filter(None, [facts.host_note(finding)]))),
        fix_commands=lines(tuple(dict.fromkeys(in_region(c, facts.region)
                                               for v in useful for c in v.commands))),
        advice=" ".join(dict.fromkeys(v.fix for v in useful if v.fix)) or ADVICE[cause],
        message_cause=finding.cause if cause != finding.cause else None,
        verdicts=tuple(sorted({(v.check, v.status) for v in verdicts})),
        evidence_items=_items(verdicts),
    )


def _evidence(verdicts: list[Verdict]) -> tuple[str, ...]:
    """One line per fact; the same missing fact for several checks is said once."""
    lines: dict[str, list[str]] = {}
    for verdict in verdicts:
        for line in verdict.evidence:
            if line.startswith("unavailable"):
                lines.setdefault(line, []).append(verdict.check)
            else:
                lines[f"{_MARK.get(verdict.status, verdict.status)} [{verdict.check}]: {line}"] = []
    return tuple(f"[{', '.join(checks)}] {line}" if checks else line for line, checks in lines.items())



def _items(verdicts: list[Verdict]) -> tuple[Evidence, ...]:
    """The evidence as data: one per check and line, as many as the text keeps; a line that
    says a fact could not be read is `unavailable` whatever the check concluded."""
    items = []
    for verdict in verdicts:
        for line in verdict.evidence:
            status = UNAVAILABLE if line.startswith("unavailable: ") else verdict.status
            text = cut(line.removeprefix("unavailable: "), EVIDENCE_LINE_MAX)
            items.append(Evidence(verdict.check, status, text, resources(text)))
    return tuple(items[:EVIDENCE_LINES_MAX])
