"""report(): one object with HTML and text, built from all three providers."""

from __future__ import annotations

import pandas as pd

from runs_pandas.analysis.report import HealthReport


def test_report_from_all_providers(runs: dict[str, pd.DataFrame]) -> None:
    frame = pd.concat([runs["azure"], runs["databricks"], runs["airplane"]], ignore_index=True)
    report = frame.runs.report()
    assert isinstance(report, HealthReport)
    assert set(report.summary.index) == {
        "azure.container_registry.runs",
        "databricks_workspace.cleanrooms.task_runs",
        "airplane.runs.runs",
    }
    assert set(report.flaky.index) == {
        "wingtipapps/checkout-worker", "ad_measurement/attribution_multi_touch"
    }
    assert list(report.regressions["group"]) == ["wingtipapps/mobile-backend"]
    page = report._repr_html_()
    assert "<table" in page and "data:image/png;base64," in page
    assert "wingtipapps/checkout-worker" in page
    text = repr(report)
    assert "Flakiest groups" in text and "wingtipapps/mobile-backend" in text
    assert report.timeline_png and report.timeline_png.startswith(b"\x89PNG")
