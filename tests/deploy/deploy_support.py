"""Helpers for the deployment tests: read template.yaml, expand its loop, run the SAM tools.

The SAM CLI, cfn-lint and the SAM translator live in .venv-sam (`make test` creates it); the
tests call them as subprocesses and fail, with their output, when they fail.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
SAMCONFIG = REPO / "samconfig.toml"
SAM_VENV = REPO / ".venv-sam"
SAM_BIN = SAM_VENV / "bin"
BUILD_DIR = REPO / ".aws-sam" / "build"
REGION = "us-east-2"
ACCOUNT = "123456789012"
FUNCTION_ID = "ScanFunction"
LAYER_ID = "PullmedicLayer"
PLACEHOLDER_CODE = "s3://pullmedic-placeholder/code.zip"
# Cluster names with the characters EKS allows besides letters and digits.
LISTED_CLUSTERS = ["prod-eu-1", "staging_2"]
# What a deployer who turns remediation on passes (with RemediationMode approve or auto).
REMEDIATION = {
    "RemediationRoleArnPattern": f"arn:aws:iam::{ACCOUNT}:role/eks-node-*",
    "DockerHubSecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
                          "ecr-pullthroughcache/docker-hub-AbCdEf",
    "RemediationNamespaces": ["team", "web"],
    "ChatbotCustomActions": "true",
}

# A deployment in private subnets (SubnetIds and SecurityGroupIds given).
VPC = {"SubnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"],
       "SecurityGroupIds": ["sg-0a1b2c3d4e5f60718"]}

# ---------------------------------------------------------------------------------------------
# Reading the template (CloudFormation short-form tags become their long form)

_FN_TAGS = ("Base64", "Cidr", "FindInMap", "GetAZs", "If", "ImportValue", "Join", "Select",
            "Split", "Sub", "Transform", "And", "Equals", "Not", "Or", "ToJsonString", "Length")


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that understands !Ref, !GetAtt, !Condition and the Fn:: short forms."""


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _add_tag(tag: str, build: Any) -> None:
    _CfnLoader.add_constructor(tag, lambda loader, node: build(_node_value(loader, node)))


_add_tag("!Ref", lambda v: {"Ref": v})
_add_tag("!Condition", lambda v: {"Condition": v})
_add_tag("!GetAtt", lambda v: {"Fn::GetAtt": v.split(".", 1) if isinstance(v, str) else v})
for _name in _FN_TAGS:
    _add_tag(f"!{_name}", lambda v, _n=_name: {f"Fn::{_n}": v})


def load_yaml(path: Path) -> Any:
    """A CloudFormation YAML file as plain Python data."""
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def load_template() -> dict[str, Any]:
    """template.yaml, as written."""
    return load_yaml(TEMPLATE)


def default_parameters(template: dict[str, Any]) -> dict[str, Any]:
    """Every parameter's default, lists split as CloudFormation splits them."""
    values: dict[str, Any] = {}
    for name, spec in template["Parameters"].items():
        default = spec.get("Default")
        if spec["Type"] == "CommaDelimitedList":
            values[name] = str(default or "").split(",")
        else:
            values[name] = str(default) if default is not None else None
    return values


# ---------------------------------------------------------------------------------------------
# AWS::LanguageExtensions: the part of it the template uses (Fn::ForEach over a parameter)


