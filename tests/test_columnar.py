"""The columnar path (pages read by pyarrow's JSON reader) gives exactly the dict path's frames."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas import engine
from runs_pandas.http import client
from runs_pandas.sandbox import Sandbox

pytestmark = pytest.mark.integration

EXAMPLE = ("4385cf00-2d3a-425a-832f-f4285b1c9dce", "myResourceGroup", "myRegistry")


def by_both_paths(fetch: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """`fetch()`'s frame by the columnar path, by the dict path, and how many tables the
    columnar pass read columnar."""
    frames = []
    used = 0
    for columnar in (True, False):
        client.COLUMNAR = columnar
        before = engine.columnar_tables
        try:
            frames.append(fetch())
        finally:
            client.COLUMNAR = True
        if columnar:
            used = engine.columnar_tables - before
    return frames[0], frames[1], used


def both(sandbox: Sandbox, sql: str | tuple[str, list], params: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The frame of `sql` (or of (resource, scopes), what df.runs.fetch() does) by both paths."""

    def fetch() -> pd.DataFrame:
        with rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)) as s:
            if isinstance(sql, tuple):
                return engine.fetch_frame(sql[0], sql[1], session=s)
            return rp.query(sql, params=params, session=s)

    return by_both_paths(fetch)


def test_acr_same_frame_and_columnar_is_used(sandbox: Sandbox) -> None:
    scopes = sandbox.scopes()["azure"][:3]
    fast, slow, used = both(sandbox, ("azure.container_registry.runs", scopes))
    assert len(fast) > 500
    pd.testing.assert_frame_equal(fast, slow)
    assert used == 1


def test_official_runs_list_example_same_frame(sandbox: Sandbox) -> None:
    fast, slow, used = both(
        sandbox,
        "SELECT * FROM azure.container_registry.runs WHERE subscriptionId = :s AND "
        "resourceGroupName = :g AND registryName = :r",
        dict(zip("sgr", EXAMPLE)),
    )
    assert len(fast) == 1
    pd.testing.assert_frame_equal(fast, slow)
    assert used == 1


def test_databricks_same_frame(sandbox: Sandbox) -> None:
    fast, slow, _ = both(sandbox, ("databricks_workspace.cleanrooms.task_runs", sandbox.scopes()["databricks"]))
    assert len(fast) > 0
    pd.testing.assert_frame_equal(fast, slow)


def test_airplane_same_frame(sandbox: Sandbox) -> None:
    fast, slow, _ = both(sandbox, "SELECT * FROM airplane.runs.runs")
    assert len(fast) > 0
    pd.testing.assert_frame_equal(fast, slow)


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> rp.Session:
    return rp.Session(
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        secrets={"azure": "AZ-SECRET"},
        endpoints={"azure": "https://mgmt.test"},
        settings=rp.Settings(progress=False),
    )


def run(run_id: str, **extra: object) -> dict:
    return {"id": f"/x/{run_id}", "name": run_id, "type": "runs",
            "properties": {"runId": run_id, "createTime": "2024-05-01T09:00:00Z", **extra}}


@pytest.mark.parametrize(
    "pages",
    [
        # an unknown field that looks like a time stays text
        [{"value": [run("a", note="2024-05-01T09:00:00Z")], "nextLink": "https://mgmt.test/p2"},
         {"value": [run("b", note="x")]}],
        # pages that differ in their types, a number that is not an integer, a name in and out
        [{"value": [run("a", n=1, tag=None)], "nextLink": "https://mgmt.test/p2"},
         {"value": [run("b", n=1.5, tag="t"), {"id": "c", "runId": "c", "properties": {"runId": "c2"}}]}],
        # mixed kinds, a value beyond 64 bits (a null row is an error: tests/faults)
        [{"value": [run("a", d=True)], "nextLink": "https://mgmt.test/p2"},
         {"value": [run("b", d="x", big=2**70)]}],
    ],
)
def test_mock_pages_same_frame(pages: list[dict]) -> None:
    import json

    def handler(request: httpx.Request) -> httpx.Response:
        page = pages[1] if "p2" in str(request.url) else pages[0]
        return httpx.Response(200, content=json.dumps(page).encode())

    frames = []
    for columnar in (True, False):
        client.COLUMNAR = columnar
        try:
            frames.append(rp.query("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = 'sub' AND "
                                   "resourceGroupName = 'rg' AND registryName = 'alpha1'", session=mock(handler)))
        finally:
            client.COLUMNAR = True
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_cut_off_page_is_retried_on_the_columnar_path() -> None:
    import json

    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        content = json.dumps({"value": [run("a")]}).encode()
        return httpx.Response(200, content=content[:-5] if calls["n"] == 1 else content)

    df = rp.query("SELECT runId FROM azure.container_registry.runs WHERE subscriptionId = 'sub' AND "
                  "resourceGroupName = 'rg' AND registryName = 'alpha1'", session=mock(handler))
    assert list(df["runId"]) == ["a"] and calls["n"] == 2


