"""One HTTP request built from a catalog method and the user's params.

Every value is encoded as data: a path param is one percent-encoded segment, a host param is
what its catalog host rule accepts (a deployment name or a bare https host), so no value can
change a request's path or host. Values that cannot be valid are refused before anything is
sent, and a base URL that is not https (loopback endpoints set explicitly aside) too: the
credentials would travel in clear text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from runs_pandas import values
from runs_pandas.catalog import Method, Param, Provider
from runs_pandas.catalog.models import HostRule, template_holes
from runs_pandas.errors import ParamError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


@dataclass(frozen=True)
class Request:
    """A request ready to send. Holds no secret, so it can be shown (dry runs, errors)."""

    resource: str
    method: str
    verb: str
    url: str
    json: Any = None
    args: Mapping[str, Any] = field(default_factory=dict)  # the params that chose it
    headers: tuple[tuple[str, str], ...] = ()  # catalog headers and header params (no secret)
    # the row fields its pages are read for (dotted paths, `sql.needed`); None: every field
    fields: frozenset[str] | None = None

    def with_url(self, url: str) -> Request:
        return Request(self.resource, self.method, self.verb, url, self.json, self.args, self.headers, self.fields)

    def with_query(self, **values: Any) -> Request:
        """The same request with some query params set (paging)."""
        url = httpx.URL(self.url)
        return self.with_url(str(url.copy_merge_params({k: _text(v) for k, v in values.items()})))


def build_request(
    provider: Provider,
    resource: str,
    method: Method,
    args: Mapping[str, Any],
    endpoint: str | None = None,
    body: Any = None,
    scope_default: Callable[[], str | None] | None = None,
) -> Request:
    """The request for `method` with `args`; `endpoint` replaces the provider's base URL.

    `scope_default` gives the scope a request goes to when it does not pin the provider's
    scope param (the configured workspace host, the key's team).
    """
    unknown = [name for name in args if method.param(name) is None]
    if unknown:
        raise ParamError(
            f"{resource}: method {method.name} has no param {', '.join(map(repr, unknown))}; "
            f"its params are: {', '.join(p.name for p in method.params)}"
        )
    values: dict[str, Any] = {}
    for param in method.params:
        if param.name in args and args[param.name] is not None:
            values[param.name] = check_value(resource, method, param, args[param.name])
        elif param.default_env and os.environ.get(param.default_env):
            values[param.name] = check_value(resource, method, param, os.environ[param.default_env])
        elif param.default is not None:
            values[param.name] = param.default
    rule = provider.auth.scope
    scope_param = method.param(rule.param) if rule is not None and rule.by != "served" else None
    if scope_param is not None and scope_param.name not in values and scope_default is not None \
            and not (endpoint and scope_param.location == "host"):  # an endpoint replaces the host
        default = scope_default()
        if default is not None:
            values[scope_param.name] = check_value(resource, method, scope_param, default)
    if endpoint and any(name not in values for name in template_holes(provider.base_url)):
        base = provider.base_url  # replaced below: no host param is needed
    else:
        base = _base_url(provider, method, values, resource)  # checked even when replaced
    if endpoint:
        base = check_endpoint(endpoint, provider.name)
    path = _fill_path(method.path, values)
    query = {
        p.name: _text(values[p.name])
        for p in method.params
        if p.location == "query" and p.name in values
    }
    try:
        url = httpx.URL(base.rstrip("/") + path)
        if query:
            url = url.copy_merge_params(query)
    except httpx.InvalidURL as exc:
        raise ParamError(f"{resource}: {method.name}: the params make no valid URL ({exc})") from None
    json_body = body
    if method.body == "params":
        json_body = {
            p.name: values[p.name] for p in method.params if p.location == "body" and p.name in values
        }
    elif method.body == "json" and body is None:
        body_values = {
            p.name: values[p.name] for p in method.params if p.location == "body" and p.name in values
        }
        json_body = body_values or None
    headers = {**provider.headers, **method.headers}
    headers.update(
        (p.wire or p.name, _text(values[p.name])) for p in method.params if p.location == "header" and p.name in values
    )
    return Request(
        resource, method.name, method.http_method, str(url), json_body, dict(args), tuple(headers.items())
    )


def check_endpoint(endpoint: str, provider: str) -> str:
    """An endpoint override, if credentials may go there: https, or http to a loopback host."""
    try:
        url = httpx.URL(endpoint)
    except httpx.InvalidURL:
        url = None
    loopback = url is not None and url.scheme == "http" and url.host in LOOPBACK
    if url is None or not url.host or url.userinfo or not (url.scheme == "https" or loopback):
        raise ParamError(
            f"the endpoint for {provider} must be an https URL (or http://127.0.0.1:PORT for a "
            f"local test server), got {redacted_text(endpoint)!r}: credentials are never sent in clear text"
        )
    return endpoint


def redacted_text(text: str) -> str:
    """A URL-ish text without its user info (which may hold a password)."""
    return re.sub(r"//[^/@]*@", "//***@", text)


def check_value(resource: str, method: Method, param: Param, value: Any) -> Any:
    """The value as the API wants it, or a ParamError saying what is accepted."""
    where = f"{resource}: {method.name} param {param.name!r}"
    if param.type != "object":
        value = values.scalar(where, value, nullable=False)
    if param.type == "integer":
        if isinstance(value, bool) or not _is_int(value):
            raise ParamError(f"{where} must be an integer, got {value!r}")
        value = int(value)
        if param.useful_minimum is not None and value < param.useful_minimum:
            what = " (the page size)" if param.description.startswith("Page size") else ""
            raise ParamError(
                f"{where}{what} accepts {param.useful_minimum} - {param.maximum}, got {value}"
            )
        if param.minimum is not None and value < param.minimum:
            raise ParamError(f"{where} must be at least {param.minimum}, got {value}")
        if param.maximum is not None and value > param.maximum:
            raise ParamError(f"{where} must be at most {param.maximum}, got {value}")
        return value
    if param.type == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ParamError(f"{where} must be true or false, got {value!r}")
    if param.type == "datetime":
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        text = str(value)
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise ParamError(
                f"{where} must be an RFC 3339 date-time like 2024-05-01T00:00:00Z, got {text!r}"
            ) from None
        return text
    if param.type == "object":
        return value
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    values.text(where, text)
    if param.location in ("path", "host") and text in ("", ".", ".."):
        raise ParamError(f"{where} cannot be {text!r}: it must be a name")
    if param.location == "path" and "/" in text:
        raise ParamError(f"{where} cannot be {text!r}: it must be one name, without '/'")
    if any(ord(ch) < 32 for ch in text):
        raise ParamError(f"{where} contains control characters")
    if param.min_length is not None and len(text) < param.min_length:
        raise ParamError(f"{where} must be at least {param.min_length} characters, got {text!r}")
    if param.max_length is not None and len(text) > param.max_length:
        raise ParamError(f"{where} must be at most {param.max_length} characters, got {text!r}")
    if param.pattern is not None and not re.search(param.pattern, text):
        raise ParamError(f"{where} must match {param.pattern}, got {text!r}")
    return text


def _is_int(value: Any) -> bool:
    if isinstance(value, int):
        return True
    try:
        int(str(value))
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill_path(template: str, values: Mapping[str, Any]) -> str:
    return template.format_map(
        {name: quote(_text(values[name]), safe="") for name in template_holes(template)}
    )


def _base_url(provider: Provider, method: Method, values: Mapping[str, Any], resource: str) -> str:
    """The provider's base URL with its host params filled in by their host rules."""
    holes = template_holes(provider.base_url)
    if not holes:
        return provider.base_url
    filled: dict[str, str] = {}
    for name in holes:
        value = values.get(name)
        param = method.param(name)
        if value is None or param is None or param.host is None:
            rule = provider.auth.scope
            hint = ""
            if rule is not None and rule.param == name:
                hint = (f": pin it in the WHERE clause, or configure a default {rule.name}"
                        f"{' (' + rule.setting + ')' if rule.setting else ''}; see SHOW CONNECTIONS")
            raise ParamError(f"{resource}: {method.name} needs {name!r} to know the host{hint}")
        host = host_url(param.host, str(value), resource, method.name, name)
        if host is not None:
            return host
        filled[name] = str(value)
    return provider.base_url.format_map(filled)


def host_url(rule: HostRule, value: str, resource: str, method: str, name: str) -> str | None:
    """A full https host (`https://h`, `h.example.net`) -> its base URL; a name the rule
    accepts -> None (the provider's base URL template takes it).

    Anything else, another scheme, a path, a query, a fragment, user info, is refused: it
    could send the request, and its credentials, somewhere else or in clear text.
    """
    if re.match(rule.name_pattern, value) and "." not in value:
        return None
    url: httpx.URL | None = None
    if rule.hosts and not any(ch in value for ch in "#?@\\") and not any(ord(ch) <= 32 for ch in value):
        text = value if "://" in value else f"https://{value}"
        try:
            url = httpx.URL(text)
        except httpx.InvalidURL:
            url = None
    if (
        url is None
        or url.scheme != "https"
        or not _HOSTNAME.match(url.host or "")
        or url.userinfo
        or url.path not in ("", "/")
        or url.query
        or url.fragment
    ):
        accepted = "a deployment name (letters, digits, '-')"
        if rule.hosts:
            accepted += f" or an https host like {rule.example or 'host.example.com'} (no scheme other than https, user info, path or fragment)"
        raise ParamError(f"{resource}: {method} param {name!r} must be {accepted}, got {redacted_text(value)!r}")
    port = f":{url.port}" if url.port else ""
    return f"https://{url.host}{port}"
