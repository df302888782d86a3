"""The OData ``$filter`` subset that ACR Runs_List accepts, compiled to a Python predicate.

Supported (as the swagger describes for ``RunFilter``): ``eq ne gt ge lt le``, ``and``,
``or``, parentheses, ``contains(field, 'text')``; literals ``'quoted'`` (``''`` escapes a
quote), ``true``/``false``/``null``, numbers, and date-times written bare
(``2024-05-01T00:00:00Z``), quoted, or as ``datetime'...'``. ``not`` and arithmetic are
refused, as the service documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .timefmt import parse_iso

Predicate = Callable[[Mapping[str, Any]], bool]

STRING_FIELDS = ("runId", "runType", "status", "taskName", "agentPoolName", "outputImageManifests")
TIME_FIELDS = ("createTime", "finishTime")
BOOL_FIELDS = ("isArchiveEnabled",)
_FIELDS = {name.lower(): name for name in STRING_FIELDS + TIME_FIELDS + BOOL_FIELDS}
_COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<punct>[(),])
  | (?P<typed>datetime(?:offset)?'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<time>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)


class FilterError(ValueError):
    """A ``$filter`` the fake service cannot parse; the message says what and where."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class _Literal:
    kind: str  # "string" | "time" | "bool" | "null" | "number"
    value: Any


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] == "'":
                raise FilterError(f"unterminated string literal starting at position {pos}")
            raise FilterError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive-descent parser: or > and > primary."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.length = len(text)

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self, expected: str) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterError(f"expected {expected} but the filter ended at position {self.length}")
        self.index += 1
        return token

    def is_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() in words

    def expect_punct(self, char: str) -> None:
        token = self.next(f"'{char}'")
        if token.text != char:
            raise FilterError(f"expected '{char}' at position {token.pos}, found {token.text!r}")

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        token = self.peek()
        if token is not None:
            raise FilterError(f"unexpected {token.text!r} at position {token.pos}")
        return predicate

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.is_word("or"):
            self.index += 1
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda row: any(part(row) for part in parts)

    def parse_and(self) -> Predicate:
        parts = [self.parse_primary()]
        while self.is_word("and"):
            self.index += 1
            parts.append(self.parse_primary())
        if len(parts) == 1:
            return parts[0]
        return lambda row: all(part(row) for part in parts)

    def parse_primary(self) -> Predicate:
        token = self.next("a condition")
        if token.text == "(":
            inner = self.parse_or()
            self.expect_punct(")")
            return inner
        if token.kind != "word":
            raise FilterError(
                f"expected a property name at position {token.pos}, found {token.text!r}"
            )
        word = token.text.lower()
        if word in ("not", "has", "all", "any"):
            raise FilterError(
                f"the '{token.text}' operator is not supported (position {token.pos})"
            )
        following = self.peek()
        if following is not None and following.text == "(":
            return self.parse_function(token)
        field = self.field(token)
        if not self.is_word(*_COMPARISONS):
            if field in BOOL_FIELDS:
                return lambda row: row.get(field) is True
            after = self.peek()
            where = f"found {after.text!r} at position {after.pos}" if after else "the filter ended"
            raise FilterError(f"expected a comparison operator after '{token.text}', {where}")
        operator = self.next("an operator").text.lower()
        literal = self.literal()
        return _compare(field, operator, _coerce(field, literal))

    def parse_function(self, name: _Token) -> Predicate:
        if name.text.lower() != "contains":
            raise FilterError(
                f"function '{name.text}' is not supported (position {name.pos}); "
                "the allowed string function is 'contains'"
            )
        self.expect_punct("(")
        field = self.field(self.next("a property name"))
        if field not in STRING_FIELDS:
            raise FilterError(f"contains() needs a string property, '{field}' is not one")
        self.expect_punct(",")
        literal = self.literal()
        if literal.kind != "string":
            raise FilterError("the second argument of contains() must be a quoted string")
        self.expect_punct(")")
        needle = str(literal.value)
        return lambda row: needle in (row.get(field) or "")

    def field(self, token: _Token) -> str:
        name = _FIELDS.get(token.text.lower()) if token.kind == "word" else None
        if name is None:
            raise FilterError(
                f"could not find a property named {token.text!r} on type 'RunFilter' "
                f"(position {token.pos}); known properties: {', '.join(sorted(_FIELDS.values()))}"
            )
        return name

    def literal(self) -> _Literal:
        token = self.next("a value")
        if token.kind == "string":
            return _Literal("string", token.text[1:-1].replace("''", "'"))
        if token.kind == "typed":
            return _Literal("string", token.text[token.text.index("'") + 1 : -1].replace("''", "'"))
        if token.kind == "time":
            return _Literal("time", parse_iso(token.text))
        if token.kind == "number":
            return _Literal("number", float(token.text))
        if token.kind == "word" and token.text.lower() in ("true", "false"):
            return _Literal("bool", token.text.lower() == "true")
        if token.kind == "word" and token.text.lower() == "null":
            return _Literal("null", None)
        raise FilterError(f"expected a value at position {token.pos}, found {token.text!r}")


def _coerce(field: str, literal: _Literal) -> Any:
    """The literal as the field's type, or a FilterError naming the mismatch."""
    if literal.kind == "null":
        return None
    if field in TIME_FIELDS:
        if literal.kind == "time":
            return literal.value
        if literal.kind == "string":
            try:
                return parse_iso(literal.value)
            except ValueError:
                pass
        raise FilterError(f"'{field}' is a date-time; {literal.value!r} is not a date-time value")
    if field in BOOL_FIELDS:
        if literal.kind == "bool":
            return literal.value
        raise FilterError(f"'{field}' is a boolean; compare it with true or false")
    if literal.kind == "string":
        return literal.value
    raise FilterError(f"'{field}' is a string; put the value in single quotes")


def _compare(field: str, operator: str, value: Any) -> Predicate:
    if operator == "eq":
        return lambda row: row.get(field) == value
    if operator == "ne":
        return lambda row: row.get(field) != value
    if value is None:
        raise FilterError(f"'{operator}' cannot compare with null")
    ordering: dict[str, Callable[[Any, Any], bool]] = {
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }
    test = ordering[operator]

    def predicate(row: Mapping[str, Any]) -> bool:
        current = row.get(field)
        return current is not None and test(current, value)

    return predicate


def compile_filter(text: str | None) -> Predicate | None:
    """A predicate over a run's filter fields, or None for an absent/blank filter."""
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()
