"""The runs analysis behind `df.runs`: normalize, summarize, chart and reshape runs frames.

Plain functions over DataFrames, so the accessor (and anything else) adapts them without
logic of its own. Only pandas and the standard library load on import; the catalog,
pyarrow and matplotlib load on use.

    from runs_pandas.analysis import normalize, summary
    summary(normalize(frame), by="provider")
"""

from __future__ import annotations

from runs_pandas.analysis.normalize import NORMALIZED_COLUMNS, STATUSES, normalize, summary
from runs_pandas.analysis.reshape import explode, flatten, unflatten
from runs_pandas.analysis.timeline import timeline

__all__ = [
    "NORMALIZED_COLUMNS",
    "STATUSES",
    "explode",
    "flatten",
    "normalize",
    "summary",
    "timeline",
    "unflatten",
]
