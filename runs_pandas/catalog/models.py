"""The catalog's shape: providers, resources, fields, methods and params, as pydantic models.

Providers are data. The engine reads these models and never names a provider, so adding
one is adding a catalog file (and its sandbox data). A wrong statement in a file is an
error when the catalog loads, not a surprise at query time.
"""

from __future__ import annotations

import os
import string
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField

from runs_pandas.catalog.auth import Auth as Auth  # re-exported: the catalog's auth shape
from runs_pandas.catalog.auth import AuthScope as AuthScope
from runs_pandas.catalog.auth import CredentialSource as CredentialSource


class FieldType(StrEnum):
    """How a value from the API becomes a column."""

    STRING = "string"
    INTEGER = "integer"  # nullable Int64; decimal strings accepted
    NUMBER = "number"  # float64
    BOOLEAN = "boolean"  # nullable boolean
    DATETIME = "datetime"  # ISO 8601 / RFC 3339 text -> UTC datetime
    EPOCH_MS = "epoch_ms"  # epoch milliseconds -> UTC datetime
    DURATION_MS = "duration_ms"  # milliseconds -> timedelta
    OBJECT = "object"  # nested object -> dotted columns
    MAP = "map"  # free-form string keys -> `name.<key>` columns
    ARRAY = "array"  # stays one column of lists
    ANY = "any"  # whatever the API sends


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Field(_Model):
    """One field of a resource: a column, or a group of dotted columns for objects."""

    name: str
    type: FieldType
    description: str = ""
    children: tuple[Field, ...] = ()
    items: FieldType | None = None  # element type of an array
    enum: tuple[str, ...] = ()  # known values; APIs may add more

    @model_validator(mode="after")
    def _check(self) -> Field:
        if self.children and self.type not in (FieldType.OBJECT, FieldType.ARRAY):
            raise ValueError(f"field {self.name!r}: only objects and arrays have children")
        if self.type is FieldType.OBJECT and not self.children:
            raise ValueError(f"field {self.name!r}: an object needs children (use 'map' otherwise)")
        return self

    def leaves(self, prefix: str = "") -> list[tuple[str, Field]]:
        """Dotted names and fields of the columns this field becomes."""
        name = f"{prefix}{self.name}"
        if self.type is FieldType.OBJECT:
            return [leaf for child in self.children for leaf in child.leaves(f"{name}.")]
        return [(name, self)]


ParamLocation = Literal["path", "query", "header", "body", "host"]


class HostRule(_Model):
    """How a host param's value becomes a base URL, and what a value may be.

    A value is a deployment name (matching `name_pattern`), put into `template`; or, when
    `hosts` is true, a bare `https` host (`adb-1.2.example.net` or `https://adb-1.2.example.net`).
    A scheme other than https, user info, a port-less path, a query or a fragment is refused.
    """

    template: str  # e.g. "https://{value}.cloud.example.com"
    name_pattern: str = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    hosts: bool = False  # a full https host is accepted too
    example: str = ""  # shown in errors: what a host value looks like

    @model_validator(mode="after")
    def _check(self) -> HostRule:
        if template_holes(self.template) != ["value"] or not self.template.startswith("https://"):
            raise ValueError(f"host template {self.template!r} must be https://... with one {{value}} hole")
        return self


class Param(_Model):
    """One parameter of a method, and where it goes in the request."""

    name: str
    location: ParamLocation
    type: Literal["string", "integer", "boolean", "datetime", "object"] = "string"
    required: bool = False
    description: str = ""
    default: str | int | bool | None = None  # sent when the user gives none (e.g. api-version)
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    useful_minimum: int | None = None  # the least value that means what it says (a page size of 0 does not)
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    column: bool = True  # a pushed-down value becomes a column of the result
    default_env: str | None = None  # an environment variable that fills it when not given
    host: HostRule | None = None  # for location "host": how a value becomes the base URL
    wire: str | None = None  # the name sent (a header param's header), when not `name`


class Paginator(_Model):
    """How the next page is asked for. One narrow idea per `type`."""

    type: Literal["none", "next_link", "token", "page_number", "link_header"]
    next_field: str | None = None  # body field with the next link or token
    token_param: str | None = None  # query param that carries the token
    page_param: str | None = None  # query param with the page number
    size_param: str | None = None  # query param with the page size
    first_page: int = 0
    default_size: int | None = None  # the API's page size when none is sent
    rel: str = "next"  # link_header: the RFC 8288 relation of the next page

    @model_validator(mode="after")
    def _check(self) -> Paginator:
        needs = {
            "next_link": ("next_field",),
            "token": ("next_field", "token_param"),
            "page_number": ("page_param", "size_param", "default_size"),
            "none": (),
            "link_header": (),
        }[self.type]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"paginator {self.type!r} needs {', '.join(missing)}")
        return self


