"""Read the facts a finding's checks declare (`CheckMeta.needs`) into one frozen `Snapshot`.

All the reading of a diagnosis happens here, through the scan's cached and batched readers
(`evidence.Facts`); the checks only look at the snapshot. Each fact is read only where a check
could use it (an ECR image, a pod with a host, ...), as the checks themselves did before.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pullmedic.core.netpath.nacl import entries_from_api
from pullmedic.core.netpath.routes import routes_from_api
from pullmedic.core.netpath.sg import rules_from_api
from pullmedic.core.netpath.target import endpoint
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.ecr_pull_permission import PULL, TOKEN
from pullmedic.diagnosing.checks.facts import (
    EcrImages,
    Encryption,
    Endpoint,
    Fact,
    ImageVersion,
    NatGateway,
    Network,
    Platforms,
    PullSecret,
    PullSecrets,
    PullThroughRule,
    RolePermissions,
    Snapshot,
    Subject,
    repository_arn,
)
from pullmedic.diagnosing.evidence import Facts
from pullmedic.reading.gather.ec2 import Host, usable_nat

_INDEXES = ("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json")
Fields = dict[str, Any]


def gather(facts: Facts, subject: Subject, needs: frozenset[Fact], into: Snapshot | None = None
           ) -> Snapshot:
    """`into` (or an empty snapshot of the cluster) with the facts `needs` names read."""
    snapshot = into or Snapshot(facts.region, facts.account)
    fields: Fields = {}
    for kind in Fact:  # a fixed order: the reads a fact depends on are cached, not repeated
        if kind in needs:
            fields.update(_READERS[kind](facts, subject))
    return replace(snapshot, **fields)


def _host(facts: Facts, subject: Subject) -> Fields:
    host = facts.host(subject)
    return {"host": host, **_note(facts, subject, host)}


def _note(facts: Facts, subject: Subject, host: object) -> Fields:
    """The host note comes with every fact read through the pod's host."""
    if not isinstance(host, Host) or subject.fargate_profile:
        return {}
    note = facts.host_note(subject.finding)
    return {"host_note": note} if note else {}


def _network(facts: Facts, subject: Subject) -> Fields:
    raw = facts.network(subject)
    if raw is None or isinstance(raw, Unavailable):
        return {"network": raw, **_note(facts, subject, facts.host(subject))}
    vpc = raw.vpc
    found = {s: e for s in ("ecr.api", "ecr.dkr", "s3")
             if (e := endpoint(_known(vpc.endpoints), facts.region, s)) is not None}
    groups = vpc.security_groups
    table, acl = raw.route_table, raw.network_acl
    network = Network(
        raw.host, raw.target, raw.hops, subnet_cidr=raw.subnet.get("CidrBlock", "?"),
        free_ips=raw.subnet.get("AvailableIpAddressCount"),
        route_table=table["RouteTableId"] if table else None,
        routes=routes_from_api(table) if table else (), acl=acl["NetworkAclId"] if acl else None,
        acl_entries=entries_from_api(acl) if acl else (),
        endpoints={s: _endpoint(e) for s, e in found.items()},
        group_rules=groups if isinstance(groups, Unavailable) else {
            gid: rules_from_api(group) for gid, group in groups.items()},
        nat_gateways=_nats(vpc.nat_gateways), nat_subnets=_nat_subnets(_known(vpc.route_tables)),
        usable_nat=usable_nat(vpc, raw.host.subnet_id))
    return {"network": network, **_note(facts, subject, raw.host)}


def _known(part: list[dict[str, Any]] | Unavailable) -> list[dict[str, Any]]:
    return [] if isinstance(part, Unavailable) else part


def _endpoint(raw: Mapping[str, Any]) -> Endpoint:
    return Endpoint(raw["VpcEndpointId"], raw.get("State", "available"), raw.get("PrivateDnsEnabled"),
                    tuple(raw.get("RouteTableIds") or ()), raw.get("PolicyDocument"))


def _nats(raw: dict[str, dict[str, Any]] | Unavailable) -> Mapping[str, NatGateway] | Unavailable:
    if isinstance(raw, Unavailable):
        return raw
    return {nat_id: NatGateway(nat_id, nat.get("State"), nat.get("ConnectivityType") == "private",
                               tuple(a.get("PublicIp", "?") for a in nat.get("NatGatewayAddresses", [])))
            for nat_id, nat in raw.items()}


