"""What every provider kind tells the Home Assistant side about its provider."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
import ssl
from typing import Any, ClassVar, Protocol

import aiohttp
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import (
    CONF_API_KEY,
    CONF_CLIENT_SECRET,
    CONF_PASSWORD,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from ..const import CONF_PROVIDER, LOGGER
from ..providers.base import Provider
from ..providers.model import (
    Account,
    AuthenticationError,
    NotTheApiError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
# Where an OAuth2 kind keeps what its flow asked before the sign-in.
OAUTH_SETTINGS = "oauth_settings"
# Never shown back in a form, not even after a failed try.
SECRET_FIELDS = (CONF_PASSWORD, CONF_CLIENT_SECRET, CONF_API_KEY)


class FlowError(Exception):
    """A form error: the field it belongs to ("base" for the form) and its key."""

    def __init__(self, error: str, field: str = "base") -> None:
        """Name the translated error and where it shows."""
        super().__init__(error)
        self.error = error
        self.field = field

    @property
    def errors(self) -> dict[str, str]:
        """The form's errors, as a flow shows them."""
        return {self.field: self.error}


def form_errors(err: ProviderError | FlowError) -> dict[str, str]:
    """Return the form errors a check's refusal means, whoever refused."""
    return (err if isinstance(err, FlowError) else form_error(err)).errors


def form_error(err: ProviderError) -> FlowError:
    """Return the form error a provider's refusal means."""
    if isinstance(err, AuthenticationError):
        return FlowError("invalid_auth")
    if isinstance(err, NotTheApiError):
        # The form shows the kind's api_name and api_url_example placeholders.
        return FlowError("wrong_api_url")
    if isinstance(err, ProviderUnavailableError | RateLimitedError):
        if _is_certificate_error(err):
            return FlowError("invalid_certificate")
        return FlowError("cannot_connect")
    LOGGER.warning("The provider refused the check: %s", err)
    return FlowError("unknown")


def _is_certificate_error(err: BaseException) -> bool:
    """Tell a TLS failure (a self-signed certificate, say) from other outages."""
    cause = err.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientSSLError | ssl.SSLError):
            return True
        cause = cause.__cause__
    return False


class FlowAbortError(Exception):
    """The flow cannot go on: abort with this translated reason."""

    def __init__(self, reason: str) -> None:
        """Keep the abort reason."""
        super().__init__(reason)
        self.reason = reason


