"""Scenario files: the AWS resources and Kubernetes objects of one sandbox world (YAML).

Timestamps may be written relative to the moment the scenario is loaded:
`now`, `now-90s`, `now-5m`, `now-2h`, `now-1d`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

BUNDLED = Path(__file__).parent / "scenarios"
_RELATIVE = re.compile(r"^now(?:-(\d+)([smhd]))?$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class ClusterSpec:
    """One simulated EKS cluster and the Kubernetes objects in it."""

    name: str
    objects: list[dict[str, Any]]
    version: str = "1.31"
    deny: int | None = None  # answer every Kubernetes request with this status (401, 403...)
    account: str | None = None  # the AWS account of the cluster (None: the sandbox's own)
    # `deny` given as a list instead: the verbs refused with 403 (and reviewed as not allowed),
    # e.g. ["list nodes", "create pods/eviction in team"] (see pullmedic_sandbox.rbac)
    forbid: tuple[str, ...] = ()
    authentication_mode: str = "API_AND_CONFIG_MAP"  # describe-cluster's accessConfig
    # the endpoint's access settings, routed from where the function runs (see network.py)
    endpoint: dict[str, Any] | None = None


@dataclass(frozen=True)
class Scenario:
    """A named world: clusters, AWS resources, and what the scan should find."""

    name: str
    description: str
    region: str
    clusters: list[ClusterSpec]
    aws: dict[str, Any] = field(default_factory=dict)
    expect: list[dict[str, Any]] = field(default_factory=list)
    expect_absent: list[dict[str, Any]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # deployment settings the scenario assumes
    registry: dict[str, Any] | None = None  # a Docker Hub-like registry front (registry.py)


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the file and the reason."""


def load(path: Path, now: datetime | None = None) -> Scenario:
    """Read and validate one scenario file, resolving relative timestamps."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: {err}") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("clusters"), list):
        raise ScenarioError(f"{path}: needs a mapping with a 'clusters' list")
    raw = _resolve_times(raw, now or datetime.now(UTC))
    try:
        clusters = [_cluster(c) for c in raw["clusters"]]
    except (KeyError, TypeError, AttributeError) as err:
        raise ScenarioError(f"{path}: each of 'clusters' needs a 'name' and a list of 'objects' "
                            f"({type(err).__name__}: {err})") from err
    return Scenario(name=str(raw.get("name") or path.stem),
                    description=str(raw.get("description", "")).strip(),
                    region=str(raw.get("region", "us-east-2")), clusters=clusters,
                    aws=dict(raw.get("aws") or {}), expect=list(raw.get("expect") or []),
                    expect_absent=list(raw.get("expect_absent") or []),
                    env={str(k): str(v) for k, v in (raw.get("env") or {}).items()},
                    registry=raw.get("registry"))


def _cluster(raw: dict[str, Any]) -> ClusterSpec:
    deny = raw.get("deny")
    forbid = tuple(str(rule) for rule in deny) if isinstance(deny, list) else ()
    return ClusterSpec(raw["name"], list(raw.get("objects") or []), str(raw.get("version", "1.31")),
                       None if forbid else deny, raw.get("account"), forbid,
                       str(raw.get("authentication_mode", "API_AND_CONFIG_MAP")), raw.get("endpoint"))


def bundled() -> list[Path]:
    """The scenario files shipped with the sandbox, in name order."""
    return sorted(BUNDLED.glob("*.yaml"))


def _resolve_times(value: Any, now: datetime) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_times(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_times(v, now) for v in value]
    if isinstance(value, str) and (match := _RELATIVE.match(value)):
        delta = timedelta(**{_UNITS[match[2]]: int(match[1])}) if match[1] else timedelta()
        return (now - delta).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
