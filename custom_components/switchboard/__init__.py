"""Switchboard: see and answer phone calls from Home Assistant."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
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

from .const import CONF_REGISTERED_URL, DOMAIN, LOGGER
from .hub import STREAM_REFUSED_ISSUE, SwitchboardConfigEntry, SwitchboardHub
from .issues import async_clear_entry_issues
from .kinds import UnknownProviderError, kind_of
from .providers.base import Provider, WebhookProvider
from .providers.model import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from .services import async_setup_services
from .voice import async_setup_voice
from .webhook import WebhookManager, async_remove_webhook

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [Platform.BUTTON, Platform.EVENT, Platform.SENSOR]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the call actions and voice once."""
    async_setup_services(hass)
    async_setup_voice(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: SwitchboardConfigEntry) -> bool:
    """Connect to the provider, make its devices, and start receiving its events."""
    try:
        kind = kind_of(entry.data)
    except UnknownProviderError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_provider",
            translation_placeholders={"provider": str(err.args[0])},
        ) from err
    try:
        provider = await kind.async_create_client(hass, entry)
    except ImplementationUnavailableError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="oauth_unavailable"
        ) from err
    hub = SwitchboardHub(hass, entry, provider, kind.name)
    try:
        await hub.async_first_read()
        entry.runtime_data = hub
        if isinstance(provider, WebhookProvider):
            await WebhookManager(hass, entry, hub, provider).async_start()
        # Calls that rang before Home Assistant started (or restarted).
        await hub.async_reread()
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
    hub.roster.async_remove_stale()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    hub.async_start()
    return True


async def async_remove_config_entry_device(
    hass: HomeAssistant,  # noqa: ARG001
    entry: SwitchboardConfigEntry,
    device_entry: dr.DeviceEntry,
) -> bool:
    """Let a user delete a device the provider no longer lists."""
    return not device_entry.identifiers & entry.runtime_data.roster.identifiers()


async def async_unload_entry(
    hass: HomeAssistant, entry: SwitchboardConfigEntry
) -> bool:
    """Stop receiving events and remove the entities."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Undo what the entry registered with the provider and with Nabu Casa."""
    async_clear_entry_issues(hass, entry, (STREAM_REFUSED_ISSUE,))
    if CONF_REGISTERED_URL not in entry.data:
        # Nothing registered at the provider (Teams, Genesys, manual webhooks).
        await async_remove_webhook(hass, entry, None)
        return
    try:
        provider: Provider | None = await kind_of(entry.data).async_create_client(
            hass, entry
        )
    except ImplementationUnavailableError, UnknownImplementationError:
        LOGGER.warning(
            "The sign-in of %s is gone; remove its webhook in the provider's portal",
            entry.title,
        )
        provider = None
    await async_remove_webhook(hass, entry, provider)
