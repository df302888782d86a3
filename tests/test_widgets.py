"""Forms: the right widget per param, Run through query(), messages, dry runs and memory.

Forms are driven through widget state (set `.value`, click Run) against the offline
sandbox, whose `requests` list shows every request a form caused (or did not cause).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import ipywidgets as w
import pandas as pd
import pytest
from test_fourth_provider import RESOURCE as FORGE
from test_fourth_provider import Forge, forge  # noqa: F401 (the fake provider, as a fixture)

import runs_pandas
from runs_pandas import widgets
from runs_pandas.catalog import Param, catalog
from runs_pandas.errors import UnknownResourceError
from runs_pandas.render import footer
from runs_pandas.sandbox import Sandbox
from runs_pandas.sql.plan import choose_method
from runs_pandas.widgets import FieldSpec, Form, form, sql_form

AIRPLANE = "airplane.runs.runs"
DATABRICKS = "databricks_workspace.cleanrooms.task_runs"
ACR = "azure.container_registry.runs"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    sandbox = Sandbox(acr_runs=300, databricks_runs=200, airplane_runs=300).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def session(sb: Sandbox) -> Iterator[runs_pandas.Session]:
    # The sandbox names Databricks "databricks", the catalog "databricks_workspace": map it
    # here so no test can reach a real Databricks host.
    with runs_pandas.Session(
        sandbox=sb,
        endpoints={"databricks_workspace": sb.endpoints["databricks_workspace"]},
        secrets={"databricks_workspace": sb.tokens["databricks_workspace"]},
    ) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh_memory() -> Iterator[None]:
    widgets.forget()
    yield
    widgets.forget()


class Sent:
    """The requests the sandbox receives from now on."""

    def __init__(self, sb: Sandbox) -> None:
        self._sb = sb
        self._start = len(sb.requests)

    def __call__(self) -> list[tuple[str, str]]:
        return list(self._sb.requests[self._start :])


def _texts(f: Form) -> str:
    """Everything the output area shows: streams, and the HTML of displayed frames."""
    parts = []
    for item in f.output.outputs:
        parts.append(item.get("text") or item.get("data", {}).get("text/html", ""))
    return "\n".join(parts)


def _fill(f: Form, **values: Any) -> None:
    for name, value in values.items():
        f.fields[name].value = value


def _airplane_run(session: runs_pandas.Session, finished: bool) -> str:
    """The id of a sandbox Airplane run that has (or has not) finished."""
    frame = runs_pandas.query("SELECT id, status FROM airplane.runs.runs", session=session)
    done = frame["status"].isin(["Succeeded", "Failed", "Cancelled"])
    return str(frame.loc[done if finished else ~done, "id"].iloc[0])


# ---------------------------------------------------------------------------- widgets per param


def test_resource_form_has_a_widget_per_select_param() -> None:
    f = form(AIRPLANE)
    assert list(f.fields) == ["taskID", "taskSlug", "since", "until", "limit", "page", "teamID", "id"]
    limit = f.fields["limit"]
    assert isinstance(limit, w.BoundedIntText) and (limit.min, limit.max) == (0, 50)
    assert isinstance(f.fields["page"], w.IntText)
    assert isinstance(f.fields["since"], w.NaiveDatetimePicker)
    assert isinstance(f.fields["until"], w.NaiveDatetimePicker)
    assert isinstance(f.fields["taskSlug"], w.Text)
    assert f.fields["taskSlug"].tooltip == "Unique slug of the task to fetch runs for."
    assert not any(widget.description.endswith("*") for widget in f.fields.values())


def test_required_fields_are_marked_and_come_first() -> None:
    f = form(DATABRICKS)
    assert list(f.fields)[:2] == ["clean_room_name", "deployment_name"]
    assert f.fields["clean_room_name"].description == "clean_room_name *"
    assert f.fields["notebook_name"].description == "notebook_name"


def test_defaults_are_prefilled_and_odd_names_quoted(
    sb: Sandbox, session: runs_pandas.Session
) -> None:
    namespace: dict[str, Any] = {}
    f = form(ACR, session=session, namespace=namespace)
    assert f.fields["api-version"].value == "2019-06-01-preview"
    assert "^[a-zA-Z0-9]*$" in f.fields["registryName"].placeholder
    _fill(f, **sb.scopes()["azure"][0])
    f.fields["$top"].value = 5
    assert f.sql == (
        "SELECT * FROM azure.container_registry.runs WHERE subscriptionId = :subscriptionId "
        "AND resourceGroupName = :resourceGroupName AND registryName = :registryName "
        'AND "api-version" = :api_version AND "$top" = :top'
    )
    sent = Sent(sb)
    f.run_button.click()
    assert f.error is None and len(sent()) == 1 and "%24top=5" in sent()[0][1]
    assert 0 < len(namespace["result"]) <= 5


def test_optional_boolean_is_tri_state_and_enum_a_dropdown() -> None:
    update = form(f"{ACR}.Runs_Update")
    archive = update.fields["isArchiveEnabled"]
    assert isinstance(archive, w.Dropdown) and archive.value is None
    assert [value for _, value in archive.options] == [None, True, False]
    # no catalog param has an enum today: a param built here stands in for one
    state = Param(name="state", location="query", enum=("queued", "done"), description="State.")
    mode = Param(name="mode", location="query", enum=("a", "b"), required=True, default="a")
    specs = [FieldSpec("state", state, False, "state"), FieldSpec("mode", mode, True, "mode")]
    f = Form("t", specs, lambda values: ("SHOW PROVIDERS", {}), namespace={})
    assert isinstance(f.fields["state"], w.Dropdown)
    assert list(f.fields["state"].options) == [("", None), ("queued", "queued"), ("done", "done")]
    assert f.fields["state"].tooltip == "State."
    assert [v for _, v in f.fields["mode"].options] == ["a", "b"] and f.fields["mode"].value == "a"


def test_optional_integer_is_sent_only_once_set() -> None:
    f = form(AIRPLANE)
    assert "limit" not in f.values()
    f.fields["limit"].value = 20
    assert f.toggles["limit"].value is True and f.values()["limit"] == 20
    f.toggles["limit"].value = False
    assert "limit" not in f.values()


def test_unknown_target_names_the_closest() -> None:
    with pytest.raises(UnknownResourceError, match="airplane.runs.runs"):
        form("airplane.runs.run")
    with pytest.raises(UnknownResourceError, match="cancelRun"):
        form("airplane.runs.runs.cancel")


# ---------------------------------------------------------------------------- running


def test_run_stores_the_frame_in_the_namespace(sb: Sandbox, session: runs_pandas.Session) -> None:
    namespace: dict[str, Any] = {}
    f = form(AIRPLANE, session=session, result="runs", namespace=namespace)
    since = (sb.now - timedelta(days=10)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    f.fields["taskSlug"].value = sb.scopes()["airplane"][0]["taskSlug"]
    f.fields["limit"].value = 50
    f.fields["since"].value = since
    sent = Sent(sb)
    f.run_button.click()
    assert f.error is None
    first = sent()[0]
    assert first[0] == "GET" and first[1].startswith("/airplane/v0/runs/list?")
    assert f"since={quote(widgets._wire(since))}" in first[1] and "limit=50" in first[1]
    frame = namespace["runs"]
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    assert frame["createdAt"].min() >= pd.Timestamp(since, tz="UTC")
    assert f"{len(frame)} row(s) stored in `runs`" in _texts(f)
    shown = [o for o in f.output.outputs if o["output_type"] == "display_data"]
    assert frame["id"].iloc[0] in shown[0]["data"]["text/html"]
    # the same renderer as the magic and the CLI: rows, requests, time, truncation
    assert footer(frame) in html.unescape(shown[0]["data"]["text/html"])
    assert f"{len(frame):,} rows · " in shown[0]["data"]["text/plain"] and "requests" in footer(frame)
    assert f.value is frame


def test_values_never_enter_the_sql_text() -> None:
    f = form(AIRPLANE, namespace={})
    f.fields["taskSlug"].value = "x' OR 1=1 --"
    assert f.sql == "SELECT * FROM airplane.runs.runs WHERE taskSlug = :taskSlug"
    assert f.values() == {"taskSlug": "x' OR 1=1 --"}


def test_missing_required_value_runs_nothing(sb: Sandbox, session: runs_pandas.Session) -> None:
    namespace: dict[str, Any] = {}
    f = form(DATABRICKS, session=session, namespace=namespace)
    f.fields["deployment_name"].value = sb.scopes()["databricks"][0]["deployment_name"]
    sent = Sent(sb)
    f.run_button.click()
    assert f.error is not None and "clean_room_name" in f.error
    assert "clean_room_name" in _texts(f) and f.output.outputs[0]["name"] == "stderr"
    assert sent() == [] and namespace == {} and f.value is None


def test_dry_run_shows_requests_and_sends_nothing(
    sb: Sandbox, session: runs_pandas.Session
) -> None:
    namespace: dict[str, Any] = {}
    scope = sb.scopes()["databricks"][0]
    f = form(DATABRICKS, session=session, namespace=namespace)
    _fill(f, **scope)
    f.dry_run.value = True
    sent = Sent(sb)
    f.run_button.click()
    assert sent() == [] and namespace == {}
    assert "dry run: 1 request(s)" in _texts(f)
    assert f"{sb.url}/databricks/api/2.0/clean-rooms/{scope['clean_room_name']}/runs" in _texts(f)
    f.dry_run.value = False
    f.run_button.click()
    assert sent()[0][1].startswith(f"/databricks/api/2.0/clean-rooms/{scope['clean_room_name']}/")
    assert set(namespace["result"]["clean_room_name"]) == {scope["clean_room_name"]}


def test_exec_form_cancels_a_run(sb: Sandbox, session: runs_pandas.Session) -> None:
    run_id = _airplane_run(session, finished=False)
    f = form(f"{AIRPLANE}.cancelRun", session=session, namespace={})
    assert f.fields["runID"].description == "runID *"
    f.fields["runID"].value = run_id
    assert f.sql == "EXEC airplane.runs.runs.cancelRun @runID=:runID"
    sent = Sent(sb)
    f.run_button.click()
    assert f.error is None and sent() == [("POST", "/airplane/v0/runs/cancel")]
    again = runs_pandas.query(
        "SELECT status FROM airplane.runs.runs WHERE id = :id", {"id": run_id}, session
    )
    assert again.loc[0, "status"] == "Cancelled"


def test_exec_form_gets_a_run(session: runs_pandas.Session) -> None:
    run_id = _airplane_run(session, finished=True)
    namespace: dict[str, Any] = {}
    f = form(f"{AIRPLANE}.getRun", session=session, namespace=namespace)
    f.fields["id"].value = run_id
    f.run()
    assert f.error is None and namespace["result"].loc[0, "id"] == run_id


def test_patch_body_goes_in_the_json_argument(sb: Sandbox, session: runs_pandas.Session) -> None:
    f = form(f"{ACR}.Runs_Update", session=session, namespace={})
    _fill(f, **sb.scopes()["azure"][0], runId="ca1hya")
    f.fields["isArchiveEnabled"].value = False
    assert f.sql.endswith('@"api-version"=:api_version, @@json=:__body')
    f.dry_run.value = True
    sent = Sent(sb)
    frame = f.run()
    assert sent() == [] and frame is not None and frame.loc[0, "verb"] == "PATCH"
    assert json.loads(frame.loc[0, "body"]) == {"isArchiveEnabled": False}


def test_api_error_is_a_message_without_traceback(session: runs_pandas.Session) -> None:
    f = form(f"{AIRPLANE}.getRun", session=session, namespace={})
    f.fields["id"].value = "run_that_does_not_exist"
    assert f.run() is None
    assert f.error is not None and "404" in f.error and "not found" in f.error
    assert "Traceback" not in _texts(f) and f.value is None


def test_bad_variable_name_is_refused(sb: Sandbox, session: runs_pandas.Session) -> None:
    f = form(AIRPLANE, session=session, namespace={})
    f.result_name.value = "my runs"
    sent = Sent(sb)
    f.run()
    assert f.error is not None and "variable name" in f.error and sent() == []


def test_namespace_defaults_to_the_ipython_user_namespace() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    had_shell = InteractiveShell.initialized()
    shell = InteractiveShell.instance()
    try:
        assert form(AIRPLANE).namespace is shell.user_ns
    finally:
        if not had_shell:
            InteractiveShell.clear_instance()


def test_form_displays_as_its_box() -> None:
    f = form(AIRPLANE)
    bundle = f._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == f.box.model_id
    assert f.run_button in f.box.children[-3].children and f.output is f.box.children[-1]
    assert f.progress is f.box.children[-2]  # the form's own progress line, hidden until Run


# ---------------------------------------------------------------------------- SQL forms


SQL = (
    'SELECT * FROM airplane.runs.runs WHERE "limit" = :n AND since = :start '
    "AND taskSlug = :slug AND status = :status"
)


def test_sql_form_has_a_typed_field_per_placeholder(
    sb: Sandbox, session: runs_pandas.Session
) -> None:
    namespace: dict[str, Any] = {}
    f = sql_form(SQL, session=session, namespace=namespace)
    assert list(f.fields) == ["n", "start", "slug", "status"]
    assert isinstance(f.fields["n"], w.BoundedIntText) and f.fields["n"].max == 50
    assert isinstance(f.fields["start"], w.NaiveDatetimePicker)
    assert isinstance(f.fields["slug"], w.Text) and isinstance(f.fields["status"], w.Text)
    assert all(widget.description.split(" ")[1] == "*" for widget in f.fields.values())
    assert f.sql == SQL
    slug = sb.scopes()["airplane"][0]["taskSlug"]
    _fill(f, n=50, start=datetime(2026, 1, 1, 8, 30), slug=slug, status="Succeeded")
    sent = Sent(sb)
    f.run_button.click()
    assert f.error is None
    assert "since=2026-01-01T08%3A30%3A00Z" in sent()[0][1] and f"taskSlug={slug}" in sent()[0][1]
    assert len(namespace["result"]) > 0 and set(namespace["result"]["status"]) == {"Succeeded"}


def test_sql_form_requires_every_placeholder(sb: Sandbox, session: runs_pandas.Session) -> None:
    f = sql_form(SQL, session=session, namespace={})
    f.fields["slug"].value = "deploy_service"
    sent = Sent(sb)
    f.run()
    assert f.error is not None and "start" in f.error and "status" in f.error and sent() == []


def test_values_are_remembered_for_the_next_form(session: runs_pandas.Session) -> None:
    first = form(AIRPLANE, session=session, namespace={})
    first.fields["taskSlug"].value = "deploy_service"
    first.fields["limit"].value = 20
    first.run()
    second = form(AIRPLANE)
    assert second.fields["taskSlug"].value == "deploy_service"
    assert second.fields["limit"].value == 20 and second.toggles["limit"].value is True
    assert form(DATABRICKS).fields["clean_room_name"].value == ""

    sql = "SELECT count(*) AS n FROM airplane.runs.runs WHERE taskSlug = :slug"
    cell = sql_form(sql, session=session, namespace={})
    cell.fields["slug"].value = "rotate_keys"
    cell.run()
    other = sql_form("SELECT * FROM airplane.runs.runs WHERE taskSlug = :slug AND taskID = :task")
    assert other.fields["slug"].value == "rotate_keys" and other.fields["task"].value == ""


def test_datetime_values_are_sent_in_utc() -> None:
    f = form(AIRPLANE)
    f.fields["until"].value = datetime(2024, 5, 1, 23, 59, 59)
    assert f.values() == {"until": "2024-05-01T23:59:59Z"}
    assert widgets._wire(datetime(2024, 5, 2, 1, 0, tzinfo=UTC)) == "2024-05-02T01:00:00Z"


def _scope_for(sb: Sandbox, provider: str) -> dict[str, str]:
    """A valid sandbox scope of a catalog provider (the sandbox may name it shorter)."""
    scopes = sb.scopes()
    return (scopes.get(provider) or scopes[provider.split("_")[0]])[0]


@pytest.mark.parametrize("resource_id", sorted(catalog().resources))
def test_the_starred_fields_are_what_the_planner_needs(
    sb: Sandbox, session: runs_pandas.Session, resource_id: str
) -> None:
    """Every resource's form, from its catalog data alone: filling only the starred fields
    is a SELECT the planner accepts, and they are the required params of its chosen method."""
    resource = catalog().resource(resource_id)
    f = form(resource_id, session=session, namespace={})
    starred = {name for name, spec in f.specs.items() if spec.required}
    scope = _scope_for(sb, resource.provider)
    chosen = choose_method(resource, {name: [scope[name]] for name in starred})
    assert starred == {p.name for p in chosen.required}
    _fill(f, **{name: scope[name] for name in starred})
    f.dry_run.value = True
    sent = Sent(sb)
    f.run_button.click()
    assert f.error is None and sent() == []
    assert "dry run: 1 request(s)" in _texts(f)


def test_a_form_for_a_provider_added_by_a_catalog_file(forge: Forge) -> None:  # noqa: F811
    """The fourth provider (tests/data/forge.json): its form comes from the catalog data alone."""
    namespace: dict[str, Any] = {}
    with runs_pandas.Session(sandbox=False, settings=runs_pandas.Settings(progress=False)) as s:
        f = form(FORGE, session=s, result="runs", namespace=namespace)
        assert {name for name, spec in f.specs.items() if spec.required} == {"owner", "repo"}
        assert list(f.specs)[:2] == ["owner", "repo"]  # the required fields first
        _fill(f, owner="o", repo="api")
        f.run_button.click()
    assert f.error is None, f.error
    assert namespace["runs"]["id"].tolist() == list(range(1000, 1023))
    assert all(h["Accept"] == "application/vnd.forge+json" for _, _, h in forge.seen)
