"""The composition root: the only place that creates boto3 and kubernetes clients."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import boto3
from botocore.config import Config

from pullmedic.app.scan import ScanDeps
from pullmedic.core.awsclients import ClientFor
from pullmedic.core.settings import Settings
from pullmedic.core.targets import ScanTarget
from pullmedic.diagnosing.evidence import Readers
from pullmedic.reading.aws.session import SESSION_LOCK
from pullmedic.reading.gather.registry import RegistryReader
from pullmedic.reading.kube.client import api_client

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sts.type_defs import AssumeRoleRequestTypeDef

ANNOUNCE_RESERVE = 30.0  # seconds of an invocation kept for the state writes and the publish
_AWS_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5},
                     connect_timeout=5, read_timeout=20)


@dataclass(frozen=True)
class App:
    """What the handler and the CLI need: scan dependencies and the SNS client."""

    deps: ScanDeps
    sns: SNSClient


def bootstrap(settings: Settings, *, region: str | None = None,
              session: boto3.session.Session | None = None) -> App:
    """Build the clients once for this invocation."""
    session = session or boto3.session.Session()
    region = region or settings.region or session.region_name
    if not region:
        raise ValueError("no AWS region: set AWS_REGION or pass --region")
    deps = _deps(settings, session, region)
    return App(deps=deps, sns=deps.client_for("sns", region))


def with_deadline(app: App, seconds_left: float | None, reserve: float = ANNOUNCE_RESERVE) -> App:
    """`app` whose scan stops reading clusters in time to announce what it found.

    Of `seconds_left`, `reserve` (or half, when less is left) is kept for writing the state
    and publishing; None: no deadline.
    """
    if seconds_left is None:
        return app
    reading = seconds_left - min(reserve, seconds_left / 2)
    return replace(app, deps=replace(app.deps, deadline=time.monotonic() + reading))


def target_deps(settings: Settings, home: ScanDeps, target: ScanTarget) -> ScanDeps:
    """The scan dependencies of `target`: the function's own for "self" in its Region, else
    clients of a session in the target's account (sts:AssumeRole with the external id)."""
    region = target.region or home.region
    session = home.session
    role = target.role(session.get_partition_for_region(region))
    if role is None and region == home.region:
        return home
    if role is not None:
        sts = home.client_for("sts", region)
        request: AssumeRoleRequestTypeDef = {"RoleArn": role, "RoleSessionName": "pullmedic"}
        if settings.external_id:
            request["ExternalId"] = settings.external_id
        credentials = sts.assume_role(**request)["Credentials"]
        session = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                        aws_secret_access_key=credentials["SecretAccessKey"],
                                        aws_session_token=credentials["SessionToken"],
                                        region_name=region)
    return replace(_deps(settings, session, region), connect=home.connect, now=home.now,
                   deadline=home.deadline, home=home.home or (home.client_for, home.region))


def _deps(settings: Settings, session: boto3.session.Session, region: str) -> ScanDeps:
    clients: dict[tuple[str, str], object] = {}
    make: Callable[..., object] = session.client  # by the service's name; ClientFor gives the types

    def made(service: str, client_region: str | None) -> object:
        """One client per (service, region) for the whole invocation."""
        key = (service, client_region or region)
        with SESSION_LOCK:  # called from the scan's threads
            if key not in clients:
                clients[key] = make(service, region_name=key[1], config=_AWS_CONFIG)
            return clients[key]

    client_for = cast(ClientFor, made)

    return ScanDeps(
        session=session, region=region, eks=client_for("eks", region),
        connect=api_client, client_for=client_for,
        readers=Readers(client_for, RegistryReader(settings.registry)), grace=settings.grace,
        now=lambda: datetime.now(UTC),
        page_size=settings.page_size, read_secrets=settings.read_secrets,
        subnet_ids=settings.subnet_ids, security_group_ids=settings.security_group_ids,
    )
