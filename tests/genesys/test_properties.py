"""Property-based tests: whatever a CometD reply holds, it ends deliberately.

Arbitrary JSON values go into every field of every message the Genesys
parser and the Bayeux client read: call messages and their calls, device and
error messages, handshake, subscribe and connect replies and their advice,
and whole reply bodies. The functions are tested directly (no HTTP), so a few
thousand cases run in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from datetime import UTC, datetime
from functools import partial
import json
import math
from typing import Any, cast

import aiohttp
from hypothesis import example, given, strategies as st
import pytest

from custom_components.switchboard.calls import CallBook
from custom_components.switchboard.providers import bayeux
from custom_components.switchboard.providers.bayeux import (
    BayeuxClient,
    StreamRefusedError,
    _DropError,
)
from custom_components.switchboard.providers.genesys import PHASES, GenesysClient
from custom_components.switchboard.providers.model import (
    AuthenticationError,
    CallEvent,
    CallState,
)
from tests.providers.hostile import (
    assert_well_formed,
    deep_json,
    examples,
    json_values,
    mutated,
)
from tests.simulators.genesys import GenesysSimulator

# The parser and the Bayeux client never touch the session in these tests.
NO_SESSION = cast("aiohttp.ClientSession", None)
# Each test runs this many cases; a few thousand in all.
CASES = examples(300)

# Any JSON value, leaning on the words GWS and Bayeux use.
JSON = json_values(
    "Ringing",
    "Established",
    "Held",
    "Released",
    "CallStateChangeMessage",
    "none",
    "handshake",
    "retry",
    "402::Unknown client",
    "/meta/connect",
)


def either(*plausible: Any) -> st.SearchStrategy[Any]:
    """A plausible value of a field, or any JSON value at all."""
    return st.sampled_from(plausible) | JSON


def fields(**values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object where each field may be missing, plausible or anything."""
    return st.fixed_dictionaries({}, optional=values)


# --- Genesys messages ---

CALLS = fields(
    id=either("c1", "c2", "0071027192600001"),
    callUuid=either("01RCC3N1", "01RCC3N2"),
    connId=either("c1", "conn-1"),
    state=either("Ringing", "Dialing", "Established", "Held", "Released", "Exploded"),
    callType=either("Inbound", "Outbound", "Internal", "Consult"),
    deviceUri=either("https://gws/api/v2/devices/desk", "/", "desk"),
    participants=either(
        [{"phoneNumber": "5005"}, {"digits": "+15550001111", "displayName": "Ada"}],
        ["1001", 7],
    ),
    participantsInfo=either([{}, {"name": "Bob"}]),
    dnis=either("5005", "15002"),
    ani=either("+15550001111"),
    capabilities=either(["Answer", "HangUp"], ["Hangup", 5, None]),
    duration=either("22", 22, "soon", -5, 10**30, 1e400, "1e400"),
    userData=JSON,
)
CALL_DATA = fields(
    messageType=either("CallStateChangeMessage", "DeviceStateChangeMessage"),
    notificationType=either("StatusChange", "AttachedDataChanged"),
    call=CALLS | JSON,
    phoneNumber=either("5005", "+15550100777"),
    metrics=either({"eventProcessing": {"serverGenerationTimestamp": 1700000000}}),
    extensions=JSON,
)
OTHER_DATA = fields(
    messageType=either("DeviceStateChangeMessage", "ErrorMessage"),
    devices=JSON,
    errorMessage=either("Invalid state for Answer", None),
)
MESSAGES = fields(
    channel=either("/v2/me/calls", "/v2/me/devices"),
    id=either("1", 2, "x"),
    data=CALL_DATA | OTHER_DATA | JSON,
)
KNOWN_STATES = {"ringing", "dialing", "established", "held", "released", "completed"}
GOOD = {
    "channel": "/v2/me/calls",
    "data": {
        "messageType": "CallStateChangeMessage",
        "call": {"id": "good", "state": "Ringing", "callType": "Inbound"},
    },
}


def published_ring() -> dict[str, Any]:
    """A CallStateChangeMessage exactly as the simulator publishes a ring."""
    sim = GenesysSimulator()
    sim.ring(sim.add_device("5005"), caller="+15551234567")
    return sim.published[-1]


# A valid message with fields replaced by anything, removed, or added.
MUTATED = mutated(published_ring(), JSON)


def genesys_client() -> GenesysClient:
    return GenesysClient(NO_SESSION, "https://gws.example.com", "agent", "secret")


def assert_sane(event: CallEvent, now: datetime) -> None:
    assert_well_formed(event)
    assert event.order[0] == PHASES[event.state]
    assert len(event.event_id) < 400
    if event.started_at is not None:
        assert event.started_at <= now


