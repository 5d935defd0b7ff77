"""One lock for everything that creates clients from a boto3 session.

boto3 sessions are not thread-safe (their clients are): the scan's threads create clients
and mint EKS tokens only while holding SESSION_LOCK.
"""

from __future__ import annotations

import threading

SESSION_LOCK = threading.RLock()
