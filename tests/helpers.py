"""Helpers shared by the integration tests."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigFlowContext,
    ConfigFlowResult,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from custom_components.switchboard.const import DOMAIN
from tests.simulators.telnyx import TelnyxSimulator

from .const import CALLER, FRONT_DESK, WEBHOOK_ID

type HAClient = TestClient[web.Request, web.Application]

SENSOR = "sensor.15550100001_call"
EVENT = "event.15550100001_call_activity"
BUTTON = "button.15550100001_answer"
KITCHEN_SENSOR = "sensor.15550100002_call"
KITCHEN_EVENT = "event.15550100002_call_activity"


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


def device_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return the id of the device an entity belongs to, which must exist."""
    entry = er.async_get(hass).async_get(entity_id)
    assert entry is not None
    assert entry.device_id is not None
    return entry.device_id


def state_of(hass: HomeAssistant, entity_id: str) -> State:
    """Return an entity's state, which must exist."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def call_action(
    hass: HomeAssistant, action: str, *, entity_id: str, **data: Any
) -> dict[str, Any] | None:
    """Run a Switchboard action on a call sensor; return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        action,
        {ATTR_ENTITY_ID: entity_id, **data},
        blocking=True,
        return_response=True,
    )
    return dict(response) if response else None


async def press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a button the way a dashboard does."""
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def assert_press_refused(
    hass: HomeAssistant, entity_id: str, translation_key: str
) -> dict[str, str]:
    """Press a button that has nothing to act on: it says why, and is available.

    Returns the error's placeholders (the device it names, say).
    """
    assert state_of(hass, entity_id).state != "unavailable"
    with pytest.raises(ServiceValidationError) as raised:
        await press(hass, entity_id)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == translation_key
    return raised.value.translation_placeholders or {}


async def start_flow(hass: HomeAssistant, provider: str) -> ConfigFlowResult:
    """Open the config flow and pick `provider` from the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context=ConfigFlowContext(source=SOURCE_USER)
    )
    assert result["type"] is FlowResultType.MENU
    assert provider in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == provider
    return result


def suggested(result: ConfigFlowResult) -> dict[str, Any]:
    """Return what a form shows back: its suggested values."""
    schema = result["data_schema"]
    assert schema is not None
    return {
        str(key): key.description["suggested_value"]
        for key in schema.schema
        if key.description and "suggested_value" in key.description
    }
