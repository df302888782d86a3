"""Rows -> typed, flat frames: what a user sees in the columns and dtypes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa

from runs_pandas import frames
from runs_pandas.catalog import Field, FieldType, catalog

EXAMPLES = Path(__file__).resolve().parents[1] / "runs_pandas" / "sandbox" / "examples"


def acr_fields() -> tuple[Field, ...]:
    return catalog().resource("azure.container_registry.runs").fields


def frame_of(rows: list[dict], fields, scope=None) -> pd.DataFrame:
    return frames.to_frame(frames.to_table(rows, fields, scope))


def test_official_list_example_becomes_one_row_with_the_examples_values() -> None:
    body = json.loads((EXAMPLES / "RunsList.json").read_text())["responses"]["200"]["body"]
    run = body["value"][0]
    df = frame_of(frames.lift(body["value"], "properties"), acr_fields())
    assert len(df) == 1
    row = df.iloc[0]
    props = run["properties"]
    assert row["id"] == run["id"] and row["name"] == run["name"] and row["type"] == run["type"]
    assert row["runId"] == props["runId"] and row["status"] == props["status"]
    assert row["createTime"] == pd.Timestamp(props["createTime"])
    assert row["platform.os"] == "Linux" and row["platform.architecture"] == "amd64"
    assert row["agentConfiguration.cpu"] == 2
    assert row["isArchiveEnabled"] is True or row["isArchiveEnabled"] == True  # noqa: E712
    assert row["outputImages"] == props["outputImages"]
    assert row["imageUpdateTrigger.images"] == props["imageUpdateTrigger"]["images"]
    assert row["imageUpdateTrigger.id"] == props["imageUpdateTrigger"]["id"]


def test_columns_follow_the_catalog_order_then_unknown_fields() -> None:
    rows = [{"runId": "a", "zzz_new": 1, "id": "x", "platform": {"os": "Linux", "gpu": "none"}}]
    df = frame_of(rows, acr_fields())
    cols = list(df.columns)
    assert cols.index("id") < cols.index("runId") < cols.index("platform.os")
    assert "zzz_new" in cols and cols.index("zzz_new") > cols.index("isArchiveEnabled")
    assert df.loc[0, "platform.gpu"] == "none"  # unknown nested field kept
    assert df.loc[0, "zzz_new"] == 1


def test_types_come_from_the_catalog() -> None:
    rows = [
        {"runId": "a", "createTime": "2024-05-01T09:00:00.1234567+00:00", "agentConfiguration": {"cpu": 2},
         "isArchiveEnabled": True},
        {"runId": "b", "createTime": "2024-05-01T11:00:00+02:00"},
    ]
    df = frame_of(rows, acr_fields())
    assert str(df["createTime"].dtype) == "datetime64[us, UTC]"
    assert df.loc[1, "createTime"] == pd.Timestamp("2024-05-01T09:00:00Z")
    assert df.loc[0, "createTime"].microsecond == 123456
    assert str(df["agentConfiguration.cpu"].dtype) == "Int64"
    assert pd.isna(df.loc[1, "agentConfiguration.cpu"])
    assert str(df["isArchiveEnabled"].dtype) == "boolean"


def test_airplane_times_and_maps() -> None:
    fields = catalog().resource("airplane.runs.runs").fields
    rows = [
        {"id": "run1", "createdAt": "2022-01-11 22:32:45.601486+00", "paramValues": {"env": "prod"}},
        {"id": "run2", "createdAt": "2022-01-12 01:00:00.000001+00", "paramValues": {"region": "eu"}},
    ]
    df = frame_of(rows, fields)
    assert df.loc[0, "createdAt"] == pd.Timestamp("2022-01-11T22:32:45.601486Z")
    assert df.loc[0, "paramValues.env"] == "prod" and pd.isna(df.loc[1, "paramValues.env"])
    assert df.loc[1, "paramValues.region"] == "eu"


def test_databricks_epoch_millis_durations_and_int64_strings() -> None:
    fields = catalog().resource("databricks_workspace.cleanrooms.task_runs").fields
    rows = [
        {"notebook_name": "nb", "start_time": 1714554000000, "run_duration": "90000",
         "collaborator_job_run_info": {"collaborator_job_id": "9007199254740993"}},
        {"notebook_name": "nb", "start_time": "1714554060000", "run_duration": 1500},
    ]
    df = frame_of(rows, fields)
    assert df.loc[0, "start_time"] == pd.Timestamp("2024-05-01T09:00:00Z")
    assert df.loc[1, "start_time"] == pd.Timestamp("2024-05-01T09:01:00Z")
    assert df.loc[0, "run_duration"] == pd.Timedelta(seconds=90)
    assert df.loc[1, "run_duration"] == pd.Timedelta(milliseconds=1500)
    assert df.loc[0, "collaborator_job_run_info.collaborator_job_id"] == 9007199254740993
    assert str(df["collaborator_job_run_info.collaborator_job_id"].dtype) == "Int64"


def test_a_value_that_cannot_be_typed_is_kept_not_dropped() -> None:
    rows = [{"runId": "a", "createTime": "not a time"}, {"runId": "b", "createTime": "2024-01-01T00:00:00Z"}]
    df = frame_of(rows, acr_fields())
    assert df.loc[0, "createTime"] == "not a time"


def test_mixed_kinds_in_an_unknown_field_fall_back_to_text() -> None:
    rows = [{"runId": "a", "extra": 1}, {"runId": "b", "extra": "two"}, {"runId": "c", "extra": {"k": 1}}]
    df = frame_of(rows, acr_fields())
    assert list(df["extra"]) == ["1", "two", '{"k": 1}']


def test_scope_columns_come_first_and_tell_rows_apart() -> None:
    rows = [{"runId": "a"}, {"runId": "b"}]
    df = frame_of(rows, acr_fields(), {"registryName": ["r1", "r2"]})
    assert df.columns[0] == "registryName"
    assert list(df["registryName"]) == ["r1", "r2"]


def test_no_rows_still_gives_every_catalog_column_typed() -> None:
    df = frame_of([], acr_fields())
    assert len(df) == 0
    assert "platform.os" in df.columns and str(df["createTime"].dtype) == "datetime64[us, UTC]"


def test_lift_moves_properties_up_and_keeps_odd_values() -> None:
    rows = frames.lift([{"id": "x", "properties": {"runId": "a"}}, {"id": "y", "properties": "odd"}], "properties")
    assert rows == [{"id": "x", "runId": "a"}, {"id": "y", "properties": "odd"}]


def test_interval_columns_come_back_as_timedeltas() -> None:
    table = pa.table({"d": pa.array([pa.MonthDayNano([0, 1, 5_000_000_000]), None], pa.month_day_nano_interval())})
    df = frames.to_frame(table)
    assert df.loc[0, "d"] == pd.Timedelta(days=1, seconds=5)
    assert pd.isna(df.loc[1, "d"])


def test_field_type_enum_is_what_the_catalog_uses() -> None:
    assert {f.type for f in acr_fields()} <= set(FieldType)
    assert dt.timezone.utc


def test_a_list_of_objects_with_a_mixed_leaf_stays_a_list() -> None:
    fields = catalog().resource("airplane.runs.runs").fields
    rows = [
        {"id": "r1", "params": [{"slug": "dry", "default": True}, {"slug": "n", "default": 3}]},
        {"id": "r2", "params": [{"slug": "env", "default": "prod"}]},
    ]
    df = frame_of(rows, fields)
    assert isinstance(df.loc[0, "params"], list) and len(df.loc[0, "params"]) == 2
    assert [p["default"] for p in df.loc[0, "params"]] == ["true", "3"]
    assert df.loc[1, "params"][0] == {"slug": "env", "default": "prod"} or df.loc[1, "params"][0]["default"] == "prod"


def test_a_leaf_of_one_kind_keeps_its_type_after_another_call_mixed_it() -> None:
    fields = catalog().resource("airplane.runs.runs").fields
    mixed_rows = [{"id": "r1", "params": [{"slug": "a", "default": True}, {"slug": "b", "default": "x"}]}]
    one_kind = [{"id": "r2", "params": [{"slug": "a", "default": True}, {"slug": "c", "default": False}]}]
    assert [p["default"] for p in frame_of(mixed_rows, fields).loc[0, "params"]] == ["true", "x"]
    assert [p["default"] for p in frame_of(one_kind, fields).loc[0, "params"]] == [True, False]
