import gzip

import pandas as pd
import pytest

from assess.collect.utilization import read_utilization
from assess.model import AssessError, Estate


def _inventory(*rows):
    est = Estate()
    est["vms"] = pd.DataFrame(rows, columns=["vm_id", "name", "instance_uuid"])
    return est


INV = _inventory(*[(f"vc1/vm-{i}", f"app{i}", f"5000-{i}") for i in range(1, 6)])


def _codes(est):
    return est.warnings["code"].tolist()


def _message_for(est, code, file):
    w = est.warnings
    return w[(w["code"] == code) & w["source"].str.endswith(file)]["message"].iloc[0]


def _message(est, code):
    rows = est.warnings[est.warnings["code"] == code]
    assert len(rows) == 1, f"expected one {code}: {est.warnings['code'].tolist()}"
    return rows.iloc[0]["message"]


@pytest.fixture(scope="module")
def bitbrains(shared, tmp_path_factory):
    folder = shared / "data" / "traces" / "bitbrains_rnd"
    mapping = tmp_path_factory.mktemp("map") / "map.csv"
    # VM 3 mapped by instance UUID, VM 5 by vm_id, the others by name
    mapping.write_text("file,vm\nvm1-2013-07.csv,app1\nvm2-2013-07.csv,app2\nvm3-2013-07.csv,5000-3\n"
                       "vm4-2013-07.csv,APP4\nvm5-2013-07.csv,vc1/vm-5\n")
    return read_utilization(sorted(folder.glob("vm*-2013-07.csv")), INV, mapping=mapping)


def test_bitbrains_files_import_with_converted_units(bitbrains):
    u = bitbrains["utilization"]
    assert sorted(u["metric"].unique()) == ["cpu_usage_mhz", "cpu_usage_pct", "disk_kbps", "mem_consumed_mib",
                                            "net_kbps"]
    vm1 = u[u["vm_id"] == "vc1/vm-1"]
    # vm1-2013-07.csv has 8261 lines: a header and 8260 samples, each giving 5 metrics
    assert (vm1.groupby("metric").size() == 8260).all()
    first = vm1[vm1["timestamp"] == vm1["timestamp"].min()].set_index("metric")["value"]
    # epoch 1372629804 s (labelled [ms]) = 2013-06-30 22:03:24 UTC
    assert vm1["timestamp"].min() == pd.Timestamp("2013-06-30 22:03:24", tz="UTC")
    assert first["cpu_usage_mhz"] == pytest.approx(87.7799835)
    assert first["mem_consumed_mib"] == pytest.approx(1034592.8 / 1024)  # KB -> MiB
    assert first["disk_kbps"] == pytest.approx(160.86666666666667 + 21.733333333333334)  # read + write
    assert first["net_kbps"] == pytest.approx(0.26666666666666666 + 1.4666666666666666)  # rx + tx
    # the 300 s step (jittered 299..307 s) is recorded as the interval
    assert set(u["interval_s"]) == {300}
    assert sorted(u["vm_id"].unique()) == [f"vc1/vm-{i}" for i in range(1, 6)]
    assert len(u) == (8260 + 8262 + 8254 + 8253 + 8262) * 5


def test_bitbrains_oddities_are_reported_not_fixed(bitbrains):
    codes = _codes(bitbrains)
    assert codes.count("utilization.timestamp.unit") == 5
    gap = _message_for(bitbrains, "utilization.gap", "vm1-2013-07.csv")
    # vm1 steps over 450 s: 600, 600 (1 missing each), 3300 (10 missing), 110414 (round(368.05)-1
    # = 367 missing): 4 gaps, 1+1+10+367 = 379 missing, longest 110414 s = 30.7 h
    assert "vc1/vm-1: 4 gap(s), ~379 missing sample(s) of 300 s, longest 30.7 h" in gap
    zero = _message_for(bitbrains, "utilization.memory.zero", "vm2-2013-07.csv")
    assert "vc1/vm-2 (4651 of 8262)" in zero
    u = bitbrains["utilization"]
    mem2 = u[(u["vm_id"] == "vc1/vm-2") & (u["metric"] == "mem_consumed_mib")]
    assert (mem2["value"] == 0).sum() == 4651  # kept as found


