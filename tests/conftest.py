"""Shared fixtures: one sandbox on loopback for the whole run, sessions that use it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

import runs_pandas as rp
from runs_pandas.sandbox import Sandbox

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox().start()
    yield sb
    sb.stop()


@pytest.fixture()
def session(sandbox: Sandbox) -> Iterator[rp.Session]:
    s = rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False))
    yield s
    s.close()


@pytest.fixture()
def fresh_sandbox() -> Iterator[Sandbox]:
    """A sandbox of its own, for tests that change state (cancel, update)."""
    sb = Sandbox(acr_runs=400, databricks_runs=100, airplane_runs=200).start()
    yield sb
    sb.stop()


@pytest.fixture()
def ip(sandbox: Sandbox) -> Iterator[InteractiveShell]:
    """IPython with the extension loaded and the default session on the shared sandbox."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    rp.set_default_session(rp.Session(sandbox=sandbox, settings=rp.Settings(progress=False)))
    shell.run_line_magic("load_ext", "runs_pandas")
    yield shell
    rp.set_default_session(None)
    shell.user_ns.clear()
