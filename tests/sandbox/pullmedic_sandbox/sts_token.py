"""Verification of EKS bearer tokens (``k8s-aws-v1.`` + base64url of a presigned STS URL).

EKS accepts a token when the presigned ``sts:GetCallerIdentity`` URL it carries is well formed
(checks mirror aws-iam-authenticator ``pkg/token/token.go`` ``Verify``) and STS accepts the URL's
SigV4 query signature.  In the sandbox nothing calls STS: the signature is recomputed here over the
same URL with the headers the verifier itself supplies -- ``host`` (from the URL) and
``x-k8s-aws-id: <this cluster's name>`` -- using the secret key of the URL's access key id.  A token
minted for another cluster therefore fails exactly like a tampered one: STS cannot tell them apart
either, both are ``SignatureDoesNotMatch``.

Session credentials are covered too: ``X-Amz-Security-Token`` is part of the signed query string.
The session token itself is not checked against anything (the sandbox has no STS session store).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
ALGORITHM = "AWS4-HMAC-SHA256"
#: Presigned STS URLs are honoured for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says.
TOKEN_LIFETIME = dt.timedelta(minutes=15)
#: AWS rejects request dates further in the future than this.
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_TOKEN_LENGTH = 4 * 1024
_ALLOWED_PARAMETERS = frozenset(
    {
        "action",
        "version",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-security-token",
        "x-amz-signature",
        "x-amz-signedheaders",
    }
)
_SIGNABLE_HEADERS = frozenset({"host", CLUSTER_ID_HEADER})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_EMPTY_PAYLOAD_SHA256 = hashlib.sha256(b"").hexdigest()
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class TokenCheck:
    """Outcome of :func:`verify`: ``reason`` is empty when ``ok``."""

    ok: bool
    reason: str
    access_key_id: str | None = None


class _Rejected(Exception):
    """A token check failed; the message is the reason."""


@dataclass(frozen=True)
class _PresignedUrl:
    """The parts of a presigned STS URL that the signature covers."""

    path: str
    host: str
    params: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str:
        """Value of a query parameter, case-insensitive, or ``""``."""
        lowered = name.lower()
        return next((v for k, v in self.params if k.lower() == lowered), "")


def verify(
    token: str,
    cluster: str,
    secrets: Mapping[str, str],
    now: dt.datetime | None = None,
) -> TokenCheck:
    """Check an EKS bearer token for ``cluster``; ``secrets`` maps access key ids to secret keys."""
    try:
        url = _parse_token(token)
        _check_shape(url)
        _check_time(url, now or dt.datetime.now(dt.UTC))
        access_key_id = _check_signature(url, cluster, secrets)
    except _Rejected as rejected:
        return TokenCheck(ok=False, reason=str(rejected), access_key_id=_access_key_id(token))
    return TokenCheck(ok=True, reason="", access_key_id=access_key_id)


def _parse_token(token: str) -> _PresignedUrl:
    """Decode the token into the presigned URL it carries."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise _Rejected("token is too large")
    if not token.startswith(TOKEN_PREFIX):
        raise _Rejected(f"token is missing expected {TOKEN_PREFIX!r} prefix")
    url = _decode_base64url(token.removeprefix(TOKEN_PREFIX))
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise _Rejected("token does not carry an http(s) URL")
    if parts.path != "/":
        raise _Rejected("unexpected path in pre-signed URL")
    params = tuple(parse_qsl(parts.query, keep_blank_values=True))
    return _PresignedUrl(path=parts.path, host=_host_header(parts), params=params)


def _decode_base64url(payload: str) -> str:
    """Strict unpadded base64url decoding to text."""
    if payload.endswith("="):
        raise _Rejected("token payload has base64 padding")
    if not payload or not _BASE64URL.fullmatch(payload):
        raise _Rejected("token payload is not base64url")
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise _Rejected(f"token payload does not decode: {error}") from error


