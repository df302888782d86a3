"""Reading SQL: placeholders, pushdown forms, method choice, and what is left to DuckDB."""

from __future__ import annotations

import pytest

from runs_pandas.catalog import catalog
from runs_pandas.errors import MissingParamError, QueryError
from runs_pandas.sql.plan import plan
from runs_pandas.sql.read import duckdb_text, placeholders, read

ACR = "azure.container_registry.runs"


def conditions(sql: str, params: dict | None = None) -> dict:
    return read(sql, catalog(), params).references[0].conditions


def test_placeholders_become_duckdb_parameters_and_nothing_else_changes() -> None:
    sql = "SELECT x::int, ':no' AS s FROM t WHERE a = :a AND b IN (:b, :a) -- :c"
    assert placeholders(sql) == ["a", "b"]
    assert duckdb_text(sql) == "SELECT x::int, ':no' AS s FROM t WHERE a = $a AND b IN ($b, $a) -- :c"


def test_equality_in_lists_and_placeholder_lists_are_pushed_down() -> None:
    got = conditions(f"SELECT * FROM {ACR} WHERE subscriptionId = 's' AND 'g' = resourceGroupName "
                     "AND registryName IN ('a', :b) AND status = 'Failed'", {"b": "bb"})
    assert got == {"subscriptionId": ["s"], "resourceGroupName": ["g"], "registryName": ["a", "bb"]}
    got = conditions(f"SELECT * FROM {ACR} r WHERE r.registryName IN :regs", {"regs": ["x", "y"]})
    assert got == {"registryName": ["x", "y"]}


def test_predicates_under_or_are_not_pushed_down() -> None:
    got = conditions(f"SELECT * FROM {ACR} WHERE registryName = 'a' OR registryName = 'b'")
    assert got == {}


def test_fan_out_is_the_product_of_pinned_values() -> None:
    statement = read(f"SELECT * FROM {ACR} WHERE subscriptionId = 's' AND resourceGroupName IN ('g1', 'g2') "
                     "AND registryName IN ('r1', 'r2', 'r3')", catalog())
    calls = plan(statement.references, catalog())[ACR]
    assert len(calls) == 6 and {c.method.name for c in calls} == {"Runs_List"}


def test_the_most_specific_method_is_chosen() -> None:
    statement = read("SELECT * FROM airplane.runs.runs WHERE id = 'run1'", catalog())
    assert plan(statement.references, catalog())["airplane.runs.runs"][0].method.name == "getRun"
    statement = read("SELECT * FROM airplane.runs.runs WHERE taskID = 't'", catalog())
    assert plan(statement.references, catalog())["airplane.runs.runs"][0].method.name == "listRuns"


def test_missing_params_name_resource_method_and_given() -> None:
    statement = read("SELECT * FROM databricks_workspace.cleanrooms.task_runs WHERE deployment_name = 'x'", catalog())
    with pytest.raises(MissingParamError) as info:
        plan(statement.references, catalog())
    assert info.value.missing == ["clean_room_name"] and info.value.given == ["deployment_name"]
    assert info.value.method == "list"


def test_a_placeholder_without_a_value_is_an_error() -> None:
    with pytest.raises(QueryError, match=":nope"):
        read("SELECT * FROM airplane.runs.runs WHERE id = :nope", catalog(), {})


def test_two_part_names_suggest_the_three_part_id() -> None:
    with pytest.raises(QueryError, match="azure.container_registry.runs"):
        read("SELECT * FROM container_registry.runs", catalog())


def test_sql_only_duckdb_reads_still_finds_resources() -> None:
    statement = read("PIVOT airplane.runs.runs ON status USING count(*)", catalog())
    assert [r.resource.id for r in statement.references] == ["airplane.runs.runs"]


def test_exec_show_and_describe_kinds() -> None:
    assert read("/*+ AWAIT */ EXEC airplane.runs.runs.getRun @id='x'", catalog()).kind == "exec"
    assert read("show providers", catalog()).kind == "show"
    assert read("DESCRIBE airplane.runs.runs", catalog()).kind == "describe"
    with pytest.raises(QueryError, match="empty"):
        read("  ;", catalog())


def test_a_method_that_would_ignore_a_pin_is_not_chosen() -> None:
    statement = read("SELECT * FROM airplane.runs.runs WHERE taskSlug IN ('a', 'b') AND id IN ('r1', 'r2')", catalog())
    calls = plan(statement.references, catalog())["airplane.runs.runs"]
    assert {c.method.name for c in calls} == {"listRuns"}  # id is filtered by DuckDB
    assert sorted(c.kwargs["taskSlug"] for c in calls) == ["a", "b"] and all("id" not in c.kwargs for c in calls)


def test_a_pin_left_to_duckdb_must_be_a_column() -> None:
    statement = read("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = 's' AND "
                     "resourceGroupName = 'g' AND registryName = 'r' AND runId = 'x' AND \"$top\" = 1", catalog())
    (call,) = plan(statement.references, catalog())["azure.container_registry.runs"]
    assert call.method.name == "Runs_List" and "runId" not in call.kwargs and call.kwargs["$top"] == 1


def test_pins_no_method_can_honour_are_refused() -> None:
    from runs_pandas.errors import ParamError
    from runs_pandas.sql.plan import choose_method

    airplane = catalog().resource("airplane.runs.runs")
    without_id = airplane.model_copy(update={"fields": tuple(f for f in airplane.fields if f.name != "id")})
    with pytest.raises(ParamError, match="no method takes all of id, taskSlug"):
        choose_method(without_id, {"id": ["r1"], "taskSlug": ["a"]})


def test_pushdown_survives_inside_subqueries_of_sql_sqlglot_cannot_read() -> None:
    statement = read("PIVOT (SELECT taskID, status FROM airplane.runs.runs WHERE taskSlug = 'deploy') "
                     "ON status USING count(*) ORDER BY 1", catalog())
    assert statement.tree is None
    assert [r.conditions for r in statement.references] == [{"taskSlug": ["deploy"]}]
