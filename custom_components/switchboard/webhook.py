"""The entry's Home Assistant webhook, and pointing the provider at it."""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus
import time
from typing import Any

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.network import NoURLAvailableError
from yarl import URL

from .const import (
    CONF_CLOUDHOOK_URL,
    CONF_PREVIOUS_URL,
    CONF_REGISTER_WEBHOOK,
    CONF_REGISTERED_URL,
    DOMAIN,
    ISSUE_NO_HTTPS_URL,
    ISSUE_NO_WEBHOOK_URL,
    LOGGER,
)
from .data import SwitchboardConfigEntry
from .providers.base import WebhookProvider, WebhookRegistrar
from .providers.model import (
    InvalidPayloadError,
    InvalidSignatureError,
    ProviderError,
    ProviderUnavailableError,
    ResendRequestedError,
)
from .reconcile import Reconciler

REGISTRATION_CHECK_INTERVAL = timedelta(minutes=30)


def is_https(url: str) -> bool:
    """Tell whether a URL is https, as Microsoft requires of callbacks."""
    return URL(url).scheme == "https"


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


async def async_new_webhook_url(
    hass: HomeAssistant, webhook_id: str
) -> tuple[str, str | None]:
    """Return the URL for a webhook id, and the cloudhook URL if it is one.

    Raises NoURLAvailableError when Home Assistant has no URL the internet reaches.
    """
    if cloudhook := await _async_cloudhook_url(hass, webhook_id):
        return cloudhook, cloudhook
    url = webhook.async_generate_url(hass, webhook_id, allow_internal=False)
    return url, None


async def async_webhook_url(hass: HomeAssistant, entry: SwitchboardConfigEntry) -> str:
    """Return the URL the provider must call: a cloudhook, else the external URL.

    Raises NoURLAvailableError when Home Assistant has no URL the internet reaches.
    """
    if url := entry.data.get(CONF_CLOUDHOOK_URL):
        return str(url)
    url, cloudhook = await async_new_webhook_url(hass, entry.data[CONF_WEBHOOK_ID])
    if cloudhook:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_CLOUDHOOK_URL: cloudhook}
        )
    return url


