"""Guest OS support tiers on KubeVirt, from the OS names vSphere and VMware Tools report.

Tiers, best first: ``certified`` (RHEL 7-10, Windows 10/11, Windows Server 2016-2025: certified
guests of OpenShift Virtualization), ``vendor`` (the OS vendor supports it on KVM: SLES 12/15,
Oracle Linux 7-9), ``community`` (runs on KVM with in-kernel virtio, nobody certifies it:
Ubuntu, Debian, Rocky, Alma, Fedora, CentOS Stream, generic Linux with a 4.x+ kernel),
``32bit``, ``end_of_life`` (Windows 2000-2012, XP-8, CentOS 4-8, RHEL 2-6, SLES <= 11, and
community releases past the end of life recorded in ``data/os_end_of_life.json``, e.g.
Debian 7) and ``unsupported`` (not identifiable or not convertible: "Other 2.6.x Linux",
Photon OS, appliances, BSD, Solaris). ``unknown`` when the source names no OS.

Names are parsed by :func:`assess.model.derived.parse_os_name` (family, distro, version);
this module only rates them. Each distinct name is rated once: O(distinct names).
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd

from assess.model.derived import parse_os_name

TIERS = ("certified", "vendor", "community", "32bit", "end_of_life", "unsupported", "unknown")

_WIN_UPGRADE = "Rebuild or upgrade to Windows Server 2022 / Windows 11 (certified on KubeVirt)"
_RHEL_UPGRADE = "Upgrade in place with Leapp (RHEL 6 -> 7 with the Preupgrade Assistant) to RHEL 8 or 9"
_UPGRADES = {
    "Windows": "Identify the Windows release and set the VM's guest OS type to it",
    "CentOS Stream": "Convert to RHEL with convert2rhel",
    "CentOS": "Convert to RHEL with convert2rhel (CentOS 7 -> RHEL 7, CentOS 8 -> RHEL 8), then "
              "upgrade with Leapp; CentOS 4-6 has no in-place path: rebuild on RHEL 9",
    "Oracle Linux": "Convert to RHEL with convert2rhel or upgrade to Oracle Linux 8/9 with Leapp",
    "SLES": "Upgrade to SLES 15 SP5 or later",
    "Amazon Linux": "Rebuild on RHEL 8 or 9 (Amazon Linux is built for EC2)",
    "Photon OS": "Rebuild the workload on a supported distribution (Photon OS is not supported by MTV)",
}
_OTHER_LINUX = ("Identify the distribution; a 2.6/3.x kernel generic Linux is not convertible as "
                "is: rebuild on RHEL 9")
_COMMUNITY = {"Debian", "Ubuntu", "Fedora", "Amazon Linux", "openSUSE", "Rocky Linux", "AlmaLinux",
              "CentOS Stream"}


@cache
def end_of_life_dates() -> dict:
    """The end-of-life table (``releases``: distro -> version -> ISO date, with ``source``)."""
    return json.loads((Path(__file__).parent / "data" / "os_end_of_life.json").read_text())


def _community_tier(distro: str, version: str, as_of: date) -> tuple[str, str]:
    releases = end_of_life_dates()["releases"].get(distro, {})
    if not version or not releases:
        return "community", ""
    upgrade = f"Upgrade to a {distro} release still supported (see endoflife.date/{distro.lower()})"
    if version in releases:
        ended = date.fromisoformat(releases[version]) < as_of
        return ("end_of_life", upgrade + f"; {distro} {version} ended {releases[version]}") if ended \
            else ("community", "")
    try:
        older = float(version) < min(float(v) for v in releases)
    except ValueError:
        older = False
    return ("end_of_life", upgrade) if older else ("community", "")


def _vendor_tier(distro: str, version: str) -> tuple[str, str]:
    """Tier and upgrade for the distributions rated by a fixed version list."""
    if distro == "Windows Server":
        if version in {"2016", "2019", "2022", "2025"}:
            return "certified", ""
        if version == "2012":
            return "end_of_life", "Upgrade in place to Windows Server 2019 or 2022 (certified on KubeVirt)"
        return ("end_of_life", _WIN_UPGRADE) if version else ("unsupported", _UPGRADES["Windows"])
    if distro == "Windows":
        if version in {"10", "11"}:
            return "certified", ""
        return ("end_of_life", _WIN_UPGRADE) if version else ("unsupported", _UPGRADES["Windows"])
    if distro == "RHEL":
        return ("certified", "") if version in {"7", "8", "9", "10"} else ("end_of_life", _RHEL_UPGRADE)
    if distro == "Oracle Linux":
        return ("vendor", "") if version in {"7", "8", "9"} else ("end_of_life", _UPGRADES[distro])
    if distro == "SLES":
        return ("vendor", "") if version in {"12", "15"} else ("end_of_life", _UPGRADES[distro])
    if distro == "CentOS":
        return "end_of_life", _UPGRADES[distro]
    return "unsupported", _UPGRADES.get(distro, "")


def rate(parsed: dict, as_of: date) -> dict:
    """Tier and upgrade path of a parsed OS name (see :func:`assess.model.derived.parse_os_name`)."""
    family, distro, version = parsed["family"], parsed["distro"], parsed["version"]
    if family == "unknown":
        return dict(tier="unknown", upgrade="")
    if family == "other":
        return dict(tier="unsupported",
                    upgrade="Rebuild the workload on a supported OS (appliance or non-Linux/Windows guest)")
    if distro in _COMMUNITY:
        tier, upgrade = _community_tier(distro, version, as_of)
        upgrade = upgrade or _UPGRADES.get(distro, "")
    elif distro == "Other Linux":
        tier, upgrade = ("community", "Identify the distribution and set the VM's guest OS type to it") \
            if version else ("unsupported", _OTHER_LINUX)
    else:
        tier, upgrade = _vendor_tier(distro, version)
    if tier == "certified":
        upgrade = ""
    if parsed["bits32"] and TIERS.index(tier) < TIERS.index("32bit"):
        tier = "32bit"
        upgrade = upgrade or "Reinstall as 64-bit: KubeVirt preferences target 64-bit guests"
    return dict(tier=tier, upgrade=upgrade)


def classify_name(name: str | None, as_of: date | None = None) -> dict:
    """Family, distro, version, tier, 32-bit flag and upgrade path of one OS name."""
    parsed = parse_os_name(name)
    return {**parsed, **rate(parsed, as_of or date.today())}


def _lookup(names: pd.Series, as_of: date) -> pd.DataFrame:
    uniques = names.fillna("").drop_duplicates()
    table = pd.DataFrame([classify_name(n, as_of) for n in uniques], index=uniques.to_numpy(),
                         columns=["family", "distro", "version", "bits32", "tier", "upgrade"])
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


def classify(vms: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    """Per VM (index ``vm_id``): both OS readings, the worse tier, family and disagreement.

    Columns: ``os_config``, ``os_tools``, ``tier`` (worse of the two readings), ``tier_config``,
    ``tier_tools``, ``family`` (windows, linux, other, unknown; the tools reading when known),
    ``os_name`` (tools reading, else config), ``distro``, ``version``, ``upgrade``, ``disagree`` (both
    known and naming different OS families/versions), ``efi_preferred`` (KubeVirt's preference
    for this OS prefers EFI), ``needs_vtpm`` (Windows 11 / Server 2022 / 2025 preferences add a
    persistent vTPM). ``as_of`` (default today) decides which community releases are past
    their end of life.
    """
    as_of = as_of or date.today()
    conf, tools = _lookup(vms["guest_os_config"], as_of), _lookup(vms["guest_os_tools"], as_of)
    rank = {t: i for i, t in enumerate(TIERS)}
    conf_rank = conf["tier"].map(rank).where(conf["tier"] != "unknown", -1)
    tools_rank = tools["tier"].map(rank).where(tools["tier"] != "unknown", -1)
    worse = conf["tier"].where(conf_rank >= tools_rank, tools["tier"])
    tools_known = tools["tier"] != "unknown"
    pick = lambda col: tools[col].where(tools_known, conf[col])  # noqa: E731
    name = vms["guest_os_tools"].where(tools_known.to_numpy(), vms["guest_os_config"]).fillna("")
    disagree = (conf["tier"] != "unknown") & tools_known & _differ(conf, tools)
    worse_upgrade = conf["upgrade"].where(conf_rank > tools_rank, tools["upgrade"])
    upgrade = worse_upgrade.where(worse_upgrade != "", tools["upgrade"].where(tools["upgrade"] != "",
                                                                                conf["upgrade"]))
    lowered = name.str.lower()
    efi = lowered.str.contains(
        r"red hat enterprise linux (?:9|10)|windows (?:10|11)|windows server (?:2016|2019|2022|2025)",
        regex=True,
    )
    vtpm = lowered.str.contains(r"windows 11|windows server (?:2022|2025)", regex=True)
    return pd.DataFrame({
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