class FlowHost(Protocol):
    """What a kind may use of the config flow that runs its steps."""

    hass: HomeAssistant
    # Whatever a kind keeps between two steps of one flow.
    flow_data: dict[str, Any]

    def async_show_form(
        self,
        *,
        step_id: str | None = None,
        data_schema: vol.Schema | None = None,
        errors: dict[str, str] | None = None,
        description_placeholders: Mapping[str, str] | None = None,
        last_step: bool | None = None,
        preview: str | None = None,
    ) -> ConfigFlowResult:
        """Show a form."""

    def show_provider_form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: Mapping[str, Any] | None,
        errors: dict[str, str],
        **placeholders: str,
    ) -> ConfigFlowResult:
        """Show a form with what was entered, secrets left out."""

    async def async_finish_new_entry(
        self, kind: ProviderKind, data: Mapping[str, Any], account: Account
    ) -> ConfigFlowResult:
        """Add `account` once, as an entry of `kind` holding `data`."""

    async def async_step_pick_implementation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Start an OAuth2 sign-in."""


class ProviderKind(ABC):
    """One provider as the Home Assistant side sees it.

    The config flow, set-up and diagnostics ask this object, never the key:
    adding a provider means adding a kind to the registry in `kinds/__init__`.
    A kind may replace a whole flow step by defining `async_step_user`,
    `async_step_reauth` or `async_step_reconfigure` (each taking the flow and
    the user input), and add steps of its own named in `extra_steps`.
    """

    key: ClassVar[str]
    # What users call the provider; also the devices' manufacturer.
    name: ClassVar[str]
    # Entry-data fields diagnostics must hide, besides the client's own keys.
    entry_secrets: ClassVar[frozenset[str]] = frozenset()
    client_class: ClassVar[type[Provider]]
    # Settings a reconfigure form shows back.
    reconfigure_shown: ClassVar[tuple[str, ...]] = ()
    # Flow steps of this provider besides <key>, reauth_<key>, reconfigure_<key>.
    extra_steps: ClassVar[tuple[str, ...]] = ()
    # OAuth2 scopes, for a provider that signs in through application credentials.
    scopes: ClassVar[tuple[str, ...]] = ()
    # Placeholders every form of this provider may use (URLs stay out of
    # translations, as hassfest requires). A kind whose check can raise
    # NotTheApiError names its API here: "api_name" and "api_url_example".
    placeholders: ClassVar[Mapping[str, str]] = {}
    # True when events reach Home Assistant through a webhook of the entry.
    uses_webhook: ClassVar[bool] = True

    @property
    def redact_keys(self) -> frozenset[str]:
        """Every field of this provider's entry or calls diagnostics must hide."""
        return self.entry_secrets | self.client_class.redact_keys

    # --- running ---

    @abstractmethod
    def create_client(
        self, hass: HomeAssistant, data: Mapping[str, Any], entry_id: str | None
    ) -> Provider:
        """Build the provider's client from entry data (or a form's input)."""

    async def async_create_client(
        self, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> Provider:
        """Build the client of a set-up entry."""
        return self.create_client(hass, entry.data, entry.entry_id)

    # --- config flow ---

    @abstractmethod
    def user_schema(self) -> vol.Schema:
        """Return the fields of the `<key>` step."""

    @abstractmethod
    def reauth_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """Return the fields of the `reauth_<key>` step."""

    def reauth_suggested(self, entry: ConfigEntry[Any]) -> dict[str, Any]:
        """Return what the reauth form shows already filled in."""
        del entry
        return {}

    def reauth_placeholders(self, entry: ConfigEntry[Any]) -> dict[str, str]:
        """Placeholders of the reauth form's text, besides the entry's title."""
        del entry
        return {}

    def reconfigure_schema(self, entry: ConfigEntry[Any]) -> vol.Schema:
        """Return the fields of the `reconfigure_<key>` step."""
        del entry
        return self.user_schema()

    def reconfigure_placeholders(
        self, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> dict[str, str]:
        """Placeholders of the reconfigure form's text, besides the title."""
        del hass, entry
        return {}

    async def async_check(
        self,
        hass: HomeAssistant,
        data: Mapping[str, Any],
        entry: ConfigEntry[Any] | None,
    ) -> Account:
        """Check settings against the provider; say whose account they reach.

        Raises ProviderError, FlowError or FlowAbortError.
        """
        client = self.create_client(hass, data, entry.entry_id if entry else None)
        return await client.async_get_account()

    async def async_new_entry(
        self, hass: HomeAssistant, data: Mapping[str, Any]
    ) -> NewEntry:
        """Return a new entry's data, and the text the flow ends with (if any).

        Raises FlowError when the entry cannot work here yet.
        """
        del hass
        return NewEntry(self.entry_data(data))

    def entry_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Return what a new entry stores: the input, the provider, a webhook id."""
        stored = {**data, CONF_PROVIDER: self.key}
        if self.uses_webhook:
            stored[CONF_WEBHOOK_ID] = webhook.async_generate_id()
        return stored


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A new entry's data and the text its flow ends with."""

    data: dict[str, Any]
    description: str | None = None
    placeholders: dict[str, str] | None = None


class OAuthProviderKind(ProviderKind):
    """A provider whose users sign in with OAuth2 through application credentials."""

    @abstractmethod
    async def async_oauth_account(
        self,
        hass: HomeAssistant,
        settings: Mapping[str, Any],
        token_data: Mapping[str, Any],
    ) -> Account:
        """Say who just signed in; raises FlowAbortError when the provider won't say."""

    def settings(self, flow: FlowHost) -> dict[str, Any]:
        """Return what the flow asked before the sign-in (an API URL, say)."""
        return dict(flow.flow_data.get(OAUTH_SETTINGS, {}))

    @abstractmethod
    def sign_in_at(self, settings: Mapping[str, Any]) -> AbstractContextManager[None]:
        """Within it, the application credentials sign in where `settings` say."""
