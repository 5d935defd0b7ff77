"""`pullmedic doctor`: the deployment's checklist, each line with its verdict and fix."""

from __future__ import annotations

import argparse

from pullmedic.app.bootstrap import with_deadline
from pullmedic.app.event import parse_doctor
from pullmedic.cli import aws
from pullmedic.cli.errors import FAILED, OK
from pullmedic.cli.output import dump, say
from pullmedic.doctor.run import run_doctor, table


def run(args: argparse.Namespace) -> int:
    """Print the checklist of the event {"doctor": ...}; exit 0 only when every line is ok."""
    order = parse_doctor({"doctor": {"clusters": args.cluster} if args.cluster else {}})
    settings, app = aws.connect(args)
    app = with_deadline(app, args.timeout, reserve=0)  # nothing is announced: all of it for reading
    result = run_doctor(order, settings, app, function=args.function)
    say(table(result) if args.output == "table" else dump(result, args.output).rstrip("\n"))
    return OK if result["doctor"]["ok"] else FAILED
