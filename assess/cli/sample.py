"""``assess sample``: write a deterministic sample estate with planted facts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assess.cli.common import JsonFlag, app, emit


@app.command("sample")
def sample_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the sample files into.")],
    vms: Annotated[int, typer.Option("--vms", help="Number of VMs (at least 100).")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same files.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Generate a sample estate: RVTools xlsx, utilization, flows and the ground truth."""
    from assess.sample import generate_sample

    paths = generate_sample(out, vms=vms, seed=seed)
    summary = {"out": str(out), "vms": vms, "seed": seed, "files": {k: str(p) for k, p in paths.items()}}
    emit(summary, as_json, f"Wrote a {vms}-VM sample estate (seed {seed}) to {out}")
