"""Read pods, events and owners from one cluster: paginated lists, raw JSON, few requests.

The one write is `evict`, for the opt-in retry_pods remediation.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 30.0  # seconds, per request (less when the deadline is near)
MAX_RETRY_AFTER = 5.0  # seconds; a scan must not idle away its Lambda time
# Answers parsed (and read) at once in this process, whatever the clusters and threads waiting
# on the network: a parsed page of 500 pods takes several times its JSON's size.
PARSING = threading.BoundedSemaphore(2)
T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")


def _same(value: V) -> V:
    return value


class KubeReadError(Exception):
    """A Kubernetes list that failed for good (after retries), with the HTTP status if any."""

    def __init__(self, what: str, status: int | None, message: str, *, timed_out: bool = False) -> None:
        super().__init__(f"{what}: {message}")
        self.what, self.status, self.timed_out = what, status, timed_out


@dataclass(frozen=True)
class Eviction:
    """What the API server said to one eviction request."""

    outcome: str  # evicted | refused (a PodDisruptionBudget, 429) | gone (404) | failed
    status: int | None
    message: str


class KubeReader:
    """Streams list results page by page; counts every request it makes."""

    def __init__(self, client: ApiClient, *, page_size: int = 500, attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep, deadline: float | None = None) -> None:
        from kubernetes.client import AppsV1Api, BatchV1Api, CoreV1Api  # deferred import

        self._core, self._apps, self._batch = CoreV1Api(client), AppsV1Api(client), BatchV1Api(client)
        self._page_size, self._attempts, self._sleep = page_size, attempts, sleep
        self._deadline = deadline
        self._count = threading.Lock()  # pages, events and service accounts are read side by side
        self.requests = 0

    def _counted(self) -> None:
        with self._count:
            self.requests += 1

    def _timeout(self, what: str) -> tuple[float, float]:
        """(connect, read) seconds for the next request: 5 and 30, or what is left of the deadline."""
        if self._deadline is None:
            return CONNECT_TIMEOUT, READ_TIMEOUT
        left = self._deadline - time.monotonic()
        if left <= 0.05:
            raise KubeReadError(what, None, "no time left before the scan's deadline", timed_out=True)
        return min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left)

    def pods(self, field_selector: str, read: Callable[[list[dict[str, Any]]], T]) -> Iterator[T]:
        """`read` of each page of pods in all namespaces (a page is dropped once read: see
        PARSING)."""
        return self._pages("pods", self._core.list_pod_for_all_namespaces, read,
                           field_selector=field_selector)

    def events(self, field_selector: str, read: Callable[[list[dict[str, Any]]], T]) -> Iterator[T]:
        """`read` of each page of core/v1 events in all namespaces."""
        return self._pages("events", self._core.list_event_for_all_namespaces, read,
                           field_selector=field_selector)

    def replicasets(self, label_selector: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of ReplicaSets in all namespaces matching `label_selector`."""
        return self._pages("replicasets", self._apps.list_replica_set_for_all_namespaces, _same,
                           label_selector=label_selector)

    def nodes(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of nodes (needs RBAC beyond AmazonEKSViewPolicy; optional)."""
        return self._pages("nodes", self._core.list_node, _same)

    def service_account(self, namespace: str, name: str) -> dict[str, Any]:
        """One service account."""
        return self._call("serviceaccounts", self._core.read_namespaced_service_account,
                          name=name, namespace=namespace)

    def secret(self, namespace: str, name: str) -> dict[str, Any]:
        """One secret (only when the deployer turned secret reading on; values never leave)."""
        return self._call("secrets", self._core.read_namespaced_secret, name=name,
                          namespace=namespace)

    def pod(self, namespace: str, name: str) -> dict[str, Any]:
        """One pod, as it is now."""
        return self._call("pods", self._core.read_namespaced_pod, name=name, namespace=namespace)

    def evict(self, namespace: str, name: str) -> Eviction:
        """POST a policy/v1 Eviction for the pod, once: a budget's refusal is reported, not retried.

        The server may answer 201 with a Failure Status (a pod covered by two budgets), so
        the Status body decides, not the HTTP code.
        """
        from kubernetes.client.exceptions import ApiException  # deferred import
        from urllib3.exceptions import HTTPError

        body = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": name, "namespace": namespace}}
        self._counted()
        try:
            response = self._core.create_namespaced_pod_eviction(
                name, namespace, body, _preload_content=False,
                _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
        except ApiException as err:
            outcome = {429: "refused", 404: "gone"}.get(err.status or 0, "failed")
            return Eviction(outcome, err.status, _status_message(err.body) or _api_message(err))
        except HTTPError as err:
            return Eviction("failed", None, f"cannot reach the API server: {_root(err)}")
        status = _json(response.data)
        if status.get("status") == "Failure":
            return Eviction("failed", status.get("code", response.status), _status_message(response.data))
        return Eviction("evicted", response.status, "evicted")

    def jobs(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of Jobs in all namespaces."""
        return self._pages("jobs", self._batch.list_job_for_all_namespaces, _same)

    def _pages(self, what: str, call: Callable[..., Any], read: Callable[[list[dict[str, Any]]], T],
               **params: str) -> Iterator[T]:
        token: str | None = None
        while True:
            def split(body: dict[str, Any]) -> tuple[T, str | None]:
                items = body.get("items")
                page = read([item for item in items if isinstance(item, dict)] if isinstance(items, list)
                            else [])
                metadata = body.get("metadata")
                after = metadata.get("continue") if isinstance(metadata, dict) else None
                if after is not None and not isinstance(after, str):
                    raise KubeReadError(what, None, "the API server's continue token is not a string")
                return page, after
            page, token = self._request(what, call, split, limit=self._page_size, _continue=token,
                                        **params)
            yield page
            if not token:
                return

    def _call(self, what: str, call: Callable[..., Any], **params: Any) -> dict[str, Any]:
        return self._request(what, call, _same, **params)

    def _request(self, what: str, call: Callable[..., Any], then: Callable[[dict[str, Any]], R],
                 **params: Any) -> R:
        """One request (retried on 429/5xx) and `then` of its JSON body, parsed and read under
        PARSING: the body's objects are dropped before another thread may parse more."""
        from kubernetes.client.exceptions import ApiException  # deferred import
        from urllib3.exceptions import HTTPError

        for attempt in range(1, self._attempts + 1):
            timeout = self._timeout(what)
            self._counted()
            try:
                data = call(_preload_content=False, _request_timeout=timeout, **params).data
            except ApiException as err:
                if err.status not in RETRY_STATUSES or attempt == self._attempts:
                    raise KubeReadError(what, err.status, _api_message(err)) from err
                self._sleep(min(_retry_after(err, attempt), max(self._timeout(what)[1] - 0.1, 0)))
                continue
            except HTTPError as err:
                late = self._deadline is not None and time.monotonic() >= self._deadline - 0.1
                raise KubeReadError(what, None, f"cannot reach the API server: {_root(err)}",
                                    timed_out=late) from err
            with PARSING:
                return then(_body(what, data))
        raise AssertionError("unreachable")


def _body(what: str, data: Any) -> dict[str, Any]:
    """A list or get response as JSON; anything else is a read error, not a crash."""
    try:
        body = json.loads(data)
    except (TypeError, ValueError) as err:
        raise KubeReadError(what, None, f"the API server's answer is not JSON ({err})") from err
    if not isinstance(body, dict):
        raise KubeReadError(what, None, f"the API server answered a {type(body).__name__}, not an object")
    return body


def _retry_after(err: Any, attempt: int) -> float:
    """Seconds to wait: the server's Retry-After (capped at 5 s), else 0.5 s doubling."""
    header: str | None = (err.headers or {}).get("Retry-After") if err.headers else None
    try:
        return min(float(header), MAX_RETRY_AFTER) if header else 0.5 * 2.0 ** (attempt - 1)
    except ValueError:
        return 0.5 * 2.0 ** (attempt - 1)


def _api_message(err: Any) -> str:
    """The Status message the API server sent, or the HTTP reason."""
    try:
        return f"HTTP {err.status}: {json.loads(err.body)['message']}"
    except (TypeError, ValueError, KeyError):
        return f"HTTP {err.status}: {err.reason}"


def _json(data: Any) -> dict[str, Any]:
    try:
        decoded = json.loads(data or b"{}")
    except (TypeError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _status_message(data: Any) -> str:
    """A Status body's message and its causes (a budget's refusal names its numbers there)."""
    status = _json(data)
    causes = [c.get("message", "") for c in (status.get("details") or {}).get("causes") or []]
    return ": ".join(part for part in (status.get("message", ""), *causes) if part)


def _root(err: BaseException) -> str:
    """The innermost reason of a urllib3 error (e.g. the TLS or connect failure): its message, not
    the repr of the connection it carries (an address that changes every run)."""
    reason = getattr(err, "reason", None) or err
    text = next((a for a in reversed(reason.args) if isinstance(a, str)), None)
    return text or str(reason)
