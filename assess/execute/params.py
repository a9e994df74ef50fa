"""Executor parameters: target cluster layout, maps, and how manifests are built and applied."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from assess.model.params import Params


class _Strict(Params):
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
    # --- live execution (``assess execute``) ---
    apply: bool = Field(False, description="Write to the cluster; otherwise a dry run")
    dry_run: Literal["server", "client"] = Field(
        "server", description="Dry-run kind when not applying: dryRun=All on the server, or a local diff"
    )
    kubeconfig: str | None = Field(None, description="kubeconfig path (else KUBECONFIG, in-cluster, default)")
    context: str | None = Field(None, description="kubeconfig context (else the current one)")
    field_manager: str = Field("assess", max_length=128, description="Server-side apply field manager")
    force_conflicts: bool = Field(False, description="Take over fields another manager owns on apply")
    max_concurrent: int = Field(10, ge=1, description="VMs migrating at once within a wave (kubevirt)")
    failure_budget: int = Field(0, ge=0, description="Failed VMs per wave that still let the next start")
    allow_critical: list[str] = Field(
        default_factory=list, description="vm_id, name or target name of not_ready VMs to migrate anyway"
    )
    require_agent: bool = Field(True, description="Post-check: guest agent connected where tools ran")
    waves: list[int] | None = Field(None, description="Only these waves (default: all, in order)")
    watch_timeout_s: int = Field(300, ge=1, description="Server-side timeout of one watch request")
    wave_timeout_s: float | None = Field(None, gt=0, description="Give up on a wave after this long")
    retries: int = Field(6, ge=0, description="Retries on 429/5xx/connection errors")
    backoff_s: float = Field(0.5, gt=0, description="First retry delay; doubles each time (capped 30 s)")
