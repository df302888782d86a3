"""Fields whose values mix kinds are read columnar and give exactly the dict path's frames."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

import runs_pandas as rp
from runs_pandas import engine, mixed, pages
from runs_pandas.sandbox import Sandbox
from tests.test_columnar import ONE, pages_session, run, same
from tests.test_columnar import by_both_paths as both

pytestmark = pytest.mark.integration

DATABRICKS = "databricks_workspace.cleanrooms.task_runs"


@pytest.fixture(scope="module")
def small_pages() -> Iterator[Sandbox]:
    """Short pages: some hold one kind of a mixed field only, others both."""
    sb = Sandbox(acr_runs=10, databricks_runs=400, airplane_runs=300, page_size={"databricks": 5}).start()
    yield sb
    sb.stop()


def raw_pages(sb: Sandbox, room: str) -> list[dict[str, Any]]:
    """Every page of one clean room's runs as the sandbox serves them (what the test covers)."""
    headers = {"Authorization": f"Bearer {sb.tokens['databricks_workspace']}"}
    first = f"{sb.endpoints['databricks_workspace']}/api/2.0/clean-rooms/{room}/runs"
    out = []
    url: str | None = first
    with httpx.Client(trust_env=False) as http:
        while url:
            page = orjson.loads(http.get(url, headers=headers).content)
            out.append(page)
            token = page.get("next_page_token")
            url = f"{first}?page_token={token}" if token else None
    return out


def test_databricks_durations_text_on_some_pages_numbers_on_others(small_pages: Sandbox) -> None:
    scopes = small_pages.scopes()["databricks"]
    room = scopes[0]["clean_room_name"]
    kinds = [{type(r["run_duration"]) for r in p["runs"] if "run_duration" in r}
             for p in raw_pages(small_pages, room)]
    assert {int} in kinds and {int, str} in kinds  # pages of one kind and pages that mix
    with rp.Session(sandbox=small_pages, settings=rp.Settings(progress=False)) as s:
        fast, slow, used = both(lambda: engine.fetch_frame(DATABRICKS, scopes, session=s))
    assert used == 1 and len(fast) == 400
    same(fast, slow)
    assert str(fast["run_duration"].dtype) == "timedelta64[ms]"
    assert fast["run_duration"].isna().any()  # runs still going have none


@pytest.mark.parametrize("where", ["", "WHERE taskSlug = 'rotate_keys'", "WHERE taskSlug = 'backfill_orders'",
                                   "WHERE taskSlug = 'nightly_report'"])
def test_airplane_param_defaults_of_every_mix(small_pages: Sandbox, where: str) -> None:
    with rp.Session(sandbox=small_pages, settings=rp.Settings(progress=False)) as s:
        fast, slow, used = both(lambda: rp.query(f"SELECT * FROM airplane.runs.runs {where}", session=s))
    assert len(fast) > 10
    same(fast, slow)
    if not where:
        assert used == 1
        defaults = {type(p["default"]) for ps in fast["params"] for p in ps}
        assert defaults == {str, type(None)}  # bools, numbers and text: all as text
        assert {p["default"] for ps in fast["params"] for p in ps} >= {"true", "false", "staging", "24", "0.95"}


