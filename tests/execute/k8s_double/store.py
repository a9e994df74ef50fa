"""Object store of the Kubernetes API double: resourceVersions, history for watches, SSA, merge patch."""

from __future__ import annotations

import bisect
import copy
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Kind:
    group: str  # "" for core
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version


KINDS = [
    Kind("", "v1", "namespaces", "Namespace", False),
    Kind("", "v1", "secrets", "Secret"),
    Kind("", "v1", "nodes", "Node", False),
    Kind("storage.k8s.io", "v1", "storageclasses", "StorageClass", False),
    Kind("forklift.konveyor.io", "v1beta1", "providers", "Provider"),
    Kind("forklift.konveyor.io", "v1beta1", "networkmaps", "NetworkMap"),
    Kind("forklift.konveyor.io", "v1beta1", "storagemaps", "StorageMap"),
    Kind("forklift.konveyor.io", "v1beta1", "plans", "Plan"),
    Kind("forklift.konveyor.io", "v1beta1", "migrations", "Migration"),
    Kind("kubevirt.io", "v1", "virtualmachines", "VirtualMachine"),
    Kind("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance"),
    Kind("cdi.kubevirt.io", "v1beta1", "datavolumes", "DataVolume"),
    Kind("k8s.cni.cncf.io", "v1", "network-attachment-definitions", "NetworkAttachmentDefinition"),
]


def now():
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code, reason, message, causes=None):
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if causes:
        body["details"] = {"causes": causes}
    return body


class ApiError(Exception):
    def __init__(self, code, reason, message, causes=None):
        super().__init__(message)
        self.code = code
        self.body = status_body(code, reason, message, causes)


def matches(labels, selector):
    """Equality-based label selector: ``a=b,c!=d,e``."""
    labels = labels or {}
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k) != v.lstrip("="):
                return False
        elif term not in labels:
            return False
    return True


