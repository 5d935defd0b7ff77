"""pullmedic's EKS token is byte-identical to the one the eks-token package makes."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.auth
import pytest

from pullmedic.reading.aws.token import eks_token

REPO = Path(__file__).resolve().parents[2]
REFERENCE_PYTHON = REPO / ".venv-ekstoken" / "bin" / "python"
WHEN = datetime(2026, 11, 27, 12, 0, 0)
CREDS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
         "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def _clean_env(region: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "BOTO")) and k != "PYTHONPATH"}
    return {**keep, **CREDS, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}


@pytest.mark.parametrize(("cluster", "region"), [("demo", "us-east-2"), ("prod-eu", "eu-west-1"),
                                                 ("gov", "us-gov-west-1")])
def test_token_matches_eks_token_package(cluster: str, region: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if not REFERENCE_PYTHON.exists():
        pytest.fail(f"{REFERENCE_PYTHON} is missing: run `make test` (it creates it)")
    env = _clean_env(region)
    reference = subprocess.run(
        [str(REFERENCE_PYTHON), str(Path(__file__).with_name("ekstoken_reference.py")),
         cluster, region, WHEN.isoformat()],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()

    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: WHEN)
    ours = eks_token(boto3.session.Session(), cluster, region)

    assert ours == reference
    url = base64.urlsafe_b64decode(ours.removeprefix("k8s-aws-v1.") + "==").decode()
    query = parse_qs(urlparse(url).query)
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-SignedHeaders"] == ["host;x-k8s-aws-id"]
    assert query["X-Amz-Expires"] == ["60"]


def test_layer_does_not_ship_eks_token() -> None:
    requirements = (REPO / "layers" / "pullmedic" / "requirements.txt").read_text().lower()
    assert "eks-token" not in requirements and "awscli" not in requirements
    assert "eks_token" not in sys.modules
