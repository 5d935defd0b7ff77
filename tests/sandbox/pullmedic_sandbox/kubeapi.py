"""A simulated EKS Kubernetes API server: HTTPS on 127.0.0.1, EKS tokens, kube-apiserver JSON.

One :class:`SimulatedCluster` is one cluster: its own CA and certificate, its own port, its own
objects.  The official ``kubernetes`` Python client and the real ``kubectl`` talk to it unchanged
(TLS verified against ``ca_pem``, ``Authorization: Bearer k8s-aws-v1...``, HTTP/1.1 keep-alive).

Served, for the resource types in :data:`.resources.RESOURCE_TYPES`:

* GET lists across namespaces (``/api/v1/pods``), in one namespace (``/api/v1/namespaces/ns/pods``)
  and of cluster-scoped kinds, with ``limit`` / ``continue`` paging, ``labelSelector`` and
  ``fieldSelector`` (the real per-kind field label allow-lists, see :mod:`.selectors`);
* GET single objects (``.../namespaces/ns/pods/name``, ``/api/v1/nodes/name``);
* lists and objects as a ``meta.k8s.io/v1`` ``Table`` when ``Accept`` asks for one (what
  ``kubectl get`` prints; kinds without a printer in :mod:`.tables` stay plain JSON);
* PATCH with JSON patch, merge patch or strategic merge patch (:mod:`.patches`); pod specs only
  change images (and the few fields the server lets an update change), workloads' generation
  moves with their spec;
* DELETE of one object, at once (no kubelet finishes a graceful deletion), with preconditions;
* POST ``/api/v1/namespaces/ns/pods/name/eviction`` with the real eviction rules
  (``pkg/registry/core/pod/storage/eviction.go``): pods that are Pending, Succeeded, Failed or
  already terminating are deleted without consulting PodDisruptionBudgets; otherwise the single
  matching PDB must allow a disruption (429 when ``status.disruptionsAllowed`` is 0).  Like the
  real server, a pod covered by more than one PDB gets HTTP 201 carrying a *Failure* Status with
  ``code: 500``;
* ``/version`` (an EKS-style ``gitVersion``) and discovery (:mod:`.discovery`): ``/api``,
  ``/apis`` (legacy or aggregated ``apidiscovery.k8s.io/v2``), ``/api/v1``, ``/apis/<g>/<v>``;
* POST ``/apis/authorization.k8s.io/v1/selfsubjectaccessreviews``, answered from ``rbac``: the
  verbs and resources a scenario denies are refused (403) and reviewed as not allowed alike.

Objects are stored as given (no defaulting, no admission); ``load`` only fills ``metadata.uid``,
``metadata.resourceVersion``, ``metadata.creationTimestamp`` and an event's
``involvedObject.uid`` when they are missing.  Not served: watches, create, update (PUT),
server-side apply, other subresources (``log``, ``exec``, ``scale``, ``status``) and
``/openapi`` (kubectl's ``get``, ``describe``, ``patch``, ``set image``, ``label``, ``delete``
do not need it; ``explain`` does).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import datetime as dt
import hashlib
import json
import logging
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pullmedic_sandbox import discovery, media, patches, rbac, sts_token, tables
from pullmedic_sandbox.apierrors import (
    ApiError,
    bad_request,
    generic_error,
    not_found,
    resource_details,
    status_body,
)
from pullmedic_sandbox.resources import BY_URL, RESOURCE_TYPES, ResourceType, resource_type
from pullmedic_sandbox.selectors import (
    SelectorError,
    convert_field_selector,
    label_selector_from_object,
    parse_field_selector,
    parse_label_selector,
    selectable_fields,
)
from pullmedic_sandbox.tls import make_server_tls
from pullmedic_sandbox.updates import check_preconditions, validated_update

_LOG = logging.getLogger(__name__)
_HANDSHAKE_TIMEOUT = 30.0  # generous: a busy machine may schedule the client late
_POLL_INTERVAL = 0.05  # how quickly stop() is noticed by the accept loop
_CONTINUE_VERSION = "meta.k8s.io/v1"

Obj = dict[str, Any]


PODS = resource_type("pods")
PDBS = resource_type("poddisruptionbudgets")


# ------------------------------------------------------------------------------------ routing


@dataclass(frozen=True)
class _Route:
    """A parsed request path; ``resource`` is None for non-resource paths (``/version``...)."""

    path: str
    resource: ResourceType | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    def verb(self, method: str) -> str:
        """The RBAC verb of a request on this route."""
        if method == "GET":
            return "list" if self.resource is not None and self.name is None else "get"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())


_NON_RESOURCE_PATHS = frozenset({"/version", "/api", "/apis"})


def _route(path: str) -> _Route:
    """Map a URL path onto a resource, namespace, name and subresource (404 if unknown)."""
    path = path.rstrip("/") or "/"
    if path in _NON_RESOURCE_PATHS:
        return _Route(path)
    parts = [unquote(p) for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise generic_error(404)
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest and discovery.resource_list(group, version) is not None:
        return _Route(path)
    rt = BY_URL.get((group, version, rest[0])) if rest else None
    if rt is None or len(rest) > 3 or (namespace is not None and not rt.namespaced):
        raise generic_error(404)
    if len(rest) > 1 and rt.namespaced and namespace is None:
        raise generic_error(404)
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    return _Route(path, rt, namespace, name, subresource)


def _forbidden(route: _Route, method: str, user: str) -> ApiError:
    """403 with the RBAC denial message of the real server."""
    verb = route.verb(method)
    rt = route.resource
    if rt is None:
        message = f'forbidden: User "{user}" cannot {verb} path "{route.path}"'
        return ApiError(403, "Forbidden", message)
    resource = f"{rt.plural}/{route.subresource}" if route.subresource else rt.plural
    subject = f'{rt.group_resource} "{route.name}"' if route.name else rt.group_resource
    scope = f'in the namespace "{route.namespace}"' if route.namespace else "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}"'
        f' in API group "{rt.group}" {scope}'
    )
    return ApiError(403, "Forbidden", message, resource_details(rt, route.name))


# -------------------------------------------------------------------------------------- store


@dataclass(frozen=True)
class _Page:
    """One page of a list: items, the key to continue after (if more), and -- like the real
    server, only when nothing is filtered -- how many objects are left after the page."""

    items: list[Obj]
    revision: int
    last_key: str | None
    remaining: int | None


class _Store:
    """Objects per resource type, keyed ``namespace/name`` (or ``name``), thread-safe.

    Stored objects are never mutated in place (updates replace them), so a page can be
    serialized after the lock is released.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._objects: dict[str, dict[str, Obj]] = {rt.plural: {} for rt in RESOURCE_TYPES}
        self._sorted_keys: dict[str, list[str]] = {}
        self.revision = 0

    def put(self, rt: ResourceType, obj: Obj) -> None:
        """Insert or replace an object (``kind``/``apiVersion`` already removed)."""
        with self.lock:
            self.revision += 1
            self._objects[rt.plural][_key(rt, obj["metadata"])] = obj
            self._sorted_keys.pop(rt.plural, None)

    def delete(self, rt: ResourceType, namespace: str | None, name: str) -> None:
        """Remove an object if present."""
        with self.lock:
            self.revision += 1
            self._objects[rt.plural].pop(_key(rt, {"namespace": namespace, "name": name}), None)
            self._sorted_keys.pop(rt.plural, None)

    def clear(self) -> None:
        """Remove every object."""
        with self.lock:
            self.revision += 1
            for objects in self._objects.values():
                objects.clear()
            self._sorted_keys.clear()

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        """One object or None."""
        with self.lock:
            return self._objects[rt.plural].get(_key(rt, {"namespace": namespace, "name": name}))

    def all(self, rt: ResourceType, namespace: str | None = None) -> list[Obj]:
        """Every object of a type (in one namespace when given), in key order."""
        return self.page(rt, namespace, "", 0, None).items

    def page(
        self,
        rt: ResourceType,
        namespace: str | None,
        start: str,
        limit: int,
        keep: Callable[[Obj], bool] | None,
    ) -> _Page:
        """Up to ``limit`` (0: all) objects kept by ``keep``, from key ``start`` on."""
        with self.lock:
            keys = self._keys(rt)
            low, high = _key_range(keys, namespace)
            index = max(low, bisect.bisect_left(keys, start, low, high)) if start else low
            objects = self._objects[rt.plural]
            items: list[Obj] = []
            last = index - 1
            for position in range(index, high):
                obj = objects[keys[position]]
                if keep is not None and not keep(obj):
                    continue
                if limit and len(items) == limit:
                    remaining = high - last - 1 if keep is None else None
                    return _Page(items, self.revision, keys[last], remaining)
                items.append(obj)
                last = position
            return _Page(items, self.revision, None, None)

    def _keys(self, rt: ResourceType) -> list[str]:
        """Sorted keys of a type, rebuilt lazily after changes."""
        keys = self._sorted_keys.get(rt.plural)
        if keys is None:
            keys = self._sorted_keys[rt.plural] = sorted(self._objects[rt.plural])
        return keys


