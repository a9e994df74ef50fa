"""Executor parameters: target cluster layout, maps, and how manifests are built and applied."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, ConfigDict, Field, ValidationError

from assess.execute.objects import name_problem
from assess.model import AssessError
from assess.model.params import Params


def _name(subdomain: bool = False):
    """A pydantic check that a parameter which becomes a Kubernetes name is a valid one."""

    def check(value: str | None) -> str | None:
        problem = None if value is None else name_problem(value, "the value", subdomain)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


Label = Annotated[str, _name()]
Subdomain = Annotated[str, _name(subdomain=True)]


class _Strict(Params):
    model_config = ConfigDict(extra="forbid")


class NetworkTarget(_Strict):
    """Where a VMware port group lands: the pod network or a Multus network."""

    type: Literal["pod", "multus", "ignored"] = "pod"
    name: Subdomain | None = Field(None, description="NetworkAttachmentDefinition name (multus)")
    namespace: Label | None = None
    vlan: int | None = Field(None, ge=1, le=4094, description="VLAN for an emitted bridge NAD")
    bridge: str = Field("br1", description="Node bridge for an emitted NAD")


class StorageTarget(_Strict):
    """Where a datastore's disks land."""

    storage_class: Subdomain
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"] = "ReadWriteOnce"
    volume_mode: Literal["Filesystem", "Block"] = "Filesystem"


class ExecuteParams(_Strict):
    """Everything the executor needs besides the plan itself. No secret values: only names."""

    backend: Literal["forklift", "kubevirt", "gitops"] = "forklift"
    plan_id: str = Field("assess", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40)
    target_namespace: Label = "migrated-vms"
    forklift_namespace: Label = "openshift-mtv"
    vsphere_url: str | None = Field(
        None,
        pattern=r"^https://[^/\s]+/sdk$",
        description="vCenter SDK URL (default: https://<the inventory's vCenter>/sdk)",
    )
    provider_name: Subdomain = "vsphere"
    provider_secret: Subdomain = Field("vsphere-credentials", description="Secret the user creates")
    destination_provider: Subdomain = Field("host", description="Forklift's provider for the local cluster")
    vddk_init_image: str | None = Field(None, description="VDDK init image (speeds up transfer)")
    vddk_thumbprint: str | None = Field(None, description="vCenter SHA-1 thumbprint for CDI vddk")
    networks: dict[str, NetworkTarget] = Field(default_factory=dict, description="port group -> target")
    default_network: NetworkTarget = NetworkTarget()
    storage: dict[str, StorageTarget] = Field(
        default_factory=dict, description="datastore -> target, overriding sizing's PVC plan (pvcs table)"
    )
    default_storage: StorageTarget | None = Field(
        None, description="Target of datastores the PVC plan lacks (default: sizing's default class)"
    )
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
    connect_timeout_s: float = Field(10, gt=0, description="TCP/TLS connect timeout of every request")
    request_timeout_s: float = Field(60, gt=0, description="Read timeout of a request (not of a watch)")
    backoff_s: float = Field(0.5, gt=0, description="First retry delay; doubles each time (capped 30 s)")


def params_error(exc: ValidationError, source: str) -> AssessError:
    """One line naming each bad parameter, what was expected and what was given."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "parameters"
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" + ("" if "'" in message else f" (got {error.get('input')!r})"))
    return AssessError(f"{source}: invalid executor parameters: " + "; ".join(parts))


def load_params(path: Path | None = None, **overrides) -> ExecuteParams:
    """Parameters from a YAML file, then the ``overrides`` that are not None (command-line options)."""
    base = {}
    if path is not None:
        if not path.is_file():
            raise AssessError(f"{path}: parameters file not found")
        try:
            base = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise AssessError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
        if not isinstance(base, dict):
            raise AssessError(
                f"{path}: expected a mapping of executor parameters, found {type(base).__name__}"
            )
    base |= {k: v for k, v in overrides.items() if v is not None}
    try:
        return ExecuteParams(**base)
    except ValidationError as exc:
        raise params_error(exc, str(path) if path else "options") from exc
