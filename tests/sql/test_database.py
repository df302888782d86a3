"""One DuckDB connection per session: queries see their own tables and frames, never another's."""

from __future__ import annotations

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.errors import QueryError
from runs_pandas.sql.run import Database, run

pytestmark = pytest.mark.integration


def acr(scope: dict[str, str], select: str = "registryName, count(*) AS runs") -> str:
    return (
        f"SELECT {select} FROM azure.container_registry.runs WHERE subscriptionId = '{scope['subscriptionId']}' "
        f"AND resourceGroupName = '{scope['resourceGroupName']}' AND registryName = '{scope['registryName']}' "
        f"GROUP BY registryName"
    )


def test_queries_of_one_session_share_a_connection_and_see_only_their_rows(session: rp.Session) -> None:
    first, second = session.sandbox.scopes()["azure"][:2]  # type: ignore[union-attr]
    a = rp.query(acr(first), session=session)
    database = session.database
    b = rp.query(acr(second), session=session)
    assert session.database is database
    assert list(a["registryName"]) == [first["registryName"]]
    assert list(b["registryName"]) == [second["registryName"]]


def test_a_frame_of_one_query_is_gone_in_the_next(session: rp.Session) -> None:
    owners = pd.DataFrame({"registryName": ["x"], "owner": ["ana"]})
    assert list(rp.query("SELECT owner FROM owners", session=session, frames={"owners": owners})["owner"]) == ["ana"]
    with pytest.raises(QueryError, match="owners"):
        rp.query("SELECT owner FROM owners", session=session)


def test_a_failed_query_leaves_the_connection_usable(session: rp.Session) -> None:
    scope = session.sandbox.scopes()["azure"][0]  # type: ignore[union-attr]
    with pytest.raises(QueryError):
        rp.query(acr(scope, "no_such_column"), session=session)
    assert list(rp.query(acr(scope), session=session)["registryName"]) == [scope["registryName"]]


def test_tables_are_views_over_the_arrow_data_and_are_dropped_after() -> None:
    import pyarrow as pa

    database = Database()
    table = pa.table({"id": [1, 2, 3], "tags": [["a"], [], None]})
    out = run("SELECT count(*) AS n, sum(len(tags)) AS t FROM azure.container_registry.runs", {"azure.container_registry.runs": table}, {}, database=database)
    assert out.to_pylist() == [{"n": 3, "t": 1}]
    con = database._connection()
    kinds = con.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = 'azure'").fetchall()
    views = con.sql("SELECT view_name FROM duckdb_views() WHERE database_name = 'azure'").fetchall()
    assert kinds == [] and views == []  # nothing copied into DuckDB, nothing left behind
    database.close()
