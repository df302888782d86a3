"""Runs read for analytics: the normalized columns plus the group keys a method counts by.

`by=None` means each run's catalog group (the resource's `runs.group` columns joined by
"/", e.g. "wingtipapps/checkout-worker" or "ad_measurement/attribution_multi_touch"),
so one call works on a frame that mixes providers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from runs_pandas.analysis.cells import missing
from runs_pandas.analysis.normalize import read_runs
from runs_pandas.analysis.resources import assign, candidates, require, run_shape
from runs_pandas.analysis.schema import is_normalized

GROUP = "group"


def grouped_runs(
    frame: pd.DataFrame, by: str | Sequence[str] | None, what: str, keep: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """The runs of `frame` in the normalized schema with the `by` columns, and the key names."""
    keys = [by] if isinstance(by, str) else list(by or [])
    runs = read_runs(frame, None, [*keys, *keep], what)
    if not keys:
        keys = [GROUP]
        if GROUP in frame.columns:
            runs[GROUP] = frame[GROUP].astype("str")
        elif is_normalized(frame):
            runs[GROUP] = runs["resource"]
        else:
            runs[GROUP] = default_groups(frame)
    require(runs, keys, f"{what.rstrip('()')}(by=...)")
    return runs, keys


def default_groups(frame: pd.DataFrame) -> pd.Series:
    """Each run's catalog group label; the resource id where the catalog names none."""
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for resource, positions in assign(frame, candidates(frame, None, "group")):
        part = frame.iloc[positions]
        shape = run_shape(resource)
        columns = [c for c in shape.group if c in part.columns]
        labels = [
            "/".join(str(v) for v in row if not missing(v)) or resource.id
            for row in part[columns].itertuples(index=False)
        ] if columns else [resource.id] * len(part)
        out.iloc[positions] = labels
    return out.astype("str")
