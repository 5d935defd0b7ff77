"""The few DynamoDB helpers the state table's readers and writers share.

boto3 encodes and decodes the attributes (TypeSerializer, TypeDeserializer) and pages through
queries (the query paginator); items are handled as plain dicts of str, int and bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from pullmedic.reading.aws.errors import error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_TO_DYNAMO = TypeSerializer()
_FROM_DYNAMO = TypeDeserializer()


def attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed attributes of plain values (str, int, bytes); None values are left out.

    Also encodes expression attribute values (keys like ":pk").
    """
    return {name: _TO_DYNAMO.serialize(value) for name, value in values.items() if value is not None}


def plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's attributes as plain values: numbers as int (float when not whole), binaries as bytes."""
    return {name: _plain(_FROM_DYNAMO.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary):
        return bytes(value)  # type: ignore[call-overload]  # Binary defines __bytes__; its stub does not
    return value


def conflict(err: ClientError) -> bool:
    """Whether a write failed only on its condition (another invocation wrote first)."""
    code = error_code(err)
    if code == "ConditionalCheckFailedException":
        return True
    reasons = err.response.get("CancellationReasons") or []
    return code == "TransactionCanceledException" and any(
        r.get("Code") == "ConditionalCheckFailed" for r in reasons)


def query(client: DynamoDBClient, table: str, condition: str, values: Mapping[str, Any],
          consistent: bool = False) -> Iterator[dict[str, Any]]:
    """Every item a key condition selects (plain values), page after page; `values` are plain."""
    pages = client.get_paginator("query").paginate(
        TableName=table, KeyConditionExpression=condition,
        ExpressionAttributeValues=attributes(values), ConsistentRead=consistent)
    for page in pages:
        for item in page.get("Items", []):
            yield plain(item)
