"""End to end: `assess run` on a generated estate of N VMs, each stage timed, with peak RSS.

The estate comes from the sample generator (``assess.sample.generate_sample``): N VMs over
N/40 hosts and several vCenters (from 20,000 VMs), 30 days of 2-hour samples for 4 metrics,
Azure Migrate flows (about 5 edges per VM). Generated files are cached in
``bench/.cache/e2e/vms<N>-seed<S>`` (git-ignored), so re-runs skip generation; generation time is
reported apart, never as a stage.

Stages are those of ``assess.pipeline.run``: import, readiness, sizing (right-sizing, idle,
profiles, mapping), packing (``place_vms`` within sizing), waves, report (HTML and exports) and
store (Parquet tables, summary). A background thread samples RSS every 20 ms; each stage gets
its wall seconds, share, user CPU seconds and the peak RSS seen while it ran.

The floor for the import is a bare read of the same files: DuckDB scanning the utilization and
flows CSVs (every field parsed, nothing kept) plus python-calamine reading every sheet of the
xlsx (DuckDB cannot read xlsx without its excel extension, which is not installed offline).

Stages print as they start; past ``--budget`` seconds (default 3 x the target) the run stops
and the figures so far are printed with MISS.

Run: .venv/bin/python bench/bench_e2e.py --vms 10000 [--seed 0] [--keep DIR] [--budget S]
"""

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil
import python_calamine

import assess.report.html
import assess.sizing.stage
from assess import pipeline
from assess.sample import generate_sample

CACHE = Path(__file__).parent / ".cache" / "e2e"
STAGES = ["import", "readiness", "sizing", "packing", "retire_idle", "waves", "report", "store"]
GB = 1e9
TARGETS = {100_000: 600.0, 10_000: 60.0}
RSS_TARGET_GB = 8.0
SCAN_RATIO_TARGET = 2.0


def cached_sample(vms: int, seed: int) -> tuple[Path, float, bool]:
    """The sample folder for (vms, seed), generated once; its generation seconds; whether cached."""
    folder = CACHE / f"vms{vms}-seed{seed}"
    if (folder / "generated.json").is_file():
        return folder, json.loads((folder / "generated.json").read_text())["seconds"], True
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    start = time.perf_counter()
    generate_sample(partial, vms, seed)
    seconds = time.perf_counter() - start
    (partial / "generated.json").write_text(json.dumps({"seconds": seconds}))
    partial.rename(folder)
    return folder, seconds, False


def bare_scan(folder: Path) -> float:
    """Seconds to read every input file once with the fastest bare reader."""
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for name in ("utilization.csv.gz", "flows.csv"):  # every field parsed, nothing kept
        source = f"read_csv('{folder / name}', header=true, all_varchar=true)"
        columns = con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
        lengths = ", ".join(f'max(length("{c[0]}"))' for c in columns)
        con.execute(f"SELECT {lengths} FROM {source}").fetchall()
    con.close()
    book = python_calamine.CalamineWorkbook.from_path(str(folder / "rvtools.xlsx"))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
    return time.perf_counter() - start


class StageClock:
    """Wall time, user CPU and peak RSS per stage label; RSS sampled by a background thread."""

    def __init__(self):
        self.proc = psutil.Process()
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.user = dict.fromkeys(STAGES, 0.0)
        self.peak = dict.fromkeys(STAGES, 0)
        self.label = None
        self._since = self._cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.02):
            label = self.label
            if label:
                self.peak[label] = max(self.peak[label], self.proc.memory_info().rss)

    def enter(self, label: str | None) -> str | None:
        now, cpu = time.perf_counter(), self._user_cpu()
        previous = self.label
        if previous:
            self.seconds[previous] += now - self._since
            self.user[previous] += cpu - self._cpu
            self.peak[previous] = max(self.peak[previous], self.proc.memory_info().rss)
        self.label, self._since, self._cpu = label, now, cpu
        if label and label != previous:
            print(f"  [{sum(self.seconds.values()):7.1f} s] {label}", flush=True)
        if label:
            self.peak[label] = max(self.peak[label], self.proc.memory_info().rss)
        return previous

    def _user_cpu(self) -> float:
        cpu = self.proc.cpu_times()
        return cpu.user + getattr(cpu, "children_user", 0.0)

    def progress(self, name: str) -> None:
        """Callback for ``pipeline.run``: its "report" step starts with the tables (store)."""
        self.enter("store" if name == "report" else name)

    def wrap(self, module, attr: str, label: str) -> None:
        """Count the time inside ``module.attr`` as ``label``, then return to the caller's stage."""
        inner = getattr(module, attr)

        def timed(*args, **kwargs):
            outer = self.enter(label)
            try:
                return inner(*args, **kwargs)
            finally:
                self.enter(outer)

        setattr(module, attr, timed)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.enter(None)
        self._stop.set()
        self._thread.join()


