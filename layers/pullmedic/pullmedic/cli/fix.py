"""`pullmedic fix`: show the remediation plan of a problem, or apply the approved one."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from pullmedic.app.event import parse_remediate
from pullmedic.app.remediate import remediate
from pullmedic.cli import aws
from pullmedic.cli.errors import FAILED, OK, UsageError
from pullmedic.cli.output import dump, say
from pullmedic.core.vocab import ResultStatus

FIX_OK = frozenset({ResultStatus.PLANNED, ResultStatus.ALREADY_DONE, ResultStatus.REMEDIATED})


def run(args: argparse.Namespace) -> int:
    """Plan (or, with --yes, apply) a remediation; exit 1 unless every action went well."""
    who = args.by or (approver() if args.yes else "")
    body = {"fingerprint": args.fingerprint.strip().lower(), "confirm": args.yes, "approved_by": who,
            **({"action": args.action} if args.action else {}),
            **({"cluster": args.cluster} if args.cluster else {})}
    order = parse_remediate({"remediate": body})
    settings, app = aws.connect(args)
    settings = aws.with_table(args, settings, app)
    caller = app.deps.client_for("sts", None).get_caller_identity()["Arn"]
    done = remediate(order, settings, app, caller=caller, flags=aws.flags(args, settings, app))["remediation"]
    if args.output != "table":
        say(dump(done, args.output), end="")
    else:
        say(fix_report(done))
    return OK if done["results"] and all(r["status"] in FIX_OK for r in done["results"]) else FAILED


def approver() -> str:
    """Who approves when --by is not given: the login name ($USER, $LOGNAME, the account)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise UsageError("--yes needs --by NAME (who approves, for the audit trail): "
                         "no login name is set") from None


def fix_report(done: dict[str, Any]) -> str:
    """The plans (or what applying them did) as text."""
    lines = [f"Problem {done['fingerprint']} in cluster {done['cluster']} "
             f"(remediation mode {done['mode']}):"]
    lines += [f"  could not scan: {e['message']}" for e in done["errors"]]
    for result in done["results"]:
        lines += ["", f"{result['action']}: {result['status']} - {result['detail']}"]
        plan = result["plan"]
        if plan:
            lines += [f"  call:  {c['api']} {json.dumps(c['params'], sort_keys=True)}" for c in plan["calls"]]
            lines += [f"  note:  {n}" for n in plan["notes"]]
            lines += [f"  undo:  $ {u}" for u in plan["undo"]]
        lines += [f"  step:  {s['outcome']} {s['target']}: {s['detail']}" for s in result.get("steps", [])]
        if "approve" in result:
            lines.append(f"  approve: $ {result['approve']['command']}")
    if not done["results"]:
        lines.append("  no action applies to it")
    return "\n".join(lines)
