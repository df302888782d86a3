"""A page's next link or token found in its bytes, without parsing the page.

A `"key":` byte pattern cannot occur inside a JSON string (its quotes would be escaped),
but it can occur as a nested key, so only a place where it is surely the top-level key
counts: the root object's last member (the value is followed by the body's final `}`) or,
when the key occurs once, its first. Anything else is "not sure", and the page is parsed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

_VALUE = rb'("(?:[^"\\]|\\.)*"|null)'  # a link or token is text (or null); others are parsed
_NAME = re.compile(r"[A-Za-z0-9_@.$-]+")


@lru_cache(maxsize=32)
def _patterns(key: str) -> tuple[bytes, re.Pattern[bytes], re.Pattern[bytes]]:
    name = b'"' + key.encode() + b'"'
    last = re.compile(re.escape(name) + rb"\s*:\s*" + _VALUE + rb"\s*\}\s*\Z")
    first = re.compile(rb"\s*\{\s*" + re.escape(name) + rb"\s*:\s*" + _VALUE + rb"\s*[,}]")
    return name, last, first


def top_level(content: bytes, key: str) -> tuple[bool, Any]:
    """(sure, value): the value of the root object's member `key` in the page's bytes.

    Not sure (False, None) when the key is absent (the body may be cut off), nested, given
    twice at the start, or its value is not text or null; the caller then parses the page.
    """
    if not _NAME.fullmatch(key):
        return False, None  # a name that JSON would escape: not looked for in bytes
    name, last, first = _patterns(key)
    at = content.rfind(name)
    if at < 0:
        return False, None
    found = last.match(content, at)
    if found is None and content.find(name) == at:
        found = first.match(content)
    if found is None:
        return False, None
    try:
        return True, orjson.loads(found.group(1))
    except orjson.JSONDecodeError:
        return False, None
