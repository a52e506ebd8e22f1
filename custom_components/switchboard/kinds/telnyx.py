"""Telnyx Call Control: an API key, a webhook public key, one application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
)
import probatio as vol

from ..const import CONF_APPLICATION_ID, CONF_PUBLIC_KEY, CONF_REGISTER_WEBHOOK
from ..providers import telnyx
from ..providers.model import (
    Account,
    CallNotFoundError,
    InvalidSignatureError,
    ProviderError,
)
from ..providers.telnyx import TelnyxApplication, TelnyxClient, load_public_key
from ..webhook import displayed_webhook_url
from .base import (
    PASSWORD,
    URL,
    FlowError,
    FlowHost,
    NewEntry,
    ProviderKind,
    form_errors,
)

# Home Assistant 2026.10 shows every flow in advanced mode (the flag is
# deprecated and always true), so the optional API URL is always offered.
SCHEMA = vol.Schema(
    {
        vol.Required(CONF_API_KEY): PASSWORD,
        vol.Required(CONF_PUBLIC_KEY): str,
        vol.Optional(CONF_URL): URL,
    }
)
REAUTH_SCHEMA = vol.Schema(
    {vol.Required(CONF_API_KEY): PASSWORD, vol.Required(CONF_PUBLIC_KEY): str}
)
_CREDENTIALS = "credentials"
_APPLICATIONS = "applications"


class TelnyxKind(ProviderKind):
    """Each phone number of the chosen Call Control application is a device."""

    key = "telnyx"
    name = "Telnyx"
    entry_secrets = frozenset({CONF_API_KEY, CONF_PUBLIC_KEY})
    client_class = TelnyxClient
    reconfigure_shown = (CONF_PUBLIC_KEY, CONF_URL)
    extra_steps = ("application",)
    placeholders: ClassVar[Mapping[str, str]] = {
        "api_name": "Telnyx",
        "api_url_example": telnyx.DEFAULT_URL,
    }

    def create_client(
        self, hass: HomeAssistant, data: Mapping[str, Any], entry_id: str | None
    ) -> TelnyxClient:
        """Build a Telnyx client on Home Assistant's shared session."""
        del entry_id
        return TelnyxClient(
            async_get_clientsession(hass),
            data[CONF_API_KEY],
            public_key=data.get(CONF_PUBLIC_KEY),
            application_id=data.get(CONF_APPLICATION_ID),
            base_url=data.get(CONF_URL) or telnyx.DEFAULT_URL,
        )

    def user_schema(self) -> vol.Schema:
        """Ask for the API key, the public key and the optional API URL."""
        return SCHEMA

    def reauth_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """Ask for a new API key, and the public key if it changed too."""
        del entry
        return REAUTH_SCHEMA

    def reauth_suggested(self, entry: ConfigEntry[Any]) -> dict[str, Any]:
        """Show the current public key: it rarely changes."""
        return {CONF_PUBLIC_KEY: entry.data[CONF_PUBLIC_KEY]}

    def reconfigure_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """Offer the keys, the API URL, and whether we register the webhook."""
        return SCHEMA.extend(
            {
                vol.Required(
                    CONF_REGISTER_WEBHOOK,
                    default=entry.data.get(CONF_REGISTER_WEBHOOK, True),
                ): bool
            }
        )

    async def async_check(
        self,
        hass: HomeAssistant,
        data: Mapping[str, Any],
        entry: ConfigEntry[Any] | None,
    ) -> Account:
        """Check both keys and that the key still sees the followed application."""
        del entry
        client = self._checked_client(hass, data)
        await client.async_validate_key()
        try:
            return await client.async_get_account()
        except CallNotFoundError as err:
            raise FlowError("application_not_found") from err

    def _checked_client(
        self, hass: HomeAssistant, data: Mapping[str, Any]
    ) -> TelnyxClient:
        try:
            load_public_key(data[CONF_PUBLIC_KEY])
        except InvalidSignatureError as err:
            raise FlowError("invalid_public_key", CONF_PUBLIC_KEY) from err
        return self.create_client(hass, data, None)

    async def async_step_user(
        self, flow: FlowHost, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for the keys, then which application to follow."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                applications = await self._async_applications(flow.hass, user_input)
            except (ProviderError, FlowError) as err:
                errors = form_errors(err)
            else:
                flow.flow_data[_CREDENTIALS] = user_input
                flow.flow_data[_APPLICATIONS] = applications
                return await self.async_step_application(flow, None)
        return flow.show_provider_form(self.key, self.user_schema(), user_input, errors)

    async def _async_applications(
        self, hass: HomeAssistant, data: Mapping[str, Any]
    ) -> dict[str, TelnyxApplication]:
        client = self._checked_client(hass, data)
        await client.async_validate_key()
        applications = await client.async_list_applications()
        if not applications:
            raise FlowError("no_applications")
        return {app.application_id: app for app in applications}

    async def async_step_application(
        self, flow: FlowHost, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask which Call Control application to follow."""
        applications: dict[str, TelnyxApplication] = flow.flow_data[_APPLICATIONS]
        if user_input is not None:
            application = applications[user_input[CONF_APPLICATION_ID]]
            return await flow.async_finish_new_entry(
                self,
                {
                    **flow.flow_data[_CREDENTIALS],
                    CONF_APPLICATION_ID: application.application_id,
                    CONF_REGISTER_WEBHOOK: user_input[CONF_REGISTER_WEBHOOK],
                },
                Account(application.application_id, application.name),
            )
        options = [
            SelectOptionDict(value=app.application_id, label=app.name)
            for app in applications.values()
        ]
        return flow.async_show_form(
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

    async def async_new_entry(
        self, hass: HomeAssistant, data: Mapping[str, Any]
    ) -> NewEntry:
        """Without registration, end by showing the URL to paste into Telnyx."""
        stored = self.entry_data(data)
        if stored[CONF_REGISTER_WEBHOOK]:
            return NewEntry(stored)
        return NewEntry(
            stored,
            "manual_webhook",
            {"webhook_url": displayed_webhook_url(hass, stored)},
        )
