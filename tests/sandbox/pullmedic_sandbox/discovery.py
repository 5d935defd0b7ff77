"""Discovery documents in kube-apiserver's shapes, built from :mod:`.resources`.

Two forms, as a 1.30+ server offers them:

* legacy: ``/api`` (``APIVersions``), ``/apis`` (``APIGroupList``) and one ``APIResourceList`` per
  group version (``/api/v1``, ``/apis/apps/v1``...);
* aggregated (``apidiscovery.k8s.io/v2`` ``APIGroupDiscoveryList``): all resources of ``/api`` or
  ``/apis`` in one document, sent when ``Accept`` asks for it (kubectl 1.30+ does).
"""

from __future__ import annotations

from typing import Any

from pullmedic_sandbox.resources import (
    RESOURCE_TYPES,
    SUBRESOURCES,
    VERBS,
    ResourceType,
    group_versions,
)

Obj = dict[str, Any]
AGGREGATED_GROUP, AGGREGATED_VERSION, AGGREGATED_KIND = (
    "apidiscovery.k8s.io",
    "v2",
    "APIGroupDiscoveryList",
)


def _api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def core_versions(server_address: str) -> Obj:
    """``/api``: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def group_list() -> Obj:
    """``/apis``: the named groups, each with its one (preferred) version."""
    groups = []
    for group, version in group_versions():
        if group:
            entry = {"groupVersion": f"{group}/{version}", "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(group: str, version: str) -> Obj | None:
    """``/api/v1`` or ``/apis/<group>/<version>``: an ``APIResourceList`` (None if not served)."""
    types = [rt for rt in RESOURCE_TYPES if (rt.group, rt.version) == (group, version)]
    if not types:
        return None
    resources: list[Obj] = []
    for rt in types:
        resources.append(_legacy_resource(rt))
        for sub in SUBRESOURCES:
            if sub.parent == rt.plural:
                resources.append(
                    {
                        "name": f"{rt.plural}/{sub.name}",
                        "singularName": rt.singular,
                        "namespaced": rt.namespaced,
                        "group": sub.group,
                        "version": sub.version,
                        "kind": sub.kind,
                        "verbs": list(sub.verbs),
                    }
                )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": _api_version(group, version),
        "resources": resources,
    }


def _legacy_resource(rt: ResourceType) -> Obj:
    """One ``APIResource`` (empty lists omitted, as Go's ``omitempty`` does)."""
    entry: Obj = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(VERBS),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def aggregated(core: bool) -> Obj:
    """The ``APIGroupDiscoveryList`` of ``/api`` (``core``) or of ``/apis``."""
    items = []
    for group, version in group_versions():
        if bool(group) == core:
            continue
        types = [rt for rt in RESOURCE_TYPES if (rt.group, rt.version) == (group, version)]
        metadata: Obj = {"name": group, "creationTimestamp": None} if group else {
            "creationTimestamp": None
        }
        items.append(
            {
                "metadata": metadata,
                "versions": [
                    {
                        "version": version,
                        "resources": [_aggregated_resource(rt) for rt in types],
                        "freshness": "Current",
                    }
                ],
            }
        )
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{AGGREGATED_VERSION}",
        "metadata": {},
        "items": items,
    }


def _aggregated_resource(rt: ResourceType) -> Obj:
    """One ``APIResourceDiscovery`` with its subresources."""
    entry: Obj = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(VERBS),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subresources = [
        {
            "subresource": sub.name,
            "responseKind": {"group": sub.group, "version": sub.version, "kind": sub.kind},
            "verbs": list(sub.verbs),
        }
        for sub in SUBRESOURCES
        if sub.parent == rt.plural
    ]
    if subresources:
        entry["subresources"] = subresources
    return entry
