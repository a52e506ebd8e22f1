"""Hostile Graph notifications: whatever a POST holds, it ends in a deliberate answer.

The client is driven directly with thousands of generated deliveries (any
JSON in any field of every notification it reads, a broken notification
next to a good one, odd token claims and headers, hostile Authorization
headers), then Home Assistant's real webhook endpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
import json
import logging
import math
import time
from typing import Any

from homeassistant.core import HomeAssistant
from hypothesis import given, reject, strategies as st
import jwt
import pytest

from custom_components.switchboard.providers.graph import GraphClient
from custom_components.switchboard.providers.model import (
    CallEvent,
    CallState,
    EndReason,
    InvalidPayloadError,
    InvalidSignatureError,
)
from tests.fixtures.graph import GRAPH_WEBHOOK_ID
from tests.helpers import HAClient, record_events, state_of
from tests.providers.hostile import (
    byte_mutations,
    deep_json,
    encode,
    examples,
    header_values,
    json_values,
    mutated,
    outcome,
)
from tests.simulators.graph import GraphSimulator

from .notifications import CALL, RESULT, bearer, call_data, envelope, item, parse

SENSOR = "sensor.teams_calling_bot_call"
EVENT = "event.teams_calling_bot_call_activity"
WORDS = (
    "created",
    "updated",
    "deleted",
    "incoming",
    "establishing",
    "established",
    "hold",
    "terminated",
    "Established",
    "resourceUrl",
    "resource",
    "resourceData",
    "changeType",
    "state",
    "code",
    "/communications/calls/c1/operations/o1",
)


TEMPLATES = (
    item("created", call_data("incoming")),
    item("updated", call_data("established")),
    item("updated", call_data("hold")),
    item("deleted", call_data("terminated", resultInfo=RESULT)),
    item("deleted", {"status": "completed"}, f"{CALL}/operations/o1"),
    item("updated", [{"id": "p1"}], f"{CALL}/participants"),
)


# --- the client, with generated deliveries ---


async def test_any_value_in_any_field_of_every_notification(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    values = json_values(*WORDS)
    documents = st.one_of(
        [mutated(envelope(template), values) for template in TEMPLATES]
    )
    headers = bearer(graph)
    seen: list[list[CallEvent] | Exception] = []

    @examples(1000)
    @given(documents)
    def check(document: Any) -> None:
        body = encode(document)
        seen.append(outcome(lambda: parse(keyed_client, headers, body)))

    check()
    # Verified, so every one reached the reader: some were read, some refused.
    assert any(isinstance(result, InvalidPayloadError) for result in seen)
    assert any(isinstance(result, list) and result for result in seen)
    assert not any(isinstance(result, InvalidSignatureError) for result in seen)


async def test_a_broken_notification_spoils_only_itself(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    values = json_values(*WORDS)
    broken = st.one_of([mutated(template, values) for template in TEMPLATES]) | values
    good = item("updated", call_data("established", "/communications/calls/good"))
    headers = bearer(graph)

    @examples(500)
    @given(broken, st.booleans())
    def check(notification: Any, good_first: bool) -> None:
        items = [good, notification] if good_first else [notification, good]
        events = outcome(lambda: parse(keyed_client, headers, encode(envelope(*items))))
        assert isinstance(events, list)
        assert [e.state for e in events if e.call_id == "good"] == [CallState.TALKING]

    check()


async def test_mutations_of_verified_bodies(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    valid = encode(envelope(TEMPLATES[0], TEMPLATES[3]))
    headers = bearer(graph)

    @examples(600)
    @given(byte_mutations(valid))
    def check(body: bytes) -> None:
        assert not isinstance(
            outcome(lambda: parse(keyed_client, headers, body)), InvalidSignatureError
        )

    check()


async def test_odd_token_claims_and_headers(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    values = json_values("RS256", "HS256", graph.kid, graph.x5t, graph.client_id)
    claims = mutated(graph.notification_claims(), values)
    fields = st.dictionaries(
        st.sampled_from(["kid", "x5t", "alg", "typ", "crit"]), values
    )
    body = encode(envelope(TEMPLATES[1]))

    @examples(300)
    @given(claims, fields)
    def check(payload: dict[str, Any], extra: dict[str, Any]) -> None:
        try:
            token = jwt.encode(
                payload,
                graph.signing_key,
                algorithm="RS256",
                headers={"kid": graph.kid, **extra},
            )
        except jwt.PyJWTError, NotImplementedError, TypeError, ValueError:
            reject()  # not a token anyone can make
        result = outcome(
            lambda: parse(keyed_client, {"Authorization": f"Bearer {token}"}, body)
        )
        if isinstance(result, list):
            # Accepted only with times that are finite numbers, now in force.
            exp = payload["exp"]
            assert isinstance(exp, int | float)
            assert math.isfinite(exp)
            assert exp > time.time() - 300
        else:
            assert isinstance(result, InvalidSignatureError)

    check()


async def test_hostile_authorization_headers_are_refused(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    token = graph.notification_token().encode()
    body = encode(envelope(TEMPLATES[0]))

    @examples(500)
    @given(
        header_values()
        | byte_mutations(token)
        .map(lambda changed: changed.decode("utf-8", "surrogateescape"))
        # Blanks put in only around the token are a header's own optional
        # whitespace: the same token, rightly accepted.
        .filter(lambda changed: changed.strip() != token.decode())
        .map(lambda changed: "Bearer " + changed)
    )
    def check(value: str) -> None:
        with pytest.raises(InvalidSignatureError):
            parse(keyed_client, {"Authorization": value}, body)

    check()


# --- the deliveries that used to raise or be lost ---


async def test_a_list_where_a_name_belongs_spoils_only_its_notification(
    keyed_client: GraphClient, graph: GraphSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "custom_components.switchboard.providers.graph")
    body = encode(
        envelope(
            {**item("updated", call_data("established")), "changeType": ["updated"]},
            item("updated", call_data(["established"])),
            item("created", call_data("incoming", "/communications/calls/new")),
        )
    )
    [event] = parse(keyed_client, bearer(graph), body)
    assert (event.call_id, event.state) == ("new", CallState.RINGING)
    skipped = [r for r in caplog.records if r.getMessage().startswith("Skipped")]
    assert [r.getMessage() for r in skipped] == [
        "Skipped notification 0 of 3: notification without a changeType",
        "Skipped notification 1 of 3: state is not a string",
    ]
    assert {r.levelno for r in skipped} == {logging.DEBUG}


async def test_a_result_code_past_any_number_still_ends_the_call(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    parse(
        keyed_client,
        bearer(graph),
        encode(envelope(item("created", call_data("incoming")))),
    )
    body = (
        json.dumps(
            envelope(item("deleted", call_data("terminated", resultInfo={"code": 0})))
        )
        .replace('"code": 0', '"code": 1e400, "subcode": -1e400')
        .encode()
    )
    [event] = parse(keyed_client, bearer(graph), body)
    assert event.state is CallState.ENDED
    assert event.end_reason is EndReason.MISSED  # never answered
    assert "result_code" not in event.raw


@pytest.mark.parametrize(
    "exp", [math.nan, math.inf, -math.inf, 10**400], ids=["NaN", "inf", "-inf", "1e400"]
)
async def test_token_times_that_are_no_time_are_refused(
    keyed_client: GraphClient, graph: GraphSimulator, exp: float
) -> None:
    body = encode(envelope(TEMPLATES[0]))
    for claims in ({"exp": exp}, {"nbf": exp}):
        with pytest.raises(InvalidSignatureError, match="finite"):
            parse(keyed_client, bearer(graph, claims=claims), body)


async def test_deeply_nested_arrays_are_refused(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    with pytest.raises(InvalidPayloadError, match="not JSON"):
        parse(keyed_client, bearer(graph), deep_json(100_000))


# --- through Home Assistant's webhook ---


async def chunks(size: int) -> AsyncIterator[bytes]:
    """A body sent chunked, with no Content-Length."""
    piece = b" " * 65536
    for _ in range(size // len(piece)):
        yield piece


@pytest.mark.usefixtures("setup_graph")
async def test_hostile_deliveries_get_deliberate_answers(
    hass: HomeAssistant,
    ha_client: HAClient,
    graph: GraphSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fired = record_events(hass, EVENT)
    url = f"/api/webhook/{GRAPH_WEBHOOK_ID}"

    async def post(body: Any, headers: Mapping[str, str] | None = None) -> int:
        response = await ha_client.post(
            url, data=body, headers=bearer(graph) if headers is None else headers
        )
        return response.status

    huge = 17 * 1024 * 1024
    assert await post(b" " * huge, {}) == 413
    assert await post(chunks(huge), {}) == 413
    deep = deep_json(100_000)
    assert await post(deep, {}) == 401
    assert await post(deep) == 400
    incoming = encode(envelope(item("created", call_data("incoming"))))
    for claims in ({"exp": math.nan}, {"exp": math.inf}, {"nbf": math.nan}):
        assert await post(incoming, bearer(graph, claims=claims)) == 401
    await hass.async_block_till_done()
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == []

    # A list where a name belongs spoils only its own notification.
    mixed = envelope(
        {**item("updated", call_data("established")), "changeType": ["updated"]},
        item("updated", call_data(["established"])),
        item("created", call_data("incoming")),
    )
    assert await post(encode(mixed)) == 200
    await hass.async_block_till_done()
    assert state_of(hass, SENSOR).state == "ringing"
    # A result code past any number still ends the call.
    ended = json.dumps(
        envelope(item("deleted", call_data("terminated", resultInfo={"code": 0})))
    ).replace('"code": 0', '"code": 1e400')
    assert await post(ended.encode()) == 200
    await hass.async_block_till_done()
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == ["incoming", "missed"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
