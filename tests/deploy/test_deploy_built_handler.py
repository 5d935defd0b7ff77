"""The handler as `sam build` packages it finds what the source handler finds.

The built function (.aws-sam/build/ScanFunction/app.py) runs in a clean interpreter whose
sys.path is what Lambda gives it: the function, then the built layer's python/, then the
runtime's SDK (boto3, botocore, s3transfer, jmespath from .venv). Both handlers scan the
sandbox's `reference-cases` scenario; their findings must be the same.

The layer's extension modules are arm64; on another host each of them falls back to its pure
Python version (PyYAML, wrapt, charset-normalizer ship one), so the same layer runs here.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from deploy_support import FUNCTION_ID, LAYER_ID, REPO

from pullmedic_sandbox.handler import LambdaContext, invoke, load_handler
from pullmedic_sandbox.sandbox import Sandbox
from pullmedic_sandbox.scenario import bundled, load

SCENARIO = "reference-cases"
EVENT = REPO / "events" / "scheduled.json"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
FIELDS = ("cluster", "namespace", "workload", "container", "image", "cause")

_CHILD = r"""
import importlib.util, json, sys
function_dir, layer_dir, runtime_dir, event_path, out_path, context_json = sys.argv[1:7]
sys.path[:0] = [function_dir, layer_dir, runtime_dir]
spec = importlib.util.spec_from_file_location("app", function_dir + "/app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
class Context:
    def __init__(self, values):
        self.__dict__.update(values)
    def get_remaining_time_in_millis(self):
        return 900_000
with open(event_path) as f:
    event = json.load(f)
summary = app.lambda_handler(event, Context(json.loads(context_json)))
origins = {name: sys.modules[name].__file__
           for name in ("pullmedic", "kubernetes", "aws_lambda_powertools", "botocore", "boto3")}
with open(out_path, "w") as f:
    json.dump({"summary": summary, "origins": origins}, f)
"""


def runtime_sdk(into: Path) -> Path:
    """A directory standing in for the runtime's site-packages: the SDK, linked from .venv."""
    into.mkdir()
    for name in RUNTIME_PROVIDED:
        dist = importlib.metadata.distribution(name)
        for item in {Path(str(f)).parts[0] for f in dist.files or []}:
            source = Path(str(dist.locate_file(item)))
            if source.exists() and not (into / item).exists() and item != "..":
                (into / item).symlink_to(source)
    return into


def run_built(built: Path, env: dict[str, str], tmp_path: Path) -> tuple[dict[str, Any], str]:
    context = {k: v for k, v in vars(LambdaContext).items()
               if not k.startswith("_") and not callable(v)}
    out = tmp_path / "result.json"
    args = [sys.executable, "-I", "-S", "-B", "-c", _CHILD, str(built / FUNCTION_ID),
            str(built / LAYER_ID / "python"), str(runtime_sdk(tmp_path / "runtime")), str(EVENT),
            str(out), json.dumps(context)]
    child_env = env | {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
                       "POWERTOOLS_SERVICE_NAME": "pullmedic"}
    proc = subprocess.run(args, env=child_env, capture_output=True, text=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        pytest.fail(f"built handler failed ({proc.returncode})\n{proc.stdout[-4000:]}\n"
                    f"{proc.stderr[-4000:]}", pytrace=False)
    return json.loads(out.read_text()), proc.stdout


def emitted_metrics(stdout: str) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """(namespace, metric, dimensions) of every CloudWatch embedded-metric line printed."""
    found = set()
    for line in stdout.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if not isinstance(doc, dict) or "_aws" not in doc:
            continue
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple((d, str(doc[d])) for d in dimension_set)
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], dimensions))
    return found


def keyed(summary: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(tuple(f[k] for k in FIELDS) for f in summary["findings"])


def test_built_handler_matches_source_handler(built: Path, tmp_path: Path) -> None:
    (path,) = [p for p in bundled() if p.stem == SCENARIO]
    event = json.loads(EVENT.read_text())
    sandbox = Sandbox()
    sandbox.start()
    try:
        sandbox.load(load(path))
        with sandbox.activated(), redirect_stdout(io.StringIO()):
            source = invoke(load_handler(), event)
        sandbox.load(load(path))
        result, stdout = run_built(built, sandbox.env(), tmp_path)
    finally:
        sandbox.stop()
    origins = result["origins"]
    layer = str(built / LAYER_ID / "python")
    for name in ("pullmedic", "kubernetes", "aws_lambda_powertools"):
        assert origins[name].startswith(layer), f"{name} came from {origins[name]}"
    for name in ("boto3", "botocore"):
        assert origins[name].startswith(str(tmp_path / "runtime")), origins[name]
    assert source["errors"] == [] and source["findings"], "the sandbox scan found nothing"
    assert result["summary"]["errors"] == []
    assert keyed(result["summary"]) == keyed(source)
    # What the dashboard and the ScanErrors alarm read.
    metrics = emitted_metrics(stdout)
    for name in ("FailingWorkloads", "FailingPods", "ScanErrors"):
        assert ("pullmedic", name, (("service", "pullmedic"),)) in metrics, sorted(metrics)
