"""Server-side apply of generated objects, a server dry run, or a local preview of the change.

Server-side apply (``application/apply-patch+yaml`` with a field manager and strict field
validation, so a field the CRD does not declare is an error rather than silently pruned) makes
every write idempotent: a re-run sends the same intent and the server answers "unchanged". A 409 on apply
means another manager owns a field we set: we report who and which field (``force_conflicts``
takes it over). A 422 (or 400 for an undeclared field, or 500 for a field of the wrong type, which is how
kube-apiserver reports that for apply) is reported with the server's message and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kubernetes.client.rest import ApiException

from assess.execute.cluster import Cluster, api_error_message, rejected_apply, resource_of
from assess.model import AssessError

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@dataclass
class Change:
    """What applying one object did (or would do): ``created``, ``configured`` or ``unchanged``.

    A server-side apply answers 201 for a new object and 200 otherwise (``configured``, which
    includes "no change"); only the client-side preview tells ``unchanged`` apart.
    """

    kind: str
    namespace: str | None
    name: str
    action: str
    fields: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain dict for summaries and the event log."""
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "action": self.action,
            "fields": self.fields,
        }


def _ident(obj: dict) -> tuple[str, str | None, str]:
    return obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]


def get_object(cluster: Cluster, kind: str, namespace: str, name: str) -> dict | None:
    """The live object, or None when it does not exist."""
    res = resource_of(kind)
    try:
        return cluster.call(
            cluster.custom.get_namespaced_custom_object, res.group, res.version, namespace, res.plural, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise AssessError(f"reading {kind} {namespace}/{name}: {api_error_message(exc)}") from exc


def apply_object(cluster: Cluster, obj: dict, dry_run: bool = False) -> Change:
    """Server-side apply ``obj`` (with ``dryRun=All`` when ``dry_run``); what the server did.

    Raises AssessError on 409 (naming the other manager's field) and 422 (the server's message).
    """
    kind, namespace, name = _ident(obj)
    res = resource_of(kind)
    try:
        response = cluster.call(
            cluster.custom.patch_namespaced_custom_object_with_http_info,
            res.group,
            res.version,
            namespace,
            res.plural,
            name,
            obj,
            dry_run="All" if dry_run else None,
            field_manager=cluster.params.field_manager,
            field_validation="Strict",
            force=True if cluster.params.force_conflicts else None,
            _content_type=APPLY,
        )
    except ApiException as exc:
        where = f"{kind} {namespace}/{name}"
        if exc.status == 409:
            raise AssessError(
                f"{where}: apply conflict, another field manager owns a field we set: "
                f"{api_error_message(exc)}. Re-run with --force-conflicts to take the fields over."
            ) from exc
        if exc.status in (400, 422) or rejected_apply(exc):
            raise AssessError(f"{where}: rejected by the server: {api_error_message(exc)}") from exc
        raise AssessError(f"{where}: apply failed: {api_error_message(exc)}") from exc
    code = response[1] if isinstance(response, tuple) else response.status_code
    return Change(kind, namespace, name, "created" if code == 201 else "configured")


def preview_object(cluster: Cluster, obj: dict) -> Change:
    """Client-side preview: read the live object and list the fields ``obj`` would change."""
    kind, namespace, name = _ident(obj)
    live = get_object(cluster, kind, namespace, name)
    if live is None:
        return Change(kind, namespace, name, "created")
    fields = differing_fields(obj, live)
    return Change(kind, namespace, name, "configured" if fields else "unchanged", fields)


def differing_fields(intent: dict, live: dict, path: str = "") -> list[str]:
    """Dotted paths where ``intent`` differs from ``live``; fields ``intent`` does not set are ignored."""
    out: list[str] = []
    for key, value in intent.items():
        if path == "" and key in ("apiVersion", "kind", "status"):
            continue
        here = f"{path}.{key}" if path else key
        other = live.get(key) if isinstance(live, dict) else None
        if isinstance(value, dict) and isinstance(other, dict):
            out += differing_fields(value, other, here)
        elif json.dumps(value, sort_keys=True, default=str) != json.dumps(other, sort_keys=True, default=str):
            out.append(here)
    return out


def _patch(cluster: Cluster, kind: str, namespace: str, name: str, body, content_type: str) -> dict:
    res = resource_of(kind)
    return cluster.call(
        cluster.custom.patch_namespaced_custom_object,
        res.group,
        res.version,
        namespace,
        res.plural,
        name,
        body,
        field_manager=cluster.params.field_manager,
        _content_type=content_type,
    )


def patch_fields(cluster: Cluster, kind: str, namespace: str, name: str, patch: dict) -> dict:
    """Merge-patch fields to values that do not depend on the live object (no precondition needed)."""
    try:
        return _patch(cluster, kind, namespace, name, patch, MERGE)
    except ApiException as exc:
        raise AssessError(f"{kind} {namespace}/{name}: {api_error_message(exc)}") from exc


def json_patch(cluster: Cluster, kind: str, namespace: str, name: str, build, attempts: int = 5) -> dict:
    """Read-modify-write of one field, conditional on that field only (a JSON Patch ``test`` op).

    ``build(live) -> ops`` returns the JSON Patch for the live object (None: nothing to do),
    starting with a ``test`` of the value it read. A controller writing the status in between
    does not disturb it (a resourceVersion precondition would fail on every status write);
    someone changing the same field does: then we re-read and rebuild.
    """
    for _ in range(attempts):
        live = get_object(cluster, kind, namespace, name)
        if live is None:
            raise AssessError(f"{kind} {namespace}/{name} does not exist")
        ops = build(live)
        if ops is None:
            return live
        try:
            return _patch(cluster, kind, namespace, name, ops, JSON_PATCH)
        except ApiException as exc:
            if exc.status not in (409, 422):  # 422: our test op failed, the field changed meanwhile
                raise AssessError(f"{kind} {namespace}/{name}: {api_error_message(exc)}") from exc
    raise AssessError(f"{kind} {namespace}/{name}: still conflicting after {attempts} re-reads; try again")


def delete_object(cluster: Cluster, kind: str, namespace: str, name: str) -> bool:
    """Delete one object (background propagation); False when it was already gone."""
    res = resource_of(kind)
    try:
        cluster.call(
            cluster.custom.delete_namespaced_custom_object,
            res.group,
            res.version,
            namespace,
            res.plural,
            name,
            propagation_policy="Background",
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise AssessError(f"deleting {kind} {namespace}/{name}: {api_error_message(exc)}") from exc
    return True


PAGE_SIZE = 500


def list_objects(cluster: Cluster, kind: str, namespace: str, selector: str | None = None) -> dict:
    """All objects matching a label selector, read in pages of ``PAGE_SIZE`` (``limit``/``continue``).

    Returns ``{"items": [...], "metadata": {"resourceVersion": ...}}``: the resourceVersion of
    the consistent snapshot the pages come from, where a watch can start.
    """
    res = resource_of(kind)
    items: list[dict] = []
    token = None
    while True:
        try:
            page = cluster.call(
                cluster.custom.list_namespaced_custom_object,
                res.group,
                res.version,
                namespace,
                res.plural,
                label_selector=selector,
                limit=PAGE_SIZE,
                _continue=token,
            )
        except ApiException as exc:
            raise AssessError(f"listing {kind} in {namespace}: {api_error_message(exc)}") from exc
        items += page.get("items", [])
        meta = page.get("metadata") or {}
        token = meta.get("continue")
        if not token:
            return {"items": items, "metadata": {"resourceVersion": meta.get("resourceVersion")}}
