"""Deterministic identifiers in the providers' formats, drawn from a seeded ``random.Random``."""

from __future__ import annotations

import random

_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    """``number`` (>= 0) in lower-case base 36, as ACR run-id counters are written."""
    if number == 0:
        return "0"
    out = []
    while number:
        number, digit = divmod(number, 36)
        out.append(_DIGITS36[digit])
    return "".join(reversed(out))


_PAIRS = [a + b for a in _DIGITS36 for b in _DIGITS36]


def base36_fast(number: int) -> str:
    """``base36`` for numbers below 36**4 via a two-digit table (run ids, a hot path)."""
    if number >= 36**4:
        return base36(number)
    return (_PAIRS[number // 1296] + _PAIRS[number % 1296]).lstrip("0") or "0"


def random36(rng: random.Random, length: int) -> str:
    """``length`` random lower-case base-36 characters (Airplane id suffixes)."""
    return "".join(rng.choice(_DIGITS36) for _ in range(length))


def guid(rng: random.Random) -> str:
    """A random version-4 GUID string (formatted by hand: this is on the hot path)."""
    h = f"{rng.getrandbits(122):031x}"
    variant = "89ab"[rng.getrandbits(2)]
    return f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{variant}{h[15:18]}-{h[18:30]}"


def hex_digits(rng: random.Random, count: int) -> str:
    """``count`` random lower-case hex digits (digests, commit ids, etags)."""
    return f"{rng.getrandbits(count * 4):0{count}x}"
