"""Image references parse as the distribution reference grammar says."""

from __future__ import annotations

import pytest

from pullmedic.core.imageref import ImageRef, InvalidReference, parse_image

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(("reference", "registry", "repository", "tag", "digest", "kind"), [
    ("nginx", "docker.io", "library/nginx", "latest", None, "dockerhub"),
    ("nginxx:latest", "docker.io", "library/nginxx", "latest", None, "dockerhub"),
    ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None, "dockerhub"),
    ("docker.io/library/httpd:2.4", "docker.io", "library/httpd", "2.4", None, "dockerhub"),
    ("index.docker.io/grafana/grafana", "docker.io", "grafana/grafana", "latest", None, "dockerhub"),
    (f"nginx@{DIGEST}", "docker.io", "library/nginx", None, DIGEST, "dockerhub"),
    (f"nginx:1.27@{DIGEST}", "docker.io", "library/nginx", "1.27", DIGEST, "dockerhub"),
    ("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", None, "self-hosted"),
    ("localhost/app", "localhost", "app", "latest", None, "self-hosted"),
    ("registry.example.com:8443/a/b/c:1", "registry.example.com:8443", "a/b/c", "1", None,
     "self-hosted"),
    ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None, "self-hosted"),
    ("123456789012.dkr.ecr.us-east-2.amazonaws.com/team/api:1.4.2",
     "123456789012.dkr.ecr.us-east-2.amazonaws.com", "team/api", "1.4.2", None, "ecr"),
    ("public.ecr.aws/eks-distro/kubernetes/pause:3.9", "public.ecr.aws",
     "eks-distro/kubernetes/pause", "3.9", None, "ecr-public"),
    ("gcr.io/google-containers/busybox", "gcr.io", "google-containers/busybox", "latest", None, "gcr"),
    ("us-docker.pkg.dev/proj/repo/img:tag", "us-docker.pkg.dev", "proj/repo/img", "tag", None, "gar"),
    ("myreg.azurecr.io/app:1", "myreg.azurecr.io", "app", "1", None, "acr"),
    ("ghcr.io/acme/tool:v2", "ghcr.io", "acme/tool", "v2", None, "ghcr"),
    ("quay.io/prometheus/node-exporter:v1.8.2", "quay.io", "prometheus/node-exporter", "v1.8.2",
     None, "quay"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io", "pause", "3.10", None, "k8s"),
    ("nginx:Latest", "docker.io", "library/nginx", "Latest", None, "dockerhub"),
])
def test_parses(reference: str, registry: str, repository: str, tag: str | None,
                digest: str | None, kind: str) -> None:
    ref = parse_image(reference)
    assert isinstance(ref, ImageRef)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert ref.registry_kind == kind


@pytest.mark.parametrize(("reference", "account", "region", "fips", "partition"), [
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/a:1", "123456789012", "eu-west-1", False, "aws"),
    ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/a:1", "123456789012", "us-gov-west-1",
     True, "aws-us-gov"),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/a:1", "123456789012", "cn-north-1", False,
     "aws-cn"),
    ("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5", "602401143452", "us-west-2",
     False, "aws"),
    ("123456789012.dkr-ecr.us-east-1.on.aws/a:1", "123456789012", "us-east-1", False, "aws"),
])
def test_ecr_hosts(reference: str, account: str, region: str, fips: bool, partition: str) -> None:
    ref = parse_image(reference)
    assert isinstance(ref, ImageRef) and ref.ecr is not None
    assert (ref.ecr.account, ref.ecr.region, ref.ecr.fips, ref.ecr.partition) == (
        account, region, fips, partition)


@pytest.mark.parametrize(("reference", "reason"), [
    ("Nginx:Latest", "repository name must be lowercase"),
    ("docker.io/Library/nginx", "repository name must be lowercase"),
    ("nginx:bad tag", "invalid reference format"),
    ("nginx:", "invalid reference format"),
    ("nginx@sha256:abc", "invalid reference format"),
    ("-nginx", "invalid reference format"),
    ("a" * 256, "repository name must not be more than 255 characters"),
    ("", "repository name must have at least one component"),
])
def test_rejects(reference: str, reason: str) -> None:
    assert parse_image(reference) == InvalidReference(reference, reason)


def test_official_images_and_display() -> None:
    ref = parse_image("httpd")
    assert isinstance(ref, ImageRef) and ref.is_docker_official
    assert str(ref) == "docker.io/library/httpd:latest" and ref.version == ":latest"
    other = parse_image("bitnami/redis")
    assert isinstance(other, ImageRef) and not other.is_docker_official
