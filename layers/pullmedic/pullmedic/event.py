"""Read the handler's input: an EventBridge schedule or an on-demand (console) event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ON_DEMAND_FIELDS = frozenset({"clusters", "namespaces", "dry_run"})


class InvalidEvent(ValueError):
    """The event cannot be used; the message names every wrong field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid event: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ScanOrder:
    """What one invocation should do."""

    source: str  # "schedule" or "on-demand"
    clusters: tuple[str, ...] | None
    namespaces: frozenset[str] | None
    dry_run: bool


def parse_event(event: Any) -> ScanOrder:
    """Validate `event`; raise InvalidEvent listing each problem."""
    if not isinstance(event, Mapping):
        raise InvalidEvent([f"the event must be a JSON object, not {type(event).__name__}"])
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return ScanOrder("schedule", None, None, False)
    problems = [f"unknown field {key!r} (expected one of: {', '.join(sorted(ON_DEMAND_FIELDS))})"
                for key in event if key not in ON_DEMAND_FIELDS]
    clusters = _names(event, "clusters", problems)
    namespaces = _names(event, "namespaces", problems)
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        problems.append(f"'dry_run' must be true or false, not {dry_run!r}")
    if problems:
        raise InvalidEvent(problems)
    return ScanOrder("on-demand", tuple(clusters) if clusters else None,
                     frozenset(namespaces) if namespaces else None, bool(dry_run))


def _names(event: Mapping[str, Any], key: str, problems: list[str]) -> list[str]:
    value = event.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{key!r} must be a list of non-empty names, not {value!r}")
        return []
    return [v.strip() for v in value]
