"""Secret reading (off by default): a pull secret for the wrong registry, and no value leaks."""

from __future__ import annotations

import json

from pullmedic_sandbox.handler import invoke, load_handler

LEAK = "s3cr3t-Pa55word-do-not-leak"


def finding(summary: dict) -> dict:
    (found,) = summary["findings"]
    return found


def test_off_by_default_the_secret_is_not_read(world, sandbox) -> None:
    world("secret-wrong-registry")
    found = finding(invoke(load_handler(), {"dry_run": True}))
    assert found["confidence"] == "likely"
    assert not any("/secrets/" in r.path for r in sandbox.clusters["secret-wrong-registry"].requests)


def test_on_it_names_the_registry_the_secret_is_for_and_leaks_nothing(world, sandbox, monkeypatch,
                                                                       capsys) -> None:
    world("secret-wrong-registry")
    monkeypatch.setenv("PULLMEDIC_READ_SECRETS", "true")
    summary = invoke(load_handler(), {})
    found = finding(summary)
    assert (found["cause"], found["confidence"]) == ("auth_failed", "confirmed")
    assert any("regcred has credentials for ghcr.io, not registry.corp.example.com" in line
               for line in found["evidence"])
    published = json.dumps(sandbox.published())
    output = capsys.readouterr()
    for text in (json.dumps(summary), published, output.out, output.err):
        assert LEAK not in text and "cm9ib3Q6" not in text  # the password, and base64 "robot:"
