"""Timestamp formats of the three providers, and parsing of the ones clients send back.

Times are kept as integers internally (ARM ticks of 100 ns, Airplane microseconds,
Databricks milliseconds) so the fakes can write each provider's exact text form.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

TICKS_PER_SECOND = 10_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def anchor(now: datetime | None) -> datetime:
    """The data anchor: ``now`` in UTC (naive means UTC), default the start of this UTC hour."""
    if now is None:
        return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def to_ticks(moment: datetime) -> int:
    """A tz-aware datetime as 100 ns ticks since the Unix epoch."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


@lru_cache(maxsize=4096)
def _day_text(day: int) -> str:
    return (EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")


def _seconds_text(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` for whole seconds since the epoch (hot path: no datetime)."""
    day, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{_day_text(day)}T{hours:02d}:{minutes:02d}:{secs:02d}"


_MINUTE_PREFIXES: dict[int, str] = {}


def arm_time(ticks: int) -> str:
    """ARM style: ``2024-05-01T09:00:00.1234567+00:00`` (7 fractional digits).

    On the hot path of run generation, so the ``YYYY-MM-DDTHH:MM:`` prefix is memoised.
    """
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    minute, second = divmod(seconds, 60)
    prefix = _MINUTE_PREFIXES.get(minute)
    if prefix is None:
        if len(_MINUTE_PREFIXES) > 200_000:
            _MINUTE_PREFIXES.clear()
        prefix = _MINUTE_PREFIXES[minute] = _seconds_text(minute * 60)[:-2]
    return f"{prefix}{second:02d}.{fraction:07d}+00:00"


def airplane_time(micros: int) -> str:
    """Airplane (PostgreSQL text) style: ``2022-01-11 22:32:45.601486+00``.

    PostgreSQL drops trailing zeros of the fraction (the spec's own example
    ``22:33:03.78416+00`` has five digits), so this does too.
    """
    seconds, fraction = divmod(micros, 1_000_000)
    text = _seconds_text(seconds).replace("T", " ")
    digits = f"{fraction:06d}".rstrip("0")
    return f"{text}.{digits}+00" if digits else f"{text}+00"


def parse_iso(text: str) -> int:
    """Parse an ISO 8601 / RFC 3339 date or date-time into ticks; ValueError if malformed.

    Accepts ``Z`` or numeric offsets, any number of fractional digits (7+ as ARM writes),
    a space instead of ``T``, and a bare date (midnight UTC). No offset means UTC.
    """
    match = _ISO.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    base = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        tzinfo=UTC,
    )
    ticks = to_ticks(base) + int((fraction or "0")[:7].ljust(7, "0"))
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        ticks -= sign * minutes * 60 * TICKS_PER_SECOND
    return ticks


def wall_ticks() -> int:
    """The current wall-clock time in ticks (used only for cancel/update times)."""
    return to_ticks(datetime.now(UTC))
