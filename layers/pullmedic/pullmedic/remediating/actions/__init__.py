"""The explicit registry of remediation actions: id (= module name) -> module with META,
applies(), plan() and apply() (the Action protocol). Every action is opt-in (PULLMEDIC_REMEDIATION)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pullmedic.remediating.actions import grant_ecr_pull, pull_through_cache, retry_pods
from pullmedic.remediating.actions.base import Action

REGISTRY: tuple[Action, ...] = (grant_ecr_pull, retry_pods, pull_through_cache)
ACTIONS: Mapping[str, Action] = MappingProxyType({action.META.id: action for action in REGISTRY})
