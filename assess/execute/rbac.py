"""RBAC for the executor (least verbs it needs) and for read-only assessment jobs.

The executor's namespaced Roles cover exactly what :mod:`assess.execute.runner`,
:mod:`assess.execute.preflight` and :mod:`assess.execute.control` call; its ClusterRole only
reads discovery, nodes and storage classes. The reader matches ``deploy/cronjob.yaml``
(``assess-reader``): nodes and storage classes, get and list.
"""

from __future__ import annotations

from assess.execute.objects import labels
from assess.execute.params import ExecuteParams

RBAC = "rbac.authorization.k8s.io/v1"
EXECUTOR = "assess-executor"
READER = "assess-reader"
READ = ["get", "list", "watch"]
WRITE = ["get", "list", "watch", "create", "patch"]


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
            _rule("", ["nodes"], ["get", "list"]),
            _rule("", ["namespaces"], ["get"], sorted({params.target_namespace, params.forklift_namespace})),
            _rule("storage.k8s.io", ["storageclasses"], ["get", "list"]),
        ],
    }
    objects = [sa, cluster_role, _binding("ClusterRole", EXECUTOR, None, namespace, params.plan_id)]
    target_rules = [_rule("kubevirt.io", ["virtualmachineinstances"], READ)]
    if params.backend == "kubevirt":
        target_rules = [
            _rule("kubevirt.io", ["virtualmachines"], [*WRITE, "delete"]),
            _rule("kubevirt.io", ["virtualmachineinstances"], READ),
            _rule("cdi.kubevirt.io", ["datavolumes"], READ),
            _rule("", ["secrets"], ["get"], [params.provider_secret]),
        ]
    else:
        target_rules.append(_rule("kubevirt.io", ["virtualmachines"], ["get", "delete"]))
        forklift_rules = [
            _rule("forklift.konveyor.io", ["providers", "networkmaps", "storagemaps"], WRITE),
            _rule("forklift.konveyor.io", ["plans", "migrations"], [*WRITE, "delete"]),
            _rule("", ["secrets"], ["get"], [params.provider_secret]),
        ]
        objects += [
            _role(EXECUTOR, params.forklift_namespace, forklift_rules, params.plan_id),
            _binding("Role", EXECUTOR, params.forklift_namespace, namespace, params.plan_id),
        ]
    if params.emit_network_attachments:
        target_rules.append(_rule("k8s.cni.cncf.io", ["network-attachment-definitions"], WRITE))
    objects += [
        _role(EXECUTOR, params.target_namespace, target_rules, params.plan_id),
        _binding("Role", EXECUTOR, params.target_namespace, namespace, params.plan_id),
    ]
    return objects


def reader_rbac(namespace: str = "assess") -> list[dict]:
    """ServiceAccount, ClusterRole and binding for assessment jobs: read nodes and storage classes."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": READER, "namespace": namespace},
            "automountServiceAccountToken": True,
        },
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": READER},
            "rules": [
                _rule("", ["nodes"], ["get", "list"]),
                _rule("storage.k8s.io", ["storageclasses"], ["get", "list"]),
            ],
        },
        _binding("ClusterRole", READER, None, namespace, None),
    ]
