"""Turn announcements into what people and machines read: subject, text, JSON, attributes (pure).

One SNS publish carries, with MessageStructure=json: `default` and `email` (plain text for a
phone), `sqs` and `lambda` (the JSON document below), `https` (an Amazon Q Developer in chat
applications custom notification, see chat.py).

The document, schema "pullmedic.findings/v2" (DOCUMENT_SCHEMA is its JSON schema):
    schema            "pullmedic.findings/v2"
    clusters          the clusters the scan read
    findings[]        one per announced finding, in the order of EVENTS, worst first:
      event           new | changed | reminder | resolved | remediated | remediation_failed
      first_seen      when pullmedic first saw the problem (ISO 8601, UTC)
      previous_cause  the cause announced before, for `changed` (else null)
      fingerprint     the problem's stable id: one (cluster, namespace, workload, container,
                      image); findings of one container with different causes share it
      cluster, namespace, workload ("Kind/name"), workload_inferred, container,
      container_type, image, cause, alternatives, confidence, severity, summary, rule,
      message (redacted), message_source, reasons, pod_count, pods, nodes,
      evidence (redacted), advice, fix_commands, message_cause
      actions         remediation actions available for it (empty unless remediation is on)
      remediation     {action, summary, by, undo} of a fix applied (or that did not help), else null
    errors[]          {cluster, stage, message}: clusters that could not be scanned
    omitted_findings  announced findings left out of this message to fit SNS's size limit
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from pullmedic.causes import Cause
from pullmedic.findings import SEVERITY_ORDER, fingerprint
from pullmedic.model import Finding, ScanError, Workload
from pullmedic.redact import printable, redact, redact_tree

SCHEMA = "pullmedic.findings/v2"
LIFECYCLE_EVENTS = ("new", "changed", "reminder", "resolved")  # what a scan's state change announces
EVENTS = (*LIFECYCLE_EVENTS, "remediated", "remediation_failed")
SUBJECT_MAX = 99
SILENCE_HOURS = 24


class Remediation(NamedTuple):
    """A fix applied to a finding: what it did (or why it did not help), who, how to undo it."""

    action: str
    summary: str
    by: str = ""
    undo: tuple[str, ...] = ()


class Announcement(NamedTuple):
    """One finding to tell subscribers about, and why now."""

    event: str  # one of EVENTS
    finding: Finding
    since: datetime | None = None  # first seen
    previous_cause: str | None = None  # for `changed`: the cause announced before
    actions: tuple[str, ...] = ()  # remediation actions that may be approved for it
    remediation: Remediation | None = None  # the fix applied to it, if any


def finding_doc(finding: Finding) -> dict[str, Any]:
    """The machine-readable form of one finding (part of the versioned schema), redacted."""
    return redact_tree({
        "fingerprint": fingerprint(finding), "cluster": finding.cluster,
        "namespace": finding.namespace, "workload": f"{finding.workload.kind}/{finding.workload.name}",
        "workload_inferred": finding.workload.inferred, "container": finding.container,
        "container_type": finding.container_type, "image": finding.image,
        "cause": finding.cause.value, "alternatives": [a.value for a in finding.alternatives],
        "confidence": finding.confidence, "severity": finding.severity,
        "summary": finding.summary, "rule": finding.rule_id, "message": finding.message,
        "message_source": finding.message_source, "reasons": list(finding.reasons),
        "pod_count": finding.pod_count, "pods": list(finding.pods), "nodes": list(finding.nodes),
        "evidence": list(finding.evidence), "advice": finding.advice,
        "fix_commands": list(finding.fix_commands),
        "message_cause": finding.message_cause.value if finding.message_cause else None,
    })


def finding_from_doc(doc: dict[str, Any]) -> Finding:
    """The finding a stored `finding_doc` describes (to announce it once it is resolved)."""
    kind, _, name = doc["workload"].partition("/")
    return Finding(
        cluster=doc["cluster"], namespace=doc["namespace"],
        workload=Workload(kind, name, bool(doc.get("workload_inferred"))),
        container=doc["container"], container_type=doc.get("container_type", "regular"),
        image=doc["image"], cause=_cause(doc["cause"]), rule_id=doc.get("rule", ""),
        summary=doc.get("summary", ""),
        alternatives=tuple(_cause(a) for a in doc.get("alternatives", ())),
        message=doc.get("message", ""), message_source=doc.get("message_source", "none"),
        reasons=tuple(doc.get("reasons", ())), pods=tuple(doc.get("pods", ())),
        pod_count=int(doc.get("pod_count", 0)), nodes=tuple(doc.get("nodes", ())),
        severity=doc.get("severity", "medium"), confidence=doc.get("confidence", "likely"),
        advice=doc.get("advice", ""), evidence=tuple(doc.get("evidence", ())),
        fix_commands=tuple(doc.get("fix_commands", ())),
        message_cause=_cause(doc["message_cause"]) if doc.get("message_cause") else None,
    )


def _cause(value: str) -> Cause:
    """A stored cause name; one this version no longer knows reads as unknown."""
    try:
        return Cause(value)
    except ValueError:
        return Cause.UNKNOWN


def error_doc(error: ScanError) -> dict[str, str]:
    """The machine-readable form of one scan error."""
    return {"cluster": error.cluster, "stage": error.stage, "message": redact(error.message)}


def announcement_doc(item: Announcement) -> dict[str, Any]:
    """A finding's document entry: its lifecycle event first, then the finding."""
    fix = item.remediation
    return {"event": item.event, "first_seen": _iso(item.since),
            "previous_cause": item.previous_cause, **finding_doc(item.finding),
            "actions": list(item.actions),
            "remediation": redact_tree({"action": fix.action, "summary": fix.summary, "by": fix.by,
                                        "undo": list(fix.undo)}) if fix else None}


