"""The registry probe follows redirects over HTTPS only, a few times at most, as HEAD without the token."""

from __future__ import annotations

import urllib.error
import urllib.request
from email.message import Message

import pytest

from pullmedic.reading.gather.registry import MAX_REDIRECTS, _KeepHead


def head(url: str) -> urllib.request.Request:
    return urllib.request.Request(url, method="HEAD", headers={"Authorization": "Bearer t0ken"})


def test_an_https_redirect_is_followed_as_head_without_the_token() -> None:
    new = _KeepHead().redirect_request(head("https://registry.k8s.io/v2/x/manifests/1"), None, 307,
                                       "Temporary Redirect", Message(),
                                       "https://us-west1-docker.pkg.dev/v2/x/manifests/1")
    assert new.get_method() == "HEAD" and not new.has_header("Authorization")
    assert _KeepHead.max_redirections == MAX_REDIRECTS <= 3


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "ftp://x/y", "file:///etc/passwd"])
def test_a_redirect_away_from_https_is_refused(target: str) -> None:
    with pytest.raises(urllib.error.HTTPError, match="away from HTTPS"):
        _KeepHead().redirect_request(head("https://registry-1.docker.io/v2/x/manifests/1"), None, 302,
                                     "Found", Message(), target)
