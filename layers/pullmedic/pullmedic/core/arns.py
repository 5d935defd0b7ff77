"""ARNs read by botocore's parser, never split by hand."""

from __future__ import annotations

from botocore.utils import ArnParser

_PARSER = ArnParser()


def parse_arn(text: str) -> dict[str, str] | None:
    """The parts of an ARN (partition, service, region, account, resource); None when `text`
    is not one."""
    return _PARSER.parse_arn(text) if ArnParser.is_arn(text) else None
