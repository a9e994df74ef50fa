"""HTTP front of the Kubernetes API double: REST paths, discovery, auth, watch streams, fault injection.

Speaks the API as the official client uses it: JSON bodies, Status errors, chunked watch
streams of JSON lines with BOOKMARK events, ERROR 410 for a too-old resourceVersion.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import yaml

from tests.execute.k8s_double.store import KINDS, ApiError, Store, status_body


@dataclass
class Fault:
    """Answer the next ``times`` matching requests with ``status`` (before touching the store)."""

    method: str
    path: str  # regex searched in the path
    status: int
    times: int = 1
    retry_after: float | None = None
    causes: list = field(default_factory=list)
    message: str = "injected fault"
    only_apply: bool = False


@dataclass
class Request:
    method: str
    path: str
    query: dict
    content_type: str
    status: int = 0


class Double:
    """The API server double. ``with Double() as api:`` serves on 127.0.0.1:<port>."""

    def __init__(
        self,
        installed=("forklift.konveyor.io", "kubevirt.io", "cdi.kubevirt.io", "k8s.cni.cncf.io"),
        bookmark_interval=0.2,
    ):
        self.store = Store()
        self.installed = set(installed)
        self.tokens = {"token-1"}
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.drop_next_watch_after: int | None = None
        self.dropped_watches = 0
        self.expire_on_drop = False  # forget history when a watch drops: the reconnect gets 410 Gone
        self.gone_sent = 0
        self.bookmark_interval = bookmark_interval
        self.dry_run_supported = True
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = None

    def __enter__(self):
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def kind(self, plural, group=""):
        return next(k for k in KINDS if k.plural == plural and k.group == group)

    def by_kind(self, kind_name):
        return next(k for k in KINDS if k.kind == kind_name)

    def kubeconfig(self, path, token="token-1"):
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "double",
            "clusters": [{"name": "double", "cluster": {"server": self.url}}],
            "users": [{"name": "executor", "user": {"token": token}}],
            "contexts": [{"name": "double", "context": {"cluster": "double", "user": "executor"}}],
        }
        path.write_text(yaml.safe_dump(config))
        return path

    def mutating(self):
        """Requests that would have changed state (dry runs excluded)."""
        return [
            r
            for r in self.requests
            if r.method in ("POST", "PUT", "PATCH", "DELETE")
            and "dryRun" not in r.query
            and 200 <= r.status < 300
        ]

    def fault_for(self, method, path, content_type):
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and re.search(fault.path, path):
                    if fault.only_apply and "apply-patch" not in content_type:
                        continue
                    fault.times -= 1
                    return fault
        return None


def _resource_list(api, group, version):
    resources = [
        {
            "name": k.plural,
            "singularName": k.kind.lower(),
            "namespaced": k.namespaced,
            "kind": k.kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        }
        for k in KINDS
        if k.group == group and k.version == version
    ]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


_PATH = re.compile(
    r"^/(?:api/(?P<cv>v1)|apis/(?P<g>[^/]+)/(?P<v>[^/]+))(?:/namespaces/(?P<ns>[^/]+)(?=/))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?$"
)


def _handler(api: Double):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        # -- plumbing -------------------------------------------------------------------------
        def _send(self, code, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self._record.status = code

        def _body(self):
            raw = self._raw
            ctype = self.headers.get("Content-Type", "")
            return yaml.safe_load(raw) if "yaml" in ctype else json.loads(raw or b"{}")

        def _dispatch(self, method):
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            ctype = self.headers.get("Content-Type", "")
            length = int(self.headers.get("Content-Length") or 0)
            self._raw = self.rfile.read(length) if length else b""  # always consume the body (keep-alive)
            self._record = Request(method, url.path, query, ctype)
            with api._lock:
                api.requests.append(self._record)
            auth = self.headers.get("Authorization", "")
            if auth.removeprefix("Bearer ") not in api.tokens:
                return self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
            fault = api.fault_for(method, url.path, ctype)
            if fault is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
                reason = {409: "Conflict", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError"}.get(
                    fault.status, "Error"
                )
                return self._send(
                    fault.status, status_body(fault.status, reason, fault.message, fault.causes), headers
                )
            try:
                self._route(method, url.path, query, ctype)
            except ApiError as exc:
                self._send(exc.code, exc.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PATCH(self):
            self._dispatch("PATCH")

        def do_DELETE(self):
            self._dispatch("DELETE")

        # -- routes ---------------------------------------------------------------------------
        def _route(self, method, path, query, ctype):
            if path == "/api":
                return self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
            if path == "/api/v1":
                return self._send(200, _resource_list(api, "", "v1"))
            if path == "/apis":
                groups = sorted({k.group for k in KINDS if k.group} & (api.installed | {"storage.k8s.io"}))
                return self._send(
                    200,
                    {
                        "kind": "APIGroupList",
                        "apiVersion": "v1",
                        "groups": [
                            {
                                "name": g,
                                "versions": [
                                    {"groupVersion": f"{g}/{v}", "version": v}
                                    for v in sorted({k.version for k in KINDS if k.group == g})
                                ],
                            }
                            for g in groups
                        ],
                    },
                )
            m = re.match(r"^/apis/([^/]+)/([^/]+)$", path)
            if m:
                if m.group(1) not in api.installed | {"storage.k8s.io"}:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                return self._send(200, _resource_list(api, m.group(1), m.group(2)))
            m = _PATH.match(path)
            if not m:
                raise ApiError(404, "NotFound", f"the server could not find the requested resource {path}")
            group = m.group("g") or ""
            if group and group not in api.installed | {"storage.k8s.io"}:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            kind = api.kind(m.group("plural"), group)
            ns, name = m.group("ns"), m.group("name")
            dry = query.get("dryRun") == "All"
            if dry and not api.dry_run_supported:
                raise ApiError(400, "BadRequest", "dryRun is not supported by this server")
            store = api.store
            if method == "GET" and name:
                obj = store.get(kind, ns, name)
                if obj is None:
                    raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
                return self._send(200, obj)
            if method == "GET" and query.get("watch") in ("true", "1"):
                return self._watch(kind, ns, query)
            if method == "GET":
                items, rv = store.list(kind, ns, query.get("labelSelector"))
                return self._send(
                    200,
                    {
                        "apiVersion": kind.api_version,
                        "kind": f"{kind.kind}List",
                        "metadata": {"resourceVersion": rv},
                        "items": items,
                    },
                )
            if method == "POST":
                return self._send(201, store.create(kind, ns, self._body(), dry, query.get("fieldManager")))
            if method == "PATCH" and "apply-patch" in ctype:
                if not query.get("fieldManager"):
                    raise ApiError(
                        422,
                        "Invalid",
                        "PatchOptions.meta.k8s.io is invalid: fieldManager: Required value",
                        [{"reason": "FieldValueRequired", "field": "fieldManager"}],
                    )
                obj, created = store.apply(
                    kind, ns, name, self._body(), query["fieldManager"], query.get("force") == "true", dry
                )
                return self._send(201 if created else 200, obj)
            if method == "PATCH":
                return self._send(200, store.patch(kind, ns, name, self._body(), dry))
            if method == "DELETE":
                store.delete(kind, ns, name, dry)
                return self._send(200, status_body(200, "", "deleted") | {"status": "Success"})
            raise ApiError(405, "MethodNotAllowed", method)

        def _chunk(self, obj):
            data = (json.dumps(obj) + "\n").encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _watch(self, kind, ns, query):
            store = api.store
            selector = query.get("labelSelector")
            timeout = float(query.get("timeoutSeconds") or 1800)
            bookmarks = query.get("allowWatchBookmarks") == "true"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._record.status = 200
            drop_after = api.drop_next_watch_after
            api.drop_next_watch_after = None
            sent = 0
            end = time.monotonic() + timeout
            with store.lock:
                if query.get("resourceVersion") in (None, "", "0"):
                    items, rv = store.list(kind, ns, selector)
                    pending = [("ADDED", o) for o in items]
                    rv = int(rv)
                else:
                    rv = int(query["resourceVersion"])
                    pending = None
            try:
                if pending is not None:
                    for type_, obj in pending:
                        self._chunk({"type": type_, "object": obj})
                last_bookmark = time.monotonic()
                while time.monotonic() < end:
                    with store.lock:
                        events = store.events_since(rv, kind, ns, selector)
                        if events == []:
                            store.changed.wait(
                                timeout=min(api.bookmark_interval, max(0.0, end - time.monotonic()))
                            )
                            events = store.events_since(rv, kind, ns, selector)
                        current = store.rv
                    if events is None:
                        api.gone_sent += 1
                        self._chunk(
                            {
                                "type": "ERROR",
                                "object": status_body(
                                    410, "Expired", f"too old resource version: {rv} ({store.oldest_rv})"
                                ),
                            }
                        )
                        break
                    for r, type_, obj in events:
                        if drop_after is not None and sent >= drop_after:
                            api.dropped_watches += 1
                            if api.expire_on_drop:
                                store.expire_history()
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return
                        self._chunk({"type": type_, "object": obj})
                        sent += 1
                        rv = r
                    if not events:
                        rv = max(rv, current) if events is not None else rv
                    if bookmarks and time.monotonic() - last_bookmark >= api.bookmark_interval:
                        self._chunk(
                            {
                                "type": "BOOKMARK",
                                "object": {
                                    "kind": kind.kind,
                                    "apiVersion": kind.api_version,
                                    "metadata": {"resourceVersion": str(rv)},
                                },
                            }
                        )
                        last_bookmark = time.monotonic()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

    return Handler
