"""Time the RVTools import of a generated 10,000-VM export against a bare calamine read.

The export comes from the sample generator (assess.sample: RVTools 4.7.1.4 layout, all 27
sheets). The bare read is what any xlsx reader must pay: every sheet of the workbook turned
into Python rows by python-calamine. The import adds typing, keys, custom attributes and the
canonical tables on top; the headline is the wall-clock ratio of the two (best of several
runs each); the CPU-time ratio is printed too.

Run: .venv/bin/python bench/bench_import.py [--vms 10000] [--repeat 5]
"""

import argparse
import tempfile
import time
from pathlib import Path

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


def best_of(repeat, fn, *args):
    """Best wall-clock and best CPU time of ``repeat`` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


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
        bare_s, bare_cpu, cells = best_of(args.repeat, bare_read, path)
        used_s, _, _ = best_of(args.repeat, bare_read, path, SHEETS)
        import_s, import_cpu, estate = best_of(args.repeat, read_rvtools, [path])
    counts = {k: v for k, v in estate.counts().items() if v}
    assert counts["vms"] == rows["vInfo"], (counts, rows["vInfo"])
    print(f"bare calamine read of all sheets: {bare_s:.3f} s ({cells} rows)")
    print(f"bare read of the {len(SHEETS)} sheets the import uses: {used_s:.3f} s")
    print(f"read_rvtools:                     {import_s:.3f} s -> {counts}")
    print(f"typing/keys/tables on top of reading its sheets: {import_s - used_s:.3f} s "
          f"({(import_s - used_s) / used_s:.0%} of that read)")
    print(f"VMs per second imported: {args.vms / import_s:,.0f}")
    print(f"CPU-time ratio (less sensitive to other load on the machine): "
          f"{import_cpu / bare_cpu:.2f} ({import_cpu:.3f} s / {bare_cpu:.3f} s)")
    ratio = import_s / bare_s
    verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
    print(f"BENCH rvtools_import_ratio {ratio:.2f} x target <= {TARGET_RATIO} {verdict}")


if __name__ == "__main__":
    main()
