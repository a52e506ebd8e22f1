"""Providers whose simulators sign webhooks the same way to drive (Telnyx, Webex)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from tests.contract.harness import WebhookHarness


class Delivery(Protocol):
    """One webhook POST the simulator made."""

    @property
    def status(self) -> int | None:
        """How Home Assistant answered it (None: it did not)."""


class SigningSimulator(Protocol):
    """The webhook controls the Telnyx and Webex simulators share."""

    duplicate_webhooks: bool
    bad_signatures: bool

    @property
    def deliveries(self) -> Sequence[Delivery]:
        """Every webhook POST so far."""

    def hold_webhooks(self) -> None:
        """Queue webhooks instead of sending them."""

    async def release_webhooks(self, *, reverse: bool = False) -> None:
        """Send the queued webhooks."""

    async def wait_for_webhooks(self) -> None:
        """Wait until every webhook owed has been sent."""


class SignedWebhookHarness[S: SigningSimulator](WebhookHarness):
    """A provider that signs its webhooks, and its simulator `S`."""

    simulator: S
    # Whether the webhooks start work of their own (re-reads) to wait for.
    starts_background_tasks: ClassVar[bool] = False

    async def settle(self) -> None:
        """Wait for every webhook the simulator owes, and what it started."""
        await self.simulator.wait_for_webhooks()
        await self.hass.async_block_till_done(
            wait_background_tasks=self.starts_background_tasks
        )

    def duplicate_deliveries(self) -> None:
        """Deliver at least once, as the providers do: each webhook twice."""
        self.simulator.duplicate_webhooks = True

    def hold_deliveries(self) -> None:
        """Queue the webhooks."""
        self.simulator.hold_webhooks()

    async def release_deliveries(self, *, reverse: bool) -> None:
        """Send the queued webhooks."""
        await self.simulator.release_webhooks(reverse=reverse)

    async def forged_ring(self) -> list[int | None]:
        """Ring with webhooks signed by a key or secret that is not the entry's."""
        self.simulator.bad_signatures = True
        try:
            await self.ring()
        finally:
            self.simulator.bad_signatures = False
        return [delivery.status for delivery in self.simulator.deliveries]
