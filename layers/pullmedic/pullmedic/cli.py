"""The `pullmedic` command: scan from a laptop, silence alerts, fix a problem, explain a message,
check a deployment (doctor), run the demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TextIO

from pullmedic.causes import ADVICE
from pullmedic.classify import classify


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, FileNotFoundError) as err:
        print(f"pullmedic: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pullmedic", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    scan = commands.add_parser("scan", help="scan clusters with your AWS credentials")
    scan.add_argument("--cluster", action="append", required=True,
                      help="cluster name (repeat for several)")
    scan.add_argument("--region", help="AWS region (default: your configuration's)")
    scan.add_argument("--namespace", action="append", help="only this namespace (repeatable)")
    scan.add_argument("--json", action="store_true", help="print the JSON summary")
    scan.set_defaults(run=_scan)

    silence = commands.add_parser("silence", help="hold back alerts for a problem, workload or "
                                  "namespace (written to the state table)")
    target = silence.add_mutually_exclusive_group(required=True)
    target.add_argument("--fingerprint", help="the problem's fingerprint (from the alert)")
    target.add_argument("--workload", help="cluster/namespace/Kind/name")
    target.add_argument("--namespace", help="cluster/namespace")
    silence.add_argument("--hours", type=float, default=24, help="how long (default: 24)")
    silence.add_argument("--reason", default="", help="why, for whoever reads the table")
    silence.add_argument("--table", help="the state table (default: $PULLMEDIC_TABLE)")
    silence.add_argument("--region", help="AWS region (default: your configuration's)")
    silence.set_defaults(run=_silence)

    fix = commands.add_parser("fix", help="show the remediation plan of a problem; with --yes, "
                              "apply it (needs PULLMEDIC_REMEDIATION=approve or auto)")
    fix.add_argument("fingerprint", help="the problem's fingerprint (from the alert)")
    fix.add_argument("--action", help="the action (default: every action the evidence calls for)")
    fix.add_argument("--yes", action="store_true", help="apply the plan shown before")
    fix.add_argument("--cluster", help="the problem's cluster (default: from the state table)")
    fix.add_argument("--by", default=os.environ.get("USER", ""), help="who approves (default: $USER)")
    fix.add_argument("--table", help="the state table (default: $PULLMEDIC_TABLE)")
    fix.add_argument("--region", help="AWS region (default: your configuration's)")
    fix.set_defaults(run=_fix)

    explain = commands.add_parser("explain", help="classify one failure message")
    explain.add_argument("message", nargs="?", help="the kubelet message (quote it)")
    explain.add_argument("--image", help="the image reference the message is about")
    explain.add_argument("--reason", help="the waiting or event reason, if known")
    explain.add_argument("--jsonl", action="store_true",
                         help='read {"message": ..., "image": ...} lines on stdin, write JSON lines')
    explain.set_defaults(run=_explain)

    doctor = commands.add_parser("doctor", help="check access, reachability and permissions of "
                                 "the deployment's clusters, alerts and state (exit 1 unless all ok)")
    doctor.add_argument("--cluster", action="append", help="cluster name (repeatable; default: "
                        "$PULLMEDIC_CLUSTERS, else every cluster of the Region)")
    doctor.add_argument("--function", help="the scan function (the stack's FunctionName output): "
                        "its role and network are checked (default: your own identity)")
    doctor.add_argument("--region", help="AWS region (default: your configuration's)")
    doctor.add_argument("--json", action="store_true", help="print the checklist as JSON")
    doctor.set_defaults(run=_doctor)

    demo = commands.add_parser("demo", help="run the real handler against the local sandbox")
    demo.add_argument("--scenario", action="append",
                      help="scenario YAML file (repeatable; default: every bundled scenario)")
    demo.add_argument("--json", action="store_true", help="print the handler's summary as JSON")
    demo.set_defaults(run=_demo)
    return parser


def _scan(args: argparse.Namespace) -> int:
    """A dry run without state: every finding is shown (as new), nothing is published."""
    from pullmedic.bootstrap import bootstrap
    from pullmedic.event import ScanOrder
    from pullmedic.render import Announcement, text
    from pullmedic.service import run_scan
    from pullmedic.settings import load

    settings = replace(load(), table=None)
    app = bootstrap(settings, region=args.region)
    order = ScanOrder("cli", tuple(args.cluster), frozenset(args.namespace or ()) or None, True)
    result, summary = run_scan(order, settings, app)
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        print()
    else:
        print(table(summary))
        if result.findings or result.errors:
            print()
            print(text([Announcement("new", f) for f in result.findings], result.errors), end="")
    return 1 if result.errors else 0


def _silence(args: argparse.Namespace) -> int:
    """Write a silence to the state table (the same checks as the console event)."""
    from pullmedic.bootstrap import bootstrap
    from pullmedic.event import SILENCE_SCOPES, parse_silence
    from pullmedic.service import add_silence
    from pullmedic.settings import load

    scope = next(s for s in SILENCE_SCOPES if getattr(args, s))
    order = parse_silence({"silence": {scope: getattr(args, scope), "hours": args.hours,
                                       "reason": args.reason}})
    settings = load()
    settings = replace(settings, table=args.table or settings.table)
    written = add_silence(order, settings, bootstrap(settings, region=args.region))
    done = written["silenced"]
    print(f"Silenced {done['scope']} {done['value']} until {done['expires_at']} "
          f"(table {written['table']}).")
    return 0


def _fix(args: argparse.Namespace) -> int:
    """Plan (or, with --yes, apply) a remediation: the same checks as the console event."""
    from pullmedic.bootstrap import bootstrap
    from pullmedic.event import parse_remediate
    from pullmedic.remediate import remediate
    from pullmedic.settings import load

    body = {"fingerprint": args.fingerprint, "confirm": args.yes, "approved_by": args.by,
            **({"action": args.action} if args.action else {}),
            **({"cluster": args.cluster} if args.cluster else {})}
    order = parse_remediate({"remediate": body})
    settings = load()
    settings = replace(settings, table=args.table or settings.table)
    done = remediate(order, settings, bootstrap(settings, region=args.region))["remediation"]
    print(fix_report(done))
    return 0 if done["results"] and all(r["status"] in FIX_OK for r in done["results"]) else 1


FIX_OK = frozenset({"planned", "already_done", "remediated"})


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


def table(summary: dict[str, Any]) -> str:
    """A fixed-width table of findings, one line each."""
    rows = [("CLUSTER", "NAMESPACE", "WORKLOAD", "CONTAINER", "IMAGE", "CAUSE", "PODS")]
    rows += [(f["cluster"], f["namespace"], f["workload"], f["container"], f["image"],
              f["cause"], str(f["pod_count"])) for f in summary["findings"]]
    if len(rows) == 1:
        return f"No pods failing to pull in: {', '.join(summary['clusters_scanned']) or '-'}"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def explanation(message: str, image: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """The classification of one message as a JSON-ready dict."""
    verdict = classify(message, reason=reason, image=image)
    return {"cause": verdict.cause.value, "alternatives": [a.value for a in verdict.alternatives],
            "summary": verdict.summary, "rule": verdict.rule_id, "grpc_code": verdict.grpc_code,
            "advice": ADVICE[verdict.cause]}


def _explain(args: argparse.Namespace) -> int:
    if args.jsonl:
        return _explain_lines(sys.stdin, sys.stdout)
    if not args.message:
        raise ValueError("give a MESSAGE, or --jsonl to read JSON lines from stdin")
    result = explanation(args.message, args.image, args.reason)
    also = f" (could also be: {', '.join(result['alternatives'])})" if result["alternatives"] else ""
    print(f"cause:   {result['cause']}{also}\nwhy:     {result['summary']}\n"
          f"rule:    {result['rule']}\nfix:     {result['advice']}")
    return 0


def _explain_lines(stdin: TextIO, stdout: TextIO) -> int:
    """One JSON line out per line in, in order; a bad line gets an error line, not a crash."""
    status = 0
    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("message"), str):
                raise ValueError('expected an object with a string "message"')
            out = explanation(item["message"], item.get("image"), item.get("reason"))
        except ValueError as err:
            out, status = {"line": number, "error": str(err)}, 1
        stdout.write(json.dumps(out) + "\n")
    return status


def _doctor(args: argparse.Namespace) -> int:
    """The checklist of the event {"doctor": ...}, as a table (or JSON); 0 only when all is ok."""
    from pullmedic.bootstrap import bootstrap
    from pullmedic.doctor.run import run_doctor, table
    from pullmedic.event import parse_doctor
    from pullmedic.settings import load

    order = parse_doctor({"doctor": {"clusters": args.cluster} if args.cluster else {}})
    settings = load()
    result = run_doctor(order, settings, bootstrap(settings, region=args.region), function=args.function)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0 if result["doctor"]["ok"] else 1


def _demo(args: argparse.Namespace) -> int:
    try:
        from pullmedic_sandbox.demo import run_demo
    except ImportError as err:
        raise ValueError(f"the sandbox is not installed ({err}): run `make demo` in a clone") from err
    return run_demo(args.scenario, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
