"""The built-in catalog's cache: the same providers as validating, and never trusted blindly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runs_pandas import catalog as catalog_module
from runs_pandas.catalog import Provider, validated


@pytest.fixture()
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    catalog_module.catalog.cache_clear()
    yield tmp_path / "runs_pandas"
    catalog_module.catalog.cache_clear()


def _validated() -> list[Provider]:
    folder = Path(catalog_module.__file__).parent / "data"
    return [Provider.model_validate(json.loads(p.read_bytes())) for p in sorted(folder.glob("*.json"))]


def _pickles(folder: Path) -> list[Path]:
    return sorted(folder.glob("catalog-*.pickle"))


def test_the_cached_catalog_is_the_validated_one(cache_home: Path) -> None:
    first = list(catalog_module.catalog().providers.values())  # validates, writes the cache
    assert len(_pickles(cache_home)) == 1
    catalog_module.catalog.cache_clear()
    second = list(catalog_module.catalog().providers.values())  # read from the cache
    assert first == second == _validated()
    assert second[0] is not first[0]
    resource = catalog_module.catalog().resource("azure.container_registry.runs")
    assert resource.fields == next(r for p in _validated() for r in p.resources if r.id == resource.id).fields


def test_a_changed_data_file_misses_the_cache(cache_home: Path) -> None:
    files = [("a.json", b"{}")]
    calls: list[bytes] = []
    built = _validated()[:1]

    def validate(data: bytes) -> Provider:
        calls.append(data)
        return built[0]

    validated.cached_providers(files, validate)
    validated.cached_providers(files, validate)
    assert calls == [b"{}"]  # the second read came from the cache
    validated.cached_providers([("a.json", b"{ }")], validate)
    assert calls == [b"{}", b"{ }"]
    validated.cached_providers(files, validate)  # the first key is still kept
    assert len(calls) == 2
    for n in range(validated._KEEP + 2):
        validated.cached_providers([("a.json", b"{}" + b" " * (n + 2))], validate)
    assert len(_pickles(cache_home)) == validated._KEEP  # only the newest stay


def test_a_damaged_or_foreign_file_is_validated_again(cache_home: Path) -> None:
    catalog_module.catalog()
    (path,) = _pickles(cache_home)
    path.write_bytes(b"not a pickle")
    catalog_module.catalog.cache_clear()
    assert list(catalog_module.catalog().providers.values()) == _validated()
    assert path.read_bytes() != b"not a pickle"  # rewritten


def test_a_cache_others_may_write_is_not_read(cache_home: Path) -> None:
    """A pickle runs code when loaded: one that another user could have written is ignored."""
    files = [("a.json", b"{}")]
    calls: list[bytes] = []

    def validate(data: bytes) -> Provider:
        calls.append(data)
        return _validated()[0]

    validated.cached_providers(files, validate)
    (path,) = _pickles(cache_home)
    os.chmod(path, 0o620)
    validated.cached_providers(files, validate)
    assert len(calls) == 2


def test_an_unwritable_cache_folder_only_means_validating(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = (
        "from runs_pandas.catalog import catalog; c = catalog(); "
        "print(len(c.resources) > 0)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(blocker)}  # a file where the folder would go
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "True"
