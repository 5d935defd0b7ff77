"""State tables, created the way the template creates them (after a scenario reset moto)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from pullmedic_sandbox.sandbox import Sandbox


@pytest.fixture
def new_table(sandbox: Sandbox) -> Callable[[], str]:
    """Creates a table with the template's key schema (pk, sk) and TTL attribute (expires_at)."""

    def create() -> str:
        name = f"pullmedic-state-{uuid.uuid4().hex[:8]}"
        dynamodb = sandbox.client("dynamodb")
        dynamodb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}])
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires_at"})
        return name

    return create


@pytest.fixture
def state_table(new_table: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Call after `world(...)`: creates a table and points PULLMEDIC_TABLE at it."""

    def create() -> str:
        name = new_table()
        monkeypatch.setenv("PULLMEDIC_TABLE", name)
        return name

    return create