def document(announcements: Sequence[Announcement], errors: Sequence[ScanError],
             clusters: Sequence[str], omitted: int = 0) -> dict[str, Any]:
    """The JSON document of a scan's announcements (SQS / Lambda subscribers)."""
    return {"schema": SCHEMA, "clusters": list(clusters),
            "findings": [announcement_doc(a) for a in announcements],
            "errors": [error_doc(e) for e in errors], "omitted_findings": omitted}


def ordered(announcements: Sequence[Announcement]) -> list[Announcement]:
    """New first, then changed, reminders and resolved; worst severity first within each."""
    return sorted(announcements, key=lambda a: (
        EVENTS.index(a.event), -SEVERITY_ORDER.index(a.finding.severity), a.finding.key))


def counts(announcements: Sequence[Announcement]) -> str:
    """'2 new, 1 resolved' (in the order of EVENTS)."""
    seen = Counter(a.event for a in announcements)
    return ", ".join(f"{seen[e]} {e}" for e in EVENTS if seen[e])


def subject(announcements: Sequence[Announcement], errors: Sequence[ScanError]) -> str:
    """An email subject: plain ASCII, one line, under 100 characters."""
    clusters = sorted({a.finding.cluster for a in announcements} | {e.cluster for e in errors} - {"*"})
    where = clusters[0] if len(clusters) == 1 else f"{len(clusters)} clusters"
    if not announcements:
        return _ascii(f"pullmedic: {len(errors)} cluster(s) could not be scanned in {where}")
    noun = "problem" if len(announcements) == 1 else "problems"
    head = f"pullmedic: {counts(announcements)} image pull {noun} in {where}: "
    causes = [c for c, _ in Counter(a.finding.cause.value for a in announcements).most_common()]
    for shown in range(len(causes), 0, -1):
        rest = len(causes) - shown
        line = head + ", ".join(causes[:shown]) + (f" (+{rest} more)" if rest else "")
        if len(_ascii(line)) <= SUBJECT_MAX:
            return _ascii(line)
    return _ascii(head.rstrip(": "))[:SUBJECT_MAX]


def _ascii(line: str) -> str:
    """One line of printable ASCII."""
    return "".join(c if " " <= c <= "~" else "?" for c in line)


