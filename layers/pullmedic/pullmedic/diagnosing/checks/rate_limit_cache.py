"""Docker Hub rate limits: who shares the NAT's address, and the pull-through cache that avoids it."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.imageref import ImageRef
from pullmedic.core.netpath.routes import route_for
from pullmedic.core.netpath.target import INTERNET_STAND_IN
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import PASSED, CheckMeta, Line, Verdict
from pullmedic.diagnosing.checks.facts import NETWORK_READS, Fact, Network, Snapshot, Subject

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
    needs=frozenset({Fact.NETWORK, Fact.PULL_THROUGH_RULES}),
)
# the Docker Hub credentials come from the shell: a pasted command stops, saying so, when unset
SECRET_COMMAND = (
    "aws secretsmanager create-secret --region {region} --name " + SECRET + " --secret-string "
    "\"{{\\\"username\\\":\\\"${{DOCKERHUB_USER:?export DOCKERHUB_USER first}}\\\",\\\"accessToken\\\":"
    "\\\"${{DOCKERHUB_TOKEN:?export DOCKERHUB_TOKEN (a Docker Hub access token) first}}\\\"}}\"")


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for Docker Hub images."""
    image = subject.image
    if image is None or image.registry_kind != "dockerhub":
        return None
    shared = _shared_address(facts.network)
    evidence: list[Line] = []
    rules = facts.pull_through_rules
    prefix = "docker-hub"
    commands = []
    if isinstance(rules, Unavailable):
        evidence.append(rules)
        commands += _cache_rule(facts.region)
    else:
        hub = next((r for r in rules if "docker.io" in r.upstream), None)
        if hub is None:
            evidence.append(f"no ECR pull-through cache rule for Docker Hub in {facts.region}")
            commands += _cache_rule(facts.region)
        else:
            prefix = hub.prefix
            evidence.append(f"pull-through cache rule {prefix} -> {hub.upstream} "
                            "exists: the workload does not use it")
    cached = cached_image(facts.account, facts.region, prefix, image)
    evidence.append(f"pull through the cache as {cached}")
    commands.append(f"kubectl -n {subject.finding.namespace} set image "
                    f"{subject.finding.workload.kind.lower()}/{subject.finding.workload.name} "
                    f"{subject.finding.container}={cached}")
    if shared:
        return Verdict.confirmed(META, shared, *evidence, commands=tuple(commands))
    return Verdict(META.id, PASSED, tuple(evidence), tuple(commands), META.fix)


def cached_image(account: str, region: str, prefix: str, image: ImageRef) -> str:
    """The image's URI through the region's pull-through cache rule `prefix`."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{prefix}/{image.repository}{image.version}"


def _shared_address(net: Network | Unavailable | None) -> str:
    """The NAT gateway's public IP is Docker Hub's quota key for every node behind it."""
    if not isinstance(net, Network) or net.route_table is None:
        return ""
    route = route_for(net.routes, INTERNET_STAND_IN)
    nats = net.nat_gateways
    if route is None or route.target_kind != "nat" or isinstance(nats, Unavailable):
        return ""
    nat = nats.get(route.target_id)
    addresses = ", ".join(nat.public_ips) if nat else ""
    sharing = net.nat_subnets.get(route.target_id, 0)
    return (f"nodes in subnet {net.host.subnet_id} reach Docker Hub through NAT gateway "
            f"{route.target_id} (public IP {addresses}), shared by {sharing} subnet(s): Docker Hub "
            "counts anonymous pulls per public IP")


def _cache_rule(region: str) -> list[str]:
    """The secret with the Docker Hub token, then the rule that uses it."""
    return [SECRET_COMMAND.format(region=region), META.command.format(region=region)]
