"""samconfig.toml and the RBAC manifests agree with the template."""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any

import pytest
import yaml
from deploy_support import REPO, SAMCONFIG, schedule_problem

RBAC = REPO / "functions/scan/rbac"


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG.read_text())


def overrides(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(text))


def test_default_environment(samconfig: dict[str, Any]) -> None:
    default = samconfig["default"]
    assert default["global"]["parameters"]["stack_name"]
    # Fn::ForEach must be expanded by every sam command (sam build fails without it).
    assert default["global"]["parameters"]["language_extensions"] is True
    assert default["build"]["parameters"] == {"cached": True, "parallel": True}
    assert default["validate"]["parameters"]["lint"] is True
    deploy = default["deploy"]["parameters"]
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert deploy["confirm_changeset"] is True and deploy["resolve_s3"] is True


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_parameter_overrides_are_valid(samconfig: dict[str, Any], template: dict[str, Any],
                                       environment: str) -> None:
    values = overrides(samconfig[environment]["deploy"]["parameters"]["parameter_overrides"])
    params = template["Parameters"]
    assert set(values) <= set(params), f"unknown parameters {set(values) - set(params)}"
    for name, value in values.items():
        spec = params[name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], (name, value)
        if "AllowedPattern" in spec and value:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
        if spec["Type"] == "Number":
            assert int(value) >= spec.get("MinValue", 0), (name, value)
    assert schedule_problem(values["ScheduleExpression"]) is None


def test_prod_environment_is_a_complete_example(samconfig: dict[str, Any]) -> None:
    prod = samconfig["prod"]
    assert prod["global"]["parameters"]["stack_name"] != samconfig["default"]["global"][
        "parameters"]["stack_name"]
    assert prod["global"]["parameters"]["language_extensions"] is True
    values = overrides(prod["deploy"]["parameters"]["parameter_overrides"])
    assert values["ClusterNames"], "the example lists clusters, so access entries are created"


def _documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((RBAC / name).read_text()) if d]


def _check_binding(documents: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
    (role,) = [d for d in documents if d["kind"] == "ClusterRole"]
    (binding,) = [d for d in documents if d["kind"] == "ClusterRoleBinding"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                  "kind": "ClusterRole", "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                    "name": group}]
    for rule in role["rules"]:
        for key in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[key], f"{role['metadata']['name']}: wildcard {key}"
    return role["rules"]


def test_rbac_readers_add_only_nodes(template: dict[str, Any]) -> None:
    group = template["Parameters"]["KubernetesGroup"]["Default"]
    rules = _check_binding(_documents("pullmedic-readers.yaml"), group)
    assert rules == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]


def test_rbac_secret_readers_is_separate_and_get_only(template: dict[str, Any]) -> None:
    group = template["Parameters"]["KubernetesGroup"]["Default"]
    rules = _check_binding(_documents("pullmedic-secret-readers.yaml"), group)
    assert rules == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
