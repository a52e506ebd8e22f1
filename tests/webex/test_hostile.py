"""Hostile Webex webhooks: whatever a delivery holds, it ends in a deliberate answer.

The parser is driven directly with thousands of generated deliveries (any
JSON in any field of every event it reads, byte mutations of signed bodies,
hostile signature headers), then Home Assistant's real webhook endpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
import logging
import time
from typing import Any

from homeassistant.core import HomeAssistant
from hypothesis import given, strategies as st
import pytest

from custom_components.switchboard.providers.model import (
    CallEvent,
    CallState,
    InvalidPayloadError,
    InvalidSignatureError,
)
from custom_components.switchboard.providers.webex import WebexClient, signature
from tests.fixtures.webex import WEBEX_DESK_PHONE, WEBEX_WEBHOOK_ID
from tests.helpers import HAClient, record_events, state_of
from tests.providers.hostile import (
    byte_mutations,
    complete,
    deep_json,
    encode,
    examples,
    header_values,
    json_values,
    mutated,
    outcome,
)
from tests.simulators.webex import WebexSimulator
from tests.webex.test_client import (
    CAPTURE_ANSWERED,
    CAPTURE_DISCONNECTED,
    CAPTURE_ENVELOPE,
    CAPTURE_RECEIVED,
)

DESK = "sensor.cisco_8865_kitchen_call"
DESK_EVENT = "event.cisco_8865_kitchen_call_activity"
CAPTURE_HELD = {
    **CAPTURE_ANSWERED,
    "data": {**CAPTURE_ANSWERED["data"], "eventType": "updated", "state": "held"},
}
TEMPLATES = (CAPTURE_RECEIVED, CAPTURE_ANSWERED, CAPTURE_HELD, CAPTURE_DISCONNECTED)
WORDS = (
    "telephony_calls",
    "created",
    "updated",
    "deleted",
    "received",
    "answered",
    "disconnected",
    "alerting",
    "connected",
    "held",
    "remoteHeld",
    "terminator",
    "originator",
    "clickToDial",
)


def signed(secret: str, body: bytes) -> dict[str, str]:
    return {"X-Spark-Signature": signature(secret, body)}


@pytest.fixture
async def client(webex_client: WebexClient) -> WebexClient:
    """The client with the user's endpoints read, as after set-up."""
    assert await webex_client.async_get_devices()
    return webex_client


def parse(client: WebexClient, headers: dict[str, str], body: bytes) -> list[CallEvent]:
    return complete(client.async_parse_webhook(headers, body, time.time()))


# --- the parser, with generated deliveries ---


async def test_any_value_in_any_field_of_every_event(
    client: WebexClient, webex_secret: str
) -> None:
    values = json_values(*WORDS)
    documents = st.one_of([mutated(template, values) for template in TEMPLATES])
    seen: list[list[CallEvent] | Exception] = []

    @examples(1000)
    @given(documents)
    def check(document: Any) -> None:
        body = encode(document)
        seen.append(outcome(lambda: parse(client, signed(webex_secret, body), body)))

    check()
    # Signed, so every one reached the parser: some were read, some refused.
    assert any(isinstance(result, InvalidPayloadError) for result in seen)
    assert any(isinstance(result, list) and result for result in seen)
    assert not any(isinstance(result, InvalidSignatureError) for result in seen)


async def test_mutations_of_signed_bodies(
    client: WebexClient, webex_secret: str
) -> None:
    valid = encode(CAPTURE_RECEIVED)

    @examples(600)
    @given(byte_mutations(valid))
    def check(body: bytes) -> None:
        result = outcome(lambda: parse(client, signed(webex_secret, body), body))
        assert not isinstance(result, InvalidSignatureError)

    check()


async def test_a_changed_body_is_refused_before_it_is_read(
    client: WebexClient, webex_secret: str
) -> None:
    valid = encode(CAPTURE_RECEIVED)
    headers = signed(webex_secret, valid)

    @examples(600)
    @given(byte_mutations(valid).filter(lambda body: body != valid))
    def check(body: bytes) -> None:
        with pytest.raises(InvalidSignatureError):
            parse(client, headers, body)

    check()


