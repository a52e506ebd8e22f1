"""Home Assistant's own floor for one webhook event.

The least a webhook integration can do per Telnyx event and still be correct:
check the Ed25519 signature over ``timestamp|body`` with the replay window (the
work Telnyx's verification does), `json.loads` the body, and write one state,
the called number's, with `hass.states.async_set`. It is reached through the
same `webhook.async_handle_webhook` entry point as Switchboard.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from http import HTTPStatus
import json
import time

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant

REPLAY_WINDOW = 300
FLOOR_DOMAIN = "switchboard_bench_floor"
FLOOR_WEBHOOK_ID = "f" * 64
_DEFAULT_ENTITY = "sensor.floor_unknown_number"
# What Switchboard's entities of a number show per Telnyx event: the call and
# caller sensors and the call activity event; at the end the last call too.
SWITCHBOARD_SHOWS = {"call.hangup": 4}
SWITCHBOARD_SHOWS_OTHERWISE = 3


class FloorWebhook:
    """A webhook that verifies, parses and writes one state per delivery."""

    def __init__(
        self,
        hass: HomeAssistant,
        public_key_b64: str,
        numbers: Iterable[str],
        *,
        as_many_writes: bool = False,
    ) -> None:
        """Verify with the simulator's public key; one entity per number.

        With `as_many_writes`, it writes as many states per event as
        Switchboard's entities of a number need (SWITCHBOARD_SHOWS): the floor
        of an integration that shows as much.
        """
        self._hass = hass
        self._key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        self._entities = {
            number: f"sensor.floor_{number.lstrip('+')}" for number in numbers
        }
        self._as_many_writes = as_many_writes
        self.webhook_id = FLOOR_WEBHOOK_ID[:-1] + ("m" if as_many_writes else "f")

    def register(self) -> None:
        """Register the webhook, as an integration would."""
        webhook.async_register(
            self._hass,
            FLOOR_DOMAIN,
            "Floor",
            self.webhook_id,
            self._async_handle,
            local_only=False,
            allowed_methods=["POST"],
        )

    async def _async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        del webhook_id
        body = await request.content.read()
        if not self._verified(request, body):
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        try:
            data = json.loads(body)["data"]
            payload = data["payload"]
            state, call_id = data["event_type"], payload["call_control_id"]
        except ValueError, KeyError, TypeError:
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        entity_id = self._entities.get(payload.get("to"), _DEFAULT_ENTITY)
        hass.states.async_set(entity_id, state, {"call_id": call_id})
        if self._as_many_writes:
            writes = SWITCHBOARD_SHOWS.get(state, SWITCHBOARD_SHOWS_OTHERWISE)
            for extra in range(1, writes):
                hass.states.async_set(
                    f"{entity_id}_{extra}", state, {"call_id": call_id}
                )
        return web.Response(status=HTTPStatus.OK)

    def _verified(self, request: web.Request, body: bytes) -> bool:
        timestamp = request.headers.get("Telnyx-Timestamp", "")
        signature = request.headers.get("Telnyx-Signature-Ed25519", "")
        try:
            sent_at = int(timestamp)
            raw_signature = base64.b64decode(signature, validate=True)
        except ValueError, binascii.Error:
            return False
        if abs(time.time() - sent_at) > REPLAY_WINDOW:
            return False
        try:
            self._key.verify(raw_signature, f"{timestamp}|".encode() + body)
        except InvalidSignature:
            return False
        return True
