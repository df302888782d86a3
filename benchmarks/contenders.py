"""The contenders: the fastest reasonable hand-written fetches, the official SDKs, and ours.

Each provider is described once (`Provider`: where a scope's first page is, which key holds
the rows, how the next page is found), and every hand-written contender walks it:

- `bare`: one `httpx.Client`, `orjson.loads` each body, the rows collected in a list, the
  cyclic garbage collector disabled for the whole fetch (what a performance-minded user
  writes; the GC otherwise rescans the growing list of dicts again and again);
- `arrow`: the page bytes only (the next link found in the bytes), then one
  `pyarrow.json.read_json` of all pages, the rows flattened out and `to_pandas()`;
- `normalize`: `bare`, then `pandas.json_normalize(rows)` and `to_datetime` on the catalog's
  date-time fields: what a pandas user writes.

Scopes are fetched one thread per scope (up to `threads`), the concurrency ours uses.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pandas as pd

ACR = "azure.container_registry.runs"
DATABRICKS = "databricks_workspace.cleanrooms.task_runs"
AIRPLANE = "airplane.runs.runs"


@dataclass(frozen=True)
class Provider:
    """How to page one provider's run listing by hand."""

    resource: str
    endpoint_key: str  # the catalog provider name in the server's endpoints / tokens
    rows: str  # the body key holding the rows
    first: Callable[[str, dict[str, str]], str]  # endpoint, scope -> first page URL
    header: Callable[[str], dict[str, str]]  # token -> auth header
    following: Callable[[str, dict[str, Any] | None, bytes, int], str | None]  # first url, parsed body or None, body, page number

    def pages(self, client: httpx.Client, url: str, headers: dict[str, str], parse: bool) -> Iterator[tuple[bytes, Any]]:
        """Every page of one scope: (body, parsed body or None)."""
        first, number = url, 0
        next_url: str | None = url
        while next_url:
            body = client.get(next_url, headers=headers).content
            parsed = orjson.loads(body) if parse else None
            yield body, parsed
            number += 1
            next_url = self.following(first, parsed, body, number)


def _acr_first(endpoint: str, scope: dict[str, str]) -> str:
    url = (
        f"{endpoint}/subscriptions/{scope['subscriptionId']}/resourceGroups/{scope['resourceGroupName']}"
        f"/providers/Microsoft.ContainerRegistry/registries/{scope['registryName']}/runs?api-version=2019-06-01-preview"
    )
    if scope.get("$filter"):
        url += f"&%24filter={quote(scope['$filter'], safe='')}"
    return url


def _link_in(body: bytes, key: bytes) -> str | None:
    """The string value of `key`, found in the bytes without parsing the page."""
    at = body.rfind(b'"' + key + b'":')
    if at < 0:
        return None
    value: str = orjson.loads(body[at + len(key) + 3 : body.rindex(b'"') + 1])
    return value


def _acr_next(first: str, parsed: dict[str, Any] | None, body: bytes, number: int) -> str | None:
    return parsed.get("nextLink") if parsed is not None else _link_in(body, b"nextLink")


def _databricks_next(first: str, parsed: dict[str, Any] | None, body: bytes, number: int) -> str | None:
    token = parsed.get("next_page_token") if parsed is not None else _link_in(body, b"next_page_token")
    return f"{first.partition('?')[0]}?page_token={token}" if token else None


def _airplane_next(first: str, parsed: dict[str, Any] | None, body: bytes, number: int) -> str | None:
    # page-number paging: a page shorter than the limit (50) is the last
    full = len(parsed["runs"]) >= 50 if parsed is not None else body != b'{"runs":[]}'
    return f"{first.partition('?')[0]}?page={number}" if full else None


