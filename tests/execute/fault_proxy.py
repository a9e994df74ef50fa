"""A TLS proxy in front of the real kube-apiserver that injects the faults a real server gives rarely.

Requests are forwarded unchanged (watch streams included, chunk by chunk); a :class:`Fault`
matching a request's method and path answers it instead with a 5xx or 429 Status (with
``Retry-After``), or forwards it and cuts the connection after ``drop_after`` watch events.
Every request is recorded (method, path, query, status) for assertions.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class Fault:
    """Answer ``times`` requests matching ``method`` and the ``path`` regex (searched in path?query).

    ``status=0`` forwards the request and drops the connection after ``drop_after`` lines of
    a watch stream (or before any answer when ``drop_after`` is 0).
    """

    method: str
    path: str
    status: int
    times: int = 1
    retry_after: int | None = None
    drop_after: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and method == self.method and re.search(self.path, path) is not None


@dataclass
class Seen:
    """One request the proxy received."""

    method: str
    path: str
    query: str
    status: int


@dataclass
class FaultProxy:
    """``with FaultProxy(upstream, ca, cert, key) as proxy:``; ``proxy.url`` is where clients connect."""

    upstream: str
    ca: str
    cert: str
    key: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def __enter__(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                proxy.handle(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                fault.times -= 1
                return fault
        return None

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        """Answer one request: a fault, or the upstream's answer streamed back."""
        parts = urlsplit(req.path)
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        fault = self._fault(req.command, req.path)
        if fault is not None and fault.status:
            self.seen.append(Seen(req.command, parts.path, parts.query, fault.status))
            _status(req, fault)
            return
        host = urlsplit(self.upstream)
        conn = http.client.HTTPSConnection(
            host.hostname, host.port, timeout=60, context=ssl.create_default_context(cafile=self.ca)
        )
        headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP | {"host"}}
        conn.request(req.command, req.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        self.seen.append(Seen(req.command, parts.path, parts.query, resp.status))
        req.send_response(resp.status)
        for key, value in resp.getheaders():
            if key.lower() not in HOP:
                req.send_header(key, value)
        req.send_header("Transfer-Encoding", "chunked")
        req.end_headers()
        lines = 0
        try:
            while True:
                chunk = resp.readline() if fault is not None else resp.read1(65536)
                if not chunk:
                    break
                req.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                req.wfile.flush()
                lines += 1
                if fault is not None and lines >= fault.drop_after:
                    req.close_connection = True
                    req.connection.shutdown(2)  # the dropped connection: no final chunk
                    return
            req.wfile.write(b"0\r\n\r\n")
        except (OSError, http.client.HTTPException):  # the client stopped the stream, or the server did
            req.close_connection = True
        finally:
            conn.close()


def _status(req: BaseHTTPRequestHandler, fault: Fault) -> None:
    reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(fault.status, "")
    payload = json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": reason,
            "message": f"injected {fault.status}",
            "code": fault.status,
        }
    ).encode()
    req.send_response(fault.status)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(payload)))
    if fault.retry_after is not None:
        req.send_header("Retry-After", str(fault.retry_after))
    req.end_headers()
    req.wfile.write(payload)
