"""ARM wire details of the fake ACR endpoint: CloudError bodies, page tokens, PATCH bodies.

Kept apart from the routing in `acr_api` so each module stays small.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ._http import Request, Response, json_response
from .acr_filter import Predicate
from .acr_run import RegistryRuns
from .timefmt import arm_time

SANDBOX_USER = "sandbox-user@runs-pandas.test"
RUNS_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.ContainerRegistry/registries/(?P<reg>[^/]+)/runs"
    r"(?:/(?P<run>[^/]+)(?:/(?P<action>[^/]+))?)?/?$",
    re.IGNORECASE,
)
OPERATION_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.ContainerRegistry/locations/"
    r"(?P<loc>[^/]+)/(?P<kind>operationStatuses|operationResults)/(?P<op>[^/]+)/?$",
    re.IGNORECASE,
)
REGISTRY_NAME = re.compile(r"^[A-Za-z0-9]{5,50}$")
FAULT_CODES = {
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def arm_error(
    status: int,
    code: str,
    message: str,
    target: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """An ARM CloudError response."""
    # ErrorResponseBody: code and message required, target a string when given, details an
    # array of InnerErrorDescription; no nulls (the swagger types none of them nullable)
    error: dict[str, Any] = {"code": code, "message": message, "details": []}
    if target is not None:
        error["target"] = target
    body: dict[str, Any] = {"error": error}
    return json_response(status, body, headers)


def collect(
    runs: RegistryRuns, predicate: Predicate | None, start: int, limit: int
) -> tuple[list[bytes], int | None]:
    """Up to ``limit`` matching runs from index ``start``, and where the next match is."""
    items = runs.runs
    page: list[bytes]
    if predicate is None:
        page = [run.data for run in items[start : start + limit]]
        resume = start + limit
        return page, resume if resume < len(items) and limit > 0 else None
    page = []
    index = start
    while index < len(items):
        run = items[index]
        if predicate(run.fields):
            if len(page) >= limit:
                return page, index
            page.append(run.data)
        index += 1
    return page, None


def encode_token(index: int, returned: int) -> str:
    raw = json.dumps({"i": index, "n": returned}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, int] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        index, returned = int(data["i"]), int(data["n"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    return (index, returned) if index >= 0 and returned >= 0 else None


def parse_update(request: Request) -> dict[str, Any] | Response:
    """The RunUpdateParameters of a PATCH body, or a 400 saying what is wrong."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError as error:
        body, problem = None, f"the body is not valid JSON ({error})"
    else:
        problem = "the body must be a JSON object (RunUpdateParameters)"
    if not isinstance(body, dict):
        return arm_error(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {problem}.",
        )
    changes: dict[str, Any] = {}
    if "isArchiveEnabled" in body:
        if not isinstance(body["isArchiveEnabled"], bool):
            return arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: "
                "'isArchiveEnabled' must be a boolean.",
                target="isArchiveEnabled",
            )
        changes["isArchiveEnabled"] = body["isArchiveEnabled"]
    return changes


def modified(obj: dict[str, Any], when: int) -> dict[str, Any]:
    system = dict(obj.get("systemData") or {})
    system.update(
        lastModifiedBy=SANDBOX_USER, lastModifiedByType="User", lastModifiedAt=arm_time(when)
    )
    return system


def run_not_found(run_id: str, registry: str) -> Response:
    return arm_error(
        404, "ResourceNotFound", f"The run '{run_id}' was not found in registry '{registry}'."
    )


def not_allowed(request: Request) -> Response:
    return arm_error(
        405,
        "MethodNotAllowed",
        f"The requested resource does not support http method '{request.method}'.",
    )
