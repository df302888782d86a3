"""Notebook DataFrames as tables in SQL: `frames=` in Python, namespace frames in the magic."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

import runs_pandas as rp

pytestmark = pytest.mark.integration


def owners_of(session: rp.Session) -> pd.DataFrame:
    runs = rp.query("SELECT DISTINCT taskID FROM airplane.runs.runs ORDER BY 1", session=session)
    return pd.DataFrame({"taskID": runs["taskID"], "owner": [f"team{i % 3}" for i in range(len(runs))]})


def test_a_frame_joins_a_resource_by_its_name(session: rp.Session) -> None:
    owners = owners_of(session)
    frame = rp.query(
        "SELECT o.owner, count(*) AS n FROM airplane.runs.runs r "
        "JOIN owners o ON o.taskID = r.taskID GROUP BY 1 ORDER BY 1",
        session=session,
        frames={"owners": owners},
    )
    total = rp.query("SELECT count(*) AS n FROM airplane.runs.runs", session=session)
    assert list(frame["owner"]) == ["team0", "team1", "team2"]
    assert int(frame["n"].sum()) == int(total["n"][0])


def test_without_the_frame_the_error_says_where_tables_come_from(session: rp.Session) -> None:
    with pytest.raises(rp.QueryError, match="frames="):
        rp.query("SELECT * FROM owners", session=session)


def test_a_frame_named_like_a_resource_tail_is_the_frame(session: rp.Session) -> None:
    runs = pd.DataFrame({"id": ["a", "b"]})
    # without a frame, `runs` is a mistyped resource id
    with pytest.raises(rp.UnknownResourceError, match="airplane.runs.runs|three-part"):
        rp.query("SELECT count(*) AS n FROM runs", session=session)
    frame = rp.query("SELECT count(*) AS n FROM runs", session=session, frames={"runs": runs})
    assert int(frame["n"][0]) == 2
    # the three-part id is always the resource
    both = rp.query(
        "SELECT (SELECT count(*) FROM runs) AS mine, (SELECT count(*) FROM airplane.runs.runs) AS api",
        session=session,
        frames={"runs": runs},
    )
    assert int(both["mine"][0]) == 2 and int(both["api"][0]) > 2


def test_a_cte_of_the_same_name_wins_over_a_frame(session: rp.Session) -> None:
    frame = rp.query(
        "WITH owners AS (SELECT 1 AS x) SELECT * FROM owners",
        session=session,
        frames={"owners": pd.DataFrame({"y": [1, 2]})},
    )
    assert list(frame.columns) == ["x"]


def test_the_magic_joins_a_dataframe_of_the_notebook(ip: InteractiveShell, session: rp.Session) -> None:
    ip.user_ns["owners"] = owners_of(session)
    frame = ip.run_cell_magic(
        "runsql", "",
        "SELECT o.owner, count(*) AS n FROM airplane.runs.runs r JOIN owners o USING (taskID) GROUP BY 1",
    )
    assert sorted(frame["owner"]) == ["team0", "team1", "team2"]
    # a result kept by a previous cell is a table too
    ip.run_cell_magic("runsql", "failed <<", "SELECT id, taskID FROM airplane.runs.runs WHERE status = 'Failed'")
    again = ip.run_cell_magic("runsql", "", "SELECT count(*) AS n FROM failed")
    assert int(again["n"][0]) == len(ip.user_ns["failed"]) > 0
