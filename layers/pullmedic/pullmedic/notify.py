"""Publish a scan's findings to SNS: one message per scan, none when there is nothing to say."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pullmedic.model import Finding, ScanError
from pullmedic.render import attributes, sns_message


def publish(sns: Any, topic_arn: str, findings: Sequence[Finding], errors: Sequence[ScanError],
            clusters: Sequence[str]) -> str | None:
    """Publish when there are findings or errors; return the SNS MessageId (None: nothing sent)."""
    if not findings and not errors:
        return None
    subject, message = sns_message(findings, errors, clusters)
    response = sns.publish(TopicArn=topic_arn, Subject=subject, Message=message,
                           MessageStructure="json",
                           MessageAttributes=attributes(findings, errors))
    return response["MessageId"]
