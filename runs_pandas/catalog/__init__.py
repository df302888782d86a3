"""The catalog: every provider, resource, field and method runs_pandas knows, as data.

The catalog files in `data/` are validated by the models in `models.py` when first used.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources as _files

from runs_pandas.catalog.models import (
    Auth,
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
from runs_pandas.errors import UnknownResourceError

__all__ = [
    "Auth",
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
    """The built-in catalog, read from the package's data files once."""
    folder = _files.files("runs_pandas.catalog") / "data"
    providers = [
        Provider.model_validate(json.loads(entry.read_text(encoding="utf-8")))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    ]
    return Catalog(providers)
