"""VM facts derived from the canonical tables, computed once so every stage and the report agree.

- :func:`vm_storage`: a VM's disk size in GiB and where it came from (``storage_source``):
  the sum of its ``disks`` rows (``vDisk``), else the VM's provisioned size (``vInfo
  provisioned``), else its in-use size (``vInfo in use``), else ``none`` (size unknown, NaN).
- :func:`vm_os`: family, distribution and version parsed from the OS names vSphere and VMware
  Tools report (the tools reading when it names an OS, else the configured one).

Both are pure functions of the estate (or its ``vms`` table) returning one row per VM in
``vms`` order, indexed by ``vm_id``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from assess.model.estate import Estate

#: ``storage_source`` values, best first.
STORAGE_SOURCES = ("vDisk", "vInfo provisioned", "vInfo in use", "none")

#: Families ``os_family`` takes.
OS_FAMILIES = ("windows", "linux", "other", "unknown")

# (pattern on the lower-cased OS name, family, distro); group 1, when present, is the version.
_OS_PATTERNS: tuple[tuple[re.Pattern, str, str], ...] = tuple(
    (re.compile(p), family, distro) for p, family, distro in (
        (r"windows server (\d{4})", "windows", "Windows Server"),
        (r"windows (10|11|xp|vista|7|8|nt|2000|2003|2008)\b", "windows", "Windows"),
        (r"windows", "windows", "Windows"),
        (r"red hat enterprise linux (\d+)", "linux", "RHEL"),
        (r"red hat enterprise linux", "linux", "RHEL"),
        (r"centos stream(?: (\d+))?", "linux", "CentOS Stream"),
        (r"centos (\d+(?:/\d+)*)", "linux", "CentOS"),
        (r"centos", "linux", "CentOS"),
        (r"oracle linux (\d+)", "linux", "Oracle Linux"),
        (r"oracle linux", "linux", "Oracle Linux"),
        (r"suse linux enterprise(?: server)? (\d+)", "linux", "SLES"),
        (r"opensuse(?: leap)?(?: (\d+(?:\.\d+)?))?", "linux", "openSUSE"),
        (r"suse linux enterprise", "linux", "SLES"),
        (r"debian(?: gnu/linux)?(?: (\d+))?", "linux", "Debian"),
        (r"ubuntu(?: linux)?(?: (\d+\.\d+))?", "linux", "Ubuntu"),
        (r"fedora(?: linux)?(?: (\d+))?", "linux", "Fedora"),
        (r"amazon linux(?: (2023|2))?", "linux", "Amazon Linux"),
        (r"rocky(?: linux)?(?: (\d+))?", "linux", "Rocky Linux"),
        (r"alma(?:linux)?(?: (\d+))?", "linux", "AlmaLinux"),
        (r"photon", "linux", "Photon OS"),
        (r"other ((?:[4-9]|\d{2})\.x)(?: or later)? linux", "linux", "Other Linux"),
        (r"linux", "linux", "Other Linux"),
    )
)


def parse_os_name(name: str | None) -> dict:
    """Family, distro, version and 32-bit flag of one OS name ("Debian GNU/Linux 7 (64-bit)").

    ``version`` is empty when the name carries none ("Ubuntu Linux (64-bit)"); ``family`` is
    ``unknown`` for an empty name and ``other`` for a name that is neither Windows nor Linux.

    >>> parse_os_name("Debian GNU/Linux 7 (64-bit)")["version"]
    '7'
    """
    text = (name or "").strip().lower()
    if not text:
        return dict(family="unknown", distro="", version="", bits32=False)
    bits32 = "32-bit" in text
    for pattern, family, distro in _OS_PATTERNS:
        match = pattern.search(text)
        if match:
            version = (match.group(1) or "") if match.groups() else ""
            return dict(family=family, distro=distro, version=version, bits32=bits32)
    return dict(family="other", distro=(name or "").strip(), version="", bits32=bits32)


def parse_os_names(names: pd.Series) -> pd.DataFrame:
    """:func:`parse_os_name` for every value of ``names`` (one call per distinct name)."""
    filled = names.astype(object).where(names.notna(), "")
    uniques = pd.unique(filled.to_numpy())
    table = pd.DataFrame([parse_os_name(n) for n in uniques], index=uniques,
                         columns=["family", "distro", "version", "bits32"])
    return table.reindex(filled.to_numpy()).set_axis(names.index)


def vm_os(vms: pd.DataFrame) -> pd.DataFrame:
    """Per VM (index ``vm_id``): ``os_name``, ``os_family``, ``os_distro``, ``os_version``.

    The VMware Tools reading is used when it names an OS (it is what runs), else the
    configured guest OS type.
    """
    index = pd.Index(vms["vm_id"].astype(object), name="vm_id")
    tools = vms["guest_os_tools"].astype("string").str.strip()
    config = vms["guest_os_config"].astype("string").str.strip()
    name = tools.where(tools.fillna("") != "", config).fillna("")
    parsed = parse_os_names(name)
    return pd.DataFrame({
        "os_name": name.to_numpy(),
        "os_family": parsed["family"].to_numpy(),
        "os_distro": parsed["distro"].to_numpy(),
        "os_version": parsed["version"].to_numpy(),
    }, index=index).astype("string")


def vm_storage(estate: Estate) -> pd.DataFrame:
    """Per VM (index ``vm_id``): ``disk_gib`` and ``storage_source``.

    The sum of the VM's disk capacities when it has disk rows with a capacity; else vInfo's
    provisioned size; else its in-use size (a lower bound: thin disks hold less than their
    capacity); else NaN with ``storage_source`` ``none``.
    """
    vms = estate["vms"]
    index = pd.Index(vms["vm_id"].astype(object), name="vm_id")
    disks = estate["disks"]
    by_disk = (disks.assign(vm_id=disks["vm_id"].astype(object))
               .groupby("vm_id")["capacity_mib"].sum(min_count=1).reindex(index))
    provisioned = pd.Series(vms["provisioned_mib"].to_numpy(dtype=float), index=index)
    in_use = pd.Series(vms["in_use_mib"].to_numpy(dtype=float), index=index)
    choices = [by_disk.notna(), provisioned.notna(), in_use.notna()]
    mib = np.select(choices, [by_disk, provisioned, in_use], np.nan)
    source = np.select(choices, list(STORAGE_SOURCES[:3]), STORAGE_SOURCES[3])
    return pd.DataFrame({"disk_gib": mib / 1024, "storage_source": source}, index=index).astype(
        {"disk_gib": "float64", "storage_source": "string"})


def vm_facts(estate: Estate) -> pd.DataFrame:
    """:func:`vm_storage` and :func:`vm_os` side by side, one row per VM (index ``vm_id``)."""
    return vm_storage(estate).join(vm_os(estate["vms"]))
