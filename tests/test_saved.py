"""Saved queries: `%%runsql --save`, reading them in FROM/JOIN and with `--with`, `--list-saved`."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox
from runs_pandas.saved import SavedQueries, saved_queries

pytestmark = pytest.mark.integration

FAILED = "SELECT id, taskID, status FROM airplane.runs.runs WHERE status = 'Failed'"


@pytest.fixture()
def ip(sandbox: Sandbox) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    rp.set_default_session(rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)))
    shell.run_line_magic("load_ext", "runs_pandas")
    saved_queries().clear()
    yield shell
    saved_queries().clear()
    rp.set_default_session(None)
    shell.user_ns.clear()


def cell(ip: InteractiveShell, line: str, body: str):
    return ip.run_cell_magic("runsql", line, body)


def test_a_saved_query_is_read_in_from_and_fetched_again_on_use(ip: InteractiveShell, sandbox: Sandbox) -> None:
    first = cell(ip, "--save failed", FAILED)
    assert set(first["status"]) == {"Failed"}
    before = len(sandbox.requests)
    counts = cell(ip, "", "SELECT taskID, count(*) AS n FROM failed GROUP BY taskID ORDER BY n DESC")
    assert int(counts["n"].sum()) == len(first)
    assert len(sandbox.requests) > before  # the saved query was fetched again, not a kept result
    # the footer counts the requests the saved query sent
    assert counts.attrs["runs_pandas"]["requests"] == first.attrs["runs_pandas"]["requests"] > 0


def test_saved_query_joins_a_resource_and_with_names_it_explicitly(ip: InteractiveShell) -> None:
    cell(ip, "--save failed --no-execute", FAILED)
    joined = cell(
        ip, "--with failed",
        "SELECT r.id, r.status FROM airplane.runs.runs r JOIN failed f ON r.id = f.id",
    )
    assert len(joined) > 0 and set(joined["status"]) == {"Failed"}


def test_no_execute_saves_without_running_and_list_saved_lists(ip: InteractiveShell) -> None:
    assert cell(ip, "--save failed --no-execute", FAILED) is None
    cell(ip, "--save per_task --no-execute", "SELECT taskID, count(*) AS n FROM failed GROUP BY 1")
    listing = ip.run_line_magic("runsql", "--list-saved")
    assert list(listing["name"]) == ["failed", "per_task"]
    assert list(listing["reads"]) == ["", "failed"]
    assert listing["sql"][0] == FAILED


def test_saved_queries_read_each_other_dependencies_first(ip: InteractiveShell) -> None:
    cell(ip, "--save failed --no-execute", FAILED)
    cell(ip, "--save per_task --no-execute", "SELECT taskID, count(*) AS n FROM failed GROUP BY 1")
    top = cell(ip, "", "SELECT * FROM per_task ORDER BY n DESC LIMIT 1")
    assert len(top) == 1 and top["n"][0] >= 1


def test_saved_query_placeholders_come_from_the_namespace_at_use(ip: InteractiveShell) -> None:
    cell(ip, "--save by_status --no-execute",
         "SELECT id, status FROM airplane.runs.runs WHERE status = :wanted")
    ip.user_ns["wanted"] = "Succeeded"
    assert set(cell(ip, "", "SELECT * FROM by_status")["status"]) == {"Succeeded"}
    ip.user_ns["wanted"] = "Cancelled"
    assert set(cell(ip, "", "SELECT * FROM by_status")["status"]) == {"Cancelled"}
    del ip.user_ns["wanted"]
    with pytest.raises(UsageError, match=r"saved query 'by_status' needs :wanted"):
        cell(ip, "", "SELECT * FROM by_status")


def test_a_saved_query_wins_over_a_dataframe_and_a_cte_wins_over_both(ip: InteractiveShell) -> None:
    cell(ip, "--save failed --no-execute", FAILED)
    ip.user_ns["failed"] = pd.DataFrame({"id": ["not-a-run"], "taskID": ["x"], "status": ["Failed"]})
    assert "not-a-run" not in set(cell(ip, "", "SELECT id FROM failed")["id"])
    own = cell(ip, "", "WITH failed AS (SELECT 'mine' AS id) SELECT id FROM failed")
    assert list(own["id"]) == ["mine"]


def test_bad_saves_and_unknown_names_are_clear_errors(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="only a SELECT can be saved"):
        cell(ip, "--save gone", "EXEC airplane.runs.runs.cancelRun @runID='x'")
    with pytest.raises(UsageError, match="one SQL identifier"):
        cell(ip, "--save 2bad", FAILED)
    cell(ip, "--save failed --no-execute", FAILED)
    with pytest.raises(UsageError, match=r"no saved query 'faild' \(did you mean 'failed'\?\)"):
        cell(ip, "--with faild", "SELECT 1")
    with pytest.raises(UsageError, match="--no-execute goes with --save"):
        cell(ip, "--no-execute", FAILED)


def test_line_magic_takes_save_before_the_sql(ip: InteractiveShell) -> None:
    ip.run_line_magic("runsql", f"--save failed --no-execute {FAILED}")
    assert "failed" in saved_queries()


def test_cycles_are_refused() -> None:
    queries = SavedQueries()
    queries.save("a", "SELECT * FROM b")
    queries.save("b", "SELECT * FROM a")
    with pytest.raises(rp.QueryError, match="cycle: a -> b -> a"):
        queries.frames("SELECT * FROM a", lambda sql, params, frames: pd.DataFrame(), {})
    with pytest.raises(rp.QueryError, match="cannot read itself"):
        queries.save("c", "SELECT * FROM c")


def test_a_dry_run_and_explain_show_what_the_saved_queries_would_send(ip: InteractiveShell) -> None:
    ip.run_cell_magic("runsql", "--save failed --no-execute",
                      "SELECT id, status FROM airplane.runs.runs WHERE status = 'Failed'")
    planned = ip.run_cell_magic("runsql", "--dry-run", "SELECT count(*) AS n FROM failed")
    assert list(planned["query"]) == ["failed"] and list(planned["resource"]) == ["airplane.runs.runs"]
    explained = ip.run_cell_magic("runsql", "--explain", "SELECT count(*) AS n FROM failed")
    assert list(explained["query"]) == ["failed"]
    assert explained["residual"][0] == "status = 'Failed'"
    with pytest.raises(UsageError, match="--sync sends requests"):
        ip.run_cell_magic("runsql", "--dry-run --sync", "SELECT * FROM airplane.runs.runs")