async def test_hostile_signature_headers_are_refused(
    client: WebexClient, webex_secret: str
) -> None:
    valid = encode(CAPTURE_RECEIVED)

    @examples(500)
    @given(header_values())
    def check(value: str) -> None:
        with pytest.raises(InvalidSignatureError):
            parse(client, {"X-Spark-Signature": value}, valid)

    check()


# --- the deliveries that used to raise, and unknown states ---


async def test_deeply_nested_arrays_are_refused(
    client: WebexClient, webex_secret: str
) -> None:
    body = deep_json(100_000)
    with pytest.raises(InvalidPayloadError, match="not JSON"):
        parse(client, signed(webex_secret, body), body)


def delivery(call_id: Any, event: str, **data: Any) -> bytes:
    """A telephony_calls delivery about `call_id`, stamped now."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return encode(
        {
            **CAPTURE_ENVELOPE,
            "event": event,
            "data": {
                "callId": call_id,
                "personality": "terminator",
                "eventTimestamp": stamp,
                **data,
            },
        }
    )


async def test_an_unknown_state_never_moves_a_call_back(
    client: WebexClient, webex_secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, "custom_components.switchboard.providers.webex")

    def read(body: bytes) -> list[CallEvent]:
        return parse(client, signed(webex_secret, body), body)

    [ringing] = read(delivery("c1", "created", eventType="received", state="parked"))
    assert ringing.state is CallState.RINGING  # a new call: it is news
    [talking] = read(delivery("c1", "updated", eventType="answered", state="?"))
    assert talking.state is CallState.TALKING
    assert read(delivery("c1", "updated", eventType="updated", state="parked")) == []
    assert read(delivery("c1", "updated", eventType="updated", state=["x"])) == []
    [held] = read(delivery("c1", "updated", eventType="updated", state="held"))
    assert held.state is CallState.ON_HOLD
    answered = {"answered": "2026-11-21T10:00:00.000Z"}
    assert read(delivery("c1", "updated", state="mystery", **answered)) == []
    # A documented state still moves it wherever Webex says.
    [resumed] = read(delivery("c1", "updated", eventType="resumed", state="connected"))
    assert resumed.state is CallState.TALKING
    skipped = [r for r in caplog.records if r.getMessage().startswith("Skipped")]
    assert len(skipped) == 3
    assert {r.levelno for r in skipped} == {logging.DEBUG}


# --- through Home Assistant's webhook ---


async def chunks(size: int) -> AsyncIterator[bytes]:
    """A body sent chunked, with no Content-Length."""
    piece = b" " * 65536
    for _ in range(size // len(piece)):
        yield piece


@pytest.mark.usefixtures("setup_webex")
async def test_hostile_deliveries_get_deliberate_answers(
    hass: HomeAssistant,
    ha_client: HAClient,
    webex: WebexSimulator,
    webex_secret: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    call_id = await webex.ring("+15557654321", "Ada Lovelace")
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_DESK_PHONE))
    await webex.wait_for_webhooks()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, DESK).state == "talking"
    fired = record_events(hass, DESK_EVENT)
    caplog.clear()

    url = f"/api/webhook/{WEBEX_WEBHOOK_ID}"
    huge = 17 * 1024 * 1024
    assert (await ha_client.post(url, data=b" " * huge)).status == 413
    assert (await ha_client.post(url, data=chunks(huge))).status == 413
    deep = deep_json(100_000)
    unknown = delivery(call_id, "updated", eventType="updated", state="parked")
    cases = [
        (deep, {}, 401),
        (deep, signed(webex_secret, deep), 400),
        (unknown, {"X-Spark-Signature": "\u00e9" * 40}, 401),
        (unknown, signed("not-the-secret", unknown), 401),
        (delivery(call_id, "updated", eventTimestamp="0001-01-01T00:00:00"), None, 400),
        (delivery(["c"], "updated"), None, 400),
        # Authentic, readable, and no news: taken, and nothing moves back.
        (unknown, None, 200),
    ]
    for body, headers, status in cases:
        response = await ha_client.post(
            url,
            data=body,
            headers=signed(webex_secret, body) if headers is None else headers,
        )
        assert response.status == status
    await hass.async_block_till_done()
    assert state_of(hass, DESK).state == "talking"
    assert fired == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text
