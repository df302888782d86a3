"""Fake ARM endpoint for ACR Tasks runs (API 2019-06-01-preview), mounted under ``/azure``.

Follows the swagger in specs/azure: Runs_List (paged by an absolute ``nextLink``,
``$filter``/``$top``), Runs_Get, Runs_Update (PATCH), Runs_GetLogSasUrl and Runs_Cancel
(a long-running operation answered 202 with polling headers). Every error uses the ARM
CloudError shape ``{"error": {"code", "message", "target", "details"}}``.
"""

from __future__ import annotations

import random
import threading
from typing import Any
from urllib.parse import quote

from ._http import Request, Response, json_bytes, json_response
from .acr_data import AcrStore
from .acr_examples import EXAMPLE_RUN_ID, example_body
from .acr_filter import FilterError, compile_filter
from .acr_run import IN_PROGRESS, RegistryRuns
from .acr_scopes import (
    EXAMPLE_REGISTRY,
    EXAMPLE_RESOURCE_GROUP,
    EXAMPLE_SUBSCRIPTION,
    REGISTRIES,
    AcrRegistry,
)
from .acr_wire import (
    FAULT_CODES,
    OPERATION_PATH,
    REGISTRY_NAME,
    RUNS_PATH,
    arm_error,
    collect,
    decode_token,
    encode_token,
    modified,
    not_allowed,
    parse_update,
    run_not_found,
)
from .ids import guid
from .timefmt import TICKS_PER_SECOND, arm_time, parse_iso, wall_ticks

TOKEN = "sandbox-azure-token"
API_VERSIONS = ("2019-06-01-preview", "2019-06-01")
_NAMESPACE = "Microsoft.ContainerRegistry"
_EXAMPLE = "example"


