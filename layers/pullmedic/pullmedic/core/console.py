"""AWS resource ids named in evidence and fix commands, and their console deep links (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from pullmedic.core.arns import parse_arn

# Ids as EC2 and IAM print them; an ECR repository as an image or repository URI.
_EC2 = re.compile(r"\b(?:sg|acl|rtb|subnet)-[0-9a-f]{8,17}\b")
_ROLE = re.compile(r"\barn:aws(?:-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_REPOSITORY = re.compile(
    r"\b(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?/"
    r"([a-z0-9][a-z0-9._/-]{0,255}?)(?=[:@\s\"',]|$)")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")
_HOSTS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn",
          "aws-us-gov": "console.amazonaws-us-gov.com"}
LINKS_MAX = 6


def resources(text: str) -> tuple[str, ...]:
    """The security groups, network ACLs, route tables, subnets, IAM roles and ECR repositories
    (account.dkr.ecr.region.amazonaws.com/name) that `text` names, in order, once each."""
    found = [(m.start(), m.group(0)) for m in _EC2.finditer(text)]
    found += [(m.start(), m.group(0).rstrip(".,")) for m in _ROLE.finditer(text)]
    found += [(m.start(), f"{m[1]}.dkr.ecr.{m[2]}.amazonaws.com/{m[3]}") for m in _REPOSITORY.finditer(text)]
    return tuple(dict.fromkeys(value for _, value in sorted(found)))


def partition(region: str) -> str:
    """The partition of a Region: aws, aws-cn or aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def account_of(arn: str) -> str | None:
    """The account of an ARN (None when it has none)."""
    parts = parse_arn(arn)
    return parts["account"] if parts and _ACCOUNT.match(parts["account"]) else None


def link(resource: str, region: str) -> tuple[str, str] | None:
    """(what, console URL) for one id `resources` found, in `region`; None when it has no page."""
    if resource.startswith("arn:"):
        name = resource.split(":role/", 1)[1].rsplit("/", 1)[-1]
        host = _HOSTS.get((parse_arn(resource) or {}).get("partition", "aws"), _HOSTS["aws"])
        return f"IAM role {name}", f"https://{host}/iam/home#/roles/details/{quote(name)}"
    repository = _REPOSITORY.match(resource)
    if repository:
        account, where, name = repository.groups()
        return (f"ECR repository {name}", f"https://{_host(where)}/ecr/repositories/private/{account}/"
                f"{quote(name)}?region={where}")
    kind, page, key = {"sg": ("security group", "ec2/home", "SecurityGroup:groupId"),
                       "acl": ("network ACL", "vpcconsole/home", "NetworkAclDetails:networkAclId"),
                       "rtb": ("route table", "vpcconsole/home", "RouteTableDetails:routeTableId"),
                       "subnet": ("subnet", "vpcconsole/home", "SubnetDetails:subnetId"),
                       }.get(resource.split("-", 1)[0], ("", "", ""))
    if not kind:
        return None
    return f"{kind} {resource}", f"https://{_host(region)}/{page}?region={region}#{key}={resource}"


def cluster_link(cluster: str, region: str) -> tuple[str, str]:
    """(what, console URL) of an EKS cluster; `cluster` may be named account/region/name."""
    name = cluster.rsplit("/", 1)[-1]
    return (f"EKS cluster {name}",
            f"https://{_host(region)}/eks/home?region={region}#/clusters/{quote(name)}")


def links(cluster: str | None, region: str | None, texts: Iterable[str]) -> list[tuple[str, str]]:
    """Console links of the cluster (unless None) and of every resource `texts` name (at most
    LINKS_MAX); none when the Region is unknown (or not a Region name)."""
    if not region or not _REGION.match(region):
        return []
    found = [cluster_link(cluster, region)] if cluster else []
    for text in texts:
        found += [item for resource in resources(text) if (item := link(resource, region))]
    return list(dict.fromkeys(found))[:LINKS_MAX]


def _host(region: str) -> str:
    return _HOSTS[partition(region)]
