"""Ask the public registry (Docker Hub, GHCR, Quay, registry.k8s.io, GCR/Artifact Registry,
public.ecr.aws) whether the image exists, anonymously, and weigh its answer against the message.

Runs only where the deployment says the function reaches the internet (PULLMEDIC_REGISTRY_PROBE).
"""

from __future__ import annotations

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict
from pullmedic.diagnosing.checks.facts import Fact, Snapshot, Subject
from pullmedic.reading.gather.registry import (
    ASKED_FOR,
    AUTH_REQUIRED,
    EXISTS,
    NOT_FOUND,
    RATE_LIMITED,
    RegistryAnswer,
)

META = CheckMeta(
    id="public_registry", title="The public registry's own answer for the image",
    causes=ASKED_FOR,
    severity="medium",
    fix="Fix the image reference to one the registry has, or give the pod an imagePullSecret for it.",
    command="kubectl -n {namespace} rollout restart {workload}",
    permissions=(),  # anonymous HTTPS to the registry: no AWS or Kubernetes permission
    needs=frozenset({Fact.REGISTRY}),
)


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """One manifest HEAD per distinct image per scan (cached, budgeted; the anonymous token is
    asked once per registry, see gather/registry_auth.py)."""
    image, answer = subject.image, facts.registry
    if image is None or answer is None:
        return None
    if isinstance(answer, Unavailable):
        return Verdict.unavailable(META, answer.why)
    said = _said(answer, f"{image.registry}/{image.repository}{image.version}")
    cause = subject.finding.cause
    if answer.status == EXISTS:
        if cause == Cause.IMAGE_NOT_FOUND:
            return Verdict.contradicted(
                META, said, "the node's \"not found\" did not come from this registry's current "
                "state: the pull went through a mirror (containerd hosts.toml) that lacks it, or "
                "the tag was pushed since; retry the pods", cause=Cause.REGISTRY_SERVER_ERROR)
        return Verdict.passed(META, said)
    if answer.status == NOT_FOUND:
        if cause == Cause.IMAGE_NOT_FOUND:
            return Verdict.confirmed(META, said)
        return Verdict.contradicted(META, said, cause=Cause.IMAGE_NOT_FOUND)
    if answer.status == AUTH_REQUIRED:  # anonymously, a registry says so of missing repositories too
        return Verdict.passed(META, f"{said} (a private repository, or one that does not exist: an "
                                    "anonymous request cannot tell which)")
    if answer.status == RATE_LIMITED:  # pullmedic's own address is limited: the node's may not be
        if cause == Cause.RATE_LIMITED:
            return Verdict.confirmed(META, said)
        return Verdict.passed(META, f"{said} (the limit of pullmedic's address, not necessarily the "
                                    "node's)")
    return Verdict.unavailable(META, f"{answer.host} is unreachable from pullmedic: {answer.detail}")


def _said(answer: RegistryAnswer, image: str) -> str:
    """E.g. "registry-1.docker.io answers anonymously that docker.io/library/x:1 exists (HTTP 200)"."""
    quota = answer.quota()
    return (f"{answer.host} answers anonymously that {image}: {answer.status} ({answer.detail}"
            f"{'; ' + quota if quota else ''})")
