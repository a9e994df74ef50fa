"""Wave planning: a dependency graph groups VMs that must move together and orders them into waves.

Pipeline: :func:`dependency_graph` (flows, application attributes, DRS affinity, shared
disks, user rules) -> :func:`move_groups` (hard components, Louvain on soft links, capped)
-> :func:`assign_waves` (caps, transfer window, precedence, pins) -> :func:`wave_calendar`.
:func:`plan_waves` runs them all and explains every VM's group and wave.
"""

from assess.waves.calendar import wave_calendar
from assess.waves.graph import dependency_graph
from assess.waves.groups import hard_components, move_groups
from assess.waves.params import WavesParams
from assess.waves.schedule import WaveCaps, assign_waves
from assess.waves.stage import plan_waves

__all__ = ["WaveCaps", "WavesParams", "assign_waves", "dependency_graph", "hard_components", "move_groups",
           "plan_waves", "wave_calendar"]