def _key(rt: ResourceType, metadata: Mapping[str, Any]) -> str:
    """Storage key: ``namespace/name`` for namespaced types, ``name`` otherwise."""
    return f"{metadata.get('namespace')}/{metadata['name']}" if rt.namespaced else metadata["name"]


def _key_range(keys: list[str], namespace: str | None) -> tuple[int, int]:
    """Index range of the keys in ``namespace`` (all keys when None)."""
    if namespace is None:
        return 0, len(keys)
    # "0" sorts right after "/", so [ns/, ns0) holds exactly the keys of namespace ns.
    return bisect.bisect_left(keys, f"{namespace}/"), bisect.bisect_left(keys, f"{namespace}0")


# ---------------------------------------------------------------------------- object helpers


def _json_default(value: object) -> str:
    """Serialize YAML timestamps the way the API does (RFC 3339, UTC ``Z``)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _now() -> str:
    """Current time as an API timestamp."""
    return _json_default(dt.datetime.now(dt.UTC))


def _prepare(obj: Mapping[str, Any], revision: int) -> tuple[ResourceType, Obj]:
    """Normalize a loaded object: its type, and a private copy with metadata filled in."""
    rt = resource_type(str(obj.get("kind", "")))
    if obj.get("apiVersion", rt.api_version) != rt.api_version:
        raise ValueError(f"{rt.kind} must be {rt.api_version}, not {obj.get('apiVersion')}")
    stored = json.loads(json.dumps(obj, default=_json_default))
    stored.pop("kind", None)
    stored.pop("apiVersion", None)
    metadata = stored.setdefault("metadata", {})
    if not metadata.get("name"):
        raise ValueError(f"{rt.kind} without metadata.name")
    if rt.namespaced:
        metadata.setdefault("namespace", "default")
    else:
        metadata.pop("namespace", None)
    metadata.setdefault("uid", str(uuid.uuid4()))
    metadata.setdefault("resourceVersion", str(revision))
    metadata.setdefault("creationTimestamp", _now())
    return rt, stored


def _typed(rt: ResourceType, obj: Obj) -> Obj:
    """An object as served alone: ``kind`` and ``apiVersion`` first."""
    return {"kind": rt.kind, "apiVersion": rt.api_version, **obj}


def _pod_ready(pod: Obj) -> bool:
    """Whether the pod's Ready condition is True."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _can_ignore_budget(pod: Obj) -> bool:
    """Pods that are not running (or already terminating) are evicted without a PDB check."""
    phase = (pod.get("status") or {}).get("phase")
    return phase in {"Pending", "Succeeded", "Failed"} or bool(
        (pod.get("metadata") or {}).get("deletionTimestamp")
    )


