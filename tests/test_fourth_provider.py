"""A fourth provider as data only: one catalog file (tests/data/forge.json) and a fake server.

The fake is GitHub-Actions-like: rows at `$.workflow_runs`, paging by the RFC 8288 `Link`
header, a required `Accept` header and a version header, a bearer token. Nothing under
runs_pandas/ names it; the catalog file is added through RUNS_PANDAS_CATALOG.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

import runs_pandas as rp
from runs_pandas.catalog import catalog

CATALOG_FILE = Path(__file__).parent / "data" / "forge.json"
TOKEN = "forge-test-token"
RESOURCE = "forge.actions.workflow_runs"
STATES = [("completed", "success"), ("completed", "failure"), ("in_progress", None), ("queued", None)]


def make_runs(repo: str, n: int) -> list[dict]:
    runs = []
    for i in range(n):
        status, conclusion = STATES[i % len(STATES)]
        runs.append({
            "id": (1000 if repo == "api" else 2000) + i, "name": "ci", "head_branch": "main",
            "event": "push", "status": status, "conclusion": conclusion, "run_number": i + 1,
            "created_at": f"2024-05-01T10:{i % 60:02d}:00Z", "run_started_at": f"2024-05-01T10:{i % 60:02d}:05Z",
            "updated_at": f"2024-05-01T11:{i % 60:02d}:00Z", "actor": {"login": "octo"},
        })
    return runs


class Forge:
    """The fake server's state: runs per repo, the requests it saw, cancelled runs."""

    def __init__(self) -> None:
        self.runs = {"api": make_runs("api", 23), "web": make_runs("web", 7)}
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.cancelled: list[int] = []


def handler(forge: Forge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: object | None, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _check(self) -> bool:
            forge.seen.append((self.command, self.path, dict(self.headers)))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, {"message": "Requires authentication"})
                return False
            if self.headers.get("Accept") != "application/vnd.forge+json":
                self._answer(415, {"message": "Unsupported Accept header"})
                return False
            if self.headers.get("X-Forge-Api-Version") != "2022-11-28":
                self._answer(400, {"message": "X-Forge-Api-Version is required"})
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802
            if not self._check():
                return
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            one = re.fullmatch(r"/repos/o/(\w+)/actions/runs/(\d+)", url.path)
            if one:
                run = next((r for r in forge.runs.get(one[1], []) if r["id"] == int(one[2])), None)
                return self._answer(200 if run else 404, run or {"message": "Not Found"})
            many = re.fullmatch(r"/repos/o/(\w+)/actions/runs", url.path)
            if not many or many[1] not in forge.runs:
                return self._answer(404, {"message": "Not Found"})
            rows = [r for r in forge.runs[many[1]] if "status" not in query or r["status"] == query["status"]]
            size, page = int(query.get("per_page", 10)), int(query.get("page", 1))
            chunk = rows[(page - 1) * size : page * size]
            headers = {}
            if page * size < len(rows):
                base = f"http://{self.headers['Host']}{url.path}"
                rest = "&".join(f"{k}={v}" for k, v in query.items() if k != "page")
                headers["Link"] = (
                    f'<{base}?{rest}&page={page + 1}>; rel="next", <{base}?{rest}&page=99>; rel="last"'
                )
            self._answer(200, {"total_count": len(rows), "workflow_runs": chunk}, headers)

        def do_POST(self) -> None:  # noqa: N802
            if not self._check():
                return
            found = re.fullmatch(r"/repos/o/(\w+)/actions/runs/(\d+)/cancel", urlparse(self.path).path)
            if not found:
                return self._answer(404, {"message": "Not Found"})
            forge.cancelled.append(int(found[2]))
            self._answer(202, {})

    return Handler


