"""Cisco Webex Calling: OAuth2 through application credentials."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import aiohttp
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ImplementationUnavailableError,
    OAuth2TokenRequestBaseError,
    OAuth2TokenRequestReauthError,
    UnknownImplementationError,
)
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from ..application_credentials import webex_sign_in_at
from ..const import CONF_WEBHOOK_SECRET, LOGGER
from ..providers import webex
from ..providers.model import (
    Account,
    AuthenticationError,
    NotTheApiError,
    ProviderError,
    ProviderUnavailableError,
)
from ..providers.webex import TokenSource, WebexClient
from .base import OAUTH_SETTINGS, URL, FlowAbortError, FlowHost, OAuthProviderKind

SCHEMA = vol.Schema({vol.Optional(CONF_URL): URL})


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


async def async_webex_tokens(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    data: Mapping[str, Any] | None = None,
) -> OAuthTokens:
    """Return the entry's Webex tokens, refreshed through its application credentials.

    The refreshes go to the Webex of the API URL in `data` (by default the
    entry's own data), as the sign-in did.

    Raises ImplementationUnavailableError or UnknownImplementationError when
    those credentials are unreachable or gone.
    """
    api_url = (entry.data if data is None else data).get(CONF_URL)
    with webex_sign_in_at(api_url):
        implementation = (
            await config_entry_oauth2_flow.async_get_config_entry_implementation(
                hass, entry
            )
        )
    session = config_entry_oauth2_flow.OAuth2Session(hass, entry, implementation)
    return OAuthTokens(hass, session)


class WebexKind(OAuthProviderKind):
    """Each answer endpoint of the signed-in person (desk phone, app) is a device."""

    key = "webex"
    name = "Cisco Webex"
    entry_secrets = frozenset({"token", CONF_WEBHOOK_SECRET})
    client_class = WebexClient
    reconfigure_shown = (CONF_URL,)
    scopes = webex.SCOPES
    placeholders: ClassVar[Mapping[str, str]] = {
        "default_url": webex.DEFAULT_URL,
        "api_name": "Webex",
        "api_url_example": webex.DEFAULT_URL,
    }

    def create_client(
        self,
        hass: HomeAssistant,
        data: Mapping[str, Any],
        entry_id: str | None,
        tokens: TokenSource | None = None,
    ) -> WebexClient:
        """Build a Webex client on Home Assistant's shared session.

        Each entry's webhook is named after it, so two Home Assistants (or two
        entries) of one person never take each other's webhook for their own.
        """
        if tokens is None:
            tokens = StaticToken(data["token"]["access_token"])
        return WebexClient(
            async_get_clientsession(hass),
            tokens,
            base_url=data.get(CONF_URL) or webex.DEFAULT_URL,
            webhook_secret=data.get(CONF_WEBHOOK_SECRET),
            webhook_name=f"Home Assistant Switchboard {entry_id}",
        )

    async def async_create_client(
        self, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> WebexClient:
        """Build the client of a set-up entry on its refreshing tokens.

        Raises ImplementationUnavailableError when Webex's application
        credentials are gone.
        """
        tokens = await async_webex_tokens(hass, entry)
        return self.create_client(hass, entry.data, entry.entry_id, tokens)

    def user_schema(self) -> vol.Schema:
        """Only the optional API URL: the rest is the sign-in."""
        return SCHEMA

    def reauth_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """No fields: the reauth step explains, then signs in again."""
        del entry
        return vol.Schema({})

    async def async_step_user(
        self, flow: FlowHost, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Offer the API URL, then sign in with Webex."""
        if user_input is None:
            return flow.show_provider_form(self.key, SCHEMA, None, {})
        flow.flow_data[OAUTH_SETTINGS] = dict(user_input)
        return await flow.async_step_pick_implementation()

    async def async_step_reauth(
        self, flow: FlowHost, user_input: dict[str, Any] | None, entry: ConfigEntry[Any]
    ) -> ConfigFlowResult:
        """Explain, then sign in with Webex again."""
        if user_input is None:
            return flow.async_show_form(
                step_id=f"reauth_{self.key}",
                data_schema=self.reauth_schema(entry),
                description_placeholders={"title": entry.title},
            )
        flow.flow_data[OAUTH_SETTINGS] = {
            key: entry.data[key] for key in (CONF_URL,) if key in entry.data
        }
        return await flow.async_step_pick_implementation(
            {"implementation": entry.data["auth_implementation"]}
        )

    async def async_check(
        self,
        hass: HomeAssistant,
        data: Mapping[str, Any],
        entry: ConfigEntry[Any] | None,
    ) -> Account:
        """Check new settings with the entry's own sign-in."""
        if entry is None:  # pragma: no cover - Webex settings change only on an entry
            raise FlowAbortError("missing_credentials")
        try:
            tokens = await async_webex_tokens(hass, entry, data)
        except ImplementationUnavailableError, UnknownImplementationError:
            raise FlowAbortError("missing_credentials") from None
        client = self.create_client(hass, data, entry.entry_id, tokens)
        return await client.async_get_account()

    async def async_oauth_account(
        self,
        hass: HomeAssistant,
        settings: Mapping[str, Any],
        token_data: Mapping[str, Any],
    ) -> Account:
        """Name the signed-in person; that person is the entry."""
        client = self.create_client(hass, {**settings, **token_data}, None)
        try:
            return await client.async_get_account()
        except AuthenticationError:
            raise FlowAbortError("invalid_auth") from None
        except NotTheApiError:
            raise FlowAbortError("wrong_api_url") from None
        except ProviderError as err:
            LOGGER.warning("Webex refused to say who signed in: %s", err)
            raise FlowAbortError("cannot_connect") from err

    def sign_in_at(self, settings: Mapping[str, Any]) -> AbstractContextManager[None]:
        """Sign in to the Webex of the API URL, as the API calls go there."""
        return webex_sign_in_at(settings.get(CONF_URL))

    def entry_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Add the secret our own Webex webhook is signed with."""
        return {
            **super().entry_data(data),
            CONF_WEBHOOK_SECRET: webex.new_webhook_secret(),
        }
