"""Decide what to announce, from the stored state and this scan (pure: no I/O, no clock).

A problem is one fingerprint (cluster, namespace, workload, container, image). Its events:
    new       first seen, or first seen outside a silence
    changed   its causes, evidence or confidence (the digest) differ from the last announcement
    reminder  still failing `reminder` after the last announcement
    resolved  announced before, and absent from a successful scan that covered its cluster and
              namespace (a cluster that could not be scanned never resolves anything)
A silenced problem is still tracked but not announced; once the silence expires, what it held
back is announced. Each record counts the scans in a row whose evidence proved the cause
(confirmed_scans, up to CONFIRMED_STREAK): auto remediation waits for the streak.
Every announcement rides on one conditional write (a Change): only the invocation whose
write lands announces it, so overlapping scans cannot both announce it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pullmedic.core.codec import dumps
from pullmedic.core.limits import FINDINGS_PER_PROBLEM_MAX, STORED_DOCS_BYTES
from pullmedic.core.model import Announcement, Finding, Workload
from pullmedic.core.vocab import Confidence, Event
from pullmedic.diagnosing.findings import SEVERITY_ORDER, fingerprint

TOUCH = timedelta(hours=1)  # refresh last_seen (and the TTL) of quiet problems this often
RETENTION = timedelta(days=30)  # a record expires this long after its problem was last seen
CONFIRMED_STREAK = 2  # confirmed_scans counts up to this (auto remediation waits for it)


@dataclass(frozen=True)
class Record:
    """What the state table keeps about one open problem (state.py has the item layout)."""

    fingerprint: str
    cluster: str
    namespace: str
    workload: str  # Kind/name
    container: str
    image: str
    cause: str  # the primary cause, as last announced
    digest: str  # the evidence digest, as last announced
    first_seen: datetime
    last_seen: datetime
    last_announced: datetime | None
    announced_event: str | None  # None: never announced (silenced since it was first seen)
    findings: tuple[Finding, ...]  # the findings as last seen (worst first), for the resolved message
    version: int = 1
    confirmed_scans: int = 0  # scans in a row whose evidence proved the cause (up to CONFIRMED_STREAK)

    @property
    def expires(self) -> datetime:
        """When the table's TTL may remove the record."""
        return self.last_seen + RETENTION


@dataclass(frozen=True)
class Silence:
    """Hold back announcements for a fingerprint, a workload or a namespace until `expires`."""

    scope: str  # fingerprint | workload (cluster/namespace/Kind/name) | namespace (cluster/namespace)
    value: str
    expires: datetime
    reason: str = ""
    created: datetime | None = None

    def covers(self, record: Record, now: datetime) -> bool:
        """Whether this silence is active and names the record's problem."""
        return self.names(record.fingerprint, record.cluster, record.namespace, record.workload, now)

    def names(self, fp: str, cluster: str, namespace: str, workload: str, now: datetime) -> bool:
        """Whether this silence is active and names this problem (workload: Kind/name)."""
        names = {"fingerprint": fp, "workload": f"{cluster}/{namespace}/{workload}",
                 "namespace": f"{cluster}/{namespace}"}
        return self.expires > now and names.get(self.scope) == self.value


@dataclass(frozen=True)
class Scope:
    """What a scan read successfully: these clusters, in these namespaces (None: all)."""

    clusters: frozenset[str]
    namespaces: frozenset[str] | None = None

    def covers(self, record: Record) -> bool:
        """Whether the scan would have seen the record's problem if it were still failing."""
        return record.cluster in self.clusters and (
            self.namespaces is None or record.namespace in self.namespaces)


