"""`df.runs`: the accessor over real sandbox frames of all three providers, and small hand-made ones."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import runs_pandas
from runs_pandas.accessor import NORMALIZED_COLUMNS, STATUSES
from runs_pandas.catalog import catalog
from runs_pandas.errors import MissingParamError, QueryError

ACR = "azure.container_registry.runs"
DATABRICKS = "databricks_workspace.cleanrooms.task_runs"
AIRPLANE = "airplane.runs.runs"
RESOURCES = (ACR, DATABRICKS, AIRPLANE)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "accessor.md"
TERMINAL_LIFE_CYCLES = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}


# -- fixtures: one sandbox and its frames for the module ------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from runs_pandas.sandbox import Sandbox

    sb = Sandbox(acr_runs=400, databricks_runs=300, airplane_runs=300).start()
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def session(sandbox: Any) -> runs_pandas.Session:
    session = runs_pandas.Session(sandbox=sandbox)
    session.settings.progress = False
    return session


@pytest.fixture(scope="module")
def frames(sandbox: Any, session: runs_pandas.Session) -> dict[str, pd.DataFrame]:
    acr = sandbox.scopes()["azure"][0]
    room = sandbox.scopes()["databricks"][0]
    return {
        ACR: runs_pandas.query(
            f"SELECT * FROM {ACR} WHERE subscriptionId = :s AND resourceGroupName = :g "
            "AND registryName = :r",
            params={
                "s": acr["subscriptionId"],
                "g": acr["resourceGroupName"],
                "r": acr["registryName"],
            },
            session=session,
        ),
        DATABRICKS: runs_pandas.query(
            f"SELECT * FROM {DATABRICKS} WHERE deployment_name = :d AND clean_room_name = :c",
            params={"d": room["deployment_name"], "c": room["clean_room_name"]},
            session=session,
        ),
        AIRPLANE: runs_pandas.query(f"SELECT * FROM {AIRPLANE}", session=session),
    }


def _states(resource: str) -> dict[str, str]:
    shape = catalog().resource(resource).runs
    assert shape is not None
    return dict(shape.states)


def _state_frame(resource: str, keys: list[str]) -> pd.DataFrame:
    """A frame shaped like the resource's, one run per provider state key ("LIFE/RESULT")."""
    shape = catalog().resource(resource).runs
    assert shape is not None
    columns: dict[str, list[Any]] = {shape.run_id[0]: [f"run-{i}" for i in range(len(keys))]}
    for position, column in enumerate(shape.status):
        columns[column] = [
            parts[position] if position < len(parts) else None
            for parts in (key.split("/") for key in keys)
        ]
    frame = pd.DataFrame(columns)
    frame.attrs["runs_pandas"] = {"resources": [resource]}
    return frame


# -- the catalog's state maps -------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_documented_state_has_a_status(resource: str) -> None:
    found = catalog().resource(resource)
    shape = found.runs
    assert shape is not None
    leaves = {name: field for f in found.fields for name, field in f.leaves()}
    first, *later = shape.status
    assert leaves[first].enum, f"{first} has no enum in the catalog"
    assert set(leaves[first].enum) <= set(shape.states)
    for column in later:  # Databricks result_state: every value, on every terminal state
        for life in TERMINAL_LIFE_CYCLES & set(leaves[first].enum):
            covered = {k.split("/", 1)[1] for k in shape.states if k.startswith(f"{life}/")}
            assert covered, f"{life} has no result entries"
        results = set(leaves[column].enum)
        assert {f"TERMINATED/{r}" for r in results} <= set(shape.states)
    for key in shape.states:
        if "/" in key:
            life, result = key.split("/")
            assert life in TERMINAL_LIFE_CYCLES, f"{key}: a result only comes with a terminal state"
            assert result in leaves[later[0]].enum
    assert set(shape.states.values()) <= set(STATUSES)


@pytest.mark.parametrize(
    ("resource", "key", "status"),
    [(r, k, s) for r in RESOURCES for k, s in _states(r).items()],
)
def test_normalize_maps_each_state(resource: str, key: str, status: str) -> None:
    out = _state_frame(resource, [key]).runs.normalize()
    assert out["status"].tolist() == [status]
    assert out["status_raw"].tolist() == [key]
    assert out["resource"].tolist() == [resource]


