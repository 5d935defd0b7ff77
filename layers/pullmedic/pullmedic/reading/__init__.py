"""Reading clusters and the AWS account: sessions and tokens, the Kubernetes readers, the cached AWS
readers of gather/. I/O with injected clients."""
