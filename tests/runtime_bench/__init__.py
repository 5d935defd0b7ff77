"""Runtime bench: real containerd and registries produce image-pull failure messages."""