@CASES
@given(message=MUTATED)
def test_any_mutation_of_a_published_message_parses_or_is_skipped(
    message: dict[str, Any],
) -> None:
    client = genesys_client()
    events = client.parse_message(message)
    now = datetime.now(UTC)
    for event in events:
        assert_sane(event, now)
    if not has_known_state(message):
        assert events == []


@CASES
@given(message=MESSAGES)
@example({"data": {"call": {"id": "c1", "state": "Ringing", "duration": 1e400}}})
@example({"data": {"call": {"id": "c1", "state": "Ringing", "duration": 10**30}}})
@example({"data": {"call": {"id": "c1", "state": ["Ringing"], "callType": {}}}})
@example({"id": 10**40, "data": {"call": {"id": "c1", "state": "Held"}}})
@example({"data": {"errorMessage": {"nested": [1]}}})
def test_any_message_parses_or_is_skipped(message: dict[str, Any]) -> None:
    client = genesys_client()
    events = client.parse_message(message)
    now = datetime.now(UTC)
    assert len(events) <= 1
    for event in events:
        assert_sane(event, now)
    if not has_known_state(message):
        # An unknown state says nothing.
        assert events == []


def has_known_state(message: dict[str, Any]) -> bool:
    data = message.get("data")
    call = data.get("call") if isinstance(data, dict) else None
    state = call.get("state") if isinstance(call, dict) else None
    return isinstance(state, str) and state.lower() in KNOWN_STATES


