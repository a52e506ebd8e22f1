"""Builds the provider client a config entry describes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_APPLICATION_ID, CONF_PUBLIC_KEY
from .providers.base import WebhookProvider
from .providers.telnyx import DEFAULT_URL, TelnyxClient


def create_telnyx_client(hass: HomeAssistant, data: Mapping[str, Any]) -> TelnyxClient:
    """Build a Telnyx client on Home Assistant's shared session."""
    return TelnyxClient(
        async_get_clientsession(hass),
        data[CONF_API_KEY],
        public_key=data.get(CONF_PUBLIC_KEY),
        application_id=data.get(CONF_APPLICATION_ID),
        base_url=data.get(CONF_URL) or DEFAULT_URL,
    )


def create_provider(hass: HomeAssistant, data: Mapping[str, Any]) -> WebhookProvider:
    """Build the client of the entry's provider."""
    return create_telnyx_client(hass, data)
