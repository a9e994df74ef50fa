"""Rows of the RVTools sheets that describe infrastructure rather than VMs (hosts, clusters, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from assess.sample.inventory import DOMAIN, EXPORT_AT, Inventory

VC_VERSION = ("8.0.2.0", "8.0.2", "00500", "24321653")


def _vc(inv: Inventory, index: int) -> dict:
    vc = inv.vcenters[index]
    return {"VI SDK Server": vc["name"], "VI SDK UUID": vc["uuid"]}


def _host_base(inv: Inventory, h: dict) -> dict:
    cluster = inv.clusters[h["cluster"]]
    return {
        "Host": h["name"],
        "Datacenter": inv.vcenters[h["vc"]]["datacenter"],
        "Cluster": cluster["name"],
        **_vc(inv, h["vc"]),
    }


def _vSource(inv: Inventory) -> Iterator[dict]:
    for v in range(len(inv.vcenters)):
        yield {
            "Name": "VMware vCenter Server",
            "OS type": "linux-x64",
            "API type": "VirtualCenter",
            "API version": VC_VERSION[0],
            "Version": VC_VERSION[1],
            "Patch level": VC_VERSION[2],
            "Build": VC_VERSION[3],
            "Fullname": f"VMware vCenter Server {VC_VERSION[1]} build-{VC_VERSION[3]}",
            "Product name": "VMware VirtualCenter Server",
            "Product version": "8.0",
            "Product line": "vpx",
            "Vendor": "VMware, Inc.",
            **_vc(inv, v),
        }


def _cluster_totals(inv: Inventory, cluster: dict) -> tuple[float, float, float]:
    hosts = [inv.hosts[h] for h in cluster["hosts"]]
    mhz = sum(h["mhz"] * h["sockets"] * h["cores_per_cpu"] for h in hosts)
    cores = sum(h["sockets"] * h["cores_per_cpu"] for h in hosts)
    mem = sum(h["memory_mib"] for h in hosts)
    return float(mhz), float(cores), float(mem)


def _vRP(inv: Inventory) -> Iterator[dict]:
    for c in inv.clusters:
        dc = inv.vcenters[c["vc"]]["datacenter"]
        vms = sum(len(inv.hosts[h]["vms"]) for h in c["hosts"])
        yield {
            "Resource Pool name": "Resources",
            "Resource Pool path": f"/{dc}/{c['name']}/Resources",
            "Status": "green",
            "# VMs total": float(vms),
            "# VMs": float(vms),
            "Object ID": f"resgroup-{c['moref'][8:]}",
            **_vc(inv, c["vc"]),
        }


def _vCluster(inv: Inventory) -> Iterator[dict]:
    for c in inv.clusters:
        mhz, cores, mem = _cluster_totals(inv, c)
        n = float(len(c["hosts"]))
        yield {
            "Name": c["name"],
            "Config status": "green",
            "OverallStatus": "green",
            "NumHosts": n,
            "numEffectiveHosts": n,
            "TotalCpu": mhz,
            "NumCpuCores": cores,
            "NumCpuThreads": cores * 2,
            "Effective Cpu": mhz * 0.9,
            "TotalMemory": mem,
            "Effective Memory": mem * 0.95,
            "Num VMotions": 120.0,
            "HA enabled": "True",
            "Failover Level": 1.0,
            "AdmissionControlEnabled": "True",
            "Host monitoring": "enabled",
            "HB Datastore Candidate Policy": "allFeasibleDsWithUserPreference",
            "Isolation Response": "none",
            "Restart Priority": "medium",
            "Cluster Settings": "True",
            "Max Failures": 3.0,
            "Max Failure Window": -1.0,
            "Failure Interval": 30.0,
            "Min Up Time": 120.0,
            "VM Monitoring": "vmMonitoringDisabled",
            "DRS enabled": "True",
            "DRS default VM behavior": "fullyAutomated",
            "DRS vmotion rate": 3.0,
            "DPM enabled": "False",
            "DPM default behavior": "automated",
            "DPM Host Power Action Rate": 3.0,
            "Object ID": c["moref"],
            **_vc(inv, c["vc"]),
        }


def _vHost(inv: Inventory) -> Iterator[dict]:
    for h in inv.hosts:
        cores = h["sockets"] * h["cores_per_cpu"]
        vcpus = sum(inv.vms[i]["vcpus"] for i in h["vms"])
        vram = sum(inv.vms[i]["memory_mib"] for i in h["vms"])
        yield _host_base(inv, h) | {
            "Config status": "green",
            "in Maintenance Mode": "False",
            "in Quarantine Mode": "False",
            "CPU Model": h["cpu_model"],
            "Speed": float(h["mhz"]),
            "HT Available": "True",
            "HT Active": "True",
            "# CPU": float(h["sockets"]),
            "Cores per CPU": float(h["cores_per_cpu"]),
            "# Cores": float(cores),
            "CPU usage %": 30.0,
            "# Memory": float(h["memory_mib"]),
            "Memory Tiering Type": "noTiering",
            "Memory usage %": 45.0,
            "Console": 0.0,
            "# NICs": 2.0,
            "# HBAs": 1.0,
            "# VMs total": float(len(h["vms"])),
            "# VMs": float(len(h["vms"])),
            "VMs per Core": len(h["vms"]) / cores,
            "# vCPUs": float(vcpus),
            "vCPUs per Core": vcpus / cores,
            "vRAM": float(vram),
            "VM Used memory": vram * 0.6,
            "VM Memory Swapped": 0.0,
            "VM Memory Ballooned": 0.0,
            "VMotion support": "True",
            "Storage VMotion support": "True",
            "Max EVC": "intel-icelake",
            "ATS Heartbeat": "1",
            "ATS Locking": "1",
            "Current CPU power man. policy": "Balanced",
            "Supported CPU power man.": "ACPI P-states",
            "Host Power Policy": "dynamic",
            "ESX Version": "VMware ESXi 8.0.3 build-24022510",
            "Boot time": datetime(2025, 9, 14, 3, 12, 5),
            "DNS Servers": "10.20.0.10, 10.20.0.11",
            "DHCP": "False",
            "DNS Search Order": DOMAIN,
            "NTP Server(s)": f"ntp01-01.{DOMAIN}",
            "NTPD running": "True",
            "Time Zone": "UTC",
            "Time Zone Name": "UTC",
            "GMT Offset": "0",
            "Vendor": "Dell Inc.",
            "Model": "PowerEdge R650",
            "Serial number": f"SN{h['moref'][5:]:0>7}",
            "BIOS Vendor": "Dell Inc.",
            "BIOS Version": "1.13.2",
            "Certificate Status": "good",
            "Object ID": h["moref"],
            "UUID": h["uuid"],
        }


def _vHBA(inv: Inventory) -> Iterator[dict]:
    for h in inv.hosts:
        yield _host_base(inv, h) | {
            "Device": "vmhba1",
            "Type": "Fibre Channel",
            "Status": "online",
            "Bus": "59",
            "Pci": "0000:3b:00.0",
            "Driver": "lpfc",
            "Model": "Emulex LPe35002",
        }


def _vNIC(inv: Inventory) -> Iterator[dict]:
    for k, h in enumerate(inv.hosts):
        for n in range(2):
            yield _host_base(inv, h) | {
                "Network Device": f"vmnic{n}",
                "Driver": "i40en",
                "Speed": 25000.0,
                "Duplex": "True",
                "MAC": f"b4:96:91:{k >> 8 & 255:02x}:{k & 255:02x}:{n:02x}",
                "Switch": f"dvs-{inv.vcenters[h['vc']]['datacenter'].lower()}",
                "PCI": f"0000:18:00.{n}",
                "WakeOn": "False",
            }


def _vSwitch(inv: Inventory) -> Iterator[dict]:
    for h in inv.hosts:
        yield _host_base(inv, h) | {
            "Switch": "vSwitch0",
            "# Ports": 9216.0,
            "Free Ports": 9210.0,
            "MTU": 1500.0,
            "Promiscuous Mode": "False",
            "Mac Changes": "False",
            "Forged Transmits": "False",
            "Policy": "loadbalance_srcid",
        }


def _vPort(inv: Inventory) -> Iterator[dict]:
    for h in inv.hosts:
        for pg in ("Management Network", "VM Network"):
            yield _host_base(inv, h) | {
                "Port Group": pg,
                "Switch": "vSwitch0",
                "VLAN": "0",
                "Promiscuous Mode": "False",
                "Policy": "loadbalance_srcid",
            }


def _dvSwitch(inv: Inventory) -> Iterator[dict]:
    for v, vc in enumerate(inv.vcenters):
        members = [h["name"] for h in inv.hosts if h["vc"] == v]
        yield {
            "Switch": f"dvs-{vc['datacenter'].lower()}",
            "Datacenter": vc["datacenter"],
            "Name": "DVS",
            "Vendor": "VMware, Inc.",
            "Version": "8.0.0",
            "Created": datetime(2023, 2, 1, 10, 0),
            "Host members": ", ".join(members),
            "Max Ports": 2147483647.0,
            "# VMs": float(sum(1 for vm in inv.vms if vm["vc"] == v)),
            "Max MTU": 9000.0,
            "Object ID": f"dvs-{100 + v}",
            **_vc(inv, v),
        }


def _dvPort(inv: Inventory) -> Iterator[dict]:
    for v, vc in enumerate(inv.vcenters):
        switch = f"dvs-{vc['datacenter'].lower()}"
        yield {
            "Port": f"{switch}-DVUplinks",
            "Switch": switch,
            "Type": "earlyBinding",
            "# Ports": 8.0,
            "Object ID": f"dvportgroup-{2900 + v}",
            **_vc(inv, v),
        }
        for pg in inv.portgroups:
            if pg["vc"] == v:
                yield {
                    "Port": pg["name"],
                    "Switch": switch,
                    "Type": "earlyBinding",
                    "# Ports": 128.0,
                    "VLAN": str(pg["vlan"]),
                    "Speed": 10.0,
                    "Full Duplex": "False",
                    "Blocked": "False",
                    "Policy": "loadbalance_srcid",
                    "Object ID": pg["moref"],
                    **_vc(inv, v),
                }


def _vSC_VMK(inv: Inventory) -> Iterator[dict]:
    for k, h in enumerate(inv.hosts):
        yield _host_base(inv, h) | {
            "Port Group": "Management Network",
            "Device": "vmk0",
            "DHCP": "False",
            "IP Address": f"10.19.{k // 250}.{k % 250 + 1}",
            "Subnet mask": "255.255.0.0",
            "Gateway": "10.19.255.254",
            "MTU": 1500.0,
        }


def _vDatastore(inv: Inventory) -> Iterator[dict]:
    for d in inv.datastores:
        cluster = inv.clusters[d["cluster"]]
        hosts = [inv.hosts[h]["name"] for h in cluster["hosts"]]
        prov = sum(sum(x["capacity_mib"] for x in inv.vms[i]["disks"]) for i in d["vms"])
        used = prov * 0.5
        cap = float(d["capacity_mib"])
        yield {
            "Name": d["name"],
            "Config status": "green",
            "Address": d["naa"],
            "Accessible": "True",
            "Type": "VMFS",
            "# VMs total": float(len(d["vms"])),
            "# VMs": float(len(d["vms"])),
            "Capacity MiB": cap,
            "Provisioned MiB": prov,
            "In Use MiB": used,
            "Free MiB": cap - used,
            "Free %": float(round(100 * (cap - used) / cap)),
            "SIOC enabled": "False",
            "SIOC Threshold": 30.0,
            "# Hosts": float(len(hosts)),
            "Hosts": ", ".join(hosts),
            "Block size": 1.0,
            "# Extents": 1.0,
            "Major Version": 6.0,
            "Version": "6.82",
            "VMFS Upgradeable": "False",
            "MHA": "True",
            "URL": f"ds:///vmfs/volumes/{d['uuid']}/",
            "Object ID": d["moref"],
            **_vc(inv, d["vc"]),
        }


def _vLicense(inv: Inventory) -> Iterator[dict]:
    for v in range(len(inv.vcenters)):
        cores = sum(h["sockets"] * h["cores_per_cpu"] for h in inv.hosts if h["vc"] == v)
        yield {
            "Name": "VMware vSphere 8 Enterprise Plus",
            "Key": f"XXXXX-XXXXX-XXXXX-XXXXX-{v:05d}",
            "Cost Unit": "cpuCore:16core",
            "Total": float(cores),
            "Used": float(cores),
            "Features": "vMotion, DRS, HA",
            **_vc(inv, v),
        }


def _vFileInfo(inv: Inventory) -> Iterator[dict]:
    yield {
        "Friendly Path Name": "This tab page is empty when GetFileInfo option is not set in preferences "
        "or when using the CLI the switch -GetFileInfo is not passed. "
    }


def _vMetaData(inv: Inventory) -> Iterator[dict]:
    for vc in inv.vcenters:
        yield {
            "RVTools major version": 4.7,
            "RVTools version": "4.7.1.4",
            "xlsx creation datetime": EXPORT_AT,
            "Server": vc["name"],
        }


def _empty(inv: Inventory) -> Iterator[dict]:
    return iter(())


_SHEETS = {
    name[1:]: fn for name, fn in list(globals().items()) if name.startswith("_v") or name.startswith("_dv")
}


def infra_records(inv: Inventory, sheet: str) -> Iterator[dict]:
    """Rows (column -> value) of the infrastructure ``sheet``; sheets the sample leaves empty give none."""
    return _SHEETS.get(sheet, _empty)(inv)
