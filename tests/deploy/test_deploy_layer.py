"""The built layer: small enough, no SDK of its own, bytecode for 3.12, arm64, pinned."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from deploy_support import LAYER_ID, REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

MAX_UNZIPPED = 60 * 1024 * 1024
# What the Lambda runtime provides, or must never ship in the layer.
FORBIDDEN = ("boto3", "botocore", "s3transfer", "jmespath", "awscli", "eks_token")
MAGIC_312 = (3531).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of 3.12
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked
EM_AARCH64 = 183


@pytest.fixture(scope="module")
def site(built: Path) -> Path:
    return built / LAYER_ID / "python"


def test_layer_size(site: Path) -> None:
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    assert size < MAX_UNZIPPED, f"layer is {size / 1048576:.1f} MB unzipped"


def test_no_sdk_or_cli_in_layer(site: Path) -> None:
    top = {canonicalize_name(re.sub(r"(-[^-]+)?\.(dist|egg)-info$|\.py$", "", p.name))
           for p in site.iterdir()}
    shipped = top & {canonicalize_name(n) for n in FORBIDDEN}
    assert not shipped, f"the layer ships {sorted(shipped)}"


def test_bytecode_is_for_python_312(site: Path) -> None:
    sources = {p for p in site.rglob("*.py")}
    compiled = list(site.rglob("*.pyc"))
    assert compiled, "the layer has no bytecode: every cold start would compile it"
    for pyc in compiled:
        header = pyc.read_bytes()[:8]
        assert header[:4] == MAGIC_312, f"{pyc} is not 3.12 bytecode"
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, pyc
    names = {p.parent.parent / (p.name.split(".")[0] + ".py") for p in compiled}
    missing = sorted(str(s.relative_to(site)) for s in sources - names)
    assert not missing, f"not compiled: {missing[:10]}"


def test_extension_modules_are_arm64(site: Path) -> None:
    libraries = list(site.rglob("*.so"))
    for library in libraries:
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == EM_AARCH64, (
            f"{library.relative_to(site)} is not an arm64 library")


def _shipped(site: Path) -> dict[str, str]:
    versions = {}
    for info in site.glob("*.dist-info"):
        meta = importlib.metadata.PathDistribution(info).metadata
        versions[canonicalize_name(meta["Name"])] = meta["Version"]
    return versions


def test_layer_ships_the_versions_the_tests_run(site: Path) -> None:
    pins = {}
    for line in (REPO / "tests/constraints.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            pins[canonicalize_name(name)] = version
    shipped = _shipped(site)
    differ = {n: (v, pins[n]) for n, v in shipped.items() if n in pins and pins[n] != v}
    assert not differ, f"layer version != tests/constraints.txt: {differ}"
    for requirement in (REPO / "layers/pullmedic/requirements.txt").read_text().splitlines():
        if requirement.strip() and not requirement.startswith("#"):
            req = Requirement(requirement)
            assert shipped[canonicalize_name(req.name)] in req.specifier, requirement


def test_layer_libraries_satisfy_the_runtime_botocore(site: Path) -> None:
    """urllib3, python-dateutil, six... in the layer shadow the runtime's: botocore must accept them."""
    shipped = _shipped(site)
    botocore = importlib.metadata.distribution("botocore")
    checked = []
    for text in botocore.requires or []:
        req = Requirement(text)
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in shipped:
            checked.append(name)
            assert shipped[name] in req.specifier, (
                f"layer {name} {shipped[name]} breaks botocore {botocore.version} ({text})")
    assert "urllib3" in checked and "python-dateutil" in checked


def test_layer_package_is_the_source(site: Path) -> None:
    source = REPO / "layers/pullmedic/pullmedic"
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.py")}
    assert files(site / "pullmedic") == files(source)


def test_json_schemas_ship_in_the_layer(site: Path) -> None:
    """The schema files the document loads at import time (and subscribers may read)."""
    source = sorted(p.name for p in (REPO / "layers/pullmedic/pullmedic/announcing/schemas").glob("*.json"))
    shipped = sorted(p.name for p in (site / "pullmedic" / "announcing" / "schemas").glob("*.json"))
    assert source and shipped == source
