"""Carries out what a user asks of a call: answer, reject, hang up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .calls import CallBook
from .const import CONF_PROVIDER, DOMAIN, LOGGER, PROVIDER_NAMES
from .providers.base import Provider
from .providers.model import (
    ActionNotAllowedError,
    AuthenticationError,
    Call,
    CallAction,
    CallEndedError,
    CallNotFoundError,
    CallState,
    Device,
    InvalidOptionError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from .providers.retry import async_retry

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry


# Where an answered call is.
ANSWERED_STATES = (CallState.TALKING, CallState.ON_HOLD)


class CallController:
    """Finds the call an action means, checks it, sends it, maps the errors."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        provider: Provider,
        calls: CallBook,
    ) -> None:
        """Act on the calls of one entry through its provider."""
        self._hass = hass
        self._entry = entry
        self._provider = provider
        self._calls = calls

    def can(self, device: Device, action: CallAction) -> bool:
        """Tell whether the device has a call this action would reach."""
        call = self._calls.find_call(device.device_id, action, None)
        return call is not None and action in call.actions

    async def async_act(
        self,
        device: Device,
        action: CallAction,
        call_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Call:
        """Perform `action`; nothing changes state unless the provider agrees."""
        if action not in self._provider.supported_actions:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="action_not_supported",
                translation_placeholders={
                    "action": str(action),
                    "provider": PROVIDER_NAMES[self._entry.data[CONF_PROVIDER]],
                },
            )
        call = self._target(device, action, call_id)
        try:
            validated = self._provider.validate_options(action, options or {})
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
            await self._provider.async_perform(action, call, device, validated)

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
        return call.copy()

    async def _async_took_effect(self, call: Call, action: CallAction) -> bool:
        """Ask the provider whether the call is where `action` would have put it."""
        await self._async_refresh(call)
        now = self._calls.get(call.call_id)
        if action is CallAction.ANSWER:
            return now is not None and now.state in ANSWERED_STATES
        return now is None

    def _target(self, device: Device, action: CallAction, call_id: str | None) -> Call:
        call = self._calls.find_call(device.device_id, action, call_id)
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

    async def _async_refresh(self, call: Call) -> None:
        """Ask the provider where a call stands, and take in what it says."""
        try:
            event = await self._provider.async_refresh_call(call)
        except ProviderError as err:
            LOGGER.debug("Could not refresh call %s: %s", call.call_id, err)
            return
        if event is not None:
            self._calls.apply(event)

    def _translate(self, err: ProviderError, action: CallAction) -> HomeAssistantError:
        placeholders = {"action": str(action), "error": str(err)}
        if isinstance(err, AuthenticationError):
            self._entry.async_start_reauth(self._hass)
            key = "invalid_auth"
        elif isinstance(err, CallEndedError):
            key = "call_ended"
        elif isinstance(err, CallNotFoundError):
            key = "call_gone"
        elif isinstance(err, ActionNotAllowedError):
            key = "refused_now"
        elif isinstance(err, PermissionDeniedError):
            key = "permission_denied"
        elif isinstance(err, RateLimitedError):
            key = "rate_limited"
        elif isinstance(err, ProviderUnavailableError):
            key = "cannot_connect"
        else:
            key = "provider_error"
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )
