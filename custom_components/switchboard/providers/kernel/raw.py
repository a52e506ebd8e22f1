"""What Call.raw keeps: a handful of a provider's scalar fields, for diagnostics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import math
from typing import Any, Final

from .values import is_text

type RawValue = str | int | float | bool

# Ids, states and causes are short; a longer string is cut, so raw stays small.
MAX_TEXT = 120
# States, causes and event names repeat from call to call: shorter strings are
# shared, so thousands of live calls keep one copy of each. Shared here and
# kept alive, not sys.intern'ed: an interned string dies with the last call
# that holds it and is interned again by the next, churning the interpreter's
# table of interned strings. Unique short values stop being shared once
# SHARED_VALUES are kept.
MAX_SHARED = 32
SHARED_VALUES = 4096
_shared: dict[str, str] = {}
# Diagnostics are JSON: a number must be finite, and an integer fit 64 bits.
MAX_INTEGER: Final = 2**63 - 1


def raw_fields(
    source: Mapping[str, Any], keys: Iterable[str] = (), **named: Any
) -> dict[str, RawValue]:
    """Keep `source`'s values of `keys`, and the `named` values, that are scalars.

    None, lists, objects and what JSON cannot carry out (NaN, infinity,
    integers past 64 bits, lone surrogates) are left out; strings are cut
    at MAX_TEXT. (A plain loop: this runs for every event.)
    """
    kept: dict[str, RawValue] = {}
    for key in keys:
        _keep(kept, key, source.get(key))
    for key, value in named.items():
        _keep(kept, key, value)
    return kept


def _share(value: str) -> str:
    shared = _shared.get(value)
    if shared is not None:
        return shared
    if len(_shared) < SHARED_VALUES:
        _shared[value] = value
    return value


def _keep(kept: dict[str, RawValue], key: str, value: Any) -> None:
    if isinstance(value, str):
        if is_text(value):
            kept[key] = _share(value) if len(value) <= MAX_SHARED else value[:MAX_TEXT]
    elif isinstance(value, int):  # bool is an int
        if -MAX_INTEGER <= value <= MAX_INTEGER:
            kept[key] = value
    elif isinstance(value, float) and math.isfinite(value):
        kept[key] = value
