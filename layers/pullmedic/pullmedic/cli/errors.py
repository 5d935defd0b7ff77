"""Exit codes, and the one line each expected failure prints instead of a traceback (pure)."""

from __future__ import annotations

import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ProxyConnectionError,
    ReadTimeoutError,
    SSOError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from pullmedic.announcing.announce import DeliveryIncomplete
from pullmedic.app.event import InvalidEvent

OK = 0  # nothing failing (scan), or the command did what it was asked
FAILED = 1  # the command could not do its job (credentials, network, AWS refused, a file)
USAGE = 2  # the command line is wrong: unknown flag, bad value, missing argument
PROBLEMS = 3  # scan: pods are failing to pull (as prowler exits 3 on failed checks)
INCOMPLETE = 4  # scan: at least one cluster could not be scanned (findings may be missing)
INTERRUPTED = 130  # Ctrl-C
PIPE_CLOSED = 141  # the reader of stdout went away (`| head`): 128 + SIGPIPE, as a shell reports it

EXIT_CODES = ((OK, "nothing failing / done"), (FAILED, "could not do it (one line says why)"),
              (USAGE, "bad command line"), (PROBLEMS, "scan found pods failing to pull"),
              (INCOMPLETE, "scan could not read a cluster"), (INTERRUPTED, "interrupted"),
              (PIPE_CLOSED, "output pipe closed"))

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_REJECTED = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
             "InvalidSignatureException", "AuthFailure", "IncompleteSignature"}
_THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
              "ProvisionedThroughputExceededException", "SlowDown", "RequestThrottled"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"}
# The event's field names, as the CLI's flags (the same checks serve the console event).
_FLAGS = {"'silence.hours'": "--hours", "'silence.reason'": "--reason",
          "'silence.fingerprint'": "--fingerprint", "'silence.workload'": "--workload",
          "'silence.namespace'": "--namespace", "'remediate.fingerprint'": "FINGERPRINT",
          "'remediate.action'": "--action", "'remediate.approved_by'": "--by",
          "'remediate.confirm'": "--yes", "'remediate.cluster'": "--cluster"}
_FIELD = re.compile("|".join(re.escape(k) for k in _FLAGS))


class UsageError(ValueError):
    """The command line asks for something that cannot be done as written."""


def failure(err: BaseException, profile: str | None = None) -> tuple[int, str] | None:
    """The exit code and the one line to print for an expected failure (None: a bug)."""
    if isinstance(err, ClientError | BotoCoreError):
        return _aws_failure(err, profile)
    match err:
        case DeliveryIncomplete():
            return FAILED, str(err)
        case InvalidEvent():
            return USAGE, "; ".join(_FIELD.sub(lambda m: _FLAGS[m[0]], p) for p in err.problems)
        case ValueError():
            return USAGE, str(err)
        case OSError() if err.filename is not None:
            return FAILED, f"cannot read {err.filename}: {err.strerror or err}"
        case OSError():
            return FAILED, f"input/output error: {err}"
    return None


def _aws_failure(err: ClientError | BotoCoreError, profile: str | None) -> tuple[int, str]:
    """What to do about an error of the AWS SDK or an AWS service."""
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    match err:
        case ProfileNotFound():
            return FAILED, (f"the AWS profile {profile or _profile_of(err)!r} is not in your AWS config: "
                            "pass --profile NAME (see `aws configure list-profiles`) or fix AWS_PROFILE")
        case NoCredentialsError() | PartialCredentialsError():
            return FAILED, ("no AWS credentials found: run `aws configure` or `aws sso login`, "
                            "or pass --profile NAME")
        case UnauthorizedSSOTokenError() | SSOTokenLoadError() | TokenRetrievalError() | SSOError():
            return FAILED, f"the AWS SSO session is missing or expired: run `{login}`"
        case NoRegionError():
            return USAGE, "no AWS region: pass --region (or set AWS_REGION, or a region in your profile)"
        case EndpointConnectionError() | ConnectTimeoutError() | ProxyConnectionError():
            return FAILED, (f"cannot reach AWS ({_endpoint(err)}): check the network, a proxy "
                            "(HTTPS_PROXY) and --region")
        case ReadTimeoutError() | ConnectionClosedError():
            return FAILED, f"AWS did not answer in time ({_endpoint(err)}): try again"
        case ClientError():
            return FAILED, _client_error(err, login)
    return FAILED, f"AWS SDK error: {err}"


def _client_error(err: ClientError, login: str) -> str:
    error = err.response.get("Error", {})
    code, message, operation = error.get("Code", ""), error.get("Message", ""), err.operation_name
    if code in _EXPIRED:
        return f"your AWS credentials have expired ({code}): refresh them (`{login}`, or a new session)"
    if code in _REJECTED:
        return f"AWS rejected your credentials ({code}): check --profile, AWS_PROFILE or the access keys"
    if code in _THROTTLED:
        return f"AWS throttled {operation} even after retries ({code}): wait a minute and try again"
    if code in _DENIED:
        return f"your AWS identity may not call {operation}: {message or code}"
    if code == "ResourceNotFoundException":
        return f"{operation}: {message or code}: check the name (--table, --cluster) and --region"
    return f"AWS refused {operation} ({code}): {message}"


def _endpoint(err: BotoCoreError) -> str:
    return str(getattr(err, "kwargs", {}).get("endpoint_url") or err)


def _profile_of(err: ProfileNotFound) -> str:
    return str(getattr(err, "kwargs", {}).get("profile", "?"))
