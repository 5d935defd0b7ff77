"""Docker Hub rate limits: who shares the NAT's address, and the pull-through cache that avoids it."""

from __future__ import annotations

from pullmedic.causes import Cause
from pullmedic.checks.base import PASSED, CheckMeta, Verdict
from pullmedic.evidence import NETWORK_READS, Facts, Subject
from pullmedic.gather.unavailable import Unavailable
from pullmedic.imageref import ImageRef
from pullmedic.netpath.routes import route_for, routes_from_api
from pullmedic.netpath.target import INTERNET_STAND_IN

SECRET = "ecr-pullthroughcache/docker-hub"  # ECR requires the ecr-pullthroughcache/ prefix
META = CheckMeta(
    id="rate_limit_cache", title="Docker Hub pulls go through an ECR pull-through cache",
    causes=frozenset({Cause.RATE_LIMITED}), severity="medium",
    fix="Create an ECR pull-through cache rule for Docker Hub (with a Docker Hub access token in "
        "Secrets Manager) and pull through it.",
    # the rule names the secret by its full ARN (with the suffix Secrets Manager adds): read it
    command="aws ecr create-pull-through-cache-rule --region {region} --ecr-repository-prefix "
            "docker-hub --upstream-registry-url registry-1.docker.io --credential-arn "
            "\"$(aws secretsmanager describe-secret --region {region} --secret-id "
            f"{SECRET} --query ARN --output text)\"",
    permissions=NETWORK_READS + ("ecr:DescribePullThroughCacheRules",),
)
# the Docker Hub credentials come from the shell: a pasted command stops, saying so, when unset
SECRET_COMMAND = (
    "aws secretsmanager create-secret --region {region} --name " + SECRET + " --secret-string "
    "\"{{\\\"username\\\":\\\"${{DOCKERHUB_USER:?export DOCKERHUB_USER first}}\\\",\\\"accessToken\\\":"
    "\\\"${{DOCKERHUB_TOKEN:?export DOCKERHUB_TOKEN (a Docker Hub access token) first}}\\\"}}\"")


def run(subject: Subject, facts: Facts) -> Verdict | None:
    """Only for Docker Hub images."""
    image = subject.image
    if image is None or image.registry_kind != "dockerhub":
        return None
    evidence = [_shared_address(subject, facts)]
    rules = facts.ecr.pull_through_rules(facts.region)
    prefix = "docker-hub"
    commands = []
    if isinstance(rules, Unavailable):
        evidence.append(f"unavailable: {rules.why}")
        commands += _cache_rule(facts.region)
    else:
        hub = next((r for r in rules if "docker.io" in r.get("upstreamRegistryUrl", "")), None)
        if hub is None:
            evidence.append(f"no ECR pull-through cache rule for Docker Hub in {facts.region}")
            commands += _cache_rule(facts.region)
        else:
            prefix = hub["ecrRepositoryPrefix"]
            evidence.append(f"pull-through cache rule {prefix} -> {hub['upstreamRegistryUrl']} "
                            "exists: the workload does not use it")
    cached = cached_image(facts.account, facts.region, prefix, image)
    evidence.append(f"pull through the cache as {cached}")
    commands.append(f"kubectl -n {subject.finding.namespace} set image "
                    f"{subject.finding.workload.kind.lower()}/{subject.finding.workload.name} "
                    f"{subject.finding.container}={cached}")
    if evidence[0]:
        return Verdict.confirmed(META, *evidence, commands=tuple(commands))
    return Verdict(META.id, PASSED, tuple(evidence[1:]), tuple(commands), META.fix)


def cached_image(account: str, region: str, prefix: str, image: ImageRef) -> str:
    """The image's URI through the region's pull-through cache rule `prefix`."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{prefix}/{image.repository}{image.version}"


def _shared_address(subject: Subject, facts: Facts) -> str:
    """The NAT gateway's public IP is Docker Hub's quota key for every node behind it."""
    net = facts.network(subject)
    if net is None or isinstance(net, Unavailable) or net.route_table is None:
        return ""
    route = route_for(routes_from_api(net.route_table), INTERNET_STAND_IN)
    nats = net.vpc.nat_gateways
    if route is None or route.target_kind != "nat" or isinstance(nats, Unavailable):
        return ""
    nat = nats.get(route.target_id, {})
    addresses = ", ".join(a.get("PublicIp", "?") for a in nat.get("NatGatewayAddresses", []))
    tables = net.vpc.route_tables
    sharing = 0 if isinstance(tables, Unavailable) else sum(
        len([a for a in t.get("Associations", []) if a.get("SubnetId")])
        for t in tables if any(r.get("NatGatewayId") == route.target_id for r in t.get("Routes", [])))
    return (f"nodes in subnet {net.host.subnet_id} reach Docker Hub through NAT gateway "
            f"{route.target_id} (public IP {addresses}), shared by {sharing} subnet(s): Docker Hub "
            "counts anonymous pulls per public IP")


def _cache_rule(region: str) -> list[str]:
    """The secret with the Docker Hub token, then the rule that uses it."""
    return [SECRET_COMMAND.format(region=region), META.command.format(region=region)]
