"""Genesys Workspace Web Services: an agent's sign-in; events on CometD."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_create_clientsession
import probatio as vol

from ..providers.genesys import API_PATH, GenesysClient
from .base import PASSWORD, URL, ProviderKind

SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): URL,
        vol.Required(CONF_USERNAME): str,
        vol.Required(CONF_PASSWORD): PASSWORD,
        vol.Required(CONF_VERIFY_SSL, default=True): bool,
    }
)
REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_PASSWORD): PASSWORD})


class GenesysKind(ProviderKind):
    """Each device (DN) of the signed-in agent is a device."""

    key = "genesys"
    name = "Genesys"
    entry_secrets = frozenset({CONF_USERNAME, CONF_PASSWORD})
    client_class = GenesysClient
    reconfigure_shown = (CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL)
    uses_webhook = False
    placeholders: ClassVar[Mapping[str, str]] = {
        "example_url": "https://gws.example.com",
        "example_context_url": "https://gws.example.com/cloud-web",
        "api_path": API_PATH,
        "api_name": "Genesys Web Services",
        "api_url_example": "https://gws.example.com",
    }

    def create_client(
        self, hass: HomeAssistant, data: Mapping[str, Any], entry_id: str | None
    ) -> GenesysClient:
        """Build a Genesys client on a session of its own.

        Web Services ties the agent's session and CSRF token to its JSESSIONID
        cookie, so REST and CometD share one cookie jar that no other
        integration touches. The jar is "unsafe" to keep cookies of servers
        addressed by IP.
        """
        del entry_id
        session = async_create_clientsession(
            hass,
            verify_ssl=data.get(CONF_VERIFY_SSL, True),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        return GenesysClient(
            session, data[CONF_URL], data[CONF_USERNAME], data[CONF_PASSWORD]
        )

    def user_schema(self) -> vol.Schema:
        """Web Services URL, the agent's sign-in, and the TLS check."""
        return SCHEMA

    def reauth_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """Ask for the agent's new password."""
        del entry
        return REAUTH_SCHEMA

    def reauth_placeholders(self, entry: ConfigEntry[Any]) -> dict[str, str]:
        """Name the agent whose password is asked."""
        return {"username": entry.data[CONF_USERNAME]}
