"""The state table in DynamoDB: open problems and silences (the client is injected).

Items (table key pk (S) + sk (S); TTL attribute expires_at, epoch seconds):

    open problem   pk "cluster#<cluster>"   sk "finding#<fingerprint>"
                   fingerprint, cluster, namespace, workload (Kind/name), container, image,
                   cause and digest (as last announced), first_seen, last_seen,
                   last_announced, announced_event (ISO 8601 / event name; absent until
                   announced), docs (compact JSON list of the finding documents, redacted),
                   version (N, +1 per write), expires_at (last_seen + 30 days),
                   confirmed_scans (N: scans in a row that proved the cause, up to 2)
    silence        pk "silence#<scope>"     sk "<value>" (scope: fingerprint, workload, namespace)
                   scope, value, reason, created_at, expires_at (the end of the silence)
    scan error     pk "error#<cluster>"     sk "<stage>"
                   message, announced_at (N), expires_at (the reminder interval, or 30 days
                   when reminders are off, past it)
    remediation    pk "plan#<fingerprint>", "audit#<fingerprint>", and sk "remediation#..."
                   under "cluster#<cluster>": plans, the audit trail and applied fixes
                   (ledger.py has their layout)

One query per scanned cluster reads its open problems; three queries read the silences.
Every write of a problem is conditional on the version read (or on the item not existing),
so of two overlapping scans only one claims, and announces, a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from pullmedic.dynamo import iso as _iso
from pullmedic.dynamo import n as _n
from pullmedic.dynamo import query
from pullmedic.dynamo import s as _s
from pullmedic.event import SILENCE_SCOPES
from pullmedic.lifecycle import Change, Record, Silence
from pullmedic.model import ScanError
from pullmedic.redact import redact

_VERSION = {"#version": "version"}
_NEVER = timedelta(days=36500)  # reminders off: no reminder before the item expires
_ERROR_QUIET = timedelta(days=30)  # reminders off: an unchanged scan error is told once a month


class StateStore:
    """Reads and conditionally writes the state table."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def records(self, clusters: Iterable[str]) -> dict[str, Record]:
        """The open problems of `clusters`, by fingerprint."""
        found: dict[str, Record] = {}
        for cluster in sorted(clusters):
            for item in self._query(f"cluster#{cluster}", "finding#"):
                record = _record(item)
                found[record.fingerprint] = record
        return found

    def silences(self) -> list[Silence]:
        """Every stored silence, expired ones included (the TTL removes them late)."""
        return [_silence(item) for scope in SILENCE_SCOPES for item in self._query(f"silence#{scope}")]

    def commit(self, changes: Iterable[Change]) -> list[Change]:
        """Apply each change if the stored item is still the one it was planned from.

        Returns the changes that were applied; a lost race drops the change (and so its
        announcements): another invocation has already written that problem.
        """
        return [change for change in changes
                if self._write(change.record, change.previous, _guard(change.previous))]

    def release(self, changes: Iterable[Change]) -> None:
        """Undo applied changes (after a failed publish) unless the items moved on since."""
        for change in changes:
            self._write(change.previous, change.record, _guard(change.record))

    def claim_errors(self, errors: Iterable[ScanError], now: datetime,
                     reminder: timedelta | None) -> list[ScanError]:
        """The scan errors to announce: new ones, and old ones due for a reminder.

        One conditional put per error (pk `error#<cluster>`, sk `<stage>`): only the
        invocation whose write lands announces it; a cluster that stays unreadable is told
        again after the reminder interval, not on every scan (the ScanErrors alarm stays on).
        """
        claimed = []
        for error in errors:
            due = now - (reminder or _NEVER)
            item = {"pk": _s(f"error#{error.cluster}"), "sk": _s(error.stage),
                    "message": _s(redact(error.message)), "announced_at": _n(int(now.timestamp())),
                    "expires_at": _n(int((now + (reminder or _ERROR_QUIET)
                                          + timedelta(hours=1)).timestamp()))}
            try:
                self._client.put_item(
                    TableName=self._table, Item=item,
                    # an expired item counts as gone, whenever the TTL gets to deleting it
                    ConditionExpression="attribute_not_exists(pk) OR announced_at < :due"
                                        " OR expires_at < :now",
                    ExpressionAttributeValues={":due": _n(int(due.timestamp())),
                                               ":now": _n(int(now.timestamp()))})
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    continue
                raise
            claimed.append(error)
        return claimed

    def add_silence(self, silence: Silence) -> None:
        """Store (or replace) a silence."""
        item = {"pk": _s(f"silence#{silence.scope}"), "sk": _s(silence.value),
                "scope": _s(silence.scope), "value": _s(silence.value),
                "reason": _s(silence.reason), "expires_at": _n(int(silence.expires.timestamp()))}
        if silence.created is not None:
            item["created_at"] = _s(_iso(silence.created))
        self._client.put_item(TableName=self._table, Item=item)

    def _write(self, record: Record | None, replacing: Record | None,
               guard: dict[str, Any]) -> bool:
        """Put `record` (or delete `replacing` when record is None) under `guard`."""
        try:
            if record is not None:
                self._client.put_item(TableName=self._table, Item=_item(record), **guard)
            elif replacing is not None:
                self._client.delete_item(TableName=self._table, Key=_key(replacing), **guard)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _query(self, pk: str, prefix: str | None = None) -> Iterator[dict[str, Any]]:
        condition = "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else "")
        values = {":pk": _s(pk), **({":prefix": _s(prefix)} if prefix else {})}
        return query(self._client, self._table, condition, values)