def silence_command(fp: str, flags: str = "") -> str:
    """The CLI command that silences problem `fp` for a day."""
    extra = f" {flags}" if flags else ""
    return f'pullmedic silence --fingerprint {fp} --hours {SILENCE_HOURS} --reason "why"{extra}'


def silence_event(fp: str) -> str:
    """The console test event that silences problem `fp` for a day."""
    return json.dumps({"silence": {"fingerprint": fp, "hours": SILENCE_HOURS, "reason": "why"}})


def fix_command(fp: str, action: str, flags: str = "", apply: bool = False) -> str:
    """The CLI command that shows (with `apply`: applies) the plan of `action` for problem `fp`."""
    extra = f" {flags}" if flags else ""
    return f"pullmedic fix {fp} --action {action}{' --yes' if apply else ''}{extra}"


def fix_event(fp: str, action: str) -> str:
    """The console test event that approves the plan of `action` for problem `fp`."""
    return json.dumps({"remediate": {"fingerprint": fp, "action": action, "confirm": True,
                                     "approved_by": "your-name"}})


def text(announcements: Sequence[Announcement], errors: Sequence[ScanError], omitted: int = 0,
         cli_flags: str = "") -> str:
    """A plain-text body a person can read on a phone: redacted, without control characters."""
    lines: list[str] = []
    if announcements:
        total = len(announcements) + omitted
        lines.append(f"pullmedic: {total} image pull problem(s) to report "
                     f"({counts(announcements)}{f', {omitted} more' if omitted else ''}).")
    for number, item in enumerate(announcements, 1):
        lines += ["", *_announcement_lines(number, item, cli_flags)]
    if omitted:
        lines += ["", f"... and {omitted} more problem(s) not shown: run `pullmedic scan` "
                      "for the full list."]
    if errors:
        lines += ["", "Could not scan:"]
        lines += [f"  - {e.cluster} ({e.stage}): {e.message}" for e in errors]
    return printable(redact("\n".join(lines).strip() + "\n"))


def _announcement_lines(number: int, item: Announcement, cli_flags: str) -> list[str]:
    f, fp = item.finding, fingerprint(item.finding)
    where = f"{f.cluster}/{f.namespace}/{f.workload.kind}/{f.workload.name}"
    head = f"{number}. {item.event.upper()} [{f.severity.upper()}] {f.cause.value} - {where}"
    since = f", failing since {_when(item.since)}" if item.since else ""
    lines = [head, f"   Container: {f.container} ({f.container_type})",
             f"   Image:     {f.image or '(unknown)'}"]
    if item.event == "resolved":
        first = f", first seen {_when(item.since)}" if item.since else ""
        lines.append(f"   Resolved:  none of its pods fails to pull any more (problem {fp}{first}).")
        return lines + _fix_lines(item)
    if item.remediation:
        return [*lines, *_fix_lines(item), *(f"   Evidence:  {e}" for e in f.evidence),
                f"   Problem:   {fp}{since}"]
    if item.previous_cause:
        lines.append(f"   Changed:   the cause was {item.previous_cause}.")
    pods = ", ".join(f.pods) + (f", ... ({f.pod_count} in all)" if f.pod_count > len(f.pods) else "")
    also = f" Could also be: {', '.join(a.value for a in f.alternatives)}." if f.alternatives else ""
    lines += [
        f"   Pods:      {pods}",
        f"   Why:       {f.summary} Confidence: {f.confidence}.{also}",
        f"   Message:   {f.message or '(no failure message left: events expired)'}",
    ]
    lines += [f"   Evidence:  {e}" for e in f.evidence]
    lines.append(f"   Fix:       {f.advice}")
    lines += [f"     $ {command}" for command in f.fix_commands]
    for action in item.actions:
        lines += [f"   Remediate: {action}: see the plan with $ {fix_command(fp, action, cli_flags)}",
                  f"              approve it with $ {fix_command(fp, action, cli_flags, apply=True)}",
                  f"              or run the function with the test event {fix_event(fp, action)}"]
    lines += [f"   Problem:   {fp}{since}",
              f"   Silence:   $ {silence_command(fp, cli_flags)}",
              f"              or run the function with the test event {silence_event(fp)}"]
    return lines


