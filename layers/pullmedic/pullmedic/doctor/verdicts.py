"""Doctor's checklist from gathered facts: a verdict and the exact fix per line (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from pullmedic.core.deployment import (
    DEPLOYMENT,
    OK,
    PROBLEM,
    SUBSCRIPTIONS_MAX,
    UNKNOWN,
    AccessEntry,
    ClusterFacts,
    DeploymentFacts,
    FunctionNetwork,
    KubeNeed,
    Line,
)
from pullmedic.core.netpath.sg import SgRule, ingress_allows, rules_from_api
from pullmedic.core.unavailable import Unavailable

VIEW_POLICY = "AmazonEKSViewPolicy"
# Managed access policies whose rules include everything AmazonEKSViewPolicy grants.
VIEW_OR_MORE = frozenset({VIEW_POLICY, "AmazonEKSAdminViewPolicy", "AmazonEKSEditPolicy",
                          "AmazonEKSAdminPolicy", "AmazonEKSClusterAdminPolicy"})
ENTRY_MODES = frozenset({"API", "API_AND_CONFIG_MAP"})
RBAC = "functions/scan/rbac"
_GRANTS = {
    "nodes": f"apply -f {RBAC}/pullmedic-readers.yaml",
    "secrets": f"apply -f {RBAC}/pullmedic-secret-readers.yaml (or deploy with ReadPullSecrets=false)",
}
ACCESS_CHECKS = frozenset({"authentication mode", "access entry", "kubernetes api"})


def scan_needs(read_secrets: bool, evict_namespaces: Sequence[str] | None) -> list[KubeNeed]:
    """Every Kubernetes permission the scan (and retry_pods, when it may run) needs.

    `evict_namespaces`: None when retry_pods cannot run; () when it may run in every namespace.
    """
    needs = [
        KubeNeed("list", "pods", "find the pods that cannot pull"),
        KubeNeed("list", "events", "the kubelet's pull failure messages"),
        KubeNeed("list", "replicasets", "name the Deployment that owns a pod", group="apps"),
        KubeNeed("list", "jobs", "name the CronJob that owns a pod", group="batch"),
        KubeNeed("get", "serviceaccounts", "the image pull secrets a pod gets from its account"),
        KubeNeed("list", "nodes", "map a pod to its EC2 instance and architecture; without it, "
                 "by the pod's host IP", required=False, grant="nodes"),
    ]
    if read_secrets:
        needs.append(KubeNeed("get", "secrets", "check a pull secret's type and registry host "
                              "(ReadPullSecrets=true)", grant="secrets"))
    if evict_namespaces is not None:
        needs.append(KubeNeed("get", "pods", "retry_pods: read a pod before evicting it"))
        needs += [KubeNeed("create", "pods", "retry_pods: evict pods stuck in back-off",
                           subresource="eviction", namespace=ns, grant="evict")
                  for ns in (evict_namespaces or ("",))]
    return needs


def checklist(facts: DeploymentFacts, needs: Sequence[KubeNeed]) -> list[Line]:
    """Every line of the report: the deployment's, then each cluster's."""
    lines = [_identity(facts), _permissions(facts), _topic(facts), _table(facts)]
    clusters = [line for cluster in facts.clusters for line in cluster_lines(facts, cluster, needs)]
    if facts.clusters:
        lines.append(access_summary(facts, clusters))
    return lines + clusters


def access_summary(facts: DeploymentFacts, lines: Sequence[Line]) -> Line:
    """Which clusters still lack access (authentication mode, access entry, RBAC), in one line."""
    lacking: dict[str, list[str]] = {}
    unknown: list[str] = []
    for line in lines:
        if line.verdict == PROBLEM and (line.check in ACCESS_CHECKS or line.check.startswith("kubernetes: ")):
            lacking.setdefault(line.subject, []).append(_lacks(line))
        elif line.verdict == UNKNOWN and line.check in ("cluster", "kubernetes api"):
            unknown.append(line.subject)
    total = len(facts.clusters)
    if not lacking:
        if unknown:
            return Line("cluster access", DEPLOYMENT, UNKNOWN, f"{len(unknown)} of {total} cluster(s) "
                        f"could not be asked: {', '.join(dict.fromkeys(unknown))}", "see their lines below")
        return Line("cluster access", DEPLOYMENT, OK, f"all {total} cluster(s) grant the function access")
    named = "; ".join(f"{name} ({', '.join(dict.fromkeys(why))})" for name, why in lacking.items())
    return Line("cluster access", DEPLOYMENT, PROBLEM, f"{len(lacking)} of {total} cluster(s) still lack "
                f"access: {named}", "run each cluster's fix below; or deploy with ClusterNames naming "
                "them and CreateAccessEntries=true: the stack then creates their access entries")


def _lacks(line: Line) -> str:
    if line.check == "authentication mode":
        return "CONFIG_MAP authentication"
    if line.check == "kubernetes api" or line.check == "access entry" and "no access entry" in line.detail:
        return "no access entry"
    if line.check == "access entry":
        return "no view policy"
    return "RBAC: " + line.check.removeprefix("kubernetes: ")


def cluster_lines(facts: DeploymentFacts, cluster: ClusterFacts,
                  needs: Sequence[KubeNeed]) -> list[Line]:
    """The lines of one cluster."""
    name = cluster.name
    if cluster.late and isinstance(cluster.cluster, Unavailable):
        return [Line("cluster", name, UNKNOWN, cluster.cluster.why,
                     f'check it alone: {{"doctor": {{"clusters": ["{name}"]}}}} or --cluster {name}')]
    if isinstance(cluster.cluster, Unavailable):
        return [Line("cluster", name, PROBLEM, f"cannot describe the cluster ({cluster.cluster.why})",
                     f"check the name and Region, and that the role may eks:DescribeCluster "
                     f"(aws eks describe-cluster --name {name} --region {facts.region})")]
    return [_auth_mode(facts, cluster), _entry(facts, cluster), *_reach(facts, cluster),
            *_kube(facts, cluster, needs)]


# ------------------------------------------------------------------------- the deployment


def _role(facts: DeploymentFacts) -> str:
    identity = facts.identity
    if isinstance(identity, Unavailable) or identity.role_arn is None:
        return "ROLE_ARN"
    return identity.role_arn


def _partition(facts: DeploymentFacts) -> str:
    return "aws" if isinstance(facts.identity, Unavailable) else facts.identity.partition


def _identity(facts: DeploymentFacts) -> Line:
    identity = facts.identity
    if isinstance(identity, Unavailable):
        return Line("identity", DEPLOYMENT, UNKNOWN, f"cannot tell who runs this ({identity.why})",
                    "check the AWS credentials (aws sts get-caller-identity)")
    if identity.role_arn is None:
        return Line("identity", DEPLOYMENT, UNKNOWN, f"running as {identity.caller}, which is not "
                    "a role: the function's role is not known", "pass --function FUNCTION_NAME (the "
                    "stack's FunctionName output), or run events/doctor.json in the Lambda console")
    checked = f"checking role {identity.role_arn}"
    checked += f" of function {facts.function}" if facts.function else ""
    if identity.caller_role != identity.role_arn:
        checked += f" (running as {identity.caller}: the Kubernetes lines are this caller's)"
    return Line("identity", DEPLOYMENT, OK, checked)


def _permissions(facts: DeploymentFacts) -> Line:
    found = facts.permissions
    if found is None:
        return Line("aws permissions", DEPLOYMENT, UNKNOWN, "no role to check")
    if isinstance(found.decisions, Unavailable):
        return Line("aws permissions", DEPLOYMENT, UNKNOWN, "cannot ask the IAM policy simulator "
                    f"nor read the role's policies ({found.decisions.why})",
                    "allow the role iam:SimulatePrincipalPolicy on itself (the template does)")
    how = ("the IAM policy simulator" if found.source == "simulator" else
           "the role's own policies, SCPs and permission boundaries not weighed: the IAM policy "
           f"simulator could not be asked, {found.note}")
    denied = sorted(a for a, d in found.decisions.items() if d != "allowed")
    if not denied:
        return Line("aws permissions", DEPLOYMENT, OK,
                    f"all {len(found.decisions)} actions the function calls are allowed ({how})")
    return Line("aws permissions", DEPLOYMENT, PROBLEM,
                f"not allowed ({how}): {', '.join(denied)}; the checks that need them read "
                "'unavailable'", "deploy the stack's template.yaml again (its read-for-diagnosis "
                f"policy grants them), or add {', '.join(denied)} to the role {_role(facts)}; an "
                "SCP or permissions boundary that denies them must allow them")


def _topic(facts: DeploymentFacts) -> Line:
    if facts.topic_arn is None:
        return Line("alert topic", DEPLOYMENT, PROBLEM, "no alert topic is configured: nothing is "
                    "announced", "set PULLMEDIC_TOPIC_ARN (the stack sets it to its AlertTopic)")
    subs = facts.subscriptions
    if isinstance(subs, Unavailable) or subs is None:
        why = subs.why if subs is not None else "not read"
        return Line("alert topic", DEPLOYMENT, UNKNOWN, f"cannot list the subscriptions ({why})")
    region = _arn_region(facts.topic_arn, facts.region)
    subscribe = (f"aws sns subscribe --topic-arn {facts.topic_arn} --protocol email "
                 f"--notification-endpoint YOU@example.com --region {region}")
    if not subs:
        return Line("alert topic", DEPLOYMENT, PROBLEM, "the alert topic has no subscription: "
                    "alerts are published to nobody", subscribe)
    cut = (f"; the topic has more than {SUBSCRIPTIONS_MAX} subscriptions, the first {SUBSCRIPTIONS_MAX} "
           "were looked at") if len(subs) > SUBSCRIPTIONS_MAX else ""
    subs = subs[:SUBSCRIPTIONS_MAX]
    pending = [s for s in subs if s.pending]
    confirmed = [s for s in subs if not s.pending]
    if pending:
        names = ", ".join(f"{s.protocol} {s.endpoint}" for s in pending[:5])
        return Line("alert topic", DEPLOYMENT, PROBLEM,
                    f"{len(pending)} subscription(s) still PendingConfirmation ({names}); "
                    f"{len(confirmed)} confirmed: a pending one receives nothing{cut}",
                    "click the link in the 'AWS Notification - Subscription Confirmation' e-mail "
                    "(check spam); to send it again: "
                    + subscribe.replace("YOU@example.com", pending[0].endpoint))
    names = ", ".join(sorted({s.protocol for s in confirmed}))
    return Line("alert topic", DEPLOYMENT, OK, f"{len(confirmed)} confirmed subscription(s) ({names}){cut}")


def _arn_region(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else default


def _table(facts: DeploymentFacts) -> Line:
    if facts.table is None:
        return Line("state table", DEPLOYMENT, PROBLEM, "no state table: every scan announces every "
                    "problem again", "set PULLMEDIC_TABLE (the stack sets it to its StateTable)")
    found = facts.table_facts
    if isinstance(found, Unavailable) or found is None:
        why = found.why if found is not None else "not read"
        return Line("state table", DEPLOYMENT, UNKNOWN, f"cannot describe table {facts.table} ({why})",
                    f"check that table {facts.table} exists in {facts.region}")
    if found.status != "ACTIVE":
        return Line("state table", DEPLOYMENT, PROBLEM, f"table {facts.table} is {found.status}",
                    "wait until it is ACTIVE, or deploy the stack again")
    if found.ttl_status not in ("ENABLED", "ENABLING") or found.ttl_attribute != "expires_at":
        return Line("state table", DEPLOYMENT, PROBLEM, f"table {facts.table}: time to live is "
                    f"{found.ttl_status} on {found.ttl_attribute or 'no attribute'}, not on expires_at: "
                    "old problems and silences are never removed",
                    f"aws dynamodb update-time-to-live --table-name {facts.table} "
                    "--time-to-live-specification Enabled=true,AttributeName=expires_at")
    return Line("state table", DEPLOYMENT, OK, f"table {facts.table} is ACTIVE, time to live on expires_at")


# ---------------------------------------------------------------------------- one cluster


def _config(cluster: ClusterFacts) -> dict[str, Any]:
    assert not isinstance(cluster.cluster, Unavailable)
    return cluster.cluster


def _auth_mode(facts: DeploymentFacts, cluster: ClusterFacts) -> Line:
    mode = (_config(cluster).get("accessConfig") or {}).get("authenticationMode")
    fix = (f"aws eks update-cluster-config --name {cluster.name} --region {facts.region} "
           "--access-config authenticationMode=API_AND_CONFIG_MAP")
    if mode is None:
        return Line("authentication mode", cluster.name, UNKNOWN, "describe-cluster does not say the "
                    "authentication mode (accessConfig.authenticationMode)", "")
    if mode in ENTRY_MODES:
        return Line("authentication mode", cluster.name, OK, f"{mode}: access entries apply")
    return Line("authentication mode", cluster.name, PROBLEM, f"{mode}: access entries do not apply; "
                "only the aws-auth ConfigMap grants access (the change below cannot be undone: "
                "a cluster does not go back to CONFIG_MAP only)", fix)


def _create_entry(facts: DeploymentFacts, name: str) -> str:
    role, partition = _role(facts), _partition(facts)
    return (f"aws eks create-access-entry --cluster-name {name} --principal-arn {role} --type STANDARD "
            f"--kubernetes-groups {facts.kubernetes_group} --region {facts.region} && "
            + _associate(facts, name, partition, role))


def _associate(facts: DeploymentFacts, name: str, partition: str, role: str) -> str:
    return (f"aws eks associate-access-policy --cluster-name {name} --principal-arn {role} "
            f"--policy-arn arn:{partition}:eks::aws:cluster-access-policy/{VIEW_POLICY} "
            f"--access-scope type=cluster --region {facts.region}")


def _entry(facts: DeploymentFacts, cluster: ClusterFacts) -> Line:
    entry, name = cluster.entry, cluster.name
    if isinstance(entry, Unavailable):
        if cluster.kube.reviews and cluster.kube.status is None:
            return Line("access entry", name, OK, "the API server accepts the role (access entry or "
                        f"aws-auth mapping); the entries themselves cannot be listed ({entry.why})")
        return Line("access entry", name, UNKNOWN, f"cannot list access entries ({entry.why})",
                    f"if the role has none: {_create_entry(facts, name)}")
    if entry is None:
        return Line("access entry", name, PROBLEM, f"no access entry for {_role(facts)}: the API "
                    "server rejects the function (401)", _create_entry(facts, name))
    return _entry_policies(facts, name, entry)


def _entry_policies(facts: DeploymentFacts, name: str, entry: AccessEntry) -> Line:
    """The entry must have a view policy (or more) on the whole cluster."""
    views = [(arn, scope, spaces) for arn, scope, spaces in entry.policies
             if arn.rsplit("/", 1)[-1] in VIEW_OR_MORE]
    if not views:
        names = ", ".join(arn.rsplit("/", 1)[-1] for arn, _, _ in entry.policies) or "none"
        return Line("access entry", name, PROBLEM, f"access entry {entry.type} (groups: "
                    f"{', '.join(entry.groups) or 'none'}) has no view policy (associated: {names})",
                    _associate(facts, name, _partition(facts), entry.principal_arn))
    if not any(scope == "cluster" for _, scope, _ in views):
        spaces = sorted({ns for _, _, nss in views for ns in nss})
        return Line("access entry", name, PROBLEM, f"{VIEW_POLICY} is scoped to namespaces "
                    f"{', '.join(spaces)}: the scan lists pods in all namespaces",
                    _associate(facts, name, _partition(facts), entry.principal_arn))
    policy = views[0][0].rsplit("/", 1)[-1]
    return Line("access entry", name, OK, f"{entry.type} entry, {policy} on the cluster, groups: "
                f"{', '.join(entry.groups) or 'none'}")


def _reach(facts: DeploymentFacts, cluster: ClusterFacts) -> list[Line]:
    """Whether the function can reach the API endpoint: configuration, then what happened."""
    config = _config(cluster).get("resourcesVpcConfig") or {}
    public, private = config.get("endpointPublicAccess", True), config.get("endpointPrivateAccess", False)
    cidrs = config.get("publicAccessCidrs") or ["0.0.0.0/0"]
    network, name = facts.network, cluster.name
    lines = [_endpoint(facts, name, public, private, cidrs, config.get("vpcId"))]
    if isinstance(network, FunctionNetwork) and network.vpc_id:
        private_path = network.vpc_id == config.get("vpcId") and private
        lines.append(_function_egress(name, network, _cluster_groups(config) if private_path else None))
        if private_path:
            lines.append(_cluster_sg(cluster, network, config))
    if cluster.kube.error is not None and cluster.kube.status is None:
        blocked = next((line.fix for line in lines if line.verdict == PROBLEM and line.fix),
                       "check the route from the function's subnets to the endpoint and their network ACLs")
        lines.append(Line("endpoint reached", name, PROBLEM, f"cannot reach the API server: "
                          f"{cluster.kube.error}", blocked))
    return lines


def _endpoint(facts: DeploymentFacts, name: str, public: bool, private: bool, cidrs: list[str],
              vpc_id: str | None) -> Line:
    network = facts.network
    shape = (f"public endpoint {'on' if public else 'off'} ({', '.join(cidrs)}), private endpoint "
             f"{'on' if private else 'off'}")
    if network is None or isinstance(network, Unavailable):
        why = "the function is not known" if network is None else network.why
        return Line("endpoint", name, UNKNOWN, f"{shape}; where the function runs: {why}",
                    "pass --function FUNCTION_NAME, or run events/doctor.json in the Lambda console")
    same_vpc = network.vpc_id is not None and network.vpc_id == vpc_id
    if same_vpc and private:
        return Line("endpoint", name, OK, f"{shape}; the function is in the cluster's VPC {vpc_id} "
                    "and uses the private endpoint")
    if not public:
        where = f"VPC {network.vpc_id}" if network.vpc_id else "no VPC"
        return Line("endpoint", name, PROBLEM, f"{shape}; the function runs in {where}, not in the "
                    f"cluster's VPC {vpc_id}: the private endpoint is reachable only through peering "
                    "or a transit gateway", f"deploy with SubnetIds (private subnets of {vpc_id}) and "
                    "SecurityGroupIds, or turn the public endpoint on")
    if "0.0.0.0/0" in cidrs:
        return Line("endpoint", name, OK, f"{shape}; reached over the public endpoint")
    return _listed_egress(facts.region, name, shape, network, cidrs)


def _listed_egress(region: str, name: str, shape: str, network: FunctionNetwork, cidrs: list[str]) -> Line:
    """A public endpoint open to listed CIDRs only: the function's egress address must be listed."""
    if network.vpc_id is None:
        return Line("endpoint", name, PROBLEM, f"{shape}; the function runs outside a VPC and has no "
                    "fixed egress address, so a restricted CIDR list blocks it",
                    "deploy into private subnets whose NAT gateway's public IP is listed in "
                    "publicAccessCidrs (or, with private access on, into the cluster's VPC)")
    egress = network.egress_ips
    if isinstance(egress, Unavailable) or not egress:
        why = egress.why if isinstance(egress, Unavailable) else "no NAT gateway on its default route"
        return Line("endpoint", name, UNKNOWN, f"{shape}; the function's egress address is not known "
                    f"({why})", "list the NAT gateway's public IP in publicAccessCidrs")
    outside = [ip for ip in egress if not _in_any(ip, cidrs)]
    open_cidrs = f"aws eks update-cluster-config --name {name} --region {region} " \
                 "--resources-vpc-config publicAccessCidrs="
    if outside:
        return Line("endpoint", name, PROBLEM, f"{shape}; the function's egress address "
                    f"{', '.join(outside)} is not in publicAccessCidrs",
                    open_cidrs + ",".join([*cidrs, *(f"{ip}/32" for ip in outside)]))
    return Line("endpoint", name, OK, f"{shape}; the function's egress {', '.join(egress)} is allowed")


def _in_any(ip: str, cidrs: Iterable[str]) -> bool:
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(c, strict=False) for c in cidrs)


def _cluster_groups(config: dict[str, Any]) -> list[str]:
    return [g for g in (config.get("clusterSecurityGroupId"), *(config.get("securityGroupIds") or [])) if g]


def _function_egress(name: str, network: FunctionNetwork, cluster_groups: list[str] | None) -> Line:
    """The function's groups must let 443 out: to the cluster's groups (private endpoint, same
    VPC) or to any address (public endpoint)."""
    groups = network.groups
    if isinstance(groups, Unavailable):
        return Line("function egress", name, UNKNOWN, f"cannot read the function's security groups "
                    f"({groups.why})")
    allowed = _egress_rule(network, groups, cluster_groups)
    target = f"the cluster's security group {cluster_groups[0]}" if cluster_groups else "0.0.0.0/0"
    if allowed:
        return Line("function egress", name, OK, f"{allowed.describe()} lets tcp/443 out to {target}")
    source = network.security_groups[0] if network.security_groups else "FUNCTION_SG"
    peer = f"UserIdGroupPairs=[{{GroupId={cluster_groups[0]}}}]" if cluster_groups else \
        "IpRanges=[{CidrIp=0.0.0.0/0}]"
    return Line("function egress", name, PROBLEM, f"no egress rule of {', '.join(network.security_groups)} "
                f"lets tcp/443 out to {target}", f"aws ec2 authorize-security-group-egress --group-id "
                f"{source} --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,{peer}'")


