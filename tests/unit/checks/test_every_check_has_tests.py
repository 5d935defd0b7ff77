"""Every registered check has its own table of unit cases, named after it."""

from __future__ import annotations

from pathlib import Path

from pullmedic.diagnosing.checks import REGISTRY


def test_every_registered_check_has_its_unit_test_file() -> None:
    here = Path(__file__).parent
    missing = [c.META.id for c in REGISTRY if not (here / f"test_{c.META.id}.py").is_file()]
    assert not missing, f"add tests/unit/checks/test_<id>.py for {missing}"


def test_every_check_declares_the_facts_it_reads() -> None:
    reading = {c.META.id for c in REGISTRY if c.META.permissions}
    assert reading <= {c.META.id for c in REGISTRY if c.META.needs}
