"""A scheduled run whose inventory comes from a live vCenter (govmomi's simulator)."""

import pytest
import vcsim_harness

from assess.config import load_config
from assess.pipeline import run_config

pytestmark = [pytest.mark.system, pytest.mark.slow]


@pytest.fixture(scope="module")
def sim():
    server = vcsim_harness.start_vcsim(vms=4, hosts=2)
    yield server
    server.stop()


def test_config_run_collects_from_vcenter_with_its_own_password_variable(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("VC_LAB_PASSWORD", vcsim_harness.PASSWORD)
    monkeypatch.delenv("VSPHERE_PASSWORD", raising=False)
    cfg = tmp_path / "assessment.yaml"
    cfg.write_text(
        "sources:\n  vcenters:\n"
        f"    - {{server: '{sim.server}', user: {vcsim_harness.USER}, password_env: VC_LAB_PASSWORD,\n"
        f"       thumbprint: '{sim.thumbprint()}', lookback_days: 1}}\n"
        "output: {folder: runs}\n"
    )
    summary = run_config(load_config(cfg))
    # vcsim's VPX model: one stand-alone host plus 2 cluster hosts; 4 VMs in each of the two
    # resource pools (the cluster's and the stand-alone host's)
    assert summary["counts"]["vms"] == 8 and summary["counts"]["hosts"] == 3
    assert sum(summary["stages"]["readiness"]["verdicts"].values()) == 8
    assert summary["inputs"][0]["kind"] == "vcenter" and "password" not in str(summary["inputs"]).lower()
