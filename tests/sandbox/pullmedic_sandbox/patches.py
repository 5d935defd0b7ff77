"""The three patch formats of ``PATCH`` requests: JSON patch, JSON merge patch, strategic merge.

Strategic merge patch merges lists of objects by their merge key instead of replacing them
(``containers`` by ``name``: ``kubectl set image`` sends only the container it changes). The
server reads merge keys from Go struct tags; here they come from :data:`MERGE_KEYS`, by field
name, for the fields of the kinds the sandbox serves. Directives honoured: ``$patch``
(``replace``/``delete``/``merge``), ``$retainKeys``, ``$setElementOrder/<field>`` and
``$deleteFromPrimitiveList/<field>``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
SUPPORTED = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

#: ``patchMergeKey`` of the list fields (core/v1, apps/v1, batch/v1, meta/v1) that have one.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "ports": "containerPort",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "conditions": "type",
    "ownerReferences": "uid",
    "secrets": "name",
    "addresses": "type",
    "resourceClaims": "name",
}
#: Primitive lists with ``patchStrategy:"merge"`` (union instead of replacement).
MERGED_PRIMITIVE_LISTS = frozenset({"finalizers"})

Json = Any


class PatchError(ValueError):
    """A patch that cannot be applied; ``status`` is the HTTP status the server answers with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def apply(content_type: str, document: Json, raw: bytes) -> Json:
    """``document`` patched by ``raw`` of ``content_type`` (a new object; the input is kept)."""
    try:
        patch = json.loads(raw or b"null")
    except ValueError as error:
        raise PatchError(f"error decoding patch: {error}", 400) from error
    if content_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
        return json_patch(document, patch)
    if not isinstance(patch, dict):
        raise PatchError("patch must be a JSON object", 400)
    if content_type == MERGE_PATCH:
        return merge_patch(document, patch)
    return strategic_merge(document, patch)


# ------------------------------------------------------------------------ JSON merge patch


def merge_patch(target: Json, patch: Json) -> Json:
    """RFC 7386: objects merge recursively, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ------------------------------------------------------------------------------ JSON patch


def json_patch(document: Json, operations: list[Json]) -> Json:
    """RFC 6902: add, remove, replace, move, copy and test, applied in order."""
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchError("invalid JSON patch operation", 400)
        op, path = operation.get("op"), operation.get("path")
        if not isinstance(path, str):
            raise PatchError(f"missing path in JSON patch operation {op!r}")
        if op == "test":
            if _resolve(result, path) != operation.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        elif op == "remove":
            result = _remove(result, path)
        elif op in {"add", "replace"}:
            if "value" not in operation:
                raise PatchError(f"missing value in JSON patch operation {op!r}")
            if op == "replace":
                result = _remove(result, path)
            result = _add(result, path, copy.deepcopy(operation["value"]))
        elif op in {"move", "copy"}:
            source = operation.get("from")
            if not isinstance(source, str):
                raise PatchError(f"missing from in JSON patch operation {op!r}")
            value = copy.deepcopy(_resolve(result, source))
            if op == "move":
                result = _remove(result, source)
            result = _add(result, path, value)
        else:
            raise PatchError(f"Unexpected kind: {op}")
    return result


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _resolve(document: Json, pointer: str) -> Json:
    value = document
    for token in _tokens(pointer):
        value = _child(value, token, pointer)
    return value


def _child(value: Json, token: str, pointer: str) -> Json:
    if isinstance(value, dict) and token in value:
        return value[token]
    if isinstance(value, list) and token.isdigit() and int(token) < len(value):
        return value[int(token)]
    raise PatchError(f"doc is missing path: {pointer!r}: missing value")


def _parent(document: Json, pointer: str) -> tuple[Json, str]:
    tokens = _tokens(pointer)
    if not tokens:
        raise PatchError("cannot patch the document root", 422)
    parent = document
    for token in tokens[:-1]:
        parent = _child(parent, token, pointer)
    return parent, tokens[-1]


def _add(document: Json, pointer: str, value: Json) -> Json:
    if pointer == "":
        return value
    parent, last = _parent(document, pointer)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and (last == "-" or (last.isdigit() and int(last) <= len(parent))):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        raise PatchError(f"doc is missing path: {pointer!r}: missing value")
    return document


def _remove(document: Json, pointer: str) -> Json:
    parent, last = _parent(document, pointer)
    _child(parent, last, pointer)
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]
    return document


# ------------------------------------------------------------------- strategic merge patch


def strategic_merge(original: Json, patch: dict[str, Json]) -> Json:
    """Strategic merge of ``patch`` into ``original`` (see the module docstring)."""
    return _merge_map(original if isinstance(original, dict) else {}, patch)


def _merge_map(original: dict[str, Json], patch: dict[str, Json]) -> dict[str, Json]:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return {}
    if directive not in {None, "merge"}:
        raise PatchError(f"Unknown patch type: {directive}, when merging a map")
    result = copy.deepcopy(original)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    orders = {}
    for key, value in patch.items():
        if key in {"$patch", "$retainKeys"}:
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.partition("/")[2]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            field = key.partition("/")[2]
            result[field] = [v for v in result.get(field) or [] if v not in (value or [])]
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            result[key] = _merge_map(current if isinstance(current, dict) else {}, value)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _ordered(field, result[field], order)
    return result


def _merge_list(field: str, original: Json, patch: list[Json]) -> list[Json]:
    current = original if isinstance(original, list) else []
    if field in MERGED_PRIMITIVE_LISTS:
        return current + [v for v in patch if v not in current]
    key = MERGE_KEYS.get(field)
    if key is None or not all(isinstance(item, dict) for item in patch):
        return [item for item in copy.deepcopy(patch) if not _is_directive(item)]
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not _is_directive(i)]
    result = copy.deepcopy(current)
    for item in patch:
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        index = next(
            (i for i, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append({k: v for k, v in copy.deepcopy(item).items() if k != "$patch"})
        else:
            result[index] = _merge_map(result[index], item)
    return result


def _is_directive(item: Json) -> bool:
    return isinstance(item, dict) and "$patch" in item


def _ordered(field: str, items: list[Json], order: list[Json]) -> list[Json]:
    """Items in ``$setElementOrder`` order; items the order does not name keep their place."""
    key = MERGE_KEYS.get(field)

    def ident(item: Json) -> Json:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    named = iter(sorted((i for i in items if ident(i) in wanted), key=lambda i: wanted.index(ident(i))))
    return [next(named) if ident(item) in wanted else item for item in items]
