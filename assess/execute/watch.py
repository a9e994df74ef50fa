"""Watch streams: list once, then follow changes; reconnect on a dropped stream, re-list on 410 Gone.

One :class:`Watcher` thread per (kind, namespace, selector) pushes ``(kind, type, object)``
tuples into a shared queue; ``type`` is the watch event type, or ``SYNC`` for the items of a
(re-)list. A dropped connection resumes from the last resourceVersion seen (bookmarks included),
so no change is missed and nothing is polled.
"""

from __future__ import annotations

import json
import queue
import threading

import urllib3
from kubernetes.client.rest import ApiException
from kubernetes.watch.watch import iter_resp_lines

from assess.execute.apply import list_objects
from assess.execute.cluster import RETRIABLE, Cluster, api_error_message, resource_of
from assess.model import AssessError


class Watcher(threading.Thread):
    """Follows one resource in one namespace and feeds its events into ``events``.

    After ``cluster.params.retries`` consecutive failures it puts ``(kind, "FAILED", message)``
    on the queue and ends, so the consumer can stop with a clear error.
    """

    def __init__(
        self, cluster: Cluster, kind: str, namespace: str, selector: str | None, events: queue.Queue
    ):
        super().__init__(daemon=True, name=f"watch-{kind}")
        self.cluster, self.kind, self.namespace, self.selector = cluster, kind, namespace, selector
        self.events = events
        self.stopping = threading.Event()
        self.resource_version: str | None = None
        self.relists = 0
        self.reconnects = 0
        self.bookmarks = 0
        self._response = None

    def stop(self) -> None:
        """Stop following; unblocks a pending read by shutting the stream down."""
        self.stopping.set()
        response = self._response
        if response is not None:
            try:
                response.shutdown()
            except Exception:  # noqa: BLE001 - the stream may already be closed
                pass

    def run(self) -> None:
        """List, then watch until stopped (thread body)."""
        failures = 0
        delay = self.cluster.params.backoff_s
        while not self.stopping.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                self._follow()
                failures = 0
                delay = self.cluster.params.backoff_s
            except _Gone:
                self.resource_version = None
                self.relists += 1
            except ApiException as exc:
                if exc.status == 410:
                    self.resource_version = None
                    self.relists += 1
                    continue
                if exc.status == 401:
                    self.cluster._connect()
                elif exc.status not in RETRIABLE:
                    self.events.put((self.kind, "FAILED", api_error_message(exc)))
                    return
                failures += 1
            except (urllib3.exceptions.HTTPError, OSError, ValueError):
                if self.stopping.is_set():
                    return
                self.reconnects += 1
                failures += 1
            except AssessError as exc:
                self.events.put((self.kind, "FAILED", str(exc)))
                return
            if failures > self.cluster.params.retries:
                self.events.put((self.kind, "FAILED", f"watch of {self.kind} kept failing"))
                return
            if failures:
                self.stopping.wait(min(delay, 30.0))
                delay *= 2

    def _list(self) -> None:
        listing = list_objects(self.cluster, self.kind, self.namespace, self.selector)
        for item in listing.get("items", []):
            self.events.put((self.kind, "SYNC", item))
        self.resource_version = (listing.get("metadata") or {}).get("resourceVersion")

    def _follow(self) -> None:
        res = resource_of(self.kind)
        params = self.cluster.params
        self.cluster.requests += 1
        response = self.cluster.custom.list_namespaced_custom_object(
            res.group,
            res.version,
            self.namespace,
            res.plural,
            label_selector=self.selector,
            watch=True,
            allow_watch_bookmarks=True,
            resource_version=self.resource_version,
            timeout_seconds=self.cluster.params.watch_timeout_s,
            _request_timeout=(params.connect_timeout_s, params.watch_timeout_s + 30.0),
            _preload_content=False,
        )
        self._response = response
        try:
            if response.status == 410:
                raise _Gone()
            if not 200 <= response.status < 300:
                raise ApiException(status=response.status, reason=response.reason, body=response.data)
            for line in iter_resp_lines(response):
                if self.stopping.is_set():
                    return
                if not line.strip():
                    continue
                event = json.loads(line)
                obj = event.get("object") or {}
                if event.get("type") == "ERROR":
                    if obj.get("code") == 410:
                        raise _Gone()
                    raise ApiException(status=obj.get("code"), reason=obj.get("message"))
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.resource_version = rv
                if event.get("type") == "BOOKMARK":
                    self.bookmarks += 1
                else:
                    self.events.put((self.kind, event["type"], obj))
        finally:
            self._response = None
            response.release_conn()


class _Gone(Exception):
    """The resourceVersion we hold is too old (410): list again."""
