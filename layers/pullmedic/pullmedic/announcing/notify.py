"""Publish a scan's announcements to SNS: one message per scan, split only to fit SNS's limit."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from pullmedic.announcing.chat import notification
from pullmedic.announcing.render import attributes, document, ordered, subject, text
from pullmedic.core.model import Announcement, ScanError

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SNS_MESSAGE_MAX = 262_144  # bytes of message and attributes


class Outgoing(NamedTuple):
    """One SNS publish, how many announcements it shows and only counts, and all it covers."""

    subject: str
    message: str  # MessageStructure=json: default, email, sqs, lambda, https
    attributes: dict[str, Any]
    shown: int
    omitted: int
    announcements: tuple[Announcement, ...] = ()  # shown or counted
    errors: tuple[ScanError, ...] = ()  # shown or counted


def size(item: Outgoing) -> int:
    """Bytes SNS counts against its limit (the subject counted too, to be safe)."""
    parts = [item.subject, item.message] + [part for name, value in item.attributes.items()
                                            for part in (name, value["DataType"], value["StringValue"])]
    return sum(len(part.encode()) for part in parts)


def sns_messages(announcements: Sequence[Announcement], errors: Sequence[ScanError],
                 clusters: Sequence[str], cli_flags: str = "") -> list[Outgoing]:
    """One message, or one per cluster when one would be too big.

    A message that is still too big shows its most important announcements and counts the
    rest ("N more"): every announcement is either shown or counted.
    """
    items = ordered(announcements)
    whole = _fit(items, errors, clusters, cli_flags)
    involved = list(dict.fromkeys(a.finding.cluster for a in items))
    if not whole.omitted or len(involved) < 2:
        return [whole]
    out = []
    for number, cluster in enumerate(involved):
        own = [e for e in errors if e.cluster == cluster]
        if number == 0:  # errors of clusters without announcements ride in the first message
            own += [e for e in errors if e.cluster not in involved]
        out.append(_fit([a for a in items if a.finding.cluster == cluster], own, [cluster], cli_flags))
    return out


def _fit(items: list[Announcement], errors: Sequence[ScanError], clusters: Sequence[str],
         cli_flags: str) -> Outgoing:
    """The message showing as many errors, then as many of `items` (in order), as fit; the
    rest are counted."""
    shown_errors = _largest(len(errors), lambda k: _render([], 0, _errors_shown(errors, k), clusters,
                                                           cli_flags))
    visible = _errors_shown(errors, shown_errors)
    shown = _largest(len(items), lambda k: _render(items, k, visible, clusters, cli_flags))
    return _render(items, shown, visible, clusters, cli_flags)._replace(
        announcements=tuple(items), errors=tuple(errors))


def _largest(most: int, render: Callable[[int], Outgoing]) -> int:
    """The largest k <= most whose rendering fits SNS's limit (0 when none does)."""
    low, high, best = 1, most, 0
    while low <= high:
        middle = (low + high) // 2
        if size(render(middle)) <= SNS_MESSAGE_MAX:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def _errors_shown(errors: Sequence[ScanError], k: int) -> list[ScanError]:
    """The first k errors, and one line counting the others."""
    if k >= len(errors):
        return list(errors)
    return [*errors[:k], ScanError("*", "more", f"and {len(errors) - k} more scan errors, not shown to "
                                   "fit SNS's size limit: the function's log and summary list them all")]


def _render(items: list[Announcement], shown: int, errors: Sequence[ScanError],
            clusters: Sequence[str], cli_flags: str) -> Outgoing:
    visible, omitted = items[:shown], len(items) - shown
    body = text(visible, errors, omitted, cli_flags)
    doc = json.dumps(document(visible, errors, clusters, omitted), sort_keys=True)
    chat = json.dumps(notification(visible, errors, omitted, cli_flags))
    message = json.dumps({"default": body, "email": body, "sqs": doc, "lambda": doc, "https": chat})
    return Outgoing(subject(items, errors), message, attributes(items, errors), shown, omitted)


def publish(sns: SNSClient, topic_arn: str, announcements: Sequence[Announcement],
            errors: Sequence[ScanError], clusters: Sequence[str], cli_flags: str = "") -> list[str]:
    """Publish the announcements (and errors); return the SNS MessageIds ([]: nothing sent)."""
    if not announcements and not errors:
        return []
    ids = []
    for item in sns_messages(announcements, errors, clusters, cli_flags):
        response = sns.publish(TopicArn=topic_arn, Subject=item.subject, Message=item.message,
                               MessageStructure="json", MessageAttributes=item.attributes)
        ids.append(response["MessageId"])
    return ids