Operator = Literal["eq", "ne", "gt", "ge", "lt", "le"]


class Filter(_Model):
    """A field the API itself can filter on: into a filter expression, or into a query param.

    `odata` names the property in the method's `filter_param` expression (ACR `$filter`);
    `param` names a query param that takes the value (Airplane `since` takes a lower bound
    of any time at or before the run's last update). Only the listed operators are pushed.
    """

    field: str
    odata: str | None = None
    param: str | None = None
    operators: tuple[Operator, ...]
    format: Literal["string", "datetime", "boolean"] = "string"

    @model_validator(mode="after")
    def _check(self) -> Filter:
        if (self.odata is None) == (self.param is None):
            raise ValueError(f"filter on {self.field!r}: give exactly one of odata, param")
        return self


class Order(_Model):
    """The order a method lists rows in, so `ORDER BY field DESC LIMIT n` can stop early."""

    field: str
    descending: bool = True


class LongRunning(_Model):
    """How a method's long-running operation is followed (the AWAIT hint), as data.

    An answer with one of `statuses` (ARM: 200, 201 or 202) that holds a `headers` link
    starts polling (the first header present wins); one without a link is the result; polling ends on a `done` status, on a `terminal` value of `state_field`,
    or on a 200 without one. With `reread`, that method is called with the same params
    when it ends, so the result is the changed object rather than the operation's status.
    """

    statuses: tuple[int, ...] = (200, 201, 202)
    headers: tuple[str, ...]  # response headers holding the link to poll, in order
    state_field: str = "status"
    terminal: tuple[str, ...] = ("succeeded", "failed", "canceled", "cancelled")
    done: tuple[int, ...] = (200, 204)  # a poll with this status and no state has ended
    reread: str | None = None  # a method of the same resource to read the result with

    @model_validator(mode="after")
    def _check(self) -> LongRunning:
        if not self.headers:
            raise ValueError("long_running needs the headers that hold the link to poll")
        return self


class Method(_Model):
    """One API operation on a resource, reached by SELECT or EXEC."""

    name: str
    description: str = ""
    access: tuple[Literal["select", "exec"], ...]
    http_method: Literal["GET", "POST", "PATCH", "PUT", "DELETE"]
    path: str  # relative to the provider's base URL, with {param} holes
    params: tuple[Param, ...] = ()
    rows: str = "$"  # where the rows are: "$" (the body), "$.value", "$.runs"
    lift: str | None = None  # an object whose fields are lifted to the row's top level
    paginator: Paginator = Paginator.model_construct(type="none")  # no validator built at import
    body: Literal["none", "params", "json"] = "none"  # body from body params, or from @@json
    filters: tuple[Filter, ...] = ()  # fields the API filters on (pushdown)
    filter_param: str | None = None  # the query param holding a filter expression ($filter)
    top_param: str | None = None  # caps the rows of the whole series ($top)
    order: Order | None = None  # the order rows are listed in, when the API documents it
    long_running: LongRunning | None = None  # may answer 201/202 with an operation to follow
    headers: dict[str, str] = {}  # sent with every request of this method (after the provider's)
    statuses: tuple[int, ...] = ()  # the success statuses its API documents; () = any 2xx

    @model_validator(mode="after")
    def _check(self) -> Method:
        names = [p.name for p in self.params]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"method {self.name!r}: duplicate params {sorted(dupes)}")
        holes = set(template_holes(self.path))
        path_params = {p.name for p in self.params if p.location == "path"}
        if holes != path_params:
            raise ValueError(
                f"method {self.name!r}: path holes {sorted(holes)} != path params "
                f"{sorted(path_params)}"
            )
        if not self.rows.startswith("$"):
            raise ValueError(f"method {self.name!r}: rows must be a path like '$.value'")
        return self

    @property
    def required(self) -> list[Param]:
        """Params the user must give (those with a default, here or in the environment, are filled in)."""
        return [p for p in self.params if p.required and not _has_default(p)]

    @property
    def optional(self) -> list[Param]:
        return [p for p in self.params if not (p.required and not _has_default(p))]

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


class ErrorShape(_Model):
    """Where a provider's error body keeps its code and message (dotted paths)."""

    code: str | None = None  # e.g. "error.code", "error_code"; None when there is none
    message: str  # e.g. "error.message", "message", "error"


Status = Literal["queued", "running", "succeeded", "failed", "cancelled", "skipped", "unknown"]


