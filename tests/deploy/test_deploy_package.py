"""`sam package` (the first half of `sam deploy`) works from samconfig.toml, offline.

The artifacts go to a local S3 (moto). This is the step that fails on a real deploy when the
Fn::ForEach loop is not expanded locally; the packaged template must keep the loop for
CloudFormation and point at the uploaded built artifacts.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from deploy_support import FUNCTION_ID, LAYER_ID, REGION, SAM_BIN, load_yaml, require_sam_venv, run
from deploy_support import tool_env as base_env
from moto.server import ThreadedMotoServer

BUCKET = "pullmedic-artifacts"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIAPULLMEDICDEPLOY", "AWS_SECRET_ACCESS_KEY": "deploy-secret"}
MAX_ZIPPED = 50 * 1024 * 1024  # Lambda's limit for a zipped layer


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("s3", region_name=REGION, endpoint_url=f"http://{host}:{port}", **{
        k.lower(): v for k, v in KEYS.items()})
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        yield client
    finally:
        server.stop()


def test_sam_package(built: Path, s3: Any, tmp_path: Path) -> None:
    require_sam_venv()
    packaged = tmp_path / "packaged.yaml"
    env = base_env() | KEYS | {"AWS_ENDPOINT_URL": s3.meta.endpoint_url,
                               "AWS_EC2_METADATA_DISABLED": "true"}
    run([str(SAM_BIN / "sam"), "package", "--s3-bucket", BUCKET, "--region", REGION,
         "--output-template-file", str(packaged)], env=env)
    template = load_yaml(packaged)
    assert "Fn::ForEach::AccessEntries" in template["Resources"]
    resources = template["Resources"]
    function_zip = _download(s3, resources[FUNCTION_ID]["Properties"]["CodeUri"])
    layer_zip = _download(s3, resources[LAYER_ID]["Properties"]["ContentUri"])
    assert zipfile.ZipFile(io.BytesIO(function_zip)).namelist() == ["app.py"]
    names = zipfile.ZipFile(io.BytesIO(layer_zip)).namelist()
    assert "python/pullmedic/app/scan.py" in names and "python/kubernetes/__init__.py" in names
    assert len(layer_zip) < MAX_ZIPPED


def _download(s3: Any, uri: str) -> bytes:
    assert uri.startswith(f"s3://{BUCKET}/"), uri
    return s3.get_object(Bucket=BUCKET, Key=uri.split("/", 3)[3])["Body"].read()
