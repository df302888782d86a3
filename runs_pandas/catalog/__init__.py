"""The catalog: every provider, resource, field and method runs_pandas knows, as data.

The catalog files in `data/` are validated by the models in `models.py` when first used.
Extra catalog files, or folders of them, are named by `RUNS_PANDAS_CATALOG` (paths joined
by the OS path separator) or added with `add_catalog(path)`; a provider there with a
built-in name replaces the built-in one.
"""

from __future__ import annotations

import difflib
import json
import os
from functools import cache
from importlib import resources as _files
from pathlib import Path

from pydantic import ValidationError

from runs_pandas.catalog.models import (
    Auth,
    AuthScope,
    CredentialSource,
    ErrorShape,
    Field,
    FieldType,
    Method,
    Paginator,
    Param,
    Provider,
    Resource,
    RunShape,
)
from runs_pandas.catalog.validated import cached_providers
from runs_pandas.errors import QueryError, UnknownResourceError

CATALOG_ENV = "RUNS_PANDAS_CATALOG"
_extra: list[Path] = []

__all__ = [
    "Auth",
    "AuthScope",
    "Catalog",
    "CredentialSource",
    "ErrorShape",
    "Field",
    "FieldType",
    "Method",
    "Paginator",
    "Param",
    "Provider",
    "Resource",
    "RunShape",
    "add_catalog",
    "catalog",
]


class Catalog:
    """All providers, looked up by name and resources by their three-part id."""

    def __init__(self, providers: list[Provider]) -> None:
        self.providers: dict[str, Provider] = {p.name: p for p in providers}
        self.resources: dict[str, Resource] = {
            r.id: r for p in providers for r in p.resources
        }

    def provider(self, name: str) -> Provider:
        try:
            return self.providers[name.lower()]
        except KeyError:
            raise UnknownResourceError(
                f"unknown provider {name!r}{_closest(name, self.providers)}; "
                f"providers are: {', '.join(sorted(self.providers))}"
            ) from None

    def resource(self, resource_id: str) -> Resource:
        """The resource with this id, or an error that names the closest one."""
        found = self.resources.get(resource_id.lower())
        if found is None:
            raise UnknownResourceError(
                f"unknown resource {resource_id!r}{_closest(resource_id, self.resources)}; "
                f"resources are: {', '.join(sorted(self.resources))}"
            )
        return found

    def provider_of(self, resource: Resource) -> Provider:
        return self.providers[resource.provider]


def _closest(name: str, choices: object) -> str:
    matches = difflib.get_close_matches(name.lower(), list(choices), n=1, cutoff=0.5)  # type: ignore[call-overload]
    return f" (did you mean {matches[0]!r}?)" if matches else ""


@cache
def catalog() -> Catalog:
    """The catalog: the built-in files, then the extra ones (`RUNS_PANDAS_CATALOG`,
    `add_catalog`), read and validated once (the built-in ones once per content: `validated.py`)."""
    folder = _files.files("runs_pandas.catalog") / "data"
    files = [
        (entry.name, entry.read_bytes())
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    ]
    built_in = cached_providers(files, lambda data: Provider.model_validate(json.loads(data)))
    merged = {p.name: p for p in built_in}
    for path in _extra_files():
        provider = _provider(path.read_text(encoding="utf-8"), str(path))
        merged[provider.name] = provider
    return Catalog(list(merged.values()))


def add_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Add a catalog file (or a folder of `*.json` files) and return the catalog with it."""
    where = Path(path).expanduser()
    if not where.exists():
        raise QueryError(f"no catalog file or folder at {str(where)!r}")
    if where not in _extra:
        _extra.append(where)
    catalog.cache_clear()
    return catalog()


def _extra_files() -> list[Path]:
    named = [Path(p).expanduser() for p in os.environ.get(CATALOG_ENV, "").split(os.pathsep) if p.strip()]
    files: list[Path] = []
    for where in [*named, *_extra]:
        if where.is_dir():
            files.extend(sorted(where.glob("*.json")))
        elif where.is_file():
            files.append(where)
        else:
            raise QueryError(f"{CATALOG_ENV} names {str(where)!r}, which is no catalog file or folder")
    return files


def _provider(text: str, where: str) -> Provider:
    """An extra catalog file as a validated Provider, or a QueryError saying what is wrong where."""
    try:
        return Provider.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise QueryError(f"catalog file {where} is not valid: {exc}") from None
