"""mkdocs hook: the resource pages, and a few tables, generated from the code at build time.

Nothing here is written twice: every resource page comes from `runs_pandas.catalog`
(fields through the same `describe()` that answers `DESCRIBE`), the example queries use
the scopes the sandbox serves, and the settings tables come from `Settings` and the
`RunsSql` magic.

- `on_config` lists one nav entry per resource under the section that holds
  `resources/index.md`.
- `on_files` adds `resources/index.md` and `resources/<resource id>.md` as generated files.
- `on_page_markdown` replaces `<!-- generated:NAME -->` markers in hand-written pages
  (`settings`, `magic-config`, `credentials`).
"""

from __future__ import annotations

import html
import sys
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the hooks' shared nav.py
from nav import under_index  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # build from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from runs_pandas.catalog import Field, FieldType, Method, Param, Provider, Resource, catalog
from runs_pandas.discovery import describe

RESOURCES_DIR = "resources"
INDEX = f"{RESOURCES_DIR}/index.md"


def page_path(resource_id: str) -> str:
    return f"{RESOURCES_DIR}/{resource_id}.md"


# -- markdown helpers -----------------------------------------------------------------------


def text(value: object) -> str:
    """Prose for a table cell: HTML-escaped, markdown specials escaped, one line."""
    out = html.escape(" ".join(str(value).split()), quote=False)
    for ch in "\\`*_[]|":
        out = out.replace(ch, "\\" + ch)
    return out


