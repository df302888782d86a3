"""The normalized runs schema every provider's runs are read into: columns, statuses, dtypes.

Kept apart from `normalize` so that recognising a normalized frame (`is_normalized`) needs
no import of the code that builds one.
"""

from __future__ import annotations

import pandas as pd

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "skipped", "unknown")
NORMALIZED_COLUMNS = (
    "provider",
    "resource",
    "run_id",
    "status",
    "status_raw",
    "created_at",
    "started_at",
    "finished_at",
    "duration",
    "error",
)
FINISHED = ("succeeded", "failed", "cancelled")  # ran to an outcome: the success-rate base
ACTIVE = ("queued", "running")  # not over yet: no end time, duration so far at most
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))
TIME_DTYPE = "datetime64[us, UTC]"
DURATION_DTYPE = "timedelta64[us]"

__all__ = [
    "ACTIVE",
    "DURATION_DTYPE",
    "FINISHED",
    "NORMALIZED_COLUMNS",
    "STATUSES",
    "STATUS_DTYPE",
    "TIME_DTYPE",
    "is_normalized",
]


def is_normalized(frame: pd.DataFrame) -> bool:
    """The frame already has every normalized column (normalize() returns it unchanged)."""
    return set(NORMALIZED_COLUMNS) <= set(frame.columns)
