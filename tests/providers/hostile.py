"""Hostile input for the webhook parsers, and what their answers must look like.

The property tests of each provider draw from here: arbitrary JSON values put
into the fields of valid payloads, byte mutations of valid bodies, hostile
header values. Whatever comes in, a parser returns well-formed CallEvents or
raises InvalidPayloadError / InvalidSignatureError: `outcome` checks that.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta, timezone
import json
import math
from typing import Any, Final

from hypothesis import HealthCheck, settings, strategies as st

from custom_components.switchboard.providers.model import (
    CallAction,
    CallEvent,
    CallState,
    Direction,
    EndReason,
    InvalidPayloadError,
    InvalidSignatureError,
)


def examples(count: int) -> settings:
    """Run a property test on `count` examples, without deadline or database.

    The counts keep every provider's property tests to a few seconds while
    adding up to thousands of cases; no example database is written into
    the checkout.
    """
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Home Assistant shows every time in the local zone: the furthest zones.
_ZONES: Final = (
    timezone(timedelta(hours=-23, minutes=-59)),
    timezone(timedelta(hours=23, minutes=59)),
)
_MAX_INTEGER: Final = 2**63 - 1


def nested(depth: int) -> list[Any]:
    """Return arrays nested `depth` deep, built without recursion."""
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def deep_json(depth: int) -> bytes:
    """Return JSON arrays nested `depth` deep: past the decoder's recursion limit."""
    return b"[" * depth + b"]" * depth


# Texts a parser may trip over: times out of range or without a zone, numbers
# as text, a lone surrogate, blanks.
ODD_TEXTS: Final = (
    "",
    " ",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-11-21T10:00:00Z",
    "2026-11-21T10:00:00",
    "1e400",
    "NaN",
    "-1",
    "\ud800",
    "caf\u00e9",
    "+15550100001",
    "/communications/calls/c1",
)


def json_values(*texts: str) -> st.SearchStrategy[Any]:
    """Any JSON value, leaning on the odd ones and on `texts` (the provider's words)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([10**400, -(2**64), 2**63]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(ODD_TEXTS + texts),
        st.just(nested(2000)),
    )
    keys = st.text(max_size=6) | st.sampled_from(texts or ("state",))
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3)
        ),
        max_leaves=6,
    )


type Path = tuple[str | int, ...]


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path to a field of a document: object keys and array positions."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    found: list[Path] = []
    for key, child in children:
        path = (*prefix, key)
        found.append(path)
        found.extend(_paths(child, path))
    return found


def _replaced(value: Any, path: Sequence[str | int], new: Any) -> Any:
    """Return `value` with the field at `path` set to `new` (or removed).

    Copies only the objects and arrays on the path, never a value put in
    before (which may be nested too deep to copy).
    """
    head, *rest = path
    if isinstance(value, dict) and isinstance(head, str):
        copy: dict[str, Any] = dict(value)
        if rest:
            if head in copy:
                copy[head] = _replaced(copy[head], rest, new)
        elif new is _REMOVED:
            copy.pop(head, None)
        else:
            copy[head] = new
        return copy
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        items = list(value)
        if rest:
            items[head] = _replaced(items[head], rest, new)
        elif new is _REMOVED:
            del items[head]
        else:
            items[head] = new
        return items
    return value  # an earlier change replaced this part


_REMOVED: Final = object()


def mutated(template: Any, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid document with one to four fields replaced by `values`, or removed.

    And now and then a field nobody asked for, anywhere. (Built once per
    template: making strategies for every example is what costs.)
    """
    paths = _paths(template)
    changes = st.lists(
        st.tuples(st.sampled_from(paths), values | st.just(_REMOVED)),
        min_size=1,
        max_size=4,
    )
    extra = st.none() | st.tuples(
        st.sampled_from([(), *paths]), st.text(max_size=6), values
    )

    def apply(drawn: tuple[list[tuple[Path, Any]], Any]) -> Any:
        document = template
        changed, added = drawn
        for path, new in changed:
            document = _replaced(document, path, new)
        if added is not None:
            parent, key, new = added
            document = _replaced(document, (*parent, key), new)
        return document

    return st.tuples(changes, extra).map(apply)


def encode(document: Any) -> bytes:
    """Encode a document as a sender may: NaN and Infinity as JavaScript spells them."""
    return json.dumps(document).encode()


@st.composite
def byte_mutations(draw: st.DrawFn, body: bytes) -> bytes:
    """`body` with one to four bytes changed, removed or put in."""
    data = bytearray(body)
    pieces = st.sampled_from([b"[", b"{", b'"', b"\\", b"\xff", b"\x00", b"1e400"])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        match draw(st.sampled_from(("change", "remove", "insert"))):
            case "change" if position < len(data):
                data[position] = draw(st.integers(0, 255))
            case "remove" if position < len(data):
                del data[position]
            case _:
                data[position:position] = draw(pieces | st.binary(max_size=3))
    return bytes(data)


def header_values() -> st.SearchStrategy[str]:
    """Header values as aiohttp hands them over: undecodable bytes as surrogates."""
    return st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            ["", " ", "\udcff\udcfe", "9" * 400, "\uff11\uff12", "Bearer \udcff"]
        ),
        st.binary(max_size=40).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    )


def complete[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits (a parser's work is all local) to its end."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise AssertionError("the parser waited for something")


def outcome(parse: Callable[[], list[CallEvent]]) -> list[CallEvent] | Exception:
    """Run a parser on hostile input: well-formed events, or one of its two refusals."""
    try:
        events = parse()
    except (InvalidPayloadError, InvalidSignatureError) as err:
        return err
    assert isinstance(events, list)
    for event in events:
        assert_well_formed(event)
    return events


def assert_well_formed(event: CallEvent) -> None:
    """Check every field of an event holds what the model and Home Assistant need."""
    assert isinstance(event, CallEvent)
    assert _is_text(event.event_id)
    assert _is_text(event.call_id)
    when, rank = event.order
    assert isinstance(when, float | int)
    assert math.isfinite(when)
    assert isinstance(rank, int)
    assert isinstance(event.state, CallState)
    assert isinstance(event.device_ids, tuple)
    assert all(_is_text(device) for device in event.device_ids)
    assert event.direction is None or isinstance(event.direction, Direction)
    for text in (event.remote_number, event.remote_name, event.local_number):
        assert text is None or _is_text(text)
    for moment in (event.occurred_at, event.started_at):
        assert moment is None or _showable(moment)
    assert event.end_reason is None or isinstance(event.end_reason, EndReason)
    assert event.actions is None or all(
        isinstance(action, CallAction) for action in event.actions
    )
    # Diagnostics write raw as strict JSON.
    json.dumps(event.raw, allow_nan=False).encode()
    for value in event.raw.values():
        assert isinstance(value, str | int | float)
        if isinstance(value, int):
            assert -_MAX_INTEGER <= value <= _MAX_INTEGER
        if isinstance(value, str):
            value.encode()  # no lone surrogates


def _is_text(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    value.encode()  # no lone surrogates
    return True


def _showable(moment: datetime) -> bool:
    assert moment.tzinfo is not None
    for zone in _ZONES:
        moment.astimezone(zone)
    moment.timestamp()
    return True
