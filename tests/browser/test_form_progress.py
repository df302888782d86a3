"""A form run long enough to show progress leaves no "model not found" in JupyterLab.

The bug: tqdm's notebook bar (a widget) was displayed inside the form's output area and
closed when the fetch ended; its view stayed above the result as "Loading widget..." and,
once JupyterLab drew the output area again, "Error displaying widget: model not found".

Same JupyterLab + Chromium set-up as test_forms_in_jupyterlab (its `lab` fixture), with the
kernel's sandbox slowed down (a cell added to the copy of 07-forms.ipynb) so a Run takes a
few seconds: the progress line must show while it fetches, then go, and the result must
show with no widget error anywhere on the page. Screenshot: test-artifacts/form-progress.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from test_forms_in_jupyterlab import (
    ARTIFACTS,
    NOTEBOOK,
    Lab,
    chromium_page,
    lab,
    sandbox_task_id,
    wait_for_connected_kernel,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
__all__ = ["lab"]  # the fixture, reused

SCREENSHOT = ARTIFACTS / "form-progress.png"
LATENCY = 0.04  # seconds per sandbox answer: 118 pages of 5 runs take about 5 s


def slow_down(notebook: Path) -> None:
    """Add a cell after the session's that slows the kernel's sandbox (the copy only)."""
    book = json.loads(notebook.read_text())
    at = next(i for i, c in enumerate(book["cells"]) if "rp.Session(" in "".join(c["source"])) + 1
    book["cells"].insert(at, {
        "cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
        "source": [f"if session.sandbox is not None:\n    session.sandbox.latency = {LATENCY}"],
    })
    notebook.write_text(json.dumps(book))


def test_form_progress_leaves_no_missing_widget(lab: Lab, tmp_path: Path) -> None:
    from playwright import sync_api
    slow_down(lab.root / NOTEBOOK)
    task_id = sandbox_task_id()
    with chromium_page(lab, tmp_path, SCREENSHOT) as page:
        drive(page, lab, task_id, sync_api.expect)
    assert not lab.blocked, f"the page tried to leave loopback: {lab.blocked}"


def drive(page: Page, lab: Lab, task_id: str, expect: Any) -> None:
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}", wait_until="domcontentloaded")
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")).to_be_visible()
    wait_for_connected_kernel(page, lab)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    expect(page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea-output table")).to_be_visible()

    title = page.locator(".widget-html b", has_text=re.compile(r"^airplane\.runs\.runs$"))
    form = page.locator(".widget-vbox").filter(has=title)
    expect(form).to_have_count(1)
    field = form.locator(".widget-inline-hbox").filter(
        has=page.locator("label.widget-label", has_text=re.compile(r"^taskID$"))
    ).locator("input")
    limit_row = form.locator(".widget-hbox").filter(
        has=page.locator("label.widget-label", has_text=re.compile(r"^limit$"))
    )
    field.scroll_into_view_if_needed()
    field.fill(task_id)
    field.press("Tab")
    limit_row.locator("input[type=number]").fill("5")  # small pages: many of them
    limit_row.locator("input[type=number]").press("Tab")
    expect(limit_row.locator(".widget-checkbox input")).to_be_checked()

    form.locator("button", has_text="Run").click()

    # while it fetches: the form's own progress line, indeterminate (the page count is unknown)
    progress = form.locator(".runs-pandas-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text(re.compile(r"fetching \d+/\? pages"))
    expect(progress).to_contain_text("rows (")
    expect(progress.locator(".runs-pandas-indeterminate")).to_have_count(1)

    table = form.locator(".widget-output table")
    expect(table).to_be_visible()
    expect(table).to_contain_text(task_id)
    expect(form.locator(".widget-output")).to_contain_text("stored in `airplane_runs`")
    expect(progress).to_have_count(0)  # gone when done
    page.wait_for_timeout(1000)  # let any late redraw of the output area happen
    # on main before the fix the closed bar stayed as "Loading widget..." above the result
    # (and "Error displaying widget: model not found" once the notebook is drawn again)
    expect(form.locator(".widget-output")).not_to_contain_text("Loading widget")
    body = page.locator("body")
    expect(body).not_to_contain_text("model not found")
    expect(body).not_to_contain_text("Error displaying widget")
    title.scroll_into_view_if_needed()
