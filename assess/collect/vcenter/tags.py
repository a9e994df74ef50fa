"""vSphere tags on VMs through the vSphere Automation REST API, in a fixed number of calls.

Categories and tags are listed once; attachments for all tags come from one bulk
``list-attached-objects-on-tags`` call, never one call per VM.
"""

from __future__ import annotations

import base64
import json
from http.client import HTTPException
from urllib.parse import quote

from assess.collect.vcenter.connection import Target, open_https
from assess.model.errors import AssessError

BASE = "/rest/com/vmware/cis"
SESSION_HEADER = "vmware-api-session-id"


class TaggingUnavailable(Exception):
    """The server offers no usable tagging API (old vCenter, ESXi, or the service is down)."""


class RestClient:
    """A small vSphere Automation REST client over one pinned HTTPS connection."""

    def __init__(self, target: Target):
        self.target = target
        self.conn = open_https(target)
        self.session_id: str | None = None
        self.calls = 0

    def request(self, method: str, path: str, body: object = None, auth: bool = False) -> object:
        """Send one request and return the ``value`` of the JSON answer."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            token = f"{self.target.user}:{self.target.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        elif self.session_id:
            headers[SESSION_HEADER] = self.session_id
        self.calls += 1
        try:
            self.conn.request(method, BASE + path, json.dumps(body) if body is not None else None, headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, HTTPException) as exc:
            raise TaggingUnavailable(f"request {method} {path} failed: {exc}") from exc
        if response.status != 200:
            raise TaggingUnavailable(f"{method} {path} answered HTTP {response.status}")
        try:
            return json.loads(payload or b"{}").get("value")
        except (ValueError, AttributeError) as exc:
            raise TaggingUnavailable(f"{method} {path} did not answer JSON") from exc

    def close(self) -> None:
        """Log out of the REST session (best effort) and close the connection."""
        try:
            if self.session_id:
                self.request("DELETE", "/session")
        except TaggingUnavailable:
            pass
        self.conn.close()


def vm_tags(target: Target, vm_morefs: dict[str, str]) -> tuple[list[dict], int]:
    """Rows of ``attributes`` (kind ``tag``: name = category, value = tag) and the REST call count.

    ``vm_morefs`` maps VM moref -> vm_id. Raises :class:`TaggingUnavailable` when the
    server has no tagging API; the caller records a warning and keeps the inventory.
    """
    try:
        client = RestClient(target)
    except AssessError as exc:
        raise TaggingUnavailable(str(exc)) from exc
    try:
        client.session_id = client.request("POST", "/session", auth=True)
        categories = {cid: client.request("GET", f"/tagging/category/id:{quote(cid)}")["name"]
                      for cid in client.request("GET", "/tagging/category") or []}
        tags = {}
        for tid in client.request("GET", "/tagging/tag") or []:
            tag = client.request("GET", f"/tagging/tag/id:{quote(tid)}")
            tags[tid] = (categories.get(tag.get("category_id"), tag.get("category_id")), tag.get("name"))
        attached = client.request(
            "POST", "/tagging/tag-association?~action=list-attached-objects-on-tags",
            {"tag_ids": list(tags)},
        ) if tags else []
    except (TypeError, KeyError) as exc:
        raise TaggingUnavailable(f"unexpected tagging answer: {exc}") from exc
    finally:
        client.close()
    values: dict[tuple[str, str], list[str]] = {}
    for entry in attached or []:
        category, name = tags.get(entry.get("tag_id"), (None, None))
        for obj in entry.get("object_ids") or []:
            vm_id = vm_morefs.get(obj.get("id")) if obj.get("type") == "VirtualMachine" else None
            if vm_id and category:
                values.setdefault((vm_id, category), []).append(name)
    # A category may allow several tags per object: one row per (VM, category), tags joined.
    rows = [dict(vm_id=vm_id, kind="tag", name=category, value=", ".join(sorted(names)))
            for (vm_id, category), names in values.items()]
    return rows, client.calls
