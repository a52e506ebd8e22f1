"""Helpers shared by the integration tests."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from tests.simulators.telnyx import TelnyxSimulator

from .const import CALLER, FRONT_DESK, WEBHOOK_ID

type HAClient = TestClient[web.Request, web.Application]

SENSOR = "sensor.15550100001_call"
EVENT = "event.15550100001_call"
BUTTON = "button.15550100001_answer"
KITCHEN_SENSOR = "sensor.15550100002_call"
KITCHEN_EVENT = "event.15550100002_call"


async def settle(hass: HomeAssistant, telnyx: TelnyxSimulator) -> None:
    """Let every webhook the simulator owes arrive and be handled."""
    await telnyx.wait_for_webhooks()
    await hass.async_block_till_done()


async def ring(
    hass: HomeAssistant, telnyx: TelnyxSimulator, to: str = FRONT_DESK
) -> str:
    """Ring a number from the usual caller and wait for Home Assistant to know."""
    call_id = await telnyx.ring(to, CALLER, caller_id_name="Ada Lovelace")
    await settle(hass, telnyx)
    return call_id


def record_events(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Collect the event types an event entity fires from now on."""
    fired: list[str] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        if (state := event.data["new_state"]) and state.attributes.get("event_type"):
            fired.append(state.attributes["event_type"])

    async_track_state_change_event(hass, entity_id, _changed)
    return fired


def webhook_body(event_type: str, payload: dict[str, Any], event_id: str) -> bytes:
    """A Telnyx v2 webhook envelope."""
    return json.dumps(
        {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": event_id,
                "occurred_at": "2026-11-21T10:00:00.000001Z",
                "payload": payload,
            },
            "meta": {"attempt": 1, "delivered_to": "https://example.invalid"},
        }
    ).encode()


async def post_webhook(
    client: HAClient,
    telnyx: TelnyxSimulator,
    body: bytes,
    *,
    timestamp: int | None = None,
    signature: str | None = None,
) -> ClientResponse:
    """POST a delivery to the entry's webhook, signed by the simulator's key."""
    sent_at = str(timestamp if timestamp is not None else int(time.time()))
    return await client.post(
        f"/api/webhook/{WEBHOOK_ID}",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Telnyx-Timestamp": sent_at,
            "Telnyx-Signature-Ed25519": signature or telnyx.sign(sent_at, body),
        },
    )
