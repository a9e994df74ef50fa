"""A sample estate with hostile strings, assessed once per test session, for the report tests."""

from __future__ import annotations

import functools
from pathlib import Path

from assess import Run, load_estate, run_stages
from assess.sample import generate_sample
from assess.sizing import SizingParams

XSS = "<img src=x onerror=alert(1)>"
HOSTILE_CLUSTER = '<b onmouseover="alert(3)">dev&test</b>'
HOSTILE_WARNING = "</script><script>alert(2)</script>"


@functools.cache
def report_run(base: Path):
    """Generate a 100-VM sample under ``base``, plant hostile strings, run every stage, write the run.

    The VM renamed to ``XSS`` is the first powered-on app VM; the dev cluster is renamed to
    ``HOSTILE_CLUSTER`` in every table naming it; a warning carries ``HOSTILE_WARNING``.
    """
    files = generate_sample(base / "sample", vms=100, seed=0)
    estate = load_estate(files["rvtools"].parent)
    vms = estate["vms"]
    victim = vms.index[vms["name"].str.contains("-app-") & vms["power_state"].eq("poweredOn")][0]
    vms.loc[victim, "name"] = XSS
    dev = next(c for c in vms["cluster"].dropna().unique() if "dev" in c)
    for table in ("vms", "hosts", "clusters"):
        frame = estate[table]
        column = "name" if table == "clusters" else "cluster"
        frame.loc[frame[column] == dev, column] = HOSTILE_CLUSTER
    estate.warn("test.hostile", f"a warning quoting {HOSTILE_WARNING}", table="vms", row=0)
    params = {"sizing": SizingParams(packing={"cpsat_time_limit_s": 2, "cpu_overcommit": 4.0})}
    results = run_stages(estate, params)
    out = base / "run"
    run = Run(estate, results)
    run.save(out)
    summary = run.summary
    return estate, results, summary, out, vms.loc[victim, "vm_id"]
