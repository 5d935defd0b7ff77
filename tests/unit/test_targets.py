"""Scan targets: parsing from the environment and from on-demand events, role ARNs."""

from __future__ import annotations

import json

import pytest

from pullmedic.app.event import InvalidEvent, parse_event
from pullmedic.core.settings import load
from pullmedic.core.targets import InvalidTargets, ScanTarget, from_env, parse


def test_parse_accounts_regions_and_all() -> None:
    targets = parse([{"account": "210987654321", "region": "eu-west-1", "clusters": ["a", " b "]},
                     {"account": "self", "clusters": "all"},
                     {"account": "111122223333", "region": "us-east-1",
                      "role_arn": "arn:aws:iam::111122223333:role/custom"}])
    assert targets == (ScanTarget("210987654321", "eu-west-1", ("a", "b")), ScanTarget(),
                       ScanTarget("111122223333", "us-east-1", None, "arn:aws:iam::111122223333:role/custom"))
    assert [parse([t.doc()])[0] for t in targets] == list(targets)


def test_role_of_a_target() -> None:
    assert ScanTarget().role("aws") is None
    assert ScanTarget("210987654321").role("aws-cn") == "arn:aws-cn:iam::210987654321:role/pullmedic-reader"
    assert ScanTarget("210987654321", role_arn="arn:aws:iam::210987654321:role/x").role("aws") == \
        "arn:aws:iam::210987654321:role/x"


def test_each_wrong_field_is_named() -> None:
    with pytest.raises(InvalidTargets) as err:
        parse([{"account": "12", "region": "Europe", "clusters": [], "role_arn": "x", "colour": 1}, "x"])
    text = str(err.value)
    for field in ("targets[0].account", "targets[0].region", "targets[0].clusters",
                  "targets[0].role_arn", "targets[0].colour", "'targets[1]'"):
        assert field in text
    with pytest.raises(InvalidTargets, match="non-empty list"):
        parse([])


def test_environment() -> None:
    assert from_env({}) is None
    raw = json.dumps([{"account": "210987654321", "region": "eu-west-1", "clusters": ["a"]}])
    settings = load({"PULLMEDIC_TARGETS": raw, "PULLMEDIC_EXTERNAL_ID": "ext-1"})
    assert settings.targets == (ScanTarget("210987654321", "eu-west-1", ("a",)),)
    assert settings.external_id == "ext-1"
    with pytest.raises(InvalidTargets, match="PULLMEDIC_TARGETS is not JSON"):
        from_env({"PULLMEDIC_TARGETS": "[{"})
    with pytest.raises(InvalidTargets, match=r"PULLMEDIC_TARGETS\[0\].account"):
        from_env({"PULLMEDIC_TARGETS": '[{"account": "me"}]'})


def test_on_demand_event_targets() -> None:
    order = parse_event({"targets": [{"account": "210987654321", "clusters": ["a"]}], "dry_run": True})
    assert order.targets == (ScanTarget("210987654321", None, ("a",)),) and order.clusters is None
    assert parse_event({"clusters": ["a"]}).targets is None
    with pytest.raises(InvalidEvent) as err:
        parse_event({"targets": [{"account": "x"}], "clusters": ["a"]})
    assert "targets[0].account" in str(err.value) and "either 'clusters' or 'targets'" in str(err.value)


def test_fan_out_events() -> None:
    assert parse_event({"fanout": "list"}).step == "list"
    order = parse_event({"fanout": "cluster", "execution": "run-1",
                         "target": {"account": "210987654321", "clusters": ["a"]}})
    assert (order.step, order.execution, order.target) == ("cluster", "run-1",
                                                          ScanTarget("210987654321", None, ("a",)))
    assert parse_event({"fanout": "aggregate", "execution": "run-1", "results": [{}]}).results == ({},)
    with pytest.raises(InvalidEvent) as err:
        parse_event({"fanout": "cluster", "execution": "a b", "target": {"account": "x"}, "extra": 1})
    text = str(err.value)
    assert "'extra'" in text and "'execution'" in text and "'target.account'" in text
    with pytest.raises(InvalidEvent, match="'fanout' must be one of"):
        parse_event({"fanout": "everything"})
    with pytest.raises(InvalidEvent, match="'results' must be a list"):
        parse_event({"fanout": "aggregate", "execution": "run-1", "results": {}})
