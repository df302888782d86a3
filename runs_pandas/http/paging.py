"""Paginators: given a page, the request for the next one, or None. One idea per type."""

from __future__ import annotations

from collections.abc import Mapping
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
    paginator: Paginator,
    request: Request,
    body: Any,
    rows: int,
    page_index: int,
    headers: Mapping[str, str] | None = None,
) -> Request | None:
    """The request for the page after `request`, whose body held `rows` rows and whose
    response had `headers`."""
    kind = paginator.type
    if kind == "none":
        return None
    if kind == "link_header":
        link = link_target((headers or {}).get("Link", ""), paginator.rel)
        if not link:
            return None
        from httpx import URL

        return request.with_url(str(URL(request.url).join(link)))
    if kind == "next_link":
        link = body.get(paginator.next_field) if isinstance(body, dict) else None
        if not link:
            return None
        return request.with_url(joined(request.url, str(link)))
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


def joined(base: str, link: str) -> str:
    """`httpx.URL(base).join(link)` with one parse where the link is absolute (most are):
    `base` is already a URL's text, and an absolute link joins to itself."""
    from urllib.parse import urljoin

    from httpx import URL

    target = str(URL(link))  # raises for a link that is not a URL
    whole = urljoin(base, target)
    return target if whole == target else str(URL(whole))


def link_target(header: str, rel: str) -> str | None:
    """The target of the link with relation `rel` in an RFC 8288 `Link` header, or None.

    `<https://h/x?page=2>; rel="next", <https://h/x?page=9>; rel="last"` -> the first URL.
    """
    for part in _split_links(header):
        target, _, params = part.partition(">")
        target = target.strip().lstrip("<").strip()
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "rel" and rel.lower() in value.strip().strip('"').lower().split():
                return target or None
    return None


def _split_links(header: str) -> list[str]:
    """The link-values of a Link header: commas inside <...> or quotes do not split."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in header:
        if ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "<" and not quoted:
            depth += 1
        elif ch == ">" and not quoted:
            depth = max(0, depth - 1)
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]
