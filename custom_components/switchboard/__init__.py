"""Switchboard: see and answer phone calls from Home Assistant."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
    ImplementationUnavailableError,
    UnknownImplementationError,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .calls import CallBook
from .clients import async_create_provider
from .const import CONF_REGISTERED_URL, DOMAIN, LOGGER
from .controller import CallController
from .data import SwitchboardConfigEntry, SwitchboardData
from .entity import device_identifier
from .providers.base import Provider, StreamProvider, WebhookProvider
from .providers.model import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from .reconcile import Reconciler
from .services import async_setup_services
from .stream import StreamRunner
from .webhook import async_remove_webhook, async_start_webhook

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [Platform.BUTTON, Platform.EVENT, Platform.SENSOR]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the call actions once."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SwitchboardConfigEntry) -> bool:
    """Connect to the provider, make its devices, and start receiving its events."""
    try:
        provider = await async_create_provider(hass, entry)
    except ImplementationUnavailableError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="oauth_unavailable"
        ) from err
    try:
        await provider.async_get_account()
        devices = await provider.async_get_devices()
        calls = CallBook()
        reconciler = Reconciler(hass, entry, provider, calls)
        entry.runtime_data = SwitchboardData(
            provider=provider,
            devices={device.device_id: device for device in devices},
            calls=calls,
            controller=CallController(hass, entry, provider, calls),
        )
        if isinstance(provider, WebhookProvider):
            await async_start_webhook(hass, entry, provider, reconciler)
        # Calls that rang before Home Assistant started (or restarted).
        await reconciler.async_reconcile()
    except AuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except (ProviderUnavailableError, RateLimitedError) as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    except ProviderError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="provider_error",
            translation_placeholders={"error": str(err)},
        ) from err
    _remove_stale_devices(hass, entry)
    if isinstance(provider, StreamProvider):
        entry.runtime_data.stream = StreamRunner(hass, entry, provider, reconciler)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if entry.runtime_data.stream is not None:
        entry.runtime_data.stream.async_start()
    reconciler.async_start_polling()
    return True


def _remove_stale_devices(hass: HomeAssistant, entry: SwitchboardConfigEntry) -> None:
    """Drop devices whose number or endpoint the provider no longer lists."""
    registry = dr.async_get(hass)
    current = {
        (DOMAIN, device_identifier(entry, device))
        for device in entry.runtime_data.devices.values()
    }
    for device_entry in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device_entry.identifiers & current:
            registry.async_update_device(
                device_entry.id, remove_config_entry_id=entry.entry_id
            )


async def async_unload_entry(
    hass: HomeAssistant, entry: SwitchboardConfigEntry
) -> bool:
    """Stop receiving events and remove the entities."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded and entry.runtime_data.stream is not None:
        await entry.runtime_data.stream.async_stop()
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: SwitchboardConfigEntry
) -> None:
    """Undo what the entry registered with the provider and with Nabu Casa."""
    if CONF_REGISTERED_URL not in entry.data:
        # Nothing registered at the provider (Teams, Genesys, manual webhooks).
        await async_remove_webhook(hass, entry, None)
        return
    try:
        provider: Provider | None = await async_create_provider(hass, entry)
    except ImplementationUnavailableError, UnknownImplementationError:
        LOGGER.warning(
            "The sign-in of %s is gone; remove its webhook in the provider's portal",
            entry.title,
        )
        provider = None
    await async_remove_webhook(hass, entry, provider)