def _egress_rule(network: FunctionNetwork, groups: list[dict[str, Any]],
                 cluster_groups: list[str] | None) -> SgRule | None:
    """A rule of the function's groups that lets tcp/443 out to anywhere, or (private endpoint)
    to the cluster's groups or to the VPC's CIDR, where the endpoint's interfaces are."""
    rules = [r for g in groups for r in rules_from_api(g)
             if r.direction == "egress" and r.matches_traffic("tcp", 443)]
    anywhere = next((r for r in rules if "0.0.0.0/0" in r.cidrs), None)
    if anywhere or not cluster_groups:
        return anywhere
    return next((r for r in rules if set(r.groups) & set(cluster_groups)
                 or any(_covers(r.cidrs, block) for block in network.vpc_cidrs)), None)


def _cluster_sg(cluster: ClusterFacts, network: FunctionNetwork, config: dict[str, Any]) -> Line:
    """The cluster security group must admit 443 from the function's groups or subnets."""
    name, groups = cluster.name, cluster.security_groups
    wanted = _cluster_groups(config)
    if isinstance(groups, Unavailable):
        return Line("cluster security group", name, UNKNOWN, f"cannot read {', '.join(wanted)} "
                    f"({groups.why})")
    rules = [r for g in groups for r in rules_from_api(g)]
    decision = ingress_allows(rules, port=443, source_groups=network.security_groups, group_ids=wanted)
    if decision.allowed:
        return Line("cluster security group", name, OK, decision.reason)
    by_cidr = [r for r in rules if r.direction == "ingress" and r.matches_traffic("tcp", 443)
               and network.subnet_cidrs and all(_covers(r.cidrs, c) for c in network.subnet_cidrs.values())]
    if by_cidr:
        return Line("cluster security group", name, OK, f"{by_cidr[0].describe()} admits tcp/443 from "
                    "the function's subnets")
    target = wanted[0] if wanted else "CLUSTER_SG"
    source = network.security_groups[0] if network.security_groups else "FUNCTION_SG"
    return Line("cluster security group", name, PROBLEM, decision.reason,
                f"aws ec2 authorize-security-group-ingress --group-id {target} --protocol tcp "
                f"--port 443 --source-group {source}")


