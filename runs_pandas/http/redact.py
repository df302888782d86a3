"""URLs as they may be shown: secret-looking query values hidden."""

from __future__ import annotations

import httpx

_SECRET_QUERY = ("token", "key", "secret", "code", "password", "signature")  # plus the catalog's


def redact(url: str, secret_names: tuple[str, ...] = ()) -> str:
    """The URL with secret-looking query values hidden: tokens, keys, and the query params
    a provider's catalog entry names as secrets (`secret_query`, e.g. signatures)."""
    parsed = httpx.URL(url)
    if not parsed.query:
        return url
    names = (*_SECRET_QUERY, *(n.lower() for n in secret_names))
    params = [
        (k, "REDACTED" if any(s in k.lower() for s in names) else v)
        for k, v in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=params))


def redact_safely(url: str, secret_names: tuple[str, ...] = ()) -> str:
    """`redact`, or the text cut short when it is not a URL at all."""
    try:
        return redact(url, secret_names)
    except (httpx.InvalidURL, ValueError, TypeError):
        return url[:200] + ("..." if len(url) > 200 else "")
