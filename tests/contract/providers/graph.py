"""Microsoft Teams calling bot: notifications signed with Microsoft's JWTs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.contract.harness import Fault, Refusal, WebhookHarness
from tests.fixtures.graph import GRAPH_TITLE, GRAPH_WEBHOOK_ID
from tests.simulators.graph import GraphSimulator

ANSWER = "/answer"


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
    simulator: GraphSimulator

    def set_up(self) -> MockConfigEntry:
        """Set the bot's entry up behind its https front."""
        self.simulator = self.fixture("graph")
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
