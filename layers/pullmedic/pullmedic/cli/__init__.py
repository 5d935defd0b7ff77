"""The `pullmedic` command: scan from a laptop, list and silence problems, fix one, explain a
message, run the demo. main.py is the entry point; errors.py lists the exit codes."""

from pullmedic.cli.main import main

__all__ = ["main"]
