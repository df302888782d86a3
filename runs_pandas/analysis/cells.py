"""Cell and column helpers shared by the analysis modules: missing cells, first filled column.

A "missing" cell is None or a NaN-like scalar; lists, dicts and strings never are, so an
empty list is a value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

__all__ = ["first", "missing", "text"]


def missing(value: Any) -> bool:
    """The cell holds no value: None, NaN, NaT or NA (containers and strings never do)."""
    if value is None or isinstance(value, (list, tuple, dict, str)):
        return value is None
    try:
        return pd.isna(value) is True
    except (TypeError, ValueError, ArithmeticError):  # ArithmeticError: Decimal('sNaN')
        return False


def text(series: pd.Series) -> pd.Series:
    """The column as pandas strings (missing cells stay missing)."""
    return series.astype("str")


def first(
    part: pd.DataFrame,
    names: Sequence[str],
    convert: Callable[[pd.Series], pd.Series],
    dtype: str,
) -> pd.Series:
    """The first non-null value among the columns `names` (missing columns are skipped)."""
    out = pd.Series([None] * len(part), dtype=object).astype(dtype)
    for name in names:
        if name in part.columns:
            out = out.where(out.notna(), convert(part[name]))
    return out.astype(dtype)
