"""Pre-flight checks before any write: APIs, namespaces, secret, storage classes, capacity, Critical VMs.

Every check runs and every problem is listed, so one run tells the user everything to fix.
"""

from __future__ import annotations

import pandas as pd
from kubernetes.client.rest import ApiException
from kubernetes.utils.quantity import parse_quantity

from assess.execute.apply import get_object
from assess.execute.cluster import Cluster, api_error_message, resource_of
from assess.execute.params import ExecuteParams

KINDS = {
    "forklift": ["Provider", "NetworkMap", "StorageMap", "Plan", "Migration", "VirtualMachineInstance"],
    "kubevirt": ["VirtualMachine", "VirtualMachineInstance", "DataVolume"],
}


def critical_vms(table: pd.DataFrame, params: ExecuteParams) -> pd.DataFrame:
    """Planned VMs whose readiness verdict is ``not_ready`` and that no override lets through."""
    planned = table[table["wave"].notna()]
    allowed = set(params.allow_critical)
    blocked = planned["verdict"].astype("string").fillna("") == "not_ready"
    overridden = (
        planned["vm_id"].isin(allowed) | planned["name"].isin(allowed) | planned["target_name"].isin(allowed)
    )
    return planned[blocked & ~overridden]


def _missing_apis(cluster: Cluster, kinds: list[str]) -> list[str]:
    problems = []
    by_group: dict[tuple[str, str], list[str]] = {}
    for kind in kinds:
        res = resource_of(kind)
        by_group.setdefault((res.group, res.version), []).append(kind)
    for (group, version), group_kinds in sorted(by_group.items()):
        try:
            listing = cluster.call(cluster.custom.get_api_resources, group, version)
            served = {r.name for r in listing.resources}
        except ApiException as exc:
            if exc.status != 404:
                problems.append(f"discovery of {group}/{version} failed: {api_error_message(exc)}")
                continue
            served = set()
        for kind in group_kinds:
            if resource_of(kind).plural not in served:
                problems.append(
                    f"the cluster does not serve {kind} ({group}/{version}): install "
                    f"{'Forklift (MTV)' if group.startswith('forklift') else 'KubeVirt and CDI'} first"
                )
    return problems


def _read(cluster: Cluster, path: str) -> dict | str:
    """The object or list at ``path``, or the server's refusal as a sentence."""
    try:
        return cluster.call(cluster.read_path, path)
    except ApiException as exc:
        return api_error_message(exc)


def _exists(cluster: Cluster, path: str) -> bool | str:
    try:
        cluster.call(cluster.read_path, path)
        return True
    except ApiException as exc:
        return False if exc.status == 404 else api_error_message(exc)


def _capacity(cluster: Cluster, sizing: pd.DataFrame | None, planned: pd.DataFrame) -> list[str]:
    if sizing is None or sizing.empty:
        return []
    listing = _read(cluster, "/api/v1/nodes")
    if isinstance(listing, str):
        return [f"capacity: cannot list nodes: {listing}"]
    nodes = [(n.get("status") or {}).get("allocatable") or {} for n in listing["items"]]
    cpu = sum(float(parse_quantity(n.get("cpu", "0"))) for n in nodes)
    mem_mib = sum(float(parse_quantity(n.get("memory", "0"))) for n in nodes) / 2**20
    need = sizing[sizing["vm_id"].isin(set(planned["vm_id"]))]
    need_cpu = float(need["cpu_request_cores"].fillna(0).sum())
    need_mem = float(need["pod_memory_mib"].fillna(0).sum())
    problems = []
    if need_cpu > cpu:
        problems.append(
            f"capacity: the planned VMs request {need_cpu:.1f} CPU cores, the {len(nodes)} node(s) "
            f"have {cpu:.1f} allocatable; add nodes or plan fewer VMs"
        )
    if need_mem > mem_mib:
        problems.append(
            f"capacity: the planned VMs need {need_mem / 1024:.1f} GiB of pod memory, the {len(nodes)} "
            f"node(s) have {mem_mib / 1024:.1f} GiB allocatable; add nodes or plan fewer VMs"
        )
    return problems


def preflight(
    cluster: Cluster,
    params: ExecuteParams,
    table: pd.DataFrame,
    sizing: pd.DataFrame | None,
    storage_classes: set[str],
) -> list[str]:
    """Every problem that would make execution fail, as sentences naming the object and the fix.

    ``table`` is the migration table restricted to the waves to run; ``storage_classes`` those
    the manifests name (StorageMap destinations, DataVolume classes).
    """
    kinds = list(KINDS["forklift" if params.backend != "kubevirt" else "kubevirt"])
    if params.emit_network_attachments:
        kinds.append("NetworkAttachmentDefinition")
    problems = _missing_apis(cluster, kinds)
    namespaces = {params.target_namespace}
    if params.backend != "kubevirt":
        namespaces.add(params.forklift_namespace)
    for ns in sorted(namespaces):
        found = _exists(cluster, f"/api/v1/namespaces/{ns}")
        if found is not True:
            problems.append(f"namespace {ns} " + ("does not exist: create it" if found is False else found))
    secret_ns = params.forklift_namespace if params.backend != "kubevirt" else params.target_namespace
    found = _exists(cluster, f"/api/v1/namespaces/{secret_ns}/secrets/{params.provider_secret}")
    if found is not True:
        problems.append(
            f"secret {secret_ns}/{params.provider_secret} (vCenter credentials) "
            + (
                "does not exist: create it with the user, password and CA of vCenter"
                if found is False
                else found
            )
        )
    if params.backend != "kubevirt" and not problems:
        if get_object(cluster, "Provider", params.forklift_namespace, params.destination_provider) is None:
            problems.append(
                f"destination Provider {params.forklift_namespace}/{params.destination_provider} does not "
                "exist: Forklift creates 'host' on install; set destination_provider to yours"
            )
    listing = _read(cluster, "/apis/storage.k8s.io/v1/storageclasses")
    if isinstance(listing, str):
        problems.append(f"storage classes: cannot list them: {listing}")
        listing = {"items": [{"metadata": {"name": name}} for name in storage_classes]}
    for name in sorted(storage_classes - {sc["metadata"]["name"] for sc in listing["items"]}):
        problems.append(f"storage class {name} does not exist (from the storage map): create it or remap")
    problems += _capacity(cluster, sizing, table[table["wave"].notna()])
    if params.backend == "kubevirt" and not params.vddk_thumbprint:
        problems.append(
            "vddk_thumbprint is not set: CDI's vddk import checks vCenter's certificate against it; "
            "set it to vCenter's SHA-1 thumbprint in --params"
        )
    for vm in critical_vms(table, params).itertuples():
        problems.append(
            f"VM {vm.name} (wave {vm.wave}) has a Critical concern (not_ready): remediate it, or let it "
            f"through with --allow-critical {vm.name}"
        )
    return problems
