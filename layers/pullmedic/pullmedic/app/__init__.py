"""The composition root and the use cases: wiring clients and settings (bootstrap), the scan, the
announce path, remediation, the fan-out, order parsing."""