def _covers(cidrs: Sequence[str], subnet: str) -> bool:
    network = ipaddress.ip_network(subnet, strict=False)
    wider = (ipaddress.ip_network(c, strict=False) for c in cidrs)
    return any(network.subnet_of(w) for w in wider if w.version == network.version)  # type: ignore[arg-type]


def _kube(facts: DeploymentFacts, cluster: ClusterFacts, needs: Sequence[KubeNeed]) -> list[Line]:
    kube, name = cluster.kube, cluster.name
    if kube.status == 401:
        return [Line("kubernetes api", name, PROBLEM, f"the API server rejects the role's token (401: "
                     f"{kube.error}): no access entry (or aws-auth mapping) for it",
                     _create_entry(facts, name))]
    if kube.error is not None:
        status = f"HTTP {kube.status}: " if kube.status else ""
        return [Line("kubernetes api", name, UNKNOWN, f"cannot ask the API server ({status}{kube.error})",
                     "fix the endpoint and access entry lines above first")]
    context = _config(cluster).get("arn") or \
        f"arn:{_partition(facts)}:eks:{facts.region}:ACCOUNT:cluster/{name}"
    return [_need_line(facts, name, need, kube.reviews.get(need), context) for need in needs]


def _need_line(facts: DeploymentFacts, name: str, need: KubeNeed, allowed: bool | Unavailable | None,
               context: str) -> Line:
    check = f"kubernetes: {need.text()}"
    if allowed is None or isinstance(allowed, Unavailable):
        why = allowed.why if allowed is not None else "not asked"
        return Line(check, name, UNKNOWN, f"cannot ask the API server ({why})")
    if allowed:
        return Line(check, name, OK, f"allowed: {need.purpose}")
    fix = _grant(facts, name, need, context)
    if not need.required:
        return Line(check, name, OK, f"not allowed (optional): {need.purpose}", fix)
    return Line(check, name, PROBLEM, f"not allowed: {need.purpose}", fix)


def _grant(facts: DeploymentFacts, name: str, need: KubeNeed, context: str) -> str:
    """The fix; a kubectl one names the cluster's context (made by update-kubeconfig first)."""
    if need.grant == "view":
        return _associate(facts, name, _partition(facts), _role(facts))
    kubectl = (f"aws eks update-kubeconfig --name {name} --region {facts.region} && "
               f"kubectl --context {context} ")
    if need.grant == "evict":
        return (f"{kubectl}apply -f {RBAC}/pullmedic-remediators.yaml with namespace: "
                f"{need.namespace or 'each namespace retry_pods may act in'}")
    return kubectl + _GRANTS[need.grant]
