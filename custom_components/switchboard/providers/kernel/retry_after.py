"""Retry-After, as seconds ("120", "2.5") or as an HTTP-date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
import time


def retry_after(
    value: str | None,
    *,
    clock: Callable[[], float] = time.time,
) -> float | None:
    """Return the wait a Retry-After value asks for, in seconds.

    Both forms HTTP allows are read (RFC 9110 §10.2.3) from every provider,
    even one whose documentation shows only seconds: the tolerant reading of
    what none of them rules out. A wait in the past (a negative delay or a
    date gone by) is 0; a value that is neither a number nor a date, or none
    at all, is None, and the caller's own back-off applies.
    """
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except TypeError, ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # HTTP-dates are GMT
    return max(0.0, moment.timestamp() - clock())