PROVIDERS = {
    "acr": Provider(ACR, "azure", "value", _acr_first, lambda t: {"Authorization": f"Bearer {t}"}, _acr_next),
    "databricks": Provider(
        DATABRICKS, "databricks_workspace", "runs",
        lambda e, s: f"{e}/api/2.0/clean-rooms/{s['clean_room_name']}/runs",
        lambda t: {"Authorization": f"Bearer {t}"}, _databricks_next,
    ),
    "airplane": Provider(
        AIRPLANE, "airplane", "runs", lambda e, s: f"{e}/runs/list",
        lambda t: {"X-Airplane-API-Key": t}, _airplane_next,
    ),
}


class Hand:
    """The hand-written contenders of one provider against one server."""

    def __init__(self, provider: Provider, info: dict[str, Any], scopes: list[dict[str, str]], threads: int = 32) -> None:
        self.provider = provider
        endpoint = info["endpoints"][provider.endpoint_key]
        self.urls = [provider.first(endpoint, scope) for scope in scopes]
        self.headers = provider.header(info["tokens"][provider.endpoint_key])
        self.threads = max(1, min(threads, len(self.urls)))
        limits = httpx.Limits(max_connections=self.threads, max_keepalive_connections=self.threads)
        self.client = httpx.Client(trust_env=False, timeout=120, limits=limits)

    def _each(self, work: Callable[[str], list[Any]]) -> list[Any]:
        if self.threads == 1:
            parts = [work(url) for url in self.urls]
        else:
            with ThreadPoolExecutor(self.threads) as pool:
                parts = list(pool.map(work, self.urls))
        return [item for part in parts for item in part]

    def bare(self) -> list[dict[str, Any]]:
        """httpx + orjson, GC off: the rows as dicts."""
        key = self.provider.rows

        def walk(url: str) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            for _, page in self.provider.pages(self.client, url, self.headers, parse=True):
                rows.extend(page.get(key, ()))
            return rows

        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._each(walk)
        finally:
            if enabled:
                gc.enable()

    def bodies(self) -> list[bytes]:
        return self._each(lambda url: [body for body, _ in self.provider.pages(self.client, url, self.headers, parse=False)])

    def arrow(self) -> pd.DataFrame:
        """httpx bytes + one pyarrow.json read of every page, rows flattened, to pandas."""
        import pyarrow as pa
        import pyarrow.json as paj

        bodies = [b for b in self.bodies() if b.startswith(b'{"' + self.provider.rows.encode())]
        table = paj.read_json(io.BytesIO(b"\n".join(bodies)), read_options=paj.ReadOptions(block_size=1 << 26))
        rows = pa.concat_arrays([chunk.flatten() for chunk in table.column(self.provider.rows).chunks])
        return pa.Table.from_struct_array(rows).to_pandas()

    def normalize(self, dates: set[str]) -> pd.DataFrame:
        """bare + json_normalize + to_datetime on the date-time fields."""
        frame = pd.json_normalize(self.bare())
        for column in frame.columns:
            if column.rsplit(".", 1)[-1] in dates:
                frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        return frame

    def close(self) -> None:
        self.client.close()


def datetime_fields(resource: str) -> set[str]:
    """The leaf names of the resource's date-time fields, from the catalog."""
    from runs_pandas.catalog import FieldType, catalog

    names: set[str] = set()

    def walk(fields: Any) -> None:
        for f in fields:
            if f.type is FieldType.DATETIME:
                names.add(f.name)
            elif f.type is FieldType.OBJECT:
                walk(f.children)

    walk(catalog().resource(resource).fields)
    return names


def databricks_sdk(info: dict[str, Any], scopes: list[dict[str, str]]) -> Callable[[], pd.DataFrame] | None:
    """The official databricks-sdk: `clean_room_task_runs.list` per room, `as_dict`, json_normalize."""
    try:
        from databricks.sdk import WorkspaceClient
    except ImportError:
        return None
    client = WorkspaceClient(
        host=info["endpoints"]["databricks_workspace"], token=info["tokens"]["databricks_workspace"],
        auth_type="pat",
    )

    def fetch() -> pd.DataFrame:
        rows = []
        for scope in scopes:
            for run in client.clean_room_task_runs.list(scope["clean_room_name"]):
                rows.append(run.as_dict())
        return pd.json_normalize(rows)

    return fetch
