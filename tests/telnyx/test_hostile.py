"""Hostile Telnyx webhooks: whatever a delivery holds, it ends in a deliberate answer.

The parser is driven directly with thousands of generated deliveries (any
JSON in any field of every event type, byte mutations of signed bodies,
hostile headers), then Home Assistant's real webhook endpoint with the ones
that used to raise.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
import logging
import time
from typing import Any
from unittest.mock import patch

import aiohttp
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.util.aiohttp import MockRequest
from hypothesis import given, strategies as st
import pytest

from custom_components.switchboard.providers.model import (
    CallEvent,
    CallState,
    InvalidPayloadError,
    InvalidSignatureError,
)
from custom_components.switchboard.providers.telnyx import (
    STATE_EVENTS,
    TelnyxClient,
)
from custom_components.switchboard.webhook import MAX_BODY
from tests.const import CALLER, FRONT_DESK, WEBHOOK_ID
from tests.helpers import EVENT, SENSOR, HAClient, record_events, state_of
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
from tests.simulators.telnyx import TelnyxSimulator

EVENT_TYPES = (*STATE_EVENTS, "call.dtmf.received", "call.speak.ended")
WORDS = (*EVENT_TYPES, "incoming", "outgoing", "normal_clearing", "parked")


def envelope(application_id: str, event_type: str) -> dict[str, Any]:
    """A delivery as Telnyx sends it, for `event_type`."""
    return {
        "data": {
            "record_type": "event",
            "event_type": event_type,
            "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
            "occurred_at": "2026-11-21T10:00:00.000001Z",
            "payload": {
                "call_control_id": "v3:hostile",
                "call_leg_id": "leg-1",
                "call_session_id": "session-1",
                "connection_id": application_id,
                "client_state": "aGk=",
                "from": CALLER,
                "to": FRONT_DESK,
                "direction": "incoming",
                "state": "parked",
                "caller_id_name": "Ada Lovelace",
                "start_time": "2026-11-21T09:59:59.000001Z",
                "hangup_cause": "normal_clearing",
                "hangup_source": "caller",
                "sip_hangup_cause": "200",
            },
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.invalid"},
    }


def signed(telnyx: TelnyxSimulator, body: bytes) -> dict[str, str]:
    sent_at = str(int(time.time()))
    return {
        "Telnyx-Timestamp": sent_at,
        "Telnyx-Signature-Ed25519": telnyx.sign(sent_at, body),
    }


@pytest.fixture
async def client(
    telnyx: TelnyxSimulator, application_id: str
) -> AsyncGenerator[TelnyxClient]:
    """A client that knows the application's numbers, as after set-up."""
    async with aiohttp.ClientSession() as session:
        client = TelnyxClient(
            session,
            telnyx.api_key,
            public_key=telnyx.public_key_b64,
            application_id=application_id,
            base_url=telnyx.base_url,
        )
        assert await client.async_get_devices()
        yield client


# --- the parser, with generated deliveries ---


async def test_any_value_in_any_field_of_every_event_type(
    client: TelnyxClient, telnyx: TelnyxSimulator, application_id: str
) -> None:
    seen: list[list[CallEvent] | Exception] = []

    values = json_values(*WORDS)
    documents = st.one_of(
        [mutated(envelope(application_id, kind), values) for kind in EVENT_TYPES]
    )

    @examples(1000)
    @given(documents)
    def check(document: Any) -> None:
        body = encode(document)
        seen.append(
            outcome(
                lambda: client.parse_webhook(signed(telnyx, body), body, time.time())
            )
        )

    check()
    # Signed, so every one reached the parser: some were read, some refused.
    assert any(isinstance(result, InvalidPayloadError) for result in seen)
    assert any(isinstance(result, list) and result for result in seen)
    assert not any(isinstance(result, InvalidSignatureError) for result in seen)