def test_a_page_the_reader_cannot_take_turns_the_series_to_dicts() -> None:
    import json

    pages = [{"value": [run("a")], "nextLink": "https://mgmt.test/p2"}, {"value": [run("b"), run("c")]}]

    def handler(request: httpx.Request) -> httpx.Response:
        if "p2" in str(request.url):
            return httpx.Response(200, content=json.dumps(pages[1], indent=1).encode())  # lines: dicts
        return httpx.Response(200, content=json.dumps(pages[0]).encode())

    before = engine.columnar_tables
    df = rp.query("SELECT runId, createTime FROM azure.container_registry.runs WHERE subscriptionId = 'sub' AND "
                  "resourceGroupName = 'rg' AND registryName = 'alpha1'", session=mock(handler))
    assert list(df["runId"]) == ["a", "b", "c"]
    assert str(df["createTime"].dtype) == "datetime64[us, UTC]"
    assert engine.columnar_tables == before


# ---- frame for frame, the Python types in list cells included ----


def cells(frame: pd.DataFrame) -> list:
    """Every object cell as (type, value) all the way down: 1 and 1.0, [] and () differ."""

    def deep(value: object) -> object:
        if isinstance(value, list):
            return ("list", [deep(v) for v in value])
        if isinstance(value, dict):
            return ("dict", [(k, deep(v)) for k, v in value.items()])
        return (type(value).__name__, repr(value))

    return [(name, [deep(v) for v in frame[name]]) for name in frame.columns if frame[name].dtype == object]


def same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(fast, slow)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert cells(fast) == cells(slow)


@pytest.mark.parametrize(
    "resource, provider",
    [
        ("azure.container_registry.runs", "azure"),
        ("databricks_workspace.cleanrooms.task_runs", "databricks"),
        ("airplane.runs.runs", "airplane"),
    ],
)
def test_every_provider_same_frame_with_types_in_list_cells(sandbox: Sandbox, resource: str, provider: str) -> None:
    scopes = sandbox.scopes()[provider]
    if provider == "airplane":
        scopes = [{"taskID": s["taskID"]} for s in scopes]
    fast, slow, _ = both(sandbox, (resource, scopes))
    assert len(fast) > 100
    same(fast, slow)


def pages_session(pages: list[dict]) -> rp.Session:
    import json

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        number = int(path[2:]) if path.startswith("/p") and path[2:].isdigit() else 0
        return httpx.Response(200, content=json.dumps(pages[number]).encode())

    return mock(handler)


ONE = ("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = 'sub' AND "
       "resourceGroupName = 'rg' AND registryName = 'alpha1'")


def test_pages_with_different_fields_are_joined_columnar_in_the_dict_paths_order() -> None:
    """Each page is read on its own; fields only some pages have, objects that gain fields,
    lists empty on one page, all-null fields: joined into the dict path's frame."""
    pages = [
        {"value": [run("a", platform={"os": "linux"}, outputImages=[], x=None)], "nextLink": "https://mgmt.test/p1"},
        {"value": [run("b", platform={"os": "windows", "variant": "v8"}, late="z",
                       outputImages=[{"registry": "r", "tag": "t"}], x="set")], "nextLink": "https://mgmt.test/p2"},
        {"value": [run("c", later=7, customRegistries=["q"]), run("d", platform={})]},
    ]
    fast, slow, used = by_both_paths(lambda: rp.query(ONE, session=pages_session(pages)))
    assert used == 1
    assert list(fast["runId"]) == ["a", "b", "c", "d"]
    assert list(fast.columns).index("late") < list(fast.columns).index("later")
    same(fast, slow)


def test_a_series_that_turns_to_dicts_midway_gives_the_dict_paths_frame() -> None:
    """Pages read columnar, then one the reader refuses (mixed kinds): the earlier pages'
    rows come back from what their one read kept, exactly as parsed dicts would."""
    pages = [
        {"value": [run("a", d=True, outputImages=[{"tag": "1"}])], "nextLink": "https://mgmt.test/p1"},
        {"value": [run("b", d=False)], "nextLink": "https://mgmt.test/p2"},
        {"value": [run("c", d=[1, "x"])]},
    ]
    fast, slow, used = by_both_paths(lambda: rp.query(ONE, session=pages_session(pages)))
    assert used == 0
    same(fast, slow)


def test_arrow_dtypes_setting_gives_arrow_backed_list_columns(sandbox: Sandbox) -> None:
    scopes = sandbox.scopes()["azure"][:2]
    with rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)) as s:
        plain = engine.fetch_frame("azure.container_registry.runs", scopes, session=s)
        s.settings.arrow_dtypes = True
        arrow = engine.fetch_frame("azure.container_registry.runs", scopes, session=s)
    lists = [c for c in plain.columns if plain[c].dtype == object]
    assert "outputImages" in lists
    for name in lists:
        assert isinstance(arrow[name].dtype, pd.ArrowDtype)
        assert arrow[name].array._pa_array.to_pylist() == list(plain[name])
    others = [c for c in plain.columns if c not in lists]
    pd.testing.assert_frame_equal(arrow[others], plain[others])
