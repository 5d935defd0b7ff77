"""`pullmedic demo`: seed each scenario, run the real handler on it, show findings and alert,
and check what the scenario's `expect` says the scan must find."""

from __future__ import annotations

import io
import json
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

from pullmedic.cli.output import Progress, Terminal, dump, say, table
from pullmedic.cli.scan import findings_table
from pullmedic_sandbox.aws_seed import substitute
from pullmedic_sandbox.expect import unmet
from pullmedic_sandbox.handler import invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import Scenario, ScenarioError, bundled, load

SCHEDULED_EVENT = Path(__file__).resolve().parents[3] / "events" / "scheduled.json"


def scenario_files(names: list[str], paths: list[str]) -> list[Path]:
    """The bundled scenarios named (all when nothing is named) and the files given."""
    known = {p.stem: p for p in bundled()}
    wrong = [n for n in names if n not in known]
    if wrong:
        raise ValueError(f"no bundled scenario {', '.join(map(repr, wrong))}: see `pullmedic demo --list`")
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise ValueError(f"no scenario file {', '.join(missing)}")
    if not names and not paths:
        return list(known.values())
    return [known[n] for n in names] + [Path(p) for p in paths]


def list_scenarios(output: str) -> None:
    """Print the bundled scenarios: name and the first line of the description."""
    rows = [(s.name, s.description.splitlines()[0] if s.description else "")
            for s in (load(p) for p in bundled())]
    if output == "table":
        say(table(("NAME", "DESCRIPTION"), rows, Terminal.of(sys.stdout), severity_column=None), cleaned=True)
    else:
        say(dump([{"name": n, "description": d} for n, d in rows], output), end="")


def run_demo(files: list[Path], output: str, progress: Progress) -> int:
    """Run each scenario in turn; print a report (or the handler summaries as JSON / YAML).

    Returns 1 when a scenario's `expect` does not hold (each miss is one line on stderr).
    """
    scenarios = [load(path) for path in files]
    sandbox = Sandbox()
    sandbox.start()
    results: dict[str, Any] = {}
    failed: list[str] = []
    try:
        for number, (path, scenario) in enumerate(zip(files, scenarios, strict=True), 1):
            progress.say(f"[{number}/{len(files)}] scenario {scenario.name}")
            _seed(sandbox, path, scenario)
            summary, messages = _invoke(sandbox, substitute(scenario.env, sandbox.refs))
            results[scenario.name] = summary
            misses = unmet(substitute(scenario.expect, sandbox.refs),
                           substitute(scenario.expect_absent, sandbox.refs), summary["findings"])
            failed += [f"{scenario.name}: {miss}" for miss in misses]
            if output == "table":
                _report(scenario, summary, messages)
    finally:
        sandbox.stop()
    if output != "table":
        say(dump(next(iter(results.values())) if len(results) == 1 else results, output), end="")
    for line in failed:
        say(f"pullmedic: {line}", sys.stderr)
    progress.say(f"done: {len(files)} scenario(s), {len({f.split(':')[0] for f in failed})} not as expected")
    return 1 if failed else 0


def _seed(sandbox: Sandbox, path: Path, scenario: Scenario) -> None:
    """Seed the sandbox; a scenario it cannot set up is an error naming its file."""
    try:
        sandbox.load(scenario)
    except Exception as err:  # anything the file asks for that AWS or the cluster refuses
        raise ScenarioError(f"{path}: cannot set up the scenario: {type(err).__name__}: {err}") from err


def _invoke(sandbox: Sandbox, env: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Invoke the handler with the scheduled event on the seeded sandbox (and the scenario's
    settings), read the SNS messages."""
    event = json.loads(SCHEDULED_EVENT.read_text())
    logs = io.StringIO()
    saved = {key: os.environ.get(key) for key in env}
    try:
        os.environ.update(env)
        with sandbox.activated(), redirect_stdout(logs):
            summary = invoke(load_handler(), event)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return summary, sandbox.published()


def _report(scenario: Scenario, summary: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    say(f"=== scenario {scenario.name}")
    if scenario.description:
        say(scenario.description)
    say("")
    if summary["findings"]:
        say(findings_table(summary["findings"], Terminal.of(sys.stdout)), cleaned=True)
    else:
        say(f"No pods failing to pull in: {', '.join(summary['clusters_scanned']) or '-'}")
    for error in summary["errors"]:
        say(f"! {error['cluster']}: {error['message']}")
    for published in messages:
        attributes = {k: v.get("Value") for k, v in (published["attributes"] or {}).items()}
        say(f"\n--- SNS message: {published['subject']}")
        say(f"attributes: {json.dumps(attributes)}")
        say(published["message"]["email"])
    if not messages:
        say("\n(no SNS message: nothing to report)")
    say("")