PER_VM = (
    "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\t"
    "Memory capacity provisioned [KB];\tMemory usage [KB];\tNetwork received throughput [KB/s];\t"
    "Network transmitted throughput [KB/s]\n"
)


def _per_vm(rows):
    return PER_VM + "".join(";\t".join(str(v) for v in r) + "\n" for r in rows)


def test_gap_duplicate_zero_capacity_kept_and_reported(tmp_path):
    f = tmp_path / "app1.csv"  # no mapping: the file stem names the VM
    f.write_text(_per_vm([
        (1000, 2, 5000, 100, 2048, 1024, 1, 2),
        (1300, 2, 5000, 200, 2048, 2048, 1, 2),
        (1300, 2, 5000, 200, 2048, 2048, 1, 2),   # duplicate timestamp
        (2200, 2, 0, 0, 0, 0, 0, 0),              # gap of 900 s (2 missing), zero capacity
        (2500, 2, 5000, "", 2048, 512, 1, 2),     # empty CPU value
    ]))
    est = read_utilization([f], INV)
    u = est["utilization"]
    assert len(u) == 5 * 3  # 5 rows x (cpu mhz, mem, net): nothing dropped
    assert sorted(u["metric"].unique()) == ["cpu_usage_mhz", "mem_consumed_mib", "net_kbps"]
    cpu = u[u["metric"] == "cpu_usage_mhz"].sort_values("timestamp")
    assert cpu["value"].isna().sum() == 1
    assert cpu["interval_s"].iloc[0] == 300  # median of steps 300, 0, 900, 300 over positive = 300
    assert "1 duplicate timestamp(s) in 1 VM(s)" in _message(est, "utilization.timestamp.duplicate")
    # 900 s / 300 s = 3 steps -> 2 missing samples
    assert "vc1/vm-1: 1 gap(s), ~2 missing sample(s) of 300 s" in _message(est, "utilization.gap")
    assert "1 row(s) report zero CPU or memory capacity" in _message(est, "utilization.capacity.zero")
    assert "vc1/vm-1 (1 of 15)" in _message(est, "utilization.value.missing")


def test_vm_without_memory_and_unmapped_file_are_reported(tmp_path):
    no_mem = tmp_path / "export-17.csv"
    no_mem.write_text("Time,CPU|Usage (MHz),Disk|Usage (KB/s)\n"
                      "2024-05-01T00:00:00Z,10,5\n2024-05-01T00:05:00Z,20,6\n")
    stranger = tmp_path / "export-99.csv"
    stranger.write_text("Time,CPU|Usage (MHz)\n2024-05-01T00:00:00Z,10\n2024-05-01T00:05:00Z,11\n")
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,vm\nexport-17.csv,5000-2\nexport-99.csv,ghost-vm\n")
    est = read_utilization([no_mem], INV, mapping=mapping)
    u = est["utilization"]
    assert set(u["vm_id"]) == {"vc1/vm-2"} and len(u) == 4  # 2 rows x (cpu, disk)
    assert "vc1/vm-2" in _message(est, "utilization.memory.missing")
    # a file none of whose samples can be imported is an error naming the file, the value and the count
    with pytest.raises(AssessError, match=r"export-99.csv: none of its 2 row\(s\) could be imported: .*"
                       r"'ghost-vm' \(2\)"):
        read_utilization([no_mem, stranger], INV, mapping=mapping)


LONG = (
    "vm,timestamp,metric,value,interval_s\n"
    "app1,2024-05-01T00:00:00Z,cpu_usage_mhz,100,7200\n"
    "app1,2024-05-01T02:00:00Z,cpu_usage_mhz,300,7200\n"
    "5000-2,2024-05-01T00:00:00+02:00,mem_consumed_mib,2048,7200\n"
    "vc1/vm-3,2024-05-01T00:00:00Z,net_kbps,1.5,7200\n"
    "nobody,2024-05-01T00:00:00Z,cpu_usage_mhz,1,7200\n"
    "nobody,2024-05-01T02:00:00Z,cpu_usage_mhz,1,7200\n"
    "app1,yesterday,cpu_usage_mhz,1,7200\n"
    "app1,2024-05-01T04:00:00Z,cpu_wait,1,7200\n"
)


