"""ECR reads: repositories, the requested tags or digests, close matches, policies, caches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pullmedic.core.awsclients import plain, plains
from pullmedic.core.unavailable import Unavailable, guarded
from pullmedic.reading.gather.cache import Memo, aws

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecr.type_defs import ImageIdentifierTypeDef

MAX_TAG_PAGES = 5  # "did you mean" reads at most this many pages of a repository's tags


@dataclass(frozen=True)
class RepoImages:
    """What one repository holds of the versions asked for."""

    exists: bool
    found: dict[str, dict[str, Any]]  # tag or digest -> imageDetail
    tags: tuple[str, ...] = ()  # a sample of existing tags (for suggestions), newest first


class EcrReader:
    """ECR reads across regions and accounts, cached for one scan (safe to share between threads)."""

    def __init__(self, client_for: Callable[[str], ECRClient]) -> None:
        self._client_for = client_for  # region -> boto3 ECR client
        self._images: Memo[tuple[str, str, str, tuple[str, ...]], RepoImages | Unavailable] = Memo()
        self._repos: Memo[tuple[str, str], tuple[str, ...] | Unavailable] = Memo()
        self._policies: Memo[tuple[str, str, str], dict[str, Any] | None | Unavailable] = Memo()
        self._ptc: Memo[str, list[dict[str, Any]] | Unavailable] = Memo()
        self._manifests: Memo[tuple[str, str, str, str], dict[str, Any] | Unavailable] = Memo()
        self._details: Memo[tuple[str, str, str], dict[str, Any] | None | Unavailable] = Memo()
        self._lifecycles: Memo[tuple[str, str, str], str | None | Unavailable] = Memo()

    def images(self, account: str, region: str, repo: str,
               versions: tuple[str, ...]) -> RepoImages | Unavailable:
        """One describe_images for all the tags/digests a scan asks of `repo`."""
        key = (account, region, repo, tuple(sorted(set(versions))))
        return self._images.get(key, lambda: self._read_images(account, region, repo, key[3]))

    def repositories(self, account: str, region: str) -> tuple[str, ...] | Unavailable:
        """Every repository name in a registry (for "did you mean" and other-region checks)."""
        def read() -> tuple[str, ...]:
            pages = self._client_for(region).get_paginator("describe_repositories").paginate(
                registryId=account)
            return tuple(r["repositoryName"] for page in pages for r in page["repositories"])
        return self._repos.get((account, region), lambda: guarded("ecr:DescribeRepositories", read))

    def policy(self, account: str, region: str, repo: str) -> dict[str, Any] | None | Unavailable:
        """The repository policy text (None when the repository has none)."""
        client = self._client_for(region)
        return aws(self._policies, (account, region, repo), "ecr:GetRepositoryPolicy",
                   lambda: plain(client.get_repository_policy(registryId=account, repositoryName=repo)),
                   absent=client.exceptions.RepositoryPolicyNotFoundException)

    def repository(self, account: str, region: str, repo: str) -> dict[str, Any] | None | Unavailable:
        """The repository's description (encryption, URI), read once; None: it does not exist."""
        client = self._client_for(region)
        return aws(self._details, (account, region, repo), "ecr:DescribeRepositories",
                   lambda: plain(client.describe_repositories(registryId=account,
                                                              repositoryNames=[repo])["repositories"][0]),
                   absent=client.exceptions.RepositoryNotFoundException)

    def lifecycle(self, account: str, region: str, repo: str) -> str | None | Unavailable:
        """The repository's lifecycle policy text (None: it has none)."""
        client = self._client_for(region)
        return aws(self._lifecycles, (account, region, repo), "ecr:GetLifecyclePolicy",
                   lambda: client.get_lifecycle_policy(registryId=account, repositoryName=repo)[
                       "lifecyclePolicyText"],
                   absent=client.exceptions.LifecyclePolicyNotFoundException)

    def pull_through_rules(self, region: str) -> list[dict[str, Any]] | Unavailable:
        """Existing pull-through cache rules of the region."""
        def read() -> list[dict[str, Any]]:
            pages = self._client_for(region).get_paginator("describe_pull_through_cache_rules").paginate()
            return plains(r for page in pages for r in page["pullThroughCacheRules"])
        return self._ptc.get(region, lambda: guarded("ecr:DescribePullThroughCacheRules", read))

    def manifest(self, account: str, region: str, repo: str, version: str) -> dict[str, Any] | Unavailable:
        """The image's manifest (an index lists its platforms), read once per image."""
        key = (account, region, repo, version)
        return self._manifests.get(key, lambda: self._read_manifest(*key))

    def _read_manifest(self, account: str, region: str, repo: str,
                       version: str) -> dict[str, Any] | Unavailable:
        client = self._client_for(region)
        image_id = _image_id(version)
        result = guarded("ecr:BatchGetImage", lambda: client.batch_get_image(
            registryId=account, repositoryName=repo, imageIds=[image_id], acceptedMediaTypes=[
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json"]))
        if isinstance(result, Unavailable):
            return result
        images = plains(result.get("images") or [])
        if not images:
            return Unavailable(f"ecr:BatchGetImage: {version} not returned")
        return images[0]

    def _read_images(self, account: str, region: str, repo: str,
                     versions: tuple[str, ...]) -> RepoImages | Unavailable:
        """One describe_images for all ids; when some are missing, one bounded tag listing."""
        client = self._client_for(region)
        ids = [_image_id(v) for v in versions]
        try:
            details = client.describe_images(registryId=account, repositoryName=repo,
                                              imageIds=ids)["imageDetails"]
            return RepoImages(True, _match(plains(details), versions))
        except client.exceptions.RepositoryNotFoundException:
            return RepoImages(False, {})
        except client.exceptions.ImageNotFoundException:
            pass
        except (ClientError, BotoCoreError) as err:
            return Unavailable(f"ecr:DescribeImages: {err}")
        listed = guarded("ecr:DescribeImages", lambda: self._recent(client, account, repo))
        if isinstance(listed, Unavailable):
            return listed
        return RepoImages(True, _match(listed, versions),
                          tuple(t for d in listed for t in d.get("imageTags", [])))

    @staticmethod
    def _recent(client: ECRClient, account: str, repo: str) -> list[dict[str, Any]]:
        """The repository's images, newest push first (at most MAX_TAG_PAGES pages)."""
        details: list[dict[str, Any]] = []
        pages = client.get_paginator("describe_images").paginate(registryId=account,
                                                                  repositoryName=repo)
        for number, page in enumerate(pages):
            details.extend(plains(page.get("imageDetails", [])))
            if number + 1 >= MAX_TAG_PAGES:
                break
        return sorted(details, key=lambda d: d.get("imagePushedAt") or 0, reverse=True)


def _image_id(version: str) -> ImageIdentifierTypeDef:
    """The image id of a digest or a tag."""
    return {"imageDigest": version} if version.startswith("sha256:") else {"imageTag": version}


def _match(details: list[dict[str, Any]], versions: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """version (tag or digest) -> the image detail that carries it."""
    found: dict[str, dict[str, Any]] = {}
    for detail in details:
        for version in versions:
            if version == detail.get("imageDigest") or version in detail.get("imageTags", []):
                found[version] = detail
    return found
