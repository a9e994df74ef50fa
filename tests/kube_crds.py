"""The CustomResourceDefinitions the tests install, from the real schemas in ``../shared/schemas``.

Forklift's and CDI's CRDs are installed as they are. KubeVirt commits no CRD YAML (virt-operator
generates its CRDs at run time from the same Go types as its OpenAPI document), so the
VirtualMachine and VirtualMachineInstance CRDs are derived here from
``kubevirt-openapi-swagger.json``: references inlined into a structural schema, descriptions
dropped, quantities as int-or-string, embedded ObjectMeta and RawExtension kept open. The
NetworkAttachmentDefinition CRD is Multus's own shape (``spec.config``, a JSON string).
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

import yaml

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "shared" / "schemas"
FORKLIFT = ["providers", "networkmaps", "storagemaps", "plans", "migrations"]
OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
INT_OR_STRING = {"x-kubernetes-int-or-string": True}
META = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"
KEEP = {
    "type",
    "format",
    "required",
    "enum",
    "nullable",
    "items",
    "properties",
    "additionalProperties",
    "x-kubernetes-map-type",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
}
FORMATS = {"int32", "int64", "date-time"}


def _structural(node, definitions: dict, stack: tuple[str, ...]) -> dict:
    """``node`` with every ``$ref`` inlined; a recursive reference becomes an open object."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name == META or name in stack or name.endswith("RawExtension"):
            return dict(OPEN)
        return _structural(definitions[name], definitions, (*stack, name))
    kind = node.get("type")
    if isinstance(kind, list) or node.get("format") == "int-or-string":
        return dict(INT_OR_STRING)
    out = {}
    for key, value in node.items():
        if key not in KEEP:
            continue
        if key == "properties":
            out[key] = {k: _structural(v, definitions, stack) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            if isinstance(value, dict):
                out[key] = _structural(value, definitions, stack)
        elif key == "format":
            if value in FORMATS:
                out[key] = value
        else:
            out[key] = value
    if "x-kubernetes-list-map-keys" in out and out.get("x-kubernetes-list-type") != "map":
        out.pop("x-kubernetes-list-map-keys")
    if "type" not in out:
        return dict(OPEN)
    if out["type"] == "object" and "properties" not in out and "additionalProperties" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


@cache
def _swagger() -> dict:
    return json.loads((SCHEMAS / "kubevirt" / "kubevirt-openapi-swagger.json").read_text())["definitions"]


def kubevirt_crd(kind: str, plural: str, short: str) -> dict:
    """The kubevirt.io/v1 CRD of ``kind`` (VirtualMachine or VirtualMachineInstance)."""
    schema = _structural({"$ref": f"#/definitions/v1.{kind}"}, _swagger(), ())
    schema["properties"]["metadata"] = {"type": "object"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kubevirt.io"},
        "spec": {
            "group": "kubevirt.io",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def network_attachment_crd() -> dict:
    """Multus's NetworkAttachmentDefinition CRD (k8s.cni.cncf.io/v1)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "network-attachment-definitions.k8s.cni.cncf.io"},
        "spec": {
            "group": "k8s.cni.cncf.io",
            "names": {
                "kind": "NetworkAttachmentDefinition",
                "plural": "network-attachment-definitions",
                "singular": "network-attachment-definition",
                "shortNames": ["net-attach-def"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": {"type": "object", "properties": {"config": {"type": "string"}}},
                            },
                        }
                    },
                }
            ],
        },
    }


def _as_is(path: Path) -> dict:
    crd = yaml.safe_load(path.read_text())
    crd.pop("status", None)
    return crd


def all_crds() -> list[dict]:
    """Every CRD the executor's cluster needs: Forklift, CDI DataVolume, KubeVirt, Multus."""
    return [
        *(_as_is(SCHEMAS / "forklift" / f"forklift.konveyor.io_{name}.yaml") for name in FORKLIFT),
        _as_is(SCHEMAS / "kubevirt" / "cdi-datavolume-crd.yaml"),
        kubevirt_crd("VirtualMachine", "virtualmachines", "vm"),
        kubevirt_crd("VirtualMachineInstance", "virtualmachineinstances", "vmi"),
        network_attachment_crd(),
    ]


def install(plane, timeout: float = 60) -> list[str]:
    """Create every CRD on ``plane`` (a :class:`tests.kube_harness.ControlPlane`), wait until served."""
    names = []
    for crd in all_crds():
        status, body = plane.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        if status not in (201, 409):
            raise RuntimeError(f"CRD {crd['metadata']['name']}: HTTP {status}: {body.get('message')}")
        names.append(crd["metadata"]["name"])
    deadline = time.monotonic() + timeout
    for name in names:
        while True:
            _, body = plane.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conditions = {c["type"]: c["status"] for c in (body.get("status") or {}).get("conditions", [])}
            if conditions.get("Established") == "True":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"CRD {name} not established: {conditions}")
            time.sleep(0.1)
    return names