def expand_foreach(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Expand `Fn::ForEach::*` in Resources as CloudFormation does for these parameter values.

    `&{Id}` in the key keeps only the value's alphanumeric characters; `${Id}` and
    `{"Ref": Id}` in the body become the value.
    """
    out = copy.deepcopy(template)
    resources: dict[str, Any] = {}
    for key, value in out["Resources"].items():
        if not key.startswith("Fn::ForEach::"):
            resources[key] = value
            continue
        identifier, collection, body = value
        items = _resolve(collection, parameters)
        assert isinstance(items, list), f"{key}: the collection must resolve to a list"
        for item in items:
            for key_template, resource in body.items():
                logical_id = (key_template.replace("&{" + identifier + "}",
                                                   re.sub(r"[^A-Za-z0-9]", "", item))
                              .replace("${" + identifier + "}", item))
                assert re.fullmatch(r"[A-Za-z0-9]+", logical_id), logical_id
                assert logical_id not in resources, f"{key}: duplicate logical id {logical_id}"
                resources[logical_id] = _substitute(resource, identifier, item)
    out["Resources"] = resources
    return out


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    return value


def _substitute(node: Any, identifier: str, item: str) -> Any:
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return item
        return {k: _substitute(v, identifier, item) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, identifier, item) for v in node]
    if isinstance(node, str):
        return node.replace("${" + identifier + "}", item)
    return node


# ---------------------------------------------------------------------------------------------
# Conditions, evaluated for given parameter values


def condition_true(template: dict[str, Any], name: str, parameters: dict[str, Any]) -> bool:
    """Evaluate the template's condition `name` (Equals/Not/And/Or/Condition, Ref, Join)."""
    return bool(_evaluate(template, template["Conditions"][name], parameters))


def _evaluate(template: dict[str, Any], node: Any, parameters: dict[str, Any]) -> Any:
    if not isinstance(node, dict):
        return node
    ((fn, arg),) = node.items()
    if fn == "Ref":
        return parameters[arg]
    if fn == "Condition":
        return condition_true(template, arg, parameters)
    args = [_evaluate(template, a, parameters) for a in arg] if isinstance(arg, list) else arg
    if fn == "Fn::Equals":
        return str(args[0]) == str(args[1])
    if fn == "Fn::Not":
        return not args[0]
    if fn == "Fn::And":
        return all(args)
    if fn == "Fn::Or":
        return any(args)
    if fn == "Fn::Join":
        return args[0].join(_evaluate(template, args[1], parameters))
    raise AssertionError(f"condition function {fn} is not understood by this test")


NO_VALUE = {"Ref": "AWS::NoValue"}


def resolve_ifs(node: Any, template: dict[str, Any], parameters: dict[str, Any]) -> Any:
    """`node` with every Fn::If replaced by the branch its condition picks for these parameter
    values, and AWS::NoValue removed, as CloudFormation does (resource Conditions are kept)."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, when_true, when_false = node["Fn::If"]
            chosen = when_true if condition_true(template, name, parameters) else when_false
            return resolve_ifs(chosen, template, parameters)
        resolved = {key: resolve_ifs(value, template, parameters) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value != NO_VALUE}
    if isinstance(node, list):
        return [value for value in (resolve_ifs(v, template, parameters) for v in node)
                if value != NO_VALUE]
    return node


# ---------------------------------------------------------------------------------------------
# The SAM transform, offline


def for_translation(template: dict[str, Any]) -> dict[str, Any]:
    """A copy with CodeUri / ContentUri replaced by placeholder S3 URIs (what `sam package` does)."""
    out = copy.deepcopy(template)
    for resource in out["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in props:
                props[key] = PLACEHOLDER_CODE
    return out


_TRANSLATE = r"""
import json, sys
from samtranslator.translator.transform import transform
class NoManagedPolicies:
    def load(self):
        return {}
out = [transform(t, {}, NoManagedPolicies()) for t in json.load(sys.stdin)]
json.dump(out, sys.stdout)
"""


def translate(templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the SAM translator (the one SAM CLI uses) on each template; CloudFormation comes back."""
    env = tool_env() | {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    proc = run([str(SAM_BIN / "python"), "-c", _TRANSLATE], env=env, stdin=json.dumps(templates))
    return json.loads(proc.stdout)


# ---------------------------------------------------------------------------------------------
# Tools


def require_sam_venv() -> None:
    """Fail (not skip) with the fix when .venv-sam is missing."""
    if not (SAM_BIN / "sam").exists() or not (SAM_BIN / "cfn-lint").exists():
        pytest.fail(f"{SAM_VENV} is missing: run `make test` (it creates it) or `make deploy-check`")


def tool_env() -> dict[str, str]:
    """The environment for the SAM tools: no telemetry, no credentials, no stray Python paths."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PYTHON", "VIRTUAL_ENV", "SAM_"))}
    env["SAM_CLI_TELEMETRY"] = "0"
    env["PATH"] = os.pathsep.join([str(SAM_BIN), env.get("PATH", "")])
    return env


def run(args: list[str], *, env: dict[str, str] | None = None, stdin: str | None = None,
        timeout: float = 600, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run a command in the repository; fail the test with its output if it exits non-zero."""
    proc = subprocess.run(args, cwd=cwd, env=env if env is not None else tool_env(), input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join(args)}` exited {proc.returncode}\n--- stdout\n"
                    f"{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}", pytrace=False)
    return proc


def sam(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the SAM CLI of .venv-sam."""
    require_sam_venv()
    return run([str(SAM_BIN / "sam"), *args], timeout=timeout)


def cfn_lint_policies() -> dict[str, Any]:
    """cfn-lint's copy of the IAM service authorization data (actions and resource types)."""
    found = sorted(SAM_VENV.glob("lib/python3*/site-packages/cfnlint/data/AdditionalSpecs/"
                                 "Policies.json"))
    if not found:
        pytest.fail("cfn-lint's Policies.json is not in .venv-sam: run `make test`")
    return json.loads(found[0].read_text())


# ---------------------------------------------------------------------------------------------
# EventBridge schedule expressions, checked here because cfn-lint does not check them

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# name: (lowest, highest, names for 1.., extra item forms)
_CRON_FIELDS = (
    ("minutes", 0, 59, (), ()),
    ("hours", 0, 23, (), ()),
    ("day-of-month", 1, 31, (), (r"L", r"LW", r"\d{1,2}W")),
    ("month", 1, 12, _MONTHS, ()),
    ("day-of-week", 1, 7, _DAYS, (r"L", r"\d(L)", r"\d#[1-5]", r"(SUN|MON|TUE|WED|THU|FRI|SAT)L")),
    ("year", 1970, 2199, (), ()),
)


def schedule_problem(expression: str) -> str | None:
    """Why `expression` is not a valid EventBridge schedule expression (None: it is valid)."""
    rate = _RATE.fullmatch(expression)
    if rate:
        value, unit = rate.group(1), rate.group(2)
        if value != str(int(value)) or int(value) < 1:
            return f"{expression}: the rate value must be a whole number from 1, without leading 0"
        if (int(value) == 1) == unit.endswith("s"):
            return f"{expression}: use the singular unit with 1 and the plural otherwise"
        return None
    cron = _CRON.fullmatch(expression)
    if not cron:
        return f"{expression}: not rate(value unit) nor cron(fields)"
    fields = cron.group(1).split(" ")
    if len(fields) != 6:
        return f"{expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return f"{expression}: exactly one of day-of-month and day-of-week must be ?"
    for text, (name, low, high, names, extra) in zip(fields, _CRON_FIELDS, strict=True):
        if text == "?" and name in ("day-of-month", "day-of-week"):
            continue
        for item in text.split(","):
            if not _cron_item_ok(item, low, high, names, extra):
                return f"{expression}: {item!r} is not valid in the {name} field"
    return None


def _cron_item_ok(item: str, low: int, high: int, names: tuple[str, ...],
                  extra: tuple[str, ...]) -> bool:
    if any(re.fullmatch(form, item) for form in extra):
        return True
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        return False
    if base == "*":
        return True
    bounds = base.split("-", 1)
    return all(_cron_value_ok(b, low, high, names) for b in bounds) and all(bounds)


def _cron_value_ok(value: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if value in names:
        return True
    return value.isdigit() and low <= int(value) <= high
