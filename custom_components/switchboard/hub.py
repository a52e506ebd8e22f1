"""The runtime hub of one config entry: its provider, devices and calls.

Everything that keeps the calls true lives here: event intake with gap
detection, re-reads of the provider's calls, Graph's keep-alive, the Genesys
stream and the availability it gives, and acting on a call. Entities, the
webhook and the actions only talk to the hub.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_track_time_interval

from .calls import CallBook, CallListener
from .const import DOMAIN, LOGGER
from .providers.base import (
    KeepAliveProvider,
    Provider,
    ReconcilingProvider,
    StreamProvider,
    WebhookProvider,
)
from .providers.kernel.retry import async_retry
from .providers.model import (
    ActionNotAllowedError,
    AuthenticationError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
    CallNotFoundError,
    CallState,
    Device,
    InvalidOptionError,
    InvalidPayloadError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)

type SwitchboardConfigEntry = ConfigEntry[SwitchboardHub]

# While calls are live, re-read them this often: a missed "ended" event must
# not leave a call ringing forever.
RECONCILE_INTERVAL = timedelta(minutes=2)
# Graph ends a call that hears no keepAlive within 45 minutes; say it sooner.
KEEP_ALIVE_INTERVAL = timedelta(minutes=15)
# States a call reaches only after events we would have seen first.
_LATE_STATES = (CallState.TALKING, CallState.ON_HOLD)
# Where an answered call is.
ANSWERED_STATES = (CallState.TALKING, CallState.ON_HOLD)

_ERROR_KEYS: tuple[tuple[type[ProviderError], str], ...] = (
    (AuthenticationError, "invalid_auth"),
    (CallEndedError, "call_ended"),
    (CallNotFoundError, "call_gone"),
    (ActionNotAllowedError, "refused_now"),
    (PermissionDeniedError, "permission_denied"),
    (RateLimitedError, "rate_limited"),
    (ProviderUnavailableError, "cannot_connect"),
)


class SwitchboardHub:
    """One provider account as Home Assistant sees it."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SwitchboardConfigEntry,
        provider: Provider,
        provider_name: str,
    ) -> None:
        """Hold `provider`'s devices and calls for `entry`.

        `provider_name` is what users call the provider ("Telnyx").
        """
        self.hass = hass
        self.entry = entry
        self.provider = provider
        self.provider_name = provider_name
        self.devices: dict[str, Device] = {}
        self.calls = CallBook()
        self._stream = provider if isinstance(provider, StreamProvider) else None
        self._stream_task: asyncio.Task[None] | None = None
        self._stream_connected = False
        self._stream_ever_connected = False
        self._reread_task: asyncio.Task[None] | None = None
        self._availability_listeners: list[CALLBACK_TYPE] = []

    # --- what entities need ---

    @property
    def available(self) -> bool:
        """Unavailable while the provider's event stream is down."""
        return self._stream is None or self._stream_connected

    @callback
    def async_subscribe_device(
        self, device_id: str, listener: CallListener
    ) -> CALLBACK_TYPE:
        """Tell `listener` of the call changes of one device only."""
        return self.calls.listen_device(device_id, listener)

    @callback
    def async_subscribe_availability(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Tell `listener` when the hub becomes available or unavailable."""
        self._availability_listeners.append(listener)
        return lambda: self._availability_listeners.remove(listener)

    # --- setting up and tearing down ---

    async def async_first_read(self) -> None:
        """Check the account and list its devices; raises ProviderError."""
        await self.provider.async_get_account()
        devices = await self.provider.async_get_devices()
        self.devices = {device.device_id: device for device in devices}

    @callback
    def async_start(self) -> None:
        """Start the stream, the periodic re-reads and the keep-alive."""
        if self._stream is not None:
            self._stream_task = self.entry.async_create_background_task(
                self.hass,
                self._async_run_stream(self._stream),
                f"switchboard stream {self.entry.title}",
            )

        @callback
        def _tick(_now: datetime) -> None:
            if len(self.calls):
                self.async_schedule_reread()

        self.entry.async_on_unload(
            async_track_time_interval(self.hass, _tick, RECONCILE_INTERVAL)
        )
        if isinstance(self.provider, KeepAliveProvider):
            self.entry.async_on_unload(
                async_track_time_interval(
                    self.hass,
                    partial(self._async_keep_alive, self.provider),
                    KEEP_ALIVE_INTERVAL,
                )
            )

    async def async_stop(self) -> None:
        """Leave the provider's stream cleanly and wait for it to end.

        Called from async_unload_entry: after it, the entry's on_unload
        callbacks close the entry's HTTP session and its background tasks are
        cancelled, and a cancelled stream cannot leave (CometD
        /meta/disconnect).
        """
        if self._stream is None:
            return
        await self._stream.async_stop()
        if self._stream_task is not None:
            await asyncio.wait([self._stream_task])

    # --- event intake ---

    async def async_receive_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> None:
        """Check a webhook delivery with the provider, then take in its events.

        Raises what the provider's check raises (InvalidSignatureError,
        InvalidPayloadError, ResendRequestedError, ProviderUnavailableError).
        """
        if not isinstance(self.provider, WebhookProvider):
            raise InvalidPayloadError("this provider sends no webhooks")
        self.async_deliver(await self.provider.async_parse_webhook(headers, body, now))

    @callback
    def async_deliver(self, events: list[CallEvent]) -> None:
        """Apply events; an event of a call we never saw begin reveals a gap."""
        gap = any(
            event.state in _LATE_STATES and not self.calls.knows(event.call_id)
            for event in events
        )
        self.calls.apply_all(events)
        if gap:
            self.async_schedule_reread()

    @callback
    def async_schedule_reread(self) -> None:
        """Re-read the provider's calls soon, once however often it is asked."""
        if self._reread_task and not self._reread_task.done():
            return
        self._reread_task = self.entry.async_create_background_task(
            self.hass, self.async_reread(), "switchboard reconcile"
        )

    async def async_reread(self) -> None:
        """Re-read the provider's calls; end the ones it no longer has.

        A provider that lists its calls is re-read as a whole; any other has
        each live call looked up, so a lost "ended" cannot leave a call ringing
        forever.
        """
        if not isinstance(self.provider, ReconcilingProvider):
            await self._async_look_up_each()
            return
        live_before = {call.call_id for call in self.calls.live_calls()}
        try:
            events = await self.provider.async_list_calls()
        except ProviderError as err:
            LOGGER.warning(
                "Could not re-read the calls of %s: %s", self.entry.title, err
            )
            return
        self.calls.reconcile(events, live_before, datetime.now(UTC))

    async def _async_look_up_each(self) -> None:
        for call in self.calls.live_calls():
            await self._async_refresh(call, log_failure=LOGGER.warning)

    async def _async_keep_alive(
        self, keeper: KeepAliveProvider, _now: datetime
    ) -> None:
        for call in self.calls.live_calls():
            if call.state not in _LATE_STATES:
                continue
            try:
                ended = await keeper.async_keep_alive(call)
            except ProviderError as err:
                LOGGER.warning("Could not keep call %s alive: %s", call.call_id, err)
                continue
            if ended is not None:
                self.calls.apply(ended)

    # --- the stream (Genesys) ---

    async def _async_run_stream(self, stream: StreamProvider) -> None:
        try:
            await stream.async_stream(self.async_deliver, self._on_stream_connection)
        except AuthenticationError:
            self._on_stream_connection(connected=False)
            self.entry.async_start_reauth(self.hass)

    @callback
    def _on_stream_connection(self, connected: bool) -> None:
        if connected == self._stream_connected:
            return
        self._stream_connected = connected
        if connected:
            if self._stream_ever_connected:
                LOGGER.info("The event stream of %s is back", self.entry.title)
            self._stream_ever_connected = True
            # Events may have been missed while it was down (or before it began).
            self.async_schedule_reread()
        else:
            LOGGER.warning(
                "Lost the event stream of %s; its devices are unavailable until it"
                " returns",
                self.entry.title,
            )
        for listener in list(self._availability_listeners):
            listener()

    # --- acting on a call ---

    async def async_act(
        self,
        device: Device,
        action: CallAction,
        call_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call:
        """Perform `action`; nothing changes state unless the provider agrees."""
        if action not in self.provider.supported_actions:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="action_not_supported",
                translation_placeholders={
                    "action": str(action),
                    "provider": self.provider_name,
                },
            )
        call = self._target(device, action, call_id)
        try:
            validated = self.provider.validate_options(action, options or {})
        except InvalidOptionError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_option",
                translation_placeholders={"option": err.option, "reason": err.reason},
            ) from err
        tries = 0

        async def _async_perform() -> None:
            nonlocal tries
            tries += 1
            await self.provider.async_perform(action, call, device, validated)

        try:
            await async_retry(_async_perform)
        except ProviderError as err:
            if isinstance(err, CallEndedError):
                await self._async_refresh(call)
            elif (
                isinstance(err, ProviderUnavailableError)
                # Refused at the first try: no earlier try can have gone through.
                or (isinstance(err, ActionNotAllowedError) and tries > 1)
            ) and await self._async_took_effect(call, action):
                # A timed-out first try went through, so the retry was refused:
                # the provider shows the call where the action wanted it.
                return call.copy()
            raise self._translate(err, action) from err
        if action is CallAction.ANSWER:
            self.calls.confirm_answered(call.call_id)
        return call.copy()

    def _target(self, device: Device, action: CallAction, call_id: str | None) -> Call:
        call = self.calls.find_call(device.device_id, action, call_id)
        if call is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="call_not_found" if call_id else f"no_call_to_{action}",
                translation_placeholders={
                    "call_id": call_id or "",
                    "device": device.name,
                },
            )
        if action not in call.actions:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="action_not_allowed",
                translation_placeholders={"action": action, "state": call.state},
            )
        return call

    async def _async_took_effect(self, call: Call, action: CallAction) -> bool:
        """Ask the provider whether the call is where `action` would have put it."""
        await self._async_refresh(call)
        now = self.calls.get(call.call_id)
        if action is CallAction.ANSWER:
            return now is not None and now.state in ANSWERED_STATES
        return now is None

    async def _async_refresh(
        self, call: Call, log_failure: Callable[..., None] = LOGGER.debug
    ) -> None:
        """Ask the provider where a call stands, and take in what it says.

        A failure is only logged (with `log_failure`): the call stays as it is.
        """
        try:
            event = await self.provider.async_refresh_call(call)
        except ProviderError as err:
            log_failure("Could not look up call %s: %s", call.call_id, err)
            return
        if event is not None:
            self.calls.apply(event)

    def _translate(self, err: ProviderError, action: CallAction) -> HomeAssistantError:
        if isinstance(err, AuthenticationError):
            self.entry.async_start_reauth(self.hass)
        key = next(
            (key for kind, key in _ERROR_KEYS if isinstance(err, kind)),
            "provider_error",
        )
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"action": str(action), "error": str(err)},
        )