class LogSource(_Model):
    """Where a run's log or output is read, for `df.runs.logs()`.

    `method` is an EXEC method called once per run; its answer holds either `link`, a
    column with a URL to the log text (fetched without credentials: it is another host),
    or `text`, a column (or dotted prefix of columns) holding the text itself.
    """

    method: str
    link: str | None = None
    text: str | None = None

    @model_validator(mode="after")
    def _one(self) -> LogSource:
        if (self.link is None) == (self.text is None):
            raise ValueError("a log source names exactly one of `link` or `text`")
        return self


class RunShape(_Model):
    """Where a resource keeps what every run has, for `df.runs.normalize()`.

    Each entry names columns of the resource's frame; the first non-null one wins.
    `states` maps a provider state to one common status: the key is the value of the
    `status` columns joined by "/" (e.g. "TERMINATED/SUCCESS"); a key without "/" also
    matches any value of the later columns (e.g. "RUNNING").
    """

    run_id: tuple[str, ...]
    status: tuple[str, ...]
    states: dict[str, Status]
    created_at: tuple[str, ...] = ()
    started_at: tuple[str, ...] = ()
    finished_at: tuple[str, ...] = ()
    duration: tuple[str, ...] = ()  # a duration column; otherwise finished_at - started_at
    error: tuple[str, ...] = ()
    id_params: tuple[str, ...] = ()  # EXEC params a row's run id fills (`runId`, `runID`)
    # columns whose values, joined by "/", name a run's group (task, notebook) for analytics
    group: tuple[str, ...] = ()
    log: LogSource | None = None  # where df.runs.logs() reads a run's log; None: its state


class Resource(_Model):
    """A thing with rows: `provider.service.resource`, its fields and its methods."""

    id: str
    description: str = ""
    fields: tuple[Field, ...]
    methods: tuple[Method, ...]
    runs: RunShape | None = None  # how its rows read as runs, for normalize()
    # columns `SELECT *` shows first, after the scope params (id, status, times, duration);
    # the others follow in catalog order
    leading: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Resource:
        if self.id.count(".") != 2:
            raise ValueError(f"resource id {self.id!r} must be provider.service.resource")
        tops = {f.name for f in self.fields} | {p.name for m in self.methods for p in m.params}
        unknown = [name for name in self.leading if name.split(".")[0] not in tops]
        if unknown:
            raise ValueError(f"resource {self.id!r}: leading columns {unknown} are not fields or params")
        if not self.methods:
            raise ValueError(f"resource {self.id!r} has no methods")
        for method in self.methods:
            lro = method.long_running
            if lro is not None and lro.reread is not None:
                again = self.method(lro.reread)
                if again is None or again.http_method != "GET":
                    raise ValueError(f"{self.id}.{method.name}: reread {lro.reread!r} is not a GET method here")
        return self

    @property
    def provider(self) -> str:
        return self.id.split(".")[0]

    @property
    def service(self) -> str:
        return self.id.split(".")[1]

    @property
    def name(self) -> str:
        return self.id.split(".")[2]

    def method(self, name: str) -> Method | None:
        return next((m for m in self.methods if m.name.lower() == name.lower()), None)

    def methods_for(self, access: Literal["select", "exec"]) -> list[Method]:
        return [m for m in self.methods if access in m.access]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


class Provider(_Model):
    """A provider: its base URL, how it authenticates, and its resources."""

    name: str
    title: str
    description: str = ""
    base_url: str  # may hold {param} holes filled from host params
    endpoint_env: str  # environment variable that replaces the base URL
    auth: Auth
    error: ErrorShape
    headers: dict[str, str] = {"Accept": "application/json"}  # sent with every request
    secret_query: tuple[str, ...] = ()  # query params whose values are secrets (redacted)
    resources: tuple[Resource, ...] = PydanticField(default=())

    @model_validator(mode="after")
    def _check(self) -> Provider:
        holes = template_holes(self.base_url)
        for name in holes:
            for resource in self.resources:
                for method in resource.methods:
                    param = method.param(name)
                    if param is None or param.location != "host" or param.host is None:
                        raise ValueError(
                            f"{resource.id}.{method.name}: base URL hole {{{name}}} needs a host param with a host rule"
                        )
        for resource in self.resources:
            if resource.provider != self.name:
                raise ValueError(f"resource {resource.id!r} is not under provider {self.name!r}")
        return self


def _has_default(param: Param) -> bool:
    return param.default is not None or bool(param.default_env and os.environ.get(param.default_env))


def template_holes(template: str) -> list[str]:
    """The `{name}` holes of a path or URL template, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]
