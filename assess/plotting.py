r"""The matplotlib ``Figure`` every chart of assess is drawn on, with estate text drawn literally.

Chart labels come from the estate (cluster, VM, group names), and matplotlib reads text
between two ``$`` as mathtext: a cluster named ``$\frac`` crashes the drawing and ``$x^2$``
is typeset instead of shown. Importing this module turns mathtext off
(``text.parse_math: False``) for the process: charts show names as written. It is set here,
once, because every text matplotlib creates (tick labels too, created while drawing) reads
the setting when it is made.
"""

from __future__ import annotations

import matplotlib
from matplotlib.figure import Figure

matplotlib.rcParams["text.parse_math"] = False

__all__ = ["Figure"]
