"""Session fixtures for the deployment tests: the translated template and one `sam build`."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    BUILD_DIR,
    LISTED_CLUSTERS,
    REGION,
    REMEDIATION,
    VPC,
    default_parameters,
    expand_foreach,
    for_translation,
    load_template,
    resolve_ifs,
    sam,
    translate,
)


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as written (short-form tags in their long form)."""
    return load_template()


@pytest.fixture(scope="session")
def parameter_sets(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The defaults (every cluster of the Region), a deployment that lists its clusters, one
    in private subnets, and one with every remediation parameter given, per RemediationMode."""
    defaults = default_parameters(template)
    remediation = defaults | REMEDIATION
    return {"default": defaults, "listed": defaults | {"ClusterNames": LISTED_CLUSTERS},
            "vpc": defaults | VPC,
            "off": remediation, "approve": remediation | {"RemediationMode": "approve"},
            "auto": remediation | {"RemediationMode": "auto"}}


@pytest.fixture(scope="session")
def translated(template: dict[str, Any],
               parameter_sets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The CloudFormation that the two transforms make of the template, per parameter set,
    with each Fn::If resolved for that set's values."""
    names = list(parameter_sets)
    sources = [for_translation(expand_foreach(template, parameter_sets[n])) for n in names]
    return {name: resolve_ifs(cfn, template, parameter_sets[name])
            for name, cfn in zip(names, translate(sources), strict=True)}


@pytest.fixture(scope="session")
def built() -> Path:
    """`sam build` once per test run (samconfig.toml makes it cached and parallel). Under
    pytest-xdist each worker has a session of its own: the first builds, under a lock, and the
    others use its build (a second build would delete files the first worker is reading)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))
    BUILD_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(BUILD_DIR.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = BUILD_DIR.parent / ".built-by"
        if not stamp.is_file() or stamp.read_text() != run:
            stamp.unlink(missing_ok=True)
            sam("build", "--region", REGION)
            stamp.write_text(run)
    return BUILD_DIR
