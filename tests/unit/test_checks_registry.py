"""Every check is registered, named after its file, and declares permissions the bot has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pullmedic.core.causes import Cause
from pullmedic.core.permissions import READ_ACTIONS
from pullmedic.diagnosing import checks
from pullmedic.diagnosing.checks import CHECKS
from pullmedic.reading import deployment

CHECK_DIR = Path(checks.__file__).parent
NOT_CHECKS = {"__init__", "base", "facts"}


def test_every_check_file_is_registered() -> None:
    stems = {p.stem for p in CHECK_DIR.glob("*.py")} - NOT_CHECKS
    assert set(CHECKS) == stems


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_metadata(check_id: str) -> None:
    meta = CHECKS[check_id].META
    assert meta.id == check_id == getattr(CHECKS[check_id], "__name__", "").rsplit(".", 1)[-1]
    assert meta.causes and all(isinstance(c, Cause) for c in meta.causes)
    assert meta.severity in {"low", "medium", "high"}
    assert meta.title and meta.fix and meta.command  # permissions may be () for pure checks


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_aws_permissions_are_granted_to_the_function(check_id: str) -> None:
    aws = {p for p in CHECKS[check_id].META.permissions if ":" in p and not p.endswith(":get")}
    assert aws <= READ_ACTIONS, f"missing from permissions.READ_ACTIONS: {aws - READ_ACTIONS}"


def test_every_cause_but_never_pull_and_invalid_names_has_a_check() -> None:
    covered = {c for module in CHECKS.values() for c in module.META.causes}
    assert set(Cause) - covered == {Cause.INVALID_IMAGE_NAME, Cause.NEVER_PULL, Cause.NODE_DISK_FULL,
                                    Cause.TLS_ERROR, Cause.REGISTRY_SERVER_ERROR}


def doctor_reads() -> set[str]:
    """The AWS reads doctor makes, as its reader names them."""
    source = (Path(deployment.__file__)).read_text()
    return set(re.findall(r'guarded\("([a-z0-9]+:[A-Za-z]+)"', source))


def test_the_function_is_granted_only_what_the_scan_and_checks_call() -> None:
    needed = {"eks:ListClusters", "eks:DescribeCluster"}  # the scan itself (scan.py)
    needed |= {p for m in CHECKS.values() for p in m.META.permissions if not p.endswith(":get")}
    needed |= doctor_reads()  # doctor names each AWS read it makes: guarded("service:Action", ...)
    assert needed == READ_ACTIONS
