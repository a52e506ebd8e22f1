"""Telnyx Call Control: a phone number, signed webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.const import FRONT_DESK, WEBHOOK_ID
from tests.contract.harness import Fault, Refusal
from tests.contract.providers.webhooks import SignedWebhookHarness
from tests.simulators.telnyx import TelnyxSimulator

# Call commands are POST /v2/calls/{id}/actions/{command}.
COMMANDS = "/actions/"


class TelnyxHarness(SignedWebhookHarness[TelnyxSimulator]):
    """The front desk number of the simulator's Call Control application."""

    provider = "telnyx"
    device_name = FRONT_DESK
    device_slug = "15550100001"
    refusals: ClassVar[Mapping[Fault, Refusal]] = {
        Fault.AUTH: Refusal(401, "invalid_auth"),
        Fault.FORBIDDEN: Refusal(403, "permission_denied"),
        Fault.GONE: Refusal(404, "call_gone"),
        Fault.RATE_LIMITED: Refusal(429, "rate_limited", retry_after=60),
        Fault.UNAVAILABLE: Refusal(503, "cannot_connect", tries=3),
        # Answered with a 503 after the client gave up, so never carried out.
        Fault.TIMEOUT: Refusal(503, "cannot_connect", tries=3, delay=0.3),
    }

    def set_up(self) -> MockConfigEntry:
        """Set the entry up with its webhook registered at the application."""
        self.simulator = self.fixture("telnyx")
        entry: MockConfigEntry = self.fixture("setup_telnyx")
        return entry

    async def start_ring(self, number: str, name: str) -> str:
        """Call the front desk."""
        return await self.simulator.ring(FRONT_DESK, number, caller_id_name=name)

    async def hang_up_remotely(self, call_id: str) -> None:
        """The caller hangs up."""
        await self.simulator.remote_hangup(call_id)

    async def abandon(self, call_id: str) -> None:
        """The caller gives up before anyone answers."""
        await self.simulator.remote_hangup(call_id, cause="originator_cancel")

    def refuse_answers(self, refusal: Refusal) -> None:
        """Refuse the next call commands."""
        if refusal.delay:
            self.fixture("short_request_timeout")
            self.simulator.slow_next(
                refusal.delay, times=refusal.tries, path_contains=COMMANDS
            )
        self.simulator.fail_next(
            refusal.status,
            code=None if refusal.code is None else str(refusal.code),
            times=refusal.tries,
            retry_after=refusal.retry_after,
            path_contains=COMMANDS,
        )

    def secrets(self) -> list[str]:
        """The API key, the public key and the webhook id."""
        return [self.simulator.api_key, self.simulator.public_key_b64, WEBHOOK_ID]

    def volatile(self) -> Mapping[str, str]:
        """Telnyx makes up call control, leg and session ids."""
        replacements: dict[str, str] = {}
        for number, call in enumerate(self.simulator.calls.values(), start=1):
            replacements[call.call_control_id] = f"<call control id {number}>"
            replacements[call.call_leg_id] = f"<call leg id {number}>"
            replacements[call.call_session_id] = f"<call session id {number}>"
        return replacements