def code(value: object) -> str:
    """A code span for a table cell (a `|` inside would split the cell)."""
    body = str(value).replace("|", "\\|")
    fence = "``" if "`" in body else "`"
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def values(items: Any) -> str:
    return ", ".join('`""`' if v == "" else code(v) for v in items)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def sql_string(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


# -- examples that work on the sandbox ---------------------------------------------------------


Scope = tuple[tuple[str, str], ...]  # one request scope: (param, value) pairs


@cache
def sandbox_scopes() -> tuple[tuple[Scope, ...], ...]:
    """Every list of request scopes the sandbox serves (the sandbox's provider keys dropped).

    The Sandbox is only constructed for its scopes: it is not started and serves nothing.
    """
    from runs_pandas.sandbox import Sandbox

    lists = Sandbox(acr_runs=0, databricks_runs=0, airplane_runs=0).scopes().values()
    return tuple(tuple(tuple(scope.items()) for scope in scopes) for scopes in lists)


def list_method(resource: Resource) -> Method:
    """The SELECT method a plain listing uses: the one with the fewest required params."""
    return min(resource.methods_for("select"), key=lambda m: len(m.required))


def scopes_for(method: Method) -> list[dict[str, str]]:
    """Sandbox scopes that address `method`: their keys are its params, and cover the required."""
    names = {p.name for p in method.params}
    required = {p.name for p in method.required}
    for scopes in sandbox_scopes():
        keys = {k for k, _ in scopes[0]} if scopes else set()
        if keys and keys <= names and required <= keys:
            return [dict(scope) for scope in scopes]
    return []


def example_parts(resource: Resource) -> tuple[list[str], list[str]]:
    """The grouping columns and WHERE conjuncts of the sandbox example of `resource`."""
    method = list_method(resource)
    scopes = scopes_for(method)[:2]
    pinned = [p.name for p in method.required]
    if not pinned and scopes:
        pinned = [next(iter(scopes[0]))]
    where: list[str] = []
    group: list[str] = []
    for name in pinned:
        seen = list(dict.fromkeys(scope[name] for scope in scopes if name in scope))
        if len(seen) == 1:
            where.append(f"{name} = {sql_string(seen[0])}")
        elif seen:
            where.append(f"{name} IN ({', '.join(sql_string(v) for v in seen)})")
            group.append(name)
    return group, where


def _where(where: list[str]) -> list[str]:
    return ["WHERE " + "\n  AND ".join(where)] if where else []


def example_sql(resource: Resource) -> str:
    """A SELECT over `resource` that works on the sandbox: runs per pinned scope and status."""
    group, where = example_parts(resource)
    status = list(resource.runs.status) if resource.runs else []
    columns = group + status + ["count(*) AS runs"]
    lines = [f"SELECT {', '.join(columns)}", f"FROM {resource.id}", *_where(where)]
    if len(columns) > 1:
        lines += ["GROUP BY ALL", "ORDER BY ALL"]
    return "\n".join(lines)


def example_select_all(resource: Resource) -> str:
    """Every column of the same rows as `example_sql`."""
    _, where = example_parts(resource)
    return "\n".join(["SELECT *", f"FROM {resource.id}", *_where(where)])


def select_example(resource: Resource, method: Method) -> str:
    pins = [f"{p.name} = :{_placeholder(p.name)}" for p in method.required]
    return "\n".join([f"SELECT * FROM {resource.id}", *_where(pins)])


def exec_example(resource: Resource, method: Method) -> str:
    args = [f"@{p.name} = :{_placeholder(p.name)}" for p in method.required]
    if method.body == "json":
        body_params = [p for p in method.params if p.location == "body"]
        fields = ", ".join(f'"{p.name}": ' + _json_sample(p) for p in body_params)
        args.append(f"@@json = '{{{fields}}}'")
    else:
        args += [
            f"@{p.name} = :{_placeholder(p.name)}" for p in method.optional if p.location == "body"
        ]
    prefix = "/*+ AWAIT */ " if method.long_running else ""
    head = f"{prefix}EXEC {resource.id}.{method.name}"
    if len(args) <= 1:
        return " ".join([head, *args])
    return head + "\n     " + ",\n     ".join(args)


def _placeholder(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).strip("_") or "value"


def _json_sample(param: Param) -> str:
    return {"boolean": "true", "integer": "1"}.get(param.type, '"..."')


# -- pages ---------------------------------------------------------------------------------


def constraints(param: Param) -> str:
    parts = []
    if param.default is not None:
        parts.append(f"default {code(param.default)}")
    if param.enum:
        parts.append(f"one of {values(param.enum)}")
    if param.minimum is not None:
        parts.append(f"≥ {param.minimum}")
    if param.maximum is not None:
        parts.append(f"≤ {param.maximum}")
    if param.min_length is not None:
        parts.append(f"at least {param.min_length} characters")
    if param.max_length is not None:
        parts.append(f"at most {param.max_length} characters")
    if param.pattern is not None:
        parts.append(f"matches {code(param.pattern)}")
    return "; ".join(parts)


def paging(method: Method) -> str:
    p = method.paginator
    if p.type == "next_link":
        return f"follows the absolute link in {code(p.next_field)}"
    if p.type == "token":
        return f"sends {code(p.next_field)} back as {code(p.token_param)}"
    if p.type == "page_number":
        return (
            f"{code(p.page_param)} from {p.first_page}, {code(p.size_param)} per page "
            f"(the API's default {p.default_size}) until a short page"
        )
    return "one response"


def rows_text(method: Method) -> str:
    where = "the body itself" if method.rows == "$" else code(method.rows)
    if method.lift:
        where += f"; the fields of {code(method.lift)} are lifted to the top level"
    return where


def provider_section(provider: Provider) -> list[str]:
    auth = provider.auth
    sources = []
    for source in auth.sources:
        if source.type == "env":
            sources.append(f"the environment variable {code(source.env)}")
        elif source.type == "azure_identity":
            sources.append(
                f"azure-identity's `DefaultAzureCredential` (scope {code(source.scope)})"
            )
        elif source.type == "databrickscfg":
            sources.append("the `token` of a `~/.databrickscfg` profile")
    header = f"{code(auth.header)}: " + (
        f"`{auth.scheme} <secret>`" if auth.scheme else "the bare secret"
    )
    extra = "".join(
        f"; {code(h)} from {code(env)} when set" for h, env in auth.extra_headers.items()
    )
    return [
        f"- **Provider**: {provider.title} (`{provider.name}`). {text(provider.description)}",
        (
            f"- **Base URL**: {code(provider.base_url)}, replaced by {code(provider.endpoint_env)} "
            f"or `Session(endpoints=...)`."
        ),
        (
            f"- **Credentials**: {', then '.join(sources)}; sent as {header}{extra}. "
            f"See [Credentials and endpoints](../credentials.md)."
        ),
    ]


def enums(resource: Resource) -> dict[str, tuple[str, ...]]:
    """Known values per field, under the names DESCRIBE gives (`a.b`, `list[].c`)."""
    found: dict[str, tuple[str, ...]] = {}

    def walk(field: Field, prefix: str) -> None:
        name = f"{prefix}{field.name}"
        if field.type is FieldType.OBJECT:
            for child in field.children:
                walk(child, f"{name}.")
            return
        found[name] = field.enum
        for child in field.children:
            walk(child, f"{name}[].")

    for field in resource.fields:
        walk(field, "")
    return found


def resource_page(resource: Resource) -> str:
    cat = catalog()
    provider = cat.provider_of(resource)
    out = [
        f"# `{resource.id}`",
        "",
        "<!-- Generated from runs_pandas.catalog by docs/_hooks/catalog_pages.py; do not edit. -->",
        "",
        text(resource.description),
        "",
        *provider_section(provider),
        "",
        "## Example",
        "",
        "This works as written against the [sandbox](../sandbox.md) "
        "(`SHOW METHODS IN " + resource.id + "` and `DESCRIBE " + resource.id + "` list the "
        "same methods and fields as this page):",
        "",
        "```sql",
        example_sql(resource),
        "```",
        "",
        "```python",
        "import runs_pandas as rp",
        "",
        "session = rp.Session(sandbox=True)",
        f'runs = rp.query("""\n{example_select_all(resource)}\n""", session=session)',
        "runs.runs.normalize().runs.summary()      # the df.runs accessor",
        "```",
        "",
        "## Fields",
        "",
        "One column per row below (`DESCRIBE " + resource.id + "` gives the same table). "
        "Nested objects become dotted columns; `name[].child` is a field of the elements of "
        'the list column `name` (open it with `df.runs.explode("name")`). '
        "Known values are the ones the API documents; it may send others.",
        "",
    ]
    rows = describe(resource.id).to_dict("records")
    known = enums(resource)
    out.append(
        table(
            ["field", "type", "description", "known values"],
            [
                [
                    code(r["field"]),
                    code(r["type"]),
                    text(r["description"]),
                    values(known.get(r["field"], ())),
                ]
                for r in rows
            ],
        )
    )
    out += [
        "",
        (
            "The values of the params that chose each request (those pinned in WHERE) are "
            "columns too; fields the catalog does not know still become columns."
        ),
        "",
        "## Methods",
        "",
        table(
            ["method", "access", "request", "required", "optional", "description"],
            [
                [
                    f"[`{m.name}`](#{m.name.lower()})",
                    ", ".join(a.upper() for a in m.access),
                    f"`{m.http_method} {m.path}`",
                    ", ".join(code(p.name) for p in m.required),
                    ", ".join(code(p.name) for p in m.optional),
                    text(m.description),
                ]
                for m in resource.methods
            ],
        ),
        "",
    ]
    for method in resource.methods:
        out += method_section(resource, method)
    if resource.runs is not None:
        out += runs_section(resource)
    return "\n".join(out) + "\n"


def method_section(resource: Resource, method: Method) -> list[str]:
    out = [f"### {method.name}", "", text(method.description) or "", ""]
    facts = [
        f"- **Request**: `{method.http_method} {{base URL}}{method.path}`",
        f"- **Reached by**: {' and '.join(a.upper() for a in method.access)}",
        f"- **Rows**: {rows_text(method)}",
        f"- **Paging**: {paging(method)}",
    ]
    if method.body == "json":
        facts.append("- **Body**: given as `@@json='{...}'`")
    elif method.body == "params":
        facts.append("- **Body**: a JSON object of the body params")
    if method.long_running:
        facts.append(
            "- **Long-running**: may answer 201/202 with an operation; "
            "`/*+ AWAIT */` follows it to its end"
        )
    out += facts + [""]
    if method.params:
        out.append(
            table(
                ["param", "in", "type", "required", "constraints", "description"],
                [
                    [
                        code(p.name),
                        p.location,
                        p.type,
                        "yes"
                        if p.required and p.default is None
                        else ("filled in" if p.required else "no"),
                        constraints(p),
                        text(p.description),
                    ]
                    for p in method.params
                ],
            )
        )
        out.append("")
    if "select" in method.access:
        out += ["```sql", select_example(resource, method), "```", ""]
    if "exec" in method.access:
        out += ["```sql", exec_example(resource, method), "```", ""]
    return out


def runs_section(resource: Resource) -> list[str]:
    shape = resource.runs
    assert shape is not None
    out = [
        "## Runs: `df.runs.normalize()`",
        "",
        (
            "How [`df.runs.normalize()`](../accessor.md) reads this resource's rows "
            "(the first non-null column of each list wins):"
        ),
        "",
    ]
    roles = [
        ("run_id", shape.run_id),
        ("status", shape.status),
        ("created_at", shape.created_at),
        ("started_at", shape.started_at),
        ("finished_at", shape.finished_at),
        ("duration", shape.duration),
        ("error", shape.error),
    ]
    out.append(
        table(
            ["normalized column", "from"],
            [[code(role), ", ".join(code(c) for c in cols) or "(none)"] for role, cols in roles],
        )
    )
    joined = " / ".join(code(c) for c in shape.status)
    out += [
        "",
        f"States ({joined}"
        + (
            ", joined with `/`; a key without `/` matches any later value"
            if len(shape.status) > 1
            else ""
        )
        + ") map to one common status; any other state becomes `unknown`:",
        "",
        table(["provider state", "status"], [[code(k), code(v)] for k, v in shape.states.items()]),
        "",
    ]
    return out


def index_page() -> str:
    cat = catalog()
    out = [
        "# Resources",
        "",
        "<!-- Generated from runs_pandas.catalog by docs/_hooks/catalog_pages.py; do not edit. -->",
        "",
        (
            "Everything runs_pandas can query, generated from its catalog. `SHOW PROVIDERS`, "
            "`SHOW SERVICES IN provider`, `SHOW RESOURCES IN provider.service`, "
            "`SHOW METHODS IN provider.service.resource` and `DESCRIBE provider.service.resource` "
            "answer the same from a query (see [SQL](../sql.md#show-and-describe))."
        ),
        "",
        "## Providers",
        "",
        table(
            ["provider", "title", "base URL", "endpoint variable"],
            [
                [code(p.name), text(p.title), code(p.base_url), code(p.endpoint_env)]
                for p in cat.providers.values()
            ],
        ),
        "",
        "## Resources",
        "",
        table(
            ["resource", "description", "fields", "methods"],
            [
                [
                    f"[`{r.id}`]({r.id}.md)",
                    text(r.description),
                    str(len(describe(r.id))),
                    ", ".join(f"[`{m.name}`]({r.id}.md#{m.name.lower()})" for m in r.methods),
                ]
                for r in cat.resources.values()
            ],
        ),
        "",
    ]
    return "\n".join(out)


# -- tables for hand-written pages ---------------------------------------------------------------


def settings_table() -> str:
    from runs_pandas.session import Settings

    rows = []
    for name, info in Settings.model_fields.items():
        bounds = []
        for item in info.metadata:
            for op, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
                if getattr(item, op, None) is not None:
                    bounds.append(f"{sign} {getattr(item, op)}")
        rows.append(
            [
                code(name),
                code(getattr(info.annotation, "__name__", info.annotation)),
                code(info.default),
                ", ".join(bounds),
                text(info.description or ""),
            ]
        )
    return table(["setting", "type", "default", "bounds", "meaning"], rows)


def magic_config_table() -> str:
    from runs_pandas.magic import RunsSql

    traits = RunsSql.class_traits(config=True)
    rows = [
        [
            code(f"%config RunsSql.{name} = {trait.default_value!r}"),
            code(type(trait).__name__.lower()),
            text(trait.help),
        ]
        for name, trait in sorted(traits.items())
    ]
    return table(["setting (with its default)", "type", "meaning"], rows)


def credentials_table() -> str:
    rows = []
    for provider in catalog().providers.values():
        auth = provider.auth
        tried = []
        for source in auth.sources:
            if source.type == "env":
                tried.append(code(source.env))
            elif source.type == "azure_identity":
                tried.append("azure-identity `DefaultAzureCredential`")
            elif source.type == "databricks_sdk":
                tried.append("databricks-sdk unified auth (`DATABRICKS_*`, `~/.databrickscfg` profiles)")
        sent = code(auth.header) + (f" `{auth.scheme} …`" if auth.scheme else "")
        sent += "".join(f", {code(h)} from {code(env)}" for h, env in auth.extra_headers.items())
        scope = "one for every request"
        if auth.scope is not None:
            scope = f"{auth.scope.name}, chosen by {code(auth.scope.param)}"
            if auth.scope.required:
                scope += " (required)"
        rows.append(
            [
                code(provider.name),
                " then ".join(tried),
                sent,
                scope,
                f"{code(provider.base_url)}, or {code(provider.endpoint_env)}",
            ]
        )
    return table(
        ["provider", "credentials, tried in order", "sent as", "a credential serves", "base URL, or its override"],
        rows,
    )


GENERATED = {
    "settings": settings_table,
    "magic-config": magic_config_table,
    "credentials": credentials_table,
}


# -- mkdocs events -----------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    """List the generated resource pages in the nav, under the section holding the index."""
    entries = [{r.id: page_path(r.id)} for r in catalog().resources.values()]
    return under_index(config, INDEX, entries, "Resources")


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    pages = {INDEX: index_page()}
    for resource in catalog().resources.values():
        pages[page_path(resource.id)] = resource_page(resource)
    for uri, content in pages.items():
        existing = files.get_file_from_path(uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for name, make in GENERATED.items():
        marker = f"<!-- generated:{name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
