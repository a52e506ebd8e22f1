"""Reading loosely typed provider JSON: phone numbers, text, whole numbers, times.

Every reader takes any JSON value and returns None for one it cannot use:
a malformed field says nothing, it never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
import math
import re
from typing import Any, Final

from ..model import Direction

_NOT_DIGITS = re.compile(r"\D")
# The times a call can have: any later or earlier one is a malformed field.
# Home Assistant shows times in the local zone, so a time must stay a valid
# date in every zone (years 1 and 9999 may not).
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)


def normalize_number(number: str) -> str:
    """Reduce a phone number to + and digits ("+1-202-555-0133" -> "+12025550133")."""
    digits = _NOT_DIGITS.sub("", number)
    return f"+{digits}" if number.strip().startswith("+") else digits


def is_text(value: Any) -> bool:
    """Whether `value` is a string of valid Unicode.

    JSON lets lone surrogates through (an escaped D800); Home Assistant cannot
    store or send such a string, so it is no text here.
    """
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def non_empty_text(value: Any) -> str | None:
    """Return a non-empty string as it is; anything else is None."""
    return value if value and is_text(value) else None


def trimmed_text(value: Any) -> str | None:
    """Return a string without surrounding blanks; None when nothing is left."""
    return (value.strip() or None) if is_text(value) else None


def first_text(item: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    """Return the first non-empty string among `item`'s `keys`."""
    values = (non_empty_text(item.get(key)) for key in keys)
    return next((value for value in values if value), None)


def integer(value: Any) -> int | None:
    """Read a whole number given as a number or a string ("200"); else None.

    Infinity and NaN (JSON's 1e400 is infinity) are not numbers here.
    """
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except TypeError, ValueError, OverflowError:
        return None


def is_number(value: Any) -> bool:
    """Whether `value` is a JSON number (true and false are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite_number(value: Any) -> float | None:
    """Return a JSON number that is finite (not NaN, not infinite); else None."""
    if not is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer past what a float holds
        return None
    return number if math.isfinite(number) else None


def parse_timestamp(value: Any) -> datetime | None:
    """Read an ISO 8601 time ("2025-08-05T16:48:19.360Z"); without a zone it is UTC.

    A time outside EARLIEST to LATEST is None: no call happens then, and
    such a time could not be shown in every zone.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if EARLIEST <= moment < LATEST else None


def parse_direction(value: Any) -> Direction | None:
    """Read "incoming" or "outgoing"; anything else says nothing."""
    if value == "incoming":
        return Direction.INCOMING
    if value == "outgoing":
        return Direction.OUTGOING
    return None
