"""Fixes that are safe to automate: one module per action, and the ledger that makes approvals single-
use and audited."""
