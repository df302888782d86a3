"""The catalog agrees with the providers' own descriptions of their APIs.

The truth lives in `tests/data/specs` (copied into the repository, see its README): the ACR Tasks swagger
(2019-06-01-preview), the Airplane OpenAPI files, and the Databricks ENDPOINT.md summary.
Each spec is turned into the field tree and the methods the catalog *should* hold by one
generic mapping, and the catalog is compared with it. A mismatch names the resource, the
field or parameter (dotted), and both values.

Mapping of a (swagger 2.0 / OpenAPI 3.0) schema to a catalog field:

- `properties` (also through `allOf` and `$ref`)      -> "object", children in the spec's order
- `type: object` with only `additionalProperties`     -> "map"
- `type: array`                                       -> "array", `items` = the element's type,
                                                         children = the element's fields
- `type: string`, `format: date-time`                 -> "datetime"
- `type: string` whose `example` is a timestamp       -> "datetime" (Airplane declares its times
                                                         as bare strings with timestamp examples)
- `type: integer` (int32/int64) / number / boolean    -> "integer" / "number" / "boolean"
- no `type`                                           -> "any"
- `enum`                                              -> copied into `enum`
- a `$ref` met again inside its own expansion (Airplane's `Parameter.params`/`values`) is not
  expanded again: an object becomes "any", an array keeps `items: "object"` and no children.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from runs_pandas.catalog import Field, Method, Provider, Resource, catalog

# --------------------------------------------------------------------------------------
# Where the specs are


SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"


@pytest.fixture(scope="module")
def specs() -> Path:
    return SPECS


@cache
def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def acr(specs: Path) -> dict[str, Any]:
    return _json(specs / "azure" / "containerregistry_build.json")


@pytest.fixture(scope="module")
def airplane(specs: Path) -> dict[str, Any]:
    return _yaml(specs / "airplane" / "openapi.yaml")


@pytest.fixture(scope="module")
def airplane_earlier(specs: Path) -> dict[str, Any]:
    return _yaml(specs / "airplane" / "earlier-a5863d4" / "openapi.yaml")


@pytest.fixture(scope="module")
def databricks_md(specs: Path) -> str:
    return (specs / "databricks" / "ENDPOINT.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# Generic: schema -> expected field tree, and tree comparison

# A field tree is a plain dict: {name, type, items, enum, children}. Descriptions are not
# compared (the catalog shortens them).


def _node(
    name: str,
    type_: str,
    *,
    items: str | None = None,
    enum: tuple[str, ...] = (),
    children: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "items": items,
        "enum": tuple(enum),
        "children": tuple(children),
    }


def _deref(root: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Follow `$ref`s; return the target schema and the names of the refs followed."""
    refs: list[str] = []
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), f"only local refs are expected, got {ref!r}"
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        refs.append(ref)
        schema = target
    return schema, refs