def mixed_pages(*values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ACR pages whose runs carry the given extra fields, one page per list."""
    pages_ = []
    for number, extras in enumerate(values):
        page: dict[str, Any] = {"value": [run(f"r{number}-{i}", **extra) for i, extra in enumerate(extras)]}
        if number + 1 < len(values):
            page["nextLink"] = f"https://mgmt.test/p{number + 1}"
        pages_.append(page)
    return pages_


CASES = {
    # numbers on the first page (read before the name is known), then text: all text
    "numbers then text": ([{"d": 1}, {"d": 2}], [{"d": "x"}, {"d": 3}], [{"d": True}, {"d": None}]),
    # mixed in one list, one kind in another list of the same name: text there, integers here
    "two paths": ([{"p": [{"default": "x"}, {"default": 1}], "q": [{"default": 5}]}],
                  [{"p": [], "q": [{"default": 6}, {"default": None}]}]),
    # booleans with numbers: text (pyarrow takes neither for the other)
    "booleans and numbers": ([{"d": True}, {"d": 0}], [{"d": -12}]),
    # numbers with fractions written as json.dumps writes them, integers at 64 bits' ends
    "fractions": ([{"d": "x"}, {"d": 0.5}, {"d": -0.0}], [{"d": 2**63 - 1}, {"d": 10.25}, {"d": -(2**63)}]),
    # integers and fractions only, in a field that mixes elsewhere: doubles there
    "numbers of a mixed name": ([{"p": [{"v": "x"}, {"v": 1}], "q": [{"v": 1}, {"v": 2.5}]}],),
    # nulls, empty lists, a field absent from some rows
    "nulls and empty lists": ([{"d": None, "l": []}, {"l": []}], [{"d": "y", "l": [1]}, {"d": 7, "l": []}]),
    # text that looks like a mark but is not this process's
    "text like a mark": ([{"d": "\u0001abc"}, {"d": 1}],),
}


@pytest.mark.parametrize("name", list(CASES))
def test_mixed_kinds_read_columnar(name: str) -> None:
    fast, slow, used = both(lambda: rp.query(ONE, session=pages_session(mixed_pages(*CASES[name]))))
    assert used == 1
    same(fast, slow)


REFUSED = {
    # text json.dumps writes otherwise (1.50, 1e+20): the dict path reads them
    "trailing zero": ([{"d": "x"}], [{"d": 1.50}]),
    "exponent": ([{"d": "x"}, {"d": 1e20}],),
    # beyond 64 bits: the parser makes a double of it
    "integer beyond 64 bits": ([{"d": "x"}, {"d": 2**70}],),
    # an object among text: no one type
    "object among text": ([{"d": "x"}, {"d": {"a": 1}}],),
    # a list whose items mix
    "mixed list items": ([{"l": [1, "a"]}],),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_no_schema_reads_takes_the_dict_path(name: str) -> None:
    def session() -> rp.Session:
        import json

        body = [json.dumps(p).replace("1.5}", "1.50}") for p in mixed_pages(*REFUSED[name])]

        def handler(request: httpx.Request) -> httpx.Response:
            path = request.url.path
            return httpx.Response(200, content=body[int(path[2:]) if path.startswith("/p") else 0].encode())

        return rp.Session(client=httpx.Client(transport=httpx.MockTransport(handler)), secrets={"azure": "AZ-SECRET"},
                          endpoints={"azure": "https://mgmt.test"}, settings=rp.Settings(progress=False))

    fast, slow, used = both(lambda: rp.query(ONE, session=session()))
    assert used == 0
    same(fast, slow)


def test_marked_pages_that_turn_to_dicts_give_the_values_as_sent() -> None:
    pages_ = mixed_pages([{"d": "x"}, {"d": False}, {"d": 4}], [{"d": [1, "a"]}])
    fast, slow, used = both(lambda: rp.query(ONE, session=pages_session(pages_)))
    assert used == 0
    same(fast, slow)
    assert list(fast["d"]) == ["x", "false", "4", '[1, "a"]']


def test_read_pages_learns_the_mixed_field_and_says_so_in_the_schema() -> None:
    body = b'{"runs":[{"n":1,"d":"x"},{"n":2,"d":3}]}\n{"runs":[{"n":3,"d":true}]}'
    table = pages.read_pages(body, pages.page_schema([], "runs", None, None), "runs")
    assert table.num_rows == 2
    assert mixed.names(table.schema) == ["d"]
    rows = pages.rows_struct([table.column("runs")[i].values for i in range(2)], table.schema, "runs", None)
    assert rows is not None
    assert rows.to_pylist() == [{"n": 1, "d": "x"}, {"n": 2, "d": "3"}, {"n": 3, "d": "true"}]


def test_a_series_that_never_mixed_joins_one_that_did(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registry one's pages mix text and numbers (its reads learn the name); registry two's
    hold numbers only, read as integers: joined, the field is text for both, as parsed."""
    import json

    from tests.test_columnar import mock

    bodies = {"regone": {"value": [run("a", d="x"), run("b", d=1)]}, "regtwo": {"value": [run("c", d=2), run("d", d=3)]}}

    def handler(request: httpx.Request) -> httpx.Response:
        registry = request.url.path.split("/registries/")[1].split("/")[0]
        return httpx.Response(200, content=json.dumps(bodies[registry]).encode())

    converted = []
    as_marked = mixed._as_marked

    def spy(leaf: Any) -> Any:
        converted.append(str(leaf.type))
        return as_marked(leaf)

    monkeypatch.setattr(mixed, "_as_marked", spy)
    sql = ("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = 'sub' AND "
           "resourceGroupName = 'rg' AND registryName IN ('regone', 'regtwo') ORDER BY runId")
    fast, slow, used = both(lambda: rp.query(sql, session=mock(handler)))
    assert used == 1 and "int64" in converted  # the integers were turned to marked text
    same(fast, slow)
    assert list(fast["d"]) == ["x", "1", "2", "3"]