def test_unmapped_states_are_unknown_and_results_fall_back_to_the_life_cycle() -> None:
    out = _state_frame(
        DATABRICKS, ["RUNNING/SUCCESS", "TERMINATING/FAILED", "EXPLODED", "EXPLODED/X"]
    ).runs.normalize()
    assert out["status"].tolist() == ["running", "running", "unknown", "unknown"]
    assert out["status_raw"].tolist() == [
        "RUNNING/SUCCESS",
        "TERMINATING/FAILED",
        "EXPLODED",
        "EXPLODED/X",
    ]
    assert _state_frame(AIRPLANE, ["Paused"]).runs.normalize()["status"].tolist() == ["unknown"]


def test_docs_state_tables_match_the_catalog() -> None:
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{2,4} .*\(`([\w.]+)`\)\s*$", line)
        if heading:
            current = heading.group(1)
            continue
        row = re.match(r"^\| `([^`]+)` \| (\w+) \|$", line)
        if row and current is not None:
            assert row.group(1) not in tables.setdefault(current, {}), f"{row.group(1)} twice"
            tables[current][row.group(1)] = row.group(2)
    assert tables == {r: _states(r) for r in RESOURCES}


# -- normalize on real frames ---------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_normalize_real_frames(frames: dict[str, pd.DataFrame], resource: str) -> None:
    raw = frames[resource]
    assert raw.attrs["runs_pandas"]["resources"] == [resource]
    out = raw.runs.normalize()
    assert tuple(out.columns) == NORMALIZED_COLUMNS
    assert len(out) == len(raw) > 0
    assert out.index.equals(raw.index)
    assert str(out["status"].dtype) == "category"
    assert list(out["status"].cat.categories) == list(STATUSES)
    for column in ("provider", "resource", "run_id", "status_raw", "error"):
        assert pd.api.types.is_string_dtype(out[column]), column
    for column in ("created_at", "started_at", "finished_at"):
        assert str(out[column].dtype) == "datetime64[us, UTC]", column
    assert str(out["duration"].dtype) == "timedelta64[us]"
    assert set(out["resource"]) == {resource}
    assert set(out["provider"]) == {catalog().resource(resource).provider}
    states = _states(resource)
    # every raw state the sandbox serves is one the catalog knows
    known = {raw_state for raw_state in out["status_raw"].dropna() if raw_state in states}
    assert known == set(out["status_raw"].dropna())
    done = out.dropna(subset=["started_at", "finished_at"])
    assert (done["duration"] == done["finished_at"] - done["started_at"]).all()


def test_normalize_reads_each_providers_times(frames: dict[str, pd.DataFrame]) -> None:
    acr = frames[ACR]
    out = acr.runs.normalize()
    assert out["run_id"].tolist() == acr["runId"].tolist()
    assert out["started_at"].equals(
        acr["startTime"].astype("datetime64[us, UTC]").rename("started_at")
    )
    failed = out["status"] == "failed"
    assert out.loc[failed, "error"].notna().any()

    db = frames[DATABRICKS]
    out = db.runs.normalize()
    over = ~out["status"].isin(["queued", "running"]) & db["run_duration"].notna()
    assert over.any()
    expected = (db["start_time"] + db["run_duration"]).astype("datetime64[us, UTC]")
    assert (out.loc[over, "finished_at"] == expected[over]).all()
    assert (out.loc[over, "duration"] == db.loc[over, "run_duration"]).all()
    running = out["status"] == "running"
    assert out.loc[running, "finished_at"].isna().all()

    air = frames[AIRPLANE]
    out = air.runs.normalize()
    finished = air["succeededAt"].fillna(air["failedAt"]).fillna(air["cancelledAt"])
    pd.testing.assert_series_equal(
        out["finished_at"], finished.rename("finished_at"), check_dtype=False
    )
    assert (out["started_at"].dropna() == air["activeAt"].dropna()).all()
    assert out.loc[air["status"] == "Cancelled", "status"].eq("cancelled").all()


def test_cross_provider_concat_normalizes_summarizes_and_is_stable(
    frames: dict[str, pd.DataFrame],
) -> None:
    stacked = pd.concat([frames[r].runs.normalize() for r in RESOURCES], ignore_index=True)
    assert str(stacked["status"].dtype) == "category"
    pd.testing.assert_frame_equal(stacked.runs.normalize(), stacked)
    summary = stacked.runs.summary()
    assert list(summary.index) == sorted(RESOURCES)
    for resource in RESOURCES:
        assert summary.loc[resource, "runs"] == len(frames[resource])


