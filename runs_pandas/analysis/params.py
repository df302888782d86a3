"""A frame's rows as request params: scopes for `fetch`, one param set per row for `exec`.

Columns named like a method's params give each row's values (missing cells are not
sent); fixed params apply to every row and win over a column of that name.
"""

from __future__ import annotations

import decimal
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from runs_pandas.analysis.cells import first, missing, text

if TYPE_CHECKING:
    from runs_pandas.catalog.models import Resource

__all__ = ["exec_params", "fetch_scopes"]


def fetch_scopes(
    frame: pd.DataFrame, resource: str, fixed: Mapping[str, Any]
) -> tuple[Resource, list[dict[str, Any]]]:
    """The resource `resource` names, and one scope per row from its SELECT params."""
    from runs_pandas.catalog import catalog

    check_frame(frame, "df.runs.fetch()")
    found = catalog().resource(resource)
    names = {p.name for m in found.methods_for("select") for p in m.params}
    taken = [c for c in frame.columns if c in names and c not in fixed]
    return found, [{**row, **fixed} for row in _rows(frame, taken)]


def exec_params(
    frame: pd.DataFrame, resource: Resource, method: str, fixed: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One param set per row for the EXEC `method`.

    A run-id param the frame lacks (one the catalog's `runs.id_params` names, such as a
    cancel method's `runID`) is taken from the run id column.
    """
    check_frame(frame, "df.runs.exec()")
    called = resource.method(method)
    params = [p.name for p in called.params] if called is not None else []
    taken = [c for c in frame.columns if c in params and c not in fixed]
    rows = _rows(frame, taken)
    run_ids = _run_ids(frame, resource)
    id_params = resource.runs.id_params if resource.runs else ()
    for name in params:
        if run_ids is None or name in taken or name in fixed:
            continue
        if name in id_params:
            for row, value in zip(rows, run_ids):
                if not missing(value):
                    row[name] = value
    return [{**row, **fixed} for row in rows]


def check_frame(frame: pd.DataFrame, surface: str) -> None:
    """A ParamError when the frame's columns cannot be read as params: repeated or nested names."""
    from runs_pandas.errors import ParamError

    if isinstance(frame.columns, pd.MultiIndex):
        raise ParamError(f"{surface} needs one level of column names; flatten the MultiIndex columns first")
    for name in frame.columns[frame.dtypes == object]:  # cells pandas cannot turn into text
        odd = next((v for v in frame[name] if isinstance(v, (bytes, bytearray, memoryview))
                    or isinstance(v, decimal.Decimal) and v.is_snan()), None)
        if odd is not None:
            raise ParamError(
                f"{surface}: column {name!r} holds a {type(odd).__name__} value that is not a param "
                f"value; give strings, numbers, booleans or times"
            )
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        raise ParamError(
            f"{surface}: the frame has more than one column named {', '.join(map(repr, repeated))}; "
            f"each param needs one column (rename or drop the others)"
        )


def _rows(frame: pd.DataFrame, columns: Sequence[Hashable]) -> list[dict[str, Any]]:
    """One dict per row of the given columns, as plain Python values, missing cells left out."""
    if not columns:
        return [{} for _ in range(len(frame))]
    lists = [frame[c].tolist() for c in columns]
    return [
        {str(c): v for c, v in zip(columns, values) if not missing(v)} for values in zip(*lists)
    ]


def _run_ids(frame: pd.DataFrame, resource: Resource) -> list[Any] | None:
    """Each row's run id (from the RunShape's columns or a normalized run_id), if any."""
    names = [*(resource.runs.run_id if resource.runs else ()), "run_id"]
    present = [n for n in names if n in frame.columns]
    if not present:
        return None
    ids: list[Any] = first(frame.reset_index(drop=True), present, text, "str").tolist()
    return ids
