"""Time the RVTools import of a generated 10,000-VM export against a bare calamine read.

The export comes from the sample generator (assess.sample: RVTools 4.7.1.4 layout, all 27
sheets). The bare read is what any xlsx reader must pay: every sheet of the workbook turned
into Python rows by python-calamine. The import adds typing, keys, custom attributes and the
canonical tables on top. After one untimed warm-up of each, the bare read, the bare read of
the sheets the import uses and the import run in turn, ``--repeat`` times, in one process (so
other load on a shared machine hits all three alike); the headline is the ratio of the median
wall-clock times, and the ratio of the median CPU times is printed beside it.

Run: .venv/bin/python bench/bench_import.py [--vms 10000] [--repeat 5]
"""

import argparse
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np
import python_calamine

from assess.collect.rvtools import read_rvtools
from assess.collect.rvtools_columns import SHEETS
from assess.sample.plant import populate
from assess.sample.rvtools import write_rvtools

TARGET_RATIO = 1.5


def bare_read(path, only=None):
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    names = [n for n in workbook.sheet_names if only is None or n in only]
    return sum(len(workbook.get_sheet_by_name(name).to_python()) for name in names)


def timed(fn, *args):
    """Wall-clock and CPU seconds of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def interleaved(repeat, runs):
    """Run each of ``runs`` (label -> (fn, args)) in turn ``repeat`` times after one warm-up.

    Returns label -> (wall times, CPU times, result).
    """
    results = {label: fn(*args) for label, (fn, args) in runs.items()}
    walls, cpus = {label: [] for label in runs}, {label: [] for label in runs}
    for _ in range(repeat):
        for label, (fn, args) in runs.items():
            wall, cpu, _ = timed(fn, *args)
            walls[label].append(wall)
            cpus[label].append(cpu)
    return {label: (walls[label], cpus[label], results[label]) for label in runs}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rvtools.xlsx"
        start = time.perf_counter()
        rows = write_rvtools(path, populate(np.random.default_rng([0, 0]), args.vms))
        print(f"generated {path.name}: {args.vms} VMs, {sum(rows.values())} data rows in "
              f"{len(rows)} sheets, {path.stat().st_size / 2**20:.1f} MiB "
              f"in {time.perf_counter() - start:.1f} s")
        runs = interleaved(args.repeat, {
            "bare": (bare_read, (path,)),
            "used": (bare_read, (path, SHEETS)),
            "import": (read_rvtools, ([path],)),
        })
    (bare_s, bare_cpu), (used_s, used_cpu), (import_s, import_cpu) = (
        (median(runs[k][0]), median(runs[k][1])) for k in ("bare", "used", "import"))
    cells, estate = runs["bare"][2], runs["import"][2]
    counts = {k: v for k, v in estate.counts().items() if v}
    assert counts["vms"] == rows["vInfo"], (counts, rows["vInfo"])
    print(f"medians of {args.repeat} interleaved runs (wall s / CPU s):")
    print(f"bare calamine read of all sheets: {bare_s:.3f} / {bare_cpu:.3f} ({cells} rows)")
    print(f"bare read of the {len(SHEETS)} sheets the import uses: {used_s:.3f} / {used_cpu:.3f}")
    print(f"read_rvtools:                     {import_s:.3f} / {import_cpu:.3f} -> {counts}")
    print(f"typing/keys/tables on top of reading its sheets: {import_cpu - used_cpu:.3f} CPU s "
          f"({(import_cpu - used_cpu) / used_cpu:.0%} of that read)")
    print(f"VMs per second imported: {args.vms / import_s:,.0f}")
    pairs = [i / b for i, b in zip(runs["import"][0], runs["bare"][0], strict=True)]
    print(f"wall ratio per run: {' '.join(f'{r:.2f}' for r in pairs)} (best {min(pairs):.2f})")
    print(f"CPU-time ratio (less sensitive to other load on the machine): "
          f"{import_cpu / bare_cpu:.2f} ({import_cpu:.3f} s / {bare_cpu:.3f} s)")
    ratio = import_s / bare_s
    verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
    print(f"BENCH rvtools_import_ratio {ratio:.2f} x target <= {TARGET_RATIO} {verdict}")


if __name__ == "__main__":
    main()
