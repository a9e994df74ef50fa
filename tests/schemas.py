"""Validators for generated manifests against the real schemas in ../shared/schemas."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "shared" / "schemas"
FORKLIFT = {
    "Plan": "forklift.konveyor.io_plans.yaml",
    "Migration": "forklift.konveyor.io_migrations.yaml",
    "NetworkMap": "forklift.konveyor.io_networkmaps.yaml",
    "StorageMap": "forklift.konveyor.io_storagemaps.yaml",
    "Provider": "forklift.konveyor.io_providers.yaml",
}


def _strict(schema):
    """Copy of an OpenAPI schema where objects with properties refuse unknown keys (typos)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@cache
def _crd_validator(path: str):
    crd = yaml.safe_load(Path(path).read_text())
    version = next(v for v in crd["spec"]["versions"] if v.get("storage", True))
    schema = _strict(version["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema)


@cache
def _kubevirt_validator():
    swagger = json.loads((SCHEMAS / "kubevirt" / "kubevirt-openapi-swagger.json").read_text())
    schema = {"$ref": "#/definitions/v1.VirtualMachine", "definitions": _strict(swagger["definitions"])}
    schema["definitions"]["k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = {"type": "object"}
    return jsonschema.Draft4Validator(schema)


def validation_errors(obj: dict) -> list[str]:
    """Schema errors of one generated object (empty when valid)."""
    kind = obj["kind"]
    if kind in FORKLIFT:
        validator = _crd_validator(str(SCHEMAS / "forklift" / FORKLIFT[kind]))
    elif kind == "VirtualMachine":
        validator = _kubevirt_validator()
        dv = _crd_validator(str(SCHEMAS / "kubevirt" / "cdi-datavolume-crd.yaml"))
        errors = [
            f"dataVolumeTemplates: {e.message}"
            for t in obj["spec"].get("dataVolumeTemplates", [])
            for e in dv.iter_errors(
                {
                    "apiVersion": "cdi.kubevirt.io/v1beta1",
                    "kind": "DataVolume",
                    "metadata": t["metadata"],
                    "spec": t["spec"],
                }
            )
        ]
        return errors + [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(obj)]
    else:
        return []
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(obj)]