def _budget_selects(pdb: Obj, pod: Obj) -> bool:
    """A PDB selects a pod when its non-empty, valid selector matches the pod's labels."""
    try:
        selector = label_selector_from_object((pdb.get("spec") or {}).get("selector"))
    except SelectorError:
        return False
    return not selector.empty and selector.matches((pod.get("metadata") or {}).get("labels"))


# ------------------------------------------------------------------------------ list helpers


def _encode_continue(revision: int, last_key: str) -> str:
    """Opaque continue token: base64url JSON of the list's revision and the next start key."""
    token = {"v": _CONTINUE_VERSION, "rv": revision, "start": f"{last_key}\x00"}
    raw = json.dumps(token, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    """Revision and start key of a continue token (400 when it is not one of ours)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = json.loads(raw)
        revision, start = decoded["rv"], decoded["start"]
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise bad_request(f"invalid continue token: continue key is not valid: {error}") from error
    if decoded.get("v") != _CONTINUE_VERSION or not isinstance(revision, int) or revision <= 0:
        raise bad_request("invalid continue token: continue key is not valid: unrecognized token")
    if not isinstance(start, str) or not start:
        raise bad_request(
            "invalid continue token: continue key is not valid: encoded start key empty"
        )
    return revision, start


def _limit(query: Mapping[str, str]) -> int:
    """The ``limit`` parameter (0: no limit)."""
    raw = query.get("limit", "")
    try:
        return max(int(raw), 0) if raw else 0
    except ValueError:
        raise bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


def _list_filter(rt: ResourceType, query: Mapping[str, str]) -> Callable[[Obj], bool] | None:
    """Predicate for ``labelSelector`` and ``fieldSelector`` (None when both are empty)."""
    try:
        labels = parse_label_selector(query.get("labelSelector", ""))
        fields = convert_field_selector(
            rt.kind, parse_field_selector(query.get("fieldSelector", ""))
        )
    except SelectorError as error:
        raise bad_request(str(error)) from error
    if labels.empty and not fields.terms:
        return None

    def keep(obj: Obj) -> bool:
        """Whether an object passes both selectors."""
        return labels.matches((obj.get("metadata") or {}).get("labels")) and fields.matches(
            selectable_fields(rt.kind, obj, rt.namespaced)
        )

    return keep


# ----------------------------------------------------------------------------- the API itself


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered."""

    method: str
    path: str
    query: Mapping[str, str]
    status: int
    at: float = 0.0  # time.monotonic() when answered


@dataclass
class _Fault:
    """An injected failure for requests whose target contains ``path_contains``."""

    status: int
    path_contains: str
    remaining: int | None
    retry_after: int | None
    message: str | None


@dataclass(frozen=True)
class Response:
    """An HTTP response ready to write."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())
    content_type: str = media.JSON


def _json_response(
    status: int,
    body: Obj,
    headers: tuple[tuple[str, str], ...] = (),
    content_type: str = media.JSON,
) -> Response:
    """Serialize a JSON body once, compactly."""
    return Response(status, json.dumps(body, separators=(",", ":")).encode(), headers, content_type)


@dataclass(frozen=True)
class _Request:
    """What a handler needs of a request besides its route."""

    method: str
    query: Mapping[str, str]
    body: bytes
    accept: str
    content_type: str


class SimulatedCluster:
    """One EKS cluster's API: its own HTTPS server on 127.0.0.1, its own CA."""

    def __init__(self, name: str, secrets: Mapping[str, str], *, version: str = "1.31") -> None:
        """``secrets`` maps the access key ids whose tokens are accepted to their secret keys."""
        self.name = name
        self.version = version
        self.requests: list[RequestRecord] = []
        self.delay = 0.0  # seconds added to every answer: a network round trip (`make bench`)
        self._secrets = secrets  # kept, not copied: keys issued later (by STS) are honoured
        self._tls = make_server_tls()
        self._store = _Store()
        self._faults: list[_Fault] = []
        self.rbac = rbac.Rbac()  # what the cluster refuses (403), and its reviews say so
        self._lock = threading.Lock()
        self._server: _ApiServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    @property
    def ca_pem(self) -> bytes:
        """PEM of the CA that signed the server certificate (EKS ``certificateAuthority.data``)."""
        return self._tls.ca_pem

    @property
    def endpoint(self) -> str:
        """``https://127.0.0.1:<port>``; only once started."""
        if self._server is None:
            raise RuntimeError(f"cluster {self.name!r} is not started")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError(f"cluster {self.name!r} is already started")
        self._server = _ApiServer(self, _server_context(self._tls.cert_pem, self._tls.key_pem))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"kubeapi-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> SimulatedCluster:
        """Start; stop again when the block ends."""
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop."""
        self.stop()

    # -- state

    def load(self, objects: Iterable[Mapping[str, Any]]) -> None:
        """Add (or replace) objects given as in YAML: apiVersion, kind, metadata, spec, status.

        An event without ``involvedObject.uid`` gets the uid of the object it names when that
        object is loaded too: the kubelet's events always carry it, and ``kubectl describe``
        finds a pod's events by it.
        """
        with self._store.lock:
            prepared = [_prepare(obj, self._store.revision + 1) for obj in objects]
            uids = {(rt.kind, o["metadata"].get("namespace") or None, o["metadata"]["name"]):
                    o["metadata"]["uid"] for rt, o in prepared}
            for rt, stored in prepared:
                involved = stored.get("involvedObject")
                if rt.kind == "Event" and isinstance(involved, dict) and not involved.get("uid"):
                    uid = uids.get((involved.get("kind"), involved.get("namespace") or None,
                                    involved.get("name"))) or self._uid_of(involved)
                    if uid:
                        involved["uid"] = uid
                self._store.put(rt, stored)

    def clear(self) -> None:
        """Remove every object."""
        self._store.clear()

    def _uid_of(self, involved: Mapping[str, Any]) -> str | None:
        """The uid of the stored object an event's ``involvedObject`` names, if any."""
        try:
            rt = resource_type(str(involved.get("kind", "")))
        except ValueError:
            return None
        namespace = involved.get("namespace") if rt.namespaced else None
        obj = self._store.get(rt, namespace, str(involved.get("name", "")))
        return None if obj is None else obj["metadata"].get("uid")

    def objects(self, kind: str) -> list[Obj]:
        """Copies of every object of a kind (``Pod`` or ``pods``), in namespace/name order."""
        rt = resource_type(kind)
        return [_typed(rt, copy.deepcopy(obj)) for obj in self._store.all(rt)]

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """A copy of one object, or None (``namespace`` is ignored for cluster-scoped kinds)."""
        rt = resource_type(kind)
        obj = self._store.get(rt, namespace if rt.namespaced else None, name)
        return None if obj is None else _typed(rt, copy.deepcopy(obj))

    # -- faults

    def inject(
        self,
        status: int,
        *,
        path_contains: str = "",
        times: int | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer ``status`` with a Status body to authenticated requests whose target (path and
        query string) contains ``path_contains``; ``times=None`` means until cleared.
        ``retry_after`` adds the ``Retry-After`` header; ``message`` overrides the default text."""
        with self._lock:
            self._faults.append(_Fault(status, path_contains, times, retry_after, message))

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._faults.clear()

    # -- request handling

    def handle(
        self,
        method: str,
        target: str,
        authorization: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Answer one HTTP request and record it (``headers``: ``Accept``, ``Content-Type``)."""
        parts = urlsplit(target)
        # Reversed so that, as in Go's url.Values.Get, the first of repeated parameters wins.
        query = dict(parse_qsl(parts.query, keep_blank_values=True)[::-1])
        headers = headers or {}
        request = _Request(
            method,
            query,
            body,
            headers.get("Accept", ""),
            headers.get("Content-Type", "").partition(";")[0].strip().lower(),
        )
        try:
            response = self._answer(parts.path, target, authorization, request)
        except ApiError as error:
            response = _json_response(error.code, error.status(), error.headers())
        except Exception:  # a server answers 500 rather than dropping the connection
            _LOG.exception("unhandled error for %s %s", method, target)
            response = _json_response(500, generic_error(500).status())
        with self._lock:
            self.requests.append(
                RequestRecord(method, parts.path, query, response.status, time.monotonic())
            )
        return response

    def _answer(self, path: str, target: str, authorization: str, request: _Request) -> Response:
        """Authenticate, apply faults, route and serve."""
        method = request.method
        user = self._authenticate(authorization, method, path)
        if rbac.is_review(path):
            self._apply_fault(target, _Route(path), method, user)
            return _json_response(*rbac.review(method, path, request.body, self.rbac))
        route = _route(path)
        self._apply_fault(target, route, method, user)
        if route.resource is not None and not self.rbac.allows(
            route.verb(method), route.resource.group, route.resource.plural,
            route.subresource or "", route.namespace or ""
        ):
            raise _forbidden(route, method, user)
        if route.resource is None:
            return self._non_resource(route, request)
        if route.subresource == "eviction" and route.resource is PODS and method == "POST":
            return self._evict(route, request.query, request.body)
        if route.subresource is not None:
            raise generic_error(404)
        if method == "GET" and route.name is None:
            return self._list(route, request)
        if method == "GET":
            return self._get(route, request)
        if method == "DELETE" and route.name is not None:
            return self._delete(route, request)
        if method == "PATCH" and route.name is not None:
            return self._patch(route, request)
        if method == "POST" and route.name is None:
            return self._create(route, request)
        raise generic_error(405)

    def _authenticate(self, authorization: str, method: str, path: str) -> str:
        """The access key id of a valid EKS token for this cluster; 401 otherwise."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            _LOG.info("401 %s %s on %s: no bearer token", method, path, self.name)
            raise generic_error(401)
        check = sts_token.verify(token.strip(), self.name, self._secrets)
        if not check.ok:
            _LOG.info("401 %s %s on %s: %s", method, path, self.name, check.reason)
            raise generic_error(401)
        return check.access_key_id or ""

    def _apply_fault(self, target: str, route: _Route, method: str, user: str) -> None:
        """Raise the first injected fault matching the request, counting it down."""
        with self._lock:
            fault = next((f for f in self._faults if f.path_contains in target), None)
            if fault is None:
                return
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
        error = (
            _forbidden(route, method, user) if fault.status == 403 else generic_error(fault.status)
        )
        error.message = fault.message or error.message
        error.retry_after = fault.retry_after
        raise error

    def _non_resource(self, route: _Route, request: _Request) -> Response:
        """``/version`` and discovery: ``/api``, ``/apis`` (legacy or aggregated) and the
        ``APIResourceList`` of each served group version."""
        if request.method != "GET":
            raise generic_error(405)
        if route.path == "/version":
            return _json_response(200, self._version())
        if route.path in {"/api", "/apis"}:
            chosen = _negotiate(
                request.accept,
                (discovery.AGGREGATED_KIND, discovery.AGGREGATED_GROUP, discovery.AGGREGATED_VERSION),
            )
            if chosen.as_kind:
                body = discovery.aggregated(core=route.path == "/api")
                return _json_response(200, body, (("Vary", "Accept"),), chosen.header())
            if route.path == "/api":
                address = self.endpoint.removeprefix("https://")
                return _json_response(200, discovery.core_versions(address))
            return _json_response(200, discovery.group_list())
        parts = route.path.split("/")  # "", "api", "v1" or "", "apis", group, version
        group, version = (parts[2] if parts[1] == "apis" else ""), parts[-1]
        listing = discovery.resource_list(group, version)
        assert listing is not None  # _route only lets served group versions through
        return _json_response(200, listing)

    def _version(self) -> Obj:
        """Version info shaped like an EKS control plane's."""
        major, _, minor = self.version.partition(".")
        build = hashlib.sha256(self.name.encode()).hexdigest()[:7]
        return {
            "major": major,
            "minor": f"{minor}+",
            "gitVersion": f"v{self.version}.0-eks-{build}",
            "gitCommit": hashlib.sha1(self.name.encode()).hexdigest(),
            "gitTreeState": "clean",
            "buildDate": "2024-10-22T00:00:00Z",
            "goVersion": "go1.22.8",
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    def _get(self, route: _Route, request: _Request) -> Response:
        """One object (as a Table when asked for), or 404."""
        rt = route.resource
        assert rt is not None and route.name is not None
        obj = self._store.get(rt, route.namespace, route.name)
        if obj is None:
            raise not_found(rt, route.name)
        typed = _typed(rt, obj)
        chosen = _negotiate(request.accept, _table_of(rt))
        if chosen.as_kind:
            version = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            body = tables.table(rt.kind, [typed], version, request.query.get("includeObject", ""))
            return _json_response(200, body, content_type=chosen.header())
        return _json_response(200, typed)

    def _list(self, route: _Route, request: _Request) -> Response:
        """A (possibly paged and filtered) list, as a Table when asked for."""
        rt, query = route.resource, request.query
        assert rt is not None
        if query.get("watch") in {"true", "1"}:
            message = f'watch is not supported on resources of kind "{rt.group_resource}"'
            raise ApiError(405, "MethodNotAllowed", message, resource_details(rt))
        chosen = _negotiate(request.accept, _table_of(rt))
        keep = _list_filter(rt, query)
        revision, start = self._continue_from(query)
        page = self._store.page(rt, route.namespace, start, _limit(query), keep)
        metadata: Obj = {"resourceVersion": str(revision or page.revision)}
        if page.last_key is not None:
            metadata["continue"] = _encode_continue(revision or page.revision, page.last_key)
            if page.remaining is not None:
                metadata["remainingItemCount"] = page.remaining
        if chosen.as_kind:
            typed = [_typed(rt, obj) for obj in page.items]
            body = tables.table(rt.kind, typed, metadata, query.get("includeObject", ""))
            return _json_response(200, body, content_type=chosen.header())
        body = {"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": metadata}
        body["items"] = page.items
        return _json_response(200, body)

    def _delete(self, route: _Route, request: _Request) -> Response:
        """Delete one object at once (no kubelet here to finish a graceful pod deletion)."""
        rt, name = route.resource, route.name
        assert rt is not None and name is not None
        options = _json_object(request.body)
        dry_run = request.query.get("dryRun") == "All" or "All" in (options.get("dryRun") or [])
        with self._store.lock:
            obj = self._store.get(rt, route.namespace, name)
            if obj is None:
                raise not_found(rt, name)
            check_preconditions(rt, obj, options.get("preconditions") or {})
            if not dry_run:
                self._store.delete(rt, route.namespace, name)
        if rt is PODS:
            return _json_response(200, _typed(rt, obj))
        details = {**resource_details(rt, name), "uid": obj["metadata"].get("uid", "")}
        return _json_response(200, status_body("Success", 200, details=details))

    def _patch(self, route: _Route, request: _Request) -> Response:
        """Apply a JSON, merge or strategic merge patch; the result replaces the object."""
        rt, name = route.resource, route.name
        assert rt is not None and name is not None
        if request.content_type not in patches.SUPPORTED:
            accepted = ", ".join(patches.SUPPORTED)
            message = (
                f"the body of the request was in an unknown format - accepted media types"
                f" include: {accepted}"
            )
            raise ApiError(415, "UnsupportedMediaType", message)
        with self._store.lock:
            obj = self._store.get(rt, route.namespace, name)
            if obj is None:
                raise not_found(rt, name)
            current = _typed(rt, obj)
            try:
                patched = patches.apply(request.content_type, current, request.body)
            except patches.PatchError as error:
                reason = "BadRequest" if error.status == 400 else "Invalid"
                raise ApiError(error.status, reason, str(error)) from error
            stored = validated_update(rt, current, patched, self._store.revision + 1)
            if stored is None:
                return _json_response(200, current)
            if request.query.get("dryRun") != "All":
                self._store.put(rt, stored)
        return _json_response(200, _typed(rt, stored))

    def _create(self, route: _Route, request: _Request) -> Response:
        """Create an object in the collection (``kubectl create secret``): 409 if it exists."""
        rt = route.resource
        assert rt is not None
        try:
            obj = json.loads(request.body)
            metadata = obj.setdefault("metadata", {})
            if rt.namespaced:
                metadata["namespace"] = route.namespace or metadata.get("namespace") or "default"
            with self._store.lock:
                created, stored = _prepare({"apiVersion": rt.api_version, "kind": rt.kind, **obj},
                                           self._store.revision + 1)
                name = stored["metadata"]["name"]
                if created is not rt:
                    raise bad_request(f"the body is a {created.kind}, not a {rt.kind}")
                if self._store.get(rt, route.namespace, name) is not None:
                    raise ApiError(409, "AlreadyExists", f'{rt.group_resource} "{name}" already exists',
                                   resource_details(rt, name))
                if request.query.get("dryRun") != "All":
                    self._store.put(rt, stored)
        except (ValueError, AttributeError, TypeError) as error:
            raise bad_request(f"the object could not be read: {error}") from error
        return _json_response(201, _typed(rt, stored))

    @staticmethod
    def _continue_from(query: Mapping[str, str]) -> tuple[int, str]:
        """Revision and start key from ``continue`` (``(0, "")`` for a first page)."""
        token = query.get("continue", "")
        if not token:
            return 0, ""
        if query.get("resourceVersion", "0") not in {"", "0"}:
            raise bad_request("specifying resource version is not allowed when using continue")
        return _decode_continue(token)

    def _evict(self, route: _Route, query: Mapping[str, str], body: bytes) -> Response:
        """The eviction subresource: delete the pod unless its disruption budget forbids it."""
        assert route.name is not None
        eviction = _json_object(body)
        if (eviction.get("metadata") or {}).get("name") != route.name:
            raise bad_request("name in URL does not match name in Eviction object")
        dry_run = query.get("dryRun") == "All" or "All" in (
            (eviction.get("deleteOptions") or {}).get("dryRun") or []
        )
        with self._store.lock:
            pod = self._store.get(PODS, route.namespace, route.name)
            if pod is None:
                raise not_found(PODS, route.name)
            if not _can_ignore_budget(pod):
                refused = self._consume_budget(pod, dry_run)
                if refused is not None:
                    return refused
            if not dry_run:
                self._store.delete(PODS, route.namespace, route.name)
        return _json_response(201, status_body("Success", 201))

    def _consume_budget(self, pod: Obj, dry_run: bool) -> Response | None:
        """Check and decrement the pod's PDB; a response when the eviction cannot proceed."""
        metadata = pod["metadata"]
        budgets = [
            b for b in self._store.all(PDBS, metadata["namespace"]) if _budget_selects(b, pod)
        ]
        if len(budgets) > 1:
            message = (
                "This pod has more than one PodDisruptionBudget,"
                " which the eviction subresource does not support."
            )
            return _json_response(201, status_body("Failure", 500, message))
        if not budgets:
            return None
        budget = budgets[0]
        status = budget.get("status") or {}
        desired, current = status.get("desiredHealthy", 0), status.get("currentHealthy", 0)
        if not _pod_ready(pod) and current >= desired > 0:
            return None
        _check_disruption_allowed(budget)
        if not dry_run:
            self._store.put(PDBS, _decremented(budget, metadata["name"]))
        return None


def _check_disruption_allowed(budget: Obj) -> None:
    """Raise the server's error when a PDB allows no disruption now."""
    name = budget["metadata"]["name"]
    status = budget.get("status") or {}
    if status.get("observedGeneration", 0) < budget["metadata"].get("generation", 0):
        cause = f"The disruption budget {name} is still being processed by the server."
        raise _budget_refusal(cause, retry_after=10)
    allowed = status.get("disruptionsAllowed", 0)
    if allowed < 0:
        message = (
            f'poddisruptionbudget.policy "{name}" is forbidden: pdb disruptions allowed is negative'
        )
        details = {"name": name, "group": "policy", "kind": "poddisruptionbudget"}
        raise ApiError(403, "Forbidden", message, details)
    if allowed == 0:
        desired, current = status.get("desiredHealthy", 0), status.get("currentHealthy", 0)
        cause = (
            f"The disruption budget {name} needs {desired} healthy pods and has {current} currently"
        )
        raise _budget_refusal(cause, retry_after=None)


def _budget_refusal(cause: str, retry_after: int | None) -> ApiError:
    """429 TooManyRequests with a ``DisruptionBudget`` cause."""
    message = "Cannot evict pod as it would violate the pod's disruption budget."
    details = {"causes": [{"reason": "DisruptionBudget", "message": cause}]}
    return ApiError(429, "TooManyRequests", message, details, retry_after)


def _decremented(budget: Obj, pod_name: str) -> Obj:
    """A copy of the PDB with one disruption used by ``pod_name``."""
    updated = copy.deepcopy(budget)
    status = updated.setdefault("status", {})
    status["disruptionsAllowed"] = status.get("disruptionsAllowed", 0) - 1
    status.setdefault("disruptedPods", {})[pod_name] = _now()
    return updated


def _negotiate(accept: str, transform: tuple[str, str, str] | None) -> media.MediaType:
    """The response media type for ``Accept`` (406 when nothing acceptable is offered)."""
    chosen = media.choose(accept, transform)
    if chosen is None:
        message = f"only the following media types are accepted: {media.JSON}"
        raise ApiError(406, "NotAcceptable", message)
    return chosen


def _table_of(rt: ResourceType) -> tuple[str, str, str] | None:
    """The Table transformation when the kind has a printer."""
    if not tables.has_printer(rt.kind):
        return None
    return ("Table", tables.TABLE_GROUP, tables.TABLE_VERSION)


def _json_object(body: bytes) -> Obj:
    """A JSON object request body (400 otherwise)."""
    try:
        decoded = json.loads(body or b"{}")
    except ValueError as error:
        raise bad_request(f"the body of the request was in an unknown format: {error}") from error
    if not isinstance(decoded, dict):
        raise bad_request("the body of the request was in an unknown format")
    return decoded


# ------------------------------------------------------------------------------- HTTP server


def _server_context(cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    """A TLS 1.2+ server context for the certificate (loaded through a private temp dir)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    with tempfile.TemporaryDirectory(prefix="kubeapi-tls-") as directory:
        cert, key = Path(directory, "tls.crt"), Path(directory, "tls.key")
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        context.load_cert_chain(cert, key)
    return context


class _ApiServer(ThreadingHTTPServer):
    """Threaded HTTPS server; the TLS handshake runs in the connection's own thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, cluster: SimulatedCluster, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cluster = cluster
        self._context = context
        self._connections: set[ssl.SSLSocket] = set()
        self._connections_lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handshake, then serve the connection's requests until it closes."""
        request.settimeout(_HANDSHAKE_TIMEOUT)
        try:
            connection = self._context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            _LOG.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        connection.settimeout(None)
        with self._tracked(connection):
            try:
                self.RequestHandlerClass(connection, client_address, self)
            except OSError as error:
                _LOG.debug("connection from %s ended: %s", client_address, error)

    def close_connections(self) -> None:
        """Shut down every open connection (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue

    @contextmanager
    def _tracked(self, connection: ssl.SSLSocket) -> Iterator[None]:
        """Track an open connection so ``close_connections`` can reach it; close it after."""
        with self._connections_lock:
            self._connections.add(connection)
        try:
            yield
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler delegating every method to the cluster."""

    protocol_version = "HTTP/1.1"
    server: _ApiServer

    def do_GET(self) -> None:
        """Serve GET."""
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        """Read the body, answer, write the response with Content-Length."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        authorization = self.headers.get("Authorization", "")
        headers = {name: self.headers.get(name, "") for name in ("Accept", "Content-Type")}
        response = self.server.cluster.handle(
            self.command, self.path, authorization, body, headers
        )
        if self.server.cluster.delay:
            time.sleep(self.server.cluster.delay)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Route access logs to logging instead of stderr."""
        _LOG.debug("%s %s", self.address_string(), format % args)