class AzureApi:
    """The ``/azure`` provider: routing, validation, paging and run state changes."""

    prefix = "/azure"

    def __init__(self, store: AcrStore, page_size: int, seed: int, lro: str = "arm") -> None:
        self._lro = lro  # "arm", "async_operation" or "location" (see Sandbox)
        self.log_origin: str | None = None  # the blob server's origin, set by the Sandbox
        self._store = store
        self._page_size = max(1, page_size)
        self._seed = seed
        self._subscriptions = {r.subscription_id.lower() for r in REGISTRIES}
        self._subscriptions.add(EXAMPLE_SUBSCRIPTION.lower())
        self._groups = {(r.subscription_id.lower(), r.resource_group.lower()) for r in REGISTRIES}
        self._groups.add((EXAMPLE_SUBSCRIPTION.lower(), EXAMPLE_RESOURCE_GROUP.lower()))
        self._registries: dict[tuple[str, str, str], AcrRegistry | str] = {
            (r.subscription_id.lower(), r.resource_group.lower(), r.name.lower()): r
            for r in REGISTRIES
        }
        key = (
            EXAMPLE_SUBSCRIPTION.lower(),
            EXAMPLE_RESOURCE_GROUP.lower(),
            EXAMPLE_REGISTRY.lower(),
        )
        self._registries[key] = _EXAMPLE
        self._operations: dict[str, dict[str, Any]] = {}
        self._operations_lock = threading.Lock()

    # -- entry points -------------------------------------------------------------------

    def fault(self, status: int) -> Response:
        """An injected failure in ARM shape."""
        code = FAULT_CODES.get(status, f"Http{status}")
        return arm_error(status, code, f"The sandbox injected a {status} ({code}) response.")

    def handle(self, request: Request) -> Response:
        """Authenticate, check api-version, then route the request."""
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        version = request.query.get("api-version")
        if version is None or version == "":
            return arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if version not in API_VERSIONS:
            return arm_error(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. The supported versions "
                f"are '{','.join(API_VERSIONS)}'.",
            )
        match = RUNS_PATH.match(request.path)
        if match is not None:
            return self._runs(request, match.groupdict())
        match = OPERATION_PATH.match(request.path)
        if match is not None and request.method == "GET":
            return self._operation(match.group("sub"), match.group("op"), match.group("kind"))
        return arm_error(
            404,
            "InvalidResourceType",
            f"The resource type could not be found in the namespace '{_NAMESPACE}' "
            f"for api version '{version}' (path '{request.path}').",
        )

    def _authenticate(self, request: Request) -> Response | None:
        header = request.header("Authorization")
        challenge = [
            (
                "WWW-Authenticate",
                (
                    'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                    'error="invalid_token", error_description="The authentication failed"'
                ),
            )
        ]
        if header is None:
            return arm_error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers=challenge,
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return arm_error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in "
                "an invalid format.",
                headers=challenge,
            )
        if token.strip() != TOKEN:
            return arm_error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The access token is invalid.",
                headers=challenge,
            )
        return None

    # -- scope resolution ---------------------------------------------------------------

    def _runs(self, request: Request, parts: dict[str, str | None]) -> Response:
        sub, group, name = str(parts["sub"]), str(parts["rg"]), str(parts["reg"])
        if not REGISTRY_NAME.match(name):
            return arm_error(
                400,
                "InvalidResourceName",
                f"Resource name '{name}' is invalid. The name must be 5-50 "
                "alphanumeric characters.",
                target="registryName",
            )
        if sub.lower() not in self._subscriptions:
            # ARM answers an unknown subscription with SubscriptionNotFound.
            return arm_error(
                404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found."
            )
        if (sub.lower(), group.lower()) not in self._groups:
            return arm_error(
                404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found."
            )
        registry = self._registries.get((sub.lower(), group.lower(), name.lower()))
        if registry is None:
            return arm_error(
                404,
                "ResourceNotFound",
                f"The Resource '{_NAMESPACE}/registries/{name}' under resource group "
                f"'{group}' was not found. For more details please go to "
                "https://aka.ms/ARMResourceNotFoundFix",
            )
        run_id, action = parts["run"], (parts["action"] or "").lower()
        if run_id is None:
            return (
                self._list(request, registry) if request.method == "GET" else not_allowed(request)
            )
        if action not in ("", "listlogsasurl", "cancel"):
            return arm_error(
                404,
                "InvalidResourceType",
                f"The resource type 'registries/runs/{parts['action']}' could not be "
                f"found in the namespace '{_NAMESPACE}'.",
            )
        allowed = ("POST",) if action else ("GET", "PATCH")
        if request.method not in allowed:
            return not_allowed(request)
        if registry == _EXAMPLE:
            return self._example(request, run_id, action)
        assert isinstance(registry, AcrRegistry)
        runs = self._store.runs(registry)
        run = runs.by_id.get(run_id.lower())
        if run is None:
            return run_not_found(run_id, registry.name)
        if action == "listlogsasurl":
            return json_response(200, self._log_links(registry, run.run_id))
        if action == "cancel":
            return self._cancel(request, registry, runs, run_id)
        if request.method == "PATCH":
            return self._update(request, registry, runs, run_id)
        return Response(200, run.data)

    # -- Runs_List ----------------------------------------------------------------------

    def _list(self, request: Request, registry: AcrRegistry | str) -> Response:
        query = request.query
        top_text = query.get("$top", "")
        top: int | None = None
        if top_text != "":
            try:
                top = int(top_text)
            except ValueError:
                top = -1
            if top < 0:
                return arm_error(
                    400,
                    "InvalidQueryParameterValue",
                    f"The value '{top_text}' of query parameter '$top' is invalid; "
                    "it must be a non-negative integer.",
                    target="$top",
                )
        try:
            predicate = compile_filter(query.get("$filter"))
        except FilterError as error:
            return arm_error(
                400,
                "InvalidFilter",
                f"Invalid $filter '{query.get('$filter')}': {error}.",
                target="$filter",
            )
        if registry == _EXAMPLE:
            return json_response(200, example_body("RunsList.json"))
        assert isinstance(registry, AcrRegistry)
        start, returned = 0, 0
        token = query.get("$skipToken")
        if token is not None:
            decoded = decode_token(token)
            if decoded is None:
                return arm_error(
                    400,
                    "InvalidQueryParameterValue",
                    "The value of query parameter '$skipToken' is invalid.",
                    target="$skipToken",
                )
            start, returned = decoded
        limit = self._page_size if top is None else min(self._page_size, max(0, top - returned))
        page, resume = collect(self._store.runs(registry), predicate, start, limit)
        returned += len(page)
        body = b'{"value":[' + b",".join(page) + b"]"
        if resume is not None and (top is None or returned < top):
            link = self._next_link(request, encode_token(resume, returned))
            body += b',"nextLink":' + json_bytes(link)
        return Response(200, body + b"}")

    def _next_link(self, request: Request, token: str) -> str:
        path = request.target.partition("?")[0]
        params = [("api-version", request.query["api-version"])]
        for key in ("$filter", "$top"):
            if request.query.get(key):
                params.append((key, request.query[key]))
        params.append(("$skipToken", token))
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in params)
        return f"{request.base_url}{path}?{query}"

    # -- the example scope --------------------------------------------------------------

    def _example(self, request: Request, run_id: str, action: str) -> Response:
        if run_id.lower() != EXAMPLE_RUN_ID.lower():
            return run_not_found(run_id, EXAMPLE_REGISTRY)
        if action == "listlogsasurl":
            return json_response(200, example_body("RunsGetLogSasUrl.json"))
        if action == "cancel":
            return Response(200)  # RunsCancel.json: 200 with no body
        if request.method == "PATCH":
            changes = parse_update(request)
            if isinstance(changes, Response):
                return changes
            return json_response(200, example_body("RunsUpdate.json"))
        return json_response(200, example_body("RunsGet.json"))

    # -- Runs_Update / Runs_GetLogSasUrl / Runs_Cancel ----------------------------------

    def _update(
        self, request: Request, registry: AcrRegistry, runs: RegistryRuns, run_id: str
    ) -> Response:
        changes = parse_update(request)
        if isinstance(changes, Response):
            return changes
        with self._store.write_lock:
            run = runs.by_id[run_id.lower()]
            obj = run.obj()
            props = obj["properties"]
            props.update(changes)
            when = wall_ticks()
            run.replace({**obj, "systemData": modified(obj, when), "properties": props})
            if self._lro == "arm":
                return Response(200, run.data)
        # Runs_Update documents 201: accepted, the change finishes as an operation
        return self._accepted(request, registry, when, 201)

    def _log_links(self, registry: AcrRegistry, run_id: str) -> dict[str, str]:
        now = self._store.now
        start = quote(arm_time(now - 300 * TICKS_PER_SECOND)[:19] + "Z", safe="")
        expiry = quote(arm_time(now + 3600 * TICKS_PER_SECOND)[:19] + "Z", safe="")
        sas = f"sv=2019-07-07&st={start}&se={expiry}&sr=b&sp=r&spr=https&sig=REDACTED-SANDBOX"
        base = f"{self.log_origin}/runlogs/{registry.name}" if self.log_origin else (
            f"https://{registry.name}.blob.core.windows.net/runlogs"
        )
        return {
            "logLink": f"{base}/{run_id}/rawtext.log?{sas}",
            "logArtifactLink": f"{base}/{run_id}/log-artifact.tar.gz?{sas}",
        }

    def _cancel(
        self, request: Request, registry: AcrRegistry, runs: RegistryRuns, run_id: str
    ) -> Response:
        with self._store.write_lock:
            run = runs.by_id[run_id.lower()]
            obj = run.obj()
            props = obj["properties"]
            if props["status"] not in IN_PROGRESS:
                # The swagger documents no code for this; 409 Conflict with a descriptive code
                # is what ARM resource providers use for "not allowed in the current state".
                return arm_error(
                    409,
                    "RunNotCancelable",
                    f"Run '{props['runId']}' cannot be canceled because it has "
                    f"already finished with status '{props['status']}'.",
                    target="runId",
                )
            begun = parse_iso(props.get("startTime") or props["createTime"])
            when = max(wall_ticks(), begun + TICKS_PER_SECOND)
            props.update(
                status="Canceled", finishTime=arm_time(when), lastUpdatedTime=arm_time(when)
            )
            run.replace({**obj, "systemData": modified(obj, when), "properties": props})
        return self._accepted(request, registry, when, 202)

    def _accepted(self, request: Request, registry: AcrRegistry, when: int, status: int) -> Response:
        """An answer that hands back an operation to poll, in the variant the sandbox serves."""
        pending = 0 if self._lro == "arm" else 1  # polls that still answer "in progress"
        operation = self._new_operation(registry, when, pending)
        version = request.query["api-version"]
        base = (
            f"{request.base_url}{self.prefix}/subscriptions/{registry.subscription_id}"
            f"/providers/{_NAMESPACE}/locations/{registry.location}"
        )
        status_link = ("Azure-AsyncOperation", f"{base}/operationStatuses/{operation}?api-version={version}")
        result_link = ("Location", f"{base}/operationResults/{operation}?api-version={version}")
        links = {"arm": [status_link, result_link], "async_operation": [status_link]}.get(self._lro, [result_link])
        return Response(status, b"", [*links, ("Retry-After", "0")])

    def _new_operation(self, registry: AcrRegistry, when: int, pending: int = 0) -> str:
        with self._operations_lock:
            operation = guid(random.Random(f"op:{self._seed}:{len(self._operations)}"))
            self._operations[operation] = {
                "id": f"/subscriptions/{registry.subscription_id}/providers/{_NAMESPACE}"
                f"/locations/{registry.location}/operationStatuses/{operation}",
                "name": operation,
                "status": "Succeeded",
                "startTime": arm_time(when),
                "endTime": arm_time(when),
                "_pending": pending,
            }
        return operation

    def _operation(self, subscription: str, operation: str, kind: str = "operationStatuses") -> Response:
        """An operation's status (Azure-AsyncOperation) or result (Location: 202, then 204)."""
        with self._operations_lock:
            record = self._operations.get(operation.lower())
            if record is None or subscription.lower() not in record["id"].lower():
                return arm_error(404, "ResourceNotFound", f"Operation '{operation}' was not found.")
            pending = record["_pending"] > 0
            record["_pending"] = max(0, record["_pending"] - 1)
        shown = {k: v for k, v in record.items() if not k.startswith("_")}
        if kind.lower() == "operationresults" and self._lro != "arm":
            return Response(202, b"", [("Retry-After", "0")]) if pending else Response(204)
        if pending:
            shown = {**shown, "status": "InProgress"}
            shown.pop("endTime", None)
        return json_response(200, shown)
