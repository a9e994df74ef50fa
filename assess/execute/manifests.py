"""From the plan's tables to the manifests of each wave, for the chosen backend.

:func:`migration_table` joins what every backend needs into one row per VM in a wave;
:func:`build_manifests` turns it into ``{"shared": [...], "wave-01": [...], ...}``.
VMs that are not in a wave (remediate first, excluded) get no manifest; they are listed by
:func:`migration_table` with their reason, so none is lost.
"""

from __future__ import annotations

import pandas as pd

from assess.execute import forklift, kubevirt
from assess.execute.objects import dns1123
from assess.execute.params import ExecuteParams
from assess.model import AssessError, Estate, conform, empty

#: What the manifests take from the readiness and sizing tables (declared in RESULT_TABLES).
FROM_READINESS = ["target_name", "method", "firmware", "secure_boot", "needs_vtpm", "verdict"]
FROM_SIZING = ["instancetype", "preference"]


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
    ]
    table = vms.merge(wave_plan[["vm_id", "wave", "reason"]], on="vm_id", how="left")
    readiness = conform("readiness", readiness if readiness is not None else empty("readiness"))
    sizing = conform("sizing", sizing if sizing is not None else empty("sizing"))
    table = table.drop(columns=[c for c in FROM_READINESS if c in table.columns]).merge(
        readiness[["vm_id", *FROM_READINESS]], on="vm_id", how="left"
    )
    table = table.merge(sizing[["vm_id", *FROM_SIZING]], on="vm_id", how="left")
    table["target_name"] = table["target_name"].fillna(table["name"].map(dns1123))
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


def build_manifests(
    estate: Estate, table: pd.DataFrame, params: ExecuteParams | None = None
) -> dict[str, list[dict]]:
    """Manifests by group: ``shared`` (provider, maps, NADs) and ``wave-NN`` for each wave.

    Raises AssessError when a planned VM lacks what its manifest needs (moref, instance UUID).
    """
    params = params or ExecuteParams()
    planned = table[table["wave"].notna()]
    missing = planned[planned["moref"].isna() | planned["instance_uuid"].isna()]
    if not missing.empty:
        names = ", ".join(missing["name"].head(5))
        raise AssessError(f"{len(missing)} planned VM(s) lack a moref or instance UUID: {names}")
    disks = estate["disks"][estate["disks"]["vm_id"].isin(set(planned["vm_id"]))]
    nics = estate["nics"][estate["nics"]["vm_id"].isin(set(planned["vm_id"]))]
    out: dict[str, list[dict]] = {"shared": []}
    port_groups = nics["network"].dropna().tolist()
    if params.backend in ("forklift", "gitops"):
        out["shared"] += [
            forklift.provider(params),
            forklift.network_map(port_groups, params),
            forklift.storage_map(disks["datastore"].dropna().tolist(), params),
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
