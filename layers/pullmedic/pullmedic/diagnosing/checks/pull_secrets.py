"""A private non-ECR image has imagePullSecrets that exist (pod or service account)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks.base import CheckMeta, Verdict
from pullmedic.diagnosing.checks.facts import Fact, PullSecret, Snapshot, Subject

META = CheckMeta(
    id="pull_secrets", title="The pod has pull credentials for its registry",
    causes=frozenset({Cause.AUTH_FAILED}), severity="high",
    fix="Create a docker-registry secret for the registry in the pod's namespace and reference it "
        "from the pod or its service account (export REGISTRY_USER and REGISTRY_PASSWORD first: "
        "the command reads the credentials from them).",
    # the credentials come from the shell: a pasted command stops, saying so, when they are unset
    command="kubectl -n {namespace} create secret docker-registry {secret} --docker-server={server} "
            "--docker-username=\"${{REGISTRY_USER:?export REGISTRY_USER first}}\" "
            "--docker-password=\"${{REGISTRY_PASSWORD:?export REGISTRY_PASSWORD first}}\"",
    permissions=("serviceaccounts:get", "secrets:get"),
    needs=frozenset({Fact.PULL_SECRETS}),
)
DOCKER_TYPES = ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg")
_MISSING = re.compile(r"pull secrets? \(?([^)]+?)\)?;|secrets? \"([^\"]+)\" not found")


def run(subject: Subject, facts: Snapshot) -> Verdict | None:
    """Only for registries that are not ECR (ECR pulls use the node role, not secrets)."""
    image, finding, pod = subject.image, subject.finding, subject.finding.pod_sample
    if image is None or image.ecr is not None or pod is None:
        return None
    server = image.registry
    if finding.secret_warning:
        match = _MISSING.search(finding.secret_warning)
        names = next((g for g in (match.groups() if match else ()) if g), "?")
        return Verdict.confirmed(
            META, f"the pod references imagePullSecrets {names} that do not exist in namespace "
                  f"{finding.namespace} (event FailedToRetrieveImagePullSecret)",
            commands=(META.command.format(namespace=finding.namespace, secret=names.split(",")[0].strip(),
                                          server=server),))
    if facts.pull_secrets is None:
        return None
    account, read = facts.pull_secrets.from_account, facts.pull_secrets.read
    secrets = pod.pull_secrets + (() if isinstance(account, Unavailable) else account)
    if secrets and read is not None:
        return _read(subject, read, secrets, server)
    if secrets:
        return Verdict.passed(META, f"the pod uses imagePullSecrets {', '.join(secrets)}: check that "
                                    f"they hold valid credentials for {server}")
    if isinstance(account, Unavailable):
        return Verdict.unavailable(META, f"the pod has no imagePullSecrets; service account "
                                         f"{pod.service_account} unreadable: {account.why}")
    return Verdict.confirmed(
        META, f"neither the pod nor its service account {pod.service_account} has imagePullSecrets, "
              f"and {server} requires credentials",
        commands=(META.command.format(namespace=finding.namespace, secret="regcred", server=server),
                  f"kubectl -n {finding.namespace} patch serviceaccount {pod.service_account} -p "
                  "'{\"imagePullSecrets\":[{\"name\":\"regcred\"}]}'"))


def _read(subject: Subject, read: Mapping[str, PullSecret | None] | Unavailable,
          names: tuple[str, ...], server: str) -> Verdict:
    """With secret reading on: each secret exists, is a registry credential, and names the host."""
    namespace = subject.finding.namespace
    if isinstance(read, Unavailable):
        return Verdict.unavailable(META, read.why)
    problems, seen = [], []
    for name in dict.fromkeys(names):
        secret = read.get(name)
        if secret is None:
            problems.append(f"imagePullSecret {name} does not exist in namespace {namespace}")
        elif secret.type not in DOCKER_TYPES:
            problems.append(f"imagePullSecret {name} is of type {secret.type}, not "
                            "kubernetes.io/dockerconfigjson")
        elif _matching(server, secret.hosts):
            seen.append(name)
        else:
            hosts = ", ".join(secret.hosts) or "no registry"
            problems.append(f"imagePullSecret {name} has credentials for {hosts}, not {server}")
    if seen:
        return Verdict.passed(META, f"imagePullSecret {', '.join(seen)} has credentials for {server}: "
                                    "if the pull still fails, they are wrong or expired")
    return Verdict.confirmed(META, *problems, commands=(META.command.format(
        namespace=namespace, secret=names[0], server=server),))


def _matching(server: str, hosts: tuple[str, ...]) -> bool:
    """Docker Hub credentials are stored under index.docker.io (or docker.io)."""
    aliases = {"docker.io", "index.docker.io", "registry-1.docker.io"}
    return server in hosts or (server in aliases and bool(aliases & set(hosts)))
