"""What one scan did, as a typed value; its JSON (schemas/summary.json) is what the handler
returns and the CLI prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from pullmedic.announcing.announce import Delivery
from pullmedic.announcing.render import announcement_doc, error_doc, finding_doc
from pullmedic.app.scan import ScanResult
from pullmedic.core.model import Announcement, Finding
from pullmedic.diagnosing.findings import fingerprint

SUMMARY_SCHEMA = "pullmedic.summary/v1"  # schemas/summary.json
_OPEN_EVENTS = ("new", "changed", "reminder")
_FANOUT_KEYS = ("finding_count", "failing_pods", "by_cause", "errors", "announced", "silenced",
                "published_message_ids")
_LOGGED_KEYS = ("clusters_scanned", "finding_count", "by_cause", "announced", "silenced", "duration_ms")


@dataclass(frozen=True)
class ScanSummary:
    """A scan's result and what was announced about it.

    `events` are the announcements made (or, on a dry run, the ones that would be made).
    """

    result: ScanResult
    events: tuple[Announcement, ...]
    delivery: Delivery
    silenced: int
    stateful: bool
    dry_run: bool
    duration_ms: int
    remediation: tuple[dict[str, Any], ...] = field(default=())
    problems: tuple[dict[str, Any], ...] = field(default=())  # each problem the scan knows about

    @property
    def announced(self) -> dict[str, int]:
        """How many announcements of each event were published."""
        return dict(Counter(a.event for a in self.events)) if self.delivery.message_ids else {}

    def narrowed(self, kept: list[Finding]) -> ScanSummary:
        """The summary of only the findings `kept` (its counts to match)."""
        return replace(self, result=replace(self.result, findings=list(kept)))

    def doc(self) -> dict[str, Any]:
        """The JSON (schemas/summary.json): counts first, then findings and errors; each finding
        carries its event, or null when there was nothing new to say about it."""
        result, delivery = self.result, self.delivery
        event_of = {fingerprint(a.finding): a.event for a in self.events if a.event in _OPEN_EVENTS}
        return {
            "schema": SUMMARY_SCHEMA,
            "clusters_scanned": result.clusters,
            "finding_count": len(result.findings),
            "failing_pods": sum(f.pod_count for f in result.findings),
            "by_cause": dict(sorted(Counter(f.cause.value for f in result.findings).items())),
            "errors": [error_doc(e) for e in result.errors],
            "state": "dynamodb" if self.stateful else "off",
            "announced": self.announced,
            "silenced": self.silenced,
            "published_message_id": delivery.message_ids[0] if delivery.message_ids else None,
            "published_message_ids": delivery.message_ids,
            "delivery": {"waiting": delivery.waiting, "failures": delivery.failures},
            "dry_run": self.dry_run,
            "duration_ms": self.duration_ms,
            "findings": [{**finding_doc(f), "event": event_of.get(fingerprint(f))}
                         for f in result.findings],
            "resolved": [announcement_doc(a) for a in self.events if a.event == "resolved"],
            "problems": list(self.problems),
            "remediation": list(self.remediation),
        }

    def counts(self) -> dict[str, Any]:
        """The fan-out step's output: the counts, no findings (a state's output is limited to 256 KB)."""
        doc = self.doc()
        return {k: doc[k] for k in _FANOUT_KEYS}

    def log_fields(self) -> dict[str, Any]:
        """The fields of the "scan finished" log line."""
        doc = self.doc()
        return {k: doc[k] for k in _LOGGED_KEYS}