def merge(base, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(base) if isinstance(base, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


def _leaves(obj, prefix=""):
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            yield from _leaves(v, f"{prefix}.{k}")
    else:
        yield prefix, obj


class Store:
    """All objects by (kind, namespace, name); a bounded history of changes for watches."""

    def __init__(self, history_limit=100_000):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.objects = {}
        self.rv = 1000
        self.history = []  # (rv, type, Kind, obj)
        self.history_limit = history_limit
        self.oldest_rv = self.rv
        self.owners = {}  # (kind, ns, name) -> {field path: manager}
        self.created = {}  # kind -> count of creates (POST or apply that created)
        self.hooks = []  # callables(type, Kind, obj) run after each change

    # -- reads --------------------------------------------------------------------------------
    def get(self, kind, ns, name):
        with self.lock:
            obj = self.objects.get((kind.kind, ns, name))
            return copy.deepcopy(obj) if obj is not None else None

    def live(self, kind_name):
        """The stored objects of one kind, not copied: for controllers, under ``lock``, read-only."""
        return [o for (k, _, _), o in list(self.objects.items()) if k == kind_name]

    def list(self, kind, ns=None, selector=None):
        with self.lock:
            items = [
                copy.deepcopy(o)
                for (k, n, _), o in sorted(self.objects.items())
                if k == kind.kind
                and (ns is None or n == ns)
                and matches(o["metadata"].get("labels"), selector)
            ]
            return items, str(self.rv)

    # -- writes -------------------------------------------------------------------------------
    def _record(self, type_, kind, obj):
        # stored objects are replaced, never mutated in place, so history may share them
        self.history.append((self.rv, type_, kind, obj))
        if len(self.history) > self.history_limit:
            drop = len(self.history) - self.history_limit
            self.oldest_rv = self.history[drop - 1][0]
            del self.history[:drop]
        self.changed.notify_all()
        for hook in list(self.hooks):
            hook(type_, kind, obj)

    def expire_history(self):
        """Forget all history: any watch resuming from an older resourceVersion gets 410 Gone."""
        with self.lock:
            self.rv += 1
            self.oldest_rv = self.rv
            self.history.clear()

    def _stamp(self, obj):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)

    def create(self, kind, ns, obj, dry_run=False, manager=None):
        with self.lock:
            name = obj["metadata"]["name"]
            if (kind.kind, ns, name) in self.objects:
                raise ApiError(
                    409, "AlreadyExists", f'{kind.plural}.{kind.group or "core"} "{name}" already exists'
                )
            obj = copy.deepcopy(obj)
            obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
            meta = obj["metadata"]
            if kind.namespaced:
                meta["namespace"] = ns
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
            if manager:
                meta["managedFields"] = [{"manager": manager, "operation": "Apply", "time": now()}]
            if dry_run:
                meta["resourceVersion"] = str(self.rv)
                return obj
            self._stamp(obj)
            self.objects[(kind.kind, ns, name)] = obj
            self.created[kind.kind] = self.created.get(kind.kind, 0) + 1
            self._record("ADDED", kind, obj)
            return copy.deepcopy(obj)

    def apply(self, kind, ns, name, intent, manager, force=False, dry_run=False):
        """Server-side apply; returns (object, created)."""
        with self.lock:
            current = self.objects.get((kind.kind, ns, name))
            if current is None:
                created = self.create(kind, ns, intent, dry_run, manager)
                if not dry_run:
                    fields = {k: v for k, v in intent.items() if k in ("spec", "metadata")}
                    self.owners[(kind.kind, ns, name)] = {p: manager for p, _ in _leaves(fields)}
                return created, True
            owners = self.owners.setdefault((kind.kind, ns, name), {})
            conflicts = []
            for path, value in _leaves({k: v for k, v in intent.items() if k in ("spec", "metadata")}):
                owner = owners.get(path)
                live = current
                for part in path.strip(".").split("."):
                    live = live.get(part) if isinstance(live, dict) else None
                if owner and owner != manager and live != value:
                    conflicts.append((path, owner))
            if conflicts and not force:
                causes = [
                    {"reason": "FieldManagerConflict", "message": f'conflict with "{o}"', "field": p}
                    for p, o in conflicts
                ]
                raise ApiError(
                    409,
                    "Conflict",
                    f"Apply failed with {len(conflicts)} conflict(s): "
                    + ", ".join(f'conflict with "{o}": {p}' for p, o in conflicts),
                    causes,
                )
            for path, _ in _leaves({k: v for k, v in intent.items() if k in ("spec", "metadata")}):
                owners[path] = manager
            patch = {k: v for k, v in intent.items() if k not in ("apiVersion", "kind", "status")}
            return self._update(kind, ns, name, current, patch, dry_run), False

    def patch(self, kind, ns, name, patch, dry_run=False):
        with self.lock:
            current = self.objects.get((kind.kind, ns, name))
            if current is None:
                raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
            want_rv = (patch.get("metadata") or {}).get("resourceVersion")
            if want_rv and want_rv != current["metadata"]["resourceVersion"]:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {kind.plural} "{name}": the '
                    "object has been modified; please apply your changes to the latest version and try again",
                )
            patch = copy.deepcopy(patch)
            (patch.get("metadata") or {}).pop("resourceVersion", None)
            return self._update(kind, ns, name, current, patch, dry_run)

    def _update(self, kind, ns, name, current, patch, dry_run):
        updated = merge(current, patch)
        if updated == current:
            return copy.deepcopy(current)
        if updated.get("spec") != current.get("spec"):
            updated["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        if dry_run:
            return updated
        self._stamp(updated)
        self.objects[(kind.kind, ns, name)] = updated
        self._record("MODIFIED", kind, updated)
        return copy.deepcopy(updated)

    def set_status(self, kind, ns, name, status):
        """What a controller does: replace ``status`` (a MODIFIED event when it changed)."""
        with self.lock:
            current = self.objects.get((kind.kind, ns, name))
            if current is None or current.get("status") == status:
                return
            current = {**current, "metadata": dict(current["metadata"]), "status": status}
            self._stamp(current)
            self.objects[(kind.kind, ns, name)] = current
            self._record("MODIFIED", kind, current)

    def delete(self, kind, ns, name, dry_run=False):
        with self.lock:
            current = self.objects.get((kind.kind, ns, name))
            if current is None:
                raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
            if dry_run:
                return current
            del self.objects[(kind.kind, ns, name)]
            self.owners.pop((kind.kind, ns, name), None)
            self._stamp(current)
            self._record("DELETED", kind, current)
            # garbage collection of owned objects (DataVolumes of a VirtualMachine)
            uid = current["metadata"].get("uid")
            for key, obj in list(self.objects.items()):
                if any(o.get("uid") == uid for o in obj["metadata"].get("ownerReferences") or []):
                    del self.objects[key]
                    self._stamp(obj)
                    self._record("DELETED", next(k for k in KINDS if k.kind == key[0]), obj)
            return current

    def events_since(self, rv, kind, ns, selector):
        """History after ``rv`` for one collection; None when ``rv`` is too old (410)."""
        if rv < self.oldest_rv:
            return None
        start = bisect.bisect_right(self.history, rv, key=lambda e: e[0])
        return [
            (r, t, o)
            for r, t, k, o in self.history[start:]
            if r > rv
            and k.kind == kind.kind
            and (ns is None or o["metadata"].get("namespace") == ns)
            and matches(o["metadata"].get("labels"), selector)
        ]
