"""Session fixtures for the deployment tests: the translated template and one `sam build`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    BUILD_DIR,
    LISTED_CLUSTERS,
    REGION,
    default_parameters,
    expand_foreach,
    for_translation,
    load_template,
    sam,
    translate,
)


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as written (short-form tags in their long form)."""
    return load_template()


@pytest.fixture(scope="session")
def parameter_sets(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The defaults (every cluster of the Region) and a deployment that lists its clusters."""
    defaults = default_parameters(template)
    return {"default": defaults, "listed": defaults | {"ClusterNames": LISTED_CLUSTERS}}


@pytest.fixture(scope="session")
def translated(template: dict[str, Any],
               parameter_sets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The CloudFormation that the two transforms make of the template, per parameter set."""
    names = list(parameter_sets)
    sources = [for_translation(expand_foreach(template, parameter_sets[n])) for n in names]
    return dict(zip(names, translate(sources), strict=True))


@pytest.fixture(scope="session")
def built() -> Path:
    """`sam build` once per session (samconfig.toml makes it cached and parallel)."""
    sam("build", "--region", REGION)
    return BUILD_DIR
