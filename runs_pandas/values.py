"""Which Python values a placeholder or a param may hold, checked before any request.

A value is a string, a number, a boolean, a date or time, or a list of those (one request
series per item). `None` is SQL `NULL` in what DuckDB runs, but is never sent in a request.
NaN, `pd.NA`, `NaT`, dicts, bytes and other objects are refused with a `ParamError` naming
the param and the accepted types: their repr would otherwise end up in a URL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
from typing import Any

from runs_pandas.errors import ParamError

ACCEPTED = "a string, a number, a boolean, a date or time, or a list of those"
MAX_TEXT = 4096  # characters one value may have in a request (URLs are cut near 8 kB)


def checked(where: str, value: Any, *, nullable: bool = True) -> Any:
    """`value` when it is one `where` may hold (a list's items too); a ParamError otherwise."""
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        for index, item in enumerate(items):
            if isinstance(item, (list, tuple, set, frozenset)):
                raise ParamError(f"{where}: item {index} is a list inside a list; give {ACCEPTED}")
            scalar(f"{where} (item {index})", item, nullable=False)
        return items if not isinstance(value, tuple) else value
    return scalar(where, value, nullable=nullable)


def scalar(where: str, value: Any, *, nullable: bool = True) -> Any:
    """One value that can be a SQL literal or a request value."""
    if value is None:
        if nullable:
            return None
        raise ParamError(f"{where} is None, which cannot be sent in a request; give {ACCEPTED}")
    if isinstance(value, (str, bool, dt.date, dt.time, dt.timedelta)):
        if _missing_time(value):
            raise ParamError(f"{where} is NaT (a missing time); give {ACCEPTED}")
        return value
    if isinstance(value, numbers.Integral):
        return value
    if isinstance(value, (numbers.Real, decimal.Decimal)):
        if isinstance(value, decimal.Decimal) and not value.is_finite() or not math.isfinite(float(value)):
            raise ParamError(f"{where} is {value!r}, not a finite number; give {ACCEPTED}")
        return value
    if type(value).__name__ in ("NAType", "NaTType"):
        raise ParamError(f"{where} is {value!r} (a missing value); give {ACCEPTED}")
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return scalar(where, value.item(), nullable=nullable)  # a numpy scalar
    kind = type(value).__name__
    raise ParamError(f"{where} is a {kind}, which has no SQL or request form; give {ACCEPTED}")


def text(where: str, value: str) -> str:
    """A request value's text, refused when too long to send."""
    if len(value) > MAX_TEXT:
        raise ParamError(f"{where} is {len(value)} characters long; at most {MAX_TEXT} can be sent")
    return value


def _missing_time(value: Any) -> bool:
    return type(value).__name__ == "NaTType"
