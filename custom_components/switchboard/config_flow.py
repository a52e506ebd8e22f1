"""Config flow: pick a provider, sign in, choose what to follow."""

from __future__ import annotations

from collections.abc import Mapping
import logging
import ssl
from typing import Any

import aiohttp
from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntry,
    ConfigFlowResult,
)
from homeassistant.const import (
    CONF_API_KEY,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_WEBHOOK_ID,
)
from homeassistant.exceptions import (
    ImplementationUnavailableError,
    UnknownImplementationError,
)
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .clients import (
    StaticToken,
    async_webex_tokens,
    create_genesys_client,
    create_graph_client,
    create_telnyx_client,
    create_webex_client,
)
from .const import (
    CONF_APPLICATION_ID,
    CONF_CLOUD,
    CONF_CLOUDHOOK_URL,
    CONF_PROVIDER,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
    CONF_TENANT_ID,
    CONF_WEBHOOK_SECRET,
    DOMAIN,
    LOGGER,
    PROVIDER_GENESYS,
    PROVIDER_GRAPH,
    PROVIDER_TELNYX,
    PROVIDER_WEBEX,
)
from .providers import webex
from .providers.base import Provider
from .providers.graph import CLOUDS
from .providers.model import (
    Account,
    AuthenticationError,
    CallNotFoundError,
    InvalidSignatureError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from .providers.telnyx import TelnyxApplication, load_public_key
from .webhook import async_new_webhook_url, is_https

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
CLOUD = SelectSelector(
    SelectSelectorConfig(
        options=list(CLOUDS),
        translation_key=CONF_CLOUD,
        mode=SelectSelectorMode.DROPDOWN,
    )
)
PROVIDERS = [PROVIDER_TELNYX, PROVIDER_WEBEX, PROVIDER_GRAPH, PROVIDER_GENESYS]

# Home Assistant 2026.10 shows every flow in advanced mode (the flag is
# deprecated and always true), so each provider's optional API URL is always
# offered.
TELNYX_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_API_KEY): PASSWORD,
        vol.Required(CONF_PUBLIC_KEY): str,
        vol.Optional(CONF_URL): URL,
    }
)
WEBEX_SCHEMA = vol.Schema({vol.Optional(CONF_URL): URL})


def _graph_schema(*, client_id: bool) -> vol.Schema:
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


GRAPH_SCHEMA = _graph_schema(client_id=True)
GRAPH_RECONFIGURE_SCHEMA = _graph_schema(client_id=False)
GENESYS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): URL,
        vol.Required(CONF_USERNAME): str,
        vol.Required(CONF_PASSWORD): PASSWORD,
        vol.Required(CONF_VERIFY_SSL, default=True): bool,
    }
)


def _without_cleared_url(data: dict[str, Any], user_input: Mapping[str, Any]) -> None:
    """Drop a cleared optional URL: it means the provider's default address."""
    if CONF_URL not in user_input:
        data.pop(CONF_URL, None)


