"""The tests' one source of `Finding`s: a plausible finding, with any field overridden."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pullmedic.core.causes import Cause
from pullmedic.core.model import Evidence, Finding, Workload


def finding(name: str = "api", **changes: Any) -> Finding:
    """A finding of Deployment `name` in prod/shop whose tag does not exist; `changes` override
    any field (the message names the image, also an overridden one)."""
    image = changes.get("image", f"ghcr.io/acme/{name}:v9")
    base = Finding(
        cluster="prod", namespace="shop", workload=Workload("Deployment", name), container=name,
        container_type="regular", image=image, cause=Cause.IMAGE_NOT_FOUND, rule_id="not_found",
        summary="The tag does not exist.", alternatives=(),
        message=f'Failed to pull image "{image}": not found', message_source="waiting",
        reasons=("ErrImagePull",), pods=(f"{name}-7f9c-a",), pod_count=1, nodes=("node-1",),
        severity="high")
    return replace(base, **changes)


def ecr_finding(name: str = "api", **changes: Any) -> Finding:
    """A finding whose evidence proved the cause: an ECR image, evidence, a fix, account and Region."""
    namespace = changes.get("namespace", "shop")
    image = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}:v9"
    return finding(name, **{
        "image": image, "rule_id": "ecr_not_found", "summary": "The tag does not exist in the repository.",
        "alternatives": (Cause.AUTH_FAILED,),
        "message": f'Failed to pull image "{image}": rpc error: code = NotFound desc = not found',
        "message_source": "event", "pod_count": 3, "nodes": ("ip-10-0-1-10.ec2.internal",),
        "confidence": "confirmed", "advice": "Push the tag or fix the reference.",
        "evidence": ("ok [ecr_pull_permission]: role arn:aws:iam::123456789012:role/nodes may pull",
                     f"confirmed [ecr_image_exists]: {name} has no tag v9; newest tags: v8, v7"),
        "fix_commands": (f"kubectl -n {namespace} set image deployment/{name} {name}={image[:-2]}v8",),
        "message_cause": Cause.AUTH_FAILED, "account": "123456789012", "region": "us-east-1",
        "evidence_items": (
            Evidence("ecr_pull_permission", "passed", "role arn:aws:iam::123456789012:role/nodes may pull",
                     ("arn:aws:iam::123456789012:role/nodes",)),
            Evidence("ecr_image_exists", "confirmed", f"{name} has no tag v9; newest tags: v8, v7")),
        **changes})
