"""Turn announcements into what people and machines read: subject, text, JSON, attributes (pure).

One SNS publish carries, with MessageStructure=json: `default` and `email` (plain text for a
phone), `sqs` and `lambda` (the JSON document below), `https` (an Amazon Q Developer in chat
applications custom notification, see chat.py).

The document, schema "pullmedic.findings/v3" (schemas/findings.json is its JSON schema):
    schema            "pullmedic.findings/v3"
    clusters          the clusters the scan read
    findings[]        one per announced finding, in the order of EVENTS, worst first:
      event           new | changed | reminder | resolved | remediated | remediation_failed
      first_seen      when pullmedic first saw the problem (ISO 8601, UTC)
      previous_cause  the cause announced before, for `changed` (else null)
      fingerprint     the problem's stable id: one (cluster, namespace, workload, container,
                      image); findings of one container with different causes share it
      account, region the cluster's (null when unknown)
      cluster, namespace, workload ("Kind/name"), workload_inferred, container,
      container_type, image, cause, alternatives, confidence, severity, summary, rule,
      message (redacted), message_source, reasons, pod_count, pods, nodes,
      evidence (redacted), advice, fix_commands, message_cause
      evidence_items  the evidence as data: [{check, status, text, resources: [AWS ids]}]
      actions         remediation actions available for it (empty unless remediation is on)
      remediation     {action, summary, by, undo} of a fix applied (or that did not help), else null
    errors[]          {cluster, stage, message}: clusters that could not be scanned
    omitted_findings  announced findings left out of this message to fit SNS's size limit
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pullmedic.core import console
from pullmedic.core.codec import encode
from pullmedic.core.model import Announcement, Finding, ScanError
from pullmedic.core.redact import printable, redact, redact_tree
from pullmedic.core.times import iso
from pullmedic.core.vocab import Confidence, Event, VerdictStatus
from pullmedic.diagnosing.findings import SEVERITY_ORDER, fingerprint

SCHEMA = "pullmedic.findings/v3"
SCHEMAS = Path(__file__).parent / "schemas"
LIFECYCLE_EVENTS = (Event.NEW, Event.CHANGED, Event.REMINDER, Event.RESOLVED)  # a state change's
EVENTS = (*LIFECYCLE_EVENTS, Event.REMEDIATED, Event.REMEDIATION_FAILED)
SUBJECT_MAX = 99
SILENCE_HOURS = 24
WIDTH = 100  # characters of a line of text (a phone shows about this many)
MESSAGE_SHOWN = 160  # characters of a failure message in the text (the JSON document has it whole)
EVIDENCE_SHOWN = 240  # characters of the evidence line in the text
COMMANDS_SHOWN = 3
_DECISIVE = (VerdictStatus.CONTRADICTED, VerdictStatus.CONFIRMED, VerdictStatus.UNAVAILABLE,
             VerdictStatus.PASSED)
_MARKS = {VerdictStatus.CONTRADICTED: "contradicts the message", VerdictStatus.PASSED: "ok"}


def finding_doc(finding: Finding) -> dict[str, Any]:
    """The machine-readable form of one finding (part of the versioned schema), redacted."""
    doc: dict[str, Any] = redact_tree({
        "fingerprint": fingerprint(finding), "cluster": finding.cluster,
        "account": finding.account, "region": finding.region, "namespace": finding.namespace,
        "workload": f"{finding.workload.kind}/{finding.workload.name}",
        "workload_inferred": finding.workload.inferred, "container": finding.container,
        "container_type": finding.container_type, "image": finding.image,
        "cause": finding.cause.value, "alternatives": [a.value for a in finding.alternatives],
        "confidence": finding.confidence, "severity": finding.severity,
        "summary": finding.summary, "rule": finding.rule_id, "message": finding.message,
        "message_source": finding.message_source, "reasons": list(finding.reasons),
        "pod_count": finding.pod_count, "pods": list(finding.pods), "nodes": list(finding.nodes),
        "evidence": list(finding.evidence), "evidence_items": encode(finding.evidence_items),
        "advice": finding.advice,
        "fix_commands": list(finding.fix_commands),
        "message_cause": finding.message_cause.value if finding.message_cause else None,
    })
    return doc


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
    """A plain-text body a person can read on a phone: a list of the problems first, then each
    one compact; prose wrapped at WIDTH (commands and links whole); redacted, printable."""
    lines: list[str] = []
    if announcements:
        total = len(announcements) + omitted
        more = f", {omitted} more" if omitted else ""
        lines.append(f"pullmedic: {total} image pull problem(s) to report ({counts(announcements)}{more})"
                     f"{_place(announcements)}.")
        lines += _cluster_links(announcements)
        lines += _kubeconfig_once(announcements)
        lines += ["", *(_index_line(n, a) for n, a in enumerate(announcements, 1))]
    if omitted:
        lines += [f"... and {omitted} more problem(s) not shown: run `pullmedic scan` for the full list."]
    for number, item in enumerate(announcements, 1):
        lines += ["", *_announcement_lines(number, item, cli_flags, _place([item]) != _place(announcements),
                                           _one_cluster(announcements) is None)]
    lines += _console_events(announcements)
    if errors:
        lines += ["", "Could not scan:"]
        lines += [line for e in errors
                  for line in _wrap("  - ", f"{e.cluster} ({e.stage}): {e.message}", "    ")]
    return "\n".join(printable(redact(line), multiline=False).rstrip() for line in lines).strip() + "\n"


def _place(announcements: Sequence[Announcement]) -> str:
    """', account A, Region R' when every announcement shares them (else empty)."""
    accounts = {a.finding.account for a in announcements}
    regions = {a.finding.region for a in announcements}
    account = next(iter(accounts)) if len(accounts) == 1 else None
    region = next(iter(regions)) if len(regions) == 1 else None
    return (f", account {account}" if account else "") + (f", Region {region}" if region else "")


def _one_cluster(announcements: Sequence[Announcement]) -> tuple[str, str] | None:
    """(cluster, Region) when every announcement is of the same cluster in a known Region."""
    places = {(a.finding.cluster, a.finding.region) for a in announcements}
    (cluster, region), = places if len(places) == 1 else ((None, None),)
    return (cluster, region) if cluster and region else None


def _cluster_links(announcements: Sequence[Announcement]) -> list[str]:
    """The console link of the one cluster all announcements are of (said once at the top)."""
    one = _one_cluster(announcements)
    return [f"{what}: {url}" for what, url in console.links(one[0], one[1], ())] if one else []


def _index_line(number: int, item: Announcement) -> str:
    """One line of the list at the top: number, event, severity, cause, where."""
    f = item.finding
    return _short(f"#{number} {item.event.upper()} {f.severity} {f.cause.value}: {_where(f)}", WIDTH)


def _where(f: Finding) -> str:
    return f"{f.cluster}/{f.namespace}/{f.workload.kind}/{f.workload.name}"


def _announcement_lines(number: int, item: Announcement, cli_flags: str, place: bool,
                        cluster_link: bool) -> list[str]:
    """One problem, compact: what, where, why, the decisive evidence, the fix, links, silence.
    `place`: say its account and Region; `cluster_link`: link its cluster (else said at the top)."""
    f, fp = item.finding, fingerprint(item.finding)
    lines = _heading_lines(number, item, place)
    if item.event == "resolved":
        first = f", first seen {_when(item.since)}" if item.since else ""
        lines += _wrap("   Resolved:  ", f"none of its pods fails to pull any more (problem {fp}{first}).")
        return lines + _fix_lines(item)
    if item.remediation:
        return [*lines, *_fix_lines(item), *_evidence_lines(f),
                *_wrap("   Problem:   ", f"{fp}{_since(item)}")]
    if item.previous_cause:
        lines += _wrap("   Changed:   ", f"the cause was {item.previous_cause}.")
    return [*lines, *_diagnosis_lines(f), *_remedy_lines(item, cli_flags, cluster_link),
            f"   Silence:   $ {silence_command(fp, cli_flags)}"]


def _heading_lines(number: int, item: Announcement, place: bool) -> list[str]:
    """What and where: the event, severity, cause and workload, the image, and (`place`) the
    account and Region."""
    f = item.finding
    failing = "" if item.event == "resolved" or item.remediation else \
        f", {f.pod_count} pod(s) failing{_since(item)}"
    lines = [_short(f"{number}. {item.event.upper()} [{f.severity.upper()}] {f.cause.value} - {_where(f)}",
                    WIDTH),
             *_wrap("   Image:     ", _image(f) + failing)]
    if place:
        lines += _wrap("   Where:     ", _place([item]).lstrip(", ") or "account and Region unknown")
    return lines


def _diagnosis_lines(f: Finding) -> list[str]:
    """Why (with the other possible causes unless confirmed), the message, the decisive evidence."""
    also = f"; could also be {', '.join(a.value for a in f.alternatives)}" \
        if f.alternatives and f.confidence != Confidence.CONFIRMED else ""
    return [
        *_wrap("   Why:       ", f"{f.summary} (confidence: {f.confidence}{also})"),
        *_wrap("   Message:   ", _tail(f.message, MESSAGE_SHOWN) if f.message
               else "(no failure message left: events expired)"),
        *_evidence_lines(f),
    ]


def _remedy_lines(item: Announcement, cli_flags: str, cluster_link: bool) -> list[str]:
    """The fix and its commands, the remediation commands, and the console links."""
    f, fp = item.finding, fingerprint(item.finding)
    lines = [*_wrap("   Fix:       ", f.advice), *_command_lines(f, cluster_link)]
    for action in item.actions:
        lines += [f"   Remediate: see the plan: $ {fix_command(fp, action, cli_flags)}",
                  f"              approve it:   $ {fix_command(fp, action, cli_flags, apply=True)}"]
    if f.region:
        shown = console.links(f.cluster if cluster_link else None, f.region,  # what the fix touches first
                              (decisive(f) or "", *f.fix_commands, *f.evidence, f.image))
        lines += [f"   {'Console:' if n == 0 else '':<11}{what}: {url}"
                  for n, (what, url) in enumerate(shown)]
    return lines


def _command_lines(f: Finding, context: bool) -> list[str]:
    """The fix commands shown (after the one that creates their kube context, with `context`)
    and how many more the JSON document holds."""
    lines = [f"     $ {_one_line(command)}"
             for command in (*(kubeconfig(f) if context else ()), *f.fix_commands[:COMMANDS_SHOWN])]
    if len(f.fix_commands) > COMMANDS_SHOWN:
        lines.append(f"     (+{len(f.fix_commands) - COMMANDS_SHOWN} more commands in the JSON document)")
    return lines


def kubeconfig(f: Finding, shown: int = COMMANDS_SHOWN) -> tuple[str, ...]:
    """The command that creates the kube context the kubectl fixes shown name (--context is the
    cluster's ARN, which is what `aws eks update-kubeconfig` names the context it writes)."""
    kubectl = any(c.startswith("kubectl ") for c in f.fix_commands[:shown])
    if not kubectl or not f.region:
        return ()
    return (f"aws eks update-kubeconfig --name {f.cluster.rsplit('/', 1)[-1]} --region {f.region}",)


def _kubeconfig_once(announcements: Sequence[Announcement]) -> list[str]:
    """For an alert about one cluster, the kube context command said once at the top."""
    if _one_cluster(announcements) is None:
        return []
    commands = dict.fromkeys(c for a in announcements if a.event != "resolved" and not a.remediation
                             for c in kubeconfig(a.finding))
    return [f"Kube context: $ {_one_line(c)}" for c in commands]


def _image(f: Finding) -> str:
    if f.container_type == "sandbox":
        return f"{f.image} (pod sandbox)" if f.image else "the pod sandbox"
    return f"{f.image or '(unknown)'} (container {f.container})"


def _since(item: Announcement) -> str:
    return f" since {_when(item.since)}" if item.since else ""


def _evidence_lines(f: Finding) -> list[str]:
    """The decisive evidence line, and how many more the JSON document holds."""
    line = decisive(f)
    if line is None:
        return []
    more = max(len(f.evidence), len(f.evidence_items)) - 1
    return _wrap("   Evidence:  ", _short(line, EVIDENCE_SHOWN)
                 + (f" (+{more} more in the JSON)" if more > 0 else ""))


def decisive(f: Finding) -> str | None:
    """The evidence line that says most: what contradicts or confirms the cause, else why it
    could not be proven, else what is fine."""
    if f.evidence_items:
        item = min(f.evidence_items, key=lambda e: _DECISIVE.index(e.status)
                   if e.status in _DECISIVE else len(_DECISIVE))
        return f"{_MARKS.get(item.status, item.status)} [{item.check}]: {item.text}"
    return f.evidence[0] if f.evidence else None


def _console_events(announcements: Sequence[Announcement]) -> list[str]:
    """How to silence (and approve fixes) from the Lambda console, said once."""
    shown = [a for a in announcements if a.event not in ("resolved",) and not a.remediation]
    if not shown:
        return []
    fps = list(dict.fromkeys(fingerprint(a.finding) for a in shown))
    which = "the test event" if len(fps) == 1 else "the test event of the problem"
    lines = ["", f"Without the CLI: run the function from the Lambda console with {which}",
             *(f"  {silence_event(fp)}" for fp in fps)]
    lines += [f"  {fix_event(fingerprint(a.finding), action)}" for a in shown for action in a.actions]
    return lines


def _one_line(value: str) -> str:
    """`value` redacted (before it is cut or wrapped, so no secret is split) on one line."""
    return " ".join(printable(redact(value), multiline=False).split())


def _wrap(first: str, value: str, rest: str = " " * 14) -> list[str]:
    """`first` + `value` wrapped at WIDTH; words longer than a line (a URL, an image) stay whole."""
    return textwrap.wrap(_one_line(value), WIDTH, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


def _short(value: str, limit: int) -> str:
    """`value` on one line, cut to `limit` characters (the JSON document has it whole)."""
    value = _one_line(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _tail(value: str, limit: int) -> str:
    """The end of `value` (where a kubelet message says what failed), from a word on, at most
    `limit` characters (the JSON document has it whole)."""
    value = _one_line(value)
    if len(value) <= limit:
        return value
    end = value[-(limit - 1):]
    return "…" + (end.split(" ", 1)[1] if " " in end[:40] else end)


def _fix_lines(item: Announcement) -> list[str]:
    """What the fix applied to the finding did, who approved it, and how to undo it."""
    fix = item.remediation
    if fix is None:
        return []
    by = f" (approved by {fix.by})" if fix.by else ""
    return [*_wrap("   Action:    ", f"{fix.action}{by}: {fix.summary}"),
            *(f"   Undo:      $ {_one_line(command)}" for command in fix.undo)]


def _iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


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


def load_schema(name: str) -> dict[str, Any]:
    """The JSON schema `name` (findings, summary, explain) shipped in pullmedic/announcing/schemas/."""
    return json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


DOCUMENT_SCHEMA = load_schema("findings")
