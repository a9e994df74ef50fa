"""Import a generated long utilization CSV (gzip) and summarise it out of core.

Usage: python bench/bench_utilization.py [--vms 10000] [--samples 360]

Writes N VMs x samples x 4 metrics as ``vm,timestamp,metric,value,interval_s`` (VM names, 2-hour
steps), then times: a bare DuckDB scan of the file (the floor), ``read_utilization`` into
pandas, and ``file_stats`` over the same rows saved as Parquet. Prints peak RSS.
"""

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import psutil

from assess.collect.utilization import read_utilization
from assess.model import Estate
from assess.sizing.utilization_stats import file_stats


def generate(path: Path, vms: int, samples: int) -> None:
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT 'vm-' || v AS vm, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_hours(2 * s) AS timestamp,
               m AS metric, round(random() * 1000, 2) AS value, 7200 AS interval_s
        FROM range({vms}) t(v), range({samples}) u(s),
             (VALUES ('cpu_usage_mhz'), ('mem_consumed_mib'), ('disk_kbps'), ('net_kbps')) x(m)
        ORDER BY v, m, s) TO '{path}' (HEADER, COMPRESSION gzip)""")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--samples", type=int, default=360)
    args = parser.parse_args()
    rows = args.vms * args.samples * 4
    proc = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "utilization.csv.gz"
        t = time.perf_counter()
        generate(path, args.vms, args.samples)
        size = path.stat().st_size / 1e6
        print(f"generated {rows:,} samples, {size:.0f} MB gz in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        duckdb.sql(f"SELECT count(*), max(value) FROM read_csv('{path}', header=true)").fetchall()
        scan = time.perf_counter() - t
        inv = Estate()
        inv["vms"] = pd.DataFrame({"vm_id": [f"vc/vm-{i}" for i in range(args.vms)],
                                   "name": [f"vm-{i}" for i in range(args.vms)]})
        base = proc.memory_info().rss
        t = time.perf_counter()
        est = read_utilization([path], inv)
        imported = time.perf_counter() - t
        assert len(est["utilization"]) == rows, len(est["utilization"])
        parquet = Path(tmp) / "utilization.parquet"
        est["utilization"].to_parquet(parquet)
        del est
        t = time.perf_counter()
        stats = file_stats([parquet], memory_limit="4GB")
        summarised = time.perf_counter() - t
        assert len(stats) == args.vms * 4
    peak = psutil.Process().memory_info().rss
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except ImportError:
        pass
    print(f"bare DuckDB scan     {scan:8.1f} s")
    print(f"read_utilization     {imported:8.1f} s  ({rows / imported / 1e6:.2f} M samples/s)")
    print(f"file_stats (parquet) {summarised:8.1f} s")
    print(f"peak RSS             {peak / 2**30:8.2f} GiB (before import {base / 2**30:.2f} GiB)")
    ratio = imported / scan
    rate = rows / imported / 1e6
    print(f"BENCH utilization_import_vs_scan {ratio:.2f} x target <= 4 {'PASS' if ratio <= 4 else 'MISS'}")
    print(f"BENCH utilization_import_rate {rate:.2f} Msamples/s target >= 1 "
          f"{'PASS' if rate >= 1 else 'MISS'}")
    stat_rate = rows / summarised / 1e6
    print(f"BENCH utilization_stats_rate {stat_rate:.2f} Msamples/s target >= 2 "
          f"{'PASS' if stat_rate >= 2 else 'MISS'}")


if __name__ == "__main__":
    main()
