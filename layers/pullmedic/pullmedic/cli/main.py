"""Entry point: parse, run the command, turn expected failures into one line and an exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import import_module

from pullmedic.cli.errors import INTERRUPTED, PIPE_CLOSED, failure
from pullmedic.cli.output import say
from pullmedic.cli.parser import build

# Each command's module:function, imported when it runs (so --version, explain and completion
# do not load boto3 and the kubernetes client).
COMMANDS = {"scan": "scan:run", "problems": "problems:run_problems", "silence": "problems:run_silence",
            "unsilence": "problems:run_unsilence", "fix": "fix:run", "explain": "explain:run",
            "doctor": "doctor:run", "demo": "demo:run", "completion": "completion:run"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv`; returns the process exit code (errors.py lists them)."""
    parser = build()
    args = parser.parse_args(argv)
    args.parser = parser
    module, function = COMMANDS[args.command].split(":")
    try:
        code = int(getattr(import_module(f"pullmedic.cli.{module}"), function)(args))
        sys.stdout.flush()  # a closed pipe is found here, not in the interpreter's last flush
        return code
    except KeyboardInterrupt:
        say("pullmedic: interrupted", sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        _drop_stdout()
        return PIPE_CLOSED
    except Exception as err:
        known = failure(err, getattr(args, "profile", None) or os.environ.get("AWS_PROFILE"))
        if known is None:
            raise
        code, line = known
        say(f"pullmedic: {' '.join(line.split())}", sys.stderr)  # one line, whatever it quotes
        return code


def _drop_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
