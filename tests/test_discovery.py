"""SHOW and DESCRIBE list exactly what the catalog holds."""

from __future__ import annotations

import pytest

import runs_pandas as rp
from runs_pandas.catalog import FieldType, catalog


def test_show_providers_services_resources() -> None:
    assert set(rp.query("SHOW PROVIDERS")["provider"]) == set(catalog().providers)
    assert list(rp.query("SHOW SERVICES IN azure")["service"]) == ["container_registry"]
    for resource in catalog().resources.values():
        found = rp.query(f"SHOW RESOURCES IN {resource.provider}.{resource.service}")
        assert resource.id in set(found["resource"])


def test_show_methods_lists_every_method_with_access_and_params() -> None:
    for resource in catalog().resources.values():
        df = rp.query(f"SHOW METHODS IN {resource.id}")
        assert list(df["method"]) == [m.name for m in resource.methods]
        for method, row in zip(resource.methods, df.itertuples()):
            assert row.required == ", ".join(p.name for p in method.required)
    acr = rp.query("SHOW METHODS IN azure.container_registry.runs").set_index("method")
    assert acr.loc["Runs_List", "access"] == "SELECT" and acr.loc["Runs_Cancel", "access"] == "EXEC"
    assert acr.loc["Runs_Get", "required"] == "subscriptionId, resourceGroupName, registryName, runId"


def test_describe_gives_dotted_nested_fields() -> None:
    for resource in catalog().resources.values():
        df = rp.query(f"DESCRIBE {resource.id}")
        leaves = [name for f in resource.fields for name, _ in f.leaves()]
        assert [n for n in df["field"] if "[]" not in n] == leaves
    acr = rp.query("DESCRIBE azure.container_registry.runs").set_index("field")
    assert acr.loc["platform.os", "type"] == "string" and acr.loc["createTime", "type"] == FieldType.DATETIME
    assert "Linux" in acr.loc["platform.os", "values"]


def test_like_filters() -> None:
    df = rp.query("DESCRIBE databricks_workspace.cleanrooms.task_runs LIKE 'notebook_job_run_state.%'")
    assert list(df["field"]) == ["notebook_job_run_state.life_cycle_state", "notebook_job_run_state.result_state"]
    assert list(rp.query("SHOW PROVIDERS LIKE 'air%'")["provider"]) == ["airplane"]


def test_discovery_sends_no_request(session: rp.Session, sandbox) -> None:
    before = len(sandbox.requests)
    rp.query("SHOW METHODS IN airplane.runs.runs", session=session)
    assert len(sandbox.requests) == before


@pytest.mark.parametrize("sql", ["SHOW TABLES", "SHOW METHODS IN azure.container_registry.runz", "SHOW SERVICES IN azur"])
def test_bad_discovery_statements_say_what_is_accepted(sql: str) -> None:
    with pytest.raises(rp.QueryError):
        rp.query(sql)
