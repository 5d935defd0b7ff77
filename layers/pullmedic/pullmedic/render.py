"""Turn findings into what people and machines read: subject, text, JSON, attributes (pure)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pullmedic.findings import SEVERITY_ORDER, fingerprint
from pullmedic.model import Finding, ScanError
from pullmedic.redact import redact

SCHEMA = "pullmedic.findings/v1"
SUBJECT_MAX = 99
SNS_MESSAGE_MAX = 262_144


def finding_doc(finding: Finding) -> dict[str, Any]:
    """The machine-readable form of one finding (part of the versioned schema)."""
    return {
        "fingerprint": fingerprint(finding), "cluster": finding.cluster,
        "namespace": finding.namespace, "workload": f"{finding.workload.kind}/{finding.workload.name}",
        "workload_inferred": finding.workload.inferred, "container": finding.container,
        "container_type": finding.container_type, "image": finding.image,
        "cause": finding.cause.value, "alternatives": [a.value for a in finding.alternatives],
        "confidence": finding.confidence, "severity": finding.severity,
        "summary": finding.summary, "rule": finding.rule_id, "message": redact(finding.message),
        "message_source": finding.message_source, "reasons": list(finding.reasons),
        "pod_count": finding.pod_count, "pods": list(finding.pods), "nodes": list(finding.nodes),
        "evidence": [redact(e) for e in finding.evidence], "advice": finding.advice,
        "fix_commands": list(finding.fix_commands),
        "message_cause": finding.message_cause.value if finding.message_cause else None,
    }


def error_doc(error: ScanError) -> dict[str, str]:
    """The machine-readable form of one scan error."""
    return {"cluster": error.cluster, "stage": error.stage, "message": redact(error.message)}


def document(findings: Sequence[Finding], errors: Sequence[ScanError], clusters: Sequence[str],
             omitted: int = 0) -> dict[str, Any]:
    """The JSON document of a scan (SQS / Lambda subscribers, `--json` output)."""
    return {"schema": SCHEMA, "clusters": list(clusters),
            "findings": [finding_doc(f) for f in findings],
            "errors": [error_doc(e) for e in errors], "omitted_findings": omitted}


def subject(findings: Sequence[Finding], errors: Sequence[ScanError]) -> str:
    """An email subject: plain ASCII, one line, under 100 characters."""
    clusters = sorted({f.cluster for f in findings} | {e.cluster for e in errors} - {"*"})
    where = clusters[0] if len(clusters) == 1 else f"{len(clusters)} clusters"
    if not findings:
        return _ascii(f"pullmedic: {len(errors)} cluster(s) could not be scanned in {where}")
    noun = "problem" if len(findings) == 1 else "problems"
    head = f"pullmedic: {len(findings)} image pull {noun} in {where}: "
    causes = [c for c, _ in Counter(f.cause.value for f in findings).most_common()]
    for shown in range(len(causes), 0, -1):
        rest = len(causes) - shown
        text = head + ", ".join(causes[:shown]) + (f" (+{rest} more)" if rest else "")
        if len(_ascii(text)) <= SUBJECT_MAX:
            return _ascii(text)
    return _ascii(head.rstrip(": "))[:SUBJECT_MAX]


def _ascii(text: str) -> str:
    """One line of printable ASCII."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def text(findings: Sequence[Finding], errors: Sequence[ScanError], omitted: int = 0) -> str:
    """A plain-text body a person can read on a phone."""
    lines: list[str] = []
    if findings:
        lines.append(f"pullmedic found {len(findings) + omitted} image pull problem(s).")
    for number, finding in enumerate(findings, 1):
        lines += ["", *_finding_lines(number, finding)]
    if omitted:
        lines += ["", f"... and {omitted} more problem(s) not shown: run `pullmedic scan` "
                      "for the full list."]
    if errors:
        lines += ["", "Could not scan:"]
        lines += [f"  - {e.cluster} ({e.stage}): {e.message}" for e in errors]
    return redact("\n".join(lines).strip() + "\n")


def _finding_lines(number: int, f: Finding) -> list[str]:
    pods = ", ".join(f.pods) + (f", ... ({f.pod_count} in all)" if f.pod_count > len(f.pods) else "")
    also = f" Could also be: {', '.join(a.value for a in f.alternatives)}." if f.alternatives else ""
    where = f"{f.workload.kind}/{f.workload.name}"
    lines = [
        f"{number}. [{f.severity.upper()}] {f.cause.value} - {f.cluster}/{f.namespace}/{where}",
        f"   Container: {f.container} ({f.container_type})",
        f"   Image:     {f.image or '(unknown)'}",
        f"   Pods:      {pods}",
        f"   Why:       {f.summary} Confidence: {f.confidence}.{also}",
        f"   Message:   {f.message or '(no failure message left: events expired)'}",
    ]
    lines += [f"   Evidence:  {e}" for e in f.evidence]
    lines.append(f"   Fix:       {f.advice}")
    lines += [f"     $ {command}" for command in f.fix_commands]
    return lines


def attributes(findings: Sequence[Finding], errors: Sequence[ScanError]) -> dict[str, Any]:
    """SNS message attributes for subscription filter policies."""
    clusters = sorted({f.cluster for f in findings} | {e.cluster for e in errors})
    causes = sorted({f.cause.value for f in findings}) or ["scan_error"]
    worst = max((SEVERITY_ORDER.index(f.severity) for f in findings), default=1)
    return {
        "cluster": {"DataType": "String.Array", "StringValue": json.dumps(clusters)},
        "causes": {"DataType": "String.Array", "StringValue": json.dumps(causes)},
        "severity": {"DataType": "String", "StringValue": SEVERITY_ORDER[worst]},
    }


def sns_message(findings: Sequence[Finding], errors: Sequence[ScanError],
                clusters: Sequence[str]) -> tuple[str, str]:
    """(subject, MessageStructure=json message) that fits SNS's size limit."""
    shown = list(findings)
    while True:
        omitted = len(findings) - len(shown)
        body = text(shown, errors, omitted)
        doc = json.dumps(document(shown, errors, clusters, omitted), sort_keys=True)
        message = json.dumps({"default": body, "email": body, "sqs": doc, "lambda": doc,
                              "https": doc})
        if len(message.encode()) <= SNS_MESSAGE_MAX or not shown:
            return subject(findings, errors), message
        shown = shown[: max(len(shown) * 3 // 4, 0)]