class SwitchboardConfigFlow(
    config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN
):
    """One entry per provider account."""

    DOMAIN = DOMAIN
    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        super().__init__()
        self._credentials: dict[str, Any] = {}
        self._applications: dict[str, TelnyxApplication] = {}

    @property
    def logger(self) -> logging.Logger:
        """Log OAuth progress with the integration's logger."""
        return LOGGER

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask Webex for the scopes call control needs."""
        return {"scope": " ".join(webex.SCOPES)}

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Ask which provider to add."""
        return self.async_show_menu(step_id="user", menu_options=PROVIDERS)

    # --- Telnyx ---

    async def async_step_telnyx(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Telnyx API key and webhook public key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_check_telnyx(user_input, list_applications=True)
            if not errors:
                self._credentials = user_input
                return await self.async_step_application()
        return self.async_show_form(
            step_id="telnyx",
            data_schema=self.add_suggested_values_to_schema(TELNYX_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_application(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask which Call Control application to follow."""
        if user_input is not None:
            application = self._applications[user_input[CONF_APPLICATION_ID]]
            await self.async_set_unique_id(application.application_id)
            self._abort_if_unique_id_configured()
            webhook_id = webhook.async_generate_id()
            register = user_input[CONF_REGISTER_WEBHOOK]
            return self.async_create_entry(
                title=application.name,
                data={
                    **self._credentials,
                    CONF_PROVIDER: PROVIDER_TELNYX,
                    CONF_APPLICATION_ID: application.application_id,
                    CONF_REGISTER_WEBHOOK: register,
                    CONF_WEBHOOK_ID: webhook_id,
                },
                description=None if register else "manual_webhook",
                description_placeholders=None
                if register
                else {"webhook_url": self._webhook_url(webhook_id)},
            )
        options = [
            SelectOptionDict(value=app.application_id, label=app.name)
            for app in self._applications.values()
        ]
        return self.async_show_form(
            step_id="application",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_APPLICATION_ID): SelectSelector(
                        SelectSelectorConfig(options=options)
                    ),
                    vol.Required(CONF_REGISTER_WEBHOOK, default=True): bool,
                }
            ),
        )

    async def async_step_reauth_telnyx(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key (and public key, if it changed)."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            errors = await self._async_check_telnyx(data, list_applications=False)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates=user_input
                )
        return self.async_show_form(
            step_id="reauth_telnyx",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_API_KEY): PASSWORD,
                        vol.Required(CONF_PUBLIC_KEY): str,
                    }
                ),
                {CONF_PUBLIC_KEY: entry.data[CONF_PUBLIC_KEY], **(user_input or {})},
            ),
            description_placeholders={"title": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure_telnyx(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the keys, the API URL or webhook registration of an entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            _without_cleared_url(data, user_input)
            errors = await self._async_check_telnyx(data, list_applications=False)
            if not errors:
                return self.async_update_reload_and_abort(entry, data=data)
        schema = TELNYX_SCHEMA.extend(
            {
                vol.Required(
                    CONF_REGISTER_WEBHOOK,
                    default=entry.data.get(CONF_REGISTER_WEBHOOK, True),
                ): bool
            }
        )
        return self._reconfigure_form(
            "reconfigure_telnyx",
            schema,
            shown=(CONF_PUBLIC_KEY, CONF_URL),
            user_input=user_input,
            errors=errors,
        )

    async def _async_check_telnyx(
        self, data: Mapping[str, Any], *, list_applications: bool
    ) -> dict[str, str]:
        """Check the keys; list the applications, or check the followed one."""
        try:
            load_public_key(data[CONF_PUBLIC_KEY])
        except InvalidSignatureError:
            return {CONF_PUBLIC_KEY: "invalid_public_key"}
        client = create_telnyx_client(self.hass, data)
        try:
            await client.async_validate_key()
            if not list_applications:
                await client.async_get_application()
                return {}
            applications = await client.async_list_applications()
        except CallNotFoundError:
            return {"base": "application_not_found"}
        except ProviderError as err:
            return _errors(err)
        if not applications:
            return {"base": "no_applications"}
        self._applications = {app.application_id: app for app in applications}
        return {}

    # --- Webex (OAuth2 through application credentials) ---

    async def async_step_webex(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the API URL, then sign in with Webex."""
        if user_input is None:
            return self.async_show_form(step_id="webex", data_schema=WEBEX_SCHEMA)
        self._credentials = dict(user_input)
        return await self.async_step_pick_implementation()

    async def async_step_reauth_webex(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Explain, then sign in with Webex again."""
        entry = self._get_reauth_entry()
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_webex",
                description_placeholders={"title": entry.title},
            )
        self._credentials = {
            key: entry.data[key] for key in (CONF_URL,) if key in entry.data
        }
        return await self.async_step_pick_implementation(
            {"implementation": entry.data["auth_implementation"]}
        )

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Name the signed-in person; that person is the entry."""
        client = create_webex_client(
            self.hass,
            self._credentials,
            StaticToken(data["token"]["access_token"]),
        )
        try:
            account = await client.async_get_account()
        except AuthenticationError:
            return self.async_abort(reason="invalid_auth")
        except ProviderError as err:
            LOGGER.warning("Webex refused to say who signed in: %s", err)
            return self.async_abort(reason="cannot_connect")
        await self.async_set_unique_id(account.account_id)
        if self.source == SOURCE_REAUTH:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data_updates=data
            )
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=account.name,
            data={
                **self._credentials,
                **data,
                CONF_PROVIDER: PROVIDER_WEBEX,
                CONF_WEBHOOK_ID: webhook.async_generate_id(),
                CONF_WEBHOOK_SECRET: webex.new_webhook_secret(),
            },
        )

    async def async_step_reconfigure_webex(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the Webex API URL."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            _without_cleared_url(data, user_input)
            try:
                tokens = await async_webex_tokens(self.hass, entry)
            except ImplementationUnavailableError, UnknownImplementationError:
                return self.async_abort(reason="missing_credentials")
            client = create_webex_client(self.hass, data, tokens, entry.entry_id)
            errors, done = await self._async_save(entry, client, data)
            if done:
                return done
        return self._reconfigure_form(
            "reconfigure_webex",
            WEBEX_SCHEMA,
            shown=(CONF_URL,),
            user_input=user_input,
            errors=errors,
        )

    # --- Microsoft Teams (Graph calling bot) ---

    async def async_step_graph(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the bot's tenant, application id and secret."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, account = await _async_account(
                create_graph_client(self.hass, user_input)
            )
            if account is not None:
                await self.async_set_unique_id(account.account_id)
                self._abort_if_unique_id_configured()
                webhook_id = webhook.async_generate_id()
                try:
                    url, cloudhook = await async_new_webhook_url(self.hass, webhook_id)
                except NoURLAvailableError:
                    url, cloudhook = None, None
                if url is not None and is_https(url):
                    data = {
                        **user_input,
                        CONF_PROVIDER: PROVIDER_GRAPH,
                        CONF_WEBHOOK_ID: webhook_id,
                    }
                    if cloudhook:
                        data[CONF_CLOUDHOOK_URL] = cloudhook
                    return self.async_create_entry(
                        title=account.name,
                        data=data,
                        description="graph_callback",
                        description_placeholders={"webhook_url": url},
                    )
                errors = {"base": "no_https_url"}
        return self.async_show_form(
            step_id="graph",
            data_schema=self.add_suggested_values_to_schema(
                GRAPH_SCHEMA, _without_password(user_input)
            ),
            errors=errors,
        )

    async def async_step_reauth_graph(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new client secret (they expire)."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            client = create_graph_client(self.hass, data)
            errors, done = await self._async_save(entry, client, data)
            if done:
                return done
        return self.async_show_form(
            step_id="reauth_graph",
            data_schema=vol.Schema({vol.Required(CONF_CLIENT_SECRET): PASSWORD}),
            description_placeholders={"title": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure_graph(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the tenant, secret, cloud or URL; the bot stays the same."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            _without_cleared_url(data, user_input)
            client = create_graph_client(self.hass, data)
            errors, done = await self._async_save(entry, client, data)
            if done:
                return done
        return self._reconfigure_form(
            "reconfigure_graph",
            GRAPH_RECONFIGURE_SCHEMA,
            shown=(CONF_TENANT_ID, CONF_CLOUD, CONF_URL),
            user_input=user_input,
            errors=errors,
            # Where the bot's calling webhook must point, to check or paste again.
            webhook_url=entry.data.get(CONF_CLOUDHOOK_URL)
            or self._webhook_url(entry.data[CONF_WEBHOOK_ID]),
        )

    # --- Genesys Workspace Web Services ---

    async def async_step_genesys(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Web Services URL and the agent's sign-in."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, account = await _async_account(
                create_genesys_client(self.hass, user_input)
            )
            if account is not None:
                await self.async_set_unique_id(account.account_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=account.name,
                    data={**user_input, CONF_PROVIDER: PROVIDER_GENESYS},
                )
        return self.async_show_form(
            step_id="genesys",
            data_schema=self.add_suggested_values_to_schema(
                GENESYS_SCHEMA, _without_password(user_input)
            ),
            errors=errors,
        )

    async def async_step_reauth_genesys(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the agent's new password."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            client = create_genesys_client(self.hass, data)
            errors, done = await self._async_save(entry, client, data)
            if done:
                return done
        return self.async_show_form(
            step_id="reauth_genesys",
            data_schema=vol.Schema({vol.Required(CONF_PASSWORD): PASSWORD}),
            description_placeholders={
                "title": entry.title,
                "username": entry.data[CONF_USERNAME],
            },
            errors=errors,
        )

    async def async_step_reconfigure_genesys(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the URL, sign-in or TLS check; the agent stays the same."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            client = create_genesys_client(self.hass, data)
            errors, done = await self._async_save(entry, client, data)
            if done:
                return done
        return self._reconfigure_form(
            "reconfigure_genesys",
            GENESYS_SCHEMA,
            shown=(CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL),
            user_input=user_input,
            errors=errors,
        )

    # --- shared ---

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start over the way the entry's provider signs in."""
        steps = {
            PROVIDER_TELNYX: self.async_step_reauth_telnyx,
            PROVIDER_WEBEX: self.async_step_reauth_webex,
            PROVIDER_GRAPH: self.async_step_reauth_graph,
            PROVIDER_GENESYS: self.async_step_reauth_genesys,
        }
        return await steps[entry_data[CONF_PROVIDER]]()

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Change an entry the way its provider is set up."""
        steps = {
            PROVIDER_TELNYX: self.async_step_reconfigure_telnyx,
            PROVIDER_WEBEX: self.async_step_reconfigure_webex,
            PROVIDER_GRAPH: self.async_step_reconfigure_graph,
            PROVIDER_GENESYS: self.async_step_reconfigure_genesys,
        }
        return await steps[self._get_reconfigure_entry().data[CONF_PROVIDER]]()

    async def _async_save(
        self,
        entry: ConfigEntry,
        client: Provider,
        data: Mapping[str, Any],
    ) -> tuple[dict[str, str], ConfigFlowResult | None]:
        """Check the new settings reach the entry's own account, then save them.

        Returns the form errors, or the flow's end once saved and reloaded.
        """
        errors, account = await _async_account(client)
        if account is None:
            return errors, None
        await self.async_set_unique_id(account.account_id)
        self._abort_if_unique_id_mismatch(reason="wrong_account")
        return {}, self.async_update_reload_and_abort(entry, data=data)

    def _reconfigure_form(
        self,
        step_id: str,
        schema: vol.Schema,
        *,
        shown: tuple[str, ...],
        user_input: dict[str, Any] | None,
        errors: dict[str, str],
        **placeholders: str,
    ) -> ConfigFlowResult:
        """Show an entry's current settings; secrets are never shown back."""
        entry = self._get_reconfigure_entry()
        current = {key: entry.data[key] for key in shown if key in entry.data}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                schema, {**current, **_without_password(user_input)}
            ),
            description_placeholders={"title": entry.title, **placeholders},
            errors=errors,
        )

    def _webhook_url(self, webhook_id: str) -> str:
        """Return the address to paste into the provider, as far as it is known."""
        try:
            return webhook.async_generate_url(
                self.hass, webhook_id, allow_internal=False
            )
        except NoURLAvailableError:
            return f"<your Home Assistant URL>{webhook.async_generate_path(webhook_id)}"


def _without_password(user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return what a form may show back of what was entered."""
    hidden = (CONF_PASSWORD, CONF_CLIENT_SECRET, CONF_API_KEY)
    return {k: v for k, v in (user_input or {}).items() if k not in hidden}


async def _async_account(
    client: Provider,
) -> tuple[dict[str, str], Account | None]:
    """Check credentials; return the form errors, or whose they are."""
    try:
        return {}, await client.async_get_account()
    except ProviderError as err:
        return _errors(err), None


def _errors(err: ProviderError) -> dict[str, str]:
    """Return the form error a provider's refusal means."""
    if isinstance(err, AuthenticationError):
        return {"base": "invalid_auth"}
    if isinstance(err, ProviderUnavailableError | RateLimitedError):
        if _is_certificate_error(err):
            return {"base": "invalid_certificate"}
        return {"base": "cannot_connect"}
    LOGGER.warning("The provider refused the check: %s", err)
    return {"base": "unknown"}


def _is_certificate_error(err: BaseException) -> bool:
    """Tell a TLS failure (a self-signed certificate, say) from other outages."""
    cause = err.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientSSLError | ssl.SSLError):
            return True
        cause = cause.__cause__
    return False
