"""Requests built from the catalog: values are data, never path or host."""

from __future__ import annotations

import pytest

from runs_pandas.catalog import catalog
from runs_pandas.errors import ParamError
from runs_pandas.http import build_request

ACR = "azure.container_registry.runs"
SCOPE = {"subscriptionId": "sub", "resourceGroupName": "rg", "registryName": "myRegistry"}


def acr(method: str, **args):
    resource = catalog().resource(ACR)
    return build_request(catalog().provider("azure"), ACR, resource.method(method), {**SCOPE, **args})


def dbx(**args):
    resource = catalog().resource("databricks_workspace.cleanrooms.task_runs")
    return build_request(catalog().provider("databricks_workspace"), resource.id, resource.method("list"), args)


def test_acr_list_url_has_the_path_and_api_version() -> None:
    request = acr("Runs_List", **{"$top": 5})
    assert request.verb == "GET"
    assert request.url.startswith(
        "https://management.azure.com/subscriptions/sub/resourceGroups/rg/providers/"
        "Microsoft.ContainerRegistry/registries/myRegistry/runs?"
    )
    assert "api-version=2019-06-01-preview" in request.url and "%24top=5" in request.url


@pytest.mark.parametrize("run_id", ["../x", "..", "a/b", ""])
def test_a_path_value_cannot_change_the_path(run_id: str) -> None:
    with pytest.raises(ParamError, match="runId"):
        acr("Runs_Get", runId=run_id)


def test_odd_characters_are_percent_encoded_in_one_segment() -> None:
    request = acr("Runs_Get", runId="a b?c#d")
    assert request.url.split("/runs/")[1].startswith("a%20b%3Fc%23d?")


def test_registry_name_rules_from_the_swagger() -> None:
    with pytest.raises(ParamError, match="at least 5"):
        build_request(catalog().provider("azure"), ACR, catalog().resource(ACR).method("Runs_List"),
                      {**SCOPE, "registryName": "abc"})
    with pytest.raises(ParamError, match="must match"):
        build_request(catalog().provider("azure"), ACR, catalog().resource(ACR).method("Runs_List"),
                      {**SCOPE, "registryName": "my-registry"})


def test_databricks_deployment_name_or_full_host() -> None:
    assert dbx(deployment_name="dbc-1234", clean_room_name="cr").url == (
        "https://dbc-1234.cloud.databricks.com/api/2.0/clean-rooms/cr/runs"
    )
    assert dbx(deployment_name="adb-1.2.azuredatabricks.net", clean_room_name="cr").url.startswith(
        "https://adb-1.2.azuredatabricks.net/api/2.0/"
    )


@pytest.mark.parametrize("bad", ["evil.com/#", "evil.com/x", "user@evil.com", "evil.com?x=1", "ftp://evil.com", "a b"])
def test_a_deployment_name_cannot_redirect_the_request(bad: str) -> None:
    with pytest.raises(ParamError, match="deployment_name"):
        dbx(deployment_name=bad, clean_room_name="cr")


def test_unknown_param_names_the_valid_ones() -> None:
    with pytest.raises(ParamError, match="registryName"):
        acr("Runs_List", registry="x")


def test_integer_bounds_are_checked() -> None:
    resource = catalog().resource("airplane.runs.runs")
    with pytest.raises(ParamError, match="at most 50"):
        build_request(catalog().provider("airplane"), resource.id, resource.method("listRuns"), {"limit": 51})


def test_body_params_go_in_the_json_body() -> None:
    resource = catalog().resource("airplane.runs.runs")
    request = build_request(catalog().provider("airplane"), resource.id, resource.method("cancelRun"), {"runID": "run1"})
    assert request.verb == "POST" and request.json == {"runID": "run1"}
    assert request.url == "https://api.airplane.dev/v0/runs/cancel"


def test_databricks_host_comes_from_databricks_host_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://adb-7.8.azuredatabricks.net")
    assert dbx(clean_room_name="cr").url == "https://adb-7.8.azuredatabricks.net/api/2.0/clean-rooms/cr/runs"
    method = catalog().resource("databricks_workspace.cleanrooms.task_runs").method("list")
    assert [p.name for p in method.required] == ["clean_room_name"]


def test_a_full_https_host_is_accepted() -> None:
    assert dbx(deployment_name="https://dbc-9.cloud.databricks.com", clean_room_name="cr").url.startswith(
        "https://dbc-9.cloud.databricks.com/api/2.0/"
    )
