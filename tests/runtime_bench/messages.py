"""The kubelet's event text for a failed pull, and the stored-entry shape."""

from __future__ import annotations


def go_quote(text: str) -> str:
    """Go's %q for printable ASCII text: double quotes, with backslash and quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kubelet_message(image: str, cri_error: str) -> str:
    """The message of the kubelet's `Failed` event when PullImage returns `cri_error`.

    kubernetes/kubernetes pkg/kubelet/images/image_manager.go (EnsureImageExists):
        fmt.Sprintf("Failed to pull image %q: %v", container.Image, imagePullResult.err)
    With one set of credentials (or none) the error is the runtime's gRPC status error as
    is (pkg/kubelet/kuberuntime/kuberuntime_image.go returns an aggregate of one error).
    """
    return f"Failed to pull image {go_quote(image)}: {cri_error}"


def entry(
    entry_id: str,
    message: str,
    image: str,
    cause: str,
    source: str,
    note: str = "",
    alternatives: tuple[str, ...] = (),
) -> dict[str, object]:
    """One item of tests/fixtures/messages/generated/containerd-<version>.yaml.

    Same fields as the other message fixtures (tests/fixtures/messages/README.md).
    """
    item: dict[str, object] = {
        "id": entry_id,
        "message": message,
        "image": image,
        "cause": cause,
        "reason": "Failed",
        "runtime": "containerd-1",
        "registry": "self-hosted",
        "partial": False,
        "source": source,
    }
    if alternatives:
        item["alternatives"] = list(alternatives)
    if note:
        item["note"] = note
    return item
