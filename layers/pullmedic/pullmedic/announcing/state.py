"""The state table in DynamoDB: open problems and silences (the client is injected).

Items (table key pk (S) + sk (S); TTL attribute expires_at, epoch seconds):

    open problem   pk "cluster#<cluster>"   sk "finding#<fingerprint>"
                   fingerprint, cluster, namespace, workload (Kind/name), container, image,
                   cause and digest (as last announced), first_seen, last_seen,
                   last_announced, announced_event (ISO 8601 / event name; absent until
                   announced), findings (compact JSON list of the findings as last seen,
                   codec.py, redacted), format (N: codec.VERSION of `findings`),
                   version (N, +1 per write), expires_at (last_seen + 30 days),
                   confirmed_scans (N: scans in a row that proved the cause, up to 2)
                   Items written before `format` hold `docs` instead of `findings`: the
                   findings' JSON documents (render's schema, v3); they read as findings.
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

from pullmedic.announcing.dynamo import attributes, conflict, query
from pullmedic.announcing.lifecycle import Change, Record, Silence
from pullmedic.announcing.outbox import new_item
from pullmedic.core import codec
from pullmedic.core.causes import Cause
from pullmedic.core.model import SILENCE_SCOPES, Evidence, Finding, ScanError, Workload
from pullmedic.core.redact import redact_tree
from pullmedic.core.times import iso
from pullmedic.core.vocab import Confidence, MessageSource, Severity
from pullmedic.reading.aws.errors import error_line

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
        committed = Committed()
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
                    committed.failures.append(f"state write for problem {_fp(change)}: {error_line(err)}")
                continue
            except BotoCoreError as err:
                committed.failures.append(f"state write for problem {_fp(change)}: {err}")
                continue
            committed.changes.append(change)
            committed.outbox += [i["sk"] for i in items]
        return committed

    def claim_errors(self, errors: Iterable[ScanError], now: datetime,
                     reminder: timedelta | None) -> Committed:
        """Claim the scan errors to announce (new ones, and old ones due for a reminder), each
        with its outbox entry in one transaction.

        One conditional put per error (pk `error#<cluster>`, sk `<stage>`): only the
        invocation whose write lands announces it; a cluster that stays unreadable is told
        again after the reminder interval, not on every scan (the ScanErrors alarm stays on).
        """
        committed = Committed()
        for error in errors:
            due = now - (reminder or _NEVER)
            item = attributes({"pk": f"error#{error.cluster}", "sk": error.stage,
                               "message": error.message, "announced_at": int(now.timestamp()),
                               "expires_at": int((now + (reminder or _ERROR_QUIET)
                                                  + timedelta(hours=1)).timestamp())})
            entry = new_item(error, now)
            # an expired item counts as gone, whenever the TTL gets to deleting it
            guard = {"ConditionExpression": "attribute_not_exists(pk) OR announced_at < :due"
                                            " OR expires_at < :now",
                     "ExpressionAttributeValues": attributes({":due": int(due.timestamp()),
                                                              ":now": int(now.timestamp())})}
            try:
                self._transact({"Put": {"TableName": self._table, "Item": item, **guard}}, [entry])
            except ClientError as err:
                if not conflict(err):
                    committed.failures.append(f"state write for the scan error of {error.cluster}: "
                                         f"{error_line(err)}")
                continue
            except BotoCoreError as err:
                committed.failures.append(f"state write for the scan error of {error.cluster}: {err}")
                continue
            committed.errors.append(error)
            committed.outbox.append(entry["sk"])
        return committed

    def add_silence(self, silence: Silence) -> None:
        """Store (or replace) a silence."""
        item = {"pk": f"silence#{silence.scope}", "sk": silence.value, "scope": silence.scope,
                "value": silence.value, "reason": silence.reason,
                "expires_at": int(silence.expires.timestamp()),
                "created_at": iso(silence.created, micro=True) if silence.created is not None else None}
        self._client.put_item(TableName=self._table, Item=attributes(item))

    def delete_silence(self, scope: str, value: str) -> bool:
        """Lift a silence; False when there was none."""
        old = self._client.delete_item(TableName=self._table, ReturnValues="ALL_OLD",
                                       Key=attributes({"pk": f"silence#{scope}", "sk": value}))
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
        puts = [{"Put": {"TableName": self._table, "Item": attributes(entry)}} for entry in entries]
        items = cast("list[TransactWriteItemTypeDef]", [claim, *puts])
        self._client.transact_write_items(TransactItems=items)

    def _query(self, pk: str, prefix: str | None = None) -> Iterator[dict[str, Any]]:
        condition = "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else "")
        values = {":pk": pk, ":prefix": prefix}
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


def _guard(expected: Record | None) -> dict[str, Any]:
    """The condition: the stored item is `expected` (same version), or there is none."""
    if expected is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {"ConditionExpression": "#version = :version", "ExpressionAttributeNames": _VERSION,
            "ExpressionAttributeValues": attributes({":version": expected.version})}


def _key(record: Record) -> dict[str, Any]:
    return attributes({"pk": f"cluster#{record.cluster}", "sk": f"finding#{record.fingerprint}"})


def _item(record: Record) -> dict[str, Any]:
    found = redact_tree([codec.encode(f) for f in record.findings])
    return {**_key(record), **attributes({
        "fingerprint": record.fingerprint, "cluster": record.cluster,
        "namespace": record.namespace, "workload": record.workload,
        "container": record.container, "image": record.image, "cause": record.cause,
        "digest": record.digest, "first_seen": iso(record.first_seen, micro=True),
        "last_seen": iso(record.last_seen, micro=True),
        "last_announced": iso(record.last_announced, micro=True) if record.last_announced else None,
        "announced_event": record.announced_event,
        "findings": json.dumps(found, separators=(",", ":"), ensure_ascii=False),
        "format": codec.VERSION, "version": record.version,
        "expires_at": int(record.expires.timestamp()), "confirmed_scans": record.confirmed_scans,
    })}


def _record(item: dict[str, Any]) -> Record:
    """A stored problem, in the current layout or the one before `format` (finding documents)."""
    found: tuple[Finding, ...]
    if "findings" in item:
        found = codec.decode(tuple[Finding, ...], json.loads(item["findings"]))
    else:
        found = tuple(_legacy_finding(doc) for doc in json.loads(item["docs"]))
    return Record(
        fingerprint=item["fingerprint"], cluster=item["cluster"], namespace=item["namespace"],
        workload=item["workload"], container=item["container"], image=item["image"],
        cause=item["cause"], digest=item["digest"], first_seen=_time(item["first_seen"]),
        last_seen=_time(item["last_seen"]),
        last_announced=_time(item["last_announced"]) if "last_announced" in item else None,
        announced_event=item.get("announced_event"), findings=found,
        version=item["version"], confirmed_scans=item.get("confirmed_scans", 0),
    )


def _legacy_finding(doc: dict[str, Any]) -> Finding:
    """The finding an item written before `format` describes with a finding document."""
    kind, _, name = doc["workload"].partition("/")
    return Finding(
        cluster=doc["cluster"], namespace=doc["namespace"],
        workload=Workload(kind, name, bool(doc.get("workload_inferred"))),
        container=doc["container"], container_type=doc.get("container_type", "regular"),
        image=doc["image"], cause=_cause(doc["cause"]), rule_id=doc.get("rule", ""),
        summary=doc.get("summary", ""),
        alternatives=tuple(_cause(a) for a in doc.get("alternatives", ())),
        message=doc.get("message", ""),
        message_source=MessageSource(doc.get("message_source", MessageSource.NONE)),
        reasons=tuple(doc.get("reasons", ())), pods=tuple(doc.get("pods", ())),
        pod_count=int(doc.get("pod_count", 0)), nodes=tuple(doc.get("nodes", ())),
        severity=Severity(doc.get("severity", Severity.MEDIUM)),
        confidence=Confidence(doc.get("confidence", Confidence.LIKELY)),
        advice=doc.get("advice", ""), evidence=tuple(doc.get("evidence", ())),
        fix_commands=tuple(doc.get("fix_commands", ())),
        message_cause=_cause(doc["message_cause"]) if doc.get("message_cause") else None,
        evidence_items=codec.decode(tuple[Evidence, ...], doc.get("evidence_items", [])),
        account=doc.get("account"), region=doc.get("region"),
    )


def _cause(value: str) -> Cause:
    """A stored cause name; one this version no longer knows reads as unknown."""
    try:
        return Cause(value)
    except ValueError:
        return Cause.UNKNOWN


def _silence(item: dict[str, Any]) -> Silence:
    return Silence(scope=item["scope"], value=item["value"],
                   expires=datetime.fromtimestamp(item["expires_at"], UTC),
                   reason=item.get("reason", ""),
                   created=_time(item["created_at"]) if "created_at" in item else None)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)