@dataclass(frozen=True)
class Change:
    """One conditional write, and the announcements it claims.

    `record` replaces `previous` (no previous: creates it; no record: deletes previous), only
    while the stored item is still at `previous.version` (or, to create, does not exist).
    """

    record: Record | None
    previous: Record | None
    announcements: tuple[Announcement, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The writes of one scan, with the announcements they carry."""

    changes: tuple[Change, ...]
    silenced: int  # problems whose announcement a silence held back
    problems: tuple[dict[str, Any], ...] = ()  # each problem this scan knows about (_problem_row)

    @property
    def announcements(self) -> list[Announcement]:
        """Everything the decision would announce, in write order."""
        return [a for change in self.changes for a in change.announcements]


def digest(findings: Sequence[Finding]) -> str:
    """A hash of each finding's cause, confidence and sorted evidence lines."""
    parts = sorted(json.dumps([f.cause.value, f.confidence, sorted(f.evidence)]) for f in findings)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def plan(records: Mapping[str, Record], findings: Sequence[Finding], scope: Scope, now: datetime,
         reminder: timedelta | None, silences: Sequence[Silence]) -> Decision:
    """The changes (and announcements) that take the stored state to this scan's."""
    problems: dict[str, list[Finding]] = {}
    for finding in sorted(findings, key=lambda f: (-SEVERITY_ORDER.index(f.severity), f.key)):
        group = problems.setdefault(fingerprint(finding), [])
        if len(group) < FINDINGS_PER_PROBLEM_MAX:  # the worst few causes of one container
            group.append(finding)
    changes: list[Change] = []
    silenced = 0
    for fp, group in problems.items():
        change, held = _open(fp, group, records.get(fp), now, reminder, silences)
        silenced += held
        if change is not None:
            changes.append(change)
    for fp, stored in records.items():
        if fp not in problems and scope.covers(stored):
            quiet = any(s.covers(stored, now) for s in silences)
            announce = stored.announced_event is not None and not quiet
            silenced += stored.announced_event is not None and quiet
            changes.append(Change(None, stored, tuple(
                Announcement(Event.RESOLVED, finding, stored.first_seen)
                for finding in stored.findings) if announce else ()))
    return Decision(tuple(changes), silenced, _rows(problems, records, scope, now, silences))


def _rows(problems: Mapping[str, list[Finding]], records: Mapping[str, Record], scope: Scope,
          now: datetime, silences: Sequence[Silence]) -> tuple[dict[str, Any], ...]:
    """Every problem the scan found, then every stored one it did not: resolved where the scan
    covered it, else still open (its cluster could not be read)."""
    rows = []
    for fp, group in problems.items():
        primary, stored = group[0], records.get(fp)
        rows.append(_problem_row(fp, primary.cluster, primary.namespace,
                                f"{primary.workload.kind}/{primary.workload.name}", primary.cause.value,
                                stored.first_seen if stored else now, silences, now))
    rows += [_problem_row(fp, r.cluster, r.namespace, r.workload, r.cause, r.first_seen, silences, now,
                         resolved=scope.covers(r)) for fp, r in records.items() if fp not in problems]
    return tuple(rows)


def _problem_row(fp: str, cluster: str, namespace: str, workload: str, cause: str, since: datetime,
                silences: Sequence[Silence], now: datetime, resolved: bool = False) -> dict[str, Any]:
    """One problem as the dashboard's table shows it: open (still failing, or in a cluster the
    scan could not read) or resolved by this scan. The handler logs one line per row."""
    return {"fingerprint": fp, "state": "resolved" if resolved else "open", "cluster": cluster,
            "namespace": namespace, "workload": workload, "cause": cause,
            "since": since.isoformat(timespec="seconds"),
            "silenced": any(s.names(fp, cluster, namespace, workload, now) for s in silences)}


def known_workloads(records: Mapping[str, Record], findings: Sequence[Finding]) -> list[Finding]:
    """Findings whose workload was only inferred from pod names (its owner could not be read)
    take the workload a stored problem of the same pod already knows: a guess never
    replaces a known name, so a read failure announces no false new or resolved problem."""
    known: dict[tuple[str, str, str, str, str], Workload] = {}
    for record in records.values():
        kind, _, name = record.workload.partition("/")
        for stored in record.findings:
            if not stored.workload.inferred:
                for pod in stored.pods:
                    known[(record.cluster, record.namespace, record.container, record.image, pod)] = \
                        Workload(kind, name)
    return [next((replace(f, workload=w) for pod in f.pods
                  if (w := known.get((f.cluster, f.namespace, f.container, f.image, pod)))), f)
            if f.workload.inferred else f for f in findings]


def _open(fp: str, group: list[Finding], stored: Record | None, now: datetime,
          reminder: timedelta | None, silences: Sequence[Silence]) -> tuple[Change | None, int]:
    """The change for a problem this scan found, and whether a silence held it back."""
    seen = _record(fp, group, stored, now)
    quiet = any(s.covers(seen, now) for s in silences)
    event = _event(stored, seen, now, reminder)
    if event is not None and not quiet:
        record = replace(seen, last_announced=now, announced_event=event)
        was = stored.cause if event == "changed" and stored and stored.cause != seen.cause else None
        return Change(record, stored, tuple(Announcement(event, f, seen.first_seen, was)
                                            for f in group)), 0
    if stored is None or now - stored.last_seen >= TOUCH or seen.confirmed_scans != stored.confirmed_scans:
        kept = seen if stored is None or stored.announced_event is None else replace(
            seen, cause=stored.cause, digest=stored.digest)
        return Change(kept, stored), int(event is not None)
    return None, int(event is not None)


def _record(fp: str, group: list[Finding], stored: Record | None, now: datetime) -> Record:
    """The record as this scan sees the problem (not yet announced); the worst finding leads."""
    primary = group[0]
    return Record(
        fingerprint=fp, cluster=primary.cluster, namespace=primary.namespace,
        workload=f"{primary.workload.kind}/{primary.workload.name}", container=primary.container,
        image=primary.image, cause=primary.cause.value, digest=digest(group),
        first_seen=stored.first_seen if stored else now, last_seen=now,
        last_announced=stored.last_announced if stored else None,
        announced_event=stored.announced_event if stored else None,
        findings=_kept(group), version=stored.version + 1 if stored else 1,
        confirmed_scans=_streak(group, stored))


def _kept(group: list[Finding]) -> tuple[Finding, ...]:
    """The group's findings, worst first, as many as fit STORED_DOCS_BYTES encoded (one at least).

    Their texts were redacted where they were read, so the encoding is what the state table
    stores (state.py redacts once more on the way in); measuring it needs no redaction pass,
    which was most of a large scan's CPU."""
    kept: list[Finding] = []
    used = 0
    for finding in group:
        used += len(dumps(finding).encode())
        if kept and used > STORED_DOCS_BYTES:
            break
        kept.append(finding)
    return tuple(kept)


def _streak(group: list[Finding], stored: Record | None) -> int:
    """Consecutive scans whose evidence proved (confirmed or disproved) the message's cause."""
    if all(f.confidence == Confidence.LIKELY for f in group):
        return 0
    return min((stored.confirmed_scans if stored else 0) + 1, CONFIRMED_STREAK)


def _event(stored: Record | None, seen: Record, now: datetime, reminder: timedelta | None) -> Event | None:
    if stored is None or stored.announced_event is None:
        return Event.NEW
    if stored.digest != seen.digest:
        return Event.CHANGED
    if reminder and stored.last_announced and now - stored.last_announced >= reminder:
        return Event.REMINDER
    return None
