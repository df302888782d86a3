"""The built-in catalog, validated once per content and kept in the user cache dir.

Building pydantic's validators for the catalog's models and validating the files cost
tens of milliseconds of every process's first query, for the same files each time. The
validated providers are kept as a pickle whose name is a hash of everything the result
depends on: the data files' bytes, the catalog package's source, and the pydantic and
Python versions. A change to any of them misses the cache and validates again, so a loaded
catalog is the one validation would build.

A pickle runs code when loaded, so the file is read only when it and its folder belong
to the current user and nobody else may write them. Anything wrong with the cache (no
folder, no permission, a damaged file) means validating as before; it is never an error.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from runs_pandas.catalog import auth, models
from runs_pandas.catalog.models import Provider

_PREFIX = "catalog-"
_KEEP = 4  # cached catalogs kept (the newest)


def cached_providers(
    files: Sequence[tuple[str, bytes]], validate: Callable[[bytes], Provider]
) -> list[Provider]:
    """The providers of `files` (name, bytes), validated by `validate` or read from the cache."""
    folder = _folder()
    path = folder / f"{_PREFIX}{_key(files)}.pickle" if folder is not None else None
    if path is not None:
        found = _load(path)
        if found is not None:
            return found
    providers = [validate(data) for _, data in files]
    if path is not None:
        _store(path, providers)
    return providers


def _key(files: Sequence[tuple[str, bytes]]) -> str:
    import pydantic

    digest = hashlib.sha256()
    for part in (pydantic.VERSION, sys.version, sys.implementation.cache_tag or ""):
        digest.update(part.encode() + b"\0")
    sources = [Path(models.__file__ or ""), Path(auth.__file__ or "")]
    sources.append(sources[0].with_name("__init__.py"))  # how the built-in files are validated
    for source in sources:
        digest.update(source.read_bytes() + b"\0")
    for name, data in files:
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:32]


def _folder() -> Path | None:
    try:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("runs_pandas"))
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, ImportError):
        return None
    return folder if _private(folder) else None


def _private(path: Path) -> bool:
    """Owned by this user and writable by no one else (where the OS says who owns files)."""
    if not hasattr(os, "getuid"):
        return True
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def _load(path: Path) -> list[Provider] | None:
    try:
        if not _private(path):
            return None
        with path.open("rb") as handle:
            found = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001  a damaged file fails in many ways: validate again, replace it
        return None
    if not isinstance(found, list) or not all(isinstance(p, Provider) for p in found):
        return None
    return found


def _store(path: Path, providers: list[Provider]) -> None:
    """Write atomically (a reader sees the old file or the whole new one); drop the oldest keys."""
    temporary: str | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
            temporary = handle.name  # made readable by this user only
            pickle.dump(providers, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        temporary = None
        # keep a few keys: two installs (or checkouts) used in turn must not evict each other
        kept = sorted(path.parent.glob(f"{_PREFIX}*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[_KEEP:]:
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
