from waves_helpers import two_apps_and_dns

from assess.report.charts import figure_svg
from assess.waves import WavesParams, plan_waves
from assess.waves.plots import dependency_map, move_group_figure, wave_gantt


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


def test_dependency_map_draws_named_groups_their_links_and_a_legend_per_wave():
    est = two_apps_and_dns()
    names = ["$x$-web", "$x$-app", "$x$-db", "shop-web", "shop-app", "shop-db", "dns"]
    est["vms"] = est["vms"].assign(name=names)
    r = plan_waves(est, params=WavesParams(pilot_vms=0, max_vms_per_wave=3))
    t = r.tables
    fig = dependency_map(t["wave_plan"], t["move_groups"], t["group_links"])
    ax = fig.axes[0]
    texts = {x.get_text() for x in ax.texts}
    assert {"shop", "dns"} <= texts  # group names; the mathtext-looking name is drawn, not parsed
    assert len(ax.lines) == len(t["group_links"]) == 3  # app <-> app, and each app <-> dns
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["wave 0", "wave 1", "wave 2"]
    assert figure_svg(fig).startswith("<svg")
