"""`df.runs`: the pandas accessor over runs frames, a thin adapter over the core.

    scopes.runs.fetch("azure.container_registry.runs")   # one request series per row
    df.runs.normalize()                                   # one schema for every provider
    pd.concat([acr.runs.normalize(), airplane.runs.normalize()]).runs.summary()
    df.runs.timeline(by="registryName").savefig("runs.png")
    df.runs.exec("Runs_Cancel", dry_run=True)             # one request per row

Which resource a frame holds comes from `resource=`, else `df.attrs["runs_pandas"]`, else
from its columns (the catalog's `runs` entry of each resource says where a run keeps its
id, status, times and error). The logic lives in `runs_pandas.analysis`, the engine and the
actions; this module only adapts them. Only pandas and the standard library are imported
here, so `import runs_pandas` stays light; the engine, the catalog and matplotlib load on use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from runs_pandas import analysis
from runs_pandas.analysis import NORMALIZED_COLUMNS, STATUSES
from runs_pandas.analysis.params import exec_params, fetch_scopes
from runs_pandas.analysis.resources import one_resource

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from runs_pandas.analysis.regressions import Direction
    from runs_pandas.analysis.report import HealthReport
    from runs_pandas.session import Session

__all__ = ["NORMALIZED_COLUMNS", "STATUSES", "RunsAccessor"]


@pd.api.extensions.register_dataframe_accessor("runs")
class RunsAccessor:
    """Runs verbs on any DataFrame: fetch, normalize, summary, timeline, exec and reshaping.

    Holds nothing but the frame (pandas builds a new accessor on every access); each
    method checks the columns it needs and says which ones are missing.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._df = frame

    # -- the core: fetch and exec --------------------------------------------------------

    def fetch(
        self, resource: str, *, session: Session | None = None, **fixed_params: Any
    ) -> pd.DataFrame:
        """Runs of `resource` for every row of this frame of scopes, fetched concurrently.

        Columns named like the resource's params give each row's values (others are
        ignored); keyword params apply to every row and win over a column of that name.

        >>> pd.DataFrame(sb.scopes()["azure"]).runs.fetch("azure.container_registry.runs")
        """
        from runs_pandas.engine import fetch_frame
        from runs_pandas.errors import MissingParamError

        found, scopes = fetch_scopes(self._df, resource, fixed_params)
        try:
            return fetch_frame(found.id, scopes, session)
        except MissingParamError as exc:
            hint = " Add them as columns of the frame or as keyword arguments of fetch()."
            raise MissingParamError(
                exc.resource, exc.method, exc.missing, exc.given, hint=hint
            ) from None

    def sync(
        self, resource: str, *, session: Session | None = None, **fixed_params: Any
    ) -> pd.DataFrame:
        """Sync `resource` into the run store for every row of this frame of scopes, incrementally.

        Scopes are read as `fetch()` reads them; the result is the sync report, one row per
        scope (new, updated, unchanged, requests). `runs_pandas.store.sync_scopes` underneath.
        """
        from runs_pandas.store import sync_scopes

        found, scopes = fetch_scopes(self._df, resource, fixed_params)
        return sync_scopes(found.id, scopes, session)

    def exec(
        self,
        method: str,
        *,
        resource: str | None = None,
        session: Session | None = None,
        dry_run: bool = False,
        body: Any = None,
        **fixed_params: Any,
    ) -> pd.DataFrame:
        """Call the EXEC `method` once per row: one outcome row per row, on the same index.

        Each row's columns give the method's params (missing cells are not sent);
        keyword params apply to every row and win over a column. A run-id param the frame
        lacks (Airplane `cancelRun`'s `runID`) is taken from the run id column.

        >>> failed.runs.exec("Runs_Cancel", dry_run=True)
        """
        from runs_pandas.actions import exec_rows
        from runs_pandas.session import default_session

        found = one_resource(self._df, resource, "exec()")
        rows = exec_params(self._df, found, method, fixed_params)
        outcome = exec_rows(
            found.id, method, rows, session or default_session(), dry_run=dry_run, body=body
        )
        if len(outcome) == len(self._df):
            outcome.index = self._df.index
        return outcome

    # -- one schema across providers ---------------------------------------------------

    def normalize(self, resource: str | None = None, *, keep: Sequence[str] = ()) -> pd.DataFrame:
        """Runs in one schema across providers: `NORMALIZED_COLUMNS`, then any `keep` columns.

        status is one of `STATUSES` (a provider state the catalog does not map is
        "unknown"), times are UTC, duration a timedelta. Frames holding rows of several
        resources work row by row; an already normalized frame comes back unchanged.
        """
        return analysis.normalize(self._df, resource, keep)

    def summary(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Per group (default: resource): runs, outcomes, success rate and duration percentiles.

        success_rate = succeeded / (succeeded + failed + cancelled); the duration
        columns are over finished runs only (a running run's duration is not final).
        """
        return analysis.summary(self._df, by)

    def timeline(
        self, by: str | None = None, *, ax: Axes | None = None, title: str | None = None
    ) -> Figure:
        """A Gantt chart: one bar per run from start (or creation) to end (or now), by group.

        Rows are grouped by `by` (default: resource; any column of this frame, such as
        "registryName"), concurrent runs of a group stack, colours show the status. At
        most `TIMELINE_CAP` bars are drawn, the most recent; the title says when capped.
        """
        return analysis.timeline(self._df, by, ax=ax, title=title)

    def plot(
        self,
        kind: str = "duration",
        *,
        by: str | None = None,
        per: str = "day",
        ax: Axes | None = None,
        title: str | None = None,
    ) -> Figure:
        """A chart of the runs as a matplotlib Figure: `kind` is one of

        "duration" (box per group of finished runs' durations), "failure_rate" (failed /
        finished per `per`: "day" or "hour", one line per group), "status" (runs per status
        per `per`, stacked bars) or "timeline". Groups are `by` (default: resource).

        >>> df.runs.plot("failure_rate", by="taskID", per="hour")
        """
        from runs_pandas.analysis.plots import plot

        return plot(self._df, kind, by=by, per=per, ax=ax, title=title)

    # -- reshaping -------------------------------------------------------------------------

    def unflatten(self) -> pd.DataFrame:
        """Dotted columns back into one column of dicts (`platform.os` -> `platform`), recursively.

        The inverse of `flatten()`: `df.runs.unflatten().runs.flatten()` equals `df`.
        A dict holds the leaves a row has (like the API's object); a row with none gets None.
        """
        return analysis.unflatten(self._df)

    def flatten(self) -> pd.DataFrame:
        """Dict-valued columns into dotted columns (`platform` -> `platform.os`), recursively.

        Types come back from the `unflatten()` that made the dicts when it is known,
        otherwise they are inferred as the core types API rows.
        """
        return analysis.flatten(self._df)

    def explode(self, column: str) -> pd.DataFrame:
        """One row per element of the list column `column`; dict elements become `column.key`.

        The index repeats, so an exploded row can be joined back to its run.
        """
        return analysis.explode(self._df, column)

    # -- run analytics (runs_pandas.analysis: flaky, regressions, failures, logs, report) --

    def flaky(
        self, by: str | Sequence[str] | None = None, *, threshold: float = 0.3, min_runs: int = 10
    ) -> pd.DataFrame:
        """Per group (default: the catalog's task/notebook group): pass/fail flips, worst first.

        flip_rate = flips / (outcomes - 1) over pass/fail outcomes in time order (cancelled and
        skipped runs are left out); score is its lower 95 % Wilson bound; flaky = score >=
        `threshold` with at least `min_runs` outcomes.
        """
        from runs_pandas.analysis.flaky import flaky

        return flaky(self._df, by, threshold=threshold, min_runs=min_runs)

    def regressions(
        self,
        by: str | Sequence[str] | None = None,
        metric: str = "duration",
        *,
        direction: Direction = "slower",
        min_ratio: float = 1.2,
        min_runs: int = 10,
        p_value: float = 0.001,
    ) -> pd.DataFrame:
        """Change points of `metric` per group: when, median before and after, and the ratio.

        Pettitt's rank test by binary segmentation over succeeded runs in time order; see
        docs/analytics.md for why and for the thresholds.
        """
        from runs_pandas.analysis.regressions import regressions

        return regressions(
            self._df, by, metric, direction=direction,
            min_ratio=min_ratio, min_runs=min_runs, p_value=p_value,
        )

    def failures(
        self,
        by: str | Sequence[str] | None = None,
        *,
        logs: pd.DataFrame | None = None,
        masks: Sequence[tuple[str, str]] = (),
    ) -> pd.DataFrame:
        """Failed runs grouped by error signature (ids, hashes, numbers, paths, times masked).

        Pass `logs=df.runs.logs()` where the error lives in the run's output (Airplane).
        """
        from runs_pandas.analysis.failures import failures

        return failures(self._df, by, logs=logs, masks=masks)

    def logs(
        self, *, tail: int | None = None, grep: str | None = None, session: Session | None = None
    ) -> pd.DataFrame:
        """The log or output behind each run, one row per run on the same index.

        ACR: the log SAS link followed to the blob (sent no credentials); Airplane:
        getOutputs as `key: value` lines; Databricks (no log endpoint): the run's state.
        `tail` keeps the last N lines, `grep` the lines matching a regular expression.
        """
        from runs_pandas.analysis.logs import logs

        return logs(self._df, tail=tail, grep=grep, session=session)

    def report(self, *, logs: pd.DataFrame | None = None, top: int = 10) -> HealthReport:
        """One displayable health report: summary, flakiest, regressions, failures, timeline."""
        from runs_pandas.analysis.report import report

        return report(self._df, logs=logs, top=top)
