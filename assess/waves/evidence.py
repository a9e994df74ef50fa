"""Evidence beyond flows: environment, name stems, folders, vApps, resource pools and owners.

Flows show which VMs talk; the inventory often says which belong together even without any
flow record. This module reads that inventory evidence:

- :func:`environments`: ``prod | test | dev | sandbox`` per VM from, in order, the environment
  attribute, the VM name, its folder, resource pool and cluster (configurable regexes), with the
  source recorded.
- :func:`name_stems`: the application part of a VM name (``crm-web-01`` -> ``crm``): the first
  token that is not an environment marker, a role or OS word, a number, a single letter, or a
  token so common it names a site or a naming scheme rather than an application.
- :func:`evidence_sets`: sets of VMs sharing a stem, vApp, small folder, small resource pool or
  owner, each within one environment; soft evidence that the grouping weighs with the flows.
"""

from __future__ import annotations

import re

import pandas as pd

from assess.model import Estate
from assess.waves.params import WavesParams

#: Tier, role and OS words that name what a VM does, not which application it belongs to.
ROLE_WORDS = frozenset(
    "web www fe front frontend be back backend app apps api srv svr server db dbs sql mssql mysql pg pgsql "
    "postgres postgresql ora oracle mongo redis cache mq kafka rabbit lb proxy nginx apache iis tomcat jboss "
    "node worker batch job jobs etl file fs nfs smb ftp sftp mail smtp adm admin mgmt mgt int ext dmz vm vms "
    "host win windows w2k8 w2k12 w2k16 w2k19 w2k22 lnx linux ol olnx rhel centos ubuntu debian sles suse "
    "old new copy clone tmp temp bak backup replica primary secondary master slave standby a b".split())


#: A name token seen with this many different other distinctive tokens is a prefix, not an application.
PREFIX_PARTNERS = 4


def _first_match(texts: pd.Series, patterns: dict[str, str]) -> pd.Series:
    """Per text, the first environment whose regex matches (case-insensitive), else NA."""
    lowered = texts.astype("string").str.lower()
    compiled = [(env, re.compile(pattern)) for env, pattern in patterns.items()]

    def first(text: str) -> object:
        return next((env for env, rx in compiled if rx.search(text)), pd.NA)

    distinct = {t: first(t) for t in lowered.dropna().unique()}
    return lowered.map(distinct).astype("object")


def environments(estate: Estate, params: WavesParams) -> pd.DataFrame:
    """Per VM (index vm_id): ``environment`` (or NA) and ``environment_source`` (where it was read).

    Sources in order of trust: an environment attribute or tag (``params.env_attributes``), the
    VM name (``params.environment_name_patterns``, e.g. a ``P-`` prefix), then the folder,
    resource pool and cluster names (``params.environment_patterns``). O(VMs x patterns).
    """
    vms = estate["vms"].set_index("vm_id")
    env = pd.Series(pd.NA, index=vms.index, dtype="object")
    source = pd.Series("", index=vms.index, dtype="object")
    attrs = estate["attributes"]
    wanted = {n.lower() for n in params.env_attributes}
    rows = attrs[attrs["name"].str.lower().isin(wanted).fillna(False).to_numpy(dtype=bool)
                 & attrs["value"].notna().to_numpy(dtype=bool)].drop_duplicates("vm_id")
    rows = rows[rows["vm_id"].isin(vms.index)]
    candidates = [(pd.Series(rows["value"].to_numpy(), index=rows["vm_id"].to_numpy()),
                   pd.Series("attribute " + rows["name"].astype(str) + "=" + rows["value"].astype(str),
                             index=rows["vm_id"].to_numpy()), params.environment_patterns)]
    candidates.append((vms["name"], "name " + vms["name"].astype(str), params.environment_name_patterns))
    for column in ("folder", "resource_pool", "cluster"):
        text = vms[column].astype("string")
        why = column.replace("_", " ") + " " + text.fillna("")
        candidates.append((text, why, params.environment_patterns))
    for texts, why, patterns in candidates:
        found = _first_match(texts, patterns).reindex(vms.index)
        new = (env.isna() & found.notna()).to_numpy(dtype=bool)
        env[new] = found[new]
        source[new] = why.reindex(vms.index)[new]
    return pd.DataFrame({"environment": env, "environment_source": source})


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t]


