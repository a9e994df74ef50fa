"""Executor parameters: target cluster layout, maps, and how manifests are built and applied."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NetworkTarget(_Strict):
    """Where a VMware port group lands: the pod network or a Multus network."""

    type: Literal["pod", "multus", "ignored"] = "pod"
    name: str | None = Field(None, description="NetworkAttachmentDefinition name (multus)")
    namespace: str | None = None
    vlan: int | None = Field(None, ge=1, le=4094, description="VLAN for an emitted bridge NAD")
    bridge: str = Field("br1", description="Node bridge for an emitted NAD")


class StorageTarget(_Strict):
    """Where a datastore's disks land."""

    storage_class: str
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"] = "ReadWriteOnce"
    volume_mode: Literal["Filesystem", "Block"] = "Block"


class ExecuteParams(_Strict):
    """Everything the executor needs besides the plan itself. No secret values: only names."""

    backend: Literal["forklift", "kubevirt", "gitops"] = "forklift"
    plan_id: str = Field("assess", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40)
    target_namespace: str = "migrated-vms"
    forklift_namespace: str = "openshift-mtv"
    vsphere_url: str = Field("https://vcenter.example.com/sdk", description="vCenter SDK URL")
    provider_name: str = "vsphere"
    provider_secret: str = Field("vsphere-credentials", description="Secret the user creates")
    destination_provider: str = Field("host", description="Forklift's provider for the local cluster")
    vddk_init_image: str | None = Field(None, description="VDDK init image (speeds up transfer)")
    vddk_thumbprint: str | None = Field(None, description="vCenter SHA-1 thumbprint for CDI vddk")
    networks: dict[str, NetworkTarget] = Field(default_factory=dict, description="port group -> target")
    default_network: NetworkTarget = NetworkTarget()
    storage: dict[str, StorageTarget] = Field(default_factory=dict, description="datastore -> target")
    default_storage: StorageTarget = StorageTarget(storage_class="standard")
    emit_network_attachments: bool = Field(False, description="Emit Multus bridge NADs for VLANs")
    run_strategy: Literal["Always", "Halted", "Manual", "RerunOnFailure"] = "Always"
