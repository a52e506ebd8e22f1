"""Telnyx Call Control: a phone number, signed webhooks."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import ClassVar, Final

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.providers.model import CallAction
from tests.const import FRONT_DESK, WEBHOOK_ID
from tests.contract.harness import Capability, Command, Fault, Refusal
from tests.contract.providers.webhooks import SignedWebhookHarness
from tests.simulators.telnyx import TelnyxSimulator

# Call commands are POST /v2/calls/{id}/actions/{command}; a dial POST /v2/calls.
COMMANDS = "/actions/"
COMMAND_PATH: Final = re.compile(r"/v2/calls/(?P<call>[^/]+)/actions/(?P<command>\w+)")
DIAL_PATH: Final = "/v2/calls"
# Telnyx's command for each action, and the body field its argument goes in.
ACTIONS: Final = {
    "answer": (CallAction.ANSWER, None),
    "reject": (CallAction.REJECT, None),
    "hangup": (CallAction.HANGUP, None),
    "transfer": (CallAction.TRANSFER, "to"),
    "speak": (CallAction.SPEAK, "payload"),
    "gather_using_speak": (CallAction.SPEAK, "payload"),
    "playback_start": (CallAction.PLAY, "audio_url"),
    "send_dtmf": (CallAction.SEND_DIGITS, "digits"),
}
# Where refuse_next refuses an action (a speak that gathers is another command).
PATHS: Final = {
    CallAction.TRANSFER: "/actions/transfer",
    CallAction.SPEAK: "/actions/speak",
    CallAction.PLAY: "/actions/playback_start",
    CallAction.SEND_DIGITS: "/actions/send_dtmf",
}


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
    capabilities = frozenset(
        {
            Capability.TRANSFER,
            Capability.DIAL,
            Capability.SPEAK,
            Capability.PLAY,
            Capability.SEND_DIGITS,
            Capability.DIGITS,
        }
    )
    transfer_to = "+15550100777"
    dial_to = "+15557654321"

    def set_up(self) -> MockConfigEntry:
        """Set the entry up with its webhook registered at the application."""
        self.simulator = self.fixture("telnyx")
        # The far end of a call placed answers when a test says (pickup).
        self.simulator.pickup_delay = None
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

    def commands(self) -> list[Command]:
        """The commands on calls, and the dials (POST /v2/calls)."""
        commands: list[Command] = []
        for request in self.simulator.requests:
            body = request.body if isinstance(request.body, dict) else {}
            if request.method != "POST":
                continue
            if request.path == DIAL_PATH:
                commands.append(Command(CallAction.DIAL, None, body.get("to")))
            elif match := COMMAND_PATH.fullmatch(request.path):
                action, field = ACTIONS.get(match["command"], (None, None))
                argument = body.get(field) if field else None
                commands.append(Command(action, match["call"], argument))
        return commands

    async def pickup(self, call_id: str) -> None:
        """The far end answers the call placed."""
        await self.simulator.pickup(call_id)
        await self.settle()

    async def complete_transfer(self, call_id: str) -> None:
        """The transfer's new leg answers: Telnyx bridges the caller to it."""
        for leg in list(self.simulator.calls.values()):
            if leg.transfer_of == call_id and leg.state == "parked":
                await self.simulator.pickup(leg.call_control_id)
        await self.settle()

    async def press(self, call_id: str, digits: str) -> None:
        """The caller presses keys: call.dtmf.received, one per key."""
        await self.simulator.press(call_id, digits)

    def refuse_next(
        self,
        action: CallAction,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Refuse the next commands of one kind (a dial: every POST /v2/calls)."""
        self.simulator.fail_next(
            status,
            times=count,
            retry_after=retry_after,
            path_contains=PATHS.get(action, DIAL_PATH),
        )
