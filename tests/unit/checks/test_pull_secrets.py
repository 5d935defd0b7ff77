"""pull_secrets over in-memory facts: each verdict it can give."""

from __future__ import annotations

import pytest
from casebook import Case, facts, pod, subject, verify

from pullmedic.core.causes import Cause
from pullmedic.core.unavailable import Unavailable
from pullmedic.diagnosing.checks import pull_secrets
from pullmedic.diagnosing.checks.base import CONFIRMED, PASSED, UNAVAILABLE
from pullmedic.diagnosing.checks.facts import PullSecret, PullSecrets

GHCR = "ghcr.io/acme/api:2"
AUTH = Cause.AUTH_FAILED
WITH_SECRET = {"pod_sample": pod(pull_secrets=("ghcr-creds",))}
DOCKER = "kubernetes.io/dockerconfigjson"
CASES = [
    Case("an ECR image", subject(cause=AUTH), facts(), None),
    Case("no pod", subject(GHCR, AUTH, pod_sample=None), facts(), None),
    Case("the kubelet says the secret is missing", subject(
        GHCR, AUTH, secret_warning='Unable to retrieve some image pull secrets (ghcr-creds); attempting '
                                   'to pull the image may not succeed.'), facts(), CONFIRMED,
        says=("the pod references imagePullSecrets ghcr-creds that do not exist in namespace shop",),
        fix=("kubectl -n shop create secret docker-registry ghcr-creds --docker-server=ghcr.io",)),
    Case("no secret anywhere", subject(GHCR, AUTH), facts(pull_secrets=PullSecrets(())), CONFIRMED,
         says=("neither the pod nor its service account default has imagePullSecrets, and ghcr.io "
               "requires credentials",),
         fix=("kubectl -n shop patch serviceaccount default -p "
              "'{\"imagePullSecrets\":[{\"name\":\"regcred\"}]}'",)),
    Case("service account unreadable", subject(GHCR, AUTH), facts(pull_secrets=PullSecrets(Unavailable(
        "serviceaccounts \"default\" is forbidden"))), UNAVAILABLE,
        says=("the pod has no imagePullSecrets; service account default unreadable: serviceaccounts",)),
    Case("secrets named, reading off", subject(GHCR, AUTH, **WITH_SECRET), facts(
        pull_secrets=PullSecrets(())), PASSED,
        says=("the pod uses imagePullSecrets ghcr-creds: check that they hold valid credentials for "
              "ghcr.io",)),
    Case("secret from the service account", subject(GHCR, AUTH), facts(pull_secrets=PullSecrets(
        ("sa-creds",))), PASSED, says=("imagePullSecrets sa-creds",)),
    Case("secret for another registry", subject(GHCR, AUTH, **WITH_SECRET), facts(pull_secrets=PullSecrets(
        (), {"ghcr-creds": PullSecret("ghcr-creds", DOCKER, ("quay.io",))})), CONFIRMED,
        says=("imagePullSecret ghcr-creds has credentials for quay.io, not ghcr.io",)),
    Case("secret missing", subject(GHCR, AUTH, **WITH_SECRET), facts(pull_secrets=PullSecrets(
        (), {"ghcr-creds": None})), CONFIRMED,
        says=("imagePullSecret ghcr-creds does not exist in namespace shop",)),
    Case("secret of the wrong type", subject(GHCR, AUTH, **WITH_SECRET), facts(pull_secrets=PullSecrets(
        (), {"ghcr-creds": PullSecret("ghcr-creds", "Opaque", ())})), CONFIRMED,
        says=("imagePullSecret ghcr-creds is of type Opaque, not kubernetes.io/dockerconfigjson",)),
    Case("secret for the registry", subject(GHCR, AUTH, **WITH_SECRET), facts(pull_secrets=PullSecrets(
        (), {"ghcr-creds": PullSecret("ghcr-creds", DOCKER, ("ghcr.io",))})), PASSED,
        says=("imagePullSecret ghcr-creds has credentials for ghcr.io: if the pull still fails, they "
              "are wrong or expired",)),
    Case("Docker Hub under index.docker.io", subject("docker.io/acme/api:1", AUTH, **WITH_SECRET),
         facts(pull_secrets=PullSecrets((), {"ghcr-creds": PullSecret(
             "ghcr-creds", DOCKER, ("index.docker.io",))})), PASSED,
         says=("has credentials for docker.io",)),
    Case("secrets unreadable", subject(GHCR, AUTH, **WITH_SECRET), facts(pull_secrets=PullSecrets(
        (), Unavailable("secrets \"ghcr-creds\" is forbidden"))), UNAVAILABLE,
        says=("unavailable: secrets \"ghcr-creds\" is forbidden",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict(case: Case) -> None:
    verify(pull_secrets, case)