def test_resource_is_found_from_columns_and_per_row(frames: dict[str, pd.DataFrame]) -> None:
    bare = {r: frames[r].copy() for r in RESOURCES}
    for frame in bare.values():
        frame.attrs = {}
    for resource in RESOURCES:
        assert set(bare[resource].runs.normalize()["resource"]) == {resource}
    # raw frames of two providers stacked: attrs are gone, each row is read as its own
    mixed = pd.concat([bare[ACR], bare[AIRPLANE]], ignore_index=True)
    out = mixed.runs.normalize()
    assert out["resource"].value_counts().to_dict() == {
        ACR: len(bare[ACR]),
        AIRPLANE: len(bare[AIRPLANE]),
    }
    assert out["run_id"].tolist() == bare[ACR]["runId"].tolist() + bare[AIRPLANE]["id"].tolist()
    # an explicit resource wins
    only = bare[ACR].runs.normalize(resource=ACR)
    assert set(only["resource"]) == {ACR}


# -- summary --------------------------------------------------------------------------------


def test_summary_numbers_by_hand() -> None:
    t0 = pd.Timestamp("2024-05-01T09:00:00Z")
    minutes = pd.Timedelta(minutes=1)
    runs = pd.DataFrame(
        {
            "id": ["r1", "r2", "r3", "r4", "r5", "r6"],
            "taskID": ["a", "a", "a", "a", "b", "b"],
            "status": ["Succeeded", "Succeeded", "Failed", "Active", "Cancelled", "NotStarted"],
            "createdAt": [t0] * 6,
            "activeAt": [t0, t0, t0, t0, t0, None],
            "succeededAt": [t0 + 10 * minutes, t0 + 20 * minutes, None, None, None, None],
            "failedAt": [None, None, t0 + 40 * minutes, None, None, None],
            "cancelledAt": [None, None, None, None, t0 + 5 * minutes, None],
        }
    )
    summary = runs.runs.summary(by="taskID")
    assert summary.index.name == "taskID"
    a, b = summary.loc["a"], summary.loc["b"]
    assert (a["runs"], a["succeeded"], a["failed"], a["cancelled"]) == (4, 2, 1, 0)
    assert a["success_rate"] == pytest.approx(2 / 3)
    assert a["p50_duration"] == 20 * minutes  # finished runs only: 10, 20, 40 minutes
    assert a["p95_duration"] == 38 * minutes  # linear: 20 + 0.9 * (40 - 20)
    assert a["max_duration"] == 40 * minutes
    assert (b["runs"], b["succeeded"], b["failed"], b["cancelled"]) == (2, 0, 0, 1)
    assert b["success_rate"] == 0.0
    assert b["max_duration"] == 5 * minutes
    assert str(summary["success_rate"].dtype) == "float64"
    assert str(summary["p50_duration"].dtype) == "timedelta64[us]"
    only_running = runs[runs["status"] == "Active"].runs.summary()
    assert pd.isna(only_running["success_rate"].iloc[0])
    assert pd.isna(only_running["p50_duration"].iloc[0])


def test_summary_on_raw_frames_by_their_own_columns(frames: dict[str, pd.DataFrame]) -> None:
    db = frames[DATABRICKS]
    summary = db.runs.summary(by="notebook_name")
    assert set(summary.index) == set(db["notebook_name"])
    assert summary["runs"].sum() == len(db)
    by_status = frames[ACR].runs.summary(by=["registryName", "status"])
    assert by_status.index.names == ["registryName", "status"]
    assert by_status["runs"].sum() == len(frames[ACR])


# -- fetch and exec ---------------------------------------------------------------------------


def test_fetch_over_a_frame_of_scopes(sandbox: Any, session: runs_pandas.Session) -> None:
    scopes = pd.DataFrame(sandbox.scopes()["azure"][:3]).assign(note="ignored: not a param")
    runs = scopes.runs.fetch(ACR, session=session)
    assert runs.attrs["runs_pandas"]["resources"] == [ACR]
    assert set(runs["registryName"]) == set(scopes["registryName"])
    for column in ("subscriptionId", "resourceGroupName", "registryName"):
        assert runs[column].notna().all()
    assert "note" not in runs.columns

    rooms = pd.DataFrame(sandbox.scopes()["databricks"]).drop(columns=["deployment_name"])
    db = rooms.runs.fetch(DATABRICKS, session=session, deployment_name="dbc-sandbox")
    assert set(db["clean_room_name"]) == set(rooms["clean_room_name"])

    tasks = pd.DataFrame(sandbox.scopes()["airplane"][:2])
    air = tasks.runs.fetch(AIRPLANE, session=session)
    assert set(air["taskID"]) == set(tasks["taskID"])