def _nat_subnets(tables: list[dict[str, Any]]) -> dict[str, int]:
    """NAT id -> the subnets associated with a route table that routes to it."""
    counts: Counter[str] = Counter()
    for table in tables:
        subnets = len([a for a in table.get("Associations", []) if a.get("SubnetId")])
        for nat in {r.get("NatGatewayId") for r in table.get("Routes", [])} - {None}:
            counts[nat] += subnets
    return dict(counts)


def _prefix_lists(facts: Facts, subject: Subject) -> Fields:
    raw = facts.network(subject)
    return {} if raw is None or isinstance(raw, Unavailable) else {"prefix_lists": facts.prefix_lists()}


def _dns_support(facts: Facts, subject: Subject) -> Fields:
    host = facts.host(subject)
    if not isinstance(host, Host):
        return {"host": host}
    return {"host": host, "dns_support": facts.ec2.vpc(host.vpc_id).dns_support,
            **_note(facts, subject, host)}


def _node_ip_limit(facts: Facts, subject: Subject) -> Fields:
    """ENIs x (IPs per ENI - 1): the VPC CNI's pod address ceiling (read when the subnet has room)."""
    raw = facts.network(subject)
    if raw is None or isinstance(raw, Unavailable) or raw.subnet.get("AvailableIpAddressCount") == 0:
        return {}
    if not raw.host.instance_type:
        return {}
    info = facts.ec2.instance_type(raw.host.instance_type)
    network = {} if isinstance(info, Unavailable) else info.get("NetworkInfo", {})
    enis, per_eni = network.get("MaximumNetworkInterfaces"), network.get("Ipv4AddressesPerInterface")
    return {"node_ip_limit": enis * (per_eni - 1) if enis and per_eni else None}


def _pull_role(facts: Facts, subject: Subject) -> Fields:
    if subject.image is None or subject.image.ecr is None:
        return {}
    fields: Fields = {"pull_role": facts.pull_role(subject)}
    if not subject.fargate_profile:
        fields.update(_note(facts, subject, facts.host(subject)))
    return fields


def _role_permissions(facts: Facts, subject: Subject) -> Fields:
    """The role's policies and, one simulation per role for the token and one for every ECR
    repository the scan's findings name, the simulator's decisions (flat in the finding count)."""
    image = subject.image
    if image is None or image.ecr is None:
        return {}
    role = facts.pull_role(subject)
    if isinstance(role, Unavailable):
        return {}
    policies = facts.iam.policies(role)
    if isinstance(policies, Unavailable):
        return {"role_permissions": policies}
    token = facts.iam.simulate(role, (TOKEN,), ("*",))
    pull = facts.iam.simulate(role, PULL, (repository_arn(image), *facts.repository_arns()))
    return {"role_permissions": RolePermissions(tuple(policies), token, pull)}


def _ecr_images(facts: Facts, subject: Subject) -> Fields:
    image = subject.image
    if image is None or image.ecr is None:
        return {}
    found = facts.ecr_images(image)
    if isinstance(found, Unavailable):
        return {"ecr_images": found}
    account, region, name = image.ecr.account, image.ecr.region, image.repository
    if not found.exists:
        return {"ecr_images": EcrImages(False, other_regions=_other_regions(facts, subject),
                                        repositories=facts.ecr.repositories(account, region))}
    detail = found.found.get(image.digest or image.tag or "latest")
    if detail is None:
        return {"ecr_images": EcrImages(True, tags=found.tags,
                                        lifecycle=facts.ecr.lifecycle(account, region, name))}
    pushed = detail.get("imagePushedAt")
    version = ImageVersion(detail.get("imageStatus") == "ARCHIVED",
                           pushed if isinstance(pushed, datetime) else None)
    return {"ecr_images": EcrImages(True, version, found.tags)}


def _other_regions(facts: Facts, subject: Subject) -> tuple[str, ...]:
    """Regions of the same account that hold a repository of that name (one small call each)."""
    image = subject.image
    assert image is not None and image.ecr is not None
    regions = facts.regions()
    if isinstance(regions, Unavailable):
        return ()
    return tuple(region for region in regions if region != image.ecr.region and (
        (repository := facts.ecr.repository(image.ecr.account, region, image.repository))
        and not isinstance(repository, Unavailable)))


