"""Error messages made comparable: ids, hashes, numbers, paths, times and URLs masked.

The rules are data (`data/masks.json`: name, regular expression, placeholder), applied in
order, so a new shape of id is one more entry rather than code. `mask()` takes extra
rules too, tried before the shipped ones.

>>> mask("dial tcp 10.2.3.4:5432: connect: connection refused")
'dial tcp <ip>: connect: connection refused'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources

__all__ = ["Rule", "mask", "rules"]

Rule = tuple[str, "re.Pattern[str]", str]


@cache
def rules() -> tuple[Rule, ...]:
    """The shipped masking rules, compiled once: (name, pattern, placeholder)."""
    text = resources.files("runs_pandas.analysis").joinpath("data/masks.json").read_text("utf-8")
    return tuple(
        (rule["name"], re.compile(rule["pattern"]), rule["placeholder"])
        for rule in json.loads(text)["rules"]
    )


def mask(message: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    """`message` with each rule's matches replaced by its placeholder, spaces collapsed.

    `extra` holds (regular expression, placeholder) pairs applied before the shipped rules.
    """
    out = message
    for pattern, placeholder in extra:
        out = re.sub(pattern, placeholder, out)
    for _, pattern_, placeholder in rules():
        out = pattern_.sub(placeholder, out)
    return " ".join(out.split())