def test_fetch_names_the_missing_params() -> None:
    with pytest.raises(MissingParamError, match="registryName") as info:
        pd.DataFrame({"subscriptionId": ["s"]}).runs.fetch(ACR, session=runs_pandas.Session())
    assert "columns of the frame or as keyword arguments" in str(info.value)


def test_exec_dry_run_is_one_request_per_row_and_sends_nothing(
    sandbox: Any, session: runs_pandas.Session, frames: dict[str, pd.DataFrame]
) -> None:
    some = frames[ACR].head(3)
    before = len(sandbox.requests)
    plan = some.runs.exec("Runs_Cancel", session=session, dry_run=True)
    assert len(sandbox.requests) == before
    assert len(plan) == 3
    assert plan.index.equals(some.index)
    for url, run_id in zip(plan["url"], some["runId"]):
        assert url.split("?")[0].endswith(f"/runs/{run_id}/cancel")

    update = some.assign(isArchiveEnabled=pd.array([True, None, False], dtype="boolean"))
    plan = update.runs.exec("Runs_Update", session=session, dry_run=True)
    bodies = plan["body"].tolist()
    assert bodies[0] == '{"isArchiveEnabled": true}' and bodies[2] == '{"isArchiveEnabled": false}'
    assert "isArchiveEnabled" not in str(bodies[1])  # an empty cell is not sent
    plan = update.runs.exec("Runs_Update", session=session, dry_run=True, isArchiveEnabled=True)
    assert set(plan["body"]) == {'{"isArchiveEnabled": true}'}
    # Airplane's cancelRun takes runID; the frame's run id column gives it
    plan = frames[AIRPLANE].head(2).runs.exec("cancelRun", session=session, dry_run=True)
    assert plan["body"].tolist() == [f'{{"runID": "{i}"}}' for i in frames[AIRPLANE]["id"].head(2)]
    assert len(sandbox.requests) == before


def test_exec_cancels_for_real(
    sandbox: Any, session: runs_pandas.Session, frames: dict[str, pd.DataFrame]
) -> None:
    air = frames[AIRPLANE]
    active = air[air["status"].isin(["NotStarted", "Queued", "Active"])]
    assert len(active) > 0
    outcome = active.runs.exec("cancelRun", session=session)
    assert outcome["outcome"].tolist() == ["ok"] * len(active)
    after = runs_pandas.query(f"SELECT * FROM {AIRPLANE}", session=session)
    now = after.set_index("id").loc[active["id"]]
    assert (now["status"] == "Cancelled").all()
    assert set(now.reset_index().runs.normalize(resource=AIRPLANE)["status"]) == {"cancelled"}

    acr = frames[ACR]
    running = acr[acr["status"].isin(["Queued", "Started", "Running"])]
    assert len(running) > 0
    outcome = running.runs.exec("Runs_Cancel", session=session)
    assert set(outcome["outcome"]) == {"ok"}
    scope = sandbox.scopes()["azure"][0]
    later = pd.DataFrame([scope]).runs.fetch(ACR, session=session).set_index("runId")
    assert (later.loc[running["runId"], "status"] == "Canceled").all()
    # cancelling again fails row by row, and each failure is an outcome, not an exception
    again = running.runs.exec("Runs_Cancel", session=session)
    assert set(again["outcome"]) == {"failed"}
    assert again["http_status"].eq(409).all()


# -- flatten / unflatten / explode --------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_unflatten_then_flatten_is_the_same_frame(
    frames: dict[str, pd.DataFrame], resource: str
) -> None:
    frame = frames[resource]
    nested = frame.runs.unflatten()
    assert not [c for c in nested.columns if "." in c]
    assert len(nested.columns) < len(frame.columns)
    pd.testing.assert_frame_equal(nested.runs.flatten(), frame)


def test_unflatten_makes_dicts_and_flatten_types_them_back(frames: dict[str, pd.DataFrame]) -> None:
    acr = frames[ACR]
    nested = acr.runs.unflatten()
    first = acr.iloc[0]
    platform = nested["platform"].iloc[0]
    assert platform["os"] == first["platform.os"]
    assert nested["systemData"].iloc[0]["createdAt"] == first["systemData.createdAt"]
    # dicts made elsewhere (no unflatten history) are typed the way the core types rows
    made = pd.DataFrame(
        {
            "run": ["a", "b"],
            "state": [{"at": pd.Timestamp("2024-01-01", tz="UTC"), "n": 1, "ok": True}, None],
        }
    )
    flat = made.runs.flatten()
    assert list(flat.columns) == ["run", "state.at", "state.n", "state.ok"]
    assert str(flat["state.at"].dtype).startswith("datetime64") and str(
        flat["state.at"].dtype
    ).endswith("UTC]")
    assert str(flat["state.n"].dtype) == "Int64"
    assert str(flat["state.ok"].dtype) == "boolean"
    assert flat["state.n"].isna().tolist() == [False, True]


