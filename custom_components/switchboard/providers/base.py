"""The interface every provider client implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .model import Account, Call, CallAction, CallEvent, Device


class Provider(Protocol):
    """Call control common to every provider."""

    async def async_get_account(self) -> Account:
        """Check the credentials and say whose they are."""

    async def async_get_devices(self) -> list[Device]:
        """List the devices calls ring on."""

    async def async_refresh_call(self, call: Call) -> CallEvent | None:
        """Ask the provider where a call stands now; None when it cannot say."""

    def validate_options(
        self, action: CallAction, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Return the options for one user action, or raise InvalidOptionError.

        Called once per user action, so a provider may add what makes retries of
        that action safe (an idempotency key).
        """

    async def async_perform(
        self,
        action: CallAction,
        call: Call,
        device: Device,
        options: Mapping[str, Any],
    ) -> None:
        """Answer, reject or hang up `call` on `device`."""


@runtime_checkable
class WebhookProvider(Provider, Protocol):
    """A provider that pushes call events to an HTTP endpoint of ours."""

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[CallEvent]:
        """Verify a delivery, then read it.

        Raises InvalidSignatureError before anything is parsed when it is not
        authentic or too old, and InvalidPayloadError when it is authentic but
        unreadable. Returns no events for a delivery that is valid but carries
        no call news.
        """

    async def async_get_webhook_url(self) -> str | None:
        """Where the provider sends events now, if it can tell."""

    async def async_set_webhook_url(self, url: str | None) -> None:
        """Point the provider's events at `url` (None clears it)."""
