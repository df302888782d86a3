"""Tab completion in `%%runsql` / `%runsql` cells, as an IPython (Matcher API v2) matcher.

What is offered depends on where the cursor is:

- after `--` on the magic's line: the magic's options;
- after FROM / JOIN: resource ids one dotted part at a time, and DataFrames of the notebook;
- after EXEC: resource ids, then the methods reached by EXEC;
- `@` in an EXEC: the method's params; `:` anywhere: notebook variables (placeholders);
- elsewhere in the SQL (SELECT, WHERE, ON, BY, ...): the columns, dotted ones included, of
  the resources and frames the cell names, and after WHERE / AND / OR their params too.

Everything comes from the catalog and the namespace; nothing is sent anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from IPython.core.completer import (
    CompletionContext,
    SimpleCompletion,
    SimpleMatcherResult,
    context_matcher,
)

from runs_pandas.catalog import Catalog, Method, Resource, catalog

_MAGIC = re.compile(r"^\s*%%?runsql\b")
_FRAGMENT = re.compile(r"[:@]?-{0,2}[A-Za-z0-9_$.\-]*$")
_KEYWORD = re.compile(
    r"\b(SELECT|FROM|JOIN|EXEC|EXECUTE|WHERE|AND|OR|ON|BY|HAVING|USING|SET|IN|DESCRIBE|DESC)\b",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def install(shell: Any) -> None:
    """Add the matcher to the shell's completer (once)."""
    matchers = shell.Completer.custom_matchers
    if runsql_matcher not in matchers:
        matchers.append(runsql_matcher)


@context_matcher()  # type: ignore[untyped-decorator]
def runsql_matcher(context: CompletionContext) -> SimpleMatcherResult:
    """The completions for the cursor's place in a `%%runsql` cell or `%runsql` line."""
    from IPython import get_ipython

    shell = get_ipython()
    namespace: Mapping[str, Any] = shell.user_ns if shell is not None else {}
    before = _text_before_cursor(context)
    if before is None:
        return {"completions": [], "suppress": False}
    magic_line, sql, whole = before
    fragment = _FRAGMENT.search(sql if sql is not None else magic_line)
    word = fragment.group(0) if fragment else ""
    if sql is None or (not sql.strip() and word.startswith("-")):
        texts = option_names() if word.startswith("-") else []
        if not texts:
            return {"completions": [], "suppress": False}
        found = [t for t in texts if t.startswith(word)]
        return _result(word, found, "option")
    found_kind = complete_sql(sql, word, namespace, catalog(), whole=whole)
    return _result(word, found_kind[0], found_kind[1])


def complete_sql(
    sql: str, word: str, namespace: Mapping[str, Any], cat: Catalog, *, whole: str | None = None
) -> tuple[list[str], str]:
    """Candidates for `word`, the text just before the cursor at the end of `sql`.

    `whole` is the cell's whole SQL (the cursor may be before its FROM); default `sql`.
    """
    whole = sql if whole is None else whole
    head = sql[: len(sql) - len(word)]
    if word.startswith(":"):
        names = [f":{n}" for n in _variables(namespace)]
        return [n for n in names if n.startswith(word)], "placeholder"
    if word.startswith("@"):
        method = _exec_method(whole, cat)
        names = [f"@{p.name}" for p in method.params] if method else []
        return [n for n in names if n.startswith(word)], "param"
    keywords = _KEYWORD.findall(head)
    last = keywords[-1].upper() if keywords else ""
    after_keyword = bool(re.search(r"\b" + last + r"\s+$", head, re.IGNORECASE)) if last else False
    if last in ("FROM", "JOIN", "DESCRIBE", "DESC") and after_keyword:
        ids = list(cat.resources) + [n for n in _frames(namespace)]
        return _dotted(word, ids), "resource"
    if last in ("EXEC", "EXECUTE") and after_keyword:
        ids = [f"{r.id}.{m.name}" for r in cat.resources.values() for m in r.methods_for("exec")]
        return _dotted(word, ids), "method"
    columns = _columns(whole, namespace, cat)
    params = _params(whole, cat) if last in ("WHERE", "AND", "OR") else []
    names = list(dict.fromkeys(columns + params))
    aliased = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\.", word)
    if aliased and aliased.group(1).lower() in _aliases(whole):
        prefix = aliased.group(0)
        return [prefix + c for c in _dotted(word[len(prefix):], names)], "column"
    return _dotted(word, names), "column"


def option_names() -> list[str]:
    """The magic's `--options`, read from the magic itself (its parser, else its usage line)."""
    from runs_pandas.magic import RunsSql

    function = RunsSql.runsql
    parser = getattr(function, "parser", None)
    if parser is not None:
        return sorted(o for a in parser._actions for o in a.option_strings if o.startswith("--"))
    return sorted(set(re.findall(r"--[a-z][a-z-]*", function.__doc__ or "")))


