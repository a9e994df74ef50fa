"""The dependency graph: VMs and external endpoints as nodes, flows and hard rules as edges.

Node attributes: ``kind`` (``vm`` or ``external``), ``name``, ``app`` (application names,
comma separated), ``env`` (``prod``, ``test``, ``dev``, ``sandbox`` or None) with ``env_source``,
``shared`` (shared-service reason or None). Edge attributes: ``weight`` (flow weight), ``link``
(``hard``, ``soft``, ``shared``, ``external``), ``port`` (heaviest port with its service name),
``n_ports``, ``db_server`` (the database side of database flows), ``significant`` (may join
groups, see :func:`_significance`) and, on hard edges, ``hard_reasons`` (list of texts). Graph
attributes: ``keep_apart`` (lists of vm_ids), ``shared_services`` (node -> reason), ``n_vms``,
``evidence`` (inventory evidence sets).
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from assess.collect.vm_lookup import AMBIGUOUS, RESOLVED, resolve_vms
from assess.model import AssessError, Estate
from assess.waves.evidence import environments, evidence_sets
from assess.waves.links import HARD, SOFT, classify_flows, is_in, port_label, shared_service_nodes
from assess.waves.params import WavesParams


def vm_refs(items: Iterable[str], estate: Estate, what: str) -> list[str]:
    """vm_ids for VM references (vm_id, instance UUID or unique VM name, case-insensitive).

    Uses :func:`assess.collect.vm_lookup.resolve_vms`; an unknown or ambiguous reference raises
    AssessError naming the parameter ``what``.
    """
    items = [str(i) for i in items]
    if not items:
        return []
    found = resolve_vms(pd.Series(items, dtype="string"), estate).drop_duplicates("value").set_index("value")
    out = []
    for item in items:
        row = found.loc[item]
        if row["status"] == AMBIGUOUS:
            raise AssessError(f"waves parameter {what}: VM name '{item}' is not unique "
                              f"({row['candidates']}); use its vm_id")
        if row["status"] != RESOLVED:
            raise AssessError(f"waves parameter {what}: '{item}' is neither a vm_id nor a VM name "
                              "of the estate; fix the name or remove it")
        out.append(str(row["vm_id"]))
    return out


def _attribute_values(attributes: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    wanted = {n.lower() for n in names}
    rows = attributes[attributes["name"].str.lower().isin(wanted).fillna(False).to_numpy(dtype=bool)]
    rows = rows[rows["value"].notna() & (rows["value"].str.strip() != "")]
    return rows.assign(value=rows["value"].str.strip())[["vm_id", "value"]]


def application_members(estate: Estate, params: WavesParams) -> pd.DataFrame:
    """``vm_id, app`` pairs from the application attributes, overridden per VM by ``app_mapping``."""
    pairs = _attribute_values(estate["attributes"], params.app_attributes)
    if params.app_mapping:
        mapped = vm_refs(params.app_mapping, estate, "app_mapping")
        user = pd.DataFrame({"vm_id": mapped, "value": list(params.app_mapping.values())})
        pairs = pd.concat([pairs[~pairs["vm_id"].isin(mapped)], user], ignore_index=True)
    pairs = pairs[is_in(pairs["vm_id"], estate["vms"]["vm_id"])]
    return pairs.rename(columns={"value": "app"}).drop_duplicates().reset_index(drop=True)


def hard_rules(estate: Estate, params: WavesParams) -> list[tuple[list[str], str]]:
    """Member lists that must move together, each with its reason (apps, DRS affinity, disks, users)."""
    rules: list[tuple[list[str], str]] = []
    apps = application_members(estate, params)
    for app, members in apps.groupby("app", sort=True)["vm_id"]:
        rules.append((sorted(set(members)), f"same application '{app}'"))
    vm_ids = set(estate["vms"]["vm_id"])
    if params.use_affinity_rules:
        aff = estate["affinity_rules"]
        aff = aff[(aff["kind"] == "vm_affinity").fillna(False) & aff["enabled"].fillna(True)
                  & aff["member"].isin(vm_ids)]
        for (cluster, rule), members in aff.groupby(["cluster", "rule"], sort=True)["member"]:
            rules.append((sorted(set(members)), f"DRS VM-VM affinity rule '{rule}' ({cluster})"))
    disks = estate["disks"]
    shared = disks[(disks["sharing"] == "sharingMultiWriter").fillna(False) & disks["file"].notna()]
    for path, members in shared.groupby("file", sort=True)["vm_id"]:
        if members.nunique() > 1:
            rules.append((sorted(set(members)), f"shared multi-writer disk {path}"))
    for i, members in enumerate(params.move_together, start=1):
        rules.append((vm_refs(members, estate, f"move_together[{i - 1}]"),
                      f"user move-together rule {i}"))
    return rules


def _edge_frame(links: pd.DataFrame, params: WavesParams) -> pd.DataFrame:
    """One row per undirected pair: summed weight, strongest class, heaviest port."""
    rank = links["link"].map({"shared": 3, "external": 2, HARD: 1, SOFT: 0})
    links = links.assign(rank=rank).sort_values(["weight"], ascending=False, kind="stable")
    grouped = links.groupby(["a", "b"], sort=False)
    edges = grouped.agg(weight=("weight", "sum"), rank=("rank", "max"), n_ports=("port", "nunique"),
                        db_server=("db_server", "first"))
    top = links.drop_duplicates(["a", "b"]).set_index(["a", "b"])["port"].reindex(edges.index)
    labels = {p: port_label(p, params) for p in pd.unique(top.to_numpy(dtype=object))}
    edges["port"] = top.map(labels)
    hard_port = links[links["link"] == HARD].drop_duplicates(["a", "b"]).set_index(["a", "b"])["port"]
    edges["hard_port"] = hard_port.reindex(edges.index)
    edges["link"] = edges["rank"].map({3: "shared", 2: "external", 1: HARD, 0: SOFT})
    return edges.reset_index()


def _joined_apps(pairs: pd.DataFrame) -> pd.Series:
    """vm_id -> its application names, sorted and comma separated (one join per VM with several)."""
    pairs = pairs.sort_values(["vm_id", "app"])
    many = pairs["vm_id"].duplicated(keep=False).to_numpy()
    single = pairs[~many].set_index("vm_id")["app"].astype(object)
    joined = pairs[many].groupby("vm_id")["app"].agg(", ".join).astype(object)
    return pd.concat([single, joined])


def _significance(edges: pd.DataFrame, vm_ids: pd.Index, params: WavesParams) -> np.ndarray:
    """Which edges may join groups: hard ones, and soft ones strong against their ends' top links.

    A soft VM-VM link of weight ``w`` between ``a`` and ``b`` is significant when ``w >=
    link_significance x min(top(a), top(b))`` (``top``: a VM's strongest soft link; so it is
    a main link of at least one end) and ``w >= link_floor x`` the median of ``top`` over VMs
    (a light link is never the reason two applications merge, even between two VMs that have
    nothing else). O(edges).
    """
    soft = (edges["link"] == SOFT).to_numpy()
    if not soft.any():
        return edges["link"].eq(HARD).to_numpy()
    part = edges[soft]
    ends = pd.concat([part[["a", "weight"]].set_axis(["vm", "w"], axis=1),
                      part[["b", "weight"]].set_axis(["vm", "w"], axis=1)])
    top = ends.groupby("vm")["w"].max()
    logs = np.log(top.to_numpy(dtype=float).clip(min=1e-12))
    centre = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - centre)))
    floor = 0.0 if params.link_floor_mads is None else float(np.exp(centre - params.link_floor_mads * spread))
    lower = np.minimum(part["a"].map(top).to_numpy(dtype=float), part["b"].map(top).to_numpy(dtype=float))
    w = part["weight"].to_numpy(dtype=float)
    out = edges["link"].eq(HARD).to_numpy().copy()
    out[soft] = (w >= params.link_significance * lower * (1 - 1e-9)) & (w >= floor * (1 - 1e-9))
    return out


def pre_groups(vm_ids: pd.Index, rules: list[tuple[list[str], str]],
               evidence: list[tuple[str, str, list[str]]]) -> pd.Series:
    """vm_id -> a coarse label (hard rule or name stem) for counting the groups a hub reaches.

    Built in a dict, not by assigning into a Series per rule (33,000 name stems at 100,000 VMs
    cost 10 s that way).
    """
    label = dict(zip(vm_ids, vm_ids))
    for kind, value, members in evidence:
        if kind == "name":
            label.update(dict.fromkeys(members, f"name:{value}"))
    for members, _ in rules:
        if len(members) > 1:
            label.update(dict.fromkeys(members, label[members[0]]))
    return pd.Series(label, dtype=object)


def dependency_graph(estate: Estate, params: WavesParams | None = None) -> nx.Graph:
    """The estate's dependency graph (see the module docstring for its attributes).

    Every VM of ``estate["vms"]`` is a node; flow endpoints that are not VMs become
    ``external`` nodes. Hard rules are added as star edges (member -> first member) so an
    application of n VMs costs n-1 edges, not n^2. Inventory evidence (:mod:`assess.waves.evidence`)
    is kept in ``G.graph["evidence"]``. O(VMs + flow rows).
    """
    params = params or WavesParams()
    vms = estate["vms"]
    vm_ids = pd.Index(vms["vm_id"].astype(str))
    flows = estate["flows"]
    env = environments(estate, params)
    evidence = evidence_sets(estate, env["environment"], params)
    rules = hard_rules(estate, params)
    declared = tuple(vm_refs(params.shared_services, estate, "shared_services"))
    shared = shared_service_nodes(flows, vm_ids, params, declared, pre_groups(vm_ids, rules, evidence))
    edges = _edge_frame(classify_flows(flows, vm_ids, shared, params), params)
    edges["significant"] = _significance(edges, vm_ids, params)
    apps = _joined_apps(application_members(estate, params))
    apart = [vm_refs(rule, estate, f"keep_apart[{i}]") for i, rule in enumerate(params.keep_apart)]
    G = nx.Graph(keep_apart=apart,
                 shared_services=shared, n_vms=len(vm_ids), evidence=evidence)
    app_of = apps.reindex(vm_ids).to_numpy()
    env = env.reindex(vm_ids)
    G.add_nodes_from(
        (vid, {"kind": "vm", "name": name, "app": app if isinstance(app, str) else None,
               "env": e if isinstance(e, str) else None, "env_source": src, "shared": shared.get(vid)})
        for vid, name, app, e, src in zip(vm_ids, vms["name"].astype(str), app_of, env["environment"],
                                          env["environment_source"])
    )
    ends = pd.unique(np.concatenate([edges["a"].to_numpy(dtype=object), edges["b"].to_numpy(dtype=object)]))
    G.add_nodes_from((n, {"kind": "external", "name": str(n), "app": None, "env": None, "env_source": "",
                          "shared": shared.get(n)}) for n in ends if n not in G)
    cols = {c: edges[c].to_numpy(dtype=object) for c in ("a", "b", "link", "port", "db_server", "hard_port")}
    db = [x if isinstance(x, str) else None for x in cols["db_server"]]
    hard_port = [x if isinstance(x, str) else None for x in cols["hard_port"]]
    G.add_edges_from(
        (a, b, {"weight": w, "link": link, "port": port, "n_ports": n, "db_server": d, "significant": sig,
                **({"hard_reasons": [f"database {port_label(hp, params)}"]} if hp else {})})
        for a, b, w, link, port, n, d, hp, sig in zip(
            cols["a"], cols["b"], edges["weight"].astype(float).tolist(), cols["link"], cols["port"],
            edges["n_ports"].astype(int).tolist(), db, hard_port, edges["significant"].tolist())
    )
    for members, reason in rules:
        add_hard_links(G, members, reason)
    return G


def add_hard_links(G: nx.Graph, members: list[str], reason: str) -> None:
    """Tie ``members`` together with hard edges (a star on the first member), recording ``reason``."""
    if len(members) < 2:
        return
    hub = members[0]
    for other in members[1:]:
        if other == hub:
            continue
        if G.has_edge(hub, other):
            data = G.edges[hub, other]
            data.setdefault("hard_reasons", []).append(reason)
            data["link"] = HARD
            data["significant"] = True
        else:
            G.add_edge(hub, other, weight=0.0, link=HARD, port=None, n_ports=0, db_server=None,
                       significant=True, hard_reasons=[reason])
