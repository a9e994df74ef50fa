"""Hosts, clusters (with DRS rules), datastores and port groups from the retrieved inventory."""

from __future__ import annotations

from pyVmomi import vim

from assess.collect.vcenter.inventory import MIB, Inventory


def host_rows(inv: Inventory, vc_uuid: str, vcenter: str, source: str) -> list[dict]:
    """Rows of the ``hosts`` table."""
    rows = []
    for r in inv.of_kind("vim.HostSystem"):
        hw = r.get("summary.hardware")
        compute = inv.by_moref.get(r.get("parent")._moId) if r.get("parent") is not None else None
        datacenter = inv.ancestor(r.get("parent"), ("vim.Datacenter",))
        rows.append(dict(
            host_id=f"{vc_uuid}/{r.moref}", name=r.get("name"), vcenter=vcenter,
            datacenter=datacenter.get("name") if datacenter else None,
            cluster=compute.get("name") if compute and compute.kind == "vim.ClusterComputeResource" else None,
            cpu_model=getattr(hw, "cpuModel", None), cpu_mhz=getattr(hw, "cpuMhz", None),
            sockets=getattr(hw, "numCpuPkgs", None), cores=getattr(hw, "numCpuCores", None),
            threads=getattr(hw, "numCpuThreads", None),
            memory_mib=hw.memorySize / MIB if hw is not None and hw.memorySize else None,
            esx_version=r.get("summary.config.product.fullName"),
            vendor=getattr(hw, "vendor", None), model=getattr(hw, "model", None),
            maintenance=r.get("runtime.inMaintenanceMode"), source=source,
        ))
    return rows


def cluster_rows(inv: Inventory, vc_uuid: str, vcenter: str, source: str) -> list[dict]:
    """Rows of the ``clusters`` table (HA, DRS, DPM settings and capacity)."""
    rows = []
    for r in inv.of_kind("vim.ClusterComputeResource"):
        summary, config = r.get("summary"), r.get("configurationEx")
        drs = getattr(config, "drsConfig", None)
        datacenter = inv.ancestor(r.get("parent"), ("vim.Datacenter",))
        rows.append(dict(
            cluster_id=f"{vc_uuid}/{r.moref}", name=r.get("name"), vcenter=vcenter,
            datacenter=datacenter.get("name") if datacenter else None,
            hosts=getattr(summary, "numHosts", None), cores=getattr(summary, "numCpuCores", None),
            cpu_mhz_total=getattr(summary, "totalCpu", None),
            memory_mib=summary.totalMemory / MIB if summary is not None and summary.totalMemory else None,
            ha_enabled=getattr(getattr(config, "dasConfig", None), "enabled", None),
            drs_enabled=getattr(drs, "enabled", None),
            drs_behavior=getattr(drs, "defaultVmBehavior", None),
            dpm_enabled=getattr(getattr(config, "dpmConfigInfo", None), "enabled", None),
            source=source,
        ))
    return rows


def affinity_rows(inv: Inventory, vc_uuid: str, vcenter: str) -> list[dict]:
    """Rows of ``affinity_rules``: one per member VM (vm_id) or host (name) of each DRS rule."""
    rows = []
    for r in inv.of_kind("vim.ClusterComputeResource"):
        config = r.get("configurationEx")
        groups = {g.name: g for g in getattr(config, "group", None) or []}
        for rule in getattr(config, "rule", None) or []:
            base = dict(vcenter=vcenter, cluster=r.get("name"), rule=rule.name, enabled=rule.enabled,
                        mandatory=bool(rule.mandatory))
            if isinstance(rule, vim.cluster.VmHostRuleInfo):
                members = [f"{vc_uuid}/{vm._moId}" for vm in getattr(groups.get(rule.vmGroupName), "vm", [])]
                host_group = rule.affineHostGroupName or rule.antiAffineHostGroupName
                members += [inv.name(h) or h._moId for h in getattr(groups.get(host_group), "host", [])]
                kind = "vm_host"
            else:
                kind = "vm_affinity" if isinstance(rule, vim.cluster.AffinityRuleSpec) else "vm_anti_affinity"
                members = [f"{vc_uuid}/{vm._moId}" for vm in rule.vm or []]
            rows += [dict(base, kind=kind, member=m) for m in members]
    return rows


def datastore_rows(inv: Inventory, vc_uuid: str, vcenter: str, source: str) -> list[dict]:
    """Rows of the ``datastores`` table."""
    rows = []
    for r in inv.of_kind("vim.Datastore"):
        capacity, free = r.get("summary.capacity"), r.get("summary.freeSpace")
        uncommitted = r.get("summary.uncommitted") or 0
        hosts = sorted(filter(None, (inv.name(m.key) for m in r.get("host") or [])))
        rows.append(dict(
            datastore_id=f"{vc_uuid}/{r.moref}", name=r.get("name"), vcenter=vcenter,
            type=r.get("summary.type"),
            capacity_mib=capacity / MIB if capacity is not None else None,
            free_mib=free / MIB if free is not None else None,
            provisioned_mib=(capacity - free + uncommitted) / MIB
            if capacity is not None and free is not None else None,
            accessible=r.get("summary.accessible"), hosts=",".join(hosts), url=r.get("summary.url"),
            source=source,
        ))
    return rows


def _vlan_text(vlan) -> str | None:
    if isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.TrunkVlanSpec):
        return ",".join(f"{r.start}-{r.end}" if r.start != r.end else str(r.start) for r in vlan.vlanId)
    if isinstance(vlan, vim.dvs.VmwareDistributedVirtualSwitch.PvlanSpec):
        return f"pvlan {vlan.pvlanId}"
    value = getattr(vlan, "vlanId", None)
    return str(value) if value is not None else None


def network_rows(inv: Inventory, vc_uuid: str, vcenter: str, source: str) -> list[dict]:
    """Rows of ``networks``: standard port groups (VLAN from the hosts) and dvPortgroups."""
    standard: dict[str, tuple[set[str], set[str]]] = {}
    for host in inv.of_kind("vim.HostSystem"):
        for group in host.get("config.network.portgroup") or []:
            vlans, switches = standard.setdefault(group.spec.name, (set(), set()))
            vlans.add(str(group.spec.vlanId))
            switches.add(group.spec.vswitchName)
    rows = []
    for r in inv.of_kind("vim.Network", "vim.dvs.DistributedVirtualPortgroup", "vim.OpaqueNetwork"):
        if r.kind == "vim.dvs.DistributedVirtualPortgroup":
            port = r.get("config.defaultPortConfig")
            kind, switch = "distributed", inv.name(r.get("config.distributedVirtualSwitch"))
            vlan = _vlan_text(getattr(port, "vlan", None))
        elif r.kind == "vim.OpaqueNetwork":
            kind, switch, vlan = "opaque", None, None
        else:
            vlans, switches = standard.get(r.get("name"), (set(), set()))
            kind = "standard"
            switch, vlan = ",".join(sorted(switches)) or None, ",".join(sorted(vlans)) or None
        rows.append(dict(network_id=f"{vc_uuid}/{r.moref}", name=r.get("name"), vcenter=vcenter,
                         switch=switch, kind=kind, vlan=vlan, source=source))
    return rows