def _text_before_cursor(context: CompletionContext) -> tuple[str, str | None, str] | None:
    """(the magic's line, the SQL before the cursor or None while on the options, all the
    SQL), or None outside the magic."""
    lines = context.full_text.split("\n")
    upto = lines[: context.cursor_line] + [context.text_until_cursor]
    if _MAGIC.match(lines[0]) and lines[0].lstrip().startswith("%%"):
        whole = "\n".join(lines[1:])
        if context.cursor_line == 0:
            return upto[0], None, whole
        return lines[0], "\n".join(upto[1:]), whole
    line = context.text_until_cursor
    full_line = context.line_with_cursor
    match = re.search(r"%runsql\b", line)
    if match is None:
        return None
    rest = line[match.end():]
    options = re.match(r"(\s+(?:--limit\s+\S+|--\S+))*\s*", rest)
    taken = options.end() if options else 0
    whole = full_line[match.end():]
    if taken == len(rest) and (not rest.strip() or rest.rstrip().split()[-1].startswith("-")):
        return line, None, whole  # still on the options
    return line, rest[taken:], whole


def _result(word: str, texts: Iterable[str], kind: str) -> SimpleMatcherResult:
    completions = [SimpleCompletion(text, type=kind) for text in dict.fromkeys(texts)]
    return {"completions": completions, "matched_fragment": word, "suppress": bool(completions)}


def _dotted(word: str, names: Iterable[str]) -> list[str]:
    """Names starting with `word`, cut after the dotted part being typed (`azure.` -> next part)."""
    typed = word.lower()
    depth = word.count(".")
    out: list[str] = []
    for name in names:
        if not name.lower().startswith(typed):
            continue
        parts = name.split(".")
        out.append(".".join(parts[: depth + 1]) + ("." if len(parts) > depth + 1 else ""))
    return sorted(dict.fromkeys(out), key=str.lower)


def _variables(namespace: Mapping[str, Any]) -> list[str]:
    """Notebook variables that can fill a placeholder (values, not modules or functions)."""
    import types

    return sorted(
        name for name, value in namespace.items()
        if _IDENTIFIER.match(name) and not name.startswith("_")
        and not isinstance(value, (types.ModuleType, types.FunctionType, type))
        and not callable(value)
        and name not in ("In", "Out", "exit", "quit")
    )


def _frames(namespace: Mapping[str, Any]) -> dict[str, Any]:
    import pandas as pd

    return {
        n: v for n, v in namespace.items()
        if isinstance(v, pd.DataFrame) and _IDENTIFIER.match(n) and not n.startswith("_")
    }


def _named(sql: str, cat: Catalog) -> list[Resource]:
    """The resources the text names by their three-part id (EXEC targets included)."""
    lowered = sql.lower()
    return [r for rid, r in cat.resources.items() if re.search(re.escape(rid) + r"\b", lowered)]


def _columns(sql: str, namespace: Mapping[str, Any], cat: Catalog) -> list[str]:
    names: list[str] = []
    for resource in _named(sql, cat):
        names += [name for field in resource.fields for name, _ in field.leaves()]
        names += [p.name for m in resource.methods_for("select") for p in m.params if p.column]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql))
    for name, frame in _frames(namespace).items():
        if name in words:
            names += [str(c) for c in frame.columns]
    return [n for n in dict.fromkeys(names) if _IDENTIFIER.match(n.split(".")[0])]


def _params(sql: str, cat: Catalog) -> list[str]:
    return [
        p.name for r in _named(sql, cat) for m in r.methods_for("select") for p in m.params
        if _IDENTIFIER.match(p.name)
    ]


def _aliases(sql: str) -> set[str]:
    """Table names and aliases after FROM / JOIN (`FROM x.y.z AS r` gives r)."""
    found = re.findall(
        r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?", sql, re.IGNORECASE
    )
    keywords = {"where", "join", "on", "using", "group", "order", "limit", "left", "inner", "cross"}
    out: set[str] = set()
    for table, alias in found:
        out.add(table.split(".")[-1].lower())
        if alias and alias.lower() not in keywords:
            out.add(alias.lower())
    return out


def _exec_method(sql: str, cat: Catalog) -> Method | None:
    match = re.search(r"\bEXEC(?:UTE)?\s+([\w.]+)", sql, re.IGNORECASE)
    if match is None:
        return None
    resource_id, _, method_name = match.group(1).rpartition(".")
    resource = cat.resources.get(resource_id.lower())
    if resource is None:
        return None
    return next((m for m in resource.methods if m.name.lower() == method_name.lower()), None)
