"""Config flow: pick a provider, sign in, choose what to follow.

The menu and every step come from the registry in `kinds/`: a provider with
key `k` has the steps `k`, `reauth_k` and `reconfigure_k` (plus any it names
in `extra_steps`). The steps here are generic; a kind fills them in with its
schemas and checks, or replaces one whole.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from contextlib import nullcontext
from functools import partial
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_URL
from homeassistant.helpers import config_entry_oauth2_flow
import probatio as vol

from .const import CONF_PROVIDER, DOMAIN, LOGGER
from .kinds import (
    KINDS,
    FlowAbortError,
    FlowError,
    OAuthProviderKind,
    ProviderKind,
    form_errors,
    kind_of,
)
from .kinds.base import SECRET_FIELDS
from .providers.model import Account, ProviderError

type StepHandler = Callable[..., Coroutine[Any, Any, ConfigFlowResult]]

_USER, _REAUTH, _RECONFIGURE = "user", "reauth", "reconfigure"


def _provider_steps() -> dict[str, tuple[ProviderKind, str]]:
    """Map each provider step id to its kind and what the step does."""
    steps: dict[str, tuple[ProviderKind, str]] = {}
    for kind in KINDS.values():
        steps[kind.key] = (kind, _USER)
        steps[f"reauth_{kind.key}"] = (kind, _REAUTH)
        steps[f"reconfigure_{kind.key}"] = (kind, _RECONFIGURE)
        steps.update({extra: (kind, extra) for extra in kind.extra_steps})
    return steps


PROVIDER_STEPS = _provider_steps()


class SwitchboardConfigFlow(
    config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN
):
    """One entry per provider account."""

    DOMAIN = DOMAIN
    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        super().__init__()
        self.flow_data: dict[str, Any] = {}
        self._kind: ProviderKind | None = None

    def __getattr__(self, name: str) -> StepHandler:
        """Resolve `async_step_<id>` for every provider step in the registry."""
        found = PROVIDER_STEPS.get(name.removeprefix("async_step_"))
        if found is None or not name.startswith("async_step_"):
            raise AttributeError(name)
        return partial(self._async_provider_step, *found)

    @property
    def logger(self) -> logging.Logger:
        """Log OAuth progress with the integration's logger."""
        return LOGGER

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask for the scopes the signing-in provider needs."""
        scopes = self._kind.scopes if self._kind else ()
        return {"scope": " ".join(scopes)}

    async def async_step_pick_implementation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the application credential, signing in where the settings say.

        The implementation picked here keeps its sign-in URLs for the rest of
        the flow, also when the user picks one of several credentials.
        """
        kind = self._kind
        sign_in_at = (
            kind.sign_in_at(kind.settings(self))
            if isinstance(kind, OAuthProviderKind)
            else nullcontext()
        )
        with sign_in_at:
            return await super().async_step_pick_implementation(user_input)

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Ask which provider to add."""
        return self.async_show_menu(step_id="user", menu_options=list(KINDS))

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start over the way the entry's provider signs in."""
        return await self._async_provider_step(kind_of(entry_data), _REAUTH)

    async def async_step_reconfigure(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Change an entry the way its provider is set up."""
        kind = kind_of(self._get_reconfigure_entry().data)
        return await self._async_provider_step(kind, _RECONFIGURE)

    async def _async_provider_step(
        self, kind: ProviderKind, step: str, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Run one step of `kind`: its own version if it has one, else ours."""
        self._kind = kind
        entry: tuple[ConfigEntry, ...] = ()
        if step == _REAUTH:
            entry = (self._get_reauth_entry(),)
        elif step == _RECONFIGURE:
            entry = (self._get_reconfigure_entry(),)
        own: StepHandler | None = getattr(kind, f"async_step_{step}", None)
        try:
            if own is not None:
                return await own(self, user_input, *entry)
            if step == _REAUTH:
                return await self._async_step_reauth_entry(kind, user_input, *entry)
            if step == _RECONFIGURE:
                return await self._async_step_reconfigure_entry(
                    kind, user_input, *entry
                )
            return await self._async_step_new(kind, user_input)
        except FlowAbortError as err:
            return self.async_abort(reason=err.reason)

    # --- the generic steps ---

    async def _async_step_new(
        self, kind: ProviderKind, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for the provider's settings, check them, add the account."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                account = await kind.async_check(self.hass, user_input, None)
                return await self.async_finish_new_entry(kind, user_input, account)
            except (ProviderError, FlowError) as err:
                errors = form_errors(err)
        return self.show_provider_form(kind.key, kind.user_schema(), user_input, errors)

    async def _async_step_reauth_entry(
        self, kind: ProviderKind, user_input: dict[str, Any] | None, entry: ConfigEntry
    ) -> ConfigFlowResult:
        """Ask for what expired, check it reaches the same account, save it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, done = await self._async_save(
                kind, entry, {**entry.data, **user_input}
            )
            if done:
                return done
        return self.show_provider_form(
            f"reauth_{kind.key}",
            kind.reauth_schema(entry),
            {**kind.reauth_suggested(entry), **(user_input or {})},
            errors,
            title=entry.title,
            **kind.reauth_placeholders(entry),
        )

    async def _async_step_reconfigure_entry(
        self, kind: ProviderKind, user_input: dict[str, Any] | None, entry: ConfigEntry
    ) -> ConfigFlowResult:
        """Show the entry's settings; check and save changed ones."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **user_input}
            if CONF_URL not in user_input:
                # A cleared optional URL means the provider's default address.
                data.pop(CONF_URL, None)
            errors, done = await self._async_save(kind, entry, data)
            if done:
                return done
        current = {k: entry.data[k] for k in kind.reconfigure_shown if k in entry.data}
        return self.show_provider_form(
            f"reconfigure_{kind.key}",
            kind.reconfigure_schema(entry),
            {**current, **(user_input or {})},
            errors,
            title=entry.title,
            **kind.reconfigure_placeholders(self.hass, entry),
        )

    # --- what the steps share ---

    def show_provider_form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: Mapping[str, Any] | None,
        errors: dict[str, str],
        **placeholders: str,
    ) -> ConfigFlowResult:
        """Show a form with what was entered; secrets are never shown back."""
        shown = {k: v for k, v in (user_input or {}).items() if k not in SECRET_FIELDS}
        own = self._kind.placeholders if self._kind else {}
        placeholders = {**own, **placeholders}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, shown),
            description_placeholders=placeholders or None,
            errors=errors,
        )

    async def async_finish_new_entry(
        self, kind: ProviderKind, data: Mapping[str, Any], account: Account
    ) -> ConfigFlowResult:
        """Add `account` once, as an entry of `kind` holding `data`.

        Raises FlowError when the entry could not work here yet.
        """
        await self.async_set_unique_id(account.account_id)
        self._abort_if_unique_id_configured()
        new = await kind.async_new_entry(self.hass, data)
        return self.async_create_entry(
            title=account.name,
            data=new.data,
            description=new.description,
            description_placeholders=new.placeholders,
        )

    async def _async_save(
        self, kind: ProviderKind, entry: ConfigEntry, data: Mapping[str, Any]
    ) -> tuple[dict[str, str], ConfigFlowResult | None]:
        """Check the new settings reach the entry's own account, then save them.

        Returns the form errors, or the flow's end once saved and reloaded.
        """
        try:
            account = await kind.async_check(self.hass, data, entry)
        except (ProviderError, FlowError) as err:
            return form_errors(err), None
        await self.async_set_unique_id(account.account_id)
        self._abort_if_unique_id_mismatch(reason="wrong_account")
        return {}, self.async_update_reload_and_abort(entry, data=data)

    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Name the signed-in person; that person is the entry."""
        kind = self._kind
        if not isinstance(kind, OAuthProviderKind):  # pragma: no cover
            return self.async_abort(reason="missing_credentials")
        settings = kind.settings(self)
        try:
            account = await kind.async_oauth_account(self.hass, settings, data)
        except FlowAbortError as err:
            return self.async_abort(reason=err.reason)
        if self.source == SOURCE_REAUTH:
            await self.async_set_unique_id(account.account_id)
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data_updates=data
            )
        return await self.async_finish_new_entry(
            kind, {**settings, **data, CONF_PROVIDER: kind.key}, account
        )
