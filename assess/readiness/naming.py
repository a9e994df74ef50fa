"""The DNS-1123 label each VM gets on KubeVirt, unique within the estate."""

from __future__ import annotations

import pandas as pd

MAX_LABEL = 63


def _label(names: pd.Series) -> pd.Series:
    out = (names.fillna("").astype(str).str.strip().str.lower()
           .str.replace(r"[^a-z0-9-]+", "-", regex=True)
           .str.replace(r"-{2,}", "-", regex=True)
           .str.strip("-").str[:MAX_LABEL].str.rstrip("-"))
    return out.where(out != "", "vm")


def target_names(names: pd.Series, keys: pd.Series | None = None) -> pd.Series:
    """DNS-1123 labels for ``names``, unique within the series (same index).

    Lower case; runs of characters outside ``[a-z0-9-]`` become one '-'; leading and trailing
    '-' are trimmed; at most 63 characters; an empty name becomes 'vm'. Repeats get ``-2``,
    ``-3``, ... in the order of ``keys`` (default: the order of ``names``), the base shortened
    so that the result stays within 63 characters.

    >>> target_names(pd.Series(["Web_01", "web 01", "DB.prod"])).tolist()
    ['web-01', 'web-01-2', 'db-prod']
    """
    order = keys if keys is not None else pd.Series(range(len(names)), index=names.index)
    base = _label(names).loc[order.sort_values(kind="stable").index]
    result = base.copy()
    number = base.groupby(base, sort=False).cumcount() + 1
    todo = number > 1
    while todo.any():
        suffix = "-" + number[todo].astype(str)
        stems = [b[: MAX_LABEL - len(s)].rstrip("-") for b, s in zip(base[todo], suffix)]
        result[todo] = pd.Series(stems, index=suffix.index) + suffix
        todo = result.duplicated(keep="first")
        number = number.where(~todo, number + 1)
    return result.reindex(names.index)
