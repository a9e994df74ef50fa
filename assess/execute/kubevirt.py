"""KubeVirt objects: a VirtualMachine per VM with CDI ``vddk`` DataVolume templates.

Instancetype and preference come from sizing; explicit CPU and memory where no instancetype
fits. Firmware (EFI, secure boot with SMM, persistent vTPM) comes from readiness.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from assess.execute.forklift import network_target
from assess.execute.objects import child_name, dns1123, labels, meta, prune
from assess.execute.params import ExecuteParams


def _mib_quantity(mib: float) -> str:
    return f"{max(1, math.ceil(mib))}Mi"


def data_volume_template(vm: pd.Series, disk: pd.Series, index: int, params: ExecuteParams) -> dict:
    """A DataVolume template importing one VMware disk through VDDK.

    The request is the disk's capacity; CDI's ``storage`` API adds the file-system overhead
    itself for Filesystem volumes. ``disk`` carries its ``storage_class``, ``volume_mode`` and
    ``access_mode`` (the PVC plan sizing made).
    """
    return {
        "metadata": {"name": child_name(vm["target_name"], f"disk{index}")},
        "spec": {
            "source": {
                "vddk": prune(
                    {
                        "url": params.vsphere_url,
                        "uuid": vm["instance_uuid"],
                        "backingFile": disk["file"],
                        "thumbprint": params.vddk_thumbprint,
                        "secretRef": params.provider_secret,
                        "initImageURL": params.vddk_init_image,
                    }
                )
            },
            "storage": {
                "accessModes": [disk["access_mode"]],
                "volumeMode": disk["volume_mode"],
                "storageClassName": disk["storage_class"],
                "resources": {"requests": {"storage": _mib_quantity(disk["capacity_mib"])}},
            },
        },
    }


def _firmware(vm: pd.Series) -> tuple[dict | None, dict | None]:
    if str(vm.get("firmware") or "").lower() != "efi":
        return None, None
    secure = bool(vm.get("secure_boot")) if pd.notna(vm.get("secure_boot")) else False
    firmware = {"bootloader": {"efi": {"secureBoot": secure, "persistent": True if secure else None}}}
    features = {"smm": {"enabled": True}} if secure else None
    return prune(firmware), features


def _explicit_resources(vm: pd.Series) -> tuple[dict, dict]:
    """``domain.cpu`` and ``domain.memory`` when no instancetype applies.

    What sizing gives the guest (``guest_vcpus``/``guest_memory_mib``), else the source's allocation.
    """
    vcpus = vm.get("guest_vcpus") if pd.notna(vm.get("guest_vcpus")) else vm.get("vcpus")
    memory = vm.get("guest_memory_mib") if pd.notna(vm.get("guest_memory_mib")) else vm.get("memory_mib")
    cores = int(vcpus) if pd.notna(vcpus) else 1
    return {"sockets": 1, "cores": cores, "threads": 1}, {"guest": _mib_quantity(float(memory))}


def virtual_machine(
    vm: pd.Series, disks: pd.DataFrame, nics: pd.DataFrame, wave: int, params: ExecuteParams
) -> dict:
    """The VirtualMachine for one source VM (``vm`` is a row of the migration table)."""
    name = vm["target_name"]
    dv = [data_volume_template(vm, d, i, params) for i, (_, d) in enumerate(disks.iterrows())]
    firmware, features = _firmware(vm)
    interfaces, networks = [], []
    for i, (_, nic) in enumerate(nics.iterrows()):
        target = network_target(nic["network"], params)
        if target.type == "ignored":
            continue
        net_name = f"net{i}"
        mac = nic["mac"] if pd.notna(nic["mac"]) else None
        if target.type == "pod" and not any("pod" in n for n in networks):
            interfaces.append(prune({"name": net_name, "masquerade": {}, "macAddress": mac}))
            networks.append({"name": net_name, "pod": {}})
        else:
            nad = f"{target.namespace or params.target_namespace}/{target.name or dns1123(nic['network'])}"
            interfaces.append(prune({"name": net_name, "bridge": {}, "macAddress": mac}))
            networks.append({"name": net_name, "multus": {"networkName": nad}})
    instancetype = vm.get("instancetype")
    has_type = isinstance(instancetype, str) and instancetype != "" and str(vm.get("shape")) != "custom"
    preference = vm.get("preference")
    domain = {
        "firmware": firmware,
        "features": features,
        "devices": prune(
            {
                "disks": [{"name": f"disk{i}", "disk": {}} for i in range(len(dv))],
                "interfaces": interfaces,
                "tpm": {"persistent": True} if bool(vm.get("needs_vtpm") is True) else None,
            }
        ),
    }
    if not has_type:
        domain["cpu"], domain["memory"] = _explicit_resources(vm)
    object_labels = labels(params.plan_id, wave, vm["moref"])
    spec = {
        "runStrategy": params.run_strategy,
        "instancetype": {"kind": "VirtualMachineClusterInstancetype", "name": instancetype}
        if has_type
        else None,
        "preference": {"kind": "VirtualMachineClusterPreference", "name": preference}
        if isinstance(preference, str) and preference
        else None,
        "dataVolumeTemplates": dv,
        "template": {
            "metadata": {"labels": object_labels},
            "spec": {
                "domain": prune(domain),
                "networks": networks,
                "volumes": [
                    {"name": f"disk{i}", "dataVolume": {"name": d["metadata"]["name"]}}
                    for i, d in enumerate(dv)
                ],
            },
        },
    }
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": meta(name, params.target_namespace, object_labels),
        "spec": prune(spec),
    }


def network_attachment(port_group: str, params: ExecuteParams) -> dict | None:
    """A Multus bridge NetworkAttachmentDefinition for a VLAN-mapped port group, else None."""
    target = network_target(port_group, params)
    if target.type != "multus" or target.vlan is None:
        return None
    name = target.name or dns1123(port_group)
    config = {
        "cniVersion": "0.3.1",
        "name": name,
        "type": "bridge",
        "bridge": target.bridge,
        "vlan": target.vlan,
        "ipam": {},
    }
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": meta(name, target.namespace or params.target_namespace, labels(params.plan_id)),
        "spec": {"config": json.dumps(config, sort_keys=True)},
    }