@pytest.fixture()
def forge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Forge]:
    state = Forge()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("RUNS_PANDAS_CATALOG", str(CATALOG_FILE))
    monkeypatch.setenv("RUNS_PANDAS_FORGE_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("FORGE_TOKEN", TOKEN)
    catalog.cache_clear()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        catalog.cache_clear()


def session() -> rp.Session:
    return rp.Session(sandbox=False, settings=rp.Settings(progress=False))


def test_sql_pages_by_link_header_with_the_catalog_headers(forge: Forge) -> None:
    df = rp.query(
        f"SELECT id, status, conclusion, created_at, actor.login AS login FROM {RESOURCE} "
        "WHERE owner = 'o' AND repo = 'api' AND per_page = 10 ORDER BY id",
        session=session(),
    )
    assert df["id"].tolist() == list(range(1000, 1023))  # three pages, no row twice
    assert str(df["created_at"].dtype).startswith("datetime64") and set(df["login"]) == {"octo"}
    pages = [path for verb, path, _ in forge.seen if verb == "GET"]
    assert len(pages) == 3 and "page=2" in pages[1] and "page=3" in pages[2]
    assert all(h["Accept"] == "application/vnd.forge+json" for _, _, h in forge.seen)
    assert all(h["X-Forge-Api-Version"] == "2022-11-28" for _, _, h in forge.seen)


def test_sql_group_by_and_a_pushed_down_filter(forge: Forge) -> None:
    df = rp.query(
        f"SELECT conclusion, count(*) AS n FROM {RESOURCE} WHERE owner = 'o' AND repo = 'api' "
        "AND status = 'completed' GROUP BY conclusion ORDER BY conclusion", session=session()
    )
    assert dict(zip(df["conclusion"], df["n"])) == {"failure": 6, "success": 6}
    assert all("status=completed" in path for _, path, _ in forge.seen)


def test_get_one_run_is_chosen_when_the_id_is_pinned(forge: Forge) -> None:
    df = rp.query(f"SELECT id, run_number FROM {RESOURCE} WHERE owner = 'o' AND repo = 'web' AND run_id = 2003",
                  session=session())
    assert df.to_dict("records") == [{"id": 2003, "run_number": 4}]
    assert forge.seen[-1][1] == "/repos/o/web/actions/runs/2003"


def test_accessor_fetches_scopes_normalizes_and_cancels(forge: Forge) -> None:
    scopes = pd.DataFrame({"owner": ["o", "o"], "repo": ["api", "web"]})
    runs = scopes.runs.fetch(RESOURCE, session=session())
    assert len(runs) == 30 and runs.groupby("repo").size().to_dict() == {"api": 23, "web": 7}
    normal = runs.runs.normalize()
    assert set(normal["status"]) == {"succeeded", "failed", "running", "queued"}
    live = runs[runs["status"] == "in_progress"].head(2)
    outcome = live.runs.exec("cancelWorkflowRun", session=session())
    assert outcome["outcome"].tolist() == ["ok", "ok"] and outcome["http_status"].tolist() == [202, 202]
    assert sorted(forge.cancelled) == sorted(live["id"].tolist())  # run_id came from the id column (catalog id_params)


def test_the_token_stays_home_and_errors_read_the_catalog_error_shape(
    forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORGE_TOKEN", "wrong-token")
    with pytest.raises(rp.RunsError) as info:  # AuthError, or partial data holding one
        rp.query(f"SELECT * FROM {RESOURCE} WHERE owner = 'o' AND repo = 'api'", session=session())
    failures = getattr(info.value, "failures", [info.value])
    assert isinstance(failures[0], rp.AuthError) and failures[0].status == 401
    assert "Requires authentication" in str(info.value) and "wrong-token" not in str(info.value)


def test_an_endpoint_over_plain_http_to_another_host_is_refused(
    forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNS_PANDAS_FORGE_ENDPOINT", "http://forge.example.net")
    with pytest.raises(rp.ParamError, match="https"):
        rp.query(f"SELECT * FROM {RESOURCE} WHERE owner = 'o' AND repo = 'api'", session=session())
    assert forge.seen == []


def test_nothing_under_runs_pandas_names_the_provider() -> None:
    package = Path(rp.__file__).parent
    hits = [
        str(path) for path in package.rglob("*")
        if path.is_file() and path.suffix in (".py", ".json")
        and re.search(r"\bforge\b|workflow_runs", path.read_text(encoding="utf-8"), re.IGNORECASE)
    ]
    assert hits == []


def test_a_bad_extra_catalog_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(CATALOG_FILE.read_text()), "base_url": "https://{host}"}))
    monkeypatch.setenv("RUNS_PANDAS_CATALOG", str(tmp_path))
    catalog.cache_clear()
    try:
        with pytest.raises(rp.QueryError, match=r"(?s)bad.json is not valid.*host param"):
            catalog()
    finally:
        monkeypatch.delenv("RUNS_PANDAS_CATALOG")
        catalog.cache_clear()
