"""Turns one raw request into a response: records it, applies latency and faults, dispatches.

Separated from the socket code so the request path is plain Python that is easy to follow.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence

from ._http import Provider, Request, Response, json_response, split_target
from .faults import FaultQueue, retry_after_text


class Router:
    """Dispatches requests to the provider mounted at the matching path prefix."""

    def __init__(self, providers: Sequence[Provider], faults: FaultQueue, latency: float) -> None:
        self.providers = tuple(providers)
        self.faults = faults
        self.latency = latency
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def respond(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, base_url: str
    ) -> tuple[Response, bool]:
        """The response to send and whether to cut its body off (an injected truncation)."""
        with self._lock:
            self.requests.append((method, target))
        if self.latency > 0:
            time.sleep(self.latency)
        path, query = split_target(target)
        provider = self._provider(path)
        fault = self.faults.take(target)
        if fault is not None and fault.delay > 0:
            time.sleep(fault.delay)
        if fault is not None and fault.status != 200:
            response = provider.fault(fault.status) if provider else _unmounted(path, fault.status)
        elif provider is None:
            response = _unmounted(path, 404)
        else:
            request = Request(
                method,
                target,
                path[len(provider.prefix) :] or "/",
                query,
                headers,
                body,
                base_url,
                provider.prefix,
            )
            response = _safely(provider, request)
        if fault is not None and fault.retry_after is not None:
            response.headers.append(("Retry-After", retry_after_text(fault.retry_after)))
        return response, fault is not None and fault.truncate

    def _provider(self, path: str) -> Provider | None:
        for provider in self.providers:
            if path == provider.prefix or path.startswith(provider.prefix + "/"):
                return provider
        return None


def _safely(provider: Provider, request: Request) -> Response:
    """The provider's answer; a bug in the fake becomes a 500 in the provider's shape."""
    try:
        return provider.handle(request)
    except Exception:  # noqa: BLE001 - keep serving; show the bug on stderr
        traceback.print_exc(file=sys.stderr)
        return provider.fault(500)


def _unmounted(path: str, status: int) -> Response:
    return json_response(
        status,
        {
            "error": f"nothing is served at {path!r}; the sandbox serves "
            "/azure, /databricks and /airplane/v0"
        },
    )
