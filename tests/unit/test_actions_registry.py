"""Every remediation action is registered, named after its file, and declares what it needs,
changes and calls (tests/deploy checks its IAM permissions against the template)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pullmedic.core.settings import load
from pullmedic.diagnosing.checks import CHECKS
from pullmedic.diagnosing.checks.base import CONFIRMED, CONTRADICTED, PASSED
from pullmedic.remediating import actions
from pullmedic.remediating.actions import ACTIONS

ACTION_DIR = Path(actions.__file__).parent
NOT_ACTIONS = {"__init__", "base"}


def test_every_action_file_is_registered() -> None:
    assert set(ACTIONS) == {p.stem for p in ACTION_DIR.glob("*.py")} - NOT_ACTIONS


@pytest.mark.parametrize("action_id", sorted(ACTIONS))
def test_metadata(action_id: str) -> None:
    module = ACTIONS[action_id]
    meta = module.META
    assert meta.id == action_id == module.__name__.rsplit(".", 1)[-1]
    assert meta.title and meta.changes and meta.calls and meta.undo and meta.causes
    assert meta.permissions or meta.kube_verbs, "an action that changes nothing is not an action"
    assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", p) for p in meta.permissions)
    assert all(re.fullmatch(r"[a-z]+ [a-z/]+", v) for v in meta.kube_verbs)
    for check, status in meta.evidence:
        assert check in CHECKS and status in {CONFIRMED, CONTRADICTED, PASSED}
        assert CHECKS[check].META.causes & meta.causes or status == PASSED
    assert callable(module.applies) and callable(module.plan) and callable(module.apply)


def test_remediation_is_off_unless_the_deployer_turns_it_on() -> None:
    settings = load({})
    assert (settings.remediation, settings.remediation_actions, settings.remediation_namespaces,
            settings.dockerhub_secret_arn) == ("off", None, None, None)


def test_a_wrong_mode_is_named() -> None:
    with pytest.raises(ValueError, match="PULLMEDIC_REMEDIATION must be one of off, approve, auto"):
        load({"PULLMEDIC_REMEDIATION": "yes"})


def test_remediation_settings() -> None:
    settings = load({"PULLMEDIC_REMEDIATION": "Auto",
                     "PULLMEDIC_REMEDIATION_ACTIONS": "retry_pods, grant_ecr_pull",
                     "PULLMEDIC_REMEDIATION_NAMESPACES": "team,web",
                     "PULLMEDIC_EVICTIONS_PER_WORKLOAD": "2"})
    assert settings.remediation == "auto"
    assert settings.remediation_actions == ("retry_pods", "grant_ecr_pull")
    assert settings.remediation_namespaces == frozenset({"team", "web"})
    assert (settings.evictions_per_workload, settings.evictions_per_run) == (2, 20)


def test_the_eviction_budget_is_shared_safely_by_threads() -> None:
    """Clusters are scanned side by side: the per-run eviction limit holds across threads."""
    from concurrent.futures import ThreadPoolExecutor

    from pullmedic.remediating.actions.base import Budget

    budget = Budget(20)
    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda _: budget.take(), range(200)))
    assert taken.count(True) == 20 and budget.evictions == 0
    budget.give_back()
    assert budget.take() and not budget.take()
