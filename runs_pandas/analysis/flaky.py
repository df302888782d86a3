"""Flakiness: which groups pass and fail in turn, rather than fail for a stretch and recover.

Per group, runs are put in time order and only their pass/fail outcomes are kept
(cancelled, skipped, queued, running and unknown runs are left out: they say nothing about
whether the work passes). A flip is a consecutive pair with different outcomes.

- ``flip_rate`` = flips / (outcomes - 1): the share of consecutive pairs that change outcome.
- ``score`` = the lower bound of the 95 % Wilson interval of ``flip_rate``, so a group with
  few runs does not rank above one with many on luck alone.
- ``flaky`` = ``score >= threshold`` and at least ``min_runs`` outcomes.

A task failing at random with probability p flips at a rate of 2p(1-p): 0.18 for p = 0.1,
0.42 for p = 0.3; a task broken for a day and then fixed flips twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from runs_pandas.analysis.groups import grouped_runs

__all__ = ["flaky"]

Z95 = 1.959964


def flaky(
    frame: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    threshold: float = 0.3,
    min_runs: int = 10,
) -> pd.DataFrame:
    """Per group: runs, outcomes, failures, failure and flip rates, score, flaky; worst first."""
    runs, keys = grouped_runs(frame, by, "flaky()")
    when = runs["started_at"].fillna(runs["created_at"])
    status = runs["status"].astype("str")
    work = pd.DataFrame({k: runs[k] for k in keys})
    work["__when"], work["__status"] = when, status
    rows = []
    for key, part in work.groupby(keys, sort=True, dropna=False):
        ordered = part.sort_values("__when", kind="stable")["__status"]
        outcome = ordered[ordered.isin(("succeeded", "failed"))].eq("failed").to_numpy()
        n = len(outcome)
        flips = int((outcome[1:] != outcome[:-1]).sum()) if n > 1 else 0
        pairs = max(n - 1, 0)
        flip_rate = flips / pairs if pairs else float("nan")
        score = _wilson_low(flips, pairs)
        rows.append(
            {
                **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                "runs": len(part),
                "outcomes": n,
                "failed": int(outcome.sum()),
                "left_out": len(part) - n,
                "failure_rate": outcome.mean() if n else float("nan"),
                "flips": flips,
                "flip_rate": flip_rate,
                "score": score,
                "flaky": bool(n >= min_runs and score >= threshold),
            }
        )
    columns = [*keys, "runs", "outcomes", "failed", "left_out", "failure_rate", "flips",
               "flip_rate", "score", "flaky"]
    out = pd.DataFrame(rows, columns=columns)
    out = out.sort_values(["score", "flip_rate"], ascending=False, kind="stable", na_position="last")
    return out.set_index(keys)


def _wilson_low(successes: int, trials: int) -> float:
    """The lower end of the 95 % Wilson score interval for a proportion (0 with no trials)."""
    if trials == 0:
        return 0.0
    p = successes / trials
    z2 = Z95 * Z95
    centre = p + z2 / (2 * trials)
    margin = Z95 * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - margin) / (1 + z2 / trials))
