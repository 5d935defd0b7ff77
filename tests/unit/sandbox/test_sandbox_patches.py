"""The simulated API's patch formats, against the examples of RFC 6902/7386 and kubectl's own
strategic merge patches (``kubectl set image`` sends ``$setElementOrder``)."""

from __future__ import annotations

import json

import pytest

from pullmedic_sandbox.patches import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    PatchError,
    apply,
    json_patch,
    merge_patch,
    strategic_merge,
)

POD_SPEC = {
    "containers": [
        {"name": "app", "image": "nginx:stable", "env": [{"name": "A", "value": "1"}]},
        {"name": "log", "image": "fluent-bit:3.1"},
    ],
    "tolerations": [{"key": "a", "operator": "Exists"}],
}


def test_merge_patch_rfc7386_example() -> None:
    target = {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
              "tags": ["example", "sample"], "content": "This will be unchanged"}
    patch = {"title": "Hello!", "phoneNumber": "+01-123-456-7890",
             "author": {"familyName": None}, "tags": ["example"]}
    assert merge_patch(target, patch) == {
        "title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
        "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"}
    assert target["title"] == "Goodbye!"  # the input is kept


def test_json_patch_operations_in_order() -> None:
    doc = {"a": {"b": [1, 2]}, "c": "x"}
    result = json_patch(doc, [
        {"op": "add", "path": "/a/b/-", "value": 3},
        {"op": "add", "path": "/a/b/0", "value": 0},
        {"op": "remove", "path": "/c"},
        {"op": "copy", "from": "/a/b", "path": "/d"},
        {"op": "move", "from": "/d", "path": "/e~1f"},
        {"op": "replace", "path": "/a/b/1", "value": 9},
        {"op": "test", "path": "/e~1f/3", "value": 3},
    ])
    assert result == {"a": {"b": [0, 9, 2, 3]}, "e/f": [0, 1, 2, 3]}
    assert doc == {"a": {"b": [1, 2]}, "c": "x"}


@pytest.mark.parametrize("operation", [
    {"op": "test", "path": "/a", "value": 2},
    {"op": "remove", "path": "/missing"},
    {"op": "replace", "path": "/a/b", "value": 1},
    {"op": "frobnicate", "path": "/a"},
])
def test_json_patch_failures(operation: dict) -> None:
    with pytest.raises(PatchError):
        json_patch({"a": 1}, [operation])


def test_strategic_merge_merges_containers_by_name() -> None:
    """What `kubectl set image deploy/x app=nginx:1.27` sends."""
    patch = {"containers": [{"image": "nginx:1.27", "name": "app"}],
             "$setElementOrder/containers": [{"name": "app"}, {"name": "log"}]}
    result = strategic_merge(POD_SPEC, patch)
    assert result["containers"] == [
        {"name": "app", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}]},
        {"name": "log", "image": "fluent-bit:3.1"}]


def test_strategic_merge_directives() -> None:
    delete = strategic_merge(POD_SPEC, {"containers": [{"name": "log", "$patch": "delete"}]})
    assert [c["name"] for c in delete["containers"]] == ["app"]
    replace = strategic_merge(POD_SPEC, {"containers": [{"name": "new", "image": "x"},
                                                        {"$patch": "replace"}]})
    assert replace["containers"] == [{"name": "new", "image": "x"}]
    added = strategic_merge(POD_SPEC, {"containers": [{"name": "side", "image": "y"}]})
    assert [c["name"] for c in added["containers"]] == ["app", "log", "side"]
    order = strategic_merge(POD_SPEC, {"$setElementOrder/containers": [{"name": "log"},
                                                                      {"name": "app"}]})
    assert [c["name"] for c in order["containers"]] == ["log", "app"]
    retained = strategic_merge({"a": 1, "b": 2}, {"$retainKeys": ["a", "c"], "c": 3})
    assert retained == {"a": 1, "c": 3}


def test_lists_without_a_merge_key_are_replaced_and_finalizers_merge() -> None:
    tolerations = strategic_merge(POD_SPEC, {"tolerations": [{"key": "b", "operator": "Exists"}]})
    assert tolerations["tolerations"] == [{"key": "b", "operator": "Exists"}]
    meta = strategic_merge({"finalizers": ["a"]}, {"finalizers": ["b", "a"]})
    assert meta["finalizers"] == ["a", "b"]
    removed = strategic_merge({"finalizers": ["a", "b"]}, {"$deleteFromPrimitiveList/finalizers": ["a"]})
    assert removed["finalizers"] == ["b"]


def test_missing_merge_key_is_rejected() -> None:
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        strategic_merge(POD_SPEC, {"containers": [{"image": "x"}]})


@pytest.mark.parametrize(("content_type", "raw", "status"), [
    (MERGE_PATCH, b"{not json", 400),
    (JSON_PATCH, b'{"op": "add"}', 400),
    (STRATEGIC_MERGE_PATCH, b"[]", 400),
])
def test_malformed_patches_are_bad_requests(content_type: str, raw: bytes, status: int) -> None:
    with pytest.raises(PatchError) as raised:
        apply(content_type, {"a": 1}, raw)
    assert raised.value.status == status


def test_apply_dispatches_on_content_type() -> None:
    doc = {"spec": {"containers": [{"name": "app", "image": "a"}, {"name": "log", "image": "b"}]}}
    patch = json.dumps({"spec": {"containers": [{"name": "app", "image": "c"}]}}).encode()
    assert len(apply(STRATEGIC_MERGE_PATCH, doc, patch)["spec"]["containers"]) == 2
    assert len(apply(MERGE_PATCH, doc, patch)["spec"]["containers"]) == 1
