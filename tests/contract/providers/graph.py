"""Microsoft Teams calling bot: notifications signed with Microsoft's JWTs."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, ClassVar, Final

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.providers.model import CallAction
from tests.contract.harness import (
    Capability,
    Command,
    Fault,
    Refusal,
    WebhookHarness,
)
from tests.fixtures.graph import GRAPH_TITLE, GRAPH_WEBHOOK_ID
from tests.simulators.graph import GraphSimulator

ANSWER = "/answer"
CALLS: Final = "/v1.0/communications/calls"
CALL_PATH: Final = re.compile(
    r"/v1\.0/communications/calls/(?P<call>[^/]+)(?:/(?P<op>\w+))?"
)
# Graph's operation for each action; hang-up is DELETE on the call.
ACTIONS: Final = {
    "answer": CallAction.ANSWER,
    "reject": CallAction.REJECT,
    "transfer": CallAction.TRANSFER,
    "playPrompt": CallAction.PLAY,
    "sendDtmfTones": CallAction.SEND_DIGITS,
}
# toneInfo names: tone0-tone9, star, pound, a-d.
KEYS: Final = {"star": "*", "pound": "#"}
# Where refuse_next refuses an action.
PATHS: Final = {
    CallAction.TRANSFER: "/transfer",
    CallAction.PLAY: "/playPrompt",
    CallAction.SEND_DIGITS: "/sendDtmfTones",
}
# Two Teams users of the tenant (object ids): one to transfer to, one to call.
COLLEAGUE = "550fae72-d251-43ec-868c-373732c2704f"
FRIEND = "8a0d3ef1-7c2b-4b8e-9d0a-5f3c6e2b1a47"


def _identity(participant: Any) -> str | None:
    """The id of the user or phone an invitationParticipantInfo names."""
    identity = participant.get("identity") if isinstance(participant, dict) else None
    for kind in ("user", "phone"):
        if isinstance(identity, dict) and isinstance(identity.get(kind), dict):
            return str(identity[kind].get("id"))
    return None


def _argument(operation: str, body: dict[str, Any]) -> Any:
    if operation == "transfer":
        return _identity(body.get("transferTarget"))
    if operation == "playPrompt":
        return body["prompts"][0]["mediaInfo"]["uri"]
    if operation == "sendDtmfTones":
        return "".join(
            KEYS.get(tone, tone.removeprefix("tone").upper()) for tone in body["tones"]
        )
    return None


class GraphHarness(WebhookHarness):
    """The Teams bot, called from a phone number."""

    provider = "graph"
    device_name = GRAPH_TITLE
    device_slug = "teams_calling_bot"
    refusals: ClassVar[Mapping[Fault, Refusal]] = {
        # The first 401 makes the client fetch a new token and try again.
        Fault.AUTH: Refusal(401, "invalid_auth", tries=2),
        Fault.FORBIDDEN: Refusal(403, "permission_denied"),
        Fault.GONE: Refusal(404, "call_ended"),
        Fault.RATE_LIMITED: Refusal(429, "rate_limited", retry_after=60),
        Fault.UNAVAILABLE: Refusal(503, "cannot_connect", tries=3, retry_after=0.01),
    }
    capabilities = frozenset(
        {
            Capability.TRANSFER,
            Capability.DIAL,
            Capability.PLAY,
            Capability.SEND_DIGITS,
            Capability.DIGITS,
        }
    )
    transfer_to = COLLEAGUE
    dial_to = FRIEND
    simulator: GraphSimulator

    def set_up(self) -> MockConfigEntry:
        """Set the bot's entry up behind its https front."""
        self.simulator = self.fixture("graph")
        # The far end of a call placed answers when a test says (pickup).
        self.simulator.pickup_delay = None
        entry: MockConfigEntry = self.fixture("setup_graph")
        return entry

    async def start_ring(self, number: str, name: str) -> str:
        """Call the bot from a phone."""
        return await self.simulator.ring(caller_name=name, phone=number)

    async def hang_up_remotely(self, call_id: str) -> None:
        """The caller hangs up."""
        await self.simulator.remote_hangup(call_id)

    async def abandon(self, call_id: str) -> None:
        """Nobody answers in Graph's answer window: the call times out."""
        await self.simulator.advance(self.simulator.answer_window)
        assert self.simulator.calls[call_id].ended

    async def settle(self) -> None:
        """Wait for every notification the simulator owes."""
        await self.simulator.wait_for_notifications()
        await self.hass.async_block_till_done()

    def refuse_answers(self, refusal: Refusal) -> None:
        """Refuse the next answers."""
        self.simulator.fail_next(
            refusal.status,
            path_contains=ANSWER,
            retry_after=refusal.retry_after,
            count=refusal.tries,
        )

    def duplicate_deliveries(self) -> None:
        """Post each notification twice."""
        self.simulator.duplicate_notifications = True

    def hold_deliveries(self) -> None:
        """Queue the notifications."""
        self.simulator.hold_notifications()

    async def release_deliveries(self, *, reverse: bool) -> None:
        """Post the queued notifications."""
        await self.simulator.release_notifications(reverse=reverse)

    async def forged_ring(self) -> list[int | None]:
        """Ring with a notification token signed by a key Microsoft never had."""
        self.simulator.forge_next(key=self.simulator.foreign_key())
        await self.ring()
        return [delivery.status for delivery in self.simulator.deliveries]

    def secrets(self) -> list[str]:
        """The client secret and the webhook id."""
        return [self.simulator.client_secret, GRAPH_WEBHOOK_ID]

    def volatile(self) -> Mapping[str, str]:
        """Graph makes up call ids; the bot's participant id is derived from it."""
        replacements: dict[str, str] = {}
        for number, call_id in enumerate(self.simulator.calls, start=1):
            replacements[call_id] = f"<call id {number}>"
            replacements[call_id[::-1]] = f"<participant id {number}>"
        return replacements

    def commands(self) -> list[Command]:
        """What the bot asked of its calls, and the calls it placed."""
        commands: list[Command] = []
        for request in self.simulator.requests:
            body = request.body if isinstance(request.body, dict) else {}
            if request.method == "POST" and request.path == CALLS:
                target = _identity((body.get("targets") or [None])[0])
                commands.append(Command(CallAction.DIAL, None, target))
                continue
            match = CALL_PATH.fullmatch(request.path)
            if match is None or request.method not in {"POST", "DELETE"}:
                continue
            if request.method == "DELETE":
                commands.append(Command(CallAction.HANGUP, match["call"]))
                continue
            operation = match["op"] or ""
            commands.append(
                Command(
                    ACTIONS.get(operation), match["call"], _argument(operation, body)
                )
            )
        return commands

    async def pickup(self, call_id: str) -> None:
        """The Teams user called answers."""
        await self.simulator.pickup(call_id)
        await self.settle()

    async def press(self, call_id: str, digits: str) -> None:
        """The caller presses keys: one tone notification each."""
        await self.simulator.press(call_id, digits)

    def refuse_next(
        self,
        action: CallAction,
        status: int,
        *,
        count: int = 1,
        retry_after: float | None = None,
    ) -> None:
        """Refuse the next requests for one action (a dial: every call request)."""
        self.simulator.fail_next(
            status, PATHS.get(action, CALLS), retry_after=retry_after, count=count
        )
