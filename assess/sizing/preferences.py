"""KubeVirt preferences: the table (from a bundle file) and the one matching each VM's guest OS.

A preference fills only the VM fields left unset, so a BIOS VM mapped to a preference that
prefers EFI (``rhel.9``, ``windows.2k22``...) boots EFI unless the VM sets BIOS explicitly: the
reason column says so, and the EFI VM mapped to a preference without EFI likewise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from assess.model.errors import AssessError
from assess.sizing.instancetypes import DATA, bundle_documents, quantity_bytes

PREFERENCES_FILE = DATA / "common-preferences.json"
PREFERENCE_KINDS = {"VirtualMachineClusterPreference", "VirtualMachinePreference"}
COLUMNS = ["name", "os_type", "architecture", "efi", "secure_boot", "min_vcpus", "min_memory_mib"]

#: Guest OS text (tools, config, guestId; lower case) -> preference, first match wins. Windows maps
#: to the ``.virtio`` variants because virt-v2v installs the virtio drivers during migration.
OS_RULES: list[tuple[str, str]] = [
    (r"windows.*server.*2025|windows2022srvnext|windows2025", "windows.2k25.virtio"),
    (r"windows.*server.*2022|windows2019srvnext", "windows.2k22.virtio"),
    (r"windows.*server.*2019|windows2019srv", "windows.2k19.virtio"),
    (r"windows.*server.*2016|windows9server", "windows.2k16.virtio"),
    (r"windows.*server.*2012|windows8server", "windows.2k12.virtio"),
    (r"windows.*server.*2008|winlonghorn|windows7server", "windows.2k8.virtio"),
    (r"windows.*server.*2003|winnet", "windows.2k3"),
    (r"windows 11|windows11", "windows.11.virtio"),
    (r"windows 10|windows9_64|windows9guest", "windows.10.virtio"),
    (r"windows 7|windows7", "windows.7.virtio"),
    (r"windows xp|winxp", "windows.xp"),
    (r"red hat enterprise linux 10|rhel10", "rhel.10"),
    (r"red hat enterprise linux 9|rhel9", "rhel.9"),
    (r"red hat enterprise linux 8|rhel8", "rhel.8"),
    (r"red hat enterprise linux 7|rhel7", "rhel.7"),
    (r"centos stream 10|centos.?stream.?10", "centos.stream10"),
    (r"centos stream 9|centos.?stream.?9|centos9", "centos.stream9"),
    (r"centos 8|centos8", "rhel.8"),
    (r"centos 7|centos7|centos 6|centos6", "rhel.7"),
    (r"oracle linux|oraclelinux", "oraclelinux"),
    (r"opensuse.*tumbleweed", "opensuse.tumbleweed"),
    (r"opensuse", "opensuse.leap"),
    (r"suse linux enterprise|sles", "sles"),
    (r"ubuntu", "ubuntu"),
    (r"debian", "debian"),
    (r"fedora", "fedora"),
    (r"alpine", "alpine"),
    (r"linux|other.*26xlinux|other.*linux", "linux"),
]
FALLBACK = "legacy"


def preferences_from_bundle(path: Path) -> pd.DataFrame:
    """The preference table of a YAML bundle of (cluster) preferences, one row per object."""
    rows = []
    for doc in bundle_documents(path):
        if doc.get("kind") not in PREFERENCE_KINDS:
            continue
        spec, labels = doc.get("spec", {}), doc["metadata"].get("labels", {})
        efi = (spec.get("firmware") or {}).get("preferredEfi")
        required = spec.get("requirements") or {}
        rows.append({
            "name": doc["metadata"]["name"],
            "os_type": labels.get("instancetype.kubevirt.io/os-type", ""),
            "architecture": required.get("architecture", ""),
            "efi": efi is not None,
            "secure_boot": bool((efi or {}).get("secureBoot", False)),
            "min_vcpus": int((required.get("cpu") or {}).get("guest", 1)),
            "min_memory_mib": quantity_bytes((required.get("memory") or {}).get("guest", 0)) / 2**20,
        })
    if not rows:
        raise AssessError(f"{path}: no VirtualMachineClusterPreference objects found")
    return _typed(pd.DataFrame(rows))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[COLUMNS].astype({
        "name": "string", "os_type": "string", "architecture": "string", "efi": "bool",
        "secure_boot": "bool", "min_vcpus": "int64", "min_memory_mib": "float64",
    })
    return frame.sort_values("name", ignore_index=True)


def load_preferences(path: Path | str | None = None) -> pd.DataFrame:
    """The preference table: the packaged common-instancetypes v1.7.0 one, or the user's file."""
    path = Path(path) if path else PREFERENCES_FILE
    if path.suffix.lower() != ".json":
        return preferences_from_bundle(path)
    try:
        return _typed(pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["preferences"]))
    except (OSError, ValueError, KeyError) as exc:
        raise AssessError(
            f"{path}: not a preference table (expected JSON with a 'preferences' list of "
            f"{', '.join(COLUMNS)}): {exc}"
        ) from exc


