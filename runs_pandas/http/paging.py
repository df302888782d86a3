"""Paginators: given a page, the request for the next one, or None. One idea per type."""

from __future__ import annotations

from typing import Any

from runs_pandas.catalog import Paginator
from runs_pandas.http.request import Request


def rows_of(body: Any, path: str) -> list[dict[str, Any]]:
    """The rows at `path` ("$", "$.value", "$.runs") of a response body."""
    node = body
    for part in path.split(".")[1:]:
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return []
    if isinstance(node, list):
        return node
    return [node]


def next_request(
    paginator: Paginator, request: Request, body: Any, rows: int, page_index: int
) -> Request | None:
    """The request for the page after `request`, whose body held `rows` rows."""
    kind = paginator.type
    if kind == "none":
        return None
    if kind == "next_link":
        link = body.get(paginator.next_field) if isinstance(body, dict) else None
        if not link:
            return None
        from httpx import URL

        return request.with_url(str(URL(request.url).join(str(link))))
    if kind == "token":
        token = body.get(paginator.next_field) if isinstance(body, dict) else None
        if not token:
            return None
        return request.with_query(**{paginator.token_param or "": token})
    # page_number: pages are asked for until one comes back short
    size = request.args.get(paginator.size_param or "")
    size = int(size) if size is not None else paginator.default_size
    if not size or rows < size:
        return None
    first = int(request.args.get(paginator.page_param or "", paginator.first_page))
    return request.with_query(**{paginator.page_param or "": first + page_index + 1})
