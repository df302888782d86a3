"""What every result carries: the `df.attrs` stamp, and the frame a dry run returns.

The core alone writes `df.attrs["runs_pandas"]`, here, for SELECT, EXEC, fetch and exec.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from runs_pandas.http import Request


def stamp(
    frame: pd.DataFrame,
    sql: str,
    resources: list[str],
    requests: int,
    started: float,
    **extra: Any,
) -> pd.DataFrame:
    """Stamp how `frame` was made into its attrs (no secret is in any of it)."""
    frame.attrs["runs_pandas"] = {
        "sql": sql,
        "resources": resources,
        **extra,
        "requests": requests,
        "seconds": round(time.perf_counter() - started, 3),
        "shape": frame.shape,  # pandas copies attrs to derived frames; this tells them apart
    }
    return frame


def requests_frame(requests: Sequence[Request]) -> pd.DataFrame:
    """One row per request that would be sent: what a dry run shows. No secret is in it."""
    return pd.DataFrame(
        {
            "resource": [r.resource for r in requests],
            "method": [r.method for r in requests],
            "verb": [r.verb for r in requests],
            "url": [r.url for r in requests],
            "body": [None if r.json is None else json.dumps(r.json) for r in requests],
        }
    )
