"""KubeVirt instancetypes: the table, from the packaged bundle or the cluster's own file.

The packaged table ``data/common-instancetypes.json`` is extracted from the common-instancetypes
v1.7.0 cluster bundle that KubeVirt ships. A user can pass their cluster's own file instead:
either that compact JSON, or a YAML bundle / ``kubectl get virtualmachineclusterinstancetypes -o
yaml`` list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml

from assess.model.errors import AssessError

DATA = Path(__file__).with_name("data")
INSTANCETYPES_FILE = DATA / "common-instancetypes.json"
INSTANCETYPE_KINDS = {"VirtualMachineClusterInstancetype", "VirtualMachineInstancetype"}
COLUMNS = [
    "name", "series", "vcpus", "memory_mib", "dedicated_cpu", "isolate_emulator_thread",
    "hugepages", "memory_overcommit_percent",
]

_UNITS = {
    "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(Ki|Mi|Gi|Ti|k|M|G|T|)\s*$")


def quantity_bytes(text: str | int | float) -> float:
    """Bytes in a Kubernetes quantity such as ``512Mi``, ``1.5Gi`` or ``2G``."""
    if isinstance(text, int | float):
        return float(text)
    match = _QUANTITY.match(str(text))
    if not match:
        raise AssessError(f"'{text}' is not a Kubernetes memory quantity (expected e.g. 512Mi, 4Gi)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def bundle_documents(path: Path) -> list[dict]:
    """The objects in a YAML bundle (multi-document, or a ``kind: List`` with ``items``)."""
    try:
        docs = [d for d in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")) if d]
    except (OSError, yaml.YAMLError) as exc:
        raise AssessError(f"{path}: cannot read the YAML bundle: {exc}") from exc
    out = []
    for doc in docs:
        out.extend(doc.get("items", []) if doc.get("kind") == "List" else [doc])
    return out


def instancetypes_from_bundle(path: Path) -> pd.DataFrame:
    """The instancetype table of a YAML bundle of (cluster) instancetypes, one row per object."""
    rows = []
    for doc in bundle_documents(path):
        if doc.get("kind") not in INSTANCETYPE_KINDS:
            continue
        name = doc["metadata"]["name"]
        spec = doc.get("spec", {})
        cpu, memory = spec.get("cpu", {}), spec.get("memory", {})
        if "guest" not in cpu or "guest" not in memory:
            raise AssessError(f"{path}: instancetype {name} lacks spec.cpu.guest or spec.memory.guest")
        rows.append({
            "name": name,
            "series": name.split(".")[0],
            "vcpus": int(cpu["guest"]),
            "memory_mib": quantity_bytes(memory["guest"]) / 2**20,
            "dedicated_cpu": bool(cpu.get("dedicatedCPUPlacement", False)),
            "isolate_emulator_thread": bool(cpu.get("isolateEmulatorThread", False)),
            "hugepages": (memory.get("hugepages") or {}).get("pageSize", ""),
            "memory_overcommit_percent": int(memory.get("overcommitPercent", 0)),
        })
    if not rows:
        raise AssessError(f"{path}: no VirtualMachineClusterInstancetype objects found")
    return _typed(pd.DataFrame(rows))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[COLUMNS].astype({
        "name": "string", "series": "string", "vcpus": "int64", "memory_mib": "float64",
        "dedicated_cpu": "bool", "isolate_emulator_thread": "bool", "hugepages": "string",
        "memory_overcommit_percent": "int64",
    })
    return frame.sort_values("name", ignore_index=True)


def load_instancetypes(path: Path | str | None = None) -> pd.DataFrame:
    """The instancetype table: the packaged common-instancetypes v1.7.0, or the user's file.

    Args:
        path: ``None`` for the packaged table; a ``.json`` compact table as packaged; or a YAML
            bundle / list of VirtualMachine(Cluster)Instancetype objects.
    """
    path = Path(path) if path else INSTANCETYPES_FILE
    if path.suffix.lower() != ".json":
        return instancetypes_from_bundle(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _typed(pd.DataFrame(data["instancetypes"]))
    except (OSError, ValueError, KeyError) as exc:
        raise AssessError(
            f"{path}: not an instancetype table (expected JSON with an 'instancetypes' list of "
            f"{', '.join(COLUMNS)}): {exc}"
        ) from exc
