"""Pages read in batches (their next links found in their bytes) give the page-at-a-time
frames, follow only the top-level next link, and keep the rows before a failure."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas import engine
from runs_pandas.errors import PageError
from runs_pandas.http import batches, client
from runs_pandas.http.scan import top_level

ONE = ("SELECT * FROM azure.container_registry.runs WHERE subscriptionId = 'sub' AND "
       "resourceGroupName = 'rg' AND registryName = 'alpha1'")
HOST = "https://mgmt.test"


def run(run_id: str, **extra: object) -> dict:
    return {"id": f"/x/{run_id}", "name": run_id, "type": "runs",
            "properties": {"runId": run_id, "createTime": "2024-05-01T09:00:00Z", **extra}}


def session(bodies: Callable[[int], bytes], seen: list[str]) -> rp.Session:
    """A session whose pages are `bodies(n)` for /p{n} (page 0 for the first request)."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        path = request.url.path
        number = int(path[2:]) if path.startswith("/p") and path[2:].isdigit() else 0
        return httpx.Response(200, content=bodies(number))

    return rp.Session(
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        secrets={"azure": "AZ-SECRET"}, endpoints={"azure": HOST}, settings=rp.Settings(progress=False),
    )


def paged(count: int, rows: int = 3) -> Callable[[int], bytes]:
    """`count` pages of `rows` runs each, each linking to the next; the fields vary by page."""

    def body(n: int) -> bytes:
        page: dict = {"value": [run(f"r{n}-{i}", n=n, **({"odd": "x"} if n % 3 == 1 else {}))
                                for i in range(rows)]}
        if n + 1 < count:
            page["nextLink"] = f"{HOST}/p{n + 1}"
        return json.dumps(page).encode()

    return body


def both(bodies: Callable[[int], bytes]) -> tuple[pd.DataFrame, pd.DataFrame, list[str], list[str]]:
    """The frame in batches and page at a time (the dict path), and the URLs each asked for."""
    frames, asked = [], []
    for columnar in (True, False):
        seen: list[str] = []
        client.COLUMNAR = columnar
        try:
            frames.append(rp.query(ONE, session=session(bodies, seen)))
        finally:
            client.COLUMNAR = True
        asked.append(seen)
    return frames[0], frames[1], asked[0], asked[1]


@pytest.mark.parametrize("batch", [1, 2, 7, 50])
def test_batches_of_any_size_give_the_page_at_a_time_frame(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "MAX_PAGES", batch)
    before = engine.columnar_tables
    fast, slow, asked, _ = both(paged(23))
    assert engine.columnar_tables == before + 1  # the batches were read columnar
    pd.testing.assert_frame_equal(fast, slow)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert len(fast) == 69 and len(asked) == 23


def test_a_batch_bounded_by_bytes_gives_the_same_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "MAX_BYTES", 3000)
    fast, slow, asked, _ = both(paged(12, rows=5))
    pd.testing.assert_frame_equal(fast, slow)
    assert len(asked) == 12


def test_progress_counts_every_page_and_row(monkeypatch: pytest.MonkeyPatch) -> None:
    from runs_pandas import progress

    monkeypatch.setattr(batches, "MAX_PAGES", 4)
    counted: list[int] = []
    monkeypatch.setattr(progress.Progress, "__call__", lambda self, request, rows: counted.append(rows))
    df = rp.query(ONE, session=session(paged(10), []))
    assert counted == [3] * 10 and len(df) == 30


def test_a_nested_key_named_like_the_next_link_is_not_followed() -> None:
    """Rows hold an object with a `nextLink` of its own, last in the page's bytes; the
    page's own next link comes first. Only that one is followed, and no other host is asked."""

    def body(n: int) -> bytes:
        rows = [run(f"r{n}", link={"nextLink": "https://evil.test/steal"})]
        page = {"nextLink": f"{HOST}/p{n + 1}" if n < 2 else None, "value": rows}
        return json.dumps(page).encode()

    fast, slow, asked, _ = both(body)
    pd.testing.assert_frame_equal(fast, slow)
    assert list(fast["runId"]) == ["r0", "r1", "r2"]
    assert [u.split("?")[0] for u in asked][1:] == [f"{HOST}/p1", f"{HOST}/p2"]
    assert not any("evil" in u for u in asked)


def test_a_hostile_link_in_the_bytes_but_not_in_the_parse_is_not_followed() -> None:
    """A link that byte search could take (the last `"nextLink":` of the page, nested) and
    a top-level one given twice: what the whole page says is followed, nothing else."""
    pages = [
        b'{"nextLink": "' + HOST.encode() + b'/p1", "value": [{"id": "/x/a", "name": "a", '
        b'"properties": {"runId": "a", "x": {"nextLink": "https://evil.test/one"}}}]}',
        b'{"nextLink": "https://evil.test/two", "value": [{"id": "/x/b", "name": "b", '
        b'"properties": {"runId": "b"}}], "nextLink": null}',
    ]
    seen: list[str] = []
    df = rp.query(ONE, session=session(lambda n: pages[n], seen))
    assert list(df["runId"]) == ["a", "b"]
    assert not any("evil" in u for u in seen) and len(seen) == 2