def _is_noise(token: str, patterns: list[re.Pattern]) -> bool:
    if len(token) < 2 or token.isdigit() or token in ROLE_WORDS:
        return True
    if re.fullmatch(r"[a-z]+\d+[a-z]?", token) and re.sub(r"\d+[a-z]?$", "", token) in ROLE_WORDS:
        return True  # web01, db2a
    return any(p.fullmatch(token) for p in patterns)


def name_stems(names: pd.Series, max_share_vms: int) -> pd.Series:
    """Application stem of each VM name (same index), NA when the name has none.

    Tokens are split at anything not a letter or digit; a token found in more than
    ``max_share_vms`` names, or together with :data:`PREFIX_PARTNERS` or more different
    distinctive tokens (``fra1p-payroll-..``, ``fra1p-fleet-..``), is a site, environment or
    scheme prefix, not an application. O(name tokens).
    """
    env_words = [re.compile(p) for p in (r"prod\w*|prd|live|produc\w*", r"dev\w*|desarrollo",
                                         r"test\w*|tst|qa|uat|stag\w*|preprod|pruebas",
                                         r"sandbox|sbx|lab|poc|demo")]
    tokens = names.astype(str).map(lambda n: [t for t in _tokens(n) if not _is_noise(t, env_words)])
    counts = pd.Series([t for ts in tokens for t in set(ts)]).value_counts()
    common = set(counts.index[counts > max_share_vms])
    partners: dict[str, set] = {}
    for ts in tokens:
        for t in ts:
            partners.setdefault(t, set()).update(u for u in ts if u != t)
    # a token that precedes many different names is a site / environment / scheme prefix
    prefixes = {t for t, others in partners.items() if len(others) >= PREFIX_PARTNERS}

    def stem(ts: list[str]) -> object:
        return next((t for t in ts if t not in common and t not in prefixes), pd.NA)

    return tokens.map(stem)


def _leaf(path: pd.Series) -> pd.Series:
    return path.astype("string").str.rstrip("/").str.split("/").str[-1]


def evidence_sets(estate: Estate, env: pd.Series, params: WavesParams) -> list[tuple[str, str, list[str]]]:
    """``(kind, value, vm_ids)`` sets of VMs that inventory evidence puts together.

    Kinds: ``name`` (same stem, up to 2 x ``max_group_vms`` VMs), ``vapp`` (up to
    ``max_group_vms``), ``folder`` and ``resource pool`` (leaf name; only sets of up to
    ``weak_evidence_max_vms`` VMs, and not generic placements such as "Discovered virtual
    machine" or a cluster's root pool "Resources"), ``owner`` (attribute, same limit). Every set lies
    within one environment (a test copy is not the production application). O(VMs).
    """
    vms = estate["vms"].set_index("vm_id")
    env = env.reindex(vms.index).fillna("?")
    stems = name_stems(vms["name"], 2 * params.max_group_vms)
    keys = {"name": stems, "vapp": vms["vapp"].astype("string"),
            "folder": _leaf(vms["folder"]).mask(lambda s: s.str.lower().isin(params.generic_placements)),
            "resource pool": _leaf(vms["resource_pool"]).mask(
                lambda s: s.str.lower().isin(params.generic_placements))}
    attrs = estate["attributes"]
    owner = attrs[attrs["name"].str.lower().isin({n.lower() for n in params.owner_attributes}).fillna(False)
                  .to_numpy(dtype=bool)].drop_duplicates("vm_id")
    keys["owner"] = pd.Series(owner["value"].to_numpy(), index=owner["vm_id"].to_numpy()).reindex(vms.index)
    out = []
    for kind, values in keys.items():
        frame = pd.DataFrame({"value": values.to_numpy(), "env": env.to_numpy()}, index=vms.index).dropna()
        frame = frame[frame["value"].astype(str).str.strip() != ""]
        for (value, _), members in frame.groupby(["value", "env"], sort=True).groups.items():
            limit = 2 * params.max_group_vms if kind == "name" else (
                params.max_group_vms if kind == "vapp" else params.weak_evidence_max_vms)
            if 2 <= len(members) <= limit:
                out.append((kind, str(value), sorted(map(str, members))))
    return out