async def test_mutations_of_signed_bodies(
    client: TelnyxClient, telnyx: TelnyxSimulator, application_id: str
) -> None:
    valid = encode(envelope(application_id, "call.initiated"))

    @examples(600)
    @given(byte_mutations(valid))
    def check(body: bytes) -> None:
        result = outcome(
            lambda: client.parse_webhook(signed(telnyx, body), body, time.time())
        )
        assert not isinstance(result, InvalidSignatureError)

    check()


async def test_a_changed_body_is_refused_before_it_is_read(
    client: TelnyxClient, telnyx: TelnyxSimulator, application_id: str
) -> None:
    valid = encode(envelope(application_id, "call.initiated"))
    headers = signed(telnyx, valid)

    @examples(600)
    @given(byte_mutations(valid).filter(lambda body: body != valid))
    def check(body: bytes) -> None:
        with pytest.raises(InvalidSignatureError):
            client.parse_webhook(headers, body, time.time())

    check()


async def test_hostile_signature_headers_are_refused(
    client: TelnyxClient, telnyx: TelnyxSimulator, application_id: str
) -> None:
    valid = encode(envelope(application_id, "call.initiated"))
    genuine = signed(telnyx, valid)

    @examples(500)
    @given(
        st.one_of(header_values(), st.just(genuine["Telnyx-Timestamp"])),
        st.one_of(header_values(), st.just(genuine["Telnyx-Signature-Ed25519"])),
    )
    def check(timestamp: str, signature: str) -> None:
        headers = {"Telnyx-Timestamp": timestamp, "Telnyx-Signature-Ed25519": signature}
        if headers == genuine:
            assert client.parse_webhook(headers, valid, time.time())
            return
        with pytest.raises(InvalidSignatureError):
            client.parse_webhook(headers, valid, time.time())

    check()


# --- the deliveries that used to raise ---


def with_data(application_id: str, **data: Any) -> bytes:
    document = envelope(application_id, "call.initiated")
    return encode({**document, "data": {**document["data"], **data}})


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"event_type": ["call.initiated"]}, id="event_type a list"),
        pytest.param({"event_type": {"call": 1}}, id="event_type an object"),
        pytest.param({"occurred_at": "0001-01-01T00:00:00"}, id="year 1 without zone"),
        pytest.param({"occurred_at": "9999-12-31T23:59:59-01:00"}, id="past year 9999"),
        pytest.param({"id": ["evt"]}, id="id a list"),
        pytest.param({"payload": {"call_control_id": 5}}, id="call id a number"),
        pytest.param(
            {"payload": {"call_control_id": "\ud800"}}, id="call id surrogate"
        ),
    ],
)
async def test_malformed_signed_deliveries_are_refused(
    client: TelnyxClient,
    telnyx: TelnyxSimulator,
    application_id: str,
    data: dict[str, Any],
) -> None:
    body = with_data(application_id, **data)
    with pytest.raises(InvalidPayloadError):
        client.parse_webhook(signed(telnyx, body), body, time.time())


async def test_deeply_nested_arrays_are_refused(
    client: TelnyxClient, telnyx: TelnyxSimulator
) -> None:
    body = deep_json(100_000)
    with pytest.raises(InvalidPayloadError, match="not JSON"):
        client.parse_webhook(signed(telnyx, body), body, time.time())


async def test_a_timestamp_too_long_for_a_number_is_refused(
    client: TelnyxClient, telnyx: TelnyxSimulator, application_id: str
) -> None:
    body = with_data(application_id)
    timestamp = "9" * 400  # `now - int(...)` would overflow a float
    headers = {
        "Telnyx-Timestamp": timestamp,
        "Telnyx-Signature-Ed25519": telnyx.sign(timestamp, body),
    }
    with pytest.raises(InvalidSignatureError, match="malformed"):
        client.parse_webhook(headers, body, time.time())


