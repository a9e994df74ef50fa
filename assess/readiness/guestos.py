"""Guest OS support tiers on KubeVirt, from the OS names vSphere and VMware Tools report.

Tiers, best first: ``certified`` (RHEL 7-10, Windows 10/11, Windows Server 2016-2025: certified
guests of OpenShift Virtualization), ``vendor`` (the OS vendor supports it on KVM: SLES 12/15,
Oracle Linux 7-9), ``community`` (runs on KVM with in-kernel virtio, nobody certifies it:
Ubuntu, Debian, Rocky, Alma, Fedora, CentOS Stream, generic Linux with a 4.x+ kernel),
``32bit``, ``end_of_life`` (Windows 2000-2012, XP-8, CentOS 4-8, RHEL 2-6, SLES <= 11, ...)
and ``unsupported`` (not identifiable or not convertible: "Other 2.6.x Linux", Photon OS,
appliances, BSD, Solaris). ``unknown`` when the source names no OS.

Each name is classified once per distinct value, then mapped back: O(distinct names).
"""

from __future__ import annotations

import re

import pandas as pd

TIERS = ("certified", "vendor", "community", "32bit", "end_of_life", "unsupported", "unknown")
#: Tiers that make the unsupported / end-of-life rules fire.
BAD_TIERS = ("32bit", "end_of_life", "unsupported")

def _tier_by_version(good: set[str], vendor: set[str] = frozenset()):
    def pick(version: str) -> str:
        if version in good:
            return "certified"
        if version in vendor:
            return "vendor"
        return "end_of_life"
    return pick


# (pattern on the lower-cased name, family, distro, tier or a version->tier function, upgrade)
_RULES: list[tuple[re.Pattern, str, str, object, str]] = [
    (re.compile(r"windows server (2016|2019|2022|2025)"), "windows", "Windows Server", "certified", ""),
    (re.compile(r"windows (10|11)\b"), "windows", "Windows", "certified", ""),
    (re.compile(r"windows server (2012)"), "windows", "Windows Server", "end_of_life",
     "Upgrade in place to Windows Server 2019 or 2022 (certified on KubeVirt)"),
    (re.compile(r"windows (?:server )?(2008|2003|2000|nt|xp|vista|7|8)\b"), "windows", "Windows",
     "end_of_life", "Rebuild or upgrade to Windows Server 2022 / Windows 11 (certified on KubeVirt)"),
    (re.compile(r"windows"), "windows", "Windows", "unsupported",
     "Identify the Windows release and set the VM's guest OS type to it"),
    (re.compile(r"red hat enterprise linux (\d+)"), "linux", "RHEL",
     _tier_by_version({"7", "8", "9", "10"}),
     "Upgrade in place with Leapp (RHEL 6 -> 7 with the Preupgrade Assistant) to RHEL 8 or 9"),
    (re.compile(r"centos stream"), "linux", "CentOS Stream", "community",
     "Convert to RHEL with convert2rhel"),
    (re.compile(r"centos (\d+(?:/\d+)*)"), "linux", "CentOS", "end_of_life",
     "Convert to RHEL with convert2rhel (CentOS 7 -> RHEL 7, CentOS 8 -> RHEL 8), then upgrade "
     "with Leapp; CentOS 4-6 has no in-place path: rebuild on RHEL 9"),
    (re.compile(r"oracle linux (\d+)"), "linux", "Oracle Linux",
     _tier_by_version(set(), {"7", "8", "9"}),
     "Convert to RHEL with convert2rhel or upgrade to Oracle Linux 8/9 with Leapp"),
    (re.compile(r"suse linux enterprise (\d+)"), "linux", "SLES",
     _tier_by_version(set(), {"12", "15"}), "Upgrade to SLES 15 SP5 or later"),
    (re.compile(r"(?:rocky|alma|fedora|ubuntu|debian|opensuse)"), "linux", "", "community", ""),
    (re.compile(r"amazon linux"), "linux", "Amazon Linux", "community",
     "Rebuild on RHEL 8 or 9 (Amazon Linux is built for EC2)"),
    (re.compile(r"other (?:[4-9]\.x|\d{2}\.x)(?: or later)? linux"), "linux", "Other Linux", "community",
     "Identify the distribution and set the VM's guest OS type to it"),
    (re.compile(r"photon"), "linux", "Photon OS", "unsupported",
     "Rebuild the workload on a supported distribution (Photon OS is not supported by MTV)"),
    (re.compile(r"linux"), "linux", "Other Linux", "unsupported",
     "Identify the distribution; a 2.6/3.x kernel generic Linux is not convertible as is: "
     "rebuild on RHEL 9"),
]


