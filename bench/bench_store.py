"""Cost of the atomic, locked estate save against writing the tables in place.

The estate comes from a generated 10,000-VM RVTools export (the bench_import workbook). The
in-place write is what ``Estate.save`` did before it was atomic: each table's Parquet file
and estate.json overwritten where they lie (a kill mid-way leaves a broken estate). The
atomic save writes a new tables folder, flushes it to disk, commits by renaming estate.json
and removes the old folder, under the folder's lock. Both run in turn ``--repeat`` times
after a warm-up. The headline is the cost of the atomic save as a share of an import (read
the export, then save): it must stay within 5 %. The save-only ratio is printed beside it.

Run: .venv/bin/python bench/bench_store.py [--vms 10000] [--repeat 5]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np

from assess.collect.rvtools import read_rvtools
from assess.sample.plant import populate
from assess.sample.rvtools import write_rvtools

TARGET_OVERHEAD = 0.05


def in_place(estate, folder: Path) -> None:
    """The save as it was: every file overwritten in place, no lock, no flush."""
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    for name, frame in estate.tables.items():
        frame.to_parquet(folder / "tables" / f"{name}.parquet", index=False)
    (folder / "estate.json").write_text(json.dumps({"provenance": estate.provenance,
                                                    "counts": estate.counts()}, default=str))


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rvtools.xlsx"
        write_rvtools(path, populate(np.random.default_rng([0, 0]), args.vms))
        read_s = timed(read_rvtools, [path])
        estate = read_rvtools([path])
        runs = {"in place": (in_place, Path(tmp) / "plain"), "atomic": (estate.save, Path(tmp) / "atomic")}
        for label, (fn, folder) in runs.items():  # warm-up: both folders exist, as in a re-import
            fn(*((estate, folder) if label == "in place" else (folder,)))
        times = {label: [] for label in runs}
        for _ in range(args.repeat):
            times["in place"].append(timed(in_place, estate, runs["in place"][1]))
            times["atomic"].append(timed(estate.save, runs["atomic"][1]))
    plain_s, atomic_s = median(times["in place"]), median(times["atomic"])
    overhead = (atomic_s - plain_s) / (read_s + plain_s)
    print(f"read {read_s:.2f} s; save in place {plain_s:.3f} s, atomic {atomic_s:.3f} s "
          f"(save-only ratio {atomic_s / plain_s:.2f})")
    verdict = "PASS" if overhead <= TARGET_OVERHEAD else "MISS"
    print(f"BENCH store_atomic_overhead {overhead:.3f} share_of_import target <= {TARGET_OVERHEAD} {verdict}")


if __name__ == "__main__":
    main()
