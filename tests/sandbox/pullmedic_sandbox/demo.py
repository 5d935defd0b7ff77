"""`pullmedic demo`: seed each scenario, run the real handler on it, show findings and alert."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from pullmedic.cli import table
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import bundled, load

SCHEDULED_EVENT = Path(__file__).resolve().parents[3] / "events" / "scheduled.json"


def run_demo(paths: list[str] | None, *, as_json: bool = False) -> int:
    """Run every scenario in turn; print a report (or the handler summaries as JSON)."""
    files = [Path(p) for p in paths] if paths else bundled()
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"no scenario file {path}")
    sandbox = Sandbox()
    sandbox.start()
    results: dict[str, Any] = {}
    try:
        for path in files:
            scenario = load(path)
            summary, messages = run_scenario(sandbox, scenario)
            results[scenario.name] = summary
            if not as_json:
                _report(scenario.name, scenario.description, summary, messages)
    finally:
        sandbox.stop()
    if as_json:
        out = next(iter(results.values())) if len(results) == 1 else results
        json.dump(out, sys.stdout, indent=2)
        print()
    return 0


def run_scenario(sandbox: Sandbox, scenario: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Seed `scenario`, invoke the handler with the scheduled event, read the SNS messages."""
    sandbox.load(scenario)
    event = json.loads(SCHEDULED_EVENT.read_text())
    logs = io.StringIO()
    with sandbox.activated(), redirect_stdout(logs):
        summary = invoke(load_handler(), event)
    return summary, sandbox.published()


def _report(name: str, description: str, summary: dict[str, Any],
            messages: list[dict[str, Any]]) -> None:
    print(f"=== scenario {name}")
    if description:
        print(description)
    print()
    print(table(summary))
    for error in summary["errors"]:
        print(f"! {error['cluster']}: {error['message']}")
    for published in messages:
        attributes = {k: v.get("Value") for k, v in (published["attributes"] or {}).items()}
        print(f"\n--- SNS message: {published['subject']}")
        print(f"attributes: {json.dumps(attributes)}")
        print(published["message"]["email"])
    if not messages:
        print("\n(no SNS message: nothing to report)")
    print()
