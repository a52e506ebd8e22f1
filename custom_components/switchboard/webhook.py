"""The entry's Home Assistant webhook, and pointing the provider at it."""

from __future__ import annotations

from http import HTTPStatus
import time
from typing import Any

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError

from .calls import CallBook
from .const import (
    CONF_CLOUDHOOK_URL,
    CONF_PREVIOUS_URL,
    CONF_REGISTER_WEBHOOK,
    CONF_REGISTERED_URL,
    DOMAIN,
    ISSUE_NO_WEBHOOK_URL,
    LOGGER,
)
from .data import SwitchboardConfigEntry
from .providers.base import WebhookProvider
from .providers.model import InvalidPayloadError, InvalidSignatureError, ProviderError


async def _async_cloudhook_url(hass: HomeAssistant, webhook_id: str) -> str | None:
    """Return a Nabu Casa cloudhook URL when Home Assistant Cloud is active."""
    if "cloud" not in hass.config.components:
        return None
    # Imported only once the cloud integration is loaded: it pulls in a lot.
    from homeassistant.components import cloud  # noqa: PLC0415

    if not cloud.async_active_subscription(hass):
        return None
    try:
        return await cloud.async_get_or_create_cloudhook(hass, webhook_id)
    except cloud.CloudNotAvailable:
        LOGGER.debug("Home Assistant Cloud is not connected; using the external URL")
        return None


async def _async_delete_cloudhook(hass: HomeAssistant, webhook_id: str) -> None:
    if "cloud" not in hass.config.components:
        return
    from homeassistant.components import cloud  # noqa: PLC0415

    try:
        await cloud.async_delete_cloudhook(hass, webhook_id)
    except cloud.CloudNotAvailable, ValueError:
        LOGGER.debug("The cloudhook was already gone")


async def async_webhook_url(hass: HomeAssistant, entry: SwitchboardConfigEntry) -> str:
    """Return the URL the provider must call: a cloudhook, else the external URL.

    Raises NoURLAvailableError when Home Assistant has no URL the internet reaches.
    """
    if url := entry.data.get(CONF_CLOUDHOOK_URL):
        return str(url)
    if url := await _async_cloudhook_url(hass, entry.data[CONF_WEBHOOK_ID]):
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_CLOUDHOOK_URL: url}
        )
        return url
    return webhook.async_generate_url(
        hass, entry.data[CONF_WEBHOOK_ID], allow_internal=False
    )


def make_handler(provider: WebhookProvider, calls: CallBook) -> webhook.HandlerType:
    """Handle a delivery: check it first, then apply what it says."""

    async def handle(
        hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        del hass, webhook_id
        body = await request.read()
        try:
            events = provider.parse_webhook(request.headers, body, time.time())
        except InvalidSignatureError as err:
            LOGGER.warning("Rejected a webhook delivery: %s", err)
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        except InvalidPayloadError as err:
            LOGGER.warning("Rejected an unreadable webhook delivery: %s", err)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        calls.apply_all(events)
        return web.Response(status=HTTPStatus.OK)

    return handle


async def async_start_webhook(
    hass: HomeAssistant, entry: SwitchboardConfigEntry
) -> None:
    """Receive the provider's events; point the provider here if the user agreed."""
    runtime = entry.runtime_data
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    webhook.async_register(
        hass,
        DOMAIN,
        entry.title,
        webhook_id,
        make_handler(runtime.provider, runtime.calls),
        local_only=False,
        allowed_methods=["POST"],
    )
    entry.async_on_unload(lambda: webhook.async_unregister(hass, webhook_id))
    if not entry.data.get(CONF_REGISTER_WEBHOOK, True):
        return
    try:
        url = await async_webhook_url(hass, entry)
    except NoURLAvailableError:
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"{ISSUE_NO_WEBHOOK_URL}_{entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_NO_WEBHOOK_URL,
            translation_placeholders={"title": entry.title},
        )
        return
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_NO_WEBHOOK_URL}_{entry.entry_id}")
    current = await runtime.provider.async_get_webhook_url()
    if current == url:
        return
    await runtime.provider.async_set_webhook_url(url)
    updates: dict[str, Any] = {CONF_REGISTERED_URL: url}
    if CONF_REGISTERED_URL not in entry.data:
        # Remember what the user had, to put it back when the entry is removed.
        updates[CONF_PREVIOUS_URL] = current
    hass.config_entries.async_update_entry(entry, data={**entry.data, **updates})
    LOGGER.info("Pointed %s's webhooks at Home Assistant", entry.title)


async def async_remove_webhook(
    hass: HomeAssistant, entry: SwitchboardConfigEntry, provider: WebhookProvider
) -> None:
    """Undo the registration this entry made, and drop its cloudhook."""
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_NO_WEBHOOK_URL}_{entry.entry_id}")
    if registered := entry.data.get(CONF_REGISTERED_URL):
        try:
            if await provider.async_get_webhook_url() == registered:
                await provider.async_set_webhook_url(entry.data.get(CONF_PREVIOUS_URL))
        except ProviderError as err:
            LOGGER.warning(
                "Could not clear the webhook registration of %s: %s", entry.title, err
            )
    if CONF_CLOUDHOOK_URL in entry.data:
        await _async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
