"""Create the ECR pull-through cache rule for Docker Hub; workload images are never edited."""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.model import Finding
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CONFIRMED
from pullmedic.diagnosing.checks.rate_limit_cache import cached_image
from pullmedic.diagnosing.evidence import subject_of
from pullmedic.diagnosing.findings import fingerprint
from pullmedic.remediating.actions.base import (
    ActionMeta,
    Call,
    Context,
    Outcome,
    Plan,
    attempt,
    evidence_digest,
    proven,
)

PREFIX, UPSTREAM = "docker-hub", "registry-1.docker.io"
SECRET_PREFIX = "ecr-pullthroughcache/"  # ECR only accepts credentials from secrets named so
META = ActionMeta(
    id="pull_through_cache", title="Create an ECR pull-through cache rule for Docker Hub",
    causes=frozenset({Cause.RATE_LIMITED}), evidence=(("rate_limit_cache", CONFIRMED),),
    changes=f"creates the pull-through cache rule {PREFIX} -> {UPSTREAM} in the cluster's Region, "
            "authenticated with the Docker Hub secret the deployer names; workloads keep their "
            "images until someone points them at the rewritten URIs",
    calls=(f"ecr:CreatePullThroughCacheRule ecrRepositoryPrefix={PREFIX} upstreamRegistryUrl={UPSTREAM} "
           "credentialArn={secret}",),
    undo=f"aws ecr delete-pull-through-cache-rule --region {{region}} --ecr-repository-prefix {PREFIX}",
    permissions=("ecr:CreatePullThroughCacheRule", "iam:CreateServiceLinkedRole"), kube_verbs=(),
)


def applies(finding: Finding) -> bool:
    """Docker Hub's rate limit, proven from the nodes' shared NAT address."""
    return proven(META, finding)


def plan(context: Context) -> Plan | None:
    """The rule to create, and each rate-limited Docker Hub workload's image through it."""
    finding, facts = context.finding, context.facts
    subject = subject_of(finding)
    if subject.image is None or subject.image.registry_kind != "dockerhub":
        return None
    rules = facts.ecr.pull_through_rules(facts.region)
    in_place = not isinstance(rules, Unavailable) and any(
        r.get("ecrRepositoryPrefix") == PREFIX for r in rules)
    if not in_place and not applies(finding):
        return None
    secret = context.settings.dockerhub_secret_arn or ""
    notes = [f"{w}: {image} -> {cached}" for w, image, cached in _rewrites(context)]
    notes.append("workload images are not edited: point them at the URIs above (kubectl set image)")
    if isinstance(rules, Unavailable):
        notes.append(f"whether a rule exists already is unknown: {rules.why}")
    call = Call("ecr:CreatePullThroughCacheRule", f"pull-through cache rule {PREFIX} in {facts.region}",
                {"region": facts.region, "ecrRepositoryPrefix": PREFIX,
                 "upstreamRegistryUrl": UPSTREAM, "credentialArn": secret})
    return Plan(
        action=META.id, fingerprint=fingerprint(finding), cluster=finding.cluster,
        namespace=finding.namespace, resources=(f"ecr:{facts.region}:pull-through-cache/{PREFIX}",),
        calls=(call,), undo=(META.undo.format(region=facts.region),),
        evidence_digest=evidence_digest(META, finding, facts.region, secret), notes=tuple(notes),
        blocker=_blocker(secret), in_place=in_place)


def apply(plan: Plan, context: Context) -> Outcome:
    """Create the rule; ECR's answer that it exists already means it is done."""
    (call,) = plan.calls
    params = dict(call.params)
    ecr = context.client_for("ecr", params.pop("region"))
    return Outcome((attempt(call, lambda: ecr.create_pull_through_cache_rule(**params),
                            f"created the rule {PREFIX} -> {UPSTREAM}",
                            already=ecr.exceptions.PullThroughCacheRuleAlreadyExistsException),))


def _rewrites(context: Context) -> list[tuple[str, str, str]]:
    """(workload and container, image, cached URI) of the cluster's rate-limited Docker Hub pulls."""
    found = []
    for finding in context.findings:
        image = subject_of(finding).image
        if finding.cause == Cause.RATE_LIMITED and image is not None and image.registry_kind == "dockerhub":
            workload = f"{finding.workload.kind}/{finding.workload.name}"
            found.append((f"{finding.namespace}/{workload} ({finding.container})", finding.image,
                          cached_image(context.facts.account, context.facts.region, PREFIX, image)))
    return found


def _blocker(secret: str) -> str | None:
    if not secret:
        return ("no Docker Hub credential: deploy with DockerHubSecretArn (PULLMEDIC_DOCKERHUB_SECRET_ARN) "
                f"naming a Secrets Manager secret {SECRET_PREFIX}... with the Docker Hub user and token")
    if not secret.split(":secret:", 1)[-1].startswith(SECRET_PREFIX):
        return f"the Docker Hub secret {secret} must be named {SECRET_PREFIX}... for ECR to use it"
    return None
