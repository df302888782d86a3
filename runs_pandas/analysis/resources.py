"""Which catalog resource(s) a frame's rows belong to, and the errors when it cannot be read.

The resource comes from `resource=`, else `df.attrs["runs_pandas"]["resources"]`, else the
frame's columns: the catalog's `runs` entry (a RunShape) of each resource says where a run
keeps its id, status, times and error. The catalog loads on use, not on import.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from runs_pandas.analysis.schema import is_normalized

if TYPE_CHECKING:
    from runs_pandas.catalog.models import Resource, RunShape
    from runs_pandas.errors import QueryError

__all__ = [
    "assign",
    "attrs",
    "candidates",
    "frame_error",
    "one_resource",
    "require",
    "run_shape",
]


def frame_error(message: str) -> QueryError:
    """A QueryError about the frame (imported on use: the errors module is not ours to load)."""
    from runs_pandas.errors import QueryError

    return QueryError(message)


def require(frame: pd.DataFrame, names: Sequence[str], what: str) -> None:
    """Raise, naming the frame's columns, unless it has every column of `names`."""
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise frame_error(
            f"df.runs.{what}: no column {', '.join(map(repr, missing))}; columns are: "
            f"{', '.join(map(str, frame.columns))}"
        )


def attrs(frame: pd.DataFrame, **updates: Any) -> dict[str, Any]:
    """The frame's attrs with `runs_pandas` entries updated (never shared with the input)."""
    out = dict(frame.attrs)
    out["runs_pandas"] = {**(out.get("runs_pandas") or {}), **updates}
    return out


def run_shape(resource: Resource) -> RunShape:
    """The resource's RunShape; an error if its catalog entry does not describe runs."""
    if resource.runs is None:
        raise frame_error(f"{resource.id} does not describe runs (its catalog entry has no 'runs')")
    return resource.runs


def candidates(frame: pd.DataFrame, resource: str | None, what: str) -> list[Resource]:
    """Resources the frame's rows may belong to: explicit, else attrs, else by columns."""
    from runs_pandas.catalog import catalog

    if resource is not None:
        found = catalog().resource(resource)
        if not _fits(frame.columns, run_shape(found)):
            raise _unusable(frame, [found], what)
        return [found]
    named = (frame.attrs.get("runs_pandas") or {}).get("resources") or []
    pool = [catalog().resources[r] for r in named if r in catalog().resources]
    pool = [r for r in pool if r.runs is not None]
    if not pool:
        pool = [r for r in catalog().resources.values() if r.runs is not None]
    fits = [r for r in pool if _fits(frame.columns, run_shape(r))]
    if not fits:
        raise _unusable(frame, pool, what)
    return fits


def assign(frame: pd.DataFrame, pool: list[Resource]) -> list[tuple[Resource, Any]]:
    """Row positions per resource: all rows for one candidate, else the best-filled one."""
    import numpy as np

    if len(pool) == 1:
        return [(pool[0], np.arange(len(frame)))]
    scores = np.column_stack([_score(frame, r).to_numpy() for r in pool])
    best = scores.argmax(axis=1) if len(frame) else np.array([], dtype=int)
    return [(r, np.flatnonzero(best == i)) for i, r in enumerate(pool) if (best == i).any()]


def one_resource(frame: pd.DataFrame, resource: str | None, what: str) -> Resource:
    """The single resource of a frame, for methods that call one API method."""
    from runs_pandas.catalog import catalog

    if resource is None and is_normalized(frame):
        ids = frame["resource"].dropna().unique().tolist()
        if len(ids) == 1:
            return catalog().resource(str(ids[0]))
        raise frame_error(
            f"df.runs.{what} needs rows of one resource; this frame has rows of "
            f"{', '.join(map(str, ids)) or 'none'}: filter it first or pass resource='...'"
        )
    if resource is not None:
        return catalog().resource(resource)
    assigned = assign(frame, candidates(frame, None, what))
    if len(assigned) > 1:
        raise frame_error(
            f"df.runs.{what} needs rows of one resource; this frame has rows of "
            f"{', '.join(r.id for r, _ in assigned)}: filter it first or pass resource='...'"
        )
    if not assigned:
        return candidates(frame, None, what)[0]
    return assigned[0][0]


def _fits(columns: Iterable[Hashable], shape: RunShape) -> bool:
    """A frame can be read as runs of a resource: its first status column and a run id."""
    have = set(columns)
    return shape.status[0] in have and any(c in have for c in shape.run_id)


def _shape_columns(shape: RunShape) -> list[str]:
    """Every column the RunShape reads, once each, in its order."""
    names = [
        *shape.run_id,
        *shape.status,
        *shape.created_at,
        *shape.started_at,
        *shape.finished_at,
        *shape.duration,
        *shape.error,
    ]
    return list(dict.fromkeys(names))


def _score(frame: pd.DataFrame, resource: Resource) -> pd.Series:
    """How many of the resource's run columns each row fills: who the row belongs to."""
    present = [c for c in _shape_columns(run_shape(resource)) if c in frame.columns]
    return frame[present].notna().sum(axis=1)


def _needs(shape: RunShape) -> str:
    return f"{shape.status[0]} and one of {', '.join(shape.run_id)}"


def _unusable(frame: pd.DataFrame, pool: Sequence[Resource], what: str) -> QueryError:
    """The error for a frame none of `pool` can read: what each needs, what the frame has."""
    columns = [str(c) for c in frame.columns]
    shown = ", ".join(columns[:40]) + (
        f", ... ({len(columns) - 40} more)" if len(columns) > 40 else ""
    )
    needs = "; ".join(f"{r.id} needs {_needs(run_shape(r))}" for r in pool)
    return frame_error(
        f"df.runs.{what} cannot read this frame as runs: {needs}. "
        f"The frame has: {shown or 'no columns'}. Query the resource with runs_pandas.query() "
        f"or df.runs.fetch(), keep those columns, or pass resource='...'."
    )
