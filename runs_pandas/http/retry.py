"""Retries within bounds that hold: how many tries, how long all waiting may take, and
what a server's `Retry-After` asks for (seconds or an HTTP-date).

A wait the server asks for that would pass the retry budget is not waited out: the request
gives up at once, saying so. Backoff waits are cut to what is left of the budget.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass


class Transient(Exception):
    """A failure worth another try (429, 502-504, a dropped, slow or cut-off response)."""

    def __init__(self, message: str, status: int | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value: delay-seconds or an HTTP-date.

    None for what cannot be used (absent, negative, `soon`, a malformed date): the caller
    falls back to its backoff. A date in the past is 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # RFC 9110 dates are GMT; one without a zone cannot be placed
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class Budget:
    """The tries and the waiting time left for one request."""

    retries: int
    seconds: float
    backoff_base: float = 0.2
    backoff_cap: float = 30.0
    attempts: int = 0
    waited: float = 0.0  # seconds of waiting handed out so far: never more than `seconds`

    def wait_for(self, failure: Transient) -> float | str:
        """Seconds to sleep before the next try, or why there is none (a sentence)."""
        self.attempts += 1
        if self.attempts > self.retries:
            return f"gave up after {self.attempts} attempt(s)"
        left = self.seconds - self.waited
        if failure.retry_after is not None:
            if failure.retry_after > left:
                return (
                    f"the server asked to wait {failure.retry_after:.1f} s (Retry-After), more "
                    f"than the {max(left, 0.0):.1f} s left of the retry budget "
                    f"({self.seconds:g} s, setting retry_budget); gave up after "
                    f"{self.attempts} attempt(s)"
                )
            wait = failure.retry_after
        else:
            wait = self.backoff_base * 2 ** (self.attempts - 1) * (1 + random.uniform(0, 0.5))
            wait = min(wait, self.backoff_cap)
        wait = min(wait, max(left, 0.0))
        if left <= 0:
            return f"the retry budget of {self.seconds:g} s is spent; gave up after {self.attempts} attempt(s)"
        self.waited += wait
        return wait
