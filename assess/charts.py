"""The charts of the report, for notebooks: ``from assess import charts``.

Each function takes result tables (as the library returns them) and gives a matplotlib
``Figure``, or inline SVG for the dependency map; Jupyter draws either inline.
``programme_chart(plan["wave_plan"], plan["waves"], estate["vms"], plan["timeline"])`` is the
whole programme by week and source cluster, readable at any estate size.
"""

from assess.readiness.plots import readiness_chart
from assess.report.charts import node_fill_histogram, os_family_chart, vms_per_cluster_chart, wave_calendar
from assess.report.depmap import dependency_map
from assess.sizing.plots import node_fill_figure
from assess.waves.plots import programme_chart

__all__ = ["dependency_map", "node_fill_figure", "node_fill_histogram", "os_family_chart",
           "programme_chart", "readiness_chart", "vms_per_cluster_chart", "wave_calendar"]
