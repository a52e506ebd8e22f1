"""Webex Calling: an answer endpoint of the user, webhooks signed with a secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.switchboard.const import CONF_WEBHOOK_SECRET
from tests.contract.harness import Fault, Refusal
from tests.contract.providers.webhooks import SignedWebhookHarness
from tests.fixtures.webex import WEBEX_DESK_PHONE, WEBEX_WEBHOOK_ID
from tests.simulators.webex import WebexSimulator

ANSWER = "/calls/answer"


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
    starts_background_tasks = True

    def set_up(self) -> MockConfigEntry:
        """Set the entry up; it registers its webhook at Webex."""
        self.simulator = self.fixture("webex")
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
