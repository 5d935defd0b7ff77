"""Hostile or huge events end in the clear invalid-event error, never a crash or an unbounded scan."""

from __future__ import annotations

import pytest

from pullmedic.app.event import InvalidEvent, parse_event
from pullmedic.core.limits import CLUSTERS_MAX
from pullmedic.core.settings import load


def test_repeated_clusters_are_scanned_once() -> None:
    order = parse_event({"clusters": ["demo", "demo", " demo", "other"]})
    assert order.clusters == ("demo", "other")


def test_a_cluster_name_eks_would_refuse_is_an_invalid_event() -> None:
    with pytest.raises(InvalidEvent, match="EKS cluster names") as caught:
        parse_event({"clusters": ["x" * 2100]})
    assert len(str(caught.value)) < 400  # the hostile value is shown cut, not echoed whole


def test_too_many_clusters_is_an_invalid_event_naming_the_cap() -> None:
    with pytest.raises(InvalidEvent, match=f"at most {CLUSTERS_MAX}"):
        parse_event({"clusters": [f"c{i}" for i in range(10_000)]})


@pytest.mark.parametrize("action", [["x"], {"a": 1}, 5, ""])
def test_a_malformed_remediation_action_is_an_invalid_event(action: object) -> None:
    with pytest.raises(InvalidEvent, match="remediate.action"):
        parse_event({"remediate": {"fingerprint": "0123456789abcdef", "action": action}})


@pytest.mark.parametrize("cluster", [["c"], "a/b", "x" * 101])
def test_a_malformed_remediation_cluster_is_an_invalid_event(cluster: object) -> None:
    with pytest.raises(InvalidEvent, match="remediate.cluster"):
        parse_event({"remediate": {"fingerprint": "0123456789abcdef", "cluster": cluster}})


def test_a_huge_unknown_field_is_named_short() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event({"k" * 100_000: 1})
    assert len(str(caught.value)) < 400


def test_target_clusters_are_checked_and_deduplicated() -> None:
    order = parse_event({"targets": [{"account": "self", "clusters": ["a", "a", "b"]}]})
    assert order.targets and order.targets[0].clusters == ("a", "b")
    with pytest.raises(InvalidEvent, match="EKS cluster names"):
        parse_event({"targets": [{"account": "self", "clusters": ["bad name"]}]})


def test_the_deployments_cluster_list_is_deduplicated() -> None:
    assert load({"PULLMEDIC_CLUSTERS": "a, b,a"}).clusters == ("a", "b")
