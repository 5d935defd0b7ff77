"""One doctor run: read the deployment's facts, judge them, and render the checklist."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.app.bootstrap import App
from pullmedic.app.event import DoctorOrder
from pullmedic.app.remediate import policy
from pullmedic.core.deployment import (
    DEPLOYMENT,
    OK,
    PROBLEM,
    UNKNOWN,
    ClusterFacts,
    DeploymentFacts,
    FunctionNetwork,
    Identity,
    KubeAccess,
    KubeNeed,
    Line,
)
from pullmedic.core.limits import CLUSTERS_MAX, ERROR_MAX, clean
from pullmedic.core.permissions import READ_ACTIONS
from pullmedic.core.settings import Settings, load
from pullmedic.core.unavailable import Unavailable, error_text
from pullmedic.diagnosing.diagnose import in_region
from pullmedic.doctor.verdicts import checklist, scan_needs
from pullmedic.reading.aws.eks import list_clusters
from pullmedic.reading.aws.session import SESSION_LOCK
from pullmedic.reading.aws.token import eks_token
from pullmedic.reading.deployment import DoctorReader, identity_of
from pullmedic.reading.parallel import bounded

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

CLUSTER_WORKERS = 4  # clusters checked side by side
# What the function's settings that doctor prints in commands must look like (they are pasted).
GROUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,62}")
SHAPES = {"PULLMEDIC_TOPIC_ARN": re.compile(r"arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}"),
          "PULLMEDIC_TABLE": re.compile(r"[A-Za-z0-9_.-]{3,255}"),
          "PULLMEDIC_KUBERNETES_GROUP": GROUP}
LINE_MAX = 2048  # characters of a line's detail or fix
# What the function writes to its own resources, besides what it reads.
OWN_WRITES = {"sns:Publish": "topic", "dynamodb:Query": "table", "dynamodb:PutItem": "table",
              "dynamodb:DeleteItem": "table"}


def run_doctor(order: DoctorOrder, settings: Settings, app: App, *,
               function: str | None = None) -> dict[str, Any]:
    """The checklist of the deployment's clusters (or the order's) as a JSON-ready dict.

    `function`: the scan function whose role, network and settings (its environment) are
    checked (default: the Lambda function this runs in, if any; else the caller's own identity
    and `settings`, network unknown).
    """
    deps = app.deps
    reader = DoctorReader(deps.client_for, deps.region, deps.deadline)
    caller = reader.caller()
    function, role, network, settings, group, malformed = _function(reader, function, settings)
    identity = caller if isinstance(caller, Unavailable) else identity_of(caller, role)
    needs = scan_needs(settings.read_secrets, _evict_namespaces(settings))
    names, listing = clusters_to_check(order, settings, deps.eks)
    facts = DeploymentFacts(
        region=deps.region, identity=identity, function=function, network=network,
        permissions=_permissions(reader, identity, settings, deps.region),
        topic_arn=settings.topic_arn,
        subscriptions=reader.subscriptions(settings.topic_arn) if settings.topic_arn else None,
        table=settings.table, table_facts=reader.table(settings.table) if settings.table else None,
        clusters=_each_cluster(reader, app, names, identity, needs),
        kubernetes_group=group)
    lines = checklist(facts, needs)
    lines[0:0] = [line for line in (malformed, listing) if line is not None]
    return report(lines, deps.region)


def _function(reader: DoctorReader, function: str | None, settings: Settings) -> tuple[
        str | None, str | None, FunctionNetwork | Unavailable | None, Settings, str, Line | None]:
    """(function, its role, its network, the deployment's settings, its Kubernetes group, a line
    naming the function's environment variables that cannot be used).

    Named (the CLI's --function): read with the operator's credentials, settings from its
    environment; no value of that environment is printed, only the names of malformed ones.
    In Lambda: this function, its VPC settings as the stack passes them.
    """
    malformed: Line | None = None
    env: dict[str, str] = dict(os.environ)
    role: str | None = None
    network: FunctionNetwork | Unavailable | None = None
    if function:
        config = reader.function(function)
        if isinstance(config, Unavailable):
            network = config
        else:
            role, vpc = config.get("Role"), config.get("VpcConfig") or {}
            network = reader.network(list(vpc.get("SubnetIds") or []),
                                     tuple(vpc.get("SecurityGroupIds") or ()))
            deployed = (config.get("Environment") or {}).get("Variables") or {}
            if deployed:  # the deployment's topic, table, clusters and remediation settings
                settings, malformed = _deployed(env, deployed, settings, function, reader.region)
    elif env.get("AWS_LAMBDA_FUNCTION_NAME"):
        function = env["AWS_LAMBDA_FUNCTION_NAME"]
        network = reader.network(_split(env.get("PULLMEDIC_SUBNET_IDS", "")),
                                 tuple(_split(env.get("PULLMEDIC_SECURITY_GROUP_IDS", ""))))
    group = env.get("PULLMEDIC_KUBERNETES_GROUP", "")
    return function, role, network, settings, group if GROUP.fullmatch(group) else "pullmedic-readers", \
        malformed


def _deployed(env: dict[str, str], deployed: dict[str, str], settings: Settings, function: str,
              region: str) -> tuple[Settings, Line | None]:
    """The function's settings from its environment, and a line naming (never showing) each
    variable that is malformed; those keep the caller's own settings."""
    own = dict(env)
    bad = [name for name, shape in SHAPES.items() if name in deployed and not shape.fullmatch(deployed[name])]
    env.update({k: v for k, v in deployed.items() if k not in bad})
    loaded = settings
    for _ in range(len(deployed) + 1):
        try:
            loaded = load(env)
            break
        except ValueError as err:  # its message quotes the value: name the variable only
            named = [name for name in deployed if name in str(err) and name not in bad]
            if not named:
                bad.append("a PULLMEDIC_ variable")
                break
            bad += named
            for name in named:  # this machine's value, if any, stands in
                env.pop(name, None)
                env.update({name: own[name]} if name in own else {})
    if not bad:
        return loaded, None
    return loaded, Line("function settings", DEPLOYMENT, PROBLEM, f"function {function}: "
                        f"{', '.join(sorted(bad))} malformed (values not shown); this machine's "
                        "settings stand in for them", "aws lambda get-function-configuration "
                        f"--function-name {function} --query Environment.Variables --region {region}")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def report(lines: Sequence[Line], region: str | None = None) -> dict[str, Any]:
    """The handler's answer: every line, the counts, and ok when every line is ok. A fix that is
    an `aws` command gets `--region` when it names none, so that it works when pasted."""
    counts = {v: sum(1 for line in lines if line.verdict == v) for v in (OK, PROBLEM, UNKNOWN)}
    docs = [{**line.doc(), "detail": clean(line.detail, LINE_MAX),
             "fix": clean(pasteable(line.fix, region) if region else line.fix, LINE_MAX)}
            for line in lines]  # an API server's or AWS's words in them: redacted and bounded
    return {"doctor": {"ok": counts[PROBLEM] == counts[UNKNOWN] == 0, "counts": counts, "lines": docs}}


def pasteable(fix: str, region: str) -> str:
    """Each `aws` command of a fix (commands joined by &&) with --region unless it names one."""
    return " && ".join(in_region(part, region) for part in fix.split(" && "))


def table(result: dict[str, Any], width: int | None = None) -> str:
    """The checklist as a fixed-width table (as wide as the terminal, at least 100 columns);
    each problem's fix below its line."""
    width = width or max(shutil.get_terminal_size((120, 24)).columns, 100)
    lines = result["doctor"]["lines"]
    rows = [("VERDICT", "SUBJECT", "CHECK")] + [(r["verdict"], r["subject"], r["check"]) for r in lines]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    out = ["  ".join(c.ljust(w) for c, w in zip(rows[0], widths, strict=True)) + "  DETAIL"]
    indent = " " * (sum(widths) + 6)
    for row, line in zip(rows[1:], lines, strict=True):
        head = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "  "
        detail = textwrap.wrap(line["detail"], max(width - len(head), 40)) or [""]
        out.append(head + detail[0])
        out += [indent + more for more in detail[1:]]
        if line["fix"] and line["verdict"] != OK:
            out.append(f"{indent}fix: {line['fix']}")
    counts = result["doctor"]["counts"]
    out.append(f"\n{counts[OK]} ok, {counts[PROBLEM]} problem(s), {counts[UNKNOWN]} unknown")
    return "\n".join(out)


def _evict_namespaces(settings: Settings) -> tuple[str, ...] | None:
    allowed = policy(settings)
    if allowed.mode == "off" or "retry_pods" not in allowed.actions:
        return None
    return tuple(sorted(allowed.namespaces or ()))


def clusters_to_check(order: DoctorOrder, settings: Settings, eks: EKSClient,
                      cap: int = CLUSTERS_MAX) -> tuple[list[str], Line | None]:
    """The clusters to check: the order's, the deployment's, or every cluster of the Region
    (no more than `cap`: the listing stops one past it); the line says which and what was cut."""
    named = order.clusters or settings.clusters
    if named:
        return list(named)[:cap], None
    try:
        found = list_clusters(eks, limit=cap + 1)
    except (ClientError, BotoCoreError) as err:
        return [], Line("clusters", DEPLOYMENT, PROBLEM, f"cannot list the Region's clusters "
                        f"({error_text('eks:ListClusters', err)})",
                        'name them: {"doctor": {"clusters": [...]}} or --cluster')
    if len(found) > cap:
        return found[:cap], Line("clusters", DEPLOYMENT, UNKNOWN, f"every cluster of the Region "
                                 f"(ClusterNames empty): more than {cap}; the first {cap} by name are "
                                 f"checked, from {found[0]} to {found[cap - 1]}",
                                 "check the others by name: --cluster NAME (repeatable)")
    return found, Line("clusters", DEPLOYMENT, OK, f"every cluster of the Region (ClusterNames empty): "
                       f"{len(found)} found" + (f": {', '.join(found)}" if len(found) <= 20 else ""))


def _permissions(reader: DoctorReader, identity: Identity | Unavailable, settings: Settings,
                 region: str) -> Any:
    if isinstance(identity, Unavailable) or identity.role_arn is None:
        return None
    return reader.permissions(identity.role_arn, _resources(identity, settings, region))


def _resources(identity: Identity, settings: Settings, region: str) -> dict[str, str]:
    """A resource each action is asked about: one of the kind the template scopes it to."""
    part, account = identity.partition, identity.account
    own = {"topic": settings.topic_arn or f"arn:{part}:sns:{region}:{account}:pullmedic-alerts",
           "table": f"arn:{part}:dynamodb:{region}:{account}:table/{settings.table or 'pullmedic-state'}"}
    cluster = f"arn:{part}:eks:{region}:{account}:cluster/{(settings.clusters or ('demo',))[0]}"
    entry = f"arn:{part}:eks:{region}:{account}:access-entry/c/role/{account}/r/1"
    by_prefix = {
        "eks:DescribeFargateProfile": f"arn:{part}:eks:{region}:{account}:fargateprofile/c/p/1",
        "eks:DescribeAccessEntry": entry, "eks:ListAssociatedAccessPolicies": entry,
        "eks:DescribeCluster": cluster, "eks:ListAccessEntries": cluster,
        "iam:GetInstanceProfile": f"arn:{part}:iam::{account}:instance-profile/node",
        "iam:GetPolicy": f"arn:{part}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "iam:GetPolicyVersion": f"arn:{part}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "iam:": f"arn:{part}:iam::{account}:role/node",
        "ecr:DescribePullThroughCacheRules": "*",
        "ecr:": f"arn:{part}:ecr:{region}:{account}:repository/app",
        "kms:": f"arn:{part}:kms:{region}:{account}:key/1",
        "sns:": own["topic"], "dynamodb:": own["table"],
    }
    actions = sorted(READ_ACTIONS | set(OWN_WRITES))
    return {a: next((r for p, r in by_prefix.items() if a.startswith(p)), "*") for a in actions}


def _each_cluster(reader: DoctorReader, app: App, names: list[str], identity: Identity | Unavailable,
                  needs: Sequence[KubeNeed]) -> list[ClusterFacts]:
    """Every cluster's facts, CLUSTER_WORKERS at a time; one not read by the deadline says so."""
    for service in ("eks", "ec2", "sts"):  # created before the threads share them
        reader.client(service)
    tasks = {name: partial(_cluster, reader, app, name, identity, needs) for name in names}
    facts, late = bounded(tasks, CLUSTER_WORKERS, app.deps.deadline)
    for name in late:
        facts[name] = ClusterFacts(name, Unavailable("not checked before the invocation's time ran out"),
                                   late=True)
    return [facts[name] for name in names]


def _cluster(reader: DoctorReader, app: App, name: str, identity: Identity | Unavailable,
             needs: Sequence[KubeNeed]) -> ClusterFacts:
    try:
        return _read_cluster(reader, app, name, identity, needs)
    except Exception as err:  # a defect must not cost the other clusters their lines
        return ClusterFacts(name, Unavailable(clean(f"pullmedic failed ({type(err).__name__}: {err}); "
                                                    "please report it with the log", ERROR_MAX)))


def _read_cluster(reader: DoctorReader, app: App, name: str, identity: Identity | Unavailable,
                  needs: Sequence[KubeNeed]) -> ClusterFacts:
    described = reader.cluster(name)
    if isinstance(described, Unavailable):
        return ClusterFacts(name, described)
    role = None if isinstance(identity, Unavailable) else identity.role_arn
    config = described.get("resourcesVpcConfig") or {}
    groups = [g for g in (config.get("clusterSecurityGroupId"), *(config.get("securityGroupIds") or [])) if g]
    return ClusterFacts(name, described,
                        entry=reader.entry(name, role) if role else Unavailable("no role to look for"),
                        security_groups=reader.security_groups(groups),
                        kube=_kube(app, name, described, needs))


def _kube(app: App, name: str, described: dict[str, Any], needs: Sequence[KubeNeed]) -> KubeAccess:
    """Ask the cluster's API server about each need."""
    from pullmedic.reading.kube.access import review  # deferred: imports the kubernetes client

    deps = app.deps
    endpoint = described.get("endpoint", "")
    ca = (described.get("certificateAuthority") or {}).get("data", "")
    if not endpoint or not ca:
        return KubeAccess(error="describe-cluster gives no endpoint or CA yet (is the cluster ACTIVE?)")
    try:
        with SESSION_LOCK:  # boto3 sessions are not thread-safe; minting is local and quick
            token = eks_token(deps.session, name, deps.region)
        with deps.connect(endpoint, ca, token) as client:
            return review(client, needs, deps.deadline)
    except (ClientError, BotoCoreError) as err:
        return KubeAccess(error=clean(f"cannot mint an EKS token: {err}", ERROR_MAX))
    except (ValueError, OSError) as err:  # a CA that is not PEM, an unwritable temp dir
        return KubeAccess(error=clean(f"cannot set up the Kubernetes client: {err}", ERROR_MAX))
