"""Doctor's AWS reads (clients injected); a denied or unsupported read becomes Unavailable."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.core.arns import parse_arn
from pullmedic.core.awsclients import ClientFor, Service
from pullmedic.core.deployment import (
    ENTRIES_MAX,
    POLICIES_MAX,
    SUBSCRIPTIONS_MAX,
    AccessEntry,
    FunctionNetwork,
    Identity,
    Permissions,
    Subscription,
    TableFacts,
)
from pullmedic.core.iampolicy import evaluate
from pullmedic.core.unavailable import Unavailable, error_text, guarded
from pullmedic.reading.gather.iam import IamReader

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_eks.type_defs import AssociatedAccessPolicyTypeDef
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sns import SNSClient

    from pullmedic.core.awsclients import AnyClient

T = TypeVar("T")


def identity_of(caller: str, role_arn: str | None = None) -> Identity | Unavailable:
    """Who `caller` is; the role checked is `role_arn`, else the caller's own role (pure)."""
    arn = parse_arn(caller)
    if arn is None:
        return Unavailable(f"{caller!r} is not an ARN")
    resource = arn["resource"]
    own = None
    if arn["service"] == "sts" and resource.startswith("assumed-role/"):
        own = f"arn:{arn['partition']}:iam::{arn['account']}:role/{resource.split('/')[1]}"
    elif arn["service"] == "iam" and resource.startswith("role/"):
        own = caller
    return Identity(caller, role_arn or own, own, arn["account"], arn["partition"])


def same_role(a: str, b: str) -> bool:
    """Two role ARNs name the same role (an assumed-role ARN carries no path); a user of the
    same name is not the role."""
    def key(arn: str) -> tuple[str, str, str]:
        parts = parse_arn(arn)
        if parts is None:
            return ("", "", arn)
        kind, _, rest = parts["resource"].partition("/")
        if kind == "assumed-role":  # assumed-role/NAME/SESSION
            return (parts["account"], "role", rest.split("/", 1)[0])
        return (parts["account"], kind, rest.rsplit("/", 1)[-1])  # role/PATH/NAME
    return key(a) == key(b)


