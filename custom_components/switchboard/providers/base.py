"""The interfaces provider clients implement.

Every client is a `Provider`. How its events reach us adds one more:
`WebhookProvider` (pushed to an HTTP endpoint of ours, optionally with a
`WebhookRegistrar` that points the provider there), or `StreamProvider` (a
connection the client keeps open itself). A provider that can list the calls
it has now is also a `ReconcilingProvider`; one that can place calls, a
`DialingProvider`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from .model import Account, Call, CallAction, CallEvent, Device


class Provider(Protocol):
    """Call control common to every provider."""

    # What the provider can do at all; the rest is refused before any request.
    supported_actions: frozenset[CallAction]
    # Whether the provider reports the keys a caller presses (CallEvent.digits).
    reports_digits: ClassVar[bool]
    # Field names in the provider's entry data or Call.raw that are secret or
    # personal: diagnostics redact them.
    redact_keys: ClassVar[frozenset[str]]

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
        """Perform an action on `call` on `device`: answer, transfer, speak...

        `options` are what validate_options returned, the action's arguments
        (ARG_TO, ARG_MESSAGE...) among them.
        """


@runtime_checkable
class WebhookProvider(Provider, Protocol):
    """A provider that pushes call events to an HTTP endpoint of ours."""

    # True when the provider only accepts an https URL for our endpoint.
    webhook_requires_https: bool

    def use_webhook_url(self, url: str | None) -> None:
        """Learn where Home Assistant receives events (None: nowhere reachable).

        A provider that names its callback in commands (Graph's callbackUri)
        keeps it; others may ignore it.
        """

    async def async_parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[CallEvent]:
        """Verify a delivery, then read it.

        Raises InvalidSignatureError before anything is parsed when it is not
        authentic or too old, InvalidPayloadError when it is authentic but
        unreadable, and ResendRequestedError when the sender should deliver it
        again in another format. Returns no events for a delivery that is valid
        but carries no call news.
        """


@runtime_checkable
class WebhookRegistrar(Protocol):
    """A provider whose events we can point at our endpoint through its API."""

    # True when the registration is ours alone (Webex's own webhook) and is
    # deleted on removal; False when it is a shared setting (a Telnyx
    # application's URL) that is put back only if it still points at us.
    owns_registration: bool

    async def async_get_webhook_url(self) -> str | None:
        """Where the provider sends events now; None when it sends them nowhere."""

    async def async_set_webhook_url(self, url: str | None) -> None:
        """Point the provider's events at `url`; None removes the registration."""


@runtime_checkable
class DialingProvider(Protocol):
    """A provider that can place calls (CallAction.DIAL in supported_actions)."""

    async def async_dial(self, device: Device, options: Mapping[str, Any]) -> CallEvent:
        """Place a call from `device` to options[ARG_TO] (validated for DIAL).

        Returns the new call's first event: outgoing, DIALING (or where the
        provider already says it is), with the call id the provider gave it.
        """


@runtime_checkable
class ReconcilingProvider(Protocol):
    """A provider that can list the calls it has now."""

    async def async_list_calls(self) -> list[CallEvent]:
        """Return one event per current call, carrying its state as of now.

        A call the integration knows but this list lacks has ended.
        """


@runtime_checkable
class KeepAliveProvider(Protocol):
    """A provider that ends answered calls nobody says are still wanted (Graph)."""

    async def async_keep_alive(self, call: Call) -> CallEvent | None:
        """Keep an answered call alive; return its end if it has already ended."""


type EventsCallback = Callable[[list[CallEvent]], None]
type ConnectionCallback = Callable[[bool], None]


@runtime_checkable
class StreamProvider(Provider, Protocol):
    """A provider whose events arrive on a connection the client keeps open."""

    async def async_stream(
        self, on_events: EventsCallback, on_connection: ConnectionCallback
    ) -> None:
        """Receive events until stopped or cancelled, reconnecting on its own.

        Calls `on_connection(True)` each time the stream is established and
        subscribed (the caller then reconciles), and `on_connection(False)` once
        when it drops. Raises AuthenticationError when the server refuses the
        credentials for good, and ProviderUnavailableError when it ends the
        stream and forbids coming back on our own (Bayeux reconnect "none");
        every other failure is retried with a capped back-off forever.
        """

    async def async_check_stream(self) -> None:
        """Open the stream once and leave it; raise what would stop async_stream.

        AuthenticationError or ProviderUnavailableError, as async_stream would
        raise them, or ProviderUnavailableError when the server is unreachable.
        """

    async def async_stop(self) -> None:
        """Leave the stream cleanly (a CometD disconnect) and end async_stream."""
