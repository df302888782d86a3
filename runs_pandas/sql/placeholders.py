"""`:name` placeholders in SQL text: where they stand, and the text DuckDB reads ($name).

Found with sqlglot's tokenizer, so a colon inside a string or a cast (`x::int`) is not one.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import sqlglot
from sqlglot import TokenType
from sqlglot.errors import TokenError


def placeholders(text: str) -> list[str]:
    """The `:name` placeholders in order of first use."""
    names: list[str] = []
    for name, _, _ in _placeholder_spans(text):
        if name not in names:
            names.append(name)
    return names


def duckdb_text(text: str) -> str:
    """The same text with `:name` written as DuckDB's `$name`; nothing else changes."""
    out, last = [], 0
    for name, start, end in _placeholder_spans(text):
        out.append(text[last:start])
        out.append(f"${name}")
        last = end
    out.append(text[last:])
    return "".join(out)


@lru_cache(maxsize=128)
def _placeholder_spans(text: str) -> tuple[tuple[str, int, int], ...]:
    """Where each `:name` stands; cached, as read(), the magic and forms all ask for it."""
    try:
        tokens = sqlglot.tokenize(text, read="duckdb")
    except TokenError:
        return ()
    spans = []
    for colon, name in itertools.pairwise(tokens):
        if (
            colon.token_type is TokenType.COLON
            and name.start == colon.end + 1
            and (name.token_type is TokenType.VAR or name.text.isidentifier())
        ):
            spans.append((name.text, colon.start, name.end + 1))
    return tuple(spans)
