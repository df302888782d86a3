"""SQL errors in the user's terms: line, column, a caret under the place, what was expected.

sqlglot's own messages name its classes ("Required keyword: 'expression' missing for
<class 'sqlglot...Mul'>"); these say "expected a value after '*'" instead. Statements that
cannot mean anything here (CREATE VIEW, INSERT: nothing persists between queries) and the
JupySQL habit `%runsql x << SELECT ...` are refused before any request, with what to write.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from runs_pandas.errors import QueryError, SqlSyntaxError

_OPERATORS = {
    "Mul": "*", "Div": "/", "Add": "+", "Sub": "-", "Mod": "%", "DPipe": "||",
    "EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<=",
    "And": "AND", "Or": "OR", "Not": "NOT", "Like": "LIKE", "ILike": "ILIKE", "In": "IN",
    "Is": "IS", "Between": "BETWEEN", "BitwiseLeftShift": "<<", "BitwiseRightShift": ">>",
    "BitwiseAnd": "&", "BitwiseOr": "|", "BitwiseXor": "^", "Alias": "AS", "Cast": "CAST",
}
_CLAUSES = {
    "Where": "a condition after WHERE", "Having": "a condition after HAVING",
    "Qualify": "a condition after QUALIFY", "Join": "a table after JOIN", "From": "a table after FROM",
    "Limit": "a number after LIMIT", "Offset": "a number after OFFSET",
}
_KEYWORDS = (
    "SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "LIMIT", "OFFSET", "HAVING", "JOIN",
    "LEFT", "RIGHT", "INNER", "OUTER", "ON", "USING", "AS", "AND", "OR", "NOT", "IN", "IS",
    "NULL", "LIKE", "BETWEEN", "UNION", "ALL", "DISTINCT", "WITH", "CASE", "WHEN", "THEN",
    "ELSE", "END", "DESC", "ASC", "QUALIFY", "WINDOW", "OVER", "PARTITION",
)
#: first words of statements that change or keep state: nothing persists between queries here
_REFUSED = {
    "CREATE", "INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "MERGE", "COPY", "ATTACH",
    "DETACH", "TRUNCATE", "SET", "RESET", "PRAGMA", "INSTALL", "LOAD", "EXPORT", "IMPORT",
    "USE", "CHECKPOINT", "VACUUM",
}
_SHIFT = re.compile(r"^\s*([A-Za-z_]\w*)\s*<<(?!\s*<)")


def check_statement(text: str, first: str) -> None:
    """Refuse what cannot work here before any request: writes, views, `x << SELECT`."""
    shift = _SHIFT.match(text)
    if shift:
        name = shift.group(1)
        raise QueryError(
            f"'{name} <<' keeps a result only on the first line of a cell magic: write "
            f"'%%runsql {name} <<' on its own line with the SQL below it, or "
            f"'{name} = %runsql SELECT ...' on one line"
        )
    if first in _REFUSED:
        what = "CREATE VIEW" if re.match(r"\s*CREATE\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?VIEW\b", text, re.I) else first
        raise QueryError(
            f"{what} is not supported: every query fetches and runs on its own, and nothing it "
            f"creates is kept for the next one. Nothing was sent. Instead: a CTE "
            f"(WITH v AS (SELECT ...) SELECT ... FROM v); a saved query (%%runsql --save v, then "
            f"FROM v: fetched again on use); or keep a result in a DataFrame (%%runsql v <<, "
            f"frames={{'v': df}} in Python) and name it in a later query"
        )


def syntax_error(text: str, error: dict[str, Any]) -> SqlSyntaxError:
    """One sqlglot parse error (`ParseError.errors[0]`) as a message with a caret."""
    highlight = str(error.get("highlight") or "")
    before = str(error.get("start_context") or "")
    after = str(error.get("end_context") or "")
    line = int(error.get("line") or 1)
    end_col = int(error.get("col") or 1)
    col = max(1, end_col - len(highlight) + 1) if highlight else end_col
    what = _expected(str(error.get("description", "")), highlight, before, after)
    return SqlSyntaxError(what, text, line, col, max(1, len(highlight)))


def token_error(text: str, message: str) -> SqlSyntaxError:
    """A tokenizer error: an unclosed quote or comment, found in the text itself."""
    at = _unclosed(text)
    if at is not None:
        kind, index = at
        line = text.count("\n", 0, index) + 1
        col = index - (text.rfind("\n", 0, index) + 1) + 1
        return SqlSyntaxError(f"{kind} is not closed", text, line, col, 1)
    return SqlSyntaxError(re.sub(r"\s+", " ", message).strip(), text, 1, 1, 1)


def _expected(description: str, highlight: str, before: str, after: str) -> str:
    found = _found(highlight, after)
    missing = re.match(r"Required keyword: '(\w+)' missing for <class '[\w.]*?(\w+)'>", description)
    if missing:
        operator = _OPERATORS.get(missing.group(2))
        if operator is not None:
            side = "after" if missing.group(1) == "expression" else "before"
            if highlight.upper() == operator and not after.strip():
                found = "the end of the query"
            return f"expected a value {side} '{operator}', found {found}"
        clause = _CLAUSES.get(missing.group(2))
        if clause is not None:
            return f"expected {clause}, found {found}"
        return f"something is missing before {found}"
    if description.startswith("Expecting "):
        wanted = description[len("Expecting "):].strip()
        return f"expected '{wanted}', found {found}"
    table = re.match(r"Expected table name but got", description)
    if table:
        return f"expected a table name, found {found}"
    if "Unexpected token" in description or "Invalid expression" in description:
        hint = _keyword_hint(before)
        return f"unexpected {found}{hint}"
    # anything else: sqlglot's words without its class and token reprs
    plain = re.sub(r"<class '[\w.]*?(\w+)'>", lambda m: m.group(1).lower(), description)
    plain = re.sub(r"<Token token_type: [\w.]+, text: ([^,]*),[^>]*>", r"'\1'", plain)
    return f"{plain[:1].lower()}{plain[1:]} (near {found})"


def _found(highlight: str, after: str) -> str:
    if not highlight:
        return "the end of the query"
    if after.strip():
        return f"'{highlight}'"
    return "the end of the query" if highlight.upper() in _KEYWORDS else f"the end of the query after '{highlight}'"


def _keyword_hint(before: str) -> str:
    """` (did you mean FROM?)` when the word before the place looks like a misspelt keyword."""
    words = re.findall(r"[A-Za-z_]+", before)
    if not words or words[-1].upper() in _KEYWORDS:
        return ""
    close = difflib.get_close_matches(words[-1].upper(), _KEYWORDS, n=1, cutoff=0.75)
    return f" (is {words[-1]!r} a misspelt {close[0]}?)" if close else ""


def _unclosed(text: str) -> tuple[str, int] | None:
    """Where an unclosed string, quoted name or block comment starts, if one does."""
    index = 0
    while index < len(text):
        ch = text[index]
        if text.startswith("--", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end < 0:
                return "a /* comment", index
            index = end + 2
        elif ch in "'\"":
            end = index + 1
            while True:
                end = text.find(ch, end)
                if end < 0:
                    return ("a string (')" if ch == "'" else 'a quoted name (")'), index
                if text.startswith(ch * 2, end):
                    end += 2
                    continue
                break
            index = end
        index += 1
    return None
