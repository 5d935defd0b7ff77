"""The chat form of a publish: an Amazon Q Developer in chat applications custom notification.

The service renders an SNS message delivered to its https subscription when the message is
JSON of this form (anything else is not shown):

    {"version": "1.0", "source": "custom",
     "content": {"textType": "client-markdown", "title": ..., "description": ...,
                 "nextSteps": [...], "keywords": [...]},
     "metadata": {"threadId": ..., "summary": ..., "eventType": ...,
                  "relatedResources": [...], "additionalContext": {key: string}}}

`version` and `source` are fixed; `threadId` groups the updates of one thread. CHAT_SCHEMA is
that format as a JSON schema, with the length bounds pullmedic keeps to (kept small so that
chat clients show them whole). `threadId` is the narrowest cluster/namespace/Kind/name path
covering every finding in the publish: one workload's alerts thread together.

`additionalContext` names the `account` and `region` when every finding shares them. When a
finding offers remediation actions, `additionalContext` names the first such finding's
`fingerprint` and `action` and `enableCustomActions` is true: the stack's optional custom
actions ("Show fix plan", "Apply fix") read those two values from the notification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from pullmedic.announcing.render import counts, fix_command, kubeconfig, silence_command
from pullmedic.core.model import Announcement, ScanError
from pullmedic.core.redact import printable, redact
from pullmedic.diagnosing.findings import fingerprint

TITLE_MAX = 250
DESCRIPTION_MAX = 4000
STEPS, STEP_MAX = 5, 500
KEYWORDS, KEYWORD_MAX = 10, 75
THREAD_MAX = 128
SUMMARY_MAX = 500
EVENT_TYPE_MAX = 100
RESOURCES, RESOURCE_MAX = 5, 512
CONTEXT, CONTEXT_MAX = 10, 256
QUOTE_MAX = 300  # characters of a failure message or evidence line shown in chat
EVIDENCE_LINES = 3


def notification(announcements: Sequence[Announcement], errors: Sequence[ScanError],
                 omitted: int = 0, cli_flags: str = "") -> dict[str, Any]:
    """The custom notification for one publish: redacted, printable, within CHAT_SCHEMA's bounds."""
    paths = [_path(a) for a in announcements]
    clusters = list(dict.fromkeys([a.finding.cluster for a in announcements]
                                  + [e.cluster for e in errors]))
    events = list(dict.fromkeys(a.event for a in announcements))
    headline = _headline(announcements, errors, omitted)
    offered = [(fingerprint(a.finding), action) for a in announcements for action in a.actions]
    content: dict[str, Any] = {
        "textType": "client-markdown",
        "title": _cut(headline, TITLE_MAX),
        "description": _description(announcements, errors, omitted, cli_flags),
    }
    steps = _next_steps(announcements, offered, cli_flags)
    if steps:
        content["nextSteps"] = steps
    causes = list(dict.fromkeys(a.finding.cause.value for a in announcements))
    content["keywords"] = [_cut(k, KEYWORD_MAX) for k in
                           list(dict.fromkeys(["eks", "image-pull", *clusters, *causes, *events]))
                           [:KEYWORDS]]
    context = _context(announcements, clusters, offered, omitted)
    metadata: dict[str, Any] = {
        "threadId": _thread(paths, clusters),
        "summary": _cut(headline, SUMMARY_MAX),
        "eventType": f"pullmedic-{events[0].replace('_', '-') if events else 'scan-error'}",
        "relatedResources": [_cut(p, RESOURCE_MAX) for p in dict.fromkeys(paths)][:RESOURCES],
        "additionalContext": {k: _cut(v, CONTEXT_MAX) for k, v in context.items()},
    }
    if offered:
        metadata["enableCustomActions"] = True
    return {"version": "1.0", "source": "custom", "content": content, "metadata": metadata}


def _next_steps(announcements: Sequence[Announcement], offered: list[tuple[str, str]],
                cli_flags: str) -> list[str]:
    """The approval commands of the offered actions, then the fix commands, each short enough."""
    approvals = [command for fp, action in offered for command in (
        fix_command(fp, action, cli_flags), fix_command(fp, action, cli_flags, apply=True))]
    commands = (_clean(c) for a in announcements if a.event != "resolved"
                for c in (*kubeconfig(a.finding, STEPS), *a.finding.fix_commands))
    return [c for c in dict.fromkeys([*approvals, *commands]) if len(c) <= STEP_MAX][:STEPS]


def _context(announcements: Sequence[Announcement], clusters: list[str],
             offered: list[tuple[str, str]], omitted: int) -> dict[str, str]:
    """The additional context: clusters, counts, fingerprints; account and Region when shared."""
    context = {"clusters": ",".join(clusters), "events": counts(announcements) or "none",
               "fingerprints": ",".join(dict.fromkeys(fingerprint(a.finding) for a in announcements)),
               "omitted": str(omitted)}
    for key in ("account", "region"):  # said when every finding shares it
        values = {getattr(a.finding, key) for a in announcements}
        if len(values) == 1 and (value := values.pop()):
            context[key] = value
    if offered:
        context["fingerprint"], context["action"] = offered[0]
    return context


def _path(item: Announcement) -> str:
    f = item.finding
    return f"{f.cluster}/{f.namespace}/{f.workload.kind}/{f.workload.name}"


