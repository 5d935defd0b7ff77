"""Readers of AWS and Kubernetes facts: I/O only, clients injected, cached for one scan."""
