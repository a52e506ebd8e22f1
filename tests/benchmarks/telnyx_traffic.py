"""Signed Telnyx webhook deliveries, made and signed before anything is timed.

Each delivery is what the Telnyx simulator would POST: the v2 envelope with a
unique event id, a payload like the simulator's, and the Ed25519 signature of
``timestamp|body`` made with the simulator's key (so it verifies against the
public key the config entry holds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import random
import secrets
import time
from typing import Any, cast
import uuid

from aiohttp import web
from homeassistant.util.aiohttp import MockRequest

from tests.simulators.telnyx import TelnyxSimulator

CALLER = "+15557654321"
CALLER_NAME = "Ada Lovelace"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One signed webhook POST: its headers and its body."""

    headers: dict[str, str]
    body: bytes


def as_request(delivery: Delivery) -> web.Request:
    """Wrap a delivery as a cloudhook hands it over: Home Assistant's MockRequest."""
    request = MockRequest(
        content=delivery.body,
        mock_source="benchmark",
        method="POST",
        headers=delivery.headers,
        remote="127.0.0.1",
    )
    # MockRequest has every attribute the handlers touch; typed as web.Request.
    return cast("web.Request", request)


def as_requests(deliveries: Sequence[Delivery]) -> list[web.Request]:
    """Wrap deliveries as requests `async_handle_webhook` accepts."""
    return [as_request(delivery) for delivery in deliveries]


@dataclass(frozen=True, slots=True)
class SimulatedCall:
    """The ids and numbers one call keeps across its events."""

    call_control_id: str
    call_leg_id: str
    call_session_id: str
    to: str
    start_time: str


def _iso(moment: datetime) -> str:
    """Format like Telnyx: ISO-8601 UTC with microseconds and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TelnyxTraffic:
    """Makes the signed deliveries of calls to one application's numbers."""

    def __init__(
        self,
        simulator: TelnyxSimulator,
        application_id: str,
        numbers: Sequence[str],
        seed: int,
    ) -> None:
        """Sign with `simulator`'s key, for calls to `numbers` of the application."""
        self._simulator = simulator
        self._application_id = application_id
        self.numbers = tuple(numbers)
        self._random = random.Random(seed)  # noqa: S311 - picks devices, not keys
        self._last_occurred = datetime.now(UTC)

    def new_call(self, to: str | None = None) -> SimulatedCall:
        """A new inbound call to `to` (default: a number chosen at random)."""
        return SimulatedCall(
            call_control_id=f"v3:{secrets.token_urlsafe(40)}",
            call_leg_id=str(uuid.uuid4()),
            call_session_id=str(uuid.uuid4()),
            to=to or self._random.choice(self.numbers),
            start_time=_iso(datetime.now(UTC)),
        )

    def ring(self, call: SimulatedCall) -> Delivery:
        """call.initiated: the call rings."""
        return self._delivery(
            call,
            "call.initiated",
            "parked",
            {
                "direction": "incoming",
                "caller_id_name": CALLER_NAME,
                "calling_party_type": "pstn",
            },
        )

    def answer(self, call: SimulatedCall) -> Delivery:
        """call.answered: the call is answered."""
        return self._delivery(call, "call.answered", "answered", {})

    def hang_up(self, call: SimulatedCall) -> Delivery:
        """call.hangup: the caller hangs up."""
        return self._delivery(
            call,
            "call.hangup",
            "hangup",
            {
                "end_time": _iso(datetime.now(UTC)),
                "hangup_cause": "normal_clearing",
                "hangup_source": "caller",
                "sip_hangup_cause": "200",
            },
        )

    def whole_calls(
        self, count: int, numbers: Sequence[str] | None = None
    ) -> list[Delivery]:
        """`count` calls, each ringing, answered and hung up on one device.

        The device is chosen at random per call, among `numbers` if given.
        """
        deliveries: list[Delivery] = []
        for _ in range(count):
            call = self.new_call(self._random.choice(numbers) if numbers else None)
            deliveries += (self.ring(call), self.answer(call), self.hang_up(call))
        return deliveries

    def _next_occurred_at(self) -> str:
        now = datetime.now(UTC)
        if now <= self._last_occurred:
            now = self._last_occurred + timedelta(microseconds=1)
        self._last_occurred = now
        return _iso(now)

    def _delivery(
        self, call: SimulatedCall, event_type: str, state: str, extra: dict[str, Any]
    ) -> Delivery:
        payload = {
            "call_control_id": call.call_control_id,
            "call_leg_id": call.call_leg_id,
            "call_session_id": call.call_session_id,
            "client_state": None,
            "connection_id": self._application_id,
            "from": CALLER,
            "to": call.to,
            "start_time": call.start_time,
            "state": state,
            **extra,
        }
        envelope = {
            "data": {
                "record_type": "event",
                "event_type": event_type,
                "id": str(uuid.uuid4()),
                "occurred_at": self._next_occurred_at(),
                "payload": payload,
            },
            "meta": {"attempt": 1, "delivered_to": "https://example.invalid/hook"},
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        return Delivery(
            headers={
                "Content-Type": "application/json",
                "User-Agent": "telnyx-webhooks",
                "Telnyx-Signature-Ed25519": self._simulator.sign(timestamp, body),
                "Telnyx-Timestamp": timestamp,
            },
            body=body,
        )
