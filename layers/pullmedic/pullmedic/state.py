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

Texts are redacted and bounded where they are read (limits.clean, scan.scan_error), so items
store them as they are. One query per scanned cluster reads its open problems; three queries
read the silences.
Every write of a problem is conditional on the version read (or on the item not existing),
so of two overlapping scans only one claims, and announces, a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.dynamo import conflict, query
from pullmedic.dynamo import iso as _iso
from pullmedic.dynamo import n as _n
from pullmedic.dynamo import s as _s
from pullmedic.event import SILENCE_SCOPES
from pullmedic.lifecycle import Change, Record, Silence
from pullmedic.model import ScanError
from pullmedic.outbox import new_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_VERSION = {"#version": "version"}
_NEVER = timedelta(days=36500)  # reminders off: no reminder before the item expires
_ERROR_QUIET = timedelta(days=30)  # reminders off: an unchanged scan error is told once a month


class StateStore:
    """Reads and conditionally writes the state table."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client (the outbox shares it)."""
        return self._client

    @property
    def table(self) -> str:
        """The table's name."""
        return self._table

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

    def commit(self, changes: Iterable[Change], now: datetime) -> Committed:
        """Apply each change if the stored item is still the one it was planned from; a change
        that announces something writes its outbox entries in the same transaction.

        A lost race drops the change (and so its announcements): another invocation has
        already written that problem. A write that fails for another reason is reported and
        the others go on: an uncommitted change is planned again by the next scan.
        """
        done = Committed()
        for change in changes:
            items = [new_item(a, now) for a in change.announcements]
            try:
                if items:
                    self._transact(self._action(change.record, change.previous, _guard(change.previous)),
                                   items)
                else:
                    self._write(change.record, change.previous, _guard(change.previous))
            except ClientError as err:
                if not conflict(err):
                    done.failures.append(f"state write for problem {_fp(change)}: {_reason(err)}")
                continue
            except BotoCoreError as err:
                done.failures.append(f"state write for problem {_fp(change)}: {err}")
                continue
            done.changes.append(change)
            done.outbox += [i["sk"]["S"] for i in items]
        return done

    def claim_errors(self, errors: Iterable[ScanError], now: datetime,
                     reminder: timedelta | None) -> Committed:
        """Claim the scan errors to announce (new ones, and old ones due for a reminder), each
        with its outbox entry in one transaction.

        One conditional put per error (pk `error#<cluster>`, sk `<stage>`): only the
        invocation whose write lands announces it; a cluster that stays unreadable is told
        again after the reminder interval, not on every scan (the ScanErrors alarm stays on).
        """
        done = Committed()
        for error in errors:
            due = now - (reminder or _NEVER)
            item = {"pk": _s(f"error#{error.cluster}"), "sk": _s(error.stage),
                    "message": _s(error.message), "announced_at": _n(int(now.timestamp())),
                    "expires_at": _n(int((now + (reminder or _ERROR_QUIET)
                                          + timedelta(hours=1)).timestamp()))}
            entry = new_item(error, now)
            # an expired item counts as gone, whenever the TTL gets to deleting it
            guard = {"ConditionExpression": "attribute_not_exists(pk) OR announced_at < :due"
                                            " OR expires_at < :now",
                     "ExpressionAttributeValues": {":due": _n(int(due.timestamp())),
                                                   ":now": _n(int(now.timestamp()))}}
            try:
                self._transact({"Put": {"TableName": self._table, "Item": item, **guard}}, [entry])
            except ClientError as err:
                if not conflict(err):
                    done.failures.append(f"state write for the scan error of {error.cluster}: "
                                         f"{_reason(err)}")
                continue
            except BotoCoreError as err:
                done.failures.append(f"state write for the scan error of {error.cluster}: {err}")
                continue
            done.errors.append(error)
            done.outbox.append(entry["sk"]["S"])
        return done

    def add_silence(self, silence: Silence) -> None:
        """Store (or replace) a silence."""
        item = {"pk": _s(f"silence#{silence.scope}"), "sk": _s(silence.value),
                "scope": _s(silence.scope), "value": _s(silence.value),
                "reason": _s(silence.reason), "expires_at": _n(int(silence.expires.timestamp()))}
        if silence.created is not None:
            item["created_at"] = _s(_iso(silence.created))
        self._client.put_item(TableName=self._table, Item=item)

    def delete_silence(self, scope: str, value: str) -> bool:
        """Lift a silence; False when there was none."""
        old = self._client.delete_item(TableName=self._table, ReturnValues="ALL_OLD",
                                       Key={"pk": _s(f"silence#{scope}"), "sk": _s(value)})
        return "Attributes" in old

    def _write(self, record: Record | None, replacing: Record | None, guard: dict[str, Any]) -> None:
        """Put `record` (or delete `replacing` when record is None) under `guard`."""
        if record is not None:
            self._client.put_item(TableName=self._table, Item=_item(record), **guard)
        elif replacing is not None:
            self._client.delete_item(TableName=self._table, Key=_key(replacing), **guard)

    def _action(self, record: Record | None, replacing: Record | None,
                guard: dict[str, Any]) -> dict[str, Any]:
        """The transaction action of `_write`."""
        if record is not None:
            return {"Put": {"TableName": self._table, "Item": _item(record), **guard}}
        assert replacing is not None
        return {"Delete": {"TableName": self._table, "Key": _key(replacing), **guard}}

    def _transact(self, claim: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        """The conditional state write and its outbox entries, all or nothing."""
        puts = [{"Put": {"TableName": self._table, "Item": entry}} for entry in entries]
        items = cast("list[TransactWriteItemTypeDef]", [claim, *puts])
        self._client.transact_write_items(TransactItems=items)

    def _query(self, pk: str, prefix: str | None = None) -> Iterator[dict[str, Any]]:
        condition = "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else "")
        values = {":pk": _s(pk), **({":prefix": _s(prefix)} if prefix else {})}
        return query(self._client, self._table, condition, values)


@dataclass
class Committed:
    """What a commit wrote: the changes (or errors) claimed, the outbox keys it added, and a
    line for each write that failed for a reason other than a lost race."""

    changes: list[Change] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    outbox: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _fp(change: Change) -> str:
    record = change.record or change.previous
    return record.fingerprint if record else "?"


def _reason(err: ClientError) -> str:
    error = err.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()


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
        "container": _s(record.container), "image": _s(record.image), "cause": _s(record.cause),
        "digest": _s(record.digest), "first_seen": _s(_iso(record.first_seen)),
        "last_seen": _s(_iso(record.last_seen)),
        "docs": _s(json.dumps(list(record.docs), separators=(",", ":"), ensure_ascii=False)),
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
