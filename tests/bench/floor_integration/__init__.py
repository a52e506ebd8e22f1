"""The floor `scripts/bench` measures Switchboard against, inside the same `hass`.

The least a Telnyx webhook integration can do and still be correct: its
webhook checks the Ed25519 signature over ``timestamp|body`` within the
replay window, `json.loads` the body and writes one state, the called
number's sensor. Its `answer` action sends the request Switchboard sends to
answer a call, which an automation runs when the floor fires
`switchboard_bench_floor_ring`. One sensor per number, so that setting up an
entry with N numbers is the floor of setting up N devices.

It is copied into the bench's config dir; it imports nothing of Switchboard.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
import json
import time
from typing import TYPE_CHECKING, Any, Final
import uuid

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID, Platform
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType
import probatio as vol

if TYPE_CHECKING:
    from .sensor import FloorSensor

DOMAIN: Final = "switchboard_bench_floor"
CONF_PUBLIC_KEY: Final = "public_key"
CONF_NUMBERS: Final = "numbers"
# "1": one sensor per number, one write per delivery. "switchboard": four
# sensors per number, written as Switchboard's entities of a number are: three
# per delivery (its call and caller sensors and call activity event), the
# fourth (the last call) too at a hang-up.
CONF_WRITES: Final = "writes"
AS_SWITCHBOARD: Final = "switchboard"
EVENT_RING: Final = f"{DOMAIN}_ring"
REPLAY_WINDOW: Final = 300
STATES: Final = {"call.initiated": "ringing", "call.answered": "talking"}
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)


@dataclass
class Floor:
    """One entry: its credentials and its sensors by number."""

    api_key: str
    url: str
    key: Ed25519PublicKey
    sensors: dict[str, list[FloorSensor]] = field(default_factory=dict)


type FloorConfigEntry = ConfigEntry[Floor]


def verified(
    key: Ed25519PublicKey, headers: Mapping[str, str], body: bytes, now: float
) -> bool:
    """Whether a delivery is Telnyx's: signed over ``timestamp|body``, and fresh."""
    timestamp = headers.get("telnyx-timestamp", "")
    try:
        signature = base64.b64decode(headers.get("telnyx-signature-ed25519", ""))
        if abs(now - int(timestamp)) > REPLAY_WINDOW:
            return False
        key.verify(signature, f"{timestamp}|".encode() + body)
    except ValueError, binascii.Error, InvalidSignature:
        return False
    return True


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the answer action."""
    del config

    async def _async_answer(call: ServiceCall) -> None:
        entry: FloorConfigEntry | None = hass.config_entries.async_get_entry(
            call.data["entry_id"]
        )
        if entry is None:
            raise vol.Invalid("no such floor entry")
        floor = entry.runtime_data
        async with async_get_clientsession(hass).post(
            f"{floor.url}/calls/{call.data['call_id']}/actions/answer",
            json={"command_id": str(uuid.uuid4())},
            headers={"Authorization": f"Bearer {floor.api_key}"},
        ) as reply:
            reply.raise_for_status()

    hass.services.async_register(
        DOMAIN,
        "answer",
        _async_answer,
        schema=vol.Schema(
            {vol.Required("entry_id"): str, vol.Required("call_id"): str}
        ),
    )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: FloorConfigEntry) -> bool:
    """Make the sensors, then listen."""
    entry.runtime_data = floor = Floor(
        entry.data[CONF_API_KEY],
        entry.data[CONF_URL],
        Ed25519PublicKey.from_public_bytes(
            base64.b64decode(entry.data[CONF_PUBLIC_KEY])
        ),
    )
    await hass.config_entries.async_forward_entry_setups(entry, [Platform.SENSOR])

    async def _async_handle(
        hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        del webhook_id
        body = await request.content.read()
        if not verified(floor.key, request.headers, body, time.time()):
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        try:
            data: dict[str, Any] = json.loads(body)["data"]
            payload = data["payload"]
            event_type, call_id, to = (
                data["event_type"],
                payload["call_control_id"],
                payload["to"],
            )
        except ValueError, KeyError, TypeError:
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        state = STATES.get(event_type, "idle")
        sensors = floor.sensors.get(to, [])
        for sensor in sensors[:3] if event_type != "call.hangup" else sensors:
            sensor.show(state, call_id)
        if event_type == "call.initiated":
            hass.bus.async_fire_internal(
                EVENT_RING, {"entry_id": entry.entry_id, "call_id": call_id}
            )
        return web.Response(status=HTTPStatus.OK)

    webhook.async_register(
        hass,
        DOMAIN,
        entry.title,
        entry.data[CONF_WEBHOOK_ID],
        _async_handle,
        local_only=False,
        allowed_methods=["POST"],
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: FloorConfigEntry) -> bool:
    """Stop listening; remove the sensors."""
    webhook.async_unregister(hass, entry.data[CONF_WEBHOOK_ID])
    return await hass.config_entries.async_unload_platforms(entry, [Platform.SENSOR])
