"""Tiny OCI images built in memory and pushed through the registry HTTP API (no Docker)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import ssl
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Blob:
    """Content addressed by its sha256 digest."""

    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        """The OCI digest of the bytes."""
        return "sha256:" + hashlib.sha256(self.data).hexdigest()

    def descriptor(self, **extra: object) -> dict[str, object]:
        """An OCI descriptor pointing at this blob."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)} | extra


@dataclass(frozen=True)
class Image:
    """One single-platform image: config, layers and the manifest that lists them."""

    config: Blob
    layers: tuple[Blob, ...]
    manifest: Blob


def make_layer(files: dict[str, bytes]) -> Blob:
    """A reproducible tar.gz layer (fixed mtimes, owners and gzip header)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    packed = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    return Blob(OCI_LAYER, packed)


def _diff_id(layer: Blob) -> str:
    return "sha256:" + hashlib.sha256(gzip.decompress(layer.data)).hexdigest()


def _json_blob(media_type: str, doc: dict[str, object]) -> Blob:
    return Blob(media_type, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())


def make_image(arch: str, layers: tuple[Blob, ...]) -> Image:
    """A linux/<arch> image made of the given layers."""
    config = _json_blob(
        OCI_CONFIG,
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Cmd": ["/hello"]},
            "rootfs": {"type": "layers", "diff_ids": [_diff_id(layer) for layer in layers]},
        },
    )
    manifest = _json_blob(
        OCI_MANIFEST,
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [layer.descriptor() for layer in layers],
        },
    )
    return Image(config, layers, manifest)


def make_index(images: dict[str, Image]) -> Blob:
    """An OCI image index listing one linux image per architecture."""
    manifests = [
        image.manifest.descriptor(platform={"architecture": arch, "os": "linux"})
        for arch, image in sorted(images.items())
    ]
    return _json_blob(OCI_INDEX, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})


class RegistryPusher:
    """Pushes blobs and manifests to a distribution registry over its v2 HTTP API."""

    def __init__(
        self, base_url: str, basic_auth: tuple[str, str] | None = None, cafile: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers: dict[str, str] = {}
        if basic_auth:
            token = base64.b64encode(":".join(basic_auth).encode()).decode()
            self._headers["Authorization"] = "Basic " + token
        self._context = ssl.create_default_context(cafile=cafile) if cafile else None

    def _request(self, method: str, url: str, data: bytes | None = None, ctype: str = "") -> dict:
        headers = dict(self._headers)
        if ctype:
            headers["Content-Type"] = ctype
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10, context=self._context) as resp:
            resp.read()
            return dict(resp.headers)

    def _exists(self, repo: str, blob: Blob) -> bool:
        try:
            self._request("HEAD", f"{self.base_url}/v2/{repo}/blobs/{blob.digest}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return False
            raise
        return True

    def push_blob(self, repo: str, blob: Blob) -> None:
        """Monolithic upload: POST to open the session, then PUT the bytes with the digest."""
        if self._exists(repo, blob):
            return
        headers = self._request("POST", f"{self.base_url}/v2/{repo}/blobs/uploads/", b"")
        location = headers["Location"]
        if location.startswith("/"):
            location = self.base_url + location
        sep = "&" if "?" in location else "?"
        url = f"{location}{sep}digest={blob.digest}"
        self._request("PUT", url, blob.data, "application/octet-stream")

    def push_manifest(self, repo: str, ref: str, manifest: Blob) -> None:
        """PUT a manifest or index under a tag (or its digest)."""
        url = f"{self.base_url}/v2/{repo}/manifests/{ref}"
        self._request("PUT", url, manifest.data, manifest.media_type)

    def push_image(self, repo: str, tag: str, image: Image) -> None:
        """Push every blob of an image, then tag its manifest."""
        for blob in (image.config, *image.layers):
            self.push_blob(repo, blob)
        self.push_manifest(repo, tag, image.manifest)

    def push_index(self, repo: str, tag: str, images: dict[str, Image]) -> Blob:
        """Push each platform image by digest, then tag an index that lists them."""
        for image in images.values():
            for blob in (image.config, *image.layers):
                self.push_blob(repo, blob)
            self.push_manifest(repo, image.manifest.digest, image.manifest)
        index = make_index(images)
        self.push_manifest(repo, tag, index)
        return index
