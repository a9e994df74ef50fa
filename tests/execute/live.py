"""What the live executor tests share: a cluster seeded like an installed one, per-test namespaces.

The control plane (:mod:`tests.kube_harness`) is one per pytest session; each test gets its own
target and Forklift namespaces (``t<N>-vms``, ``t<N>-mtv``) with the vCenter Secret and the
``host`` Provider, and its own :class:`LiveControllers`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from tests.execute.live_controllers import LiveControllers
from tests.execute.run_folder import write_run
from tests.kube_crds import install
from tests.kube_harness import ControlPlane, start_control_plane

_COUNTER = itertools.count(1)
SECRET = "vsphere-credentials"


def check(result: tuple[int, dict], *ok: int) -> dict:
    """The body of a raw request that must have answered one of ``ok`` (default 200/201)."""
    status, body = result
    if status not in (ok or (200, 201)):
        raise AssertionError(f"HTTP {status}: {body.get('message')}")
    return body


def seed_cluster(plane: ControlPlane, nodes: int = 3, cpu: str = "64", memory: str = "256Gi") -> None:
    """What an installed cluster has besides the CRDs: worker nodes and the ``standard`` class."""
    for i in range(nodes):
        check(plane.request("POST", "/api/v1/nodes", {"metadata": {"name": f"worker-{i}"}}), 201, 409)
        check(
            plane.request(
                "PATCH",
                f"/api/v1/nodes/worker-{i}/status",
                {
                    "status": {
                        "allocatable": {"cpu": cpu, "memory": memory, "pods": "250"},
                        "capacity": {"cpu": cpu, "memory": memory, "pods": "250"},
                    }
                },
                content_type="application/merge-patch+json",
            )
        )
    check(
        plane.request(
            "POST",
            "/apis/storage.k8s.io/v1/storageclasses",
            {"metadata": {"name": "standard"}, "provisioner": "csi.example.com"},
        ),
        201,
        409,
    )


def start_seeded(folder: Path) -> ControlPlane:
    """A control plane with the CRDs installed and the cluster seeded."""
    plane = start_control_plane(folder)
    try:
        install(plane)
        seed_cluster(plane)
    except BaseException:
        plane.stop()
        raise
    return plane


class Live:
    """One test's view of the real cluster: its namespaces, kubeconfig, run folder, controllers."""

    def __init__(self, plane: ControlPlane, tmp: Path, host_provider: bool = True, secret: bool = True):
        self.plane, self.tmp = plane, tmp
        n = next(_COUNTER)
        self.vms_ns, self.mtv_ns = f"t{n}-vms", f"t{n}-mtv"
        for ns in (self.vms_ns, self.mtv_ns):
            check(plane.request("POST", "/api/v1/namespaces", {"metadata": {"name": ns}}))
        if secret:
            self.add_secret(self.mtv_ns)
        if host_provider:
            self.create(
                "forklift.konveyor.io/v1beta1",
                "providers",
                self.mtv_ns,
                {
                    "kind": "Provider",
                    "metadata": {"name": "host"},
                    "spec": {"type": "openshift", "url": "", "secret": {}},
                },
            )
        self.kubeconfig = plane.kubeconfig(tmp / "kubeconfig")
        self.run = write_run(tmp / "run")
        self.controllers: LiveControllers | None = None

    def params(self, **kw):
        from assess.execute.params import ExecuteParams

        base = {
            "kubeconfig": str(self.kubeconfig),
            "backoff_s": 0.01,
            "target_namespace": self.vms_ns,
            "forklift_namespace": self.mtv_ns,
            "vsphere_url": "https://vcenter.example.com/sdk",
        }
        return ExecuteParams(**(base | kw))

    def add_secret(self, namespace: str) -> None:
        check(
            self.plane.request(
                "POST",
                f"/api/v1/namespaces/{namespace}/secrets",
                {
                    "metadata": {"name": SECRET},
                    "type": "Opaque",
                    "data": {"user": "YWRtaW4=", "password": "c2VjcmV0"},
                },
            )
        )

    def create(self, api_version: str, plural: str, namespace: str, body: dict) -> dict:
        """Create a custom object as the admin."""
        body = {"apiVersion": api_version, **body}
        return check(self.plane.request("POST", f"/apis/{api_version}/namespaces/{namespace}/{plural}", body))

    def get(self, api_version: str, plural: str, namespace: str, name: str) -> dict | None:
        status, body = self.plane.request(
            "GET", f"/apis/{api_version}/namespaces/{namespace}/{plural}/{name}"
        )
        return body if status == 200 else None

    def items(self, api_version: str, plural: str, namespace: str) -> list[dict]:
        return check(self.plane.request("GET", f"/apis/{api_version}/namespaces/{namespace}/{plural}"))[
            "items"
        ]

    def plans(self) -> list[dict]:
        return self.items("forklift.konveyor.io/v1beta1", "plans", self.mtv_ns)

    def migrations(self) -> list[dict]:
        return self.items("forklift.konveyor.io/v1beta1", "migrations", self.mtv_ns)

    def events(self) -> list[dict]:
        lines = (self.run / "execute" / "events.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]


PATHS = {
    "Namespace": "/api/v1/namespaces",
    "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
    "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
    "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    "CronJob": "/apis/batch/v1/namespaces/{ns}/cronjobs",
}


def admin_apply(plane: ControlPlane, obj: dict, dry_run: bool = False) -> dict:
    """Server-side apply one built-in object as the admin (force: the test owns every field)."""
    base = PATHS[obj["kind"]].format(ns=obj["metadata"].get("namespace"))
    query = "?fieldManager=tests&force=true" + ("&dryRun=All" if dry_run else "")
    path = f"{base}/{obj['metadata']['name']}{query}"
    return check(plane.request("PATCH", path, obj, content_type="application/apply-patch+yaml"))


def service_account_token(plane: ControlPlane, namespace: str, name: str) -> str:
    """A token for the ServiceAccount from the TokenRequest API (what a pod's projected token is)."""
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3600},
    }
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token"
    return check(plane.request("POST", path, body), 201)["status"]["token"]


def can_i(
    plane: ControlPlane, user: str, verb: str, resource: str, namespace: str | None = None, group: str = ""
) -> bool:
    """The authorizer's answer (SubjectAccessReview) for ``user`` doing ``verb`` on ``resource``."""
    attrs = {"verb": verb, "resource": resource, "group": group}
    if namespace:
        attrs["namespace"] = namespace
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "resourceAttributes": attrs,
            "groups": ["system:serviceaccounts", "system:authenticated"],
        },
    }
    body = check(plane.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review), 201)
    return bool(body["status"].get("allowed"))
