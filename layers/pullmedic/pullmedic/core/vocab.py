"""The closed sets of words pullmedic writes into its documents, state table and logs.

Each member is a `str` whose value is the exact word of the JSON documents and schemas, so
json.dumps, DynamoDB and SNS see the same text as before; the type checker sees the set.
"""

from __future__ import annotations

from enum import StrEnum


class Confidence(StrEnum):
    """How sure a finding's cause is: from the message alone, or what the checks found."""

    LIKELY = "likely"
    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"  # a check's evidence disagrees with the message


class Severity(StrEnum):
    """How bad a finding is (SEVERITY_ORDER in findings.py ranks them)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class VerdictStatus(StrEnum):
    """What one check found for one finding."""

    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"
    PASSED = "passed"
    UNAVAILABLE = "unavailable"


class Event(StrEnum):
    """Why a finding is announced: its lifecycle in the state table, or a fix's verification."""

    NEW = "new"
    CHANGED = "changed"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    REMEDIATED = "remediated"
    REMEDIATION_FAILED = "remediation_failed"


class OrderSource(StrEnum):
    """Who asked for a scan."""

    SCHEDULE = "schedule"  # the EventBridge schedule
    ON_DEMAND = "on-demand"  # an invocation with an on-demand event
    CLI = "cli"  # `pullmedic scan` with the caller's credentials
    FANOUT = "fanout"  # the Step Functions fan-out's aggregate step


class MessageSource(StrEnum):
    """Where a failure's message was read."""

    WAITING = "waiting"  # the container status's waiting message
    EVENT = "event"  # the newest kubelet event
    NONE = "none"  # neither was left


class StepOutcome(StrEnum):
    """What one API call of a remediation plan did."""

    DONE = "done"
    ALREADY_DONE = "already_done"
    REFUSED = "refused"
    SKIPPED = "skipped"
    FAILED = "failed"


class ResultStatus(StrEnum):
    """What became of one remediation action for one problem."""

    PLANNED = "planned"
    NOT_APPLICABLE = "not_applicable"
    REFUSED = "refused"
    ALREADY_DONE = "already_done"
    REMEDIATED = "remediated"
    REMEDIATION_FAILED = "remediation_failed"


class PlanStatus(StrEnum):
    """A stored plan's state in the remediation ledger."""

    PLANNED = "planned"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"


class Health(StrEnum):
    """A doctor line's verdict on one part of the deployment."""

    OK = "ok"
    PROBLEM = "problem"
    UNKNOWN = "unknown"  # could not be checked
