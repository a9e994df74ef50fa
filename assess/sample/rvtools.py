"""Write the sample inventory as an RVTools 4.7.1.4 export (same sheets, columns and value styles).

Value styles follow the real export: booleans are the strings "True"/"False", CBT and EnableUUID
are "TRUE" or empty, CPU readiness is a string like "0%", dates are Excel date cells, keys such as
"Disk Key" and "VMRef" are text, and counts and sizes are numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from assess.sample.infra import infra_records
from assess.sample.inventory import DOMAIN, EXPORT_AT, Inventory
from assess.sample.layout import SHEETS, sheet_columns
from assess.sample.xlsx import Sheet, write_xlsx

#: Custom attributes defined on the sample vCenters (columns between Annotation and Datacenter).
ATTRIBUTES = ["app", "env", "owner"]
VC_BUILD = ("VMware vCenter Server 8.0.2 build-24321653", "8.0.2.0")


def _tf(flag: bool) -> str:
    return "True" if flag else "False"


def _rows(columns: list[str], records: Iterator[dict]) -> Iterator[list]:
    for record in records:
        yield [record.get(c, "") for c in columns]


class _Writer:
    def __init__(self, inv: Inventory) -> None:
        self.inv = inv

    def vm_common(self, vm: dict) -> dict:
        inv = self.inv
        vc = inv.vcenters[vm["vc"]]
        cluster = inv.clusters[vm["cluster"]]
        return {
            "VM": vm["name"],
            "Powerstate": vm["power"],
            "Template": _tf(vm["template"]),
            "SRM Placeholder": _tf(vm["srm"]),
            "Annotation": vm["annotation"],
            "app": vm["app_tag"],
            "env": vm["env"],
            "owner": vm["owner"],
            "Datacenter": vc["datacenter"],
            "Cluster": cluster["name"],
            "Host": inv.hosts[vm["host"]]["name"],
            "Folder": f"/{vc['datacenter']}/{vm['env'].upper()}",
            "OS according to the configuration file": vm["os_config"],
            "OS according to the VMware Tools": vm["os_tools"] if vm["power"] == "poweredOn" else "",
            "OS according to the VMware tools": vm["os_tools"] if vm["power"] == "poweredOn" else "",
            "VMRef": str(10_000 + vm["index"]),
            "VM ID": vm["moref"],
            "VM UUID": vm["instance_uuid"],
            "VI SDK Server": vc["name"],
            "VI SDK UUID": vc["uuid"],
        }

    def vm_records(self, sheet: str) -> Iterator[dict]:
        for vm in self.inv.vms:
            base = self.vm_common(vm)
            yield from getattr(self, f"_{sheet}")(vm, base)

    def _vInfo(self, vm: dict, base: dict) -> Iterator[dict]:
        on = vm["power"] == "poweredOn"
        ds = self.inv.datastores[vm["datastore"]]["name"]
        folder = f"[{ds}] {vm['name']}/"
        capacity = sum(d["capacity_mib"] for d in vm["disks"])
        used = sum(p["used_mib"] for p in vm["partitions"]) + vm["memory_mib"]
        rec = dict(base)
        rec.update(
            {
                "Config status": "green",
                "DNS Name": f"{vm['name'].lower().split()[0]}.{DOMAIN}" if on else "",
                "Connection state": "connected",
                "Guest state": "running" if on else "notRunning",
                "Heartbeat": "green" if on else "gray",
                "Consolidation Needed": "False",
                "PowerOn": vm["powered_on"],
                "Suspend Interval": "0",
                "Creation date": vm["created"],
                "Change Version": vm["changed"],
                "CPUs": float(vm["vcpus"]),
                "Overall Cpu Readiness": f"{vm['index'] % 2}%" if on else "",
                "Memory": float(vm["memory_mib"]),
                "Active Memory": float(vm["memory_mib"] // 5) if on else 0.0,
                "NICs": float(len(vm["nics"])),
                "Disks": float(len(vm["disks"])),
                "Total disk capacity MiB": capacity,
                "Fixed Passthru HotPlug": _tf(vm["fixed_passthru"]),
                "min Required EVC Mode Key": "intel-icelake",
                "Latency Sensitivity": "normal",
                "Op Notification Timeout": 0.0,
                "EnableUUID": "",
                "CBT": vm["cbt"],
                "Primary IP Address": vm["ip"],
                "Network #1": vm["nics"][0]["network"],
                "Num Monitors": 1.0,
                "Video Ram KiB": 8192.0,
                "Resource pool": f"/{base['Datacenter']}/{base['Cluster']}/Resources",
                "Folder ID": f"group-v{10 + ['prod', 'test', 'dev'].index(vm['env'])}",
                "DAS protection": "True",
                "FT State": "notConfigured",
                "FT Latency": "gray",
                "FT Bandwidth": -1.0,
                "FT Sec. Latency": -1.0,
                "Provisioned MiB": capacity + vm["memory_mib"],
                "In Use MiB": float(round(used)),
                "Unshared MiB": float(round(used)),
                "HA Restart Priority": "medium",
                "HA Isolation Response": "none",
                "HA VM Monitoring": "vmMonitoringDisabled",
                "Boot Required": "False",
                "Boot delay": 0.0,
                "Boot retry delay": 10000.0,
                "Boot retry enabled": "False",
                "Boot BIOS setup": "False",
                "Reboot PowerOff": "False",
                "EFI Secure boot": _tf(vm["secure_boot"]),
                "Firmware": vm["firmware"],
                "HW version": float(vm["hw_version"]),
                "HW upgrade status": "none",
                "HW upgrade policy": "never",
                "Path": f"{folder}{vm['name']}.vmx",
                "Log directory": folder,
                "Snapshot directory": folder,
                "Suspend directory": folder,
                "Customization Info": "IDLE" if on else "",
                "Guest Detailed Data": _guest_detail(vm) if on else "",
                "SMBIOS UUID": vm["bios_uuid"],
                "VI SDK Server type": VC_BUILD[0],
                "VI SDK API Version": VC_BUILD[1],
            }
        )
        if vm["template"]:
            rec["Folder"] = ""
        yield rec

    def _vCPU(self, vm: dict, base: dict) -> Iterator[dict]:
        mhz = self.inv.hosts[vm["host"]]["mhz"]
        yield base | {
            "CPUs": float(vm["vcpus"]),
            "Sockets": float(vm["vcpus"] // vm["cores_ps"]),
            "Cores p/s": float(vm["cores_ps"]),
            "Max": float(vm["vcpus"] * mhz),
            "Overall": float(vm["vcpus"] * 120) if vm["power"] == "poweredOn" else 0.0,
            "Level": "normal",
            "Shares": float(vm["vcpus"] * 1000),
            "Reservation": 0.0,
            "Entitlement": float(vm["vcpus"] * 800),
            "DRS Entitlement": float(vm["vcpus"] * 100),
            "Limit": -1.0,
            "Hot Add": _tf(vm["cpu_hot_add"]),
            "Hot Remove": "False",
            "Numa Hotadd Exposed": "False",
        }

    def _vMemory(self, vm: dict, base: dict) -> Iterator[dict]:
        mib = float(vm["memory_mib"])
        on = vm["power"] == "poweredOn"
        yield base | {
            "Size MiB": mib,
            "Memory Reservation Locked To Max": _tf(vm["mem_locked"]),
            "Overhead": 0.0,
            "Max": mib,
            "Consumed": mib * 0.7 if on else 0.0,
            "Consumed Overhead": 60.0 if on else 0.0,
            "Private": mib * 0.7 if on else 0.0,
            "Shared": 0.0,
            "Swapped": 0.0,
            "Ballooned": 0.0,
            "Active": mib * 0.2 if on else 0.0,
            "Entitlement": mib,
            "DRS Entitlement": mib * 0.4,
            "Level": "normal",
            "Shares": mib * 10,
            "Reservation": mib if vm["mem_locked"] else 0.0,
            "Limit": -1.0,
            "Hot Add": _tf(vm["mem_hot_add"]),
        }

    def _vDisk(self, vm: dict, base: dict) -> Iterator[dict]:
        ds = self.inv.datastores[vm["datastore"]]["name"]
        for d in vm["disks"]:
            suffix = "" if d["key"] == 2000 else f"_{d['key'] - 2000}"
            yield base | {
                "Disk": d["label"],
                "Disk Key": str(d["key"]),
                "Disk UUID": _disk_uuid(vm, d),
                "Disk Path": ", ".join(d["mounts"]),
                "Capacity MiB": d["capacity_mib"],
                "Raw": _tf(d["raw"]),
                "Disk Mode": d["mode"],
                "Sharing mode": d["sharing"],
                "Thin": _tf(d["thin"]),
                "Eagerly Scrub": _tf(d["eager"]),
                "Split": "False",
                "Write Through": "False",
                "Level": "normal",
                "Shares": 1000.0,
                "Reservation": 0.0,
                "Limit": -1.0,
                "Controller": d["controller"],
                "Label": f"SCSI controller {d['bus']}",
                "SCSI Unit #": 7.0,
                "Unit #": float(d["unit"]),
                "Shared Bus": d["shared_bus"],
                "Path": d["file"] or f"[{ds}] {vm['name']}/{vm['name']}{suffix}.vmdk",
                "Raw LUN ID": d["lun"],
                "Raw Comp. Mode": d["compat"],
                "Internal Sort Column": f"{vm['name']} {d['key']}",
            }

    def _vPartition(self, vm: dict, base: dict) -> Iterator[dict]:
        if vm["power"] != "poweredOn":
            return
        for p in vm["partitions"]:
            free = p["capacity_mib"] - p["used_mib"]
            yield base | {
                "Disk Key": str(p["disk_key"]),
                "Disk": p["mount"],
                "Capacity MiB": p["capacity_mib"],
                "Consumed MiB": p["used_mib"],
                "Free MiB": free,
                "Free %": float(round(100 * free / p["capacity_mib"])),
                "Internal Sort Column": f"{vm['name']} {p['disk_key']}",
            }

    def _vNetwork(self, vm: dict, base: dict) -> Iterator[dict]:
        for n in vm["nics"]:
            yield base | {
                "NIC label": n["label"],
                "Adapter": n["adapter"],
                "Network": n["network"],
                "Switch": f"dvs-{base['Datacenter'].lower()}",
                "Connected": _tf(n["connected"]),
                "Starts Connected": "True",
                "Mac Address": n["mac"],
                "Type": "assigned",
                "IPv4 Address": n["ip"],
                "Direct Path IO": "True",
                "Internal Sort Column": f"{vm['name']} {n['label']}",
            }

    def _vCD(self, vm: dict, base: dict) -> Iterator[dict]:
        yield base | {
            "Device Node": "CD/DVD drive 1",
            "Connected": "False",
            "Starts Connected": "False",
            "Device Type": "Client Device",
        }

    def _vUSB(self, vm: dict, base: dict) -> Iterator[dict]:
        for u in vm["usb"]:
            yield base | {
                "Device Node": u["node"],
                "Device Type": u["type"],
                "Connected": "True",
                "Family": u["family"],
                "Speed": u["speed"],
                "EHCI enabled": "True",
                "Auto connect": "True",
                "Bus number": 1.0,
                "Unit number": 0.0,
            }

    def _vSnapshot(self, vm: dict, base: dict) -> Iterator[dict]:
        ds = self.inv.datastores[vm["datastore"]]["name"]
        for s in vm["snapshots"]:
            yield base | {
                "Name": s["name"],
                "Description": s["description"],
                "Date / time": s["at"],
                "Filename": f"[{ds}] {vm['name']}/{vm['name']}-Snapshot{s['number']}.vmsn",
                "Size MiB (vmsn)": 5.27,
                "Size MiB (total)": s["size_mib"],
                "Quiesced": _tf(s["quiesced"]),
                "State": vm["power"],
            }

    def _vTools(self, vm: dict, base: dict) -> Iterator[dict]:
        on = vm["power"] == "poweredOn"
        yield base | {
            "VM Version": float(vm["hw_version"]),
            "Tools": vm["tools"],
            "Tools Version": 0.0 if vm["tools"] == "toolsNotInstalled" else 12448.0,
            "Required Version": 12448.0,
            "Upgradeable": "No",
            "Upgrade Policy": "manual",
            "Sync time": "False",
            "App status": "none",
            "Heartbeat status": "appStatusGray",
            "Kernel Crash state": "False",
            "Operation Ready": _tf(on),
            "State change support": _tf(on),
            "Interactive Guest": "False",
        }


def _disk_uuid(vm: dict, disk: dict) -> str:
    tail = vm["instance_uuid"].replace("-", "")[-20:]
    return f"6000C29{disk['key'] % 10}-{tail[:4]}-{tail[4:8]}-{tail[8:12]}-{tail[12:20]}{disk['key']:04d}"


def _guest_detail(vm: dict) -> str:
    if vm["family"] == "windows":
        return f"familyName='Windows' prettyName='{vm['os_tools'].replace(' (64-bit)', '')}' bitness='64'"
    return (
        f"architecture='X86' bitness='64' distroVersion='{vm['os_detail']}' familyName='Linux' "
        f"prettyName='{vm['os_tools']}'"
    )


VM_SHEETS = (
    "vInfo",
    "vCPU",
    "vMemory",
    "vDisk",
    "vPartition",
    "vNetwork",
    "vCD",
    "vUSB",
    "vSnapshot",
    "vTools",
)


def write_rvtools(path: Path, inv: Inventory) -> dict[str, int]:
    """Write ``inv`` as an RVTools 4.7.1.4 xlsx export; return the data rows per sheet."""
    writer = _Writer(inv)

    def sheets() -> Iterator[Sheet]:
        for name in SHEETS:
            columns = sheet_columns(name, ATTRIBUTES)
            records = writer.vm_records(name) if name in VM_SHEETS else infra_records(inv, name)
            yield Sheet(name, columns, _rows(columns, records))

    return write_xlsx(path, sheets(), created=EXPORT_AT + timedelta(minutes=35))
