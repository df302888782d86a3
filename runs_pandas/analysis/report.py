"""A cross-provider health report: summary, flakiest groups, regressions, failure
signatures and the timeline, in one object that displays as HTML in a notebook and as text
in a terminal.

    report = pd.concat([acr, databricks, airplane]).runs.report()
    report            # in Jupyter: the HTML report; print(report): the text one
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from runs_pandas.analysis.failures import failures
from runs_pandas.analysis.flaky import flaky
from runs_pandas.analysis.normalize import summary
from runs_pandas.analysis.regressions import regressions

__all__ = ["HealthReport", "report"]


@dataclass
class HealthReport:
    """The report's parts as frames (each usable on its own) and the timeline as PNG bytes."""

    summary: pd.DataFrame
    flaky: pd.DataFrame
    regressions: pd.DataFrame
    failures: pd.DataFrame
    timeline_png: bytes | None = None
    runs: int = 0
    span: tuple[Any, Any] = field(default=(None, None))

    def sections(self) -> list[tuple[str, pd.DataFrame]]:
        """(title, frame) of each table, in display order."""
        return [
            ("Summary by resource", self.summary),
            ("Flakiest groups", self.flaky),
            ("Regressions (slowdowns)", self.regressions),
            ("Top failure signatures", self.failures),
        ]

    def _heading(self) -> str:
        start, end = self.span
        return f"Runs health report: {self.runs} runs from {start} to {end}"

    def __repr__(self) -> str:
        parts = [self._heading(), ""]
        with pd.option_context("display.width", 120, "display.max_colwidth", 60):
            for title, frame in self.sections():
                parts += [title, "-" * len(title), "(none)" if frame.empty else frame.to_string(), ""]
        if self.timeline_png is not None:
            parts.append("Timeline: shown in the notebook (report.timeline_png holds the PNG)")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        parts = [f"<div class='runs-report'><h3>{html.escape(self._heading())}</h3>"]
        for title, frame in self.sections():
            body = "<p>(none)</p>" if frame.empty else frame.to_html(max_rows=20, max_cols=12)
            parts.append(f"<h4>{html.escape(title)}</h4>{body}")
        if self.timeline_png is not None:
            data = base64.b64encode(self.timeline_png).decode()
            parts.append(f"<h4>Timeline</h4><img alt='timeline' src='data:image/png;base64,{data}'/>")
        return "".join(parts) + "</div>"


def report(
    frame: pd.DataFrame, *, logs: pd.DataFrame | None = None, top: int = 10, timeline: bool = True
) -> HealthReport:
    """The health report of the runs in `frame` (any mix of providers)."""
    from runs_pandas.analysis.groups import grouped_runs

    runs, _ = grouped_runs(frame, None, "report()")
    flakiest = flaky(runs)
    signatures = failures(runs, logs=logs)
    signatures = signatures.assign(groups=signatures["groups"].map(len)).rename(
        columns={"groups": "groups_hit"}
    )
    png = _timeline_png(runs) if timeline and len(runs) else None
    when = runs["started_at"].fillna(runs["created_at"])
    return HealthReport(
        summary=summary(runs),
        flaky=flakiest[flakiest["flaky"]].head(top) if flakiest["flaky"].any() else flakiest.head(0),
        regressions=regressions(runs).head(top),
        failures=signatures.head(top),
        timeline_png=png,
        runs=len(runs),
        span=(when.min(), when.max()),
    )


def _timeline_png(runs: pd.DataFrame) -> bytes:
    """The timeline chart (by provider) rendered to PNG."""
    import io

    from runs_pandas.analysis.timeline import timeline

    figure = timeline(runs, "provider")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return buffer.getvalue()