def test_explode_lists_and_their_objects(frames: dict[str, pd.DataFrame]) -> None:
    acr = frames[ACR]
    images = acr.runs.explode("outputImages")
    assert len(images) == sum(
        max(len(v), 1) if isinstance(v, list) else 1 for v in acr["outputImages"]
    )
    for key in ("registry", "repository", "tag", "digest"):
        assert f"outputImages.{key}" in images.columns
    assert "outputImages" not in images.columns
    assert images.index.isin(acr.index).all()
    with_images = acr[acr["outputImages"].map(lambda v: isinstance(v, list) and len(v) > 0)]
    row = with_images.index[0]
    assert images.loc[[row], "outputImages.tag"].tolist() == [
        i["tag"] for i in acr.loc[row, "outputImages"]
    ]

    labels = frames[AIRPLANE].runs.explode("constraints.labels")
    assert {"constraints.labels.key", "constraints.labels.value"} <= set(labels.columns)

    with pytest.raises(QueryError, match="list columns are: .*outputImages"):
        acr.runs.explode("status")
    with pytest.raises(QueryError, match="has no column 'nope'"):
        acr.runs.explode("nope")


# -- timeline -----------------------------------------------------------------------------------


def test_timeline_draws_one_bar_per_run(frames: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    acr = frames[ACR]
    fig = acr.runs.timeline(by="registryName", title="ACR")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    drawable = acr["startTime"].notna() | acr["createTime"].notna()
    assert len(ax.patches) == int(drawable.sum())
    assert [t.get_text() for t in ax.get_yticklabels()] == sorted(set(acr["registryName"]))
    assert ax.get_title() == "ACR"
    assert ax.get_xlabel() == "time (UTC)"
    legend = ax.get_legend()
    assert legend is not None
    assert {t.get_text() for t in legend.get_texts()} == set(
        acr.runs.normalize()["status"].astype(str)
    )
    path = tmp_path / "acr.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_timeline_on_a_stack_and_its_cap(
    frames: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    stacked = pd.concat(
        [
            frames[DATABRICKS].runs.normalize(keep=["notebook_name"]),
            frames[AIRPLANE].runs.normalize(),
        ]
    )
    fig = stacked.runs.timeline()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == sorted([DATABRICKS, AIRPLANE])
    fig = frames[DATABRICKS].runs.timeline(by="notebook_name")
    assert len(fig.axes[0].get_yticklabels()) == frames[DATABRICKS]["notebook_name"].nunique()

    monkeypatch.setattr(
        importlib.import_module("runs_pandas.analysis.timeline"), "TIMELINE_CAP", 50
    )
    fig = frames[AIRPLANE].runs.timeline(by="taskID")
    total = int(frames[AIRPLANE][["activeAt", "createdAt"]].notna().any(axis=1).sum())
    assert len(fig.axes[0].patches) == 50
    assert f"(most recent 50 of {total:,} runs)" in fig.axes[0].get_title()


# -- frames it cannot work with -------------------------------------------------------------------


def test_unusable_frames_get_errors_naming_the_columns(frames: dict[str, pd.DataFrame]) -> None:
    stray = pd.DataFrame({"when": [1], "what": ["x"]})
    with pytest.raises(QueryError) as info:
        stray.runs.normalize()
    text = str(info.value)
    assert "runId" in text and "notebook_job_run_state.life_cycle_state" in text
    assert "The frame has: when, what" in text
    with pytest.raises(QueryError, match="needs status and one of runId"):
        frames[ACR][["status"]].runs.summary()
    with pytest.raises(QueryError, match="no column 'nope'"):
        frames[ACR].runs.summary(by="nope")
    with pytest.raises(QueryError, match="no column 'nope'"):
        frames[ACR].runs.timeline(by="nope")
    with pytest.raises(QueryError, match="rows of one resource"):
        pd.concat([frames[ACR].runs.normalize(), frames[AIRPLANE].runs.normalize()]).runs.exec(
            "cancelRun", dry_run=True
        )


def test_importing_the_accessor_stays_light() -> None:
    code = (
        "import sys, runs_pandas.accessor, pandas as pd; "
        "assert hasattr(pd.DataFrame(), 'runs'); "
        "print(sorted(m for m in ('matplotlib', 'duckdb', 'runs_pandas.engine', 'runs_pandas.actions') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
