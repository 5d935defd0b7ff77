"""Deployment settings, read from the function's environment once per invocation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from pullmedic.core.targets import ScanTarget, from_env

REMEDIATION_MODES = ("off", "approve", "auto")


@dataclass
class RegistrySettings:
    """Whether the function may ask registries (it needs the internet), and test overrides."""

    enabled: bool = False
    hosts: dict[str, str] = field(default_factory=dict)  # API host -> host:port; when set, only these
    ca_file: str | None = None  # the CA that signs an overriding host's certificate
    timeout: float = 3.0
    budget: int = 20  # distinct images asked per scan

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RegistrySettings:
        """PULLMEDIC_REGISTRY_PROBE=on, PULLMEDIC_REGISTRY_HOSTS=a=b,..., PULLMEDIC_REGISTRY_CA."""
        hosts = dict(part.strip().split("=", 1) for part in env.get("PULLMEDIC_REGISTRY_HOSTS", "")
                     .split(",") if "=" in part)
        return cls(enabled=env.get("PULLMEDIC_REGISTRY_PROBE", "off").strip().lower() == "on",
                   hosts=hosts, ca_file=env.get("PULLMEDIC_REGISTRY_CA", "").strip() or None)


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
    remediation: str = "off"  # off | approve | auto
    remediation_actions: tuple[str, ...] | None = None  # None: the mode's default
    remediation_namespaces: frozenset[str] | None = None  # None: every namespace
    dockerhub_secret_arn: str | None = None  # the credential of the Docker Hub cache rule
    evictions_per_workload: int = 5
    evictions_per_run: int = 20
    targets: tuple[ScanTarget, ...] | None = None  # None: the function's own account and region
    external_id: str | None = None  # the ExternalId of the member accounts' reader role
    fanout_threshold: int = 10  # a scheduled scan of more clusters runs as the state machine
    state_machine_arn: str | None = None  # None: never fan out
    read_secrets: bool = False  # read imagePullSecrets (type and registry hosts, never values)
    plan_valid: timedelta = timedelta(hours=1)  # how long a shown plan may be approved (once)
    registry: RegistrySettings = field(default_factory=RegistrySettings)  # asking public registries
    subnet_ids: tuple[str, ...] = ()  # the function's subnets (SubnetIds); (): outside any VPC
    security_group_ids: tuple[str, ...] = ()  # the function's security groups (SecurityGroupIds)


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
        read_secrets=env.get("PULLMEDIC_READ_SECRETS", "false").strip().lower() == "true",
        table=env.get("PULLMEDIC_TABLE", "").strip() or None,
        reminder=timedelta(hours=_int(env, "PULLMEDIC_REMINDER_HOURS", 24)) or None,
        remediation=_mode(env.get("PULLMEDIC_REMEDIATION", "")),
        remediation_actions=_split(env["PULLMEDIC_REMEDIATION_ACTIONS"])
        if env.get("PULLMEDIC_REMEDIATION_ACTIONS", "").strip() else None,
        remediation_namespaces=frozenset(_split(env.get("PULLMEDIC_REMEDIATION_NAMESPACES", "")))
        or None,
        dockerhub_secret_arn=env.get("PULLMEDIC_DOCKERHUB_SECRET_ARN", "").strip() or None,
        evictions_per_workload=_int(env, "PULLMEDIC_EVICTIONS_PER_WORKLOAD", 5),
        evictions_per_run=_int(env, "PULLMEDIC_EVICTIONS_PER_RUN", 20),
        targets=from_env(env),
        external_id=env.get("PULLMEDIC_EXTERNAL_ID", "").strip() or None,
        fanout_threshold=_int(env, "PULLMEDIC_FANOUT_THRESHOLD", 10),
        state_machine_arn=env.get("PULLMEDIC_STATE_MACHINE_ARN", "").strip() or None,
        plan_valid=timedelta(minutes=_int(env, "PULLMEDIC_PLAN_VALID_MINUTES", 60) or 60),
        registry=RegistrySettings.from_env(env),
        subnet_ids=_split(env.get("PULLMEDIC_SUBNET_IDS", "")),
        security_group_ids=_split(env.get("PULLMEDIC_SECURITY_GROUP_IDS", "")),
    )


def _mode(raw: str) -> str:
    mode = raw.strip().lower() or "off"
    if mode not in REMEDIATION_MODES:
        raise ValueError(f"PULLMEDIC_REMEDIATION must be one of {', '.join(REMEDIATION_MODES)}, "
                         f"not {raw!r}")
    return mode


def _split(value: str) -> tuple[str, ...]:
    """The comma-separated parts of `value`, each once, in order."""
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


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
