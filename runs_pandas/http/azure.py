"""azure-identity failures in a few lines, and its own duplicate warning kept quiet.

`DefaultAzureCredential` raises an error that lists every credential it tried with a long
reason each, and logs the same text as a warning, so a user sees it twice. runs_pandas
says in a few lines what was tried and what to do, and keeps the full text on the error
(`.detail`, and azure-identity's own exception as `.cause`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

from runs_pandas.errors import AuthError

_local = threading.local()
_TRIED = re.compile(r"^\s*(\w+Credential)\s*:", re.MULTILINE)

FIX = (
    "To fix: run `az login` (Azure CLI); or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
    "AZURE_CLIENT_SECRET for a service principal; or give a token in RUNS_PANDAS_AZURE_TOKEN; "
    "or pass your own credential, Session(credentials={'azure': credential}); "
    "or use the offline sandbox (Session(sandbox=True) or RUNS_PANDAS_SANDBOX=1)."
)


class _WhileAsked(logging.Filter):
    """Drops azure-identity's warnings while runs_pandas is asking it (the error says it all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_local, "asking", False) or record.levelno >= logging.ERROR


_filter = _WhileAsked()
_installed = False


@contextlib.contextmanager
def _quiet_azure_identity() -> Iterator[None]:
    """While inside, azure-identity's warning copy of a failure is not printed."""
    global _installed
    if not _installed:
        # a logger's filter does not apply to its children's records: each module's own logger
        names = [n for n in list(logging.root.manager.loggerDict) if n.startswith("azure.identity")]
        for name in {"azure.identity", *names}:
            logging.getLogger(name).addFilter(_filter)
        _installed = True
    _local.asking = True
    try:
        yield
    finally:
        _local.asking = False


def azure_failure(credential: Any, scope: str, exc: BaseException) -> AuthError:
    """A short AuthError: which credential(s) were tried for `scope`, and the fix."""
    text = str(exc)
    tried = list(dict.fromkeys(_TRIED.findall(text))) or [type(credential).__name__]
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if len(tried) == 1 and len(first) > 200:
        first = first[:200] + "..."
    reason = f" ({first})" if len(tried) == 1 else ""
    error = AuthError(
        f"azure-identity could not get a token for {scope}; tried {', '.join(tried)}{reason}.\n{FIX}\n"
        f"(the full reason is on this error's .detail)"
    )
    error.detail = text
    error.cause = exc
    return error
