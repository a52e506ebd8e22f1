"""Config flow: pick a provider, sign in, choose what to follow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .clients import create_telnyx_client
from .const import (
    CONF_APPLICATION_ID,
    CONF_PROVIDER,
    CONF_PUBLIC_KEY,
    CONF_REGISTER_WEBHOOK,
    DOMAIN,
    LOGGER,
    PROVIDER_TELNYX,
)
from .providers.model import (
    AuthenticationError,
    CallNotFoundError,
    InvalidSignatureError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from .providers.telnyx import TelnyxApplication, load_public_key

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
# Providers whose steps exist; the menu offers exactly these.
PROVIDERS = [PROVIDER_TELNYX]


class SwitchboardConfigFlow(ConfigFlow, domain=DOMAIN):
    """One entry per provider account."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._credentials: dict[str, Any] = {}
        self._applications: dict[str, TelnyxApplication] = {}

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Ask which provider to add."""
        return self.async_show_menu(step_id="user", menu_options=PROVIDERS)

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
            data_schema=self.add_suggested_values_to_schema(
                self._telnyx_schema(), user_input
            ),
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

    async def async_step_reauth(
        self,
        entry_data: Mapping[str, Any],  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Start over when the provider refuses the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
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
            step_id="reauth_confirm",
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

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the keys, the API URL or webhook registration of an entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            if CONF_URL not in user_input:
                data.pop(CONF_URL, None)  # a cleared field means the default API
            errors = await self._async_check_telnyx(data, list_applications=False)
            if not errors:
                return self.async_update_reload_and_abort(entry, data=data)
        schema = self._telnyx_schema().extend(
            {
                vol.Required(
                    CONF_REGISTER_WEBHOOK,
                    default=entry.data.get(CONF_REGISTER_WEBHOOK, True),
                ): bool
            }
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                {
                    CONF_PUBLIC_KEY: entry.data[CONF_PUBLIC_KEY],
                    CONF_URL: entry.data.get(CONF_URL),
                    **(user_input or {}),
                },
            ),
            description_placeholders={"title": entry.title},
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

    @staticmethod
    def _telnyx_schema() -> vol.Schema:
        # Home Assistant 2026.10 shows every flow in advanced mode (the flag is
        # deprecated and always true), so the optional API URL is always offered.
        return vol.Schema(
            {
                vol.Required(CONF_API_KEY): PASSWORD,
                vol.Required(CONF_PUBLIC_KEY): str,
                vol.Optional(CONF_URL): URL,
            }
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
        except AuthenticationError:
            return {"base": "invalid_auth"}
        except ProviderUnavailableError, RateLimitedError:
            return {"base": "cannot_connect"}
        except CallNotFoundError:
            return {"base": "application_not_found"}
        except ProviderError as err:
            LOGGER.warning("Telnyx refused the check: %s", err)
            return {"base": "unknown"}
        if not applications:
            return {"base": "no_applications"}
        self._applications = {app.application_id: app for app in applications}
        return {}
