"""Failure signatures: failed runs grouped by their error message with the ids masked.

The message of a failed run is its `error` (ACR `runErrorMessage`), else the error a
`logs()` frame holds for it (Airplane's `error` output), else its provider state
(`status_raw`: a Databricks run's API gives only `TERMINATED/FAILED`-style states).
`masks.mask` turns it into a signature.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from runs_pandas.analysis.groups import grouped_runs
from runs_pandas.analysis.masks import mask

__all__ = ["failures", "messages"]


def failures(
    frame: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    logs: pd.DataFrame | None = None,
    masks: Sequence[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Per signature: count, first and last seen, the groups it hits and one example message.

    `logs` is a frame from `df.runs.logs()`: its `error` column gives the message of runs
    whose rows carry none. `masks` adds (regular expression, placeholder) rules.
    """
    runs, keys = grouped_runs(frame, by, "failures()")
    failed = runs[runs["status"].astype("str").eq("failed")]
    message = messages(failed, logs)
    when = failed["finished_at"].fillna(failed["started_at"]).fillna(failed["created_at"])
    group = failed[keys[0]].astype("str")
    for key in keys[1:]:
        group = group + "/" + failed[key].astype("str")
    work = pd.DataFrame(
        {
            "signature": [mask(m, masks) for m in message],
            "__message": message.to_numpy(),
            "__when": when.to_numpy(),
            "__group": group.to_numpy(),
            "__provider": failed["provider"].to_numpy(),
        }
    )
    rows = []
    for signature, part in work.groupby("signature", sort=False):
        rows.append(
            {
                "signature": signature,
                "count": len(part),
                "first_seen": part["__when"].min(),
                "last_seen": part["__when"].max(),
                "groups": sorted(set(part["__group"])),
                "providers": sorted(set(part["__provider"])),
                "example": part["__message"].iloc[int(part["__when"].argmax())],
            }
        )
    columns = ["signature", "count", "first_seen", "last_seen", "groups", "providers", "example"]
    out = pd.DataFrame(rows, columns=columns)
    out["count"] = out["count"].astype("int64")
    for name in ("first_seen", "last_seen"):
        out[name] = pd.to_datetime(out[name], utc=True)
    out = out.sort_values(["count", "last_seen"], ascending=False, kind="stable")
    return out.reset_index(drop=True)


def messages(runs: pd.DataFrame, logs: pd.DataFrame | None = None) -> pd.Series:
    """Each run's error message: `error`, else the logs frame's `error`, else `status_raw`."""
    message = runs["error"].astype("object")
    if logs is not None and "error" in logs.columns and "run_id" in logs.columns:
        found = logs.dropna(subset=["error"]).drop_duplicates("run_id").set_index("run_id")
        from_logs = runs["run_id"].map(found["error"])
        message = message.where(message.notna(), from_logs)
    message = message.where(message.notna(), runs["status_raw"].astype("object"))
    return message.fillna("(no message)").astype("str")
