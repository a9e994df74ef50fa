from waves_helpers import two_apps_and_dns

from assess.report.charts import figure_svg
from assess.waves import WavesParams, plan_waves
from assess.waves.plots import move_group_figure, wave_gantt


def test_gantt_has_one_bar_label_per_wave_and_group_picture_one_circle_per_group():
    est = two_apps_and_dns()
    r = plan_waves(est, params=WavesParams(pilot_vms=0, max_vms_per_wave=3))
    fig = wave_gantt(r.tables["waves"])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["W0 shared-services (1 VMs)", "W1 standard (3 VMs)", "W2 standard (3 VMs)"]
    pic = move_group_figure(r.tables["wave_plan"], est["flows"])
    # two app groups (dns is a shared service, not drawn) joined by the a-app <-> b-app flow
    assert len(pic.axes[0].collections[0].get_offsets()) == 2
    assert len(pic.axes[0].lines) == 1
    assert figure_svg(pic).startswith("<svg")