def test_a_bad_page_mid_batch_keeps_the_rows_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "MAX_PAGES", 10)
    good = paged(30)

    def body(n: int) -> bytes:
        return b'{"value": [1, 2], "nextLink": "' + HOST.encode() + b'/p14"}' if n == 13 else good(n)

    seen: list[str] = []
    with pytest.raises(rp.ApiError) as info:
        rp.query(ONE, session=session(body, seen))
    failure = info.value.failures[0]
    assert isinstance(failure, PageError) and "/p13" in str(failure) and "expected" in str(failure)
    frame = info.value.frame
    assert frame is not None and len(frame) == 13 * 3  # pages 0-12, none after the bad one
    assert set(frame["runId"]) == {f"r{n}-{i}" for n in range(13) for i in range(3)}


def test_an_error_while_pages_are_held_keeps_their_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "MAX_PAGES", 50)
    good = paged(30)

    def handler_body(n: int) -> bytes:
        if n == 9:
            raise httpx.ConnectError("gone")
        return good(n)

    seen: list[str] = []
    with pytest.raises(rp.ApiError) as info:
        rp.query(ONE, session=session(handler_body, seen))
    frame = info.value.frame
    assert frame is not None and len(frame) == 9 * 3


def test_a_cut_off_page_fetched_again_with_another_link_is_a_page_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Page 1 first comes cut off just where a nested `nextLink` ends (its bytes look like a
    page's own link), then whole without a link: the series stops there, rows before kept."""
    monkeypatch.setattr(batches, "MAX_PAGES", 10)
    whole = json.dumps({"value": [run("b", x={"nextLink": f"{HOST}/p2"}), run("c")]}).encode()
    cut = whole[: whole.index(b"/p2") + 5]  # ... "nextLink": "https://mgmt.test/p2"}
    assert top_level(cut, "nextLink") == (True, f"{HOST}/p2")
    calls = {"p1": 0}

    def body(n: int) -> bytes:
        if n == 1:
            calls["p1"] += 1
            return cut if calls["p1"] == 1 else whole
        if n == 0:
            return json.dumps({"value": [run("a")], "nextLink": f"{HOST}/p1"}).encode()
        return json.dumps({"value": [run(f"z{n}")]}).encode()

    seen: list[str] = []
    with pytest.raises(rp.ApiError) as info:
        rp.query(ONE, session=session(body, seen))
    failure = info.value.failures[0]
    assert isinstance(failure, PageError) and "next link" in str(failure) and "/p1" in str(failure)
    assert info.value.frame is not None and list(info.value.frame["runId"]) == ["a"]
    assert calls["p1"] == 2


@pytest.mark.parametrize(
    "content, found",
    [
        (b'{"value": [], "nextLink": "https://h/p?a=1\\u0026b=2"}', (True, "https://h/p?a=1&b=2")),
        (b'{"nextLink" : null , "value": []}', (True, None)),
        (b'{"value": [{"nextLink": "x"}]}', (False, None)),  # nested, last
        (b'{"nextLink": "a", "value": [{"nextLink": "x"}]}', (False, None)),  # twice: parse
        (b'{"value": []}', (False, None)),  # absent: perhaps cut off, so parsed
        (b'{"value": [], "nextLink": 5}', (False, None)),  # not text
        (b'{"value": [], "nextLink": "a\\"b"}', (True, 'a"b')),
    ],
)
def test_the_next_link_is_found_in_bytes_only_where_surely_top_level(content: bytes, found: tuple) -> None:
    assert top_level(content, "nextLink") == found


@pytest.mark.parametrize(
    "other, same",
    [("https://mgmt.test/p2", True), ("https://MGMT.test:443/p2", True), ("https://mgmt.test.evil/p", False),
     ("https://mgmt.test@evil.test/p", False), ("http://mgmt.test/p", False), ("https://mgmt.test:8443/p", False)],
)
def test_a_next_link_is_told_same_origin_only_when_it_is(other: str, same: bool) -> None:
    from runs_pandas.http.auth import same_origin

    assert same_origin(f"{HOST}/subscriptions/x/runs?api-version=1", other) is same


@pytest.mark.parametrize(
    "link",
    ["https://mgmt.test/p?$skiptoken=a%3D&x=1", "/p2?a=b c", "p3", "https://other.test/z/../w", "//c.test/q"],
)
def test_a_next_link_joins_as_httpx_joins_it(link: str) -> None:
    from runs_pandas.http.paging import joined

    base = f"{HOST}/subscriptions/x/runs?api-version=1"
    assert joined(base, link) == str(httpx.URL(base).join(link))


@pytest.mark.parametrize("batch", [1, 7])
def test_a_statement_naming_few_columns_reads_every_batch_for_them(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "MAX_PAGES", batch)
    sql = ONE.replace("SELECT *", "SELECT runId, count(*) AS n").replace("'alpha1'", "'alpha1' GROUP BY runId ORDER BY runId")
    frames, asked = [], []
    for columnar in (True, False):
        seen: list[str] = []
        client.COLUMNAR = columnar
        try:
            frames.append(rp.query(sql, session=session(paged(23), seen)))
        finally:
            client.COLUMNAR = True
        asked.append(len(seen))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert len(frames[0]) == 69 and asked == [23, 23]
