"""The AWS clients pullmedic uses, typed for the type checker only: the boto3-stubs types are
imported under TYPE_CHECKING, so nothing of them is loaded at run time (the layer ships no stubs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, overload

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_eks import EKSClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

    AnyClient = (CloudFormationClient | DynamoDBClient | EC2Client | ECRClient | EKSClient | IAMClient
                 | KMSClient | LambdaClient | SNSClient | SFNClient | STSClient)

Service = Literal["cloudformation", "dynamodb", "ec2", "ecr", "eks", "iam", "kms", "lambda", "sns",
                  "stepfunctions", "sts"]


class ClientFor(Protocol):
    """One client per (service, Region) for a whole invocation; Region None: the invocation's."""

    def __hash__(self) -> int: ...  # a function: readers cache by it

    @overload
    def __call__(self, service: Literal["cloudformation"], region: str | None, /) -> CloudFormationClient: ...
    @overload
    def __call__(self, service: Literal["dynamodb"], region: str | None, /) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["ec2"], region: str | None, /) -> EC2Client: ...
    @overload
    def __call__(self, service: Literal["ecr"], region: str | None, /) -> ECRClient: ...
    @overload
    def __call__(self, service: Literal["eks"], region: str | None, /) -> EKSClient: ...
    @overload
    def __call__(self, service: Literal["iam"], region: str | None, /) -> IAMClient: ...
    @overload
    def __call__(self, service: Literal["kms"], region: str | None, /) -> KMSClient: ...
    @overload
    def __call__(self, service: Literal["lambda"], region: str | None, /) -> LambdaClient: ...
    @overload
    def __call__(self, service: Literal["sns"], region: str | None, /) -> SNSClient: ...
    @overload
    def __call__(self, service: Literal["stepfunctions"], region: str | None, /) -> SFNClient: ...
    @overload
    def __call__(self, service: Literal["sts"], region: str | None, /) -> STSClient: ...
    @overload
    def __call__(self, service: Service, region: str | None, /) -> AnyClient: ...


def plain(response: Mapping[str, object]) -> dict[str, Any]:
    """A response part (a TypedDict to the type checker) as the JSON-like dict the readers keep."""
    return cast(dict[str, Any], response)


def plains(items: Iterable[Mapping[str, object]]) -> list[dict[str, Any]]:
    """Response items (TypedDicts to the type checker) as a list of JSON-like dicts."""
    return [plain(item) for item in items]
