"""The CLI's AWS side: the session of --profile, the region, and where the state table is."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace

import boto3
from botocore.exceptions import ClientError, NoCredentialsError

from pullmedic.app.bootstrap import App, bootstrap
from pullmedic.core.settings import Settings, load
from pullmedic.reading.aws.errors import error_code

DEFAULT_STACK = "pullmedic"  # samconfig.toml's stack_name
TABLE_OUTPUT = "StateTableName"


def connect(args: argparse.Namespace, settings: Settings | None = None) -> tuple[Settings, App]:
    """Settings and clients for a command, with the credentials of --profile checked first
    (so a missing login is one line, not an error per cluster)."""
    settings = settings or load()
    session = boto3.session.Session(profile_name=args.profile) if args.profile else boto3.session.Session()
    if session.get_credentials() is None:
        raise NoCredentialsError()
    return settings, bootstrap(settings, region=args.region, session=session)


def with_table(args: argparse.Namespace, settings: Settings, app: App) -> Settings:
    """`settings` naming the state table: --table, else $PULLMEDIC_TABLE, else the
    StateTableName output of the stack (--stack, default "pullmedic") in the region."""
    if args.table or settings.table:
        return replace(settings, table=args.table or settings.table)
    stack = args.stack or os.environ.get("PULLMEDIC_STACK") or DEFAULT_STACK
    cloudformation = app.deps.client_for("cloudformation", None)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as err:
        if error_code(err) != "ValidationError":  # CloudFormation models no error for a missing stack
            raise
        stacks = []
    outputs = {o["OutputKey"]: o["OutputValue"] for s in stacks for o in s.get("Outputs", [])}
    if TABLE_OUTPUT not in outputs:
        raise ValueError(f"no state table: pass --table NAME or set PULLMEDIC_TABLE (no stack {stack!r} "
                         f"with a {TABLE_OUTPUT} output in {app.deps.region}; --stack names another)")
    return replace(settings, table=outputs[TABLE_OUTPUT])


def flags(args: argparse.Namespace, settings: Settings, app: App) -> str:
    """The flags a printed command needs to reach the same table, region and profile."""
    parts = [f"--table {settings.table}"] if settings.table else []
    parts.append(f"--region {app.deps.region}")
    if args.profile:
        parts.append(f"--profile {args.profile}")
    return " ".join(parts)
