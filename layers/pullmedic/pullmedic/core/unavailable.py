"""A fact that could not be read becomes data (with the reason), never an exception."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

T = TypeVar("T")


@dataclass(frozen=True)
class Unavailable:
    """Why a fact is missing: denied, not supported by the endpoint, throttled, ..."""

    why: str

    def __bool__(self) -> bool:
        return False


def guarded(what: str, read: Callable[[], T]) -> T | Unavailable:
    """Run one AWS read; a denied, failing or unsupported call becomes Unavailable."""
    try:
        return read()
    except (ClientError, BotoCoreError) as err:
        return Unavailable(error_text(what, err))
    except ResponseParserError:  # an answer that is not the API's (e.g. an HTML error page)
        return Unavailable(f"could not call {what}: not supported by this endpoint")


def error_text(what: str, err: ClientError | BotoCoreError) -> str:
    """`what: Code: message`; an HTML error page (not an AWS error) says the endpoint does not
    support the call."""
    if isinstance(err, BotoCoreError):
        return f"{what}: {type(err).__name__}: {err}"
    error = err.response.get("Error", {})
    message = str(error.get("Message") or "")
    if message.lstrip().startswith("<") or not message:  # an HTML error page, not an AWS error
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"could not call {what}: not supported by this endpoint (HTTP {status})"
    return f"{what}: {error.get('Code', 'error')}: {message[:300]}"