def test_long_csv_gz_resolves_names_uuids_and_ids(tmp_path):
    path = tmp_path / "utilization.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(LONG)
    est = read_utilization([path], INV)
    u = est["utilization"].sort_values(["vm_id", "timestamp"]).reset_index(drop=True)
    assert list(zip(u["vm_id"], u["metric"], u["value"])) == [
        ("vc1/vm-1", "cpu_usage_mhz", 100.0), ("vc1/vm-1", "cpu_usage_mhz", 300.0),
        ("vc1/vm-2", "mem_consumed_mib", 2048.0), ("vc1/vm-3", "net_kbps", 1.5)]
    # +02:00 offset converted to UTC
    assert u.loc[2, "timestamp"] == pd.Timestamp("2024-04-30 22:00", tz="UTC")
    assert (u["interval_s"] == 7200).all()
    assert "'nobody' (2)" in _message(est, "utilization.vm.unknown")
    assert "1 sample(s) with an unreadable timestamp (e.g. 'yesterday')" in _message(
        est, "utilization.timestamp.invalid")
    assert "metric 'cpu_wait'" in _message(est, "utilization.metric.unknown")
    # vm-3 has only network, vm-1 only CPU: both lack memory data
    assert "2 VM(s) have no memory data" in _message(est, "utilization.memory.missing")


def test_ambiguous_vm_name_is_not_guessed(tmp_path):
    inv = _inventory(("a/vm-1", "web", "u1"), ("b/vm-1", "web", "u2"))
    path = tmp_path / "u.csv"
    path.write_text("vm,timestamp,metric,value\nweb,2024-05-01T00:00:00Z,cpu_usage_mhz,1\n"
                    "u2,2024-05-01T00:00:00Z,cpu_usage_mhz,2\n")
    est = read_utilization([path], inv, format="long-csv")
    assert est["utilization"]["vm_id"].tolist() == ["b/vm-1"]
    assert "'web' names several VMs (a/vm-1, b/vm-1)" in _message(est, "utilization.vm.ambiguous")


def test_assess_parquet_round_trips(tmp_path):
    src = Estate()
    src["utilization"] = pd.DataFrame({
        "vm_id": ["vc1/vm-4"] * 3, "timestamp": pd.date_range("2024-01-01", periods=3, freq="20s", tz="UTC"),
        "metric": ["cpu_usage_pct"] * 3, "value": [1.0, 2.0, None], "interval_s": [20, 20, 20]})
    path = tmp_path / "perf.parquet"
    src["utilization"].to_parquet(path)
    est = read_utilization([path], INV)
    pd.testing.assert_frame_equal(est["utilization"], src["utilization"])
    assert est.provenance[0]["format"] == "assess"