def run_timed(clock: StageClock, folder: Path, out: Path) -> dict:
    clock.wrap(assess.sizing.stage, "place_vms", "packing")
    clock.wrap(assess.report.html, "render_report", "report")
    try:
        clock.wrap(importlib.import_module("assess.report.exports"), "write_exports", "report")
    except ImportError:  # the exports module is optional
        pass
    with clock:
        return pipeline.run(folder, out, progress=clock.progress)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the run folder here (kept); default a temp folder")
    parser.add_argument("--budget", type=float, help="stop (MISS) after this many seconds; default 3x target")
    args = parser.parse_args()

    folder, gen_s, cached = cached_sample(args.vms, args.seed)
    sizes = {p.name: p.stat().st_size / 2**20 for p in sorted(folder.iterdir()) if p.suffix != ".json"}
    print(f"estate: {args.vms:,} VMs, seed {args.seed}, {folder} "
          f"({', '.join(f'{k} {v:.0f} MiB' for k, v in sizes.items())})")
    print(f"generation: {gen_s:.1f} s{' (cached, measured when generated)' if cached else ''}")
    scan_s = bare_scan(folder)
    tmp = None
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
        out = args.keep
    else:
        tmp = tempfile.TemporaryDirectory()
        out = Path(tmp.name) / "run"
    clock = StageClock()
    budget = args.budget if args.budget is not None else 3 * target_seconds(args.vms)
    watchdog = threading.Timer(budget, stop, (clock, scan_s, args.vms, budget, tmp))
    watchdog.daemon = True
    watchdog.start()
    try:
        summary = run_timed(clock, folder, out)
    finally:
        watchdog.cancel()
        if tmp:
            tmp.cleanup()
    report(clock, scan_s, args.vms, summary)


def target_seconds(vms: int) -> float:
    return TARGETS.get(vms, 600.0 * vms / 100_000)


def stop(clock: StageClock, scan_s: float, vms: int, budget: float, tmp) -> None:
    """Over budget: print what was measured (the stage running is counted so far) and exit."""
    stage = clock.label
    clock.enter(stage)
    print(f"\nSTOPPED after the budget of {budget:.0f} s, in stage {stage}", flush=True)
    report(clock, scan_s, vms, None)
    sys.stdout.flush()
    if tmp:
        tmp.cleanup()
    os._exit(1)


def report(clock: StageClock, scan_s: float, vms: int, summary: dict | None) -> None:
    total = sum(clock.seconds.values())
    user = sum(clock.user.values())
    print(f"\n{'stage':<10} {'seconds':>9} {'share':>7} {'user CPU s':>11} {'peak RSS GB':>12}")
    for name in STAGES:
        print(f"{name:<10} {clock.seconds[name]:9.1f} {clock.seconds[name] / total:7.1%} "
              f"{clock.user[name]:11.1f} {clock.peak[name] / GB:12.2f}")
    peak = max(clock.peak.values()) / GB
    print(f"{'total':<10} {total:9.1f} {1:7.1%} {user:11.1f} {peak:12.2f}")
    if summary:
        counts, results = summary["counts"], summary["results"]
        print(f"\nVMs {counts['vms']:,}, utilization samples {counts['utilization']:,}, "
              f"flows {counts['flows']:,}; nodes {results['sizing']['nodes']:,}, "
              f"waves {results['waves']['waves']:,}")
    ratio = clock.seconds["import"] / scan_s
    print(f"bare scan of the inputs {scan_s:.1f} s; import {clock.seconds['import']:.1f} s")
    target = target_seconds(vms)
    over = "" if summary else ">"  # stopped: the run would have taken longer
    print(f"BENCH e2e_seconds_{vms} {over}{total:.1f} s target <= {target:g} "
          f"{verdict(summary is not None and total <= target)}")
    print(f"BENCH e2e_peak_rss_{vms} {peak:.2f} GB target <= {RSS_TARGET_GB:g} "
          f"{verdict(peak <= RSS_TARGET_GB)}")
    print(f"BENCH import_vs_scan_{vms} {ratio:.2f} x target <= {SCAN_RATIO_TARGET:g} "
          f"{verdict(ratio <= SCAN_RATIO_TARGET)}")


if __name__ == "__main__":
    main()
