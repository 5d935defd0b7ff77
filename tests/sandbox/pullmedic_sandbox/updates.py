"""What the server checks before a write replaces or removes an object (``PATCH``, ``DELETE``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pullmedic_sandbox.apierrors import ApiError, bad_request, resource_details
from pullmedic_sandbox.resources import ResourceType

Obj = dict[str, Any]


def check_preconditions(rt: ResourceType, obj: Obj, preconditions: Mapping[str, Any]) -> None:
    """409 when DeleteOptions preconditions (uid, resourceVersion) do not hold."""
    metadata = obj["metadata"]
    for field_name, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(field_name)
        if wanted and wanted != metadata.get(field_name):
            message = (
                f"Precondition failed: {label} in precondition: {wanted},"
                f" {label} in object meta: {metadata.get(field_name)}"
            )
            details = resource_details(rt, metadata["name"])
            raise ApiError(409, "Conflict", message, details)


#: Pod spec fields an update may change (``ValidatePodUpdate``), besides container images.
_MUTABLE_POD_SPEC = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds",
                     "schedulingGates")


def validated_update(rt: ResourceType, current: Obj, patched: Any, revision: int) -> Obj | None:
    """The object to store after a patch (``kind``/``apiVersion`` removed), None if unchanged.

    Like the server: identity fields cannot change, a ``resourceVersion`` in the patch must be
    the current one, ``status`` is kept (it changes through the status subresource only), pod
    specs only change images (and a few fields), and a changed ``spec`` bumps
    ``metadata.generation`` of workloads.
    """
    if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
        raise ApiError(422, "Invalid", f"{rt.kind} after the patch is not an object")
    old_meta, new_meta = current["metadata"], patched["metadata"]
    name = old_meta["name"]
    for key in ("kind", "apiVersion"):
        if patched.get(key) != current[key]:
            raise bad_request(f"{key} of the patched object cannot change")
    if new_meta.get("name") != name or new_meta.get("namespace") != old_meta.get("namespace"):
        raise bad_request(
            f"the name of the object ({new_meta.get('name')}) does not match the name on the URL"
            f" ({name})"
        )
    if new_meta.get("resourceVersion") != old_meta.get("resourceVersion"):
        message = (
            f'Operation cannot be fulfilled on {rt.group_resource} "{name}": the object has been'
            " modified; please apply your changes to the latest version and try again"
        )
        raise ApiError(409, "Conflict", message, resource_details(rt, name))
    if new_meta.get("uid") != old_meta.get("uid"):
        raise _invalid(rt, name, "metadata.uid", "FieldValueInvalid",
                       f"Invalid value: {new_meta.get('uid')!r}: field is immutable")
    if "status" in current:  # the main resource ignores status changes (PrepareForUpdate)
        patched["status"] = current["status"]
    else:
        patched.pop("status", None)
    if patched == current:
        return None
    if rt.kind == "Pod" and _pod_spec_frozen(current.get("spec")) != _pod_spec_frozen(patched.get("spec")):
        allowed = ",".join(["`spec.containers[*].image`", "`spec.initContainers[*].image`",
                            *(f"`spec.{f}`" for f in _MUTABLE_POD_SPEC)])
        message = f"Forbidden: pod updates may not change fields other than {allowed}"
        raise _invalid(rt, name, "spec", "FieldValueForbidden", message)
    stored = {k: v for k, v in patched.items() if k not in {"kind", "apiVersion"}}
    stored["metadata"] = {**new_meta, "resourceVersion": str(revision)}
    if rt.group in {"apps", "batch", "policy"} and patched.get("spec") != current.get("spec"):
        stored["metadata"]["generation"] = int(old_meta.get("generation") or 1) + 1
    return stored


def _invalid(rt: ResourceType, name: str, field_path: str, reason: str, message: str) -> ApiError:
    """422 Invalid for one field, with the cause kubectl prints (``The Pod "x" is invalid: ...``)."""
    cause = {"reason": reason, "message": message, "field": field_path}
    details: Obj = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details.update(kind=rt.kind, causes=[cause])
    text = f'{rt.kind} "{name}" is invalid: {field_path}: {message}'
    return ApiError(422, "Invalid", text, details)


def _pod_spec_frozen(spec: Any) -> Any:
    """A pod spec without the fields an update may change."""
    if not isinstance(spec, dict):
        return spec
    frozen = {k: v for k, v in spec.items() if k not in _MUTABLE_POD_SPEC}
    for key in ("containers", "initContainers"):
        if isinstance(frozen.get(key), list):
            frozen[key] = [
                {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
                for c in frozen[key]
            ]
    return frozen
