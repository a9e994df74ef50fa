"""Forklift (Migration Toolkit for Virtualization) objects: Provider, maps, Plan and Migration.

Built as plain dicts from the per-VM migration table (see :mod:`assess.execute.manifests`);
they validate against Forklift's own CRDs (forklift.konveyor.io/v1beta1).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from assess.execute.objects import dns1123, labels, meta, prune, ref
from assess.execute.params import ExecuteParams, NetworkTarget

API = "forklift.konveyor.io/v1beta1"


def provider(params: ExecuteParams) -> dict:
    """The vSphere source Provider; its credentials are the Secret the user creates (name only)."""
    settings = {"vddkInitImage": params.vddk_init_image} if params.vddk_init_image else None
    return {
        "apiVersion": API,
        "kind": "Provider",
        "metadata": meta(params.provider_name, params.forklift_namespace, labels(params.plan_id)),
        "spec": prune(
            {
                "type": "vsphere",
                "url": params.vsphere_url,
                "secret": ref(params.provider_secret, params.forklift_namespace),
                "settings": settings,
            }
        ),
    }


def _providers(params: ExecuteParams) -> dict:
    return {
        "source": ref(params.provider_name, params.forklift_namespace),
        "destination": ref(params.destination_provider, params.forklift_namespace),
    }


def network_target(port_group: str, params: ExecuteParams) -> NetworkTarget:
    """The target of a port group: from the mapping, else the default."""
    return params.networks.get(port_group, params.default_network)


def network_map(port_groups: list[str], params: ExecuteParams) -> dict:
    """One NetworkMap for every port group the migrating VMs use."""
    entries = []
    for name in sorted(set(port_groups)):
        target = network_target(name, params)
        destination = {"type": target.type}
        if target.type == "multus":
            destination |= {"name": target.name, "namespace": target.namespace or params.target_namespace}
        entries.append({"source": {"name": name}, "destination": prune(destination)})
    return {
        "apiVersion": API,
        "kind": "NetworkMap",
        "metadata": meta(f"{params.plan_id}-networks", params.forklift_namespace, labels(params.plan_id)),
        "spec": {"provider": _providers(params), "map": entries},
    }


def storage_map(disks: pd.DataFrame, params: ExecuteParams) -> dict:
    """One StorageMap for every datastore holding a disk of a migrating VM.

    ``disks`` carries each disk's ``storage_class``, ``volume_mode`` and ``access_mode``
    (see :func:`assess.execute.manifests.storage_targets`); a datastore maps to its first disk's.
    """
    entries = [
        {
            "source": {"name": row.datastore},
            "destination": {
                "storageClass": row.storage_class,
                "accessMode": row.access_mode,
                "volumeMode": row.volume_mode,
            },
        }
        for row in disks.sort_values("datastore").drop_duplicates("datastore").itertuples(index=False)
    ]
    return {
        "apiVersion": API,
        "kind": "StorageMap",
        "metadata": meta(f"{params.plan_id}-storage", params.forklift_namespace, labels(params.plan_id)),
        "spec": {"provider": _providers(params), "map": entries},
    }


def plan_name(params: ExecuteParams, wave: int, method: str) -> str:
    """Stable Plan name for one wave and migration type, e.g. ``assess-wave-03-warm``."""
    return dns1123(f"{params.plan_id}-wave-{wave:02d}-{method}")


def _instancetype(row) -> str | None:
    """The instancetype sizing chose; None for a custom shape (Forklift keeps the source's size)."""
    name = getattr(row, "instancetype", None)
    if str(getattr(row, "shape", "")) == "custom" or not isinstance(name, str) or not name:
        return None
    return name


def plan(wave: int, method: str, vms: pd.DataFrame, params: ExecuteParams) -> dict:
    """The Plan for the VMs of one wave that share a migration type (cold or warm).

    ``vms`` needs ``moref`` and ``target_name``; shared-disk VMs get ``migrateSharedDisks``.
    Each VM carries the ``instanceType`` sizing chose (Forklift's Plan has no field for the
    preference: Forklift derives it from the guest OS).
    """
    shared = vms.get("shared_disk", pd.Series(False, index=vms.index)).fillna(False).astype(bool)
    entries = [
        prune({"id": row.moref, "targetName": row.target_name, "instanceType": _instancetype(row)})
        for row in vms.itertuples(index=False)
    ]
    return {
        "apiVersion": API,
        "kind": "Plan",
        "metadata": meta(
            plan_name(params, wave, method), params.forklift_namespace, labels(params.plan_id, wave)
        ),
        "spec": prune(
            {
                "description": f"{params.plan_id}: wave {wave}, {method}, {len(vms)} VM(s)",
                "type": method,
                "targetNamespace": params.target_namespace,
                "provider": _providers(params),
                "map": {
                    "network": ref(f"{params.plan_id}-networks", params.forklift_namespace),
                    "storage": ref(f"{params.plan_id}-storage", params.forklift_namespace),
                },
                "migrateSharedDisks": True if shared.any() else None,
                "targetLabels": labels(params.plan_id, wave),
                "vms": entries,
            }
        ),
    }


def migration(plan_object: dict, cutover: datetime | None = None) -> dict:
    """The Migration that starts ``plan_object``; a warm plan's cutover time from the wave calendar."""
    name = plan_object["metadata"]["name"]
    namespace = plan_object["metadata"]["namespace"]
    when = None
    if cutover is not None and plan_object["spec"]["type"] == "warm":
        when = (
            pd.Timestamp(cutover).tz_localize("UTC")
            if pd.Timestamp(cutover).tzinfo is None
            else (pd.Timestamp(cutover).tz_convert("UTC"))
        )
        when = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": API,
        "kind": "Migration",
        "metadata": meta(name, namespace, dict(plan_object["metadata"]["labels"])),
        "spec": prune({"plan": ref(name, namespace), "cutover": when}),
    }
