"""Template parameters a deployer meets: the deploy guide's table agrees with template.yaml, the role
pattern of remediation cannot be a bare wildcard, 0 reminder hours turns reminders off, no
parameter makes `sam deploy --guided` re-prompt, and `make deploy` asks three questions."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from typing import Any

import pytest
from deploy_support import REPO, SAM_BIN, condition_true, default_parameters, load_yaml
from parameter_table import HEADER, render

from pullmedic.core import settings

GUIDE = REPO / "docs/deploy.md"  # the deploy guide: the parameter table, `sam deploy --guided`
DEPLOY_SCRIPT = REPO / "functions/scan/deploy.py"


def guide_table() -> list[str]:
    lines = GUIDE.read_text().splitlines()
    assert HEADER[0] in lines, "docs/deploy.md has no parameter table (see tests/deploy/parameter_table.py)"
    start = lines.index(HEADER[0])
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_guide_parameter_table_matches_the_template(template: dict[str, Any]) -> None:
    expected, found = render(template), guide_table()
    names = [re.match(r"\| `(\w+)`", line) for line in found[2:]]
    documented = [m.group(1) for m in names if m]
    missing = [n for n in template["Parameters"] if n not in documented]
    unknown = [n for n in documented if n not in template["Parameters"]]
    assert not missing and not unknown, f"docs/deploy.md table: missing {missing}, unknown {unknown}"
    wrong = [f"guide:    {f}\ntemplate: {e}" for f, e in zip(found, expected, strict=True) if f != e]
    assert not wrong, ("docs/deploy.md's parameter table disagrees with template.yaml; replace it with "
                       "the output of `python tests/deploy/parameter_table.py`:\n" + "\n".join(wrong))


ACCOUNT_ROLE = "arn:aws:iam::123456789012:role/"
ROLE_PATTERNS = {
    # Name or path prefixes: accepted.
    ACCOUNT_ROLE + "eks-node-*": True,
    ACCOUNT_ROLE + "eks/nodes/*": True,
    ACCOUNT_ROLE + "*/eks-node-*": True,
    ACCOUNT_ROLE + "AmazonEKSNodeRole": True,
    "arn:aws-cn:iam::123456789012:role/eks-node-*": True,
    "": True,  # no IAM write permission at all
    # Every role of the account, or not a role ARN of one account: refused.
    "*": False,
    ACCOUNT_ROLE + "*": False,
    ACCOUNT_ROLE + "**": False,
    ACCOUNT_ROLE + "*/*": False,
    ACCOUNT_ROLE + "/*": False,
    ACCOUNT_ROLE: False,
    "arn:aws:iam::123456789012:*": False,
    "arn:aws:iam::*:role/eks-node-*": False,
    "role/eks-node-*": False,
}


@pytest.mark.parametrize("path", ["template.yaml", "functions/scan/member-account.yaml"])
@pytest.mark.parametrize(("value", "accepted"), ROLE_PATTERNS.items())
def test_remediation_role_pattern_names_a_prefix(path: str, value: str, accepted: bool) -> None:
    spec = load_yaml(REPO / path)["Parameters"]["RemediationRoleArnPattern"]
    assert bool(re.fullmatch(spec["AllowedPattern"], value)) is accepted, value


def test_zero_reminder_hours_turns_reminders_off(template: dict[str, Any],
                                                  translated: dict[str, Any]) -> None:
    spec = template["Parameters"]["ReminderHours"]
    assert spec["MinValue"] == 0
    variables = translated["default"]["Resources"]["ScanFunction"]["Properties"]["Environment"][
        "Variables"]
    assert variables["PULLMEDIC_REMINDER_HOURS"] == {"Ref": "ReminderHours"}
    assert settings.load({"PULLMEDIC_REMINDER_HOURS": "0"}).reminder is None
    assert settings.load({"PULLMEDIC_REMINDER_HOURS": str(spec["Default"])}).reminder == timedelta(
        hours=24)


def test_no_parameter_reprompts_in_a_guided_deploy(template: dict[str, Any]) -> None:
    """The SAM CLI asks a NoEcho parameter without a default, and asks again on an empty answer."""
    for name, spec in template["Parameters"].items():
        assert not (spec.get("NoEcho") and spec.get("Default", "") == ""), f"{name} re-prompts"


def test_guide_counts_the_guided_questions(template: dict[str, Any]) -> None:
    """`sam deploy --guided` asks Stack Name, AWS Region, each parameter, and six questions of
    its own (SAM CLI 1.170's guided_context: changes, IAM roles, rollback, save, file, env)."""
    count = len(template["Parameters"])
    assert (f"`sam deploy --guided` still works, and asks {count + 8} questions: Stack Name, AWS "
            f"Region, every one of the {count} parameters") in GUIDE.read_text()


def test_deploy_script_email_check_is_the_templates(template: dict[str, Any]) -> None:
    text = DEPLOY_SCRIPT.read_text()
    pattern = template["Parameters"]["AlertEmail"]["AllowedPattern"]
    assert f'EMAIL = re.compile(r"{pattern}")' in text


def first_deploy(answers: str) -> subprocess.CompletedProcess[str]:
    python = SAM_BIN / "python"
    return subprocess.run([str(python), str(DEPLOY_SCRIPT), "--dry-run", "--region", "eu-west-1"],
                          input=answers, capture_output=True, text=True, timeout=60, check=False,
                          cwd=REPO)


QUESTION_END = "): "


@pytest.mark.parametrize(("answers", "overrides"), [
    ("\n\n\n", 'AlertEmail="" ClusterNames="" SubnetIds="" SecurityGroupIds=""'),
    ("", 'AlertEmail="" ClusterNames="" SubnetIds="" SecurityGroupIds=""'),
    ("oncall@example.com\nall\n\n",
     'AlertEmail="oncall@example.com" ClusterNames="" SubnetIds="" SecurityGroupIds=""'),
    ("oncall@example.com\nprod-a, prod_b\nsubnet-0a1b2c3d,subnet-0a1b2c3e, sg-0a1b2c3d\n",
     'AlertEmail="oncall@example.com" ClusterNames="prod-a,prod_b" '
     'SubnetIds="subnet-0a1b2c3d,subnet-0a1b2c3e" SecurityGroupIds="sg-0a1b2c3d"'),
])
def test_first_deploy_asks_three_questions(answers: str, overrides: str) -> None:
    proc = first_deploy(answers)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(QUESTION_END) == 3
    build, deploy = [line for line in proc.stdout.splitlines() if line.startswith("$ ")]
    assert build == "$ sam build --region eu-west-1"
    assert deploy == ("$ sam deploy --region eu-west-1 --stack-name pullmedic --save-params "
                      f"--parameter-overrides '{overrides}'")
    every_cluster = "ClusterNames=\"\"" in overrides
    assert ("scan error naming the missing access entry" in proc.stdout) is every_cluster


def test_first_deploy_asks_again_on_a_wrong_answer_and_then_gives_up() -> None:
    proc = first_deploy("not-an-address\noncall@example.com\n\nsubnet-0a1b2c3d\n\n")
    assert proc.returncode == 0, proc.stderr
    assert "is not an e-mail address" in proc.stderr
    assert "give at least one subnet-... and one sg-... id together" in proc.stderr
    assert 'SubnetIds=""' in proc.stdout  # the empty retry stands
    proc = first_deploy("x\ny\nz\n")
    assert proc.returncode != 0
    assert "no valid answer" in proc.stderr


def test_registry_probe_is_on_where_the_function_reaches_the_internet(
        template: dict[str, Any], translated: dict[str, Any]) -> None:
    """auto (the default): on outside a VPC, off in private subnets (a NAT the template cannot
    see); on and off as said; the scan and fan-out functions read the same setting."""
    def probe(deployment: str) -> str:
        props = translated[deployment]["Resources"]
        scan = props["ScanFunction"]["Properties"]["Environment"]["Variables"]
        fan = props.get("FanOutFunction", {}).get("Properties", {}).get("Environment", {})
        assert fan in ({}, {"Variables": scan})
        return str(scan["PULLMEDIC_REGISTRY_PROBE"])

    assert template["Parameters"]["RegistryProbe"]["Default"] == "auto"
    assert (probe("default"), probe("vpc")) == ("on", "off")
    defaults = default_parameters(template)
    in_vpc = defaults | {"SubnetIds": ["subnet-0a1b2c3d4e5f60718"]}
    for values, expected in ((in_vpc | {"RegistryProbe": "on"}, True),
                             (defaults | {"RegistryProbe": "off"}, False)):
        assert condition_true(template, "ProbesRegistries", values) is expected
    assert settings.load({"PULLMEDIC_REGISTRY_PROBE": "on"}).registry.enabled
    assert not settings.load({"PULLMEDIC_REGISTRY_PROBE": "off"}).registry.enabled
