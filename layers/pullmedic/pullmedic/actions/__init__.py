"""The explicit registry of remediation actions: id (= module name) -> module with META,
applies(), plan() and apply() (the Action protocol). Every action is opt-in (PULLMEDIC_REMEDIATION)."""

from __future__ import annotations

from pullmedic.actions import grant_ecr_pull, pull_through_cache, retry_pods
from pullmedic.actions.base import Action

_MODULES: tuple[Action, ...] = (grant_ecr_pull, retry_pods, pull_through_cache)
ACTIONS: dict[str, Action] = {module.META.id: module for module in _MODULES}
