"""`pullmedic demo`: the bundled (or given) scenarios against the local sandbox."""

from __future__ import annotations

import argparse
import sys

from pullmedic.cli.errors import FAILED
from pullmedic.cli.output import say, stderr_progress


def run(args: argparse.Namespace) -> int:
    """List the scenarios, or run them and check their `expect`."""
    try:
        from pullmedic_sandbox import demo
    except ImportError as err:
        say(f"pullmedic: the sandbox is not installed ({err}): run `make demo` in a clone of the "
            "repository", sys.stderr)
        return FAILED
    if args.list:
        demo.list_scenarios(args.output)
        return 0
    files = demo.scenario_files(args.name, args.scenario or [])
    return demo.run_demo(files, args.output, stderr_progress(args.quiet))
