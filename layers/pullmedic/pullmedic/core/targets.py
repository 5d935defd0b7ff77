"""Scan targets: (account or "self", region, clusters or "all"), from the environment or an event."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pullmedic.core.limits import CLUSTER_NAME, CLUSTERS_MAX, cut

SELF = "self"
READER_ROLE = "pullmedic-reader"
TARGET_FIELDS = frozenset({"account", "region", "clusters", "role_arn"})
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


@dataclass(frozen=True)
class ScanTarget:
    """Where to scan: an account ("self": the function's own), a region (None: the function's),
    named clusters (None: every cluster there) and, optionally, the role to assume."""

    account: str = SELF
    region: str | None = None
    clusters: tuple[str, ...] | None = None
    role_arn: str | None = None

    def role(self, partition: str) -> str | None:
        """The role to assume for this target (None: the function's own credentials)."""
        if self.role_arn:
            return self.role_arn
        return None if self.account == SELF else f"arn:{partition}:iam::{self.account}:role/{READER_ROLE}"

    def label(self, cluster: str = "*") -> str:
        """How errors name a cluster of this target that has no name yet ("*": all of them)."""
        return cluster if self.account == SELF and self.region is None else \
            f"{self.account}/{self.region or '-'}/{cluster}"

    def doc(self) -> dict[str, Any]:
        """The JSON form parse() reads back."""
        doc: dict[str, Any] = {"account": self.account,
                               "clusters": list(self.clusters) if self.clusters else "all"}
        if self.region:
            doc["region"] = self.region
        if self.role_arn:
            doc["role_arn"] = self.role_arn
        return doc


class InvalidTargets(ValueError):
    """Targets that cannot be used; the message names each wrong field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse(value: Any, where: str = "targets") -> tuple[ScanTarget, ...]:
    """Validate a list of target objects; raise InvalidTargets naming each wrong field."""
    if not isinstance(value, list) or not value:
        raise InvalidTargets([f"{where!r} must be a non-empty list of target objects, "
                              f"not {cut(repr(value), 200)}"])
    if len(value) > CLUSTERS_MAX:
        raise InvalidTargets([f"{where!r} holds {len(value)} targets; at most {CLUSTERS_MAX}"])
    problems: list[str] = []
    targets = [_one(item, f"{where}[{i}]", problems) for i, item in enumerate(value)]
    if problems:
        raise InvalidTargets(problems)
    return tuple(t for t in targets if t is not None)


def parse_one(value: Any, where: str = "target") -> ScanTarget:
    """Validate one target object; raise InvalidTargets naming each wrong field."""
    problems: list[str] = []
    target = _one(value, where, problems)
    if target is None:
        raise InvalidTargets(problems)
    return target


def from_env(env: Mapping[str, str]) -> tuple[ScanTarget, ...] | None:
    """`PULLMEDIC_TARGETS` (a JSON list), or None when unset (the function's account and region)."""
    raw = env.get("PULLMEDIC_TARGETS", "").strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise InvalidTargets([f"PULLMEDIC_TARGETS is not JSON: {err}"]) from None
    return parse(value, "PULLMEDIC_TARGETS")


def _one(item: Any, where: str, problems: list[str]) -> ScanTarget | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where!r} must be an object, not {cut(repr(item), 200)}")
        return None
    before = len(problems)
    problems += [f"unknown field '{where}.{key}' (expected one of: {', '.join(sorted(TARGET_FIELDS))})"
                 for key in item if key not in TARGET_FIELDS]
    account, region = item.get("account", SELF), item.get("region")
    clusters, role_arn = item.get("clusters", "all"), item.get("role_arn")
    problems += _place_problems(account, region, where)
    problems += _clusters_problems(clusters, where)
    if role_arn is not None and (not isinstance(role_arn, str) or not _ROLE_ARN.match(role_arn)):
        problems.append(f"'{where}.role_arn' must be an IAM role ARN, not {cut(repr(role_arn), 200)}")
    if len(problems) > before:
        return None
    names = None if clusters == "all" else tuple(dict.fromkeys(c.strip() for c in clusters))
    return ScanTarget(account, region, names, role_arn)


def _place_problems(account: object, region: object, where: str) -> list[str]:
    """The account: 12 digits or "self"; the Region: none or a Region name."""
    problems = []
    if not isinstance(account, str) or not (account == SELF or _ACCOUNT.match(account)):
        problems.append(f"'{where}.account' must be 12 digits or \"self\", not {cut(repr(account), 200)}")
    if region is not None and (not isinstance(region, str) or not _REGION.match(region)):
        problems.append(f"'{where}.region' must be a Region name such as eu-west-1, "
                        f"not {cut(repr(region), 200)}")
    return problems


def _clusters_problems(clusters: object, where: str) -> list[str]:
    """The clusters: "all", or a non-empty list of at most CLUSTERS_MAX cluster names."""
    if clusters == "all":
        return []
    if not isinstance(clusters, list) or not clusters or not all(
            isinstance(c, str) and CLUSTER_NAME.match(c.strip()) for c in clusters):
        return [f"'{where}.clusters' must be \"all\" or a non-empty list of EKS cluster names, "
                f"not {cut(repr(clusters), 200)}"]
    if len(set(clusters)) > CLUSTERS_MAX:
        return [f"'{where}.clusters' names {len(set(clusters))}; at most {CLUSTERS_MAX}"]
    return []
