"""Announce one scan through the outbox: claim, then publish what waits, then clear it.

1. Each planned change is written with its announcements' outbox entries in one
   transaction (state.py), and so is each scan error that is due; remediation results that
   no state write claims get entries of their own.
2. Every entry waiting in the outbox (this run's, and any an earlier run left) is published,
   one SNS message per scan (split by cluster only when too big).
3. An entry is deleted once SNS accepted its message; a failed publish leaves it for the
   next run. A failure anywhere is a line in `Delivery.failures`, never a lost announcement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.announcing.lifecycle import Change
from pullmedic.announcing.notify import Outgoing, sns_messages
from pullmedic.announcing.outbox import Entry, Outbox
from pullmedic.announcing.state import StateStore
from pullmedic.core.limits import ERROR_MAX, cut
from pullmedic.core.model import Announcement, ScanError
from pullmedic.reading.aws.errors import error_line

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class DeliveryIncomplete(Exception):
    """Some of a scan's announcements are not published yet; they wait in the outbox."""

    def __init__(self, failures: Sequence[str], summary: dict[str, Any]) -> None:
        super().__init__(f"{len(failures)} write(s) or publish(es) failed ({failures[0]}); nothing is "
                         "lost: what was not published waits in the state table's outbox and the next "
                         "run publishes it" if failures else "delivery incomplete")
        self.failures, self.summary = list(failures), summary


@dataclass
class Delivery:
    """What one announce step did."""

    announced: list[Announcement] = field(default_factory=list)  # published by this run
    errors: list[ScanError] = field(default_factory=list)  # published by this run
    message_ids: list[str] = field(default_factory=list)
    waiting: int = 0  # entries left in the outbox for the next run
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Announcer:
    """The state table, its outbox and the topic one scan announces through."""

    store: StateStore
    outbox: Outbox
    sns: SNSClient
    topic_arn: str
    cli_flags: str = ""

    def announce(self, changes: Sequence[Change], extra: Sequence[Announcement],
                 errors: Sequence[ScanError], clusters: Sequence[str], now: datetime,
                 reminder: timedelta | None) -> Delivery:
        """Claim `changes` and `errors`, queue `extra`, then publish everything waiting."""
        committed = self.store.commit(changes, now)
        claimed = self.store.claim_errors(errors, now, reminder)
        mine = committed.outbox + claimed.outbox
        delivery = Delivery(failures=committed.failures + claimed.failures)
        for item in extra:
            try:
                mine.append(self.outbox.put(item, now).key)
            except (ClientError, BotoCoreError) as err:
                delivery.failures.append(f"outbox write for a {item.event} announcement: {_why(err)}")
        try:
            entries, dropped = self.outbox.take(now, mine)
        except (ClientError, BotoCoreError) as err:
            delivery.failures.append(f"cannot read the outbox: {_why(err)}")
            delivery.waiting = len(mine)
            return delivery
        if dropped:
            delivery.failures.append(f"{len(dropped)} outbox entries could not be read and were dropped "
                                     f"(damaged, or written by another version): {', '.join(dropped[:5])}")
        self._publish(entries, clusters, delivery)
        return delivery

    def _publish(self, entries: list[Entry], clusters: Sequence[str], delivery: Delivery) -> None:
        by_item = {id(e.item): e for e in entries}
        announcements = [e.item for e in entries if isinstance(e.item, Announcement)]
        errors = [e.item for e in entries if isinstance(e.item, ScanError)]
        if not announcements and not errors:
            return
        for message in sns_messages(announcements, errors, clusters, self.cli_flags):
            covered = [by_item[id(x)] for x in (*message.announcements, *message.errors)]
            try:
                delivery.message_ids.append(self._send(message))
            except (ClientError, BotoCoreError) as err:
                delivery.failures.append(f"SNS publish of {len(covered)} announcement(s): {_why(err)}")
                delivery.waiting += len(covered)
                self.outbox.release(covered)
                continue
            delivery.announced += message.announcements
            delivery.errors += message.errors
            try:
                left = self.outbox.delete(covered)
            except (ClientError, BotoCoreError) as err:
                left = len(covered)
                delivery.failures.append(f"published, but the outbox could not be cleared ({_why(err)}): "
                                         "the next run publishes it again")
            delivery.waiting += left

    def _send(self, message: Outgoing) -> str:
        response = self.sns.publish(TopicArn=self.topic_arn, Subject=message.subject,
                                    Message=message.message, MessageStructure="json",
                                    MessageAttributes=message.attributes)
        return str(response["MessageId"])


def _why(err: Exception) -> str:
    """One line for an AWS failure."""
    if isinstance(err, ClientError):
        return cut(error_line(err), ERROR_MAX)
    return cut(str(err), ERROR_MAX)
