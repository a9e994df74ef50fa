"""From the plan's tables to the manifests of each wave, for the chosen backend.

:func:`migration_table` joins what every backend needs into one row per VM in a wave;
:func:`build_manifests` turns it into ``{"shared": [...], "wave-01": [...], ...}``.
VMs that are not in a wave (remediate first, excluded) get no manifest; they are listed by
:func:`migration_table` with their reason, so none is lost.
"""

from __future__ import annotations

import pandas as pd

from assess.execute import forklift, kubevirt
from assess.execute.objects import LABEL, dns1123, unique_names
from assess.execute.params import ExecuteParams, StorageTarget
from assess.model import AssessError, Estate, conform, empty
from assess.sizing.params import KubeVirtMapping

#: What the manifests take from the readiness and sizing tables (declared in RESULT_TABLES).
FROM_READINESS = ["target_name", "method", "firmware", "secure_boot", "needs_vtpm", "verdict"]
FROM_SIZING = ["instancetype", "preference", "shape", "guest_vcpus", "guest_memory_mib"]


def migration_table(
    estate: Estate,
    readiness: pd.DataFrame | None,
    sizing: pd.DataFrame | None,
    wave_plan: pd.DataFrame,
    waves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per VM of the estate: identity, wave, method, firmware, instancetype, cutover.

    ``wave`` is null for VMs that are not planned into a wave; ``reason`` says why.
    """
    vms = estate["vms"][
        ["vm_id", "name", "moref", "instance_uuid", "vcpus", "memory_mib", "firmware", "secure_boot"]
        + (["vcenter"] if "vcenter" in estate["vms"].columns else [])
    ]
    table = vms.merge(wave_plan[["vm_id", "wave", "reason"]], on="vm_id", how="left")
    readiness = conform("readiness", readiness if readiness is not None else empty("readiness"))
    sizing = conform("sizing", sizing if sizing is not None else empty("sizing"))
    table = table.drop(columns=[c for c in FROM_READINESS if c in table.columns]).merge(
        readiness[["vm_id", *FROM_READINESS]], on="vm_id", how="left"
    )
    table = table.merge(sizing[["vm_id", *FROM_SIZING]], on="vm_id", how="left")
    table["target_name"] = target_names(table)
    table["method"] = table["method"].fillna("cold")
    shared = estate["disks"].loc[estate["disks"]["sharing"] == "sharingMultiWriter", "vm_id"]
    table["shared_disk"] = table["vm_id"].isin(set(shared))
    if waves is not None and "start" in waves.columns:
        table = table.merge(
            waves[["wave", "start"]].rename(columns={"start": "cutover"}), on="wave", how="left"
        )
    else:
        table["cutover"] = pd.NaT
    table["wave"] = table["wave"].astype("Int64")
    return table


def target_names(table: pd.DataFrame) -> pd.Series:
    """Each VM's name on the target: readiness's ``target_name``, made a valid and unique label.

    A missing or invalid name becomes :func:`dns1123` of it (or of the VM name); names that
    still collide get a hash of the ``vm_id``, so no two VMs share an object name.
    """
    given = table["target_name"].astype("string")
    names = [
        t if isinstance(t, str) and LABEL.match(t) else dns1123(t if isinstance(t, str) and t else n)
        for t, n in zip(given.where(given.notna(), None), table["name"].astype(str))
    ]
    return pd.Series(unique_names(names, table["vm_id"].astype(str).tolist()), index=table.index)


def vsphere_url(table: pd.DataFrame, params: ExecuteParams) -> str:
    """The vCenter SDK URL: the parameter, else ``https://<vcenter>/sdk`` from the inventory."""
    if params.vsphere_url:
        return params.vsphere_url
    planned = table[table["wave"].notna()]
    servers = sorted(set(planned.get("vcenter", pd.Series(dtype="string")).dropna().astype(str)) - {""})
    if len(servers) == 1:
        return f"https://{servers[0]}/sdk"
    if not servers:
        raise AssessError(
            "the inventory names no vCenter for the planned VMs (vms.vcenter is empty): "
            "set vsphere_url: https://VCENTER/sdk in --params"
        )
    raise AssessError(
        f"the planned VMs come from {len(servers)} vCenters ({', '.join(servers)}): one Provider serves "
        "one vCenter; plan each vCenter's VMs separately and set vsphere_url for each"
    )


def storage_targets(disks: pd.DataFrame, pvcs: pd.DataFrame | None, params: ExecuteParams) -> pd.DataFrame:
    """``disks`` with the ``storage_class``, ``volume_mode`` and ``access_mode`` each lands on.

    One parameter decides it, the same for sizing and execution: sizing's PVC plan (the
    ``pvcs`` table, per disk) where the run has it, else sizing's defaults; an executor
    ``storage`` entry for a datastore overrides both.
    """
    sizing = KubeVirtMapping()
    default = params.default_storage or StorageTarget(
        storage_class=sizing.default_storage_class,
        volume_mode=sizing.volume_mode.get(sizing.default_storage_class, "Filesystem"),
    )
    out = disks.copy()
    out["storage_class"], out["volume_mode"] = default.storage_class, default.volume_mode
    out["access_mode"] = default.access_mode
    if pvcs is not None and not pvcs.empty:
        plan = pvcs.drop_duplicates(["vm_id", "disk_key"]).set_index(["vm_id", "disk_key"])
        keys = pd.MultiIndex.from_frame(out[["vm_id", "disk_key"]])
        for col in ("storage_class", "volume_mode"):
            found = plan[col].reindex(keys).to_numpy()
            out[col] = pd.Series(found, index=out.index).fillna(out[col])
    for datastore, target in params.storage.items():
        hit = out["datastore"] == datastore
        out.loc[hit, ["storage_class", "volume_mode", "access_mode"]] = [
            target.storage_class,
            target.volume_mode,
            target.access_mode,
        ]
    return out


def build_manifests(
    estate: Estate,
    table: pd.DataFrame,
    params: ExecuteParams | None = None,
    pvcs: pd.DataFrame | None = None,
) -> dict[str, list[dict]]:
    """Manifests by group: ``shared`` (provider, maps, NADs) and ``wave-NN`` for each wave.

    ``pvcs`` is sizing's PVC plan (storage class and volume mode per disk). Raises AssessError
    when a planned VM lacks what its manifest needs (moref, instance UUID) or the vCenter
    is unknown.
    """
    params = params or ExecuteParams()
    planned = table[table["wave"].notna()]
    missing = planned[planned["moref"].isna() | planned["instance_uuid"].isna()]
    if not missing.empty:
        names = ", ".join(missing["name"].head(5))
        raise AssessError(f"{len(missing)} planned VM(s) lack a moref or instance UUID: {names}")
    params = params.model_copy(update={"vsphere_url": vsphere_url(table, params)})
    disks = estate["disks"][estate["disks"]["vm_id"].isin(set(planned["vm_id"]))]
    disks = storage_targets(disks, pvcs, params)
    nics = estate["nics"][estate["nics"]["vm_id"].isin(set(planned["vm_id"]))]
    out: dict[str, list[dict]] = {"shared": []}
    port_groups = nics["network"].dropna().tolist()
    if params.backend in ("forklift", "gitops"):
        out["shared"] += [
            forklift.provider(params),
            forklift.network_map(port_groups, params),
            forklift.storage_map(disks.dropna(subset=["datastore"]), params),
        ]
    if params.emit_network_attachments:
        nads = [kubevirt.network_attachment(pg, params) for pg in sorted(set(port_groups))]
        out["shared"] += [n for n in nads if n is not None]
    disks_by_vm = dict(tuple(disks.groupby("vm_id")))
    nics_by_vm = dict(tuple(nics.groupby("vm_id")))
    for wave, members in planned.groupby("wave", sort=True):
        key = f"wave-{int(wave):02d}"
        objects: list[dict] = []
        if params.backend == "kubevirt":
            for _, vm in members.sort_values("target_name").iterrows():
                objects.append(
                    kubevirt.virtual_machine(
                        vm,
                        disks_by_vm.get(vm["vm_id"], disks.iloc[:0]),
                        nics_by_vm.get(vm["vm_id"], nics.iloc[:0]),
                        int(wave),
                        params,
                    )
                )
        else:
            for method in ("cold", "warm"):
                group = members[members["method"] == method].sort_values("target_name")
                if group.empty:
                    continue
                plan = forklift.plan(int(wave), method, group, params)
                cutover = group["cutover"].dropna()
                objects += [plan, forklift.migration(plan, cutover.iloc[0] if len(cutover) else None)]
        out[key] = objects
    return out


def storage_classes(manifests: dict[str, list[dict]]) -> set[str]:
    """Storage classes the manifests name: StorageMap destinations and DataVolume templates."""
    out = set()
    for obj in (o for group in manifests.values() for o in group):
        if obj["kind"] == "StorageMap":
            out |= {e["destination"]["storageClass"] for e in obj["spec"]["map"]}
        elif obj["kind"] == "VirtualMachine":
            out |= {
                d["spec"]["storage"]["storageClassName"] for d in obj["spec"].get("dataVolumeTemplates", [])
            }
    return out
