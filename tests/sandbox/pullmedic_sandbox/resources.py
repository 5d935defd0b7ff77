"""The resource types the simulated EKS API serves, with what discovery says about each."""

from __future__ import annotations

from dataclasses import dataclass

#: Verbs served on every resource type (no watch, create or update: the sandbox has no
#: controllers, so an object written by a client would never be acted upon).
VERBS: tuple[str, ...] = ("delete", "get", "list", "patch")


@dataclass(frozen=True)
class ResourceType:
    """One served resource: URL plural, kind, API group/version, scope and discovery names."""

    plural: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``pods`` or ``deployments.apps``, as used in the server's messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        """``pod``, ``poddisruptionbudget``: the kind in lower case, as discovery reports it."""
        return self.kind.lower()


@dataclass(frozen=True)
class Subresource:
    """A served subresource: ``pods/eviction`` takes a ``policy/v1`` ``Eviction``."""

    parent: str
    name: str
    kind: str
    group: str
    version: str
    verbs: tuple[str, ...]


_ALL = ("all",)
RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("pods", "Pod", "", "v1", True, ("po",), _ALL),
    ResourceType("events", "Event", "", "v1", True, ("ev",)),
    ResourceType("nodes", "Node", "", "v1", False, ("no",)),
    ResourceType("namespaces", "Namespace", "", "v1", False, ("ns",)),
    ResourceType("serviceaccounts", "ServiceAccount", "", "v1", True, ("sa",)),
    ResourceType("secrets", "Secret", "", "v1", True),
    ResourceType("replicasets", "ReplicaSet", "apps", "v1", True, ("rs",), _ALL),
    ResourceType("deployments", "Deployment", "apps", "v1", True, ("deploy",), _ALL),
    ResourceType("statefulsets", "StatefulSet", "apps", "v1", True, ("sts",), _ALL),
    ResourceType("daemonsets", "DaemonSet", "apps", "v1", True, ("ds",), _ALL),
    ResourceType("jobs", "Job", "batch", "v1", True, (), _ALL),
    ResourceType("cronjobs", "CronJob", "batch", "v1", True, ("cj",), _ALL),
    ResourceType("poddisruptionbudgets", "PodDisruptionBudget", "policy", "v1", True, ("pdb",)),
)
SUBRESOURCES: tuple[Subresource, ...] = (
    Subresource("pods", "eviction", "Eviction", "policy", "v1", ("create",)),
)
BY_URL = {(rt.group, rt.version, rt.plural): rt for rt in RESOURCE_TYPES}
_BY_NAME = {name.lower(): rt for rt in RESOURCE_TYPES for name in (rt.kind, rt.plural)}


def resource_type(kind_or_plural: str) -> ResourceType:
    """Look a resource type up by kind (``Pod``) or plural (``pods``), case-insensitively."""
    try:
        return _BY_NAME[kind_or_plural.lower()]
    except KeyError:
        raise ValueError(f"unsupported kind {kind_or_plural!r}") from None


def group_versions() -> list[tuple[str, str]]:
    """The served ``(group, version)`` pairs, core (``""``) first, then groups by name."""
    return sorted({(rt.group, rt.version) for rt in RESOURCE_TYPES})
