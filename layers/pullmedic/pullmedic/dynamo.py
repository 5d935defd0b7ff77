"""The few DynamoDB low-level helpers the state table's readers and writers share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def s(value: str) -> dict[str, str]:
    """A string attribute."""
    return {"S": value}


def n(value: int) -> dict[str, str]:
    """A number attribute."""
    return {"N": str(value)}


def conflict(err: ClientError) -> bool:
    """Whether a write failed only on its condition (another invocation wrote first)."""
    code = err.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    reasons = err.response.get("CancellationReasons") or []
    return code == "TransactionCanceledException" and any(
        r.get("Code") == "ConditionalCheckFailed" for r in reasons)


def iso(moment: datetime) -> str:
    """A UTC timestamp as stored (microseconds, Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def query(client: DynamoDBClient, table: str, condition: str, values: dict[str, Any],
          consistent: bool = False) -> Iterator[dict[str, Any]]:
    """Every item a key condition selects, page after page."""
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": condition,
                               "ExpressionAttributeValues": values, "ConsistentRead": consistent}
    while True:
        page = client.query(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
