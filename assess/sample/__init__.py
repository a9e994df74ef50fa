"""Deterministic sample estates with planted facts: RVTools export, utilization, flows, ground truth.

``generate_sample(out, vms=300, seed=0)`` writes into ``out``:

- ``rvtools.xlsx``: an RVTools 4.7.1.4-layout export (27 sheets, the real column order, custom
  attributes ``app``, ``env``, ``owner``); several vCenters from 20,000 VMs on.
- ``utilization.csv.gz``: 30 days of 2-hour samples per VM in the long CSV layout.
- ``flows.csv``: Azure Migrate dependency-export rows.
- ``ground_truth.json``: the planted facts (layout in :mod:`assess.sample.truth`).

The same seed gives the same files, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assess.model import AssessError
from assess.sample.flows import write_flows
from assess.sample.plant import populate
from assess.sample.rvtools import write_rvtools
from assess.sample.truth import ground_truth
from assess.sample.utilization import write_utilization

MIN_VMS = 100

__all__ = ["MIN_VMS", "generate_sample", "sample_path"]

#: The sample shipped in a source checkout (``make demo`` runs on it).
CHECKOUT_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples"


def generate_sample(out: Path, vms: int = 300, seed: int = 0) -> dict[str, Path]:
    """Write a sample estate of ``vms`` VMs into the folder ``out``; return the paths by kind."""
    if vms < MIN_VMS:
        raise AssessError(f"--vms {vms}: a sample needs at least {MIN_VMS} VMs to hold every planted fact")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    inventory_rng, util_rng, flow_rng = (np.random.default_rng([seed, k]) for k in range(3))
    inv = populate(inventory_rng, vms)
    paths = {
        "rvtools": out / "rvtools.xlsx",
        "utilization": out / "utilization.csv.gz",
        "flows": out / "flows.csv",
        "ground_truth": out / "ground_truth.json",
    }
    write_rvtools(paths["rvtools"], inv)
    samples = write_utilization(paths["utilization"], inv, util_rng)
    flows = write_flows(paths["flows"], inv, flow_rng)
    truth = ground_truth(inv, seed, samples, flows)
    paths["ground_truth"].write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return paths


def sample_path(cache: Path | None = None) -> Path:
    """The folder of the default sample estate (300 VMs, seed 0), ready for :func:`load_estate`.

    In a source checkout that is ``data/samples``; elsewhere the sample is generated once into
    ``cache`` (default ``$XDG_CACHE_HOME/assess/sample``, else ``~/.cache/assess/sample``).
    """
    if cache is None and (CHECKOUT_SAMPLE / "rvtools.xlsx").is_file():
        return CHECKOUT_SAMPLE
    if cache is None:
        import os

        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assess" / "sample"
    cache = Path(cache)
    if not (cache / "ground_truth.json").is_file():  # written last: its presence means complete
        generate_sample(cache)
    return cache
