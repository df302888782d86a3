"""SHOW and DESCRIBE: what can be queried, answered from the catalog alone (no request).

    SHOW PROVIDERS [LIKE 'a%']
    SHOW SERVICES IN azure
    SHOW RESOURCES IN azure.container_registry
    SHOW METHODS IN azure.container_registry.runs
    SHOW CONNECTIONS [IN provider]     (the credentials configured: scope and source, no secret)
    DESCRIBE azure.container_registry.runs [LIKE 'platform.%']
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

import pandas as pd
import sqlglot
from sqlglot import TokenType

from runs_pandas.catalog import Field, FieldType, Method, catalog
from runs_pandas.errors import AuthError, QueryError, UnknownResourceError

if TYPE_CHECKING:
    from runs_pandas.session import Session

CONNECTION_COLUMNS = ["provider", "scope_kind", "scope", "serves", "source", "method"]


def connections(session: Session, provider: str | None = None) -> pd.DataFrame:
    """Each configured credential: its provider, the scope it serves and where it came from.

    Nothing is sent and no secret is shown; a provider with none says where it looked.
    """
    from runs_pandas.http.sources import describe as looked

    names = [provider] if provider else sorted(catalog().providers)
    rows: list[dict[str, str]] = []
    for name in names:
        if name not in catalog().providers:
            raise QueryError(f"SHOW CONNECTIONS IN {name}: no such provider; the providers are "
                             f"{', '.join(sorted(catalog().providers))}")
        spec = catalog().providers[name]
        kind = spec.auth.scope.name if spec.auth.scope else "provider"
        try:
            found = session.credentials.connections(spec)
        except AuthError as exc:
            rows.append({"provider": name, "scope_kind": kind, "scope": "", "serves": "",
                         "source": session.credentials.scrub(str(exc)), "method": "error"})
            continue
        rows += [c.row(kind) for c in found]
        if not found:
            rows.append({"provider": name, "scope_kind": kind, "scope": "", "serves": "",
                         "source": f"none; looked for {looked(spec)}", "method": ""})
    return pd.DataFrame(rows, columns=CONNECTION_COLUMNS)

_USAGE = (
    "write SHOW PROVIDERS, SHOW SERVICES IN provider, SHOW RESOURCES IN provider.service, "
    "SHOW METHODS IN provider.service.resource, SHOW CONNECTIONS [IN provider] or "
    "DESCRIBE provider.service.resource, "
    "each with an optional LIKE 'pattern'"
)


def discover(text: str, session: Session | None = None) -> pd.DataFrame:
    """The answer to a SHOW or DESCRIBE statement, as a DataFrame (`session` for SHOW CONNECTIONS)."""
    words, pattern = _words(text)
    head = words[0].upper() if words else ""
    if head in ("DESCRIBE", "DESC") and len(words) == 2:
        return _like(describe(words[1]), "field", pattern)
    if head != "SHOW" or len(words) < 2:
        raise QueryError(f"cannot read {text!r}: {_USAGE}")
    what = words[1].upper()
    target = words[3] if len(words) == 4 and words[2].upper() in ("IN", "FROM") else None
    if what == "PROVIDERS" and len(words) == 2:
        return _like(providers(), "provider", pattern)
    if what == "SERVICES" and target:
        return _like(services(target), "service", pattern)
    if what == "RESOURCES" and target:
        return _like(resources(target), "resource", pattern)
    if what == "METHODS" and target:
        return _like(methods(target), "method", pattern)
    if what == "CONNECTIONS" and (len(words) == 2 or target):
        from runs_pandas.session import default_session

        return _like(connections(session or default_session(), target), "provider", pattern)
    raise QueryError(f"cannot read {text!r}: {_USAGE}")


def _words(text: str) -> tuple[list[str], str | None]:
    """Keywords and dotted names of the statement, and its LIKE pattern."""
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
    except sqlglot.errors.TokenError as exc:
        raise QueryError(f"cannot read {text!r}: {exc}") from None
    words: list[str] = []
    pattern = None
    joined = False
    for index, token in enumerate(tokens):
        if token.token_type is TokenType.LIKE or token.token_type is TokenType.ILIKE:
            rest = tokens[index + 1 :]
            if len(rest) != 1 or rest[0].token_type is not TokenType.STRING:
                raise QueryError(f"LIKE takes one quoted pattern, e.g. LIKE 'run%': {_USAGE}")
            pattern = rest[0].text
            break
        if token.token_type is TokenType.DOT:
            joined = True
            words[-1] += "."
            continue
        if joined:
            words[-1] += token.text
            joined = False
        else:
            words.append(token.text)
    return words, pattern


def _like(frame: pd.DataFrame, column: str, pattern: str | None) -> pd.DataFrame:
    if pattern is None:
        return frame
    regex = "^" + "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern
    ) + "$"
    keep = frame[column].astype(str).str.match(regex, case=False)
    return frame[keep].reset_index(drop=True)


def providers() -> pd.DataFrame:
    rows = [
        {
            "provider": p.name,
            "title": p.title,
            "description": p.description,
            "base_url": p.base_url,
            "endpoint_env": p.endpoint_env,
            "services": len({r.service for r in p.resources}),
        }
        for p in catalog().providers.values()
    ]
    return pd.DataFrame(rows)


def services(provider: str) -> pd.DataFrame:
    found = catalog().provider(provider)
    names = sorted({r.service for r in found.resources})
    return pd.DataFrame(
        [
            {
                "provider": found.name,
                "service": name,
                "resources": sum(1 for r in found.resources if r.service == name),
            }
            for name in names
        ]
    )


def resources(service: str) -> pd.DataFrame:
    provider, _, name = service.lower().partition(".")
    found = catalog().provider(provider)
    rows = [
        {
            "resource": r.id,
            "name": r.name,
            "description": r.description,
            "fields": len(r.fields),
            "methods": ", ".join(m.name for m in r.methods),
        }
        for r in found.resources
        if r.service == name
    ]
    if not rows:
        known = sorted({f"{found.name}.{r.service}" for r in found.resources})
        close = difflib.get_close_matches(service.lower(), known, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownResourceError(f"unknown service {service!r}{hint}; services are: {', '.join(known)}")
    return pd.DataFrame(rows)


def methods(resource_id: str) -> pd.DataFrame:
    resource = catalog().resource(resource_id)
    return pd.DataFrame([_method_row(m) for m in resource.methods])


def _method_row(method: Method) -> dict[str, object]:
    return {
        "method": method.name,
        "access": ", ".join(a.upper() for a in method.access),
        "http_method": method.http_method,
        "path": method.path,
        "required": ", ".join(p.name for p in method.required),
        "optional": ", ".join(p.name for p in method.optional),
        "description": method.description,
    }


def describe(resource_id: str) -> pd.DataFrame:
    """Fields of a resource; objects as dotted names, array elements as `name[].child`."""
    resource = catalog().resource(resource_id)
    rows: list[dict[str, object]] = []
    for field in resource.fields:
        _field_rows(field, "", rows)
    return pd.DataFrame(rows, columns=["field", "type", "description", "values"])


def _field_rows(field: Field, prefix: str, rows: list[dict[str, object]]) -> None:
    name = f"{prefix}{field.name}"
    if field.type is FieldType.OBJECT:
        for child in field.children:
            _field_rows(child, f"{name}.", rows)
        return
    kind = field.type.value
    if field.type is FieldType.ARRAY:
        kind = f"array<{'object' if field.children else (field.items or 'any')}>"
    rows.append(
        {"field": name, "type": kind, "description": field.description, "values": ", ".join(field.enum)}
    )
    for child in field.children if field.type is FieldType.ARRAY else ():
        _field_rows(child, f"{name}[].", rows)
