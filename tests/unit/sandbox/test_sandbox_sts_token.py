"""EKS bearer tokens minted by boto3 verify only for their cluster, signer and time window."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest

from pullmedic_sandbox.sts_token import TokenCheck, verify

ACCESS_KEY = "AKIASANDBOXTEST00001"
SECRET_KEY = "sandbox/secret+key/0123456789abcdefABCDEF"
SECRETS = {ACCESS_KEY: SECRET_KEY}
STS_ENDPOINT = "http://127.0.0.1:1"


def mint(cluster: str, session_token: str | None = None, access_key: str = ACCESS_KEY) -> str:
    """An EKS token for ``cluster``, made the way EKS clients make it."""
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=session_token,
        region_name="us-east-2",
    )
    sts = session.client("sts", region_name="us-east-2", endpoint_url=STS_ENDPOINT)

    def add_cluster_header(request: object, **_: object) -> None:
        request.headers["x-k8s-aws-id"] = cluster  # type: ignore[attr-defined]

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET"
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def rewrite(token: str, change: Callable[[dict[str, str]], None]) -> str:
    """The token with its URL's query parameters changed by ``change``."""
    payload = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    change(params)
    changed = urlunsplit(parts._replace(query=urlencode(params)))
    return "k8s-aws-v1." + base64.urlsafe_b64encode(changed.encode()).decode().rstrip("=")


def flip_signature(params: dict[str, str]) -> None:
    """Alter one hex digit of the signature."""
    signature = params["X-Amz-Signature"]
    params["X-Amz-Signature"] = signature[:-1] + ("0" if signature[-1] != "0" else "1")


def later(minutes: int) -> dt.datetime:
    """Now shifted by ``minutes``."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def test_minted_token_verifies() -> None:
    assert verify(mint("prod"), "prod", SECRETS) == TokenCheck(True, "", ACCESS_KEY)


def test_session_token_is_part_of_the_signed_url() -> None:
    token = mint("prod", session_token="FwoGZXIvYXdzE+/sandbox==")
    assert verify(token, "prod", SECRETS).ok
    forged = rewrite(token, lambda p: p.update({"X-Amz-Security-Token": "someone-else"}))
    assert verify(forged, "prod", SECRETS).reason.startswith("SignatureDoesNotMatch")


def test_token_is_accepted_for_fifteen_minutes_regardless_of_expires() -> None:
    token = mint("prod")
    assert verify(token, "prod", SECRETS, now=later(14)).ok
    check = verify(token, "prod", SECRETS, now=later(16))
    assert not check.ok and "expired" in check.reason


def test_token_dated_in_the_future_is_rejected() -> None:
    check = verify(mint("prod"), "prod", SECRETS, now=later(-6))
    assert not check.ok and "future" in check.reason


def test_token_for_another_cluster_fails_the_signature_check() -> None:
    token = mint("staging")
    assert verify(token, "staging", SECRETS).ok
    check = verify(token, "prod", SECRETS)
    assert not check.ok and check.reason.startswith("SignatureDoesNotMatch")
    assert check.access_key_id == ACCESS_KEY


def test_tampered_signature_fails_the_signature_check() -> None:
    check = verify(rewrite(mint("prod"), flip_signature), "prod", SECRETS)
    assert not check.ok and check.reason.startswith("SignatureDoesNotMatch")


def test_unknown_access_key_is_rejected() -> None:
    check = verify(mint("prod", access_key="AKIAUNKNOWN000000000"), "prod", SECRETS)
    assert not check.ok and check.reason.startswith("InvalidClientTokenId")


def _drop_cluster_header(params: dict[str, str]) -> None:
    params["X-Amz-SignedHeaders"] = "host"


MALFORMED: dict[str, Callable[[str], str]] = {
    "no prefix": lambda t: t.removeprefix("k8s-aws-v1."),
    "not base64url": lambda t: "k8s-aws-v1.%%%",
    "padded base64": lambda t: t + "==",
    "not a url": lambda t: "k8s-aws-v1." + base64.urlsafe_b64encode(b"hello!").decode(),
    "other action": lambda t: rewrite(t, lambda p: p.update(Action="AssumeRole")),
    "other algorithm": lambda t: rewrite(t, lambda p: p.update({"X-Amz-Algorithm": "AWS4-X"})),
    "cluster header unsigned": lambda t: rewrite(t, _drop_cluster_header),
    "extra parameter": lambda t: rewrite(t, lambda p: p.update(Extra="1")),
    "bad expires": lambda t: rewrite(t, lambda p: p.update({"X-Amz-Expires": "3600"})),
    "too long": lambda t: t + "A" * 5000,
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_tokens_are_rejected(case: str) -> None:
    check = verify(MALFORMED[case](mint("prod")), "prod", SECRETS)
    assert not check.ok and check.reason


def test_failures_have_distinct_reasons() -> None:
    token = mint("prod")
    reasons = [verify(MALFORMED[case](token), "prod", SECRETS).reason for case in MALFORMED]
    reasons.append(verify(token, "prod", SECRETS, now=later(16)).reason)
    reasons.append(verify(rewrite(token, flip_signature), "prod", SECRETS).reason)
    reasons.append(verify(mint("prod", access_key="AKIAUNKNOWN000000000"), "prod", SECRETS).reason)
    assert len(set(reasons)) == len(reasons)