def make_handler(
    provider: WebhookProvider, reconciler: Reconciler
) -> webhook.HandlerType:
    """Handle a delivery: check it first, then apply what it says."""

    async def handle(
        hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        del hass, webhook_id
        body = await request.read()
        try:
            events = await provider.async_parse_webhook(
                request.headers, body, time.time()
            )
        except InvalidSignatureError as err:
            LOGGER.warning("Rejected a webhook delivery: %s", err)
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        except ResendRequestedError as err:
            LOGGER.debug("Asked for a delivery again: %s", err)
            return web.Response(status=HTTPStatus.NO_CONTENT)
        except InvalidPayloadError as err:
            LOGGER.warning("Rejected an unreadable webhook delivery: %s", err)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        except ProviderUnavailableError as err:
            # The keys to check it could not be fetched: let the sender retry.
            LOGGER.warning("Could not check a webhook delivery: %s", err)
            return web.Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        reconciler.apply(events)
        return web.Response(status=HTTPStatus.OK)

    return handle


def _raise_issue(hass: HomeAssistant, entry: SwitchboardConfigEntry, key: str) -> None:
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{key}_{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders={"title": entry.title},
    )


def _clear_issues(hass: HomeAssistant, entry: SwitchboardConfigEntry) -> None:
    for key in (ISSUE_NO_WEBHOOK_URL, ISSUE_NO_HTTPS_URL):
        ir.async_delete_issue(hass, DOMAIN, f"{key}_{entry.entry_id}")


async def async_start_webhook(
    hass: HomeAssistant,
    entry: SwitchboardConfigEntry,
    provider: WebhookProvider,
    reconciler: Reconciler,
) -> None:
    """Receive the provider's events; point the provider here if the user agreed.

    A provider that needs an https callback (Graph) without one gets a repair
    issue; so does a registrar when Home Assistant has no public URL at all.
    """
    webhook_id = entry.data[CONF_WEBHOOK_ID]
    webhook.async_register(
        hass,
        DOMAIN,
        entry.title,
        webhook_id,
        make_handler(provider, reconciler),
        local_only=False,
        allowed_methods=["POST"],
    )
    entry.async_on_unload(lambda: webhook.async_unregister(hass, webhook_id))
    registrar = provider if isinstance(provider, WebhookRegistrar) else None
    register = registrar is not None and entry.data.get(CONF_REGISTER_WEBHOOK, True)
    if not register and not provider.webhook_requires_https:
        return
    try:
        url: str | None = await async_webhook_url(hass, entry)
    except NoURLAvailableError:
        url = None
    if provider.webhook_requires_https and (url is None or not is_https(url)):
        _clear_issues(hass, entry)
        _raise_issue(hass, entry, ISSUE_NO_HTTPS_URL)
        provider.use_webhook_url(None)
        return
    if url is None:
        _raise_issue(hass, entry, ISSUE_NO_WEBHOOK_URL)
        return
    _clear_issues(hass, entry)
    provider.use_webhook_url(url)
    if registrar is None or not register:
        return
    await _async_register(hass, entry, registrar, url, reconciler)
    if registrar.owns_registration:
        _async_keep_registered(hass, entry, registrar, url, reconciler)


@callback
def _async_keep_registered(
    hass: HomeAssistant,
    entry: SwitchboardConfigEntry,
    registrar: WebhookRegistrar,
    url: str,
    reconciler: Reconciler,
) -> None:
    """Check our own registration now and then: Webex disables a webhook on its own.

    A registration the user shares (a Telnyx application's URL) is left alone
    between set-ups: they may have pointed it elsewhere on purpose.
    """

    async def _async_check(_now: datetime) -> None:
        try:
            await _async_register(hass, entry, registrar, url, reconciler)
        except ProviderError as err:
            LOGGER.warning(
                "Could not check the webhook registration of %s: %s", entry.title, err
            )

    entry.async_on_unload(
        async_track_time_interval(
            hass, _async_check, REGISTRATION_CHECK_INTERVAL, cancel_on_shutdown=True
        )
    )


async def _async_register(
    hass: HomeAssistant,
    entry: SwitchboardConfigEntry,
    registrar: WebhookRegistrar,
    url: str,
    reconciler: Reconciler,
) -> None:
    current = await registrar.async_get_webhook_url()
    if current == url:
        return
    await registrar.async_set_webhook_url(url)
    updates: dict[str, Any] = {CONF_REGISTERED_URL: url}
    if CONF_REGISTERED_URL not in entry.data:
        # Remember what the user had, to put it back when the entry is removed.
        updates[CONF_PREVIOUS_URL] = current
    else:
        # Our registration had moved or been switched off: events may be lost.
        reconciler.schedule()
    hass.config_entries.async_update_entry(entry, data={**entry.data, **updates})
    LOGGER.info("Pointed %s's webhooks at Home Assistant", entry.title)


async def async_remove_webhook(
    hass: HomeAssistant, entry: SwitchboardConfigEntry, provider: object
) -> None:
    """Undo the registration this entry made, and drop its cloudhook."""
    _clear_issues(hass, entry)
    registered = entry.data.get(CONF_REGISTERED_URL)
    if registered and isinstance(provider, WebhookRegistrar):
        try:
            if (
                provider.owns_registration
                or await provider.async_get_webhook_url() == registered
            ):
                await provider.async_set_webhook_url(entry.data.get(CONF_PREVIOUS_URL))
        except ProviderError as err:
            LOGGER.warning(
                "Could not clear the webhook registration of %s: %s", entry.title, err
            )
    if CONF_CLOUDHOOK_URL in entry.data:
        await _async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
