"""A minimal CRI ImageService client: PullImage as the kubelet calls it, errors as Go prints them.

Stubs are generated from cri/api.proto with grpcio-tools into a temporary directory, so no
generated code lives in the repository.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import grpc

PROTO_DIR = Path(__file__).parent / "cri"

# grpc-go's codes.Code.String(): the names Go prints in `rpc error: code = %s desc = %s`.
GO_CODE_NAMES = {
    0: "OK",
    1: "Canceled",
    2: "Unknown",
    3: "InvalidArgument",
    4: "DeadlineExceeded",
    5: "NotFound",
    6: "AlreadyExists",
    7: "PermissionDenied",
    8: "ResourceExhausted",
    9: "FailedPrecondition",
    10: "Aborted",
    11: "OutOfRange",
    12: "Unimplemented",
    13: "Internal",
    14: "Unavailable",
    15: "DataLoss",
    16: "Unauthenticated",
}

# When the deadline fires in the client, grpc-go reports the context error text, while
# grpc core (Python) reports these; map them so the message is the one a kubelet shows.
_CLIENT_SIDE_DETAILS = {
    grpc.StatusCode.DEADLINE_EXCEEDED: ("Deadline Exceeded", "context deadline exceeded"),
    grpc.StatusCode.CANCELLED: ("Cancelled", "context canceled"),
}


def generate_stubs(out_dir: Path) -> tuple[ModuleType, ModuleType]:
    """Run protoc (grpcio-tools) on api.proto and import the generated modules."""
    from grpc_tools import protoc  # imported late: only the bench needs grpcio-tools

    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(PROTO_DIR / "api.proto"),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on cri/api.proto")
    if str(out_dir) not in sys.path:
        sys.path.insert(0, str(out_dir))  # api_pb2_grpc imports api_pb2 by its bare name
    return _load("api_pb2", out_dir), _load("api_pb2_grpc", out_dir)


def _load(name: str, out_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, out_dir / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class PullResult:
    """What PullImage returned: an image ref, or a gRPC status (code name as Go prints it)."""

    image_ref: str | None
    code: str | None = None
    desc: str | None = None
    client_side: bool = False  # the status was made by the client (deadline), not the runtime

    @property
    def go_error(self) -> str:
        """The error string grpc-go's status.Error gives: `rpc error: code = X desc = Y`."""
        return f"rpc error: code = {self.code} desc = {self.desc}"


class CriImageClient:
    """A CRI ImageService client over containerd's unix socket."""

    def __init__(self, socket_path: Path, stub_dir: Path | None = None) -> None:
        self._tmp = None
        if stub_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cri-stubs-")
            stub_dir = Path(self._tmp.name)
        self.pb, grpc_mod = generate_stubs(stub_dir)
        self.channel = grpc.insecure_channel(f"unix://{socket_path}")
        self.stub = grpc_mod.ImageServiceStub(self.channel)

    def close(self) -> None:
        """Close the channel and remove the generated stubs."""
        self.channel.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def auth(self, username: str, password: str) -> object:
        """An AuthConfig as the kubelet builds it from a pull secret.

        The kubelet's keyring copies only username and password (and email) from the
        secret's entry; server_address stays empty (pkg/credentialprovider/keyring.go).
        """
        return self.pb.AuthConfig(username=username, password=password)

    def pull(self, image: str, auth: object | None = None, timeout: float = 30.0) -> PullResult:
        """Call PullImage with a deadline; return the image ref or the gRPC status."""
        request = self.pb.PullImageRequest(
            image=self.pb.ImageSpec(image=image, user_specified_image=image),
            auth=auth,
            sandbox_config=self.pb.PodSandboxConfig(
                metadata=self.pb.PodSandboxMetadata(
                    name="bench", uid="6f1c3a52-7d4e-4b8a-9c61-3e2f0a9b5d17", namespace="default"
                )
            ),
        )
        try:
            response = self.stub.PullImage(request, timeout=timeout)
        except grpc.RpcError as err:
            return _status(err)
        return PullResult(image_ref=response.image_ref)


def _status(err: grpc.RpcError) -> PullResult:
    code = err.code()  # type: ignore[attr-defined]
    details = err.details() or ""  # type: ignore[attr-defined]
    local, go_text = _CLIENT_SIDE_DETAILS.get(code, (None, None))
    client_side = details == local
    desc = go_text if client_side else details
    return PullResult(None, GO_CODE_NAMES[code.value[0]], desc, client_side)