@CASES
@given(before=st.lists(MESSAGES, max_size=3), after=st.lists(MESSAGES, max_size=3))
def test_a_malformed_message_never_costs_the_others(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    client = genesys_client()
    events = client.read_messages([*before, GOOD, *after])
    assert any(e.call_id == "good" and e.state is CallState.RINGING for e in events)


@CASES
@given(later=CALLS)
def test_no_message_moves_an_answered_call_back(later: dict[str, Any]) -> None:
    client = genesys_client()
    book = CallBook()
    talking = {"id": "c1", "state": "Established", "callType": "Inbound"}
    book.apply_all(
        client.read_messages([{"channel": "/v2/me/calls", "data": {"call": talking}}])
    )
    message = {"channel": "/v2/me/calls", "data": {"call": {**later, "id": "c1"}}}
    book.apply_all(client.read_messages([message]))
    call = book.get("c1")
    assert call is None or call.state in (CallState.TALKING, CallState.ON_HOLD)


@CASES
@given(items=st.lists(CALLS | JSON, max_size=4))
def test_a_snapshot_item_parses_or_is_skipped(items: list[Any]) -> None:
    client = genesys_client()
    now = datetime.now(UTC)
    for item in items:
        if isinstance(item, dict):
            event = client._event(item, 1, now, source="snapshot")
            if event is not None:
                assert_sane(event, now)


# --- Bayeux replies ---

ADVICE = fields(
    reconnect=either("retry", "handshake", "none", "sometimes"),
    interval=either(0, 500, 86_400_000, -1, 1e400, 10**400, "5"),
    timeout=either(0, 30_000, 86_400_000, -1, 1e400, 10**400, True),
    maxInterval=JSON,
)
REPLIES = fields(
    channel=either("/meta/handshake", "/meta/subscribe", "/meta/connect"),
    id=either("1", 1),
    successful=either(True, False, "true", 1),
    clientId=either("abc", "", 5),
    error=either("402::Unknown client", "401::", "403::denied", "500::busy", ""),
    advice=ADVICE | JSON,
    subscription=JSON,
    data=JSON,
)
DELIBERATE = (_DropError, AuthenticationError, StreamRefusedError)


def bayeux_client() -> BayeuxClient:
    return BayeuxClient(NO_SESSION, "https://gws.example.com/cometd", subscriptions=())


def assert_advice_sane(client: BayeuxClient) -> None:
    assert client._reconnect in bayeux.ADVICES
    assert math.isfinite(client._interval)
    assert 0 <= client._interval <= bayeux.MAX_INTERVAL
    assert math.isfinite(client._timeout)
    assert 0 <= client._timeout <= bayeux.MAX_TIMEOUT
    assert client._asked_timeout in (None, bayeux.MAX_TIMEOUT)


def advised_none(reply: dict[str, Any]) -> bool:
    advice = reply.get("advice")
    return isinstance(advice, dict) and advice.get("reconnect") == "none"


@CASES
@given(body=JSON | st.lists(REPLIES | JSON, max_size=4) | REPLIES)
def test_any_reply_body_is_read_or_dropped(body: Any) -> None:
    client = bayeux_client()
    try:
        replies, events = client._read_reply(json.dumps(body).encode())
    except DELIBERATE:
        return
    for item in (*replies, *events):
        assert isinstance(item, dict)
        assert isinstance(item["channel"], str)
    assert all(r["channel"].startswith("/meta/") for r in replies)
    assert not any(e["channel"].startswith("/meta/") for e in events)


@CASES
@given(raw=st.binary(max_size=64))
def test_any_bytes_are_read_or_dropped(raw: bytes) -> None:
    client = bayeux_client()
    with contextlib.suppress(*DELIBERATE):
        client._read_reply(raw)


def test_a_deeply_nested_reply_is_dropped() -> None:
    client = bayeux_client()
    for deep in (deep_json(100_000), b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        with pytest.raises(_DropError, match="not JSON"):
            client._read_reply(deep)


def outcome(action: Callable[[], object]) -> Exception | None:
    """Run `action`; return the deliberate exception it ended in, if any."""
    try:
        action()
    except DELIBERATE as err:
        return err
    return None


@CASES
@given(reply=REPLIES)
@example({"successful": True, "clientId": "a", "advice": {"reconnect": "none"}})
@example({"successful": True, "clientId": "a", "advice": {"interval": 86_400_000}})
@example({"successful": False, "advice": {"reconnect": "none"}})
@example({"successful": True, "clientId": "\ud800"})
def test_any_handshake_reply_ends_deliberately(reply: dict[str, Any]) -> None:
    client = bayeux_client()
    client_ids: list[str] = []
    ended = outcome(lambda: client_ids.append(client._read_handshake(reply)))
    if ended is None:
        assert reply["successful"] is True
        assert client_ids == [reply["clientId"]]
        assert not advised_none(reply)
    assert_advice_sane(client)


@CASES
@given(reply=REPLIES)
def test_any_subscribe_reply_ends_deliberately(reply: dict[str, Any]) -> None:
    client = bayeux_client()
    message = {"channel": "/meta/subscribe", "subscription": "/v2/me/calls"}
    ended = outcome(lambda: client._read_subscribe(message, reply))
    if isinstance(ended, StreamRefusedError):
        assert advised_none(reply)
    elif isinstance(ended, _DropError):
        # Whatever the server kept of the session, a clean one starts.
        assert ended.rehandshake
        assert not advised_none(reply)
    else:
        assert ended is None
        assert reply["successful"] is True
    assert_advice_sane(client)


@CASES
@given(replies=st.lists(REPLIES, min_size=1, max_size=3))
@example([{"successful": True, "advice": {"reconnect": "none"}}])
@example([{"successful": False, "error": "402::Unknown client"}])
@example([{"successful": False, "error": "401::", "advice": {"timeout": 10**400}}])
@example([{"successful": True, "advice": {"timeout": 1e400, "interval": -1}}])
@example([{"successful": True, "advice": {"reconnect": "handshake"}}])
def test_any_connect_reply_ends_deliberately(replies: list[dict[str, Any]]) -> None:
    client = bayeux_client()
    for reply in replies:
        ended = outcome(partial(client._read_connect, reply))
        assert_advice_sane(client)
        if isinstance(ended, StreamRefusedError):
            # Bayeux's "none": stop, never a new handshake or connect.
            assert advised_none(reply)
            return
        if isinstance(ended, _DropError):
            assert not advised_none(reply)
            if unknown_client(reply):
                # The server no longer knows the client: a new handshake.
                assert ended.rehandshake
            assert ended.interval is not None
            assert 0 <= ended.interval <= bayeux.MAX_INTERVAL
        else:
            assert ended is None
            assert reply["successful"] is True
            assert client._reconnect == "retry"


def unknown_client(reply: dict[str, Any]) -> bool:
    error = reply.get("error")
    if not isinstance(error, str) or not error.isascii():
        return False
    return error.split(":", 1)[0].strip() in {"401", "402", "403"}


@CASES
@given(
    drops=st.lists(
        st.tuples(st.booleans(), st.none() | st.floats(0, bayeux.MAX_INTERVAL)),
        min_size=1,
        max_size=12,
    )
)
def test_waits_are_bounded_and_advice_is_not_followed_in_a_loop(
    drops: list[tuple[bool, float | None]],
) -> None:
    client = bayeux_client()
    advised_in_a_row = 0
    for rehandshake, interval in drops:
        delay = client._dropped_after(
            _DropError("drop", rehandshake=rehandshake, interval=interval)
        )
        assert 0 <= delay <= max(bayeux.MAX_BACKOFF, bayeux.MAX_INTERVAL)
        advised_in_a_row = advised_in_a_row + 1 if interval is not None else 0
        if advised_in_a_row >= 2:
            # The second advised drop without a connect between backs off.
            assert delay >= bayeux.FIRST_BACKOFF
