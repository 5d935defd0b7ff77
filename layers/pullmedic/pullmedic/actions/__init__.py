"""The explicit registry of remediation actions: id (= module name) -> module with META,
applies(), plan() and apply(). Every action is opt-in (PULLMEDIC_REMEDIATION)."""

from __future__ import annotations

from types import ModuleType

from pullmedic.actions import grant_ecr_pull, pull_through_cache, retry_pods

ACTIONS: dict[str, ModuleType] = {module.META.id: module for module in (
    grant_ecr_pull, retry_pods, pull_through_cache,
)}
