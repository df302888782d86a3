"""The catalog loads, finds resources by id, and rejects wrong files when it loads them."""

from __future__ import annotations

import copy
import json
import types
from collections.abc import Callable, Iterator
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import runs_pandas.catalog as catalog_module
from runs_pandas.catalog import Catalog, FieldType, Provider, catalog
from runs_pandas.errors import UnknownResourceError

RESOURCES = {
    "azure.container_registry.runs",
    "databricks_workspace.cleanrooms.task_runs",
    "airplane.runs.runs",
}


def _shipped() -> dict[str, dict[str, Any]]:
    """The catalog files in the package, by file name."""
    folder = importlib_resources.files("runs_pandas.catalog") / "data"
    return {
        entry.name: json.loads(entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


# --------------------------------------------------------------------------------------
# The real catalog


def test_catalog_loads_every_provider_and_resource() -> None:
    cat = catalog()
    assert isinstance(cat, Catalog)
    assert {"azure", "databricks_workspace", "airplane"} <= set(cat.providers)
    assert RESOURCES <= set(cat.resources)
    assert catalog() is cat  # read once


def test_unknown_resource_names_the_closest() -> None:
    with pytest.raises(UnknownResourceError, match="azure.container_registry.runs") as info:
        catalog().resource("azure.container_registry.runz")
    assert "did you mean 'azure.container_registry.runs'" in str(info.value)


def test_unknown_provider_names_the_known_ones() -> None:
    with pytest.raises(UnknownResourceError, match="airplane"):
        catalog().provider("airplan")


def test_resource_ids_are_case_insensitive() -> None:
    assert catalog().resource("Azure.Container_Registry.Runs").id == "azure.container_registry.runs"


@pytest.mark.parametrize(
    ("resource_id", "select", "exec_"),
    [
        (
            "azure.container_registry.runs",
            ["Runs_List"],
            ["Runs_Get", "Runs_Cancel", "Runs_GetLogSasUrl", "Runs_Update"],
        ),
        ("databricks_workspace.cleanrooms.task_runs", ["list"], []),
        ("airplane.runs.runs", ["listRuns", "getRun"], ["getRun", "getOutputs", "cancelRun"]),
    ],
)
def test_methods_by_access(resource_id: str, select: list[str], exec_: list[str]) -> None:
    resource = catalog().resource(resource_id)
    assert [m.name for m in resource.methods_for("select")] == select
    assert [m.name for m in resource.methods_for("exec")] == exec_


def test_acr_required_params_and_columns() -> None:
    runs = catalog().resource("azure.container_registry.runs")
    assert len(runs.fields) == 26
    listing = runs.method("runs_list")  # method names are case-insensitive
    assert listing is not None
    # api-version is required by the API but has a default, so the user need not give it
    assert [p.name for p in listing.required] == [
        "subscriptionId",
        "resourceGroupName",
        "registryName",
    ]
    assert {p.name for p in listing.params if not p.column} == {"api-version", "$filter", "$top"}
    leaves = [name for field in runs.fields for name, _ in field.leaves()]
    assert leaves[:4] == ["id", "name", "type", "systemData.createdBy"]
    assert "platform.os" in leaves and "imageUpdateTrigger.images" in leaves
    images = runs.field("imageUpdateTrigger").children[2]  # type: ignore[union-attr]
    assert (images.type, images.items) == (FieldType.ARRAY, FieldType.OBJECT)
    assert [c.name for c in images.children] == ["registry", "repository", "tag", "digest"]
    update = runs.method("Runs_Update")
    assert update is not None and update.body == "json" and update.long_running
    archive = update.param("isArchiveEnabled")
    assert archive is not None and (archive.location, archive.type) == ("body", "boolean")


def test_databricks_host_param_and_types() -> None:
    provider = catalog().provider("databricks_workspace")
    runs = catalog().resource("databricks_workspace.cleanrooms.task_runs")
    method = runs.method("list")
    assert method is not None
    host = method.param("deployment_name")
    assert host is not None and host.location == "host" and not host.required  # the configured host fills it
    assert provider.auth.scope is not None and provider.auth.scope.param == "deployment_name"
    assert "{deployment_name}" in provider.base_url
    types_ = {name: field.type for f in runs.fields for name, field in f.leaves()}
    assert types_["start_time"] is FieldType.EPOCH_MS
    assert types_["run_duration"] is FieldType.DURATION_MS
    assert types_["collaborator_job_run_info.collaborator_workspace_id"] is FieldType.INTEGER
    assert "notebook_job_run_state.life_cycle_state" in types_


def test_airplane_auth_and_paging() -> None:
    provider = catalog().provider("airplane")
    assert provider.auth.scheme is None
    assert provider.auth.scope is not None and provider.auth.scope.param == "teamID" and provider.auth.scope.required
    assert provider.error.code is None and provider.error.message == "error"
    method = catalog().resource("airplane.runs.runs").method("listRuns")
    assert method is not None
    assert (method.paginator.first_page, method.paginator.default_size) == (0, 50)


# --------------------------------------------------------------------------------------
# Wrong files are rejected when the catalog loads


@pytest.fixture
def load_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, Callable[[dict[str, Any]], None]], Catalog]]:
    """Load the catalog through `catalog()` from a copy of the shipped files, one changed."""

    def load(file_name: str, change: Callable[[dict[str, Any]], None]) -> Catalog:
        for name, data in _shipped().items():
            data = copy.deepcopy(data)
            if name == file_name:
                change(data)
            (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")
        fake = types.SimpleNamespace(files=lambda package: _Folder(tmp_path))
        monkeypatch.setattr(catalog_module, "_files", fake)
        catalog.cache_clear()
        return catalog()

    yield load
    catalog.cache_clear()  # the next test reads the real files again


class _Folder:
    """`files(package) / "data"` -> the temporary folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __truediv__(self, name: str) -> Path:
        assert name == "data"
        return self.path


def _method(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in data["resources"][0]["methods"] if m["name"] == name)


def _field(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["resources"][0]["fields"] if f["name"] == name)


def test_the_fixture_loads_good_files(load_with: Any) -> None:
    cat = load_with("azure.json", lambda data: None)
    assert RESOURCES <= set(cat.resources)


def _drop_run_id(data: dict[str, Any]) -> None:
    method = _method(data, "Runs_Get")
    method["params"] = [p for p in method["params"] if p["name"] != "runId"]


def _misplace_run_id(data: dict[str, Any]) -> None:
    for param in _method(data, "Runs_Cancel")["params"]:
        if param["name"] == "runId":
            param["location"] = "query"


BAD_FILES = [
    pytest.param(
        "azure.json",
        _drop_run_id,
        r"method 'Runs_Get': path holes \[.*'runId'.*\] != path params",
        id="path-hole-without-param",
    ),
    pytest.param(
        "azure.json",
        _misplace_run_id,
        r"method 'Runs_Cancel': path holes .* != path params",
        id="path-param-in-query",
    ),
    pytest.param(
        "azure.json",
        lambda d: _method(d, "Runs_List")["paginator"].pop("next_field"),
        r"paginator 'next_link' needs next_field",
        id="next-link-without-field",
    ),
    pytest.param(
        "databricks.json",
        lambda d: _method(d, "list")["paginator"].pop("token_param"),
        r"paginator 'token' needs token_param",
        id="token-without-param",
    ),
    pytest.param(
        "airplane.json",
        lambda d: _method(d, "listRuns")["paginator"].pop("default_size"),
        r"paginator 'page_number' needs default_size",
        id="pages-without-size",
    ),
    pytest.param(
        "azure.json",
        lambda d: _field(d, "platform").pop("children"),
        r"field 'platform': an object needs children",
        id="object-without-children",
    ),
    pytest.param(
        "azure.json",
        lambda d: _field(d, "runId").update(children=[{"name": "x", "type": "string"}]),
        r"field 'runId': only objects and arrays have children",
        id="children-on-a-string",
    ),
    pytest.param(
        "azure.json",
        lambda d: _field(d, "createTime").update(type="timestamp"),
        r"fields\.\d+\.type",
        id="unknown-field-type",
    ),
    pytest.param(
        "azure.json",
        lambda d: _method(d, "Runs_List").update(rows="value"),
        r"method 'Runs_List': rows must be a path like",
        id="rows-not-a-path",
    ),
    pytest.param(
        "azure.json",
        lambda d: _method(d, "Runs_List")["params"].append({"name": "$top", "location": "query"}),
        r"method 'Runs_List': duplicate params \['\$top'\]",
        id="duplicate-param",
    ),
    pytest.param(
        "airplane.json",
        lambda d: _method(d, "getRun").update(acess=["exec"]),
        r"acess\s+Extra inputs are not permitted",
        id="misspelt-key",
    ),
    pytest.param(
        "databricks.json",
        lambda d: d["resources"][0].update(id="databricks.cleanrooms.task_runs"),
        r"resource 'databricks.cleanrooms.task_runs' is not under provider "
        r"'databricks_workspace'",
        id="resource-under-other-provider",
    ),
    pytest.param(
        "airplane.json",
        lambda d: d["resources"][0].update(id="airplane.runs"),
        r"resource id 'airplane.runs' must be provider.service.resource",
        id="two-part-resource-id",
    ),
    pytest.param(
        "airplane.json",
        lambda d: d["resources"][0].update(methods=[]),
        r"resource 'airplane.runs.runs' has no methods",
        id="no-methods",
    ),
    pytest.param(
        "azure.json",
        lambda d: _method(d, "Runs_Get")["params"][0].update(location="cookie"),
        r"params\.0\.location",
        id="unknown-param-location",
    ),
]


@pytest.mark.parametrize(("file_name", "change", "message"), BAD_FILES)
def test_bad_file_is_rejected_at_load(
    load_with: Any, file_name: str, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        load_with(file_name, change)


def test_shipped_files_validate_one_by_one() -> None:
    files = {
        "azure.json": "azure",
        "databricks.json": "databricks_workspace",
        "airplane.json": "airplane",
    }
    shipped = _shipped()
    assert set(files) <= set(shipped)
    for name, provider_name in files.items():
        provider = Provider.model_validate(shipped[name])
        assert provider.name == provider_name, name
        assert provider.resources, name
