"""The one ISO 8601 formatter of pullmedic's timestamps (UTC, with Z)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime, micro: bool = False) -> str:
    """`moment` in UTC to the second (documents, JSON output) or, with `micro`, to the
    microsecond (stored times and sort keys, which order by it); a naive time is taken as UTC."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")
