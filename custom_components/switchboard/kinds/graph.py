"""Microsoft Teams: a Graph calling bot with a client secret; https callbacks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio as vol

from ..const import CONF_CLOUD, CONF_CLOUDHOOK_URL, CONF_TENANT_ID
from ..providers.graph import CLOUDS, OPENID_CONFIGURATION_PATH, GraphClient
from ..webhook import async_new_webhook_url, displayed_webhook_url, is_https
from .base import PASSWORD, URL, FlowError, NewEntry, ProviderKind

CLOUD = SelectSelector(
    SelectSelectorConfig(
        options=list(CLOUDS),
        translation_key=CONF_CLOUD,
        mode=SelectSelectorMode.DROPDOWN,
    )
)


def _schema(*, client_id: bool) -> vol.Schema:
    """Ask for the bot's sign-in; the bot (its client id) is fixed once added."""
    return vol.Schema(
        {
            vol.Required(CONF_TENANT_ID): str,
            **({vol.Required(CONF_CLIENT_ID): str} if client_id else {}),
            vol.Required(CONF_CLIENT_SECRET): PASSWORD,
            vol.Required(CONF_CLOUD, default="global"): CLOUD,
            vol.Optional(CONF_URL): URL,
        }
    )


SCHEMA = _schema(client_id=True)
RECONFIGURE_SCHEMA = _schema(client_id=False)
REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_CLIENT_SECRET): PASSWORD})


class GraphKind(ProviderKind):
    """The calling bot is the one device; Microsoft needs an https callback."""

    key = "graph"
    name = "Microsoft Teams"
    entry_secrets = frozenset({CONF_CLIENT_SECRET})
    client_class = GraphClient
    reconfigure_shown = (CONF_TENANT_ID, CONF_CLOUD, CONF_URL)

    def create_client(
        self, hass: HomeAssistant, data: Mapping[str, Any], entry_id: str | None
    ) -> GraphClient:
        """Build a Graph client; a URL replaces every Microsoft endpoint."""
        del entry_id
        url = (data.get(CONF_URL) or "").rstrip("/") or None
        extra: dict[str, Any] = {}
        if url is not None:
            extra = {
                "graph_url": url,
                "login_url": url,
                "openid_configuration_url": f"{url}{OPENID_CONFIGURATION_PATH}",
            }
        return GraphClient(
            async_get_clientsession(hass),
            tenant_id=data[CONF_TENANT_ID],
            client_id=data[CONF_CLIENT_ID],
            client_secret=data[CONF_CLIENT_SECRET],
            cloud=data.get(CONF_CLOUD, "global"),
            **extra,
        )

    def user_schema(self) -> vol.Schema:
        """Tenant, bot application id and secret, cloud, optional URL."""
        return SCHEMA

    def reauth_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """Ask for a new client secret (they expire)."""
        del entry
        return REAUTH_SCHEMA

    def reconfigure_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """Everything but the bot, which stays the same."""
        del entry
        return RECONFIGURE_SCHEMA

    def reconfigure_placeholders(
        self, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> dict[str, str]:
        """Where the bot's calling webhook must point, to check or paste again."""
        return {"webhook_url": displayed_webhook_url(hass, dict(entry.data))}

    async def async_new_entry(
        self, hass: HomeAssistant, data: Mapping[str, Any]
    ) -> NewEntry:
        """Only with an https URL; end by showing it, to paste into the bot."""
        stored = self.entry_data(data)
        try:
            url, cloudhook = await async_new_webhook_url(hass, stored["webhook_id"])
        except NoURLAvailableError:
            url, cloudhook = None, None
        if url is None or not is_https(url):
            raise FlowError("no_https_url")
        if cloudhook:
            stored[CONF_CLOUDHOOK_URL] = cloudhook
        return NewEntry(stored, "graph_callback", {"webhook_url": url})
