"""RBAC for the executor (least verbs it needs) and for scheduled assessment jobs (none).

The executor's namespaced Roles cover exactly what :mod:`assess.execute.runner`,
:mod:`assess.execute.preflight` and :mod:`assess.execute.control` call, and the tests check it
with the real authorizer: the whole cycle (pre-flight, server and client dry runs, apply, watch,
cancel, cleanup) succeeds as the ServiceAccount, and removing any one verb, resource or name
makes a step of it fail. Server-side apply of a new object needs ``create`` besides ``patch``.
Its ClusterRole lists nodes (capacity), lists storage classes and gets the two namespaces.
The scheduled assessment (``deploy/cronjob.yaml``, ``assess-reader``) never calls the
Kubernetes API: its ServiceAccount has no role and no token mounted.
"""

from __future__ import annotations

from assess.execute.objects import labels
from assess.execute.params import ExecuteParams

RBAC = "rbac.authorization.k8s.io/v1"
EXECUTOR = "assess-executor"
READER = "assess-reader"
APPLY = ["get", "create", "patch"]  # preview reads; server-side apply creates or patches


def _rule(group: str, resources: list[str], verbs: list[str], names: list[str] | None = None) -> dict:
    rule = {"apiGroups": [group], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def _role(name: str, namespace: str, rules: list[dict], plan_id: str) -> dict:
    return {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace, "labels": labels(plan_id)},
        "rules": rules,
    }


def _binding(kind: str, name: str, namespace: str | None, sa_namespace: str, plan_id: str | None) -> dict:
    meta = {"name": name, "labels": labels(plan_id)} if plan_id else {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": RBAC,
        "kind": f"{kind}Binding",
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": sa_namespace}],
    }


def _namespaces(params: ExecuteParams) -> list[str]:
    """The namespaces pre-flight checks: the target, and Forklift's for the forklift backend."""
    if params.backend == "kubevirt":
        return [params.target_namespace]
    return sorted({params.target_namespace, params.forklift_namespace})


def executor_rbac(params: ExecuteParams, namespace: str = "assess") -> list[dict]:
    """ServiceAccount, Roles, ClusterRole and bindings for ``assess execute`` with ``params``.

    Writes: get/list/watch/create/patch on the kinds it applies (delete only for ``cleanup``);
    the vCenter Secret is readable by name only (pre-flight checks that it exists).
    """
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": EXECUTOR, "namespace": namespace, "labels": labels(params.plan_id)},
    }
    cluster_role = {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": EXECUTOR, "labels": labels(params.plan_id)},
        "rules": [
            _rule("", ["nodes"], ["list"]),
            _rule("", ["namespaces"], ["get"], _namespaces(params)),
            _rule("storage.k8s.io", ["storageclasses"], ["list"]),
        ],
    }
    objects = [sa, cluster_role, _binding("ClusterRole", EXECUTOR, None, namespace, params.plan_id)]
    vmi = _rule("kubevirt.io", ["virtualmachineinstances"], ["list", "watch"])
    if params.backend == "kubevirt":
        target_rules = [
            _rule("kubevirt.io", ["virtualmachines"], ["get", "list", "watch", "create", "patch", "delete"]),
            vmi,
            _rule("cdi.kubevirt.io", ["datavolumes"], ["list", "watch"]),
            _rule("", ["secrets"], ["get"], [params.provider_secret]),
        ]
    else:
        target_rules = [vmi, _rule("kubevirt.io", ["virtualmachines"], ["delete"])]
        forklift_rules = [
            _rule("forklift.konveyor.io", ["providers"], APPLY),
            _rule("forklift.konveyor.io", ["networkmaps", "storagemaps"], APPLY),
            _rule("forklift.konveyor.io", ["plans"], [*APPLY, "delete"]),
            _rule("forklift.konveyor.io", ["migrations"], [*APPLY, "list", "watch", "delete"]),
            _rule("", ["secrets"], ["get"], [params.provider_secret]),
        ]
        objects += [
            _role(EXECUTOR, params.forklift_namespace, forklift_rules, params.plan_id),
            _binding("Role", EXECUTOR, params.forklift_namespace, namespace, params.plan_id),
        ]
    if params.emit_network_attachments:
        target_rules.append(_rule("k8s.cni.cncf.io", ["network-attachment-definitions"], APPLY))
    objects += [
        _role(EXECUTOR, params.target_namespace, target_rules, params.plan_id),
        _binding("Role", EXECUTOR, params.target_namespace, namespace, params.plan_id),
    ]
    return objects


def reader_rbac(namespace: str = "assess") -> list[dict]:
    """The ServiceAccount of scheduled assessments: no role, no token (``assess run`` reads no cluster)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": READER, "namespace": namespace},
            "automountServiceAccountToken": False,
        }
    ]
