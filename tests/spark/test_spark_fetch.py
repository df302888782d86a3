"""runs_pandas.spark in local mode against the sandbox: the same runs as df.runs.fetch."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

pytestmark = pytest.mark.spark

ACR = "azure.container_registry.runs"
MISSING_REGISTRIES = ("nosuchregistry", "decommissioned")


def _sorted(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


def _window_scopes(sandbox: Sandbox, session: rp.Session, count: int) -> list[dict[str, str]]:
    """`count` ACR scopes from the sandbox's data: each registry's runs cut in time windows."""
    registries = [s for s in sandbox.scopes()["azure"] if s["registryName"] != "myRegistry"]
    runs = pd.DataFrame(registries).runs.fetch(ACR, session=session)
    start, end = runs["createTime"].min().floor("h"), runs["createTime"].max().ceil("h")
    per_registry = count // len(registries)
    edges = pd.date_range(start, end, periods=per_registry + 1)
    scopes = []
    for registry in registries:
        for low, high in itertools.pairwise(edges):
            text = f"createTime ge {low:%Y-%m-%dT%H:%M:%S}Z and createTime lt {high:%Y-%m-%dT%H:%M:%S}Z"
            scopes.append({**registry, "$filter": text})
    return scopes


def test_spark_returns_the_same_runs_as_the_pandas_path(spark: Any, driver_session: rp.Session) -> None:
    import runs_pandas.spark as rps

    for resource, key, name in (
        (ACR, ["id"], "azure"),
        ("databricks_workspace.cleanrooms.task_runs", ["collaborator_job_run_info.collaborator_task_run_id"], "databricks"),
        ("airplane.runs.runs", ["id"], "airplane"),
    ):
        scopes = driver_session.sandbox.scopes()[name]  # type: ignore[union-attr]
        want = pd.DataFrame(scopes).runs.fetch(resource, session=driver_session)
        result = rps.fetch(spark.createDataFrame(pd.DataFrame(scopes)), resource, session=driver_session)
        got = result.to_pandas()
        assert result.errors.count() == 0
        assert list(got.columns) == list(want.columns), resource
        assert dict(got.dtypes) == dict(want.dtypes), resource
        pd.testing.assert_frame_equal(_sorted(got, key), _sorted(want, key), check_like=False)
        result.unpersist()


def test_500_scopes_with_failing_ones_reported_apart(
    spark: Any, spark_sandbox: Sandbox, driver_session: rp.Session
) -> None:
    import runs_pandas.spark as rps

    scopes = _window_scopes(spark_sandbox, driver_session, 500)
    assert len(scopes) == 500
    broken = [{**scopes[0], "registryName": name} for name in MISSING_REGISTRIES]
    want = pd.DataFrame(scopes).runs.fetch(ACR, session=driver_session)
    assert len(want) > 4000  # the windows hold all the registries' runs

    frame = spark.createDataFrame(pd.DataFrame(scopes + broken).astype(object))
    result = rps.fetch(frame, ACR, session=driver_session, partitions=4)
    got = result.to_pandas()
    pd.testing.assert_frame_equal(_sorted(got, ["id"]), _sorted(want, ["id"]))

    errors = result.errors.toPandas()
    assert sorted(errors["registryName"]) == sorted(MISSING_REGISTRIES)
    assert set(errors["error_class"]) == {"ApiError"}
    assert set(errors["status"]) == {404}
    assert all("ResourceNotFound" in m for m in errors["message"])
    assert set(errors["resource"]) == {ACR}
    result.unpersist()


def test_where_is_pushed_down_as_the_sql_path_does(spark: Any, driver_session: rp.Session) -> None:
    import runs_pandas.spark as rps

    scopes = driver_session.sandbox.scopes()["azure"]  # type: ignore[union-attr]
    where = "status = :status AND platform.os = 'Linux'"
    picked = [s for s in scopes if s["registryName"] in ("contosobuilds", "fabrikamci")]
    result = rps.fetch(
        spark.createDataFrame(pd.DataFrame(picked)), ACR, where=where, params={"status": "Failed"}, session=driver_session
    )
    got = result.to_pandas()
    assert result.errors.count() == 0
    fetched = pd.DataFrame(picked).runs.fetch(ACR, session=driver_session)
    want = fetched[(fetched["status"] == "Failed") & (fetched["platform.os"] == "Linux")]
    assert len(got) == len(want) > 0
    assert set(got["status"]) == {"Failed"}
    assert sorted(got["runId"]) == sorted(want["runId"])


def test_a_bad_where_fails_on_the_driver_before_any_task(spark: Any, driver_session: rp.Session) -> None:
    import runs_pandas.spark as rps

    frame = spark.createDataFrame(driver_session.sandbox.scopes()["azure"])  # type: ignore[union-attr]
    with pytest.raises(rp.QueryError):
        rps.fetch(frame, ACR, where="status = = 'x'", session=driver_session)
    with pytest.raises(rp.ParamError, match="none of its params"):
        rps.fetch(spark.createDataFrame([{"x": "1"}]), ACR, session=driver_session)


def test_no_secret_in_the_plan_the_errors_or_the_logs(
    spark: Any, spark_sandbox: Sandbox, driver_session: rp.Session, capfd: pytest.CaptureFixture[str]
) -> None:
    from pyspark import cloudpickle  # what goes into the plan is pickled with it

    import runs_pandas.spark as rps

    tokens = list(spark_sandbox.tokens.values())
    scopes = spark_sandbox.scopes()["azure"][:2] + [
        {**spark_sandbox.scopes()["azure"][0], "registryName": "nosuchregistry"}
    ]
    result = rps.fetch(spark.createDataFrame(scopes), ACR, where="status = 'Failed'", session=driver_session)
    result.runs.explain(extended=True)
    result.errors.explain(extended=True)
    errors = result.errors.toPandas()
    assert len(errors) == 1
    task = result.fetched._jdf.queryExecution().toString()
    out, err = capfd.readouterr()
    plan = cloudpickle.dumps(result.task)
    seen = out + err + task + errors.to_string()
    assert "MapInArrow" in out
    for token in tokens:
        assert token not in seen
        assert token.encode() not in plan
    assert not [t for t in tokens if t in repr(result.plan)]


def test_write_uses_the_run_store_layout(spark: Any, driver_session: rp.Session, tmp_path: Any) -> None:
    import pyarrow.dataset as ds

    import runs_pandas.spark as rps

    scopes = driver_session.sandbox.scopes()["azure"][:2]  # type: ignore[union-attr]
    broken = {**scopes[0], "registryName": "nosuchregistry"}
    result = rps.fetch(spark.createDataFrame(pd.DataFrame([*scopes, broken])), ACR, session=driver_session)
    assert result.write(str(tmp_path)) == "parquet"

    want = pd.DataFrame(scopes).runs.fetch(ACR, session=driver_session)
    days = sorted({f"day={d:%Y-%m-%d}" for d in want["createTime"].dt.tz_convert("UTC")})
    folder = tmp_path / "provider=azure" / "resource=container_registry.runs"
    assert sorted(p.name for p in folder.iterdir()) == days
    assert all(list(folder.glob(f"{day}/part-*.parquet")) for day in days)

    table = ds.dataset(str(tmp_path), format="parquet", partitioning="hive").to_table()
    assert table.num_rows == len(want)
    read = table.to_pandas()
    for day, runs in read.groupby("day"):
        assert set(runs["createTime"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d")) == {day}
    errors = ds.dataset(str(tmp_path / "_errors"), format="parquet").to_table().to_pandas()
    assert list(errors["registryName"]) == ["nosuchregistry"]
    with pytest.raises(rp.RunsError, match="format must be"):
        result.write(str(tmp_path), format="csv")
