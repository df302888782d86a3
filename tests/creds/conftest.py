"""Isolation for the credential tests: no real environment variable, home or config file is
read, and one test certificate authority signs every fake identity endpoint."""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.creds.entra import _certificates

PREFIXES = ("DATABRICKS_", "ARM_", "AZURE_", "AIRPLANE_", "RUNS_PANDAS_", "GOOGLE_CREDENTIALS")


@pytest.fixture(scope="session")
def tls() -> Iterator[tuple[Path, Path, Path]]:
    """(ca, cert, key) files of a test CA and a 127.0.0.1 certificate it signed."""
    with tempfile.TemporaryDirectory() as folder:
        yield _certificates(Path(folder))


@pytest.fixture()
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tls: tuple[Path, Path, Path]) -> Path:
    """A home of its own, no provider variable, the test CA trusted by requests (the SDKs)."""
    for name in list(os.environ):
        if name.startswith(PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(home / ".databrickscfg"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls[0]))
    monkeypatch.setenv("PATH", str(home / "bin") + os.pathsep + "/usr/bin:/bin")  # no real az or databricks CLI
    return home


def trusting(ca: Path) -> httpx.Client:
    """runs_pandas' HTTP client, trusting the test CA."""
    return httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), follow_redirects=False, trust_env=False)
