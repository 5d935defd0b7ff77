"""A first deploy that asks three questions: `make deploy` (or `python functions/scan/deploy.py`).

It asks for the alert e-mail, the clusters (Enter: every cluster of the Region) and, optionally,
the private subnets and security groups; every other parameter keeps its template default (change
it later with `sam deploy --parameter-overrides` or in samconfig.toml). Then it runs `sam build`
and `sam deploy --save-params`, so a later plain `sam deploy` repeats the answers. `sam deploy`
shows the change set and asks once more before it changes anything.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[2]
# The template's AlertEmail AllowedPattern (tests/deploy checks that they agree).
EMAIL = re.compile(r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
CLUSTER = re.compile(r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$")  # EKS cluster name rules
NETWORK_ID = re.compile(r"^(subnet|sg)-[0-9a-f]{8,17}$")
ATTEMPTS = 3


@dataclass(frozen=True)
class Answers:
    """What the three questions decide; empty means the template's default."""

    alert_email: str = ""
    clusters: tuple[str, ...] = ()  # (): every cluster of the Region
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()

    def overrides(self) -> dict[str, str]:
        """The template parameters the answers set, empty ones too: an empty answer must replace
        what an earlier deploy saved in samconfig.toml."""
        return {"AlertEmail": self.alert_email, "ClusterNames": ",".join(self.clusters),
                "SubnetIds": ",".join(self.subnets),
                "SecurityGroupIds": ",".join(self.security_groups)}


def parse_email(text: str) -> str:
    """The alert address, or '' for none."""
    value = text.strip()
    if not EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an e-mail address (name@example.com), or Enter for none")
    return value


def parse_clusters(text: str) -> tuple[str, ...]:
    """Cluster names; () for every cluster of the Region ('', '*' or 'all')."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if names in ((), ("*",), ("all",)):
        return ()
    bad = [name for name in names if not CLUSTER.fullmatch(name)]
    if bad:
        raise ValueError(f"not EKS cluster names: {', '.join(bad)} (letters, digits, - and _; "
                         "up to 100 characters), or Enter for every cluster")
    return names


def parse_network(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subnets, security groups) from one comma-separated list of subnet-... and sg-... ids."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    bad = [i for i in ids if not NETWORK_ID.fullmatch(i)]
    if bad:
        raise ValueError(f"not subnet or security group ids: {', '.join(bad)} "
                         "(subnet-0abc..., sg-0abc...), or Enter for no VPC")
    subnets = tuple(i for i in ids if i.startswith("subnet-"))
    groups = tuple(i for i in ids if i.startswith("sg-"))
    if bool(subnets) != bool(groups):
        raise ValueError("give at least one subnet-... and one sg-... id together, or Enter for no VPC")
    return subnets, groups


T = TypeVar("T")


def ask(question: str, parse: Callable[[str], T], read: Callable[[str], str]) -> T:
    """Ask until the answer parses (an empty answer always does); give up after ATTEMPTS."""
    for _ in range(ATTEMPTS):
        try:
            text = read(f"{question}: ")
        except EOFError:
            text = ""
        if not sys.stdin.isatty():
            print(text.strip())  # answers from a pipe: show each on its question's line
        try:
            return parse(text)
        except ValueError as err:
            print(f"  {err}", file=sys.stderr)
    raise SystemExit(f"no valid answer to {question!r} after {ATTEMPTS} tries")


def interview(region: str, read: Callable[[str], str] = input) -> Answers:
    """The three questions of a first deploy."""
    email = ask("E-mail address for pullmedic's alerts (Enter: none, subscribe later)",
                parse_email, read)
    clusters = ask(f"EKS clusters to scan, comma-separated (Enter: every cluster in {region})",
                   parse_clusters, read)
    subnets, groups = ask("Private subnets and security groups, comma-separated "
                          "(subnet-...,sg-...; Enter: run outside any VPC)", parse_network, read)
    return Answers(str(email), clusters, subnets, groups)


def commands(answers: Answers, region: str, stack_name: str) -> list[list[str]]:
    """`sam build`, then `sam deploy` with the answers (samconfig.toml supplies the rest)."""
    # samconfig.toml's form: Name="value" pairs in one string (the parsers allow no quotes).
    overrides = " ".join(f'{name}="{value}"' for name, value in answers.overrides().items())
    deploy = ["sam", "deploy", "--region", region, "--stack-name", stack_name, "--save-params",
              "--parameter-overrides", overrides]
    return [["sam", "build", "--region", region], deploy]


def default_region() -> str | None:
    """The Region of the AWS CLI / SDK configuration, if any."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    try:
        import botocore.session  # the SAM CLI's venv has it
    except ImportError:
        return None
    region = botocore.session.Session().get_config_variable("region")
    return str(region) if region else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", help="the Region of the clusters (default: your AWS config)")
    parser.add_argument("--dry-run", action="store_true", help="ask, then print the commands only")
    args = parser.parse_args(argv)
    region = args.region or default_region()
    if not region:
        print("no AWS Region: run `aws configure set region REGION` or `make deploy REGION=REGION`",
              file=sys.stderr)
        return 2
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    stack_name = config["default"]["global"]["parameters"]["stack_name"]
    print(f"Deploying stack {stack_name} to {region}; every other setting keeps its default "
          "(docs/deploy.md: Parameters).")
    answers = interview(region)
    for command in commands(answers, region, stack_name):
        print("$ " + shlex.join(command), flush=True)
        if not args.dry_run:
            done = subprocess.run(command, cwd=REPO, check=False)
            if done.returncode:
                return done.returncode
    if not answers.clusters:
        print("Scanning every cluster: create an access entry for the FunctionRoleArn output in "
              "each cluster (docs/deploy.md: Adding a cluster later); until then each one shows as a scan "
              "error naming the missing access entry.")
    print("Read-only scanning needs nothing applied in the clusters (AmazonEKSViewPolicy). Optional: "
          "functions/scan/rbac/pullmedic-readers.yaml lets it read nodes (docs/deploy.md). Then check "
          "the deployment: .venv/bin/pullmedic doctor --function FUNCTION_NAME (the stack output).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
