"""`%config RunsSql.interactive = True`: results as itables DataTables, footer kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

import runs_pandas as rp
from runs_pandas import interactive
from runs_pandas.sandbox import Sandbox

pytestmark = pytest.mark.integration



@pytest.fixture()
def ip(sandbox: Sandbox) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    rp.set_default_session(rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)))
    shell.run_line_magic("load_ext", "runs_pandas")
    interactive.reset()
    yield shell
    shell.run_line_magic("config", "RunsSql.interactive = False")
    rp.set_default_session(None)
    shell.user_ns.clear()


def html_of(ip: InteractiveShell, frame) -> str:
    assert ip.display_formatter is not None
    data, _ = ip.display_formatter.format(frame)
    return str(data["text/html"])


def test_interactive_results_are_datatables_with_the_footer(ip: InteractiveShell) -> None:
    assert interactive.available(), "itables is part of the test install (runs_pandas[interactive])"
    ip.run_line_magic("config", "RunsSql.display_limit = 50")  # the shell outlives other tests' settings
    frame = ip.run_cell_magic("runsql", "", "SELECT id, status FROM airplane.runs.runs LIMIT 80")
    plain = html_of(ip, frame)
    assert "new ITable(" not in plain and "showing the first 50" in plain
    ip.run_line_magic("config", "RunsSql.interactive = True")
    first = html_of(ip, frame)
    assert "new ITable(" in first and "80 rows" in first
    assert "showing the first" not in first  # every row is in the table: it pages itself
    assert "injectModule" in first  # the DataTables library rides along once, offline
    second = html_of(ip, frame)
    assert "new ITable(" in second and "injectModule" not in second
    assert "https://cdn" not in first + second


def test_frames_not_from_a_query_keep_pandas_display(ip: InteractiveShell) -> None:
    import pandas as pd

    ip.run_line_magic("config", "RunsSql.interactive = True")
    assert "new ITable(" not in html_of(ip, pd.DataFrame({"a": [1]}))


def test_interactive_tables_show_values_as_the_plain_table_does(ip: InteractiveShell) -> None:
    ip.run_line_magic("config", "RunsSql.interactive = True")
    frame = ip.run_cell_magic("runsql", "", "SELECT id, createdAt FROM airplane.runs.runs LIMIT 3")
    shown = html_of(ip, frame)
    stamp = frame["createdAt"].iloc[0]
    assert "+00:00" not in shown and str(stamp) not in shown  # no microseconds, no offset
    from runs_pandas import render

    assert render.shown_values(frame)["createdAt"].iloc[0] in shown
