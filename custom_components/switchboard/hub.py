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
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util.hass_dict import HassKey

from .calls import CallBook, CallChange, CallListener, new_call
from .const import DOMAIN, LOGGER
from .devices import DeviceRoster
from .issues import async_clear_entry_issues, async_raise_entry_issue
from .providers.base import (
    DialingProvider,
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
    Direction,
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
# How often the devices are listed again, to follow the ones added or removed.
DEVICES_INTERVAL = timedelta(minutes=10)
# Graph ends a call that hears no keepAlive within 45 minutes; say it sooner.
KEEP_ALIVE_INTERVAL = timedelta(minutes=15)
# The repair issue of a stream the server ended for good (Bayeux reconnect
# "none"), and the entries whose stream it ended: True until the next set-up
# has been refused once without asking the server.
STREAM_REFUSED_ISSUE = "stream_refused"
_REFUSED_STREAMS: HassKey[dict[str, bool]] = HassKey(f"{DOMAIN}_refused_streams")
# States a call reaches only after events we would have seen first.
_LATE_STATES = (CallState.TALKING, CallState.ON_HOLD)
# Where an answered call is.
ANSWERED_STATES = (CallState.TALKING, CallState.ON_HOLD)
# Actions whose repeat is harmless, so an outage (a timeout may hide a try
# that went through) is retried. The others (a transfer, a dial, a prompt
# spoken twice) are retried only when rate limited: refused, so not performed.
REPEATABLE_ACTIONS = frozenset(
    {
        CallAction.ANSWER,
        CallAction.REJECT,
        CallAction.HANGUP,
        CallAction.HOLD,
        CallAction.RESUME,
    }
)
# Where a call is once an action took effect; an action not named here takes
# the call away from the device (reject, hang-up, transfer).
_EFFECTS: dict[CallAction, tuple[CallState, ...]] = {
    CallAction.ANSWER: ANSWERED_STATES,
    CallAction.HOLD: (CallState.ON_HOLD,),
    CallAction.RESUME: (CallState.TALKING,),
}
# Actions whose effect the call's state does not show: never taken as done.
_UNSEEN_EFFECTS = frozenset({CallAction.SPEAK, CallAction.PLAY, CallAction.SEND_DIGITS})

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
        self.roster = DeviceRoster(hass, entry, provider)
        # The roster's own dict: it stays current as devices come and go.
        self.devices: dict[str, Device] = self.roster.devices
        self.calls = CallBook()
        self._stream = provider if isinstance(provider, StreamProvider) else None
        self._stream_task: asyncio.Task[None] | None = None
        self._stream_connected = False
        self._stream_ever_connected = False
        self._reread_task: asyncio.Task[None] | None = None
        self._availability_listeners: list[CALLBACK_TYPE] = []
        # Set while provider news is applied (see async_deliver).
        self.news_context: Context | None = None
        # False while the provider sends our webhooks elsewhere (or nowhere)
        # and we could not point them back.
        self._webhook_reaches_us = True

    # --- what entities need ---

    @property
    def available(self) -> bool:
        """Unavailable while the event stream is down, or the webhook goes elsewhere."""
        stream_up = self._stream is None or self._stream_connected
        return stream_up and self._webhook_reaches_us

    @callback
    def async_set_webhook_reaches_us(self, *, reaches: bool) -> None:
        """Say whether the provider's webhooks reach Home Assistant (or not)."""
        if reaches == self._webhook_reaches_us:
            return
        self._webhook_reaches_us = reaches
        if reaches:
            # Events went elsewhere meanwhile: see where the calls stand.
            self.async_schedule_reread()
        self._notify_availability()

    @callback
    def _notify_availability(self) -> None:
        for listener in list(self._availability_listeners):
            listener()

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
        """Check the account and list its devices; raises ProviderError.

        After the server ended the stream for good, also raises
        ConfigEntryNotReady until it takes a stream again.
        """
        await self.provider.async_get_account()
        await self.roster.async_read()
        if self._stream is not None:
            await self._async_check_refused_stream(self._stream)

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

        @callback
        def _list_devices(_now: datetime) -> None:
            self.roster.async_schedule_refresh()

        self.entry.async_on_unload(
            async_track_time_interval(self.hass, _list_devices, DEVICES_INTERVAL)
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
        # The states this news changes share its context, as the states one
        # automation run changes do.
        self.news_context = Context()
        try:
            if LOGGER.isEnabledFor(logging.DEBUG):
                for event in events:
                    self._log_applied(event, self.calls.apply(event))
            else:
                self.calls.apply_all(events)
        finally:
            self.news_context = None
        if gap:
            self.async_schedule_reread()
        if not all(self.roster.knows(event.device_ids) for event in events):
            # A device added at the provider since the last listing.
            self.roster.async_schedule_refresh()

    def _log_applied(self, event: CallEvent, change: CallChange | None) -> None:
        LOGGER.debug(
            "%s: %s for call %s: %s",
            self.provider_name,
            event.raw.get("event", event.state),
            event.call_id,
            f"now {change.call.state}"
            + (f" ({change.event_type})" if change.event_type else "")
            if change
            else "no change (repeated, older or of a call that ended)",
        )

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
        changes = self.calls.reconcile(events, live_before, datetime.now(UTC))
        LOGGER.debug(
            "%s: re-read %d live calls, %d changed",
            self.provider_name,
            len(events),
            len(changes),
        )

    async def _async_look_up_each(self) -> None:
        calls = self.calls.live_calls()
        for call in calls:
            await self._async_refresh(call, log_failure=LOGGER.warning)
        LOGGER.debug("%s: looked up %d live calls", self.provider_name, len(calls))

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
        except ProviderError as err:
            self._on_stream_connection(connected=False)
            self._async_stream_refused(err)
        except Exception:  # noqa: BLE001 - logged with its traceback
            # Never silent: the devices say the stream is gone, the log says why.
            LOGGER.exception("The event stream of %s stopped", self.entry.title)
            self._on_stream_connection(connected=False)

    @callback
    def _async_stream_refused(self, err: ProviderError) -> None:
        """Take the server's word that the stream ended: HA brings it back.

        Bayeux's reconnect "none" rules out a new handshake of our own. The
        entry is reloaded instead, and that set-up fails at once (see
        _async_check_refused_stream): Home Assistant then retries it with its
        own back-off. A reload is the way there because that back-off counts
        the failed set-ups of an entry in a row (ConfigEntry._tries, reset
        once it loads): a refusal must surface in a set-up to be backed off.
        """
        entry = self.entry
        LOGGER.warning(
            "%s ended the event stream of %s and asked not to reconnect;"
            " Home Assistant sets the entry up again later",
            self.provider_name,
            entry.title,
        )
        async_raise_entry_issue(
            self.hass,
            entry,
            STREAM_REFUSED_ISSUE,
            provider=self.provider_name,
            error=str(err),
        )
        self.hass.data.setdefault(_REFUSED_STREAMS, {})[entry.entry_id] = True
        self.hass.config_entries.async_schedule_reload(entry.entry_id)

    async def _async_check_refused_stream(self, stream: StreamProvider) -> None:
        """Set up again after the server ended the stream: only once it agrees.

        The first set-up after the refusal asks the server nothing and raises
        ConfigEntryNotReady: Home Assistant retries in 5 s, then doubles the
        wait up to 10 minutes while the entry stays in SETUP_RETRY. Each retry
        opens a stream once and leaves (async_check_stream); while the server
        still refuses, that raises ProviderUnavailableError, which
        async_setup_entry turns into ConfigEntryNotReady again.
        """
        refused = self.hass.data.get(_REFUSED_STREAMS, {})
        entry_id = self.entry.entry_id
        if entry_id not in refused:
            return
        if refused[entry_id]:
            refused[entry_id] = False
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key=STREAM_REFUSED_ISSUE,
                translation_placeholders={"provider": self.provider_name},
            )
        await stream.async_check_stream()
        del refused[entry_id]

    @callback
    def _async_clear_refusal(self) -> None:
        """Drop the repair issue of a refused stream: it is back."""
        self.hass.data.get(_REFUSED_STREAMS, {}).pop(self.entry.entry_id, None)
        async_clear_entry_issues(self.hass, self.entry, (STREAM_REFUSED_ISSUE,))

    @callback
    def _on_stream_connection(self, connected: bool) -> None:
        if connected == self._stream_connected:
            return
        self._stream_connected = connected
        if connected:
            if self._stream_ever_connected:
                LOGGER.info("The event stream of %s is back", self.entry.title)
            self._stream_ever_connected = True
            self._async_clear_refusal()
            # Events may have been missed while it was down (or before it began).
            self.async_schedule_reread()
        else:
            LOGGER.warning(
                "Lost the event stream of %s; its devices are unavailable until it"
                " returns",
                self.entry.title,
            )
        self._notify_availability()

    # --- acting on a call ---

    async def async_act(
        self,
        device: Device,
        action: CallAction,
        call_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call:
        """Perform `action` on a call; nothing changes state unless the provider agrees.

        Without `call_id`, the call the action naturally means (see
        CallBook.find_call). `options` holds the provider's options and the
        action's arguments (ARG_TO, ARG_MESSAGE...).
        """
        self._check_can(action)
        call = self._target(device, action, call_id)
        validated = self._validated(action, options)
        tries = 0

        async def _async_perform() -> None:
            nonlocal tries
            tries += 1
            LOGGER.debug(
                "%s: %s call %s on %s (try %d)",
                self.provider_name,
                action,
                call.call_id,
                device.name,
                tries,
            )
            await self.provider.async_perform(action, call, device, validated)

        try:
            await async_retry(
                _async_perform, retry_outages=action in REPEATABLE_ACTIONS
            )
        except ProviderError as err:
            if isinstance(err, CallEndedError):
                await self._async_refresh(call)
            elif (
                isinstance(err, ProviderUnavailableError)
                # Refused at the first try: no earlier try can have gone through.
                or (isinstance(err, ActionNotAllowedError) and tries > 1)
            ) and await self._async_took_effect(call, action):
                # A timed-out try went through (and a retry was refused): the
                # provider shows the call where the action wanted it.
                return call.copy()
            LOGGER.debug(
                "%s: %s call %s refused: %s",
                self.provider_name,
                action,
                call.call_id,
                err,
            )
            raise self._translate(err, action) from err
        LOGGER.debug(
            "%s: %s call %s accepted", self.provider_name, action, call.call_id
        )
        if action is CallAction.ANSWER:
            self.calls.confirm_answered(call.call_id)
        return call.copy()

    async def async_dial(
        self, device: Device, options: Mapping[str, Any] | None = None
    ) -> Call:
        """Place a call from `device` to options[ARG_TO]; return it as it starts.

        The same rules as async_act: refused while the hub cannot see calls,
        on a provider without dialling, and with bad options, before any
        request. The new call is in the CallBook at once (the sensor shows it
        dialing); the provider's events take it on from there. An outage is
        not retried: the call may have been placed.
        """
        action = CallAction.DIAL
        self._check_can(action)
        provider = self.provider
        if not isinstance(provider, DialingProvider):
            raise self._not_supported(action)
        validated = self._validated(action, options)
        LOGGER.debug("%s: dial from %s", self.provider_name, device.name)
        try:
            event = await async_retry(
                partial(provider.async_dial, device, validated), retry_outages=False
            )
        except ProviderError as err:
            LOGGER.debug(
                "%s: dial from %s refused: %s", self.provider_name, device.name, err
            )
            raise self._translate(err, action) from err
        LOGGER.debug(
            "%s: dial from %s placed call %s",
            self.provider_name,
            device.name,
            event.call_id,
        )
        self.async_deliver([event])
        call = self.calls.get(event.call_id)
        # Gone already (the far end refused at once): the call as it began.
        return call.copy() if call is not None else new_call(event, Direction.OUTGOING)

    def _check_can(self, action: CallAction) -> None:
        """Refuse an action the hub cannot see through, or the provider lacks."""
        if not self.available:
            # Without its events the hub cannot see the call's state: acting
            # blind could answer a call that is long gone.
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="webhook_elsewhere"
                if not self._webhook_reaches_us
                else "stream_down",
                translation_placeholders={"provider": self.provider_name},
            )
        if action not in self.provider.supported_actions:
            raise self._not_supported(action)

    def _not_supported(self, action: CallAction) -> ServiceValidationError:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="action_not_supported",
            translation_placeholders={
                "action": str(action),
                "provider": self.provider_name,
            },
        )

    def _validated(
        self, action: CallAction, options: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """Return the provider's options for one action, or refuse them.

        An option the provider names that was not given is a missing one
        (`to` of a transfer, say); any other is not valid.
        """
        given = options or {}
        try:
            return self.provider.validate_options(action, given)
        except InvalidOptionError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_option"
                if err.option in given
                else "missing_option",
                translation_placeholders={
                    "action": str(action),
                    "option": err.option,
                    "reason": err.reason,
                },
            ) from err

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
        if action in _UNSEEN_EFFECTS:
            # Nothing shows that a prompt was played or keys were sent.
            return False
        await self._async_refresh(call)
        now = self.calls.get(call.call_id)
        if (states := _EFFECTS.get(action)) is not None:
            return now is not None and now.state in states
        # Rejected, hung up or transferred: the call left the device.
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
