"""Which fields a SELECT reads: only what the analysis can place for sure, all otherwise."""

from __future__ import annotations

import pytest

from runs_pandas.catalog import catalog
from runs_pandas.sql.needed import needed_fields
from runs_pandas.sql.read import read

ACR = "azure.container_registry.runs"
DBX = "databricks_workspace.cleanrooms.task_runs"
SCOPE = "subscriptionId = 's' AND resourceGroupName = 'g' AND registryName = 'r'"


def needed(sql: str, local: tuple[str, ...] = ()) -> dict[str, frozenset[str] | None]:
    statement = read(sql, catalog())
    return needed_fields(statement.tree, statement.references, local)


@pytest.mark.parametrize(
    ("sql", "fields"),
    [
        (f"SELECT status, count(*) AS runs FROM {ACR} WHERE {SCOPE} GROUP BY status", {"status"}),
        (f"SELECT count(*) FROM {ACR} WHERE {SCOPE}", set()),
        (f"SELECT runId FROM {ACR} WHERE {SCOPE} AND platform.os = 'Linux' ORDER BY createTime DESC",
         {"runId", "platform.os", "createTime"}),
        (f"SELECT r.runid, r.systemData.createdAt FROM {ACR} AS r WHERE {SCOPE}", {"runId", "systemData.createdAt"}),
        (f"SELECT max(finishTime - startTime) AS longest FROM {ACR} WHERE {SCOPE} ORDER BY longest",
         {"finishTime", "startTime"}),
        (f"WITH t AS (SELECT task, status AS s FROM {ACR} WHERE {SCOPE}) SELECT t.s, count(*) FROM t GROUP BY t.s",
         {"task", "status"}),
        (f"SELECT {ACR}.status FROM {ACR} WHERE {SCOPE}", {"status"}),
        (f"SELECT registryName, count(*) FROM {ACR} WHERE {SCOPE} GROUP BY 1", set()),
    ],
)
def test_the_fields_a_statement_names(sql: str, fields: set[str]) -> None:
    assert needed(sql) == {ACR: frozenset(fields)}


def test_a_join_of_two_resources_reads_each_for_its_own_fields() -> None:
    sql = (f"SELECT a.status, d.notebook_name FROM {ACR} a JOIN {DBX} d ON a.task = d.notebook_name "
           f"WHERE a.{SCOPE.replace(' AND ', ' AND a.')} AND d.deployment_name = 'w' AND d.clean_room_name = 'c'")
    assert needed(sql) == {ACR: frozenset({"status", "task"}), DBX: frozenset({"notebook_name"})}


def test_a_joined_frame_s_columns_are_placed() -> None:
    sql = f"SELECT status, owner FROM {ACR} JOIN owners USING (task) WHERE {SCOPE}"
    assert needed(sql, local=("task", "owner")) == {ACR: frozenset({"status", "task"})}
    assert needed(sql) == {ACR: None}  # without the frame's columns, `owner` is not placed


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT * FROM {ACR} WHERE {SCOPE}",
        f"SELECT r.* FROM {ACR} r WHERE {SCOPE}",
        f"SELECT * EXCLUDE (status) FROM {ACR} WHERE {SCOPE}",
        f"SELECT count(DISTINCT *) FROM {ACR} WHERE {SCOPE}",
        f"SELECT COLUMNS('.*Time') FROM {ACR} WHERE {SCOPE}",
        f"SELECT platform FROM {ACR} WHERE {SCOPE}",  # a whole object: its unknown fields too
        f"SELECT outputImages FROM {ACR} WHERE {SCOPE}",  # a list
        f"SELECT to_json(r) FROM {ACR} r WHERE {SCOPE}",  # the table as a row value
        f"SELECT platform['os'] FROM {ACR} WHERE {SCOPE}",
        f"SELECT unknownField FROM {ACR} WHERE {SCOPE}",  # a field the catalog does not know
        f"SELECT platform.kernel FROM {ACR} WHERE {SCOPE}",  # nor a child of an object
        f"SELECT a FROM {ACR} AS r(a, b) WHERE {SCOPE}",  # columns renamed by position
        f"SELECT list_transform([1], x -> x + 1), status FROM {ACR} WHERE {SCOPE}",
        f"SELECT status FROM {ACR} NATURAL JOIN {ACR} WHERE {SCOPE}",  # joined on every common name
        f"SELECT status, runs.task FROM {ACR} AS runs NATURAL JOIN other WHERE {SCOPE}",
        f"PIVOT (SELECT status, task FROM {ACR} WHERE {SCOPE}) ON status USING count(*)",
        "SELECT paramValues.x FROM airplane.runs.runs",  # a map
        # a param not pinned may be a field the rows bring; so may an option such as a page size
        "SELECT taskSlug, count(*) FROM airplane.runs.runs GROUP BY 1",
        "SELECT status, \"limit\" FROM airplane.runs.runs WHERE \"limit\" = 10",
    ],
)
def test_what_cannot_be_placed_for_sure_reads_every_field(sql: str) -> None:
    assert set(needed(sql).values()) == {None}


def test_a_pinned_scope_param_is_the_engine_s_column_not_a_field() -> None:
    sql = "SELECT status, taskSlug FROM airplane.runs.runs WHERE taskSlug = 'deploy'"
    assert needed(sql) == {"airplane.runs.runs": frozenset({"status"})}
