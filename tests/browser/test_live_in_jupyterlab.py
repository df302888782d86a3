"""Completion and `--watch` in a real JupyterLab, as a user types and runs cells.

The same JupyterLab and Chromium as the forms test (its fixture and options are reused). A
fresh notebook gets `%load_ext runs_pandas`; then, in a `%%runsql` cell, typing
`SELECT * FROM airp` and pressing Tab completes to `airplane.` from the kernel; then a
`%%runsql --watch 1s --watch-max 3 --timeline` cell shows ONE output that is updated in
place (run 1, run 2, run 3) and stops; then a slow fetch shows its progress bar and a form
is drawn. Screenshots go to `test-artifacts/`; the close-ups in `test-artifacts/docs/` are
the pictures of the docs (`docs/images/`): copy them there to refresh those.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from test_forms_in_jupyterlab import (  # the same JupyterLab fixture and browser options
    ARTIFACTS,
    WAIT_MS,
    Lab,
    chromium_page,
    lab,  # noqa: F401  (a fixture)
    wait_for_connected_kernel,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

NOTEBOOK = "live.ipynb"
WATCH_SQL = "SELECT id, taskID, status, createdAt, activeAt FROM airplane.runs.runs ORDER BY createdAt DESC LIMIT 5"
DOCS_PICTURES = ARTIFACTS / "docs"
SLOW_FETCH = """import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

slow = rp.Session(sandbox=Sandbox(airplane_runs=1200, latency=0.4))
rp.query("SELECT * FROM airplane.runs.runs", session=slow)"""


def write_notebook(root: Path) -> None:
    """A notebook with the extension cell and one empty cell to type into."""
    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell("%load_ext runs_pandas"),
        nbformat.v4.new_code_cell(""),
        nbformat.v4.new_code_cell(SLOW_FETCH),
        nbformat.v4.new_code_cell('import runs_pandas as rp\nrp.form("airplane.runs.runs", result="runs")'),
    ]
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / NOTEBOOK).write_text(json.dumps(book), encoding="utf-8")


def test_completion_and_watch_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:  # noqa: F811
    from playwright import sync_api

    sync_api.expect.set_options(timeout=WAIT_MS)
    write_notebook(lab.root)
    DOCS_PICTURES.mkdir(parents=True, exist_ok=True)

    with chromium_page(lab, tmp_path, ARTIFACTS / "watch.png") as page:
        drive(page, lab, sync_api.expect)
    assert not lab.blocked, f"the page tried to leave loopback: {lab.blocked}"


def drive(page: Page, lab: Lab, expect: Any) -> None:  # noqa: F811
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}", wait_until="domcontentloaded")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    expect(notebook).to_be_visible()
    wait_for_connected_kernel(page, lab)
    cells = notebook.locator(".jp-Cell")

    run_cell(page, cells.nth(0))  # %load_ext runs_pandas
    expect(cells.nth(0).locator(".jp-InputPrompt")).to_contain_text("[1]")

    # completion: Tab after `FROM airp` asks the kernel, which answers `airplane.`
    editor = cells.nth(1).locator(".cm-content")
    editor.click()
    page.keyboard.type("%%runsql\nSELECT * FROM airp")
    page.keyboard.press("Tab")
    completer = page.locator(".jp-Completer:not(.lm-mod-hidden)")
    expect(completer.locator(".jp-Completer-item")).to_have_count(1)
    expect(completer).to_contain_text("airplane.")
    close_up(page, [cells.nth(1), completer], "completion.png")
    page.keyboard.press("Enter")  # take the offered completion
    expect(editor).to_contain_text("SELECT * FROM airplane.")
    page.keyboard.type("runs.ru")
    page.keyboard.press("Tab")
    expect(completer).to_contain_text("runs")
    page.keyboard.press("Enter")
    expect(editor).to_contain_text("SELECT * FROM airplane.runs.runs")

    # --watch: replace the cell's text, run it, and watch one output change in place
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type(f"%%runsql --watch 1s --watch-max 3 --timeline\n{WATCH_SQL}")
    run_cell(page, cells.nth(1))
    outputs = cells.nth(1).locator(".jp-OutputArea-output")
    watch_line = cells.nth(1).locator(".runs-pandas-watch")
    expect(watch_line).to_contain_text(re.compile(r"run 1 at .*active.*next in 1s"))
    expect(outputs).to_have_count(1)
    expect(watch_line).to_contain_text(re.compile(r"run 2 at "))
    expect(outputs).to_have_count(1)
    expect(watch_line).to_contain_text("stopped after 3 runs (--watch-max)")
    expect(outputs).to_have_count(1)  # updated in place: never stacked
    expect(outputs.locator("table tbody tr")).to_have_count(5)
    expect(outputs.locator(".runs-pandas-footer")).to_contain_text("5 rows")
    expect(outputs.locator("img.runs-pandas-timeline")).to_have_count(1)
    close_up(page, [cells.nth(1)], "watch.png")

    # a slow fetch shows its progress bar while it runs, then the table
    run_cell(page, cells.nth(2))
    bar = cells.nth(2).locator(".runs-pandas-progress")
    expect(bar).to_be_visible()
    page.wait_for_timeout(1000)  # let it count some pages
    close_up(page, [cells.nth(2)], "progress.png")
    expect(cells.nth(2).locator(".jp-OutputArea-output .runs-pandas-footer")).to_contain_text("1,200 rows")

    # a form, as the forms page shows it
    run_cell(page, cells.nth(3))
    form = cells.nth(3).locator(".widget-vbox").first
    expect(form.locator("button", has_text="Run")).to_be_visible()
    close_up(page, [cells.nth(3)], "form.png")


def close_up(page: Page, parts: list[Locator], name: str) -> None:
    """A screenshot of the page region holding `parts` (a picture for the docs)."""
    boxes = [b for b in (p.bounding_box() for p in parts) if b]
    assert boxes, f"nothing to photograph for {name}"
    left = max(0.0, min(b["x"] for b in boxes) - 8)
    top = max(0.0, min(b["y"] for b in boxes) - 8)
    right = max(b["x"] + b["width"] for b in boxes) + 8
    bottom = max(b["y"] + b["height"] for b in boxes) + 8
    clip = {"x": left, "y": top, "width": right - left, "height": bottom - top}
    page.screenshot(path=str(DOCS_PICTURES / name), clip=clip)


def run_cell(page: Page, cell: Locator) -> None:
    """Select the cell and run it with Shift+Enter, as a user does."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