def _properties(root: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema's properties, those of its `allOf` parts first, in the spec's order."""
    schema, _ = _deref(root, schema)
    found: dict[str, Any] = {}
    for part in schema.get("allOf", ()):
        found.update(_properties(root, part))
    found.update(schema.get("properties", {}))
    return found


def _is_timestamp(example: Any) -> bool:
    if isinstance(example, dt.datetime):  # YAML already read it as a timestamp
        return True
    if isinstance(example, str) and re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", example):
        try:
            dt.datetime.fromisoformat(example)
        except ValueError:
            return False
        return True
    return False


def _scalar_type(schema: dict[str, Any], example: Any = None) -> str:
    type_ = schema.get("type")
    if type_ == "string":
        if schema.get("format") == "date-time":
            return "datetime"
        if "format" not in schema and _is_timestamp(schema.get("example", example)):
            return "datetime"
        return "string"
    return {"integer": "integer", "number": "number", "boolean": "boolean"}.get(type_ or "", "any")


def expected_field(
    root: dict[str, Any], name: str, schema: dict[str, Any], stack: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The catalog field a swagger/OpenAPI property should become."""
    target, refs = _deref(root, schema)
    if any(ref in stack for ref in refs):
        return _node(name, "any")  # recursive: not expanded again
    stack = stack + tuple(refs)
    props = _properties(root, target)
    if props:
        return _node(
            name,
            "object",
            children=tuple(expected_field(root, child, sub, stack) for child, sub in props.items()),
        )
    if target.get("type") == "object" and "additionalProperties" in target:
        return _node(name, "map")
    if target.get("type") == "array":
        item_schema = target["items"]
        _, item_refs = _deref(root, item_schema)
        if any(ref in stack for ref in item_refs):
            return _node(name, "array", items="object")
        item = expected_field(root, "[]", item_schema, stack)
        return _node(name, "array", items=item["type"], children=item["children"])
    return _node(name, _scalar_type(target), enum=tuple(str(v) for v in target.get("enum", ())))


def expected_fields(
    root: dict[str, Any], schema: dict[str, Any], lift: str | None = None
) -> list[dict[str, Any]]:
    """The fields of a row schema; the `lift` object's fields take its place."""
    _, refs = _deref(root, schema)
    fields = []
    for name, sub in _properties(root, schema).items():
        if name == lift:
            fields.extend(expected_fields(root, sub))
        else:
            fields.append(expected_field(root, name, sub, tuple(refs)))
    return fields


def catalog_tree(field: Field) -> dict[str, Any]:
    return _node(
        field.name,
        str(field.type),
        items=str(field.items) if field.items is not None else None,
        enum=field.enum,
        children=tuple(catalog_tree(c) for c in field.children),
    )


def compare_fields(
    where: str,
    expected: list[dict[str, Any]] | tuple[dict[str, Any], ...],
    actual: list[dict[str, Any]] | tuple[dict[str, Any], ...],
    prefix: str = "",
) -> list[str]:
    """Every difference between two field lists, named by dotted field path."""
    problems: list[str] = []
    want = [f["name"] for f in expected]
    have = [f["name"] for f in actual]
    label = prefix.rstrip(".") or "(top level)"
    for missing in [n for n in want if n not in have]:
        problems.append(f"{where}: field {prefix}{missing}: in the spec, missing from the catalog")
    for extra in [n for n in have if n not in want]:
        problems.append(f"{where}: field {prefix}{extra}: in the catalog, not in the spec")
    common_want = [n for n in want if n in have]
    common_have = [n for n in have if n in want]
    if common_want != common_have:
        problems.append(
            f"{where}: field order under {label}: spec {common_want} != catalog {common_have}"
        )
    by_name = {f["name"]: f for f in actual}
    for exp in expected:
        act = by_name.get(exp["name"])
        if act is None:
            continue
        dotted = f"{prefix}{exp['name']}"
        for key in ("type", "items", "enum"):
            if exp[key] != act[key]:
                problems.append(
                    f"{where}: field {dotted}: {key}: spec {exp[key]!r} != catalog {act[key]!r}"
                )
        problems.extend(compare_fields(where, exp["children"], act["children"], f"{dotted}."))
    return problems


def row_schema(root: dict[str, Any], response: dict[str, Any], rows: str) -> dict[str, Any]:
    """The schema of one row: follow `$.a.b` through properties, then an array's items."""
    schema, _ = _deref(root, response)
    for part in [p for p in rows.removeprefix("$").split(".") if p]:
        schema = _properties(root, schema)[part]
        schema, _ = _deref(root, schema)
    if schema.get("type") == "array":
        return schema["items"]
    return response if rows == "$" else schema


def _same_schema(root: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _deref(root, a)[0] is _deref(root, b)[0]


# -- parameters

_PARAM_KEYS = (
    "location",
    "type",
    "required",
    "enum",
    "minimum",
    "maximum",
    "pattern",
    "min_length",
    "max_length",
)


def expected_param(
    name: str,
    location: str,
    schema: dict[str, Any],
    required: bool,
    example: Any = None,
    description: str = "",
) -> dict[str, Any]:
    """A swagger/OpenAPI parameter as the catalog should state it."""
    type_ = _scalar_type(schema, example)
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    # The Airplane spec states bounds only in prose: "Accepted values: 0 - 50."
    bounds = re.search(r"Accepted values: (\d+) - (\d+)", description or "")
    if bounds and minimum is None and maximum is None:
        minimum, maximum = int(bounds.group(1)), int(bounds.group(2))
    return {
        "name": name,
        "location": location,
        "type": type_,
        "required": bool(required),
        "enum": tuple(str(v) for v in schema.get("enum", ())),
        "minimum": minimum,
        "maximum": maximum,
        "pattern": schema.get("pattern"),
        "min_length": schema.get("minLength"),
        "max_length": schema.get("maxLength"),
    }


def compare_params(where: str, expected: list[dict[str, Any]], method: Method) -> list[str]:
    problems: list[str] = []
    have = {p.name: p for p in method.params}
    for exp in expected:
        param = have.get(exp["name"])
        if param is None:
            problems.append(f"{where}: param {exp['name']}: in the spec, missing from the catalog")
            continue
        for key in _PARAM_KEYS:
            got = getattr(param, key)
            got = tuple(got) if isinstance(got, tuple) else got
            if exp[key] != got:
                problems.append(
                    f"{where}: param {exp['name']}: {key}: spec {exp[key]!r} != catalog {got!r}"
                )
    # X-Team-ID is not in Airplane's OpenAPI file; its CLI sends it with every API key
    # (shared/specs/README.md), so the catalog has it as the team scope's header param
    outside = {"teamID"} if where.startswith("airplane.") and have.get("teamID") is not None \
        and have["teamID"].wire == "X-Team-ID" else set()
    for extra in sorted(set(have) - {e["name"] for e in expected} - outside):
        problems.append(f"{where}: param {extra}: in the catalog, not in the spec")
    return problems


def _report(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} mismatch(es):\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------------------
# Azure Container Registry Tasks (swagger 2.0)

ACR_ID = "azure.container_registry.runs"

# ARM's standard systemData (common-types `types.json`, v2+). ARM returns it on every
# resource; the 2019-06-01-preview swagger predates it and does not declare it, so the
# catalog adds it after the ProxyResource fields and it is checked against this schema.
_CREATED_BY_TYPE = ["User", "Application", "ManagedIdentity", "Key"]
ARM_SYSTEM_DATA = {
    "type": "object",
    "properties": {
        "createdBy": {"type": "string"},
        "createdByType": {"type": "string", "enum": _CREATED_BY_TYPE},
        "createdAt": {"type": "string", "format": "date-time"},
        "lastModifiedBy": {"type": "string"},
        "lastModifiedByType": {"type": "string", "enum": _CREATED_BY_TYPE},
        "lastModifiedAt": {"type": "string", "format": "date-time"},
    },
}


def _swagger_ops(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    ops = {}
    for path, item in spec["paths"].items():
        for verb, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                ops[op["operationId"]] = (verb.upper(), path, op)
    return ops


def _swagger_params(spec: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    """The op's params; a body param's object properties become `body` params."""
    params = []
    for raw in op.get("parameters", ()):
        param, _ = _deref(spec, raw)
        if param["in"] == "body":
            body, _ = _deref(spec, param["schema"])
            required = set(body.get("required", ()))
            for name, sub in _properties(spec, body).items():
                params.append(expected_param(name, "body", _deref(spec, sub)[0], name in required))
        else:
            params.append(
                expected_param(
                    param["name"],
                    param["in"],
                    param,
                    param.get("required", False),
                    description=param.get("description", ""),
                )
            )
    return params


def _acr() -> tuple[Provider, Resource]:
    resource = catalog().resource(ACR_ID)
    return catalog().provider_of(resource), resource


def test_acr_fields_match_swagger(acr: dict[str, Any]) -> None:
    _, resource = _acr()
    select = resource.methods_for("select")[0]
    run = {"$ref": "#/definitions/Run"}
    expected = expected_fields(acr, run, lift=select.lift)
    names = [f["name"] for f in expected]
    assert names[:3] == ["id", "name", "type"], names
    expected.insert(3, expected_field(acr, "systemData", ARM_SYSTEM_DATA))
    assert len(expected) == 26
    actual = [catalog_tree(f) for f in resource.fields]
    _report(compare_fields(ACR_ID, expected, actual))


def test_acr_system_data_is_explained() -> None:
    _, resource = _acr()
    system_data = resource.field("systemData")
    assert system_data is not None
    assert "swagger" in system_data.description and "2019" in system_data.description


def test_acr_methods_match_swagger(acr: dict[str, Any]) -> None:
    _, resource = _acr()
    ops = _swagger_ops(acr)
    runs_ops = {op_id for op_id in ops if op_id.startswith("Runs_")}
    assert {m.name for m in resource.methods} == runs_ops
    problems: list[str] = []
    for method in resource.methods:
        where = f"{ACR_ID}.{method.name}"
        verb, path, op = ops[method.name]
        if method.http_method != verb:
            problems.append(
                f"{where}: http_method: spec {verb!r} != catalog {method.http_method!r}"
            )
        if method.path != path:
            problems.append(f"{where}: path: spec {path!r} != catalog {method.path!r}")
        problems.extend(compare_params(where, _swagger_params(acr, op), method))
        api_version = method.param("api-version")
        if api_version is None or api_version.default != acr["info"]["version"]:
            problems.append(
                f"{where}: param api-version: default: spec "
                f"{acr['info']['version']!r} != catalog "
                f"{api_version.default if api_version else None!r}"
            )
        long_running = bool(op.get("x-ms-long-running-operation", False))
        if (method.long_running is not None) != long_running:
            problems.append(
                f"{where}: long_running: spec {long_running!r} != catalog {method.long_running!r}"
            )
        elif method.long_running is not None:
            documented = {int(s) for s in op["responses"] if s.isdigit()}
            if set(method.long_running.statuses) != documented:
                problems.append(
                    f"{where}: long_running statuses {method.long_running.statuses} are not the "
                    f"operation's documented statuses {sorted(documented)}"
                )
        has_body = any(_deref(acr, p)[0]["in"] == "body" for p in op.get("parameters", ()))
        if (method.body != "none") != has_body:
            problems.append(
                f"{where}: body: spec has a body: {has_body!r}, catalog {method.body!r}"
            )
        pageable = op.get("x-ms-pageable")
        want_pager = (
            ("next_link", pageable.get("nextLinkName", "nextLink")) if pageable else ("none", None)
        )
        got_pager = (method.paginator.type, method.paginator.next_field)
        if want_pager != got_pager:
            problems.append(f"{where}: paginator: spec {want_pager!r} != catalog {got_pager!r}")
        # rows: where the response puts the rows, and the lifted object exists there
        ok = {c: r for c, r in op["responses"].items() if c.startswith("2")}
        schemas = [r["schema"] for r in ok.values() if "schema" in r]
        for schema in schemas:
            try:
                row = row_schema(acr, schema, method.rows)
            except KeyError as exc:
                problems.append(f"{where}: rows {method.rows!r}: no {exc} in the response")
                continue
            if "select" in method.access and not _same_schema(
                acr, row, {"$ref": "#/definitions/Run"}
            ):
                problems.append(f"{where}: rows {method.rows!r} is not a Run")
            if method.lift and method.lift not in _properties(acr, row):
                problems.append(f"{where}: lift {method.lift!r}: not a property of the row")
        if not schemas and (method.lift or method.rows != "$"):
            problems.append(
                f"{where}: the response has no body, but rows={method.rows!r} lift={method.lift!r}"
            )
    _report(problems)


def test_acr_provider_matches_swagger(acr: dict[str, Any]) -> None:
    provider, _ = _acr()
    assert provider.base_url == f"https://{acr['host']}{acr.get('basePath', '/').rstrip('/')}"
    security = acr["securityDefinitions"]["azure_auth"]
    assert security["type"] == "oauth2"
    assert (provider.auth.header, provider.auth.scheme) == ("Authorization", "Bearer")
    # the error body: {"error": {"code", "message", ...}}
    error = {"$ref": "#/definitions/ErrorResponse"}
    for dotted in (provider.error.code, provider.error.message):
        assert dotted is not None
        schema: dict[str, Any] = error
        for part in dotted.split("."):
            schema = _properties(acr, schema)[part]


# --------------------------------------------------------------------------------------
# Airplane (OpenAPI 3.0)

AIRPLANE_ID = "airplane.runs.runs"
GET_RUN = {"$ref": "#/components/schemas/GetRunResponse"}


def _openapi_ops(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return _swagger_ops(spec)


def _openapi_params(spec: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    params = []
    for raw in op.get("parameters", ()):
        param, _ = _deref(spec, raw)
        params.append(
            expected_param(
                param["name"],
                param["in"],
                param.get("schema", {}),
                param.get("required", False),
                param.get("example"),
                param.get("description", ""),
            )
        )
    body = op.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        props = _properties(spec, schema)
        required = set(_deref(spec, schema)[0].get("required", ()))
        for name, sub in props.items():
            # A required body with a single property cannot be sent without it.
            must = name in required or (body.get("required", False) and len(props) == 1)
            sub, _ = _deref(spec, sub)
            params.append(expected_param(name, "body", sub, must, sub.get("example")))
    return params


def test_airplane_fields_match_openapi(airplane: dict[str, Any]) -> None:
    resource = catalog().resource(AIRPLANE_ID)
    expected = expected_fields(airplane, GET_RUN)
    actual = [catalog_tree(f) for f in resource.fields]
    _report(compare_fields(AIRPLANE_ID, expected, actual))


def test_airplane_methods_match_openapi(
    airplane: dict[str, Any], airplane_earlier: dict[str, Any]
) -> None:
    resource = catalog().resource(AIRPLANE_ID)
    current, earlier = _openapi_ops(airplane), _openapi_ops(airplane_earlier)
    run_ops = {i for i, (_, path, _) in {**earlier, **current}.items() if path.startswith("/runs/")}
    assert {m.name for m in resource.methods} == run_ops
    problems: list[str] = []
    for method in resource.methods:
        where = f"{AIRPLANE_ID}.{method.name}"
        spec = airplane if method.name in current else airplane_earlier
        verb, path, op = (current if method.name in current else earlier)[method.name]
        if method.http_method != verb:
            problems.append(
                f"{where}: http_method: spec {verb!r} != catalog {method.http_method!r}"
            )
        if method.path != path:
            problems.append(f"{where}: path: spec {path!r} != catalog {method.path!r}")
        problems.extend(compare_params(where, _openapi_params(spec, op), method))
        want_body = "params" if "requestBody" in op else "none"
        if method.body != want_body:
            problems.append(f"{where}: body: spec {want_body!r} != catalog {method.body!r}")
        ok = op.get("responses", {}).get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            if method.rows != "$":
                problems.append(f"{where}: the response has no schema, but rows={method.rows!r}")
            continue
        try:
            row = row_schema(spec, schema, method.rows)
        except KeyError as exc:
            problems.append(f"{where}: rows {method.rows!r}: no {exc} in the response")
            continue
        if "select" in method.access and not _same_schema(spec, row, GET_RUN):
            problems.append(f"{where}: rows {method.rows!r} is not a GetRunResponse")
    _report(problems)


def test_airplane_paging_matches_openapi(airplane: dict[str, Any]) -> None:
    resource = catalog().resource(AIRPLANE_ID)
    method = resource.method("listRuns")
    assert method is not None
    pager = method.paginator
    assert pager.type == "page_number"
    page, size = method.param(pager.page_param or ""), method.param(pager.size_param or "")
    assert page is not None and page.location == "query" and not page.column
    assert size is not None and size.location == "query" and not size.column
    _, _, op = _openapi_ops(airplane)["listRuns"]
    size_doc = next(p for p in op["parameters"] if p["name"] == size.name)["description"]
    default = re.search(r"Default: (\d+)", size_doc)
    assert default, f"listRuns param {size.name}: no 'Default: N' in {size_doc!r}"
    assert int(default.group(1)) == pager.default_size, (
        f"{AIRPLANE_ID}.listRuns: paginator default_size: spec {int(default.group(1))!r} "
        f"!= catalog {pager.default_size!r}"
    )
    assert size.maximum is not None and pager.default_size <= size.maximum


def test_airplane_provider_matches_openapi(airplane: dict[str, Any]) -> None:
    provider = catalog().provider("airplane")
    assert provider.base_url == airplane["servers"][0]["url"]
    schemes = airplane["components"]["securitySchemes"]
    (scheme,) = [s for s in schemes.values() if s["type"] == "apiKey"]
    assert (provider.auth.header, provider.auth.scheme) == (scheme["name"], None)


# --------------------------------------------------------------------------------------
# Databricks (ENDPOINT.md tables)

DATABRICKS_ID = "databricks_workspace.cleanrooms.task_runs"


def _md_sections(text: str) -> dict[str, str]:
    """Markdown heading text -> the section's body."""
    sections: dict[str, str] = {}
    heading = ""
    for line in text.splitlines():
        match = re.match(r"^#{1,6}\s+(.*)$", line)
        if match:
            heading = match.group(1).strip()
            sections[heading] = ""
        else:
            sections[heading] = sections.get(heading, "") + line + "\n"
    return sections


def _md_table(body: str) -> list[dict[str, str]]:
    """The first table of a section, as dicts keyed by the header row."""
    rows = [line.strip() for line in body.splitlines() if line.strip().startswith("|")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    if len(cells) < 2:
        return []
    header = cells[0]
    return [dict(zip(header, row, strict=True)) for row in cells[2:]]


def _unquote(text: str) -> str:
    return text.strip().strip("`")


class _Doc:
    """The parsed ENDPOINT.md: tables by schema name, enum lists, endpoint line."""

    def __init__(self, text: str) -> None:
        self.sections = _md_sections(text)
        self.by_heading: dict[str, list[dict[str, str]]] = {}  # "Path parameter" -> rows
        self.tables: dict[str, list[dict[str, str]]] = {}  # schema name -> rows
        for heading, body in self.sections.items():
            table = _md_table(body)
            if table:
                self.by_heading[heading] = table
                named = re.search(r"`([^`]+)`", heading)
                if named:
                    self.tables[named.group(1)] = table
        self.enums: dict[str, tuple[str, ...]] = {}
        for paragraph in re.split(r"\n\s*\n", text):
            match = re.match(r"^`(\w+)` values:(.*)$", paragraph.strip(), re.DOTALL)
            if match:
                self.enums[match.group(1)] = tuple(re.findall(r"`([^`]+)`", match.group(2)))
        endpoint = re.search(
            r"^`(GET|POST|PATCH|PUT|DELETE) \{workspace_host\}(\S+)`$",
            self.sections["Endpoint"],
            re.MULTILINE,
        )
        assert endpoint, "ENDPOINT.md: no `VERB {workspace_host}/path` line under Endpoint"
        self.verb, self.path = endpoint.group(1), endpoint.group(2)

    def table(self, starts: str) -> list[dict[str, str]]:
        found = [t for name, t in self.by_heading.items() if name.startswith(starts)]
        assert len(found) == 1, (
            f"ENDPOINT.md: one table for {starts!r} expected, found {len(found)}"
        )
        return found[0]

    def field(self, row: dict[str, str]) -> dict[str, Any]:
        name = _unquote(row["field"])
        kind = row.get("JSON type") or row.get("type") or ""
        meaning = row.get("meaning", "")
        ref = re.search(r"`(\w+)`", kind)
        if kind.startswith("object") and ref:
            return _node(name, "object", children=tuple(self.fields(ref.group(1))))
        if kind.startswith("array of") and ref:
            return _node(name, "array", items="object", children=tuple(self.fields(ref.group(1))))
        if kind.startswith("enum"):
            assert name in self.enums, f"ENDPOINT.md: no values listed for enum {name!r}"
            return _node(name, "string", enum=self.enums[name])
        if kind in ("int64", "int32"):
            if "epoch milliseconds" in meaning or "timestamp" in meaning:
                return _node(name, "epoch_ms")
            if meaning.lower().startswith("duration"):
                return _node(name, "duration_ms")
            return _node(name, "integer")
        assert kind == "string", f"ENDPOINT.md: field {name!r} has an unknown type {kind!r}"
        return _node(name, "string")

    def fields(self, schema: str) -> list[dict[str, Any]]:
        return [self.field(row) for row in self.tables[schema]]


def test_databricks_fields_match_endpoint_doc(databricks_md: str) -> None:
    doc = _Doc(databricks_md)
    resource = catalog().resource(DATABRICKS_ID)
    method = resource.methods_for("select")[0]
    # the rows' schema is named by the response table's row for `rows`
    response = doc.table("Response body")
    rows_field = method.rows.removeprefix("$.")
    (row,) = [r for r in response if _unquote(r["field"]) == rows_field]
    element = re.search(r"array of `(\w+)`", row["type"])
    assert element, f"ENDPOINT.md: {rows_field!r} is not an array of a named schema: {row}"
    assert element.group(1) == "CleanRoomNotebookTaskRun"
    expected = doc.fields(element.group(1))
    actual = [catalog_tree(f) for f in resource.fields]
    _report(compare_fields(DATABRICKS_ID, expected, actual))


def test_databricks_method_matches_endpoint_doc(databricks_md: str) -> None:
    doc = _Doc(databricks_md)
    provider = catalog().provider("databricks_workspace")
    resource = catalog().resource(DATABRICKS_ID)
    (method,) = resource.methods
    where = f"{DATABRICKS_ID}.{method.name}"
    assert (method.http_method, method.path) == (doc.verb, doc.path), (
        f"{where}: endpoint: spec {doc.verb} {doc.path} != catalog {method.http_method} "
        f"{method.path}"
    )
    types = {"string": "string", "int32": "integer", "int64": "integer"}
    expected = [
        expected_param(_unquote(r["name"]), "path", {"type": types[r["type"]]}, True)
        for r in doc.table("Path parameter")
    ]
    query_heading = next(h for h in doc.sections if h.startswith("Query parameters"))
    assert "all optional" in query_heading
    expected += [
        expected_param(_unquote(r["name"]), "query", {"type": types[r["type"]]}, False)
        for r in doc.table("Query parameters")
    ]
    # the host template's holes are host params (the doc's {workspace_host}); the scope
    # param may be left out of a query: the configured workspace host fills it
    scope = provider.auth.scope.param if provider.auth.scope else None
    expected += [
        expected_param(hole, "host", {"type": "string"}, hole != scope)
        for hole in re.findall(r"\{(\w+)\}", provider.base_url)
    ]
    _report(compare_params(where, expected, method))
    pager = method.paginator
    response = {_unquote(r["field"]) for r in doc.table("Response body")}
    assert pager.type == "token"
    assert pager.next_field in response, (pager, response)
    token = method.param(pager.token_param or "")
    assert token is not None and token.location == "query" and not token.column
    # error body: {"error_code", "message", "details"}
    errors = doc.sections["Errors"]
    for key in (provider.error.code, provider.error.message):
        assert f'"{key}"' in errors, f"error field {key!r} not in ENDPOINT.md's error body"


# --------------------------------------------------------------------------------------
# The comparison itself reports clearly


def test_mismatch_message_names_field_and_both_values() -> None:
    expected = [_node("platform", "object", children=(_node("os", "string", enum=("Linux",)),))]
    actual = [_node("platform", "object", children=(_node("os", "integer"),))]
    problems = compare_fields("x.y.z", expected, actual)
    assert "x.y.z: field platform.os: type: spec 'string' != catalog 'integer'" in problems
    assert any("platform.os: enum: spec ('Linux',) != catalog ()" in p for p in problems)
