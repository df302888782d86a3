"""The progress line: indeterminate while the page count is unknown, rate per resource, ETA
when pages are known, and in a form its own widget (no widget model left behind)."""

from __future__ import annotations

import time

import pytest

import runs_pandas as rp
from runs_pandas.catalog import catalog
from runs_pandas.http import Request
from runs_pandas.progress import Progress, expected_pages, shown_in


class Recorder:
    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.hidden = 0

    def show(self, text: str, markup: str) -> None:
        self.shown.append((text, markup))

    def hide(self) -> None:
        self.hidden += 1


def _request(resource: str) -> Request:
    return Request(resource, "list", "GET", "http://127.0.0.1/x")


def test_unknown_total_is_indeterminate_with_rate_per_resource() -> None:
    view = Recorder()
    progress = Progress(True, 2, delay=0.0, view=view)
    progress(_request("airplane.runs.runs"), 100)
    time.sleep(0.3)
    progress(_request("azure.container_registry.runs"), 50)
    text, markup = view.shown[-1]
    assert "2/? pages" in text
    assert "runs.runs: 100 rows (" in text and "/s)" in text
    assert "container_registry.runs: 50 rows (" in text
    assert "ETA" not in text
    assert "runs-pandas-indeterminate" in markup and "<progress" not in markup
    progress.close()
    assert view.hidden == 1


def test_known_pages_fill_the_bar_and_give_an_eta() -> None:
    view = Recorder()
    progress = Progress(True, 1, delay=0.0, view=view, expected_pages=[4])
    progress(_request("airplane.runs.runs"), 10)
    text, markup = view.shown[-1]
    assert "1/4 pages" in text and "ETA" in text
    assert '<progress class="runs-pandas-progress-bar" value="1" max="4"' in markup
    assert progress.eta() is not None


def test_quick_fetches_draw_nothing() -> None:
    view = Recorder()
    progress = Progress(True, 1, delay=5.0, view=view)
    progress(_request("airplane.runs.runs"), 10)
    progress.close()
    assert view.shown == [] and view.hidden == 0


def test_page_count_is_known_from_a_row_cap_and_page_size() -> None:
    method = catalog().resource("airplane.runs.runs").method("listRuns")
    assert method is not None
    paginator = method.paginator
    assert expected_pages(paginator, {paginator.size_param: 10}, 35) == 4
    assert expected_pages(paginator, {}, None) is None


def test_a_form_draws_progress_in_its_own_widget_and_hides_it(sandbox: rp.sandbox.Sandbox) -> None:
    """The bug: a progress widget closed under a form left "model not found" in its output."""
    task_id = sandbox.scopes()["airplane"][0]["taskID"]
    session = rp.Session(sandbox=sandbox)  # progress on, as in a notebook
    assert session.settings.progress
    form = rp.form("airplane.runs.runs", session=session, namespace={})
    form.fields["taskID"].value = task_id
    form.fields["limit"].value = 25
    form.toggles["limit"].value = True
    seen: list[str] = []
    form.progress.observe(lambda change: seen.append(str(change["new"])), "value")
    old = sandbox.latency
    sandbox.latency = 0.05
    try:
        frame = form.run()
    finally:
        sandbox.latency = old
        session.close()
    assert frame is not None and len(frame) > 25
    assert form.progress in form.box.children
    assert any("runs-pandas-progress" in markup and "pages" in markup for markup in seen)
    assert form.progress.layout.display == "none" and form.progress.value == ""
    # nothing in the output area refers to a widget model
    assert all("application/vnd.jupyter.widget-view+json" not in o.get("data", {}) for o in form.output.outputs)


def test_progress_view_is_scoped_to_the_block() -> None:
    view = Recorder()
    with shown_in(view):
        inside = Progress(True, 1, delay=0.0)
    outside = Progress(False, 1)
    inside(_request("airplane.runs.runs"), 1)
    assert view.shown
    assert outside._view is None


def test_in_a_kernel_one_cell_keeps_one_progress_display(monkeypatch: pytest.MonkeyPatch) -> None:
    """A display updated in place (no widget); fetches of one cell reuse it (--watch)."""
    import IPython.display

    from runs_pandas.progress import DisplayView

    shown: list[tuple[str, dict[str, str]]] = []

    class Handle:
        def update(self, bundle: dict[str, str], raw: bool) -> None:
            shown.append(("update", bundle))

    def display(bundle: dict[str, str], raw: bool, display_id: bool) -> Handle:
        shown.append(("display", bundle))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(DisplayView, "_cell", None)
    for _ in range(2):  # two fetches of the same cell
        progress = Progress(True, 1, delay=0.0, view=DisplayView())
        progress(_request("airplane.runs.runs"), 5)
        progress.close()
    assert [kind for kind, _ in shown] == ["display", "update", "update", "update"]
    assert "application/vnd.jupyter.widget-view+json" not in shown[0][1]
    assert shown[-1][1] == {"text/plain": "", "text/html": ""}  # gone when done
