"""What Call.raw keeps: a handful of a provider's scalar fields, for diagnostics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import sys
from typing import Any

type RawValue = str | int | float | bool

# Ids, states and causes are short; a longer string is cut, so raw stays small.
MAX_TEXT = 120
# States, causes and event names repeat from call to call: shorter strings are
# interned, so thousands of live calls share one copy of each.
MAX_SHARED = 32


def raw_fields(
    source: Mapping[str, Any], keys: Iterable[str] = (), **named: Any
) -> dict[str, RawValue]:
    """Keep `source`'s values of `keys`, and the `named` values, that are scalars.

    None, lists and objects are left out; strings are cut at MAX_TEXT.
    """
    fields = {**{key: source.get(key) for key in keys}, **named}
    return {
        key: _text(value) if isinstance(value, str) else value
        for key, value in fields.items()
        if isinstance(value, str | int | float | bool)
    }


def _text(value: str) -> str:
    if len(value) <= MAX_SHARED:
        return sys.intern(value)
    return value[:MAX_TEXT]
