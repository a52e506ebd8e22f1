"""Reading loosely typed provider JSON: phone numbers, text, whole numbers, times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
import re
from typing import Any

from ..model import Direction

_NOT_DIGITS = re.compile(r"\D")


def normalize_number(number: str) -> str:
    """Reduce a phone number to + and digits ("+1-202-555-0133" -> "+12025550133")."""
    digits = _NOT_DIGITS.sub("", number)
    return f"+{digits}" if number.strip().startswith("+") else digits


def non_empty_text(value: Any) -> str | None:
    """Return a non-empty string as it is; anything else is None."""
    return value if isinstance(value, str) and value else None


def trimmed_text(value: Any) -> str | None:
    """Return a string without surrounding blanks; None when nothing is left."""
    return (value.strip() or None) if isinstance(value, str) else None


def first_text(item: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    """Return the first non-empty string among `item`'s `keys`."""
    values = (non_empty_text(item.get(key)) for key in keys)
    return next((value for value in values if value), None)


def integer(value: Any) -> int | None:
    """Read a whole number given as a number or a string ("200"); else None."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except TypeError, ValueError:
        return None


def is_number(value: Any) -> bool:
    """Whether `value` is a JSON number (true and false are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_timestamp(value: Any) -> datetime | None:
    """Read an ISO 8601 time ("2025-08-05T16:48:19.360Z"); without a zone it is UTC."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_direction(value: Any) -> Direction | None:
    """Read "incoming" or "outgoing"; anything else says nothing."""
    if value == "incoming":
        return Direction.INCOMING
    if value == "outgoing":
        return Direction.OUTGOING
    return None