def classify_name(name: str | None) -> dict:
    """Family, distro, version, tier, 32-bit flag and upgrade path of one OS name."""
    text = (name or "").strip().lower()
    if not text:
        return dict(family="unknown", distro="", version="", tier="unknown", bits32=False, upgrade="")
    bits32 = "32-bit" in text
    for pattern, family, distro, tier, upgrade in _RULES:
        match = pattern.search(text)
        if not match:
            continue
        version = match.group(1) if match.groups() else ""
        tier = tier(version) if callable(tier) else tier
        if distro == "":
            distro = match.group(0).title()
        if tier == "certified":
            upgrade = ""
        if bits32 and TIERS.index(tier) < TIERS.index("32bit"):
            tier = "32bit"
            upgrade = upgrade or "Reinstall as 64-bit: KubeVirt preferences target 64-bit guests"
        return dict(family=family, distro=distro, version=version, tier=tier, bits32=bits32,
                    upgrade=upgrade)
    return dict(family="other", distro=text, version="", tier="unsupported", bits32=bits32,
                upgrade="Rebuild the workload on a supported OS (appliance or non-Linux/Windows guest)")


def _lookup(names: pd.Series) -> pd.DataFrame:
    uniques = names.fillna("").drop_duplicates()
    table = pd.DataFrame([classify_name(n) for n in uniques], index=uniques.to_numpy())
    return table.reindex(names.fillna("").to_numpy()).set_axis(names.index)


def _differ(conf: pd.DataFrame, tools: pd.DataFrame) -> pd.Series:
    """True where the readings name different distros, or a version outside the configured list.

    vSphere guest types name version lists ("CentOS 4/5/6/7"); tools reporting CentOS 7 agrees.
    """
    pairs = pd.DataFrame({"cd": conf["distro"], "cv": conf["version"], "td": tools["distro"],
                          "tv": tools["version"]})
    uniq = pairs.drop_duplicates()
    differs = [cd != td or (tv != cv and tv not in cv.split("/"))
               for cd, cv, td, tv in uniq.itertuples(index=False)]
    lookup = uniq.assign(differ=differs)
    return pairs.merge(lookup, how="left", on=["cd", "cv", "td", "tv"])["differ"].set_axis(pairs.index)


def classify(vms: pd.DataFrame) -> pd.DataFrame:
    """Per VM (index ``vm_id``): both OS readings, the worse tier, family and disagreement.

    Columns: ``os_config``, ``os_tools``, ``tier`` (worse of the two readings), ``tier_config``,
    ``tier_tools``, ``family`` (windows, linux, other, unknown; the tools reading when known),
    ``os_name`` (tools reading, else config), ``distro``, ``version``, ``upgrade``, ``disagree`` (both
    known and naming different OS families/versions), ``efi_preferred`` (KubeVirt's preference
    for this OS prefers EFI), ``needs_vtpm`` (Windows 11 / Server 2022 / 2025 preferences add a
    persistent vTPM).
    """
    conf, tools = _lookup(vms["guest_os_config"]), _lookup(vms["guest_os_tools"])
    rank = {t: i for i, t in enumerate(TIERS)}
    conf_rank = conf["tier"].map(rank).where(conf["tier"] != "unknown", -1)
    tools_rank = tools["tier"].map(rank).where(tools["tier"] != "unknown", -1)
    worse = conf["tier"].where(conf_rank >= tools_rank, tools["tier"])
    tools_known = tools["tier"] != "unknown"
    pick = lambda col: tools[col].where(tools_known, conf[col])  # noqa: E731
    name = vms["guest_os_tools"].where(tools_known.to_numpy(), vms["guest_os_config"]).fillna("")
    disagree = (conf["tier"] != "unknown") & tools_known & _differ(conf, tools)
    upgrade = tools["upgrade"].where(tools["upgrade"] != "", conf["upgrade"])
    lowered = name.str.lower()
    efi = lowered.str.contains(
        r"red hat enterprise linux (?:9|10)|windows (?:10|11)|windows server (?:2016|2019|2022|2025)",
        regex=True,
    )
    vtpm = lowered.str.contains(r"windows 11|windows server (?:2022|2025)", regex=True)
    out = pd.DataFrame({
        "os_config": vms["guest_os_config"].fillna("").to_numpy(),
        "os_tools": vms["guest_os_tools"].fillna("").to_numpy(),
        "tier": worse.to_numpy(),
        "tier_config": conf["tier"].to_numpy(),
        "tier_tools": tools["tier"].to_numpy(),
        "family": pick("family").to_numpy(),
        "os_name": name.to_numpy(),
        "distro": pick("distro").to_numpy(),
        "version": pick("version").to_numpy(),
        "upgrade": upgrade.to_numpy(),
        "disagree": disagree.to_numpy(),
        "efi_preferred": efi.to_numpy(),
        "needs_vtpm": vtpm.to_numpy(),
    }, index=pd.Index(vms["vm_id"], name="vm_id"))
    return out