def _guard(expected: Record | None) -> dict[str, Any]:
    """The condition: the stored item is `expected` (same version), or there is none."""
    if expected is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {"ConditionExpression": "#version = :version", "ExpressionAttributeNames": _VERSION,
            "ExpressionAttributeValues": {":version": _n(expected.version)}}


def _key(record: Record) -> dict[str, Any]:
    return {"pk": _s(f"cluster#{record.cluster}"), "sk": _s(f"finding#{record.fingerprint}")}


def _item(record: Record) -> dict[str, Any]:
    item = {
        **_key(record), "fingerprint": _s(record.fingerprint), "cluster": _s(record.cluster),
        "namespace": _s(record.namespace), "workload": _s(record.workload),
        "container": _s(record.container), "image": _s(redact(record.image)), "cause": _s(record.cause),
        "digest": _s(record.digest), "first_seen": _s(_iso(record.first_seen)),
        "last_seen": _s(_iso(record.last_seen)),
        "docs": _s(json.dumps(list(record.docs), separators=(",", ":"))),
        "version": _n(record.version), "expires_at": _n(int(record.expires.timestamp())),
        "confirmed_scans": _n(record.confirmed_scans),
    }
    if record.last_announced is not None:
        item["last_announced"] = _s(_iso(record.last_announced))
    if record.announced_event is not None:
        item["announced_event"] = _s(record.announced_event)
    return item


def _record(item: dict[str, Any]) -> Record:
    text = {k: v["S"] for k, v in item.items() if "S" in v}
    return Record(
        fingerprint=text["fingerprint"], cluster=text["cluster"], namespace=text["namespace"],
        workload=text["workload"], container=text["container"], image=text["image"],
        cause=text["cause"], digest=text["digest"], first_seen=_time(text["first_seen"]),
        last_seen=_time(text["last_seen"]),
        last_announced=_time(text["last_announced"]) if "last_announced" in text else None,
        announced_event=text.get("announced_event"), docs=tuple(json.loads(text["docs"])),
        version=int(item["version"]["N"]),
        confirmed_scans=int(item.get("confirmed_scans", {}).get("N", 0)),
    )


def _silence(item: dict[str, Any]) -> Silence:
    return Silence(scope=item["scope"]["S"], value=item["value"]["S"],
                   expires=datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC),
                   reason=item.get("reason", {}).get("S", ""),
                   created=_time(item["created_at"]["S"]) if "created_at" in item else None)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