def _ecr_encryption(facts: Facts, subject: Subject) -> Fields:
    image = subject.image
    if image is None or image.ecr is None:
        return {}
    repo = facts.ecr.repository(image.ecr.account, image.ecr.region, image.repository)
    if not isinstance(repo, dict):
        return {"ecr_encryption": repo}
    encryption = repo.get("encryptionConfiguration") or {}
    key = encryption.get("kmsKey")
    if not encryption.get("encryptionType", "").startswith("KMS") or not key:
        return {}
    return {"ecr_encryption": Encryption(key, facts.kms.key_state(key))}


def _ecr_policy(facts: Facts, subject: Subject) -> Fields:
    image = subject.image
    if image is None or image.ecr is None or image.ecr.account == facts.account:
        return {}
    if isinstance(facts.pull_role(subject), Unavailable):
        return {}
    policy = facts.ecr.policy(image.ecr.account, image.ecr.region, image.repository)
    return {"ecr_policy": policy if not isinstance(policy, dict) else policy.get("policyText", "{}")}


def _manifest(facts: Facts, subject: Subject) -> Fields:
    image = subject.image
    if image is None or image.ecr is None or not isinstance(facts.host(subject), Host):
        return {}
    manifest = facts.ecr.manifest(image.ecr.account, image.ecr.region, image.repository,
                                  image.digest or image.tag or "latest")
    if isinstance(manifest, Unavailable):
        return {"manifest": manifest}
    document = json.loads(manifest.get("imageManifest") or "{}")
    if manifest.get("imageManifestMediaType") not in _INDEXES and "manifests" not in document:
        return {"manifest": Platforms(False)}
    return {"manifest": Platforms(True, tuple(sorted(
        {f"{m['platform'].get('os')}/{m['platform'].get('architecture')}"
         for m in document.get("manifests", []) if m.get("platform")})))}


def _registry(facts: Facts, subject: Subject) -> Fields:
    """One anonymous token + manifest HEAD per distinct image per scan (cached, budgeted)."""
    return {} if subject.image is None else {"registry": facts.registry.answer(subject.image)}


def _pull_secrets(facts: Facts, subject: Subject) -> Fields:
    """The service account's pull secrets; with secret reading on, each secret in turn (the first
    that cannot be read stops the reading)."""
    image, pod = subject.image, subject.finding.pod_sample
    if image is None or image.ecr is not None or pod is None or subject.finding.secret_warning:
        return {}
    account = facts.service_account(pod.namespace, pod.service_account)
    from_account = account if isinstance(account, Unavailable) else tuple(
        s.get("name", "") for s in account.get("imagePullSecrets") or [])
    names = pod.pull_secrets + (() if isinstance(from_account, Unavailable) else from_account)
    read: dict[str, PullSecret | None] | Unavailable | None = None
    if names and facts.read_secrets:
        read = {}
        for name in dict.fromkeys(names):
            secret = facts.pull_secret(pod.namespace, name)
            if isinstance(secret, Unavailable):
                read = secret
                break
            read[name] = secret
    return {"pull_secrets": PullSecrets(from_account, read)}


def _pull_through_rules(facts: Facts, subject: Subject) -> Fields:
    if subject.image is None or subject.image.registry_kind != "dockerhub":
        return {}
    rules = facts.ecr.pull_through_rules(facts.region)
    return {"pull_through_rules": rules if isinstance(rules, Unavailable) else tuple(
        PullThroughRule(r.get("ecrRepositoryPrefix", ""), r.get("upstreamRegistryUrl", ""))
        for r in rules)}


_READERS: Mapping[Fact, Callable[[Facts, Subject], Fields]] = {
    Fact.HOST: _host, Fact.NETWORK: _network, Fact.PREFIX_LISTS: _prefix_lists,
    Fact.DNS_SUPPORT: _dns_support, Fact.NODE_IP_LIMIT: _node_ip_limit, Fact.PULL_ROLE: _pull_role,
    Fact.ROLE_PERMISSIONS: _role_permissions, Fact.ECR_IMAGES: _ecr_images,
    Fact.ECR_ENCRYPTION: _ecr_encryption, Fact.ECR_POLICY: _ecr_policy, Fact.MANIFEST: _manifest,
    Fact.REGISTRY: _registry, Fact.PULL_SECRETS: _pull_secrets,
    Fact.PULL_THROUGH_RULES: _pull_through_rules,
}
