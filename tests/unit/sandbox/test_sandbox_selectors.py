"""Label and field selectors behave like kube-apiserver's."""

from __future__ import annotations

import pytest

from pullmedic_sandbox.selectors import (
    FieldSelector,
    FieldTerm,
    SelectorError,
    convert_field_selector,
    label_selector_from_object,
    parse_field_selector,
    parse_label_selector,
    selectable_fields,
)

WEB = {"app": "web", "tier": "frontend", "replicas": "3"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app!=api", True),
        ("missing!=x", True),
        ("app in (web, api)", True),
        ("app in (api)", False),
        ("app notin (api,db)", True),
        ("missing notin (x)", True),
        ("app", True),
        ("!app", False),
        ("!missing", True),
        ("app=web,tier=frontend", True),
        ("app=web,tier=backend", False),
        ("app in (web),!canary,tier notin (db)", True),
        ("replicas>2", True),
        ("replicas<3", False),
        ("app>1", False),
        ("example.com/team", False),
        ("missing=", False),
    ],
)
def test_label_selector_matching(selector: str, expected: bool) -> None:
    assert parse_label_selector(selector).matches(WEB) is expected


def test_empty_values_are_values() -> None:
    assert parse_label_selector("flag=").matches({"flag": ""})
    assert parse_label_selector("flag in (,x)").matches({"flag": ""})
    assert parse_label_selector("flag in ()").matches({"flag": ""})


@pytest.mark.parametrize(
    "selector",
    ["app in web", "app in (web", "app=web,", "app = = web", "-bad=x", "app=in valid", "a>b", "!"],
)
def test_invalid_label_selectors_raise(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_label_selector_object_form() -> None:
    selector = label_selector_from_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches(WEB)
    assert not selector.matches({**WEB, "canary": "true"})
    assert label_selector_from_object(None).empty
    with pytest.raises(SelectorError):
        label_selector_from_object({"matchExpressions": [{"key": "a", "operator": "In"}]})


def test_field_selector_parsing() -> None:
    selector = parse_field_selector("status.phase!=Failed,spec.nodeName==n1,metadata.name=a\\,b")
    assert selector == FieldSelector(
        (
            FieldTerm("metadata.name", "=", "a,b"),
            FieldTerm("spec.nodeName", "=", "n1"),
            FieldTerm("status.phase", "!=", "Failed"),
        )
    )
    assert parse_field_selector("") == FieldSelector()


@pytest.mark.parametrize("selector", ["status.phase", "a=b=c", "a=b\\x"])
def test_invalid_field_selectors_raise(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_field_selector(selector)


def test_field_selector_matches_missing_fields_as_empty() -> None:
    fields = {"status.phase": "Pending"}
    assert parse_field_selector("status.phase=Pending,spec.nodeName=").matches(fields)
    assert parse_field_selector("status.phase!=Failed,spec.nodeName!=n1").matches(fields)
    assert not parse_field_selector("status.phase=Running").matches(fields)


@pytest.mark.parametrize(
    ("kind", "selector"),
    [
        ("Pod", "spec.nodeName=n1,status.phase!=Succeeded,status.podIPs=10.0.0.1"),
        ("Event", "involvedObject.kind=Pod,reason=Failed,type=Warning,source=kubelet"),
        ("Event", "reportingComponent=kubelet,involvedObject.fieldPath=spec.containers{app}"),
        ("Node", "spec.unschedulable=false,metadata.name=n1"),
        ("Namespace", "status.phase=Active"),
        ("Secret", "type=kubernetes.io/dockerconfigjson,metadata.namespace=default"),
        ("Job", "status.successful=1"),
        ("Deployment", "metadata.name=web,metadata.namespace=default"),
    ],
)
def test_supported_field_labels(kind: str, selector: str) -> None:
    convert_field_selector(kind, parse_field_selector(selector))


@pytest.mark.parametrize(
    ("kind", "selector", "message"),
    [
        ("Pod", "status.hostIP=10.0.0.1", "field label not supported: status.hostIP"),
        ("Event", "message=x", "field label not supported: message"),
        ("Node", "metadata.namespace=x", "field label not supported: metadata.namespace"),
        ("Job", "status.failed=1", 'field label "status.failed" not supported for batchv1.Job'),
        (
            "ReplicaSet",
            "spec.replicas=1",
            '"spec.replicas" is not a known field selector: only "metadata.name", '
            '"metadata.namespace"',
        ),
    ],
)
def test_unsupported_field_labels_get_the_server_message(
    kind: str, selector: str, message: str
) -> None:
    with pytest.raises(SelectorError) as error:
        convert_field_selector(kind, parse_field_selector(selector))
    assert str(error.value) == message


def test_legacy_pod_spec_host_is_spec_node_name() -> None:
    converted = convert_field_selector("Pod", parse_field_selector("spec.host=n1"))
    assert converted == FieldSelector((FieldTerm("spec.nodeName", "=", "n1"),))


def test_pod_selectable_fields() -> None:
    pod = {
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"nodeName": "n1", "restartPolicy": "Always"},
        "status": {"phase": "Pending", "podIPs": [{"ip": "10.0.0.9"}], "podIP": "10.0.0.9"},
    }
    fields = selectable_fields("Pod", pod, namespaced=True)
    assert fields["metadata.name"] == "web-1" and fields["metadata.namespace"] == "shop"
    assert fields["spec.hostNetwork"] == "false"
    assert fields["status.podIP"] == "10.0.0.9"
    assert "status.podIPs" not in fields


def test_event_and_cluster_scoped_selectable_fields() -> None:
    event = {
        "metadata": {"name": "e1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
        "reason": "Failed",
        "type": "Warning",
        "source": {"component": "kubelet"},
    }
    fields = selectable_fields("Event", event, namespaced=True)
    assert fields["involvedObject.kind"] == "Pod" and fields["source"] == "kubelet"
    assert fields["involvedObject.uid"] == ""
    node = {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}}
    assert selectable_fields("Node", node, namespaced=False) == {
        "metadata.name": "n1",
        "spec.unschedulable": "true",
    }
