"""The composition root: the only place that creates boto3 and kubernetes clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from pullmedic.evidence import Readers
from pullmedic.kube.client import api_client
from pullmedic.scan import ScanDeps
from pullmedic.settings import Settings

_AWS_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5},
                     connect_timeout=5, read_timeout=20)


@dataclass(frozen=True)
class App:
    """What the handler and the CLI need: scan dependencies and the SNS client."""

    deps: ScanDeps
    sns: Any


def bootstrap(settings: Settings, *, region: str | None = None,
              session: boto3.session.Session | None = None) -> App:
    """Build the clients once for this invocation."""
    session = session or boto3.session.Session()
    region = region or settings.region or session.region_name
    if not region:
        raise ValueError("no AWS region: set AWS_REGION or pass --region")
    clients: dict[tuple[str, str | None], Any] = {}

    def client_for(service: str, client_region: str | None) -> Any:
        """One client per (service, region) for the whole invocation."""
        key = (service, client_region or region)
        if key not in clients:
            clients[key] = session.client(service, region_name=key[1], config=_AWS_CONFIG)
        return clients[key]

    deps = ScanDeps(
        session=session, region=region, eks=client_for("eks", region),
        connect=api_client, client_for=client_for, readers=Readers(client_for), grace=settings.grace,
        now=lambda: datetime.now(UTC),
        page_size=settings.page_size,
    )
    return App(deps=deps, sns=client_for("sns", region))
