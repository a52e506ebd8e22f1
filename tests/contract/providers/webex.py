"""Webex Calling: an answer endpoint of the user, webhooks signed with a secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import CONF_WEBHOOK_SECRET
from custom_components.switchboard.providers.model import CallAction
from tests.contract.harness import Capability, Command, Fault, Refusal
from tests.contract.providers.webhooks import SignedWebhookHarness
from tests.fixtures.webex import WEBEX_DESK_PHONE, WEBEX_WEBHOOK_ID
from tests.simulators.webex import WebexSimulator

ANSWER = "/calls/answer"
# Call control is POST /v1/telephony/calls/{command}, the call in the body.
COMMANDS: Final = "/v1/telephony/calls/"
# Webex's command for each action, and the body field its argument goes in.
ACTIONS: Final = {
    "answer": (CallAction.ANSWER, None),
    "reject": (CallAction.REJECT, None),
    "hangup": (CallAction.HANGUP, None),
    "transfer": (CallAction.TRANSFER, "destination"),
    "divert": (CallAction.TRANSFER, "destination"),
    "hold": (CallAction.HOLD, None),
    "resume": (CallAction.RESUME, None),
    "transmitDtmf": (CallAction.SEND_DIGITS, "dtmf"),
    "dial": (CallAction.DIAL, "destination"),
}
# Where refuse_next refuses an action.
PATHS: Final = {
    CallAction.TRANSFER: "/calls/transfer",
    CallAction.HOLD: "/calls/hold",
    CallAction.RESUME: "/calls/resume",
    CallAction.SEND_DIGITS: "/calls/transmitDtmf",
    CallAction.DIAL: "/calls/dial",
}


class WebexHarness(SignedWebhookHarness[WebexSimulator]):
    """Grace Hopper's desk phone (every call alerts her app too)."""

    provider = "webex"
    device_name = WEBEX_DESK_PHONE
    device_slug = "cisco_8865_kitchen"
    refusals: ClassVar[Mapping[Fault, Refusal]] = {
        # The first 401 makes the client refresh its token and try again.
        Fault.AUTH: Refusal(401, "invalid_auth", tries=2),
        Fault.FORBIDDEN: Refusal(403, "permission_denied"),
        Fault.GONE: Refusal(404, "call_ended"),
        Fault.RATE_LIMITED: Refusal(429, "rate_limited", retry_after=30),
        Fault.UNAVAILABLE: Refusal(503, "cannot_connect", tries=3),
    }
    capabilities = frozenset(
        {
            Capability.TRANSFER,
            Capability.VOICEMAIL,
            Capability.HOLD,
            Capability.DIAL,
            Capability.SEND_DIGITS,
        }
    )
    transfer_to = "+15550100200"
    dial_to = "+15551234567"
    starts_background_tasks = True

    def set_up(self) -> MockConfigEntry:
        """Set the entry up; it registers its webhook at Webex."""
        self.simulator = self.fixture("webex")
        # A call placed is answered when a test says (pickup).
        self.simulator.pickup_delay = None
        entry: MockConfigEntry = self.fixture("setup_webex")
        return entry

    async def start_ring(self, number: str, name: str) -> str:
        """Call the user: every answer endpoint alerts."""
        return await self.simulator.ring(number, name)

    async def hang_up_remotely(self, call_id: str) -> None:
        """The far end hangs up, or gives up ringing."""
        await self.simulator.remote_hangup(call_id)

    def refuse_answers(self, refusal: Refusal) -> None:
        """Refuse the next answer commands."""
        self.simulator.fail_next(
            refusal.status,
            ANSWER,
            retry_after=refusal.retry_after,
            count=refusal.tries,
        )

    def secrets(self) -> list[str]:
        """Tokens, the webhook secret and id, the OAuth client."""
        token = self.entry.data["token"]
        return [
            token["access_token"],
            token["refresh_token"],
            self.entry.data[CONF_WEBHOOK_SECRET],
            WEBEX_WEBHOOK_ID,
            self.simulator.client_secret,
        ]

    def commands(self) -> list[Command]:
        """The call-control commands; the call is named in the body."""
        commands: list[Command] = []
        for request in self.simulator.requests:
            if request.method != "POST" or not request.path.startswith(COMMANDS):
                continue
            body = request.body if isinstance(request.body, dict) else {}
            name = request.path.removeprefix(COMMANDS)
            action, field = ACTIONS.get(name, (None, None))
            call_id = body.get("callId", body.get("callId1"))
            commands.append(
                Command(
                    action,
                    call_id,
                    body.get(field) if field else None,
                    voicemail=body.get("toVoicemail") is True,
                )
            )
        return commands

    async def pickup(self, call_id: str) -> None:
        """The call placed is answered (a desk phone first picks up itself)."""
        await self.simulator.pickup(call_id)
        await self.settle()

    async def complete_transfer(self, call_id: str) -> None:
        """The destination answers the transfer's call: both calls leave."""
        for call in list(self.simulator.calls.values()):
            if call.transfer_of == call_id and call.state == "connecting":
                await self.simulator.pickup(call.id)
        await self.settle()

    def refuse_next(
        self,
        action: CallAction,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Refuse the next commands of one kind."""
        self.simulator.fail_next(
            status, PATHS[action], retry_after=retry_after, count=count
        )