async def test_odd_fields_of_a_readable_event_say_nothing(
    client: TelnyxClient, telnyx: TelnyxSimulator, application_id: str
) -> None:
    document = envelope(application_id, "call.hangup")
    document["data"]["payload"].update(
        {
            "start_time": "0001-01-01T00:00:00",
            "hangup_cause": ["normal_clearing"],
            "from": {"number": CALLER},
            "caller_id_name": "\ud800",
            "connection_id": ["elsewhere"],
        }
    )
    body = encode(document)
    [event] = client.parse_webhook(signed(telnyx, body), body, time.time())
    assert event.state is CallState.ENDED
    assert (event.started_at, event.end_reason) == (None, None)
    assert (event.remote_number, event.remote_name) == (None, None)


# --- through Home Assistant's webhook ---


async def chunks(size: int) -> AsyncIterator[bytes]:
    """A body sent chunked, with no Content-Length."""
    piece = b" " * 65536
    for _ in range(size // len(piece)):
        yield piece


@pytest.mark.usefixtures("setup_telnyx")
async def test_hostile_deliveries_get_deliberate_answers(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
    application_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fired = record_events(hass, EVENT)
    url = f"/api/webhook/{WEBHOOK_ID}"
    huge = 17 * 1024 * 1024
    unsigned_huge = await ha_client.post(url, data=b" " * huge)
    chunked_huge = await ha_client.post(url, data=chunks(huge))
    assert (unsigned_huge.status, chunked_huge.status) == (413, 413)
    assert huge > MAX_BODY

    deep = deep_json(100_000)
    cases: list[tuple[bytes, dict[str, str], int]] = [
        (deep, {}, 401),
        (deep, signed(telnyx, deep), 400),
    ]
    for data in (
        {"event_type": ["call.initiated"]},
        {"occurred_at": "0001-01-01T00:00:00"},
    ):
        body = with_data(application_id, **data)
        cases.append((body, signed(telnyx, body), 400))
        cases.append((body, {**signed(telnyx, body), "Telnyx-Timestamp": "1"}, 401))
    body = with_data(application_id)
    cases.append((body, {**signed(telnyx, body), "Telnyx-Timestamp": "9" * 400}, 401))
    for body, headers, status in cases:
        response = await ha_client.post(url, data=body, headers=headers)
        assert response.status == status
    await hass.async_block_till_done()
    assert state_of(hass, SENSOR).state == "idle"
    assert fired == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_")]
    assert ours
    assert not [message for message in ours if WEBHOOK_ID in message]

    # And the webhook still takes a genuine delivery.
    body = with_data(application_id)
    response = await ha_client.post(url, data=body, headers=signed(telnyx, body))
    assert response.status == 200
    await hass.async_block_till_done()
    assert state_of(hass, SENSOR).state == "ringing"


@pytest.mark.parametrize("length", [str(MAX_BODY + 1), "9" * 5000])
@pytest.mark.usefixtures("setup_telnyx")
async def test_a_declared_length_over_the_cap_is_refused_unread(
    hass: HomeAssistant, length: str
) -> None:
    """Even from a cloudhook, whose body is all at hand: the length decides."""
    request = MockRequest(
        content=b"{}",
        mock_source="cloud",
        method="POST",
        headers={"Content-Length": length},
    )
    response = await webhook.async_handle_webhook(hass, WEBHOOK_ID, request)
    assert response.status == 413


@pytest.mark.usefixtures("setup_telnyx")
async def test_a_fault_of_ours_is_answered_not_raised(
    hass: HomeAssistant,
    ha_client: HAClient,
    telnyx: TelnyxSimulator,
    application_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = with_data(application_id)
    with patch.object(TelnyxClient, "parse_webhook", side_effect=RuntimeError("x")):
        response = await ha_client.post(
            f"/api/webhook/{WEBHOOK_ID}", data=body, headers=signed(telnyx, body)
        )
    # Not 200: the sender keeps the event and tries again.
    assert response.status == 500
    assert "Could not handle a webhook delivery of Front desk: RuntimeError" in (
        caplog.text
    )
    assert "Traceback" not in caplog.text
    assert state_of(hass, SENSOR).state == "idle"