def _fix_lines(item: Announcement) -> list[str]:
    """What the fix applied to the finding did, who approved it, and how to undo it."""
    fix = item.remediation
    if fix is None:
        return []
    by = f" (approved by {fix.by})" if fix.by else ""
    return [f"   Action:    {fix.action}{by}: {fix.summary}",
            *(f"   Undo:      $ {command}" for command in fix.undo)]


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "?"


def attributes(announcements: Sequence[Announcement], errors: Sequence[ScanError]) -> dict[str, Any]:
    """SNS message attributes for subscription filter policies."""
    clusters = sorted({a.finding.cluster for a in announcements} | {e.cluster for e in errors})
    causes = sorted({a.finding.cause.value for a in announcements}) or ["scan_error"]
    present = {a.event for a in announcements}
    events = [e for e in EVENTS if e in present] + (["scan_error"] if errors else [])
    worst = max((SEVERITY_ORDER.index(a.finding.severity) for a in announcements), default=1)
    return {
        "cluster": {"DataType": "String.Array", "StringValue": json.dumps(clusters)},
        "causes": {"DataType": "String.Array", "StringValue": json.dumps(causes)},
        "severity": {"DataType": "String", "StringValue": SEVERITY_ORDER[worst]},
        "event": {"DataType": "String.Array", "StringValue": json.dumps(events)},
    }


DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": SCHEMA,
    "type": "object",
    "required": ["schema", "clusters", "findings", "errors", "omitted_findings"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA},
        "clusters": {"type": "array", "items": {"type": "string"}},
        "omitted_findings": {"type": "integer", "minimum": 0},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["cluster", "stage", "message"],
            "additionalProperties": False,
            "properties": {k: {"type": "string"} for k in ("cluster", "stage", "message")}}},
        "findings": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["event", "first_seen", "previous_cause", "fingerprint", "cluster",
                         "namespace", "workload", "workload_inferred", "container",
                         "container_type", "image", "cause", "alternatives", "confidence",
                         "severity", "summary", "rule", "message", "message_source", "reasons",
                         "pod_count", "pods", "nodes", "evidence", "advice", "fix_commands",
                         "message_cause", "actions", "remediation"],
            "properties": {
                "event": {"enum": list(EVENTS)},
                "first_seen": {"type": ["string", "null"], "format": "date-time"},
                "previous_cause": {"type": ["string", "null"]},
                "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                "workload": {"type": "string", "pattern": "^[A-Za-z]+/.+$"},
                "workload_inferred": {"type": "boolean"},
                "container_type": {"enum": ["init", "regular", "ephemeral", "sandbox"]},
                "cause": {"enum": [c.value for c in Cause]},
                "alternatives": {"type": "array", "items": {"enum": [c.value for c in Cause]}},
                "confidence": {"enum": ["likely", "confirmed", "contradicted"]},
                "severity": {"enum": list(SEVERITY_ORDER)},
                "pod_count": {"type": "integer", "minimum": 0},
                "message_cause": {"enum": [None, *(c.value for c in Cause)]},
                "actions": {"type": "array", "items": {"type": "string"}},
                "remediation": {"oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["action", "summary", "by", "undo"],
                    "additionalProperties": False,
                    "properties": {"action": {"type": "string"}, "summary": {"type": "string"},
                                   "by": {"type": "string"},
                                   "undo": {"type": "array", "items": {"type": "string"}}}}]},
                **{k: {"type": "string"} for k in ("cluster", "namespace", "container", "image",
                                                   "summary", "rule", "message",
                                                   "message_source", "advice")},
                **{k: {"type": "array", "items": {"type": "string"}}
                   for k in ("reasons", "pods", "nodes", "evidence", "fix_commands")},
            },
        }},
    },
}
