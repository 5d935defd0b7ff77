"""A registry's token realm is followed only to HTTPS on the registry's own host (or its known
realm's host): a 401 from a public registry never sends pullmedic anywhere else."""

from __future__ import annotations

import pytest

from pullmedic.reading.gather.registry_auth import KNOWN, Realm, realm_of


@pytest.mark.parametrize(("challenge", "host", "expected"), [
    # Docker Hub's own challenge (its realm is known: several scopes granted)
    ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
     'scope="repository:library/httpd:pull"', "registry-1.docker.io",
     Realm("https://auth.docker.io/token", "registry.docker.io", True)),
    # GCR's realm on its own host; public.ecr.aws names a scope that is not a repository's
    ('Bearer realm="https://gcr.io/v2/token",service="gcr.io",scope="repository:a/b:pull"', "gcr.io",
     Realm("https://gcr.io/v2/token", "gcr.io")),
    ('Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"',
     "public.ecr.aws", Realm("https://public.ecr.aws/token/", "public.ecr.aws", scope="aws")),
    # elsewhere, not HTTPS, not Bearer: not followed
    ('Bearer realm="https://evil.example.com/token",service="gcr.io"', "gcr.io", None),
    ('Bearer realm="https://169.254.169.254/latest/meta-data",service="x"', "ghcr.io", None),
    ('Bearer realm="http://gcr.io/v2/token",service="gcr.io"', "gcr.io", None),
    ('Bearer realm="https://auth.docker.io/token",service="x"', "ghcr.io", None),
    ('Basic realm="Registry Realm"', "registry.k8s.io", None),
    ("", "quay.io", None),
])
def test_realm_is_followed_only_on_the_registry_s_own_host(challenge: str, host: str,
                                                           expected: Realm | None) -> None:
    assert realm_of(challenge, host) == expected


def test_known_realms_are_https_and_name_their_service() -> None:
    assert {host: (realm.url.startswith("https://"), bool(realm.service))
            for host, realm in KNOWN.items()} == dict.fromkeys(KNOWN, (True, True))
