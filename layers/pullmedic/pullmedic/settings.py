"""Deployment settings, read from the function's environment once per invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Settings:
    """The knobs a deployer sets (template parameters become these environment variables)."""

    region: str | None
    topic_arn: str | None
    clusters: tuple[str, ...] | None
    namespaces: frozenset[str] | None
    grace: timedelta
    page_size: int
    table: str | None = None  # the state table; None: no state, every finding is new
    reminder: timedelta | None = timedelta(hours=24)  # None: no reminders


def load(env: Mapping[str, str] = os.environ) -> Settings:
    """Settings from `env`; a malformed number is an error that names the variable."""
    clusters = _split(env.get("PULLMEDIC_CLUSTERS", ""))
    namespaces = _split(env.get("PULLMEDIC_NAMESPACES", ""))
    return Settings(
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        topic_arn=env.get("PULLMEDIC_TOPIC_ARN") or None,
        clusters=None if clusters in ((), ("*",)) else clusters,
        namespaces=frozenset(namespaces) or None,
        grace=timedelta(seconds=_int(env, "PULLMEDIC_GRACE_SECONDS", 120)),
        page_size=_int(env, "PULLMEDIC_PAGE_SIZE", 500),
        table=env.get("PULLMEDIC_TABLE", "").strip() or None,
        reminder=timedelta(hours=_int(env, "PULLMEDIC_REMINDER_HOURS", 24)) or None,
    )


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {raw!r}")
    return value
