"""Builds the provider client a config entry describes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_API_KEY,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    OAuth2TokenRequestBaseError,
    OAuth2TokenRequestReauthError,
)
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import (
    async_create_clientsession,
    async_get_clientsession,
)

from .const import (
    CONF_APPLICATION_ID,
    CONF_CLOUD,
    CONF_PROVIDER,
    CONF_PUBLIC_KEY,
    CONF_TENANT_ID,
    CONF_WEBHOOK_SECRET,
    PROVIDER_GENESYS,
    PROVIDER_GRAPH,
    PROVIDER_TELNYX,
)
from .providers import telnyx, webex
from .providers.base import Provider
from .providers.genesys import GenesysClient
from .providers.graph import OPENID_CONFIGURATION_PATH, GraphClient
from .providers.model import AuthenticationError, ProviderUnavailableError
from .providers.telnyx import TelnyxClient
from .providers.webex import TokenSource, WebexClient


def create_telnyx_client(hass: HomeAssistant, data: Mapping[str, Any]) -> TelnyxClient:
    """Build a Telnyx client on Home Assistant's shared session."""
    return TelnyxClient(
        async_get_clientsession(hass),
        data[CONF_API_KEY],
        public_key=data.get(CONF_PUBLIC_KEY),
        application_id=data.get(CONF_APPLICATION_ID),
        base_url=data.get(CONF_URL) or telnyx.DEFAULT_URL,
    )


class StaticToken:
    """A token that cannot be refreshed: the one a sign-in just produced."""

    def __init__(self, access_token: str) -> None:
        """Keep the token."""
        self._access_token = access_token

    async def async_token(self, *, refresh: bool = False) -> str:
        """Return the token; asking for a fresh one means signing in again."""
        if refresh:
            raise AuthenticationError("Webex refused the new sign-in")
        return self._access_token


class OAuthTokens:
    """The entry's Webex tokens, refreshed through Home Assistant's OAuth2 session."""

    def __init__(
        self, hass: HomeAssistant, session: config_entry_oauth2_flow.OAuth2Session
    ) -> None:
        """Refresh through `session`, which stores new tokens in the entry."""
        self._hass = hass
        self._session = session

    async def async_token(self, *, refresh: bool = False) -> str:
        """Return a valid access token, refreshing it first when asked or due."""
        entry = self._session.config_entry
        if refresh:
            # Webex refused a token we thought valid (revoked, say): mark it
            # expired so the session refreshes it now.
            self._hass.config_entries.async_update_entry(
                entry,
                data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}},
            )
        try:
            await self._session.async_ensure_token_valid()
        except OAuth2TokenRequestReauthError as err:
            raise AuthenticationError("Webex refused the refresh token") from err
        except (OAuth2TokenRequestBaseError, aiohttp.ClientError) as err:
            raise ProviderUnavailableError(
                f"cannot refresh the Webex token: {type(err).__name__}"
            ) from err
        return str(self._session.token["access_token"])


def create_webex_client(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    tokens: TokenSource,
    entry_id: str | None = None,
) -> WebexClient:
    """Build a Webex client on Home Assistant's shared session.

    Each entry's webhook is named after it, so two Home Assistants (or two
    entries) of one person never take each other's webhook for their own.
    """
    return WebexClient(
        async_get_clientsession(hass),
        tokens,
        base_url=data.get(CONF_URL) or webex.DEFAULT_URL,
        webhook_secret=data.get(CONF_WEBHOOK_SECRET),
        webhook_name=f"Home Assistant Switchboard {entry_id}",
    )


def create_graph_client(hass: HomeAssistant, data: Mapping[str, Any]) -> GraphClient:
    """Build a Graph client; a URL replaces every Microsoft endpoint (a simulator)."""
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


def create_genesys_client(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> GenesysClient:
    """Build a Genesys client on a session of its own.

    Web Services ties the agent's session and CSRF token to its JSESSIONID
    cookie, so REST and CometD share one cookie jar that no other integration
    touches. The jar is "unsafe" to keep cookies of servers addressed by IP.
    """
    session = async_create_clientsession(
        hass,
        verify_ssl=data.get(CONF_VERIFY_SSL, True),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )
    return GenesysClient(
        session, data[CONF_URL], data[CONF_USERNAME], data[CONF_PASSWORD]
    )


async def async_create_provider(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> Provider:
    """Build the client of the entry's provider.

    Raises ImplementationUnavailableError when Webex's application credentials
    are gone.
    """
    data = entry.data
    provider = data.get(CONF_PROVIDER, PROVIDER_TELNYX)
    if provider == PROVIDER_TELNYX:
        return create_telnyx_client(hass, data)
    if provider == PROVIDER_GRAPH:
        return create_graph_client(hass, data)
    if provider == PROVIDER_GENESYS:
        return create_genesys_client(hass, data)
    tokens = await async_webex_tokens(hass, entry)
    return create_webex_client(hass, data, tokens, entry.entry_id)


async def async_webex_tokens(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> OAuthTokens:
    """Return the entry's Webex tokens, refreshed through its application credentials.

    Raises ImplementationUnavailableError or UnknownImplementationError when
    those credentials are unreachable or gone.
    """
    implementation = (
        await config_entry_oauth2_flow.async_get_config_entry_implementation(
            hass, entry
        )
    )
    session = config_entry_oauth2_flow.OAuth2Session(hass, entry, implementation)
    return OAuthTokens(hass, session)
