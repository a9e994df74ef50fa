"""The dependency graph: VMs and external endpoints as nodes, flows and hard rules as edges.

Node attributes: ``kind`` (``vm`` or ``external``), ``name``, ``app`` (application names,
comma separated), ``env`` (``prod``, ``nonprod`` or None), ``shared`` (shared-service reason
or None). Edge attributes: ``weight`` (flow weight), ``link`` (``hard``, ``soft``, ``shared``,
``external``), ``port`` (heaviest port with its service name), ``n_ports``, ``db_server`` (the
database side of database flows) and, on hard edges, ``hard_reasons`` (list of texts).
Graph attributes: ``keep_apart`` (lists of vm_ids), ``shared_services`` (node -> reason),
``n_vms``.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from assess.model import AssessError, Estate
from assess.waves.links import HARD, SOFT, classify_flows, is_in, port_label, shared_service_nodes
from assess.waves.params import WavesParams

PROD_WORDS = ("prod", "prd", "live")
NONPROD_WORDS = ("dev", "test", "tst", "qa", "uat", "stag", "sandbox", "lab", "poc", "demo")


def resolve_vms(items: Iterable[str], vms: pd.DataFrame, what: str) -> list[str]:
    """vm_ids for VM references given as vm_id or unique VM name; unknown names raise AssessError."""
    items = list(items)
    if not items:
        return []
    ids = set(vms["vm_id"])
    by_name = vms.drop_duplicates("name", keep=False).set_index("name")["vm_id"]
    repeated = set(vms.loc[vms["name"].duplicated(keep=False), "name"])
    out = []
    for item in items:
        if item in ids:
            out.append(item)
        elif item in by_name.index:
            out.append(by_name[item])
        elif item in repeated:
            raise AssessError(f"waves parameter {what}: VM name '{item}' is not unique; use its vm_id")
        else:
            raise AssessError(f"waves parameter {what}: '{item}' is neither a vm_id nor a VM name "
                              "of the estate; fix the name or remove it")
    return out


def environment_class(value: str | None) -> str | None:
    """``prod``, ``nonprod`` or None for an environment attribute value like 'Production' or 'UAT'."""
    if value is None or not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if any(word in text for word in NONPROD_WORDS):
        return "nonprod"
    if any(word in text for word in PROD_WORDS):
        return "prod"
    return None


def _attribute_values(attributes: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    wanted = {n.lower() for n in names}
    rows = attributes[attributes["name"].str.lower().isin(wanted).fillna(False).to_numpy(dtype=bool)]
    rows = rows[rows["value"].notna() & (rows["value"].str.strip() != "")]
    return rows.assign(value=rows["value"].str.strip())[["vm_id", "value"]]


def application_members(estate: Estate, params: WavesParams) -> pd.DataFrame:
    """``vm_id, app`` pairs from the application attributes, overridden per VM by ``app_mapping``."""
    pairs = _attribute_values(estate["attributes"], params.app_attributes)
    if params.app_mapping:
        mapped = resolve_vms(params.app_mapping, estate["vms"], "app_mapping")
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
        rules.append((resolve_vms(members, estate["vms"], f"move_together[{i - 1}]"),
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


def dependency_graph(estate: Estate, params: WavesParams | None = None) -> nx.Graph:
    """The estate's dependency graph (see the module docstring for its attributes).

    Every VM of ``estate["vms"]`` is a node; flow endpoints that are not VMs become
    ``external`` nodes. Hard rules are added as star edges (member -> first member) so an
    application of n VMs costs n-1 edges, not n^2. O(VMs + flow rows).
    """
    params = params or WavesParams()
    vms = estate["vms"]
    vm_ids = pd.Index(vms["vm_id"].astype(str))
    flows = estate["flows"]
    declared = tuple(resolve_vms(params.shared_services, vms, "shared_services"))
    shared = shared_service_nodes(flows, vm_ids, params, declared)
    links = classify_flows(flows, vm_ids, shared, params)
    edges = _edge_frame(links, params)

    apps = _joined_apps(application_members(estate, params))
    env = _attribute_values(estate["attributes"], params.env_attributes).drop_duplicates("vm_id")
    env_class = env.set_index("vm_id")["value"].map(environment_class)
    G = nx.Graph(keep_apart=[resolve_vms(rule, vms, f"keep_apart[{i}]")
                             for i, rule in enumerate(params.keep_apart)],
                 shared_services=shared, n_vms=len(vm_ids))
    app_of = apps.reindex(vm_ids).to_numpy()
    env_of = env_class.reindex(vm_ids).to_numpy()
    G.add_nodes_from(
        (vid, {"kind": "vm", "name": name, "app": app if isinstance(app, str) else None,
               "env": e if isinstance(e, str) else None, "shared": shared.get(vid)})
        for vid, name, app, e in zip(vm_ids, vms["name"].astype(str), app_of, env_of)
    )
    ends = pd.unique(np.concatenate([edges["a"].to_numpy(dtype=object), edges["b"].to_numpy(dtype=object)]))
    G.add_nodes_from((n, {"kind": "external", "name": str(n), "app": None, "env": None,
                          "shared": shared.get(n)}) for n in ends if n not in G)
    cols = {c: edges[c].to_numpy(dtype=object) for c in ("a", "b", "link", "port", "db_server", "hard_port")}
    db = [x if isinstance(x, str) else None for x in cols["db_server"]]
    hard_port = [x if isinstance(x, str) else None for x in cols["hard_port"]]
    G.add_edges_from(
        (a, b, {"weight": w, "link": link, "port": port, "n_ports": n, "db_server": d,
                **({"hard_reasons": [f"database {port_label(hp, params)}"]} if hp else {})})
        for a, b, w, link, port, n, d, hp in zip(cols["a"], cols["b"], edges["weight"].astype(float).tolist(),
                                                 cols["link"], cols["port"],
                                                 edges["n_ports"].astype(int).tolist(), db, hard_port)
    )
    for members, reason in hard_rules(estate, params):
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
        else:
            G.add_edge(hub, other, weight=0.0, link=HARD, port=None, n_ports=0, db_server=None,
                       hard_reasons=[reason])
