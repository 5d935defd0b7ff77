"""The command line: commands, their flags, and the flags they share (argparse)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from pullmedic.cli.errors import EXIT_CODES, USAGE
from pullmedic.cli.output import FORMATS
from pullmedic.core.causes import Cause
from pullmedic.diagnosing.findings import SEVERITY_ORDER

CAUSES = tuple(c.value for c in Cause)

DOCTOR_TIMEOUT = 120.0  # seconds `pullmedic doctor` reads at most


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line that says where the help is."""

    def error(self, message: str) -> NoReturn:
        """Exit 2 with `prog: message (see prog --help)`."""
        self.exit(USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build() -> argparse.ArgumentParser:
    """The parser; `command` in the parsed arguments names the command to run."""
    parser = Parser(
        prog="pullmedic", allow_abbrev=False,
        description="Find EKS pods that cannot pull their image and prove why.",
        epilog="exit codes: " + ", ".join(f"{code} {what}" for code, what in EXIT_CODES),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    output, aws, table, filters, quiet = _shared()

    def add(name: str, help_: str, *parents: Parser) -> Parser:
        return sub.add_parser(name, help=help_, description=help_, parents=list(parents),
                              allow_abbrev=False)

    scan = add("scan", "scan clusters with your AWS credentials (a dry run: nothing is stored or sent)",
               output, aws, filters, quiet)
    where = scan.add_mutually_exclusive_group()
    where.add_argument("--cluster", action="append", metavar="NAME", help="a cluster (repeatable)")
    where.add_argument("--all", action="store_true", help="every EKS cluster of the region")
    scan.add_argument("--timeout", type=_seconds, metavar="SECONDS", default=None,
                      help="give up on clusters still being read after this long (they become scan "
                           "errors; what the others found is shown)")

    problems = add("problems", "list the open problems and active silences in the state table",
                   output, aws, table, filters)
    problems.add_argument("--cluster", action="append", metavar="NAME",
                          help="only this cluster (repeatable; default: every cluster of the region)")

    for name, help_ in (("silence", "hold back alerts for a problem, a workload or a namespace"),
                        ("unsilence", "lift a silence")):
        command = add(name, help_, output, aws, table)
        target = command.add_mutually_exclusive_group(required=True)
        target.add_argument("--fingerprint", help="the problem's fingerprint (from the alert)")
        target.add_argument("--workload", metavar="CLUSTER/NAMESPACE/KIND/NAME",
                            help="a workload, e.g. prod/shop/Deployment/api")
        target.add_argument("--namespace", metavar="CLUSTER/NAMESPACE", help="a namespace, e.g. prod/shop")
        if name == "silence":
            command.add_argument("--hours", type=float, default=24, help="how long (default: 24)")
            command.add_argument("--reason", default="", help="why, for whoever reads it later")

    fix = add("fix", "show the remediation plan of a problem; with --yes, apply it "
              "(needs PULLMEDIC_REMEDIATION=approve or auto in the deployment)", output, aws, table)
    fix.add_argument("fingerprint", help="the problem's fingerprint (from the alert)")
    fix.add_argument("--action", help="the action (default: every action the evidence calls for)")
    fix.add_argument("--yes", action="store_true", help="apply the plan shown before")
    fix.add_argument("--cluster", help="the problem's cluster (default: found in the state table)")
    fix.add_argument("--by", help="who approves, for the audit trail (default: your login name)")

    explain = add("explain", "classify a failure message (an argument, stdin, or JSON lines)", output)
    explain.add_argument("message", nargs="?",
                         help="the kubelet message (quote it); without it, read stdin")
    explain.add_argument("--image", help="the image reference the message is about")
    explain.add_argument("--reason", help="the waiting or event reason, if known")
    explain.add_argument("--jsonl", action="store_true",
                         help='read {"message": ..., "image": ..., "reason": ...} lines on stdin; '
                              "write one JSON line per input line")

    doctor = add("doctor", "check access, reachability and permissions of the deployment's clusters, "
                 "alerts and state (exit 1 unless all is ok)", output, aws)
    doctor.add_argument("--cluster", action="append", metavar="NAME", help="a cluster (repeatable; "
                        "default: $PULLMEDIC_CLUSTERS, else every cluster of the region)")
    doctor.add_argument("--timeout", type=_seconds, metavar="SECONDS", default=DOCTOR_TIMEOUT,
                        help="stop reading after this long: what is not read by then is reported as "
                             f"not checked (default: {DOCTOR_TIMEOUT:g})")
    doctor.add_argument("--function", help="the scan function (the stack's FunctionName output): its "
                        "role and network are checked (default: your own identity)")

    demo = add("demo", "run the real handler against the local sandbox", output, quiet)
    demo.add_argument("name", nargs="*", help="bundled scenarios to run (default: all; see --list)")
    demo.add_argument("--scenario", action="append", metavar="FILE", help="a scenario file (repeatable)")
    demo.add_argument("--list", action="store_true", help="list the bundled scenarios")

    completion = add("completion", "print a shell completion script: "
                     "source <(pullmedic completion bash)")
    completion.add_argument("shell", choices=("bash", "zsh"))
    return parser


def _shared() -> tuple[Parser, ...]:
    output = Parser(add_help=False)
    output.add_argument("-o", "--output", choices=FORMATS, default="table",
                        help="output format (default: table)")
    output.add_argument("--json", dest="output", action="store_const", const="json",
                        help="the same as -o json")
    aws = Parser(add_help=False)
    aws.add_argument("--profile", help="AWS profile (default: $AWS_PROFILE or the default chain)")
    aws.add_argument("--region", help="AWS region (default: $AWS_REGION or the profile's)")
    table = Parser(add_help=False)
    table.add_argument("--table", help="the state table (default: $PULLMEDIC_TABLE, else the "
                       "stack's StateTableName output)")
    table.add_argument("--stack", help="the pullmedic stack to find the table in "
                       "(default: $PULLMEDIC_STACK or pullmedic)")
    filters = Parser(add_help=False)
    filters.add_argument("-n", "--namespace", action="extend", type=_names, default=[],
                         help="only this namespace (repeatable, or comma-separated)")
    filters.add_argument("--severity", action="extend", type=_choices(SEVERITY_ORDER), default=[],
                         help=f"only these severities ({', '.join(SEVERITY_ORDER)}; comma-separated)")
    filters.add_argument("--cause", action="extend", type=_choices(CAUSES), default=[],
                         help="only these causes (comma-separated; see `pullmedic explain --help`)")
    quiet = Parser(add_help=False)
    quiet.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return output, aws, table, filters, quiet


def _names(raw: str) -> list[str]:
    names = [part.strip() for part in raw.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected a name, not {raw!r}")
    return names


def _choices(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(raw: str) -> list[str]:
        values = [part.strip().lower() for part in raw.split(",") if part.strip()]
        wrong = [v for v in values if v not in allowed] or ([] if values else [raw])
        if wrong:
            raise argparse.ArgumentTypeError(f"{', '.join(map(repr, wrong))} is not one of: "
                                             f"{', '.join(allowed)}")
        return values
    return parse


def version_line() -> str:
    """pullmedic's version and the versions a bug report needs."""
    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "unknown"
    python = ".".join(map(str, sys.version_info[:3]))
    return (f"pullmedic {of('pullmedic')} (botocore {of('botocore')}, kubernetes {of('kubernetes')}, "
            f"Python {python})")


def _seconds(raw: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {raw!r}") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"must be between 0 and 86400 seconds, not {raw!r}")
    return value