def preference_for_os(text: str) -> str:
    """The preference name for a guest OS description (``legacy`` when nothing matches)."""
    lowered = (text or "").lower()
    for pattern, name in OS_RULES:
        if re.search(pattern, lowered):
            return name
    return FALLBACK


def choose_preferences(vms: pd.DataFrame, table: pd.DataFrame, firmware: pd.Series | None = None
                       ) -> pd.DataFrame:
    """Preference per VM from its guest OS, with the firmware check.

    Args:
        vms: canonical ``vms`` table (guest_os_tools, guest_os_config, guest_id, firmware,
            secure_boot).
        table: preference table from :func:`load_preferences`.
        firmware: optional vm_id -> ``bios|efi`` (readiness' verdict) overriding ``vms.firmware``.

    Returns:
        ``vm_id, preference, preference_reason, pref_min_vcpus, pref_min_memory_mib``.
    """
    known = table.set_index("name")
    text = (
        vms["guest_os_tools"].fillna("").astype(str) + " | " + vms["guest_os_config"].fillna("").astype(str)
        + " | " + vms["guest_id"].fillna("").astype(str)
    )
    fw = vms["firmware"].astype("string").str.lower()
    if firmware is not None:
        fw = vms["vm_id"].map(firmware).astype("string").str.lower().fillna(fw)
    by_text = {t: preference_for_os(t) for t in set(text)}  # an estate has few distinct OS texts
    prefs = known.to_dict("index")
    rows = []
    for vm_id, os_text, vm_fw in zip(vms["vm_id"], text, fw):
        name = by_text[os_text]
        if name not in prefs:
            name = FALLBACK if FALLBACK in prefs else None
        reason = "matched on guest OS" if name != FALLBACK else "guest OS not recognised: legacy devices"
        if name is None:
            rows.append((vm_id, pd.NA, "no preference in the table matches this guest OS", 1, 0.0))
            continue
        pref = prefs[name]
        if pd.isna(vm_fw):
            reason += "; source firmware unknown"
        elif vm_fw == "bios" and pref["efi"]:
            reason += (f"; {name} prefers EFI but the VM boots BIOS: set "
                       "spec.template.spec.domain.firmware.bootloader.bios in the VM")
        elif vm_fw == "efi" and not pref["efi"]:
            reason += (f"; the VM boots EFI but {name} sets no firmware: set "
                       "spec.template.spec.domain.firmware.bootloader.efi in the VM")
        rows.append((vm_id, name, reason, int(pref["min_vcpus"]), float(pref["min_memory_mib"])))
    out = pd.DataFrame(rows, columns=["vm_id", "preference", "preference_reason", "pref_min_vcpus",
                                      "pref_min_memory_mib"])
    return out.astype({"preference": "string", "preference_reason": "string"})
