"""Errors as kube-apiserver answers them: ``metav1.Status`` bodies with the server's reasons."""

from __future__ import annotations

from typing import Any

from pullmedic_sandbox.resources import ResourceType

Obj = dict[str, Any]



_GENERIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "Unauthorized"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("Conflict", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", 'an error on the server ("") has prevented the request from succeeding'),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "the server was unable to return a response in the time allotted,"
        " but may still be processing the request",
    ),
}


class ApiError(Exception):
    """An error answered as a ``Status`` object (and ``Retry-After`` when ``retry_after``)."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: Obj | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.retry_after = details, retry_after

    def status(self) -> Obj:
        """The Status body, fields in the server's order."""
        details = dict(self.details or {})
        if self.retry_after:
            details["retryAfterSeconds"] = self.retry_after
        return status_body("Failure", self.code, self.message, self.reason, details or None)

    def headers(self) -> tuple[tuple[str, str], ...]:
        """``Retry-After`` when the error carries one."""
        return (("Retry-After", str(self.retry_after)),) if self.retry_after else ()


def status_body(
    status: str, code: int, message: str = "", reason: str = "", details: Obj | None = None
) -> Obj:
    """A ``metav1.Status`` (empty fields omitted, as Go's ``omitempty`` does)."""
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status}
    body.update({k: v for k, v in (("message", message), ("reason", reason)) if v})
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def generic_error(code: int, message: str | None = None) -> ApiError:
    """The error a server answers with for a bare status code."""
    unknown = (
        f"the server responded with the status code {code} but did not return more information"
    )
    reason, default = _GENERIC_ERRORS.get(code, ("Unknown", unknown))
    return ApiError(code, reason, message or default)


def bad_request(message: str) -> ApiError:
    """400 BadRequest."""
    return ApiError(400, "BadRequest", message)


def resource_details(rt: ResourceType, name: str | None = None) -> Obj:
    """``StatusDetails`` naming a resource (and object)."""
    details: Obj = {"name": name} if name else {}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> ApiError:
    """404 for a missing object."""
    message = f'{rt.group_resource} "{name}" not found'
    return ApiError(404, "NotFound", message, resource_details(rt, name))
