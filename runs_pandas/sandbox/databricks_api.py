"""Fake Databricks workspace endpoint for clean-room notebook task runs, under ``/databricks``.

``GET /api/2.0/clean-rooms/{clean_room_name}/runs`` with ``notebook_name``, ``page_size``
(ignored, as the real API documents) and ``page_token``. Errors use Databricks' shape
``{"error_code", "message"}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading

from ._http import Request, Response, json_bytes, json_response
from .databricks_data import CLEAN_ROOMS, CleanRoomRuns, generate, room_counts

TOKEN = "dapi-sandbox-token"
_RUNS_PATH = re.compile(r"^/api/2\.0/clean-rooms/(?P<room>[^/]+)/runs/?$")
_FAULT_CODES = {
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "TEMPORARILY_UNAVAILABLE",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def databricks_error(status: int, code: str, message: str) -> Response:
    """A Databricks REST error response."""
    return json_response(status, {"error_code": code, "message": message})


class DatabricksApi:
    """The ``/databricks`` provider: clean-room run listing with opaque page tokens."""

    prefix = "/databricks"

    def __init__(self, total_runs: int, seed: int, now_ms: int, page_size: int) -> None:
        self._counts = room_counts(total_runs)
        self._seed = seed
        self._now_ms = now_ms
        self._page_size = max(1, page_size)
        self._rooms = {room.name: room for room in CLEAN_ROOMS}
        self._built: dict[str, CleanRoomRuns] = {}
        self._lock = threading.Lock()

    def runs(self, name: str) -> CleanRoomRuns:
        """A clean room's runs, generated on first use."""
        built = self._built.get(name)
        if built is None:
            with self._lock:
                built = self._built.get(name)
                if built is None:
                    room = self._rooms[name]
                    built = generate(room, self._counts[name], self._seed, self._now_ms)
                    self._built[name] = built
        return built

    def warm(self) -> None:
        """Generate every clean room now."""
        for name in self._rooms:
            self.runs(name)

    def fault(self, status: int) -> Response:
        """An injected failure in Databricks' error shape."""
        code = _FAULT_CODES.get(status, "INTERNAL_ERROR")
        return databricks_error(status, code, f"The sandbox injected a {status} response.")

    def handle(self, request: Request) -> Response:
        """Authenticate and serve the list endpoint."""
        header = request.header("Authorization")
        if header is None:
            return databricks_error(
                401,
                "UNAUTHENTICATED",
                "Credential was not sent or was of an unsupported type for this API.",
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != TOKEN:
            return databricks_error(401, "UNAUTHENTICATED", "Invalid access token.")
        match = _RUNS_PATH.match(request.path)
        if match is None or request.method != "GET":
            return databricks_error(
                404, "ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {request.path}'"
            )
        return self._list(request, match.group("room"))

    def _list(self, request: Request, name: str) -> Response:
        if name not in self._rooms:
            return databricks_error(
                404, "RESOURCE_DOES_NOT_EXIST", f"Clean room '{name}' does not exist."
            )
        page_size = request.query.get("page_size", "")
        if page_size and not page_size.lstrip("-").isdigit():
            return databricks_error(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Invalid value for page_size: '{page_size}' is not an integer.",
            )
        notebook = request.query.get("notebook_name") or None
        offset = 0
        token = request.query.get("page_token")
        if token:
            decoded = _decode_token(token, name, notebook)
            if decoded is None:
                return databricks_error(
                    400,
                    "INVALID_PARAMETER_VALUE",
                    "The page_token is invalid or does not belong to this request.",
                )
            offset = decoded
        built = self.runs(name)
        if notebook is None:
            matching = built.encoded
        else:
            matching = [
                data
                for run, data in zip(built.runs, built.encoded)
                if run["notebook_name"] == notebook
            ]
        page = matching[offset : offset + self._page_size]
        if not page:
            return Response(200, b"{}")  # proto3 JSON omits an empty repeated field
        body = b'{"runs":[' + b",".join(page) + b"]"
        following = offset + len(page)
        if following < len(matching):
            body += b',"next_page_token":' + json_bytes(_encode_token(following, name, notebook))
        return Response(200, body + b"}")


def _encode_token(offset: int, room: str, notebook: str | None) -> str:
    raw = json.dumps({"o": offset, "r": room, "n": notebook}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, room: str, notebook: str | None) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(data["o"])
        same_request = data["r"] == room and data["n"] == notebook
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    return offset if same_request and offset >= 0 else None
