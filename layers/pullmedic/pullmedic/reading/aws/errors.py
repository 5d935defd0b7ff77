"""What a failed AWS call says, read in one place (never `err.response["Error"]` by hand)."""

from __future__ import annotations

from botocore.exceptions import ClientError


def error_code(err: ClientError) -> str:
    """The error code of a failed call ("" when the response has none)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def error_line(err: ClientError) -> str:
    """`Code: message` of a failed call."""
    message = err.response.get("Error", {}).get("Message", "")
    return f"{error_code(err) or 'error'}: {message}".strip()
