"""The vCenter collector against govmomi's real vCenter simulator (vcsim), built and started here."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.request

import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
from pyVmomi import vim
from typer.testing import CliRunner
from vcsim_harness import PASSWORD, USER, start_vcsim

from assess.cli.common import app
from assess.collect.vcenter import Target, collect_vcenter
from assess.model import AssessError
from assess.model.estate import Estate

pytestmark = pytest.mark.system

VMS_PER_POOL, HOSTS_PER_CLUSTER = 3, 2


def _admin(sim):
    """An independent pyVmomi connection the test uses to read and change the simulator."""
    return SmartConnect(host=sim.host, port=sim.port, user=USER, pwd=PASSWORD, disableSslCertValidation=True)


def _count(content, kind) -> int:
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return len(view.view)
    finally:
        view.DestroyView()


def _rest(sim, method, path, body=None, session=None):
    context = ssl._create_unverified_context()  # the test's own helper; the collector verifies
    headers = {"Content-Type": "application/json"}
    if session:
        headers["vmware-api-session-id"] = session
    else:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(f"https://{sim.server}/rest/com/vmware/cis{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers)
    with urllib.request.urlopen(request, context=context) as response:
        payload = response.read()
    return json.loads(payload).get("value") if payload else None


def _change_vm(si, vm):
    """Add a 2 GiB eager-zeroed multi-writer disk on a new physical-bus-sharing controller, turn on CBT."""
    controller = vim.vm.device.ParaVirtualSCSIController(key=-101, busNumber=1, sharedBus="physicalSharing")
    disk = vim.vm.device.VirtualDisk(
        key=-102, controllerKey=-101, unitNumber=0, capacityInKB=2 * 1024 * 1024,
        backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
            diskMode="independent_persistent", thinProvisioned=False, eagerlyScrub=True,
            sharing="sharingMultiWriter", fileName=""),
    )
    spec = vim.vm.ConfigSpec(
        changeTrackingEnabled=True,
        extraConfig=[vim.option.OptionValue(key="disk.EnableUUID", value="TRUE")],
        deviceChange=[
            vim.vm.device.VirtualDeviceSpec(operation="add", device=controller),
            vim.vm.device.VirtualDeviceSpec(operation="add", fileOperation="create", device=disk),
        ],
    )
    WaitForTask(vm.ReconfigVM_Task(spec))


@pytest.fixture(scope="module")
def sim():
    server = start_vcsim(vms=VMS_PER_POOL, hosts=HOSTS_PER_CLUSTER)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def truth(sim):
    """What the simulator holds, read and arranged through the API before collecting."""
    si = _admin(sim)
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    vms = sorted(view.view, key=lambda v: v._moId)
    view.DestroyView()
    changed, tagged = vms[0], vms[1:3]
    _change_vm(si, changed)
    field = content.customFieldsManager.AddCustomFieldDef(name="owner", moType=vim.VirtualMachine)
    content.customFieldsManager.SetField(entity=changed, key=field.key, value="team-a")
    session = _rest(sim, "POST", "/session")
    category = _rest(sim, "POST", "/tagging/category", {"create_spec": {
        "name": "app", "description": "", "cardinality": "SINGLE", "associable_types": []}}, session)
    tag = _rest(sim, "POST", "/tagging/tag", {"create_spec": {
        "name": "billing", "description": "", "category_id": category}}, session)
    for vm in tagged:
        _rest(sim, "POST", f"/tagging/tag-association/id:{tag}?~action=attach",
              {"object_id": {"type": "VirtualMachine", "id": vm._moId}}, session)
    facts = dict(
        uuid=content.about.instanceUuid,
        vms=len(vms), hosts=_count(content, vim.HostSystem),
        clusters=_count(content, vim.ClusterComputeResource), datastores=_count(content, vim.Datastore),
        networks=_count(content, vim.Network), changed=changed._moId,
        tagged=sorted(v._moId for v in tagged),
        names={v._moId: v.name for v in vms},
    )
    Disconnect(si)
    return facts


@pytest.fixture(scope="module")
def estate(sim, truth) -> Estate:
    return collect_vcenter(Target(sim.host, USER, PASSWORD, port=sim.port, thumbprint=sim.thumbprint()),
                           lookback_days=1)


def test_counts_match_what_the_simulator_holds(estate, truth):
    # VPX model: 1 standalone host + 1 cluster of 2 hosts, one pool each with 3 VMs -> 6 VMs, 3 hosts.
    assert truth["vms"] == 6 and truth["hosts"] == 3
    counts = estate.counts()
    for table in ("vms", "hosts", "clusters", "datastores", "networks"):
        assert counts[table] == truth[table], table
    vms = estate["vms"].set_index("moref")
    assert dict(vms["name"]) == truth["names"]
    # vm_id is '<instanceUuid>/<moref>' so an RVTools import of the same vCenter merges by key.
    assert set(estate["vms"]["vm_id"]) == {f"{truth['uuid']}/{m}" for m in truth["names"]}
    assert estate["clusters"].loc[0, "hosts"] == HOSTS_PER_CLUSTER
    assert set(estate["hosts"]["cluster"].dropna()) == {estate["clusters"].loc[0, "name"]}


def test_devices_of_the_changed_vm(estate, truth):
    vm_id = f"{truth['uuid']}/{truth['changed']}"
    vm = estate["vms"].set_index("vm_id").loc[vm_id]
    assert bool(vm["cbt_enabled"]) and bool(vm["disk_enable_uuid"])
    disks = estate["disks"][estate["disks"]["vm_id"] == vm_id].sort_values("unit_number")
    assert len(disks) == 2  # the simulator's own disk + the one the test added
    added = disks[disks["sharing"] == "sharingMultiWriter"]
    assert len(added) == 1
    added = added.iloc[0]
    assert added["capacity_mib"] == 2048.0  # 2 * 1024 * 1024 KB / 1024
    assert not added["thin"] and added["eager_scrub"]
    assert added["disk_mode"] == "independent_persistent"
    assert added["controller"] == "VMware paravirtual SCSI" and added["bus_sharing"] == "physicalSharing"
    others = estate["disks"][estate["disks"]["vm_id"] != vm_id]
    assert (others["sharing"] == "sharingNone").all()
    attributes = estate["attributes"]
    owner = attributes[(attributes["kind"] == "custom") & (attributes["name"] == "owner")]
    assert owner[["vm_id", "value"]].values.tolist() == [[vm_id, "team-a"]]


def test_tags_come_from_one_bulk_association_call(estate, truth):
    tags = estate["attributes"][estate["attributes"]["kind"] == "tag"]
    assert sorted(tags["vm_id"]) == [f"{truth['uuid']}/{m}" for m in truth["tagged"]]
    assert set(tags["name"]) == {"app"} and set(tags["value"]) == {"billing"}
    # session + category list + 1 category + tag list + 1 tag + 1 bulk association + logout = 7,
    # whatever the number of VMs.
    assert estate.provenance[0]["rest_calls"] == 7


def test_perf_samples_for_several_vms_from_one_query(estate, truth):
    perf = estate.provenance[0]["performance"]
    assert perf["query_perf_calls"] == 1  # 6 VMs x 9 counters = 54 metrics <= 256 per call
    assert perf["interval_s"] == 20 and perf["historical_intervals"] == []
    util = estate["utilization"]
    assert util["vm_id"].nunique() >= 3
    assert {"cpu_usage_mhz", "mem_consumed_mib", "net_kbps"} <= set(util["metric"])
    assert (util["interval_s"] == 20).all()
    assert "vcenter.perf.no_history" in set(estate.warnings["code"])
    # vcsim answers without historical intervals, so real-time samples are capped at one hour.
    per_series = util.groupby(["vm_id", "metric"]).size()
    assert per_series.max() <= 180


def test_inventory_is_read_in_pages_not_per_object(estate):
    calls = estate.provenance[0]["soap_calls_by_method"]
    # Login, content, one view, one RetrievePropertiesEx for the inventory + 2 single-object
    # reads (custom fields, perf manager), QueryOptions, QueryPerf, DestroyView: no per-VM calls.
    assert calls["RetrievePropertiesEx"] == 3
    assert calls["CreateContainerView"] == 1 and calls["QueryPerf"] == 1
    assert sum(calls.values()) <= 10


def test_cli_with_ca_file_merges_on_rerun(sim, truth, tmp_path, monkeypatch):
    ca = tmp_path / "vcsim.pem"
    ca.write_text(sim.certificate_pem())
    monkeypatch.setenv("VSPHERE_PASSWORD", PASSWORD)
    monkeypatch.setenv("VSPHERE_USER", USER)
    out = tmp_path / "estate"
    args = ["collect", "vcenter", "--server", sim.server, "--ca-file", str(ca), "--lookback-days", "1",
            "--out", str(out), "--json"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["added"]["vms"] == truth["vms"]
    assert PASSWORD not in first.output and PASSWORD not in (out / "estate.json").read_text()
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    # Same vCenter, same keys: the second run replaces rows instead of adding 6 more.
    assert Estate.load(out).counts()["vms"] == truth["vms"]


def test_untrusted_certificate_is_refused_without_ca_or_pin(sim):
    with pytest.raises(AssessError, match="--ca-file"):
        collect_vcenter(Target(sim.host, USER, PASSWORD, port=sim.port))


def test_insecure_is_explicit_and_still_collects(sim, truth, tmp_path, monkeypatch):
    monkeypatch.setenv("VSPHERE_PASSWORD", PASSWORD)
    out = tmp_path / "estate"
    result = CliRunner().invoke(app, ["collect", "vcenter", "--server", sim.server, "--user", USER,
                                      "--insecure", "--lookback-days", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "TLS verification is off" in result.output
    assert Estate.load(out).counts()["vms"] == truth["vms"]