def test_bad_input_gives_clear_errors(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    with pytest.raises(AssessError, match="junk.csv: unknown utilization layout.*--format"):
        read_utilization([junk], INV)
    with pytest.raises(AssessError, match="no VMs.*import the inventory first"):
        read_utilization([junk], Estate())
    with pytest.raises(AssessError, match="missing.csv: no such utilization file"):
        read_utilization([tmp_path / "missing.csv"], INV)
    bad_unit = tmp_path / "x.csv"
    bad_unit.write_text("Time,Memory usage [pages]\n2024-01-01T00:00:00Z,5\n")
    with pytest.raises(AssessError, match="'Memory usage \\[pages\\]' has unit 'pages'"):
        read_utilization([bad_unit], INV, format="per-vm-csv")


def test_gap_screen_catches_a_duplicate_that_hides_a_missing_sample(tmp_path):
    # Recorded 300 s intervals. app1: 48 regular samples. app2: 48 samples over the same span,
    # but slot 10 is missing and slot 20 is doubled (the count alone looks regular, as after a
    # DST change in a local-time export). app3: timestamps jitter off the grid by a few seconds.
    start = pd.Timestamp("2024-05-01T00:00:00Z")
    slots = list(range(48))
    doubled = [s for s in slots if s != 10] + [20]
    rows = [("app1", start + pd.Timedelta(seconds=300 * s)) for s in slots]
    rows += [("app2", start + pd.Timedelta(seconds=300 * s)) for s in doubled]
    rows += [("app3", start + pd.Timedelta(seconds=300 * s + (s % 3) * 4)) for s in slots]
    path = tmp_path / "utilization.csv"
    path.write_text("vm,timestamp,metric,value,interval_s\n" + "".join(
        f"{vm},{ts.isoformat()},cpu_usage_mhz,100,300\n" for vm, ts in rows))
    est = read_utilization([path], INV)
    assert len(est["utilization"]) == 3 * 48
    dup = _message(est, "utilization.timestamp.duplicate")
    assert "1 duplicate timestamp(s) in 1 VM(s)" in dup and "vc1/vm-2 (1)" in dup
    gap = _message(est, "utilization.gap")
    assert "in 1 VM(s)" in gap and "vc1/vm-2: 1 gap(s), ~1 missing sample(s) of 300 s" in gap


def test_a_period_two_files_both_hold_is_reported_as_duplicates(tmp_path):
    # Each file alone is a perfect 300 s series; together the VM has every sample twice.
    start = pd.Timestamp("2024-05-01T00:00:00Z")
    stamps = [(start + pd.Timedelta(seconds=300 * s)).isoformat() for s in range(24)]
    rows = "".join(f"app1,{t},cpu_usage_mhz,100,300\n" for t in stamps)
    text = "vm,timestamp,metric,value,interval_s\n" + rows
    first, second = tmp_path / "utilization-a.csv", tmp_path / "utilization-b.csv"
    first.write_text(text)
    second.write_text(text)
    est = read_utilization([first, second], INV)
    assert len(est["utilization"]) == 48  # kept, as found
    dup = _message(est, "utilization.timestamp.duplicate")
    assert "24 duplicate timestamp(s) in 1 VM(s)" in dup and "vc1/vm-1 (24)" in dup


# What `Get-Stat -Entity (Get-VM app1,app2) -Stat ... | Export-Csv` writes in Windows PowerShell 5.1:
# a #TYPE line, then one row per sample and instance; en-US timestamps; memory in KB, rates in KBps.
POWERCLI = (
    "#TYPE VMware.VimAutomation.ViCore.Impl.V1.Stat.FloatSampleImpl\n"
    '"Value","Timestamp","MetricId","Unit","Description","Entity","EntityId","IntervalSecs","Instance"\n'
    '"812","5/1/2024 2:00:00 PM","cpu.usagemhz.average","MHz","CPU usage in MHz","app1",'
    '"VirtualMachine-vm-1","300",""\n'
    '"500","5/1/2024 2:00:00 PM","cpu.usagemhz.average","MHz","CPU usage in MHz","app1",'
    '"VirtualMachine-vm-1","300","0"\n'
    '"312","5/1/2024 2:00:00 PM","cpu.usagemhz.average","MHz","CPU usage in MHz","app1",'
    '"VirtualMachine-vm-1","300","1"\n'
    '"2097152","5/1/2024 2:00:00 PM","mem.consumed.average","KB","Memory consumed","app1",'
    '"VirtualMachine-vm-1","300",""\n'
    '"12.5","5/1/2024 2:00:00 PM","cpu.usage.average","%","CPU usage","app2",'
    '"VirtualMachine-vm-2","300","0"\n'
    '"7.5","5/1/2024 2:00:00 PM","cpu.usage.average","%","CPU usage","app2","VirtualMachine-vm-2","300","1"\n'
    '"40","5/1/2024 2:05:00 PM","net.usage.average","KBps","Network usage","app2",'
    '"VirtualMachine-vm-2","300","4000"\n'
    '"24","5/1/2024 2:05:00 PM","net.usage.average","KBps","Network usage","app2",'
    '"VirtualMachine-vm-2","300","4001"\n'
    '"524288","5/1/2024 14:05:00","mem.active.average","KB","Memory active","app2",'
    '"VirtualMachine-vm-2","300",""\n'
)


def test_powercli_get_stat_export_imports_every_sample(tmp_path):
    path = tmp_path / "getstat.csv"
    path.write_text(POWERCLI, encoding="utf-8-sig")  # Windows PowerShell's Export-Csv -Encoding UTF8: a BOM
    est = read_utilization([path], INV)
    assert est.provenance[0]["format"] == "powercli"
    u = est["utilization"].sort_values(["vm_id", "metric"]).reset_index(drop=True)
    got = list(zip(u["vm_id"], u["metric"], u["value"], u["interval_s"]))
    assert got == [
        ("vc1/vm-1", "cpu_usage_mhz", 812.0, 300),      # the aggregate row; per-vCPU rows 500 + 312 not added
        ("vc1/vm-1", "mem_consumed_mib", 2048.0, 300),  # 2097152 KB / 1024
        ("vc1/vm-2", "cpu_usage_pct", 10.0, 300),       # no aggregate row: per-vCPU 12.5 and 7.5 averaged
        ("vc1/vm-2", "mem_active_mib", 512.0, 300),     # 524288 KB; 24-hour clock read too
        ("vc1/vm-2", "net_kbps", 64.0, 300),            # no aggregate row: NICs 40 + 24 summed
    ]
    assert (u["timestamp"].iloc[:3] == pd.Timestamp("2024-05-01 14:00", tz="UTC")).all()
    assert u.loc[4, "timestamp"] == pd.Timestamp("2024-05-01 14:05", tz="UTC")


def test_long_csv_with_vcenter_counter_names_and_epoch_seconds(tmp_path):
    path = tmp_path / "utilization.csv"
    path.write_text(
        "vm,timestamp,metric,value,interval_s\n"
        "app3,1714572000,cpu.usagemhz.average,900,7200\n"          # epoch seconds: 2024-05-01T14:00Z
        "app3,1714579200000,mem.consumed.average,4194304,7200\n"   # epoch milliseconds, KB
        "app3,2024-05-01T14:00:00Z,disk.usage.average,120,7200\n"
        "app3,2024-05-01T14:00:00Z,cpu.ready.summation,35,7200\n"
        "app3,2024-05-01T14:00:00Z,mem.usage.average,50,7200\n")  # % of configured memory: not a metric
    est = read_utilization([path], INV)
    u = est["utilization"].sort_values("metric").reset_index(drop=True)
    assert list(zip(u["metric"], u["value"])) == [
        ("cpu_ready_ms", 35.0), ("cpu_usage_mhz", 900.0), ("disk_kbps", 120.0), ("mem_consumed_mib", 4096.0)]
    times = u.set_index("metric")["timestamp"]
    assert times["cpu_usage_mhz"] == pd.Timestamp("2024-05-01 14:00", tz="UTC")
    assert times["mem_consumed_mib"] == pd.Timestamp("2024-05-01 16:00", tz="UTC")
    assert "metric 'mem.usage.average'" in _message(est, "utilization.metric.unknown")


def test_a_file_with_nothing_to_import_is_an_error_naming_it(tmp_path):
    empty = tmp_path / "utilization-empty.csv"
    empty.write_text("vm,timestamp,metric,value\n")
    with pytest.raises(AssessError, match="utilization-empty.csv: holds a header and no samples"):
        read_utilization([empty], INV)
    wrong = tmp_path / "utilization-wrong.csv"
    wrong.write_text("vm,timestamp,metric,value\napp1,2024-05-01T00:00:00Z,cpu_wait,1\n"
                     "app1,later,cpu_usage_mhz,2\n")
    with pytest.raises(AssessError, match=r"utilization-wrong.csv: none of its 2 row\(s\) could be imported: "
                       r".*unreadable timestamp \(e.g. 'later'\).*metric 'cpu_wait'"):
        read_utilization([wrong], INV)


def test_a_zero_interval_is_no_interval(tmp_path):
    # found by the fuzz suite: interval_s 0 divided by zero in the gap screen
    path = tmp_path / "u.csv"
    path.write_text("vm,timestamp,metric,value,interval_s\napp1,2025-11-01T02:00:00Z,cpu_usage_mhz,5,0\n"
                    "app1,2025-11-01T02:05:00Z,cpu_usage_mhz,6,-300\n")
    u = read_utilization([path], INV)["utilization"]
    assert u["value"].tolist() == [5.0, 6.0] and (u["interval_s"] == 300).all()  # inferred from the spacing


def test_the_nothing_imported_error_is_one_line_whatever_the_values():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "u.csv"
        path.write_text('vm,timestamp,metric,value\n"ghost\nvm",2025-11-01T02:00:00Z,cpu_usage_mhz,5\n')
        with pytest.raises(AssessError) as info:
            read_utilization([path], INV)
    assert "\n" not in str(info.value) and "'ghost\\nvm' (1)" in str(info.value)