class DoctorReader:
    """The reads of one doctor run, in the deployment's Region."""

    def __init__(self, client_for: ClientFor, region: str, deadline: float | None = None) -> None:
        self._client_for, self.region, self.deadline = client_for, region, deadline

    def _guarded(self, what: str, read: Callable[[], T]) -> T | Unavailable:
        """`guarded`, unless the run's deadline (time.monotonic()) has passed: then not read."""
        if self._late():
            return Unavailable(f"{what} not called: doctor's time ran out")
        return guarded(what, read)

    def _late(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def client(self, service: Service) -> AnyClient:
        """The service's client in the deployment's Region (one per run)."""
        return self._client_for(service, self.region)

    def caller(self) -> str | Unavailable:
        """The caller's ARN (sts:GetCallerIdentity needs no permission)."""
        try:
            return str(self._client_for("sts", self.region).get_caller_identity()["Arn"])
        except (ClientError, BotoCoreError) as err:
            return Unavailable(error_text("sts:GetCallerIdentity", err))

    def function(self, name: str) -> dict[str, Any] | Unavailable:
        """The function's configuration (its role and VPC). Only the CLI's --function asks, with
        the operator's credentials: the function's own role is not granted this read."""
        try:
            return dict(self._client_for("lambda", self.region).get_function_configuration(FunctionName=name))
        except (ClientError, BotoCoreError) as err:
            return Unavailable(error_text("lambda:GetFunctionConfiguration", err))

    def network(self, subnets: list[str], groups: tuple[str, ...]) -> FunctionNetwork | Unavailable:
        """Where the function runs: its VPC, its subnets' CIDRs, groups, and NAT egress addresses."""
        if not subnets:
            return FunctionNetwork(None)
        ec2 = self._client_for("ec2", self.region)
        described = self._guarded("ec2:DescribeSubnets", lambda: ec2.describe_subnets(SubnetIds=subnets))
        if isinstance(described, Unavailable):
            return described
        found = described.get("Subnets", [])
        if not found:
            return Unavailable(f"subnets {', '.join(subnets)} not found")
        vpc_id = found[0]["VpcId"]
        cidrs = {s["SubnetId"]: s["CidrBlock"] for s in found}
        vpcs = self._guarded("ec2:DescribeVpcs", lambda: ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"])
        blocks = () if isinstance(vpcs, Unavailable) else tuple(
            b["CidrBlock"] for v in vpcs
            for b in v.get("CidrBlockAssociationSet") or [{"CidrBlock": v["CidrBlock"]}])
        return FunctionNetwork(vpc_id, cidrs, groups, self._egress(vpc_id, subnets),
                               self.security_groups(list(groups)), blocks)

    def _egress(self, vpc_id: str, subnets: list[str]) -> tuple[str, ...] | Unavailable:
        """The public IPs of the NAT gateways on the subnets' default routes."""
        from pullmedic.core.netpath.routes import table_for_subnet

        ec2 = self._client_for("ec2", self.region)
        tables = self._guarded("ec2:DescribeRouteTables", lambda: ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"])
        if isinstance(tables, Unavailable):
            return tables
        nats = sorted({r["NatGatewayId"] for s in subnets
                       for r in (table_for_subnet(tables, s, vpc_id) or {}).get("Routes", [])
                       if r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("NatGatewayId")})
        if not nats:
            return ()
        found = self._guarded("ec2:DescribeNatGateways", lambda: ec2.describe_nat_gateways(
            NatGatewayIds=nats)["NatGateways"])
        if isinstance(found, Unavailable):
            return found
        return tuple(sorted({a["PublicIp"] for n in found for a in n.get("NatGatewayAddresses", [])
                             if a.get("PublicIp")}))

    def permissions(self, role_arn: str, resources: Mapping[str, str]) -> Permissions:
        """Each action's decision on its resource: the simulator's, else the role's own policies'."""
        iam = self._client_for("iam", self.region)
        decisions: dict[str, str] = {}
        by_resource: dict[str, list[str]] = {}
        for action, resource in sorted(resources.items()):
            by_resource.setdefault(resource, []).append(action)
        for resource, actions in by_resource.items():
            pages = self._guarded("iam:SimulatePrincipalPolicy", partial(
                _simulation, iam, role_arn, actions, resource))
            if isinstance(pages, Unavailable) and self._late():
                return Permissions(pages, "simulator")
            if isinstance(pages, Unavailable):
                return self._from_policies(iam, role_arn, resources, pages.why)
            decisions.update({r["EvalActionName"]: r["EvalDecision"] for p in pages
                              for r in p.get("EvaluationResults", [])})
        return Permissions(decisions, "simulator")

    @staticmethod
    def _from_policies(iam: IAMClient, role_arn: str, resources: Mapping[str, str], why: str) -> Permissions:
        policies = IamReader(iam).policies(role_arn)
        if isinstance(policies, Unavailable):
            return Permissions(Unavailable(f"{why}; {policies.why}"), "policies", why)
        return Permissions({action: evaluate(policies, action, resource).decision
                            for action, resource in resources.items()}, "policies", why)

    def subscriptions(self, topic_arn: str) -> list[Subscription] | Unavailable:
        """The topic's subscriptions; an unconfirmed one is listed as PendingConfirmation."""
        sns = self._client_for("sns", self.region)
        listed = self._guarded("sns:ListSubscriptionsByTopic", lambda: [
            s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                TopicArn=topic_arn, PaginationConfig={"MaxItems": SUBSCRIPTIONS_MAX + 1})
            for s in page.get("Subscriptions", [])])
        if isinstance(listed, Unavailable):
            return listed
        # one past the cap says that more exist; it is not asked about
        return [Subscription(s.get("Protocol", ""), s.get("Endpoint", ""),
                             self._pending(sns, s) if n < SUBSCRIPTIONS_MAX else False)
                for n, s in enumerate(listed)]

    @staticmethod
    def _pending(sns: SNSClient, sub: Mapping[str, Any]) -> bool:
        arn = str(sub.get("SubscriptionArn", ""))
        if not arn.startswith("arn:"):  # AWS lists an unconfirmed subscription as PendingConfirmation
            return arn == "PendingConfirmation"
        attributes = guarded("sns:GetSubscriptionAttributes",
                             lambda: sns.get_subscription_attributes(SubscriptionArn=arn))
        return not isinstance(attributes, Unavailable) and \
            bool(attributes.get("Attributes", {}).get("PendingConfirmation") == "true")

    def table(self, name: str) -> TableFacts | Unavailable:
        """The table's status and TTL setting."""
        dynamodb = self._client_for("dynamodb", self.region)
        table = self._guarded("dynamodb:DescribeTable", lambda: dynamodb.describe_table(TableName=name))
        if isinstance(table, Unavailable):
            return table
        ttl = self._guarded("dynamodb:DescribeTimeToLive",
                            lambda: dynamodb.describe_time_to_live(TableName=name))
        if isinstance(ttl, Unavailable):
            return ttl
        described = ttl.get("TimeToLiveDescription", {})
        return TableFacts(table["Table"].get("TableStatus", "?"), described.get("TimeToLiveStatus", "?"),
                          described.get("AttributeName"))

    def cluster(self, name: str) -> dict[str, Any] | Unavailable:
        """describe_cluster's "cluster"."""
        eks = self._client_for("eks", self.region)
        found = self._guarded("eks:DescribeCluster", lambda: eks.describe_cluster(name=name))
        return found if isinstance(found, Unavailable) else cast(dict[str, Any], found["cluster"])

    def entry(self, cluster: str, role_arn: str) -> AccessEntry | None | Unavailable:
        """The role's access entry in `cluster` with its policies (None: it has none)."""
        eks = self._client_for("eks", self.region)
        principal = self._principal(eks, cluster, role_arn)
        if principal is None or isinstance(principal, Unavailable):
            return principal
        entry = self._guarded("eks:DescribeAccessEntry", lambda: eks.describe_access_entry(
            clusterName=cluster, principalArn=principal)["accessEntry"])
        if isinstance(entry, Unavailable):
            return entry
        policies = self._guarded("eks:ListAssociatedAccessPolicies", lambda: [
            p for page in eks.get_paginator("list_associated_access_policies").paginate(
                clusterName=cluster, principalArn=principal, PaginationConfig={"MaxItems": POLICIES_MAX})
            for p in page.get("associatedAccessPolicies", [])])
        if isinstance(policies, Unavailable):
            return policies
        return AccessEntry(principal, entry.get("type", "?"), tuple(entry.get("kubernetesGroups") or ()),
                           tuple(_scoped(p) for p in policies))

    def _principal(self, eks: EKSClient, cluster: str, role_arn: str) -> str | None | Unavailable:
        """The role's principal ARN among the cluster's access entries (None: not there); the
        listing stops one past ENTRIES_MAX."""
        principals = self._guarded("eks:ListAccessEntries", lambda: [
            p for page in eks.get_paginator("list_access_entries").paginate(
                clusterName=cluster, PaginationConfig={"MaxItems": ENTRIES_MAX + 1})
            for p in page.get("accessEntries", [])])
        if isinstance(principals, Unavailable):
            return principals
        principal = next((p for p in principals[:ENTRIES_MAX] if same_role(p, role_arn)), None)
        if principal is None and len(principals) > ENTRIES_MAX:
            return Unavailable(f"the cluster has more than {ENTRIES_MAX} access entries and the role's is "
                               f"not among the first {ENTRIES_MAX} read")
        return str(principal) if principal is not None else None

    def security_groups(self, ids: list[str]) -> list[dict[str, Any]] | Unavailable:
        """The groups' rules."""
        if not ids:
            return []
        ec2 = self._client_for("ec2", self.region)
        return self._guarded("ec2:DescribeSecurityGroups", lambda: cast(
            list[dict[str, Any]], ec2.describe_security_groups(GroupIds=ids)["SecurityGroups"]))


def _scoped(policy: AssociatedAccessPolicyTypeDef) -> tuple[str, str, tuple[str, ...]]:
    """(policy ARN, scope type, namespaces) of one associated policy."""
    scope = policy.get("accessScope") or {}
    return policy.get("policyArn", ""), scope.get("type", "?"), tuple(scope.get("namespaces") or ())


def _simulation(iam: IAMClient, role_arn: str, actions: list[str], resource: str) -> list[Any]:
    """Every page of the simulator's answer for `actions` on `resource`."""
    return list(iam.get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=role_arn, ActionNames=actions, ResourceArns=[resource]))
