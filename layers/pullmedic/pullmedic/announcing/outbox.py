"""The outbox: announcements and scan errors waiting to be published, in the state table.

An announcement is written here in the same transaction that claims it (the problem's state
write, or the scan error's record), before anything is published; it is deleted only after
SNS accepted the message that carries it. Whatever a failed or cut-short run leaves here is
published by the next run. Delivery is at least once: a duplicate happens only when the
function dies between a publish and the deletion of what it carried.

Items (see state.py for the table):

    outbox entry   pk "outbox"   sk "<ISO time>#<random id>"
                   kind (announcement | error), body (JSON, codec.py), format (N:
                   codec.VERSION of the body; absent in entries of older versions), created_at,
                   lease_until (N, epoch seconds: a run is publishing it until then),
                   expires_at (created_at + KEEP)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.announcing.dynamo import attributes, conflict, query
from pullmedic.core.codec import VERSION, dumps, loads
from pullmedic.core.model import Announcement, ScanError
from pullmedic.core.times import iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef

PARTITION = "outbox"
LEASE = timedelta(minutes=2)  # a run that dies while publishing holds its entries this long
KEEP = timedelta(days=14)  # an entry SNS never accepts is dropped after this (the alarm is on)
DELETE_BATCH = 25  # DynamoDB's BatchWriteItem limit


@dataclass(frozen=True)
class Entry:
    """One waiting announcement or scan error."""

    key: str  # the sort key
    item: Announcement | ScanError


def new_item(payload: Announcement | ScanError, now: datetime, lease: bool = True) -> dict[str, Any]:
    """The item of a new entry (plain values), leased to the run that writes it."""
    kind = "announcement" if isinstance(payload, Announcement) else "error"
    return {"pk": PARTITION, "sk": f"{iso(now, micro=True)}#{secrets.token_hex(8)}", "kind": kind,
            "body": dumps(payload), "format": VERSION, "created_at": iso(now, micro=True),
            "expires_at": int((now + KEEP).timestamp()),
            "lease_until": int((now + LEASE).timestamp()) if lease else None}


def entry_of(item: dict[str, Any]) -> Entry:
    """The entry an item (plain values) holds."""
    kind = Announcement if item["kind"] == "announcement" else ScanError
    return Entry(item["sk"], loads(kind, item["body"]))


class Outbox:
    """Reads, leases and clears the outbox partition (the client is injected)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client, self._table = client, table

    def put(self, payload: Announcement | ScanError, now: datetime) -> Entry:
        """Store an entry that no state write claims (e.g. what a remediation did)."""
        item = new_item(payload, now)
        self._client.put_item(TableName=self._table, Item=attributes(item))
        return Entry(item["sk"], payload)

    def take(self, now: datetime, mine: Iterable[str] = ()) -> tuple[list[Entry], list[str]]:
        """Every entry this run may publish: its own (`mine`, leased when written) and any
        other whose lease has run out, which it leases now (of two runs, one wins each).

        Also returns the keys of entries that cannot be read (damaged, or written by a version
        that stored something else): they are deleted, so that one never blocks the others.
        """
        own, taken, dropped = set(mine), [], []
        for item in query(self._client, self._table, "pk = :pk", {":pk": PARTITION}, consistent=True):
            key = item["sk"]
            if key in own or self._lease(key, now):
                try:
                    taken.append(entry_of(item))
                except (KeyError, TypeError, ValueError):
                    dropped.append(key)
        if dropped:
            self.delete([Entry(key, ScanError("*", "outbox", "")) for key in dropped])
        return taken, dropped

    def delete(self, entries: Sequence[Entry]) -> int:
        """Delete published entries (their message was accepted); return how many are left
        (they will be published again: the one duplicate the outbox allows)."""
        keys = [_key(e.key) for e in entries]
        left = 0
        for start in range(0, len(keys), DELETE_BATCH):
            requests: Sequence[WriteRequestTypeDef | WriteRequestOutputTypeDef] = [
                {"DeleteRequest": {"Key": key}} for key in keys[start:start + DELETE_BATCH]]
            for _ in range(5):
                answer = self._client.batch_write_item(RequestItems={self._table: requests})
                requests = (answer.get("UnprocessedItems") or {}).get(self._table) or []
                if not requests:
                    break
            left += len(requests)
        return left

    def release(self, entries: Sequence[Entry]) -> None:
        """Give entries back after a failed publish, so the next run takes them at once
        (best effort: an entry still leased is taken once its lease runs out)."""
        for entry in entries:
            try:
                self._client.update_item(
                    TableName=self._table, Key=_key(entry.key),
                    UpdateExpression="REMOVE lease_until", ConditionExpression="attribute_exists(pk)")
            except (ClientError, BotoCoreError):
                continue

    def _lease(self, key: str, now: datetime) -> bool:
        try:
            self._client.update_item(
                TableName=self._table, Key=_key(key),
                UpdateExpression="SET lease_until = :until",
                ConditionExpression="attribute_exists(pk) AND "
                                    "(attribute_not_exists(lease_until) OR lease_until < :now)",
                ExpressionAttributeValues=attributes({":until": int((now + LEASE).timestamp()),
                                                      ":now": int(now.timestamp())}))
        except ClientError as err:
            if conflict(err):
                return False
            raise
        return True


def _key(key: str) -> dict[str, Any]:
    return attributes({"pk": PARTITION, "sk": key})
