"""Slowdowns: change points in each group's run durations (or another metric), in time order.

The method is Pettitt's rank test (Pettitt 1979) applied by binary segmentation: in a
series x1..xn, U_t = 2 * (sum of the ranks of x1..xt) - t(n+1); the change point is the t
with the largest |U_t|, significant when p = 2 exp(-6 K^2 / (n^3 + n^2)) < `p_value`
(K = max |U_t|). Each side is then searched again. It works on ranks, so the long tail of
run durations (a cold cache, a retried step) cannot fake or hide a change, and it needs no
penalty tuned per series, which is why it is used rather than a cost-based search. A
change is reported when it is significant, each side has `min_runs` runs and the median
moved by at least `min_ratio` (after / before, or its inverse for speed-ups).

Durations are those of succeeded runs: failed and cancelled runs stop early and would read
as speed-ups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from runs_pandas.analysis.groups import grouped_runs
from runs_pandas.errors import QueryError

__all__ = ["change_points", "regressions"]

Direction = Literal["slower", "faster", "both"]


def regressions(
    frame: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    metric: str = "duration",
    *,
    direction: Direction = "slower",
    min_ratio: float = 1.2,
    min_runs: int = 10,
    p_value: float = 0.001,
) -> pd.DataFrame:
    """Per group, each change in `metric`: when, median before and after, ratio; largest first."""
    if direction not in ("slower", "faster", "both"):
        raise QueryError(f"regressions(direction={direction!r}): use 'slower', 'faster' or 'both'")
    if min_ratio < 1:
        raise QueryError(f"regressions(min_ratio={min_ratio}): must be at least 1 (e.g. 1.2)")
    runs, keys = grouped_runs(frame, by, "regressions()", keep=[metric])
    if metric not in runs.columns:
        raise QueryError(
            f"regressions(metric={metric!r}): no such column; use 'duration' or a numeric column"
        )
    values = runs[metric]
    is_time = pd.api.types.is_timedelta64_dtype(values.dtype)
    numbers = values.dt.total_seconds() if is_time else pd.to_numeric(values, errors="coerce")
    ok = runs["status"].astype("str").eq("succeeded") & numbers.notna()
    work = pd.DataFrame({k: runs[k] for k in keys})[ok]
    work["__when"] = runs["started_at"].fillna(runs["created_at"])[ok]
    work["__x"] = numbers[ok].astype("float64")
    rows = []
    for key, part in work.groupby(keys, sort=True, dropna=False):
        part = part.sort_values("__when", kind="stable")
        x = part["__x"].to_numpy()
        for cut, p in change_points(x, min_runs=min_runs, p_value=p_value):
            before, after = float(np.median(x[:cut])), float(np.median(x[cut:]))
            ratio = after / before if before > 0 else math.inf
            slower = ratio >= min_ratio
            faster = ratio > 0 and 1 / ratio >= min_ratio
            if not ((slower and direction != "faster") or (faster and direction != "slower")):
                continue
            rows.append(
                {
                    **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                    "changed_at": part["__when"].iloc[cut],
                    "last_before": part["__when"].iloc[cut - 1],
                    "before": before,
                    "after": after,
                    "ratio": ratio,
                    "runs_before": cut,
                    "runs_after": len(x) - cut,
                    "p_value": p,
                }
            )
    columns = [*keys, "changed_at", "last_before", "before", "after", "ratio",
               "runs_before", "runs_after", "p_value"]
    out = pd.DataFrame(rows, columns=columns)
    if is_time:
        for name in ("before", "after"):
            out[name] = pd.to_timedelta(out[name], unit="s").astype("timedelta64[us]")
    out["changed_at"] = pd.to_datetime(out["changed_at"], utc=True)
    out["last_before"] = pd.to_datetime(out["last_before"], utc=True)
    order = np.abs(np.log(out["ratio"].astype("float64").clip(lower=1e-12)))
    return out.iloc[np.argsort(-order.to_numpy(), kind="stable")].reset_index(drop=True)


def change_points(
    x: np.ndarray, *, min_runs: int = 10, p_value: float = 0.001
) -> list[tuple[int, float]]:
    """Indices where a new regime starts (and their p-values), found by binary segmentation."""
    found: list[tuple[int, float]] = []
    stack = [(0, len(x))]
    while stack:
        lo, hi = stack.pop()
        hit = _pettitt(x[lo:hi], min_runs)
        if hit is None or hit[1] >= p_value:
            continue
        cut = lo + hit[0]
        found.append((cut, hit[1]))
        stack.extend([(lo, cut), (cut, hi)])
    return sorted(found)


def _pettitt(x: np.ndarray, min_runs: int) -> tuple[int, float] | None:
    """The most likely change in `x` (first index of the new regime) and its p-value."""
    n = len(x)
    if n < 2 * min_runs:
        return None
    ranks = pd.Series(x).rank(method="average").to_numpy()
    t = np.arange(1, n + 1)
    u = 2 * np.cumsum(ranks) - t * (n + 1)
    allowed = u[min_runs - 1 : n - min_runs]
    if len(allowed) == 0:
        return None
    best = int(np.argmax(np.abs(allowed))) + min_runs - 1
    k = abs(float(u[best]))
    p = min(1.0, 2 * math.exp(-6 * k * k / (n**3 + n**2)))
    return best + 1, p