def _host_header(parts: SplitResult) -> str:
    """The ``host`` header value a SigV4 signer derives from the URL (default port dropped)."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{parts.port}"
    return host


def _check_shape(url: _PresignedUrl) -> None:
    """Query parameter checks done before any cryptography."""
    names = [name.lower() for name, _ in url.params]
    for name in names:
        if name not in _ALLOWED_PARAMETERS:
            raise _Rejected(f"non-whitelisted query parameter {name!r}")
    if len(names) != len(set(names)):
        raise _Rejected("query parameter with multiple values not supported")
    if url.get("Action") != "GetCallerIdentity":
        raise _Rejected("unexpected action parameter in pre-signed URL")
    if url.get("X-Amz-Algorithm") != ALGORITHM:
        raise _Rejected(f"unsupported X-Amz-Algorithm {url.get('X-Amz-Algorithm')!r}")
    signed = url.get("X-Amz-SignedHeaders").lower().split(";")
    if CLUSTER_ID_HEADER not in signed:
        raise _Rejected(f"client did not sign the {CLUSTER_ID_HEADER} header in the pre-signed URL")
    if not set(signed) <= _SIGNABLE_HEADERS:
        raise _Rejected(f"unexpected signed headers {url.get('X-Amz-SignedHeaders')!r}")
    expires = url.get("X-Amz-Expires")
    if not expires.isdigit() or int(expires) > 900:
        raise _Rejected(f"invalid X-Amz-Expires parameter in pre-signed URL: {expires!r}")


def _check_time(url: _PresignedUrl, now: dt.datetime) -> None:
    """Reject dates older than the 15-minute token lifetime or too far in the future."""
    raw = url.get("X-Amz-Date")
    if not raw:
        raise _Rejected("X-Amz-Date parameter must be present in pre-signed URL")
    try:
        signed_at = dt.datetime.strptime(raw, _DATE_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError as error:
        raise _Rejected(f"error parsing X-Amz-Date parameter {raw!r}") from error
    if now > signed_at + TOKEN_LIFETIME:
        raise _Rejected(f"X-Amz-Date parameter is expired (15 minute expiration) {raw}")
    if signed_at > now + MAX_CLOCK_SKEW:
        raise _Rejected(f"X-Amz-Date parameter is in the future {raw}")


def _check_signature(url: _PresignedUrl, cluster: str, secrets: Mapping[str, str]) -> str:
    """Recompute the SigV4 signature; return the access key id when it matches."""
    access_key_id, scope = _credential_scope(url)
    secret = secrets.get(access_key_id)
    if secret is None:
        raise _Rejected(f"InvalidClientTokenId: unknown access key id {access_key_id!r}")
    expected = _signature(url, cluster, secret, scope)
    if not hmac.compare_digest(expected, url.get("X-Amz-Signature")):
        raise _Rejected(
            f"SignatureDoesNotMatch: the signature is not valid for cluster {cluster!r}"
        )
    return access_key_id


def _credential_scope(url: _PresignedUrl) -> tuple[str, str]:
    """Split ``AKID/yyyymmdd/region/sts/aws4_request`` into the key id and the scope."""
    parts = url.get("X-Amz-Credential").split("/")
    if len(parts) != 5 or parts[3] != "sts" or parts[4] != "aws4_request":
        raise _Rejected("malformed X-Amz-Credential parameter")
    if parts[1] != url.get("X-Amz-Date")[:8]:
        raise _Rejected("X-Amz-Credential date does not match X-Amz-Date")
    return parts[0], "/".join(parts[1:])


def _signature(url: _PresignedUrl, cluster: str, secret: str, scope: str) -> str:
    """SigV4 query signature of the URL as a GET with ``host`` and the cluster id header."""
    signed_headers = url.get("X-Amz-SignedHeaders").lower()
    header_values = {"host": url.host, CLUSTER_ID_HEADER: cluster}
    canonical_headers = "".join(
        f"{name}:{header_values[name]}\n" for name in signed_headers.split(";")
    )
    canonical_request = "\n".join(
        [
            "GET",
            _uri_encode(url.path, safe="/~"),
            _canonical_query(url.params),
            canonical_headers,
            signed_headers,
            _EMPTY_PAYLOAD_SHA256,
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, url.get("X-Amz-Date"), scope, _sha256_hex(canonical_request)]
    )
    return hmac.new(
        _signing_key(secret, scope), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()


def _canonical_query(params: tuple[tuple[str, str], ...]) -> str:
    """URI-encoded, sorted query string without the signature itself."""
    encoded = sorted(
        (_uri_encode(name), _uri_encode(value))
        for name, value in params
        if name != "X-Amz-Signature"
    )
    return "&".join(f"{name}={value}" for name, value in encoded)


def _signing_key(secret: str, scope: str) -> bytes:
    """Derive the SigV4 signing key for ``date/region/service/aws4_request``."""
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _uri_encode(text: str, safe: str = "-_.~") -> str:
    """AWS URI encoding: everything but unreserved characters is percent-encoded."""
    return quote(text, safe=safe)


def _sha256_hex(text: str) -> str:
    """Hex SHA-256 of UTF-8 text."""
    return hashlib.sha256(text.encode()).hexdigest()


def _access_key_id(token: str) -> str | None:
    """Best-effort access key id of a rejected token, for diagnostics."""
    try:
        url = _parse_token(token)
    except _Rejected:
        return None
    return url.get("X-Amz-Credential").split("/")[0] or None