def _headline(announcements: Sequence[Announcement], errors: Sequence[ScanError], omitted: int) -> str:
    if len(announcements) == 1 and not omitted:
        item = announcements[0]
        return f"{item.event.upper()}: {item.finding.cause.value} in {_path(item)}"
    if announcements:
        more = f", {omitted} more" if omitted else ""
        return f"pullmedic: {counts(announcements)}{more} image pull problem(s)"
    return f"pullmedic: {len(errors)} cluster(s) could not be scanned"


def _thread(paths: list[str], clusters: list[str]) -> str:
    """The longest common cluster/namespace/Kind/name prefix of `paths` (hashed if too long)."""
    parts = [p.split("/") for p in paths] or [[c] for c in clusters] or [["pullmedic"]]
    common: list[str] = []
    for segment in zip(*parts, strict=False):
        if len(set(segment)) != 1:
            break
        common.append(segment[0])
    thread = _clean("/".join(common)) or "pullmedic"
    if len(thread) > THREAD_MAX:
        digest = hashlib.sha256(thread.encode()).hexdigest()[:12]
        thread = f"{thread[:THREAD_MAX - 13]}#{digest}"
    return thread


def _description(announcements: Sequence[Announcement], errors: Sequence[ScanError], omitted: int,
                 cli_flags: str) -> str:
    """One block per announcement while they fit, then how many more and what failed."""
    tail = [f"**Could not scan** {e.cluster} ({e.stage})" for e in errors]
    blocks: list[str] = []
    for number, item in enumerate(announcements):
        block = _block(item, cli_flags)
        more = len(announcements) - number - 1 + omitted
        reserve = _more(more) if more else ""
        if len("\n\n".join([*blocks, block, reserve, *tail])) > DESCRIPTION_MAX:
            blocks.append(_more(len(announcements) - number + omitted))
            break
        blocks.append(block)
    else:
        if omitted:
            blocks.append(_more(omitted))
    return _cut("\n\n".join([*blocks, *tail]), DESCRIPTION_MAX, multiline=True)


def _more(count: int) -> str:
    return f"…and {count} more problem(s): see the email or run `pullmedic scan`."


def _block(item: Announcement, cli_flags: str) -> str:
    f = item.finding
    head = f"**{item.event.upper()}** `{f.cause.value}` {_path(item)}"
    where = f"image `{f.image or '?'}`, container `{f.container}`"
    fix = item.remediation
    fixed = f"\n**Remediation:** `{fix.action}`: {_cut(fix.summary, QUOTE_MAX)}" if fix else ""
    if item.event == "resolved":
        return f"{head}\nResolved: {where} pulls again.{fixed}"
    if fix:
        undo = "".join(f"\n**Undo:** `{_cut(c, QUOTE_MAX)}`" for c in fix.undo)
        return f"{head}\n{where}.{fixed}{undo}"
    lines = [head, f"{where}, {f.pod_count} pod(s), severity {f.severity}, "
                   f"confidence {f.confidence}."]
    if item.previous_cause:
        lines.append(f"The cause was `{item.previous_cause}`.")
    if f.message:
        lines.append(f"> {_cut(f.message, QUOTE_MAX)}")
    lines += [f"• {_cut(e, QUOTE_MAX)}" for e in f.evidence[:EVIDENCE_LINES]]
    lines.append(f"**Fix:** {_cut(f.advice, QUOTE_MAX)}")
    lines += [f"**Remediate:** see the plan with `{fix_command(fingerprint(f), action, cli_flags)}`, "
              "then approve it with `--yes`" for action in item.actions]
    lines.append(f"**Silence:** `{silence_command(fingerprint(f), cli_flags)}`")
    return "\n".join(lines)


def _cut(value: str, limit: int, multiline: bool = False) -> str:
    """`value` redacted and printable (one line unless `multiline`), shortened to `limit` characters."""
    value = _clean(value, multiline)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _clean(value: str, multiline: bool = False) -> str:
    """`value` redacted, without control, bidi or zero-width characters."""
    return printable(redact(value), multiline)


def _bounded(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit}


CHAT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Amazon Q Developer in chat applications custom notification",
    "type": "object",
    "required": ["version", "source", "content"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": "1.0"},
        "source": {"const": "custom"},
        "id": {"type": "string"},
        "content": {
            "type": "object",
            "required": ["description"],
            "additionalProperties": False,
            "properties": {
                "textType": {"const": "client-markdown"},
                "title": _bounded(TITLE_MAX),
                "description": _bounded(DESCRIPTION_MAX),
                "nextSteps": {"type": "array", "maxItems": STEPS, "items": _bounded(STEP_MAX)},
                "keywords": {"type": "array", "maxItems": KEYWORDS, "items": _bounded(KEYWORD_MAX)},
            },
        },
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "threadId": _bounded(THREAD_MAX),
                "summary": _bounded(SUMMARY_MAX),
                "eventType": {**_bounded(EVENT_TYPE_MAX), "pattern": "^[A-Za-z0-9-]+$"},
                "relatedResources": {"type": "array", "maxItems": RESOURCES,
                                     "items": _bounded(RESOURCE_MAX)},
                "additionalContext": {"type": "object", "maxProperties": CONTEXT,
                                      "additionalProperties": {"type": "string",
                                                               "maxLength": CONTEXT_MAX}},
                "enableCustomActions": {"type": "boolean"},
            },
        },
    },
}
