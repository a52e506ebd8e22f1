"""The entry's Home Assistant webhook, and pointing the provider at it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
import time
from types import ModuleType
from typing import Any

from aiohttp import hdrs, web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID, EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
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
    ISSUE_WEBHOOK_ELSEWHERE,
    ISSUE_WEBHOOK_OFF,
    ISSUE_WEBHOOK_URL_CHANGED,
    LOGGER,
)
from .hub import SwitchboardConfigEntry, SwitchboardHub
from .issues import async_clear_entry_issues, async_raise_entry_issue
from .providers.base import WebhookProvider, WebhookRegistrar
from .providers.kernel.limits import read_at_most
from .providers.model import (
    InvalidPayloadError,
    InvalidSignatureError,
    ProviderError,
    ProviderUnavailableError,
    ResendRequestedError,
)

REGISTRATION_CHECK_INTERVAL = timedelta(minutes=30)
# Call events are a few KiB at most; anything past this is not one.
MAX_BODY = 1024 * 1024
_ISSUES = (
    ISSUE_NO_WEBHOOK_URL,
    ISSUE_NO_HTTPS_URL,
    ISSUE_WEBHOOK_URL_CHANGED,
    ISSUE_WEBHOOK_ELSEWHERE,
    ISSUE_WEBHOOK_OFF,
)


def is_https(url: str) -> bool:
    """Tell whether a URL is https, as Microsoft requires of callbacks."""
    return URL(url).scheme == "https"


def _loaded_cloud(hass: HomeAssistant) -> ModuleType | None:
    """Return the cloud integration's module once it is loaded, else None.

    Imported only then: it pulls in a lot.
    """
    if "cloud" not in hass.config.components:
        return None
    from homeassistant.components import cloud  # noqa: PLC0415

    return cloud


async def _async_cloudhook_url(hass: HomeAssistant, webhook_id: str) -> str | None:
    """Return a Nabu Casa cloudhook URL when Home Assistant Cloud is active."""
    cloud = _loaded_cloud(hass)
    if cloud is None or not cloud.async_active_subscription(hass):
        return None
    try:
        return str(await cloud.async_get_or_create_cloudhook(hass, webhook_id))
    except cloud.CloudNotAvailable:
        LOGGER.debug("Home Assistant Cloud is not connected; using the external URL")
        return None


async def _async_delete_cloudhook(hass: HomeAssistant, webhook_id: str) -> None:
    if (cloud := _loaded_cloud(hass)) is None:
        return
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


def _known_webhook_url(
    hass: HomeAssistant, entry_data: Mapping[str, Any]
) -> str | None:
    """Return the entry's cloudhook, else its external URL; None without either.

    No cloudhook is made here: this is the URL a user was given to paste.
    """
    if cloudhook := entry_data.get(CONF_CLOUDHOOK_URL):
        return str(cloudhook)
    try:
        return webhook.async_generate_url(
            hass, entry_data[CONF_WEBHOOK_ID], allow_internal=False
        )
    except NoURLAvailableError:
        return None


def displayed_webhook_url(hass: HomeAssistant, entry_data: Mapping[str, Any]) -> str:
    """Return the address to paste into a provider, as far as it is known."""
    if url := _known_webhook_url(hass, entry_data):
        return url
    path = webhook.async_generate_path(entry_data[CONF_WEBHOOK_ID])
    return f"<your Home Assistant URL>{path}"


async def async_webhook_url(hass: HomeAssistant, entry: ConfigEntry[Any]) -> str:
    """Return the URL the provider must call: a cloudhook, else the external URL.

    A cloudhook made earlier is kept while the subscription lasts.

    Raises NoURLAvailableError when Home Assistant has no URL the internet reaches.
    """
    if (url := entry.data.get(CONF_CLOUDHOOK_URL)) and _cloud_subscribed(hass):
        return str(url)
    url, cloudhook = await async_new_webhook_url(hass, entry.data[CONF_WEBHOOK_ID])
    if cloudhook and cloudhook != entry.data.get(CONF_CLOUDHOOK_URL):
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_CLOUDHOOK_URL: cloudhook}
        )
    return url


def _cloud_subscribed(hass: HomeAssistant) -> bool:
    cloud = _loaded_cloud(hass)
    return cloud is not None and bool(cloud.async_active_subscription(hass))


class WebhookManager:
    """Receives the provider's webhooks and keeps the provider pointed here.

    It follows Home Assistant's external URL and cloud connection: where it
    registered the URL itself it registers the new one, and where the user
    pasted it into the provider it raises a repair issue with the new one.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SwitchboardConfigEntry,
        hub: SwitchboardHub,
        provider: WebhookProvider,
    ) -> None:
        """Serve `provider`'s webhooks for `entry`, handing them to `hub`."""
        self._hass = hass
        self._entry = entry
        self._hub = hub
        self._provider = provider
        self._registrar = provider if isinstance(provider, WebhookRegistrar) else None
        self._url: str | None = None

    @property
    def _registers(self) -> bool:
        """Whether we point the provider at Home Assistant (the user agreed)."""
        return self._registrar is not None and self._entry.data.get(
            CONF_REGISTER_WEBHOOK, True
        )

    async def async_start(self) -> None:
        """Receive the provider's events; point the provider here if agreed.

        A provider that needs an https callback (Graph) without one gets a
        repair issue; so does a registrar when Home Assistant has no public URL.
        """
        webhook_id = self._entry.data[CONF_WEBHOOK_ID]
        webhook.async_register(
            self._hass,
            DOMAIN,
            self._entry.title,
            webhook_id,
            self._async_handle,
            local_only=False,
            allowed_methods=["POST"],
        )
        self._entry.async_on_unload(
            lambda: webhook.async_unregister(self._hass, webhook_id)
        )
        url = await self._async_current_url()
        if self._chooses_url:
            await self._async_use_url(url)
        else:
            # The user pasted the URL into the provider themselves; any URL
            # will do, so remember the one they were shown.
            self._clear_issues()
            self._url = url
        self._async_follow_url_changes()
        if self._registrar is not None:
            self._async_keep_registered(self._registrar)

    @property
    def _chooses_url(self) -> bool:
        """Whether the URL matters to us: we register it, or it must be https."""
        return self._registers or self._provider.webhook_requires_https

    async def _async_current_url(self) -> str | None:
        """Return where the provider must send events now; None: nowhere known.

        Only a URL we choose may bring a new cloudhook; a pasted one is the
        cloudhook or external URL the user was shown.
        """
        if not self._chooses_url:
            return _known_webhook_url(self._hass, self._entry.data)
        try:
            return await async_webhook_url(self._hass, self._entry)
        except NoURLAvailableError:
            return None

    def _lacks_https(self, url: str | None) -> bool:
        """Whether the provider needs an https callback and `url` is none."""
        return self._provider.webhook_requires_https and (
            url is None or not is_https(url)
        )

    async def _async_use_url(self, url: str | None) -> None:
        """Tell the provider where we are, and register it where agreed."""
        provider = self._provider
        if self._lacks_https(url):
            self._clear_issues()
            self._raise_issue(ISSUE_NO_HTTPS_URL)
            provider.use_webhook_url(None)
            self._url = None
            return
        if url is None:
            self._raise_issue(ISSUE_NO_WEBHOOK_URL)
            self._url = None
            return
        self._clear_issues()
        provider.use_webhook_url(url)
        self._url = url
        if self._registrar is not None and self._registers:
            await self._async_register(self._registrar, url)

    @callback
    def _async_follow_url_changes(self) -> None:
        """Look again when the external URL or the cloud connection changes."""

        async def _async_config_updated(_event: Event) -> None:
            await self._async_url_may_have_changed()

        self._entry.async_on_unload(
            self._hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _async_config_updated)
        )
        if (cloud := _loaded_cloud(self._hass)) is not None:

            async def _async_cloud_changed(_state: Any) -> None:
                await self._async_url_may_have_changed()

            self._entry.async_on_unload(
                cloud.async_listen_connection_change(self._hass, _async_cloud_changed)
            )

    async def _async_url_may_have_changed(self) -> None:
        url = await self._async_current_url()
        if url == self._url:
            return
        LOGGER.info("The webhook address of %s changed", self._entry.title)
        if self._registers or self._lacks_https(url):
            try:
                await self._async_use_url(url)
            except ProviderError as err:
                LOGGER.warning(
                    "Could not point %s at the new webhook address: %s",
                    self._entry.title,
                    err,
                )
            return
        if url is None:
            # Nothing better to offer than what the user pasted.
            return
        # The user pasted the old address into the provider: only they can
        # paste the new one. Commands that name a callback use it at once.
        self._provider.use_webhook_url(url)
        self._url = url
        self._clear_issues()
        self._raise_issue(ISSUE_WEBHOOK_URL_CHANGED, webhook_url=url)

    async def _async_handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        """Handle a delivery: the hub has it checked first, then applies it.

        Every delivery ends in a deliberate answer, whatever it holds: 413 too
        large, 401 not authentic, 400 unreadable, 503 not checkable now, 200
        taken in; nothing raises (Home Assistant would answer 200 to that).
        """
        del hass, webhook_id
        body = await _async_read_body(request)
        if body is None:
            LOGGER.warning("Rejected a webhook delivery larger than %s bytes", MAX_BODY)
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            await self._hub.async_receive_webhook(request.headers, body, time.time())
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
        except Exception as err:  # noqa: BLE001 - a handler answers, never raises
            # A fault of ours, not of the sender's: it may retry. Named, not
            # traced: what failed may hold what the delivery carried.
            LOGGER.warning(
                "Could not handle a webhook delivery of %s: %s",
                self._entry.title,
                type(err).__name__,
            )
            return web.Response(status=HTTPStatus.INTERNAL_SERVER_ERROR)
        return web.Response(status=HTTPStatus.OK)

    @callback
    def _async_keep_registered(self, registrar: WebhookRegistrar) -> None:
        """Check now and then that the provider still sends its events here.

        Our own registration (Webex, which disables one on its own) is put
        back. One the user shares (a Telnyx application's URL, or one they
        pasted) is theirs: pointed elsewhere, it is left alone, and the
        entities go unavailable with a repair issue that says what to set.
        """

        async def _async_check(_now: datetime) -> None:
            if (url := self._url) is None:
                return
            try:
                current = await registrar.async_get_webhook_url()
            except ProviderError as err:
                # Not knowing is not news: the entities stay as they are.
                LOGGER.warning(
                    "Could not check the webhook registration of %s: %s",
                    self._entry.title,
                    err,
                )
                return
            if current == url:
                self._async_reaches_us()
                return
            if not (self._registers and registrar.owns_registration):
                self._async_goes_elsewhere(ISSUE_WEBHOOK_ELSEWHERE, webhook_url=url)
                return
            try:
                await self._async_register(registrar, url)
            except ProviderError as err:
                LOGGER.warning(
                    "Could not point %s's webhooks back at Home Assistant: %s",
                    self._entry.title,
                    err,
                )
                self._async_goes_elsewhere(ISSUE_WEBHOOK_OFF, error=str(err))
                return
            self._async_reaches_us()

        self._entry.async_on_unload(
            async_track_time_interval(
                self._hass,
                _async_check,
                REGISTRATION_CHECK_INTERVAL,
                cancel_on_shutdown=True,
            )
        )

    async def _async_register(self, registrar: WebhookRegistrar, url: str) -> None:
        entry = self._entry
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
            self._hub.async_schedule_reread()
        self._hass.config_entries.async_update_entry(
            entry, data={**entry.data, **updates}
        )
        LOGGER.info("Pointed %s's webhooks at Home Assistant", entry.title)

    @callback
    def _async_reaches_us(self) -> None:
        async_clear_entry_issues(
            self._hass, self._entry, (ISSUE_WEBHOOK_ELSEWHERE, ISSUE_WEBHOOK_OFF)
        )
        self._hub.async_set_webhook_reaches_us(reaches=True)

    @callback
    def _async_goes_elsewhere(self, key: str, **placeholders: str) -> None:
        LOGGER.warning(
            "%s's webhooks do not reach Home Assistant; its devices are"
            " unavailable until they do",
            self._entry.title,
        )
        self._raise_issue(key, provider=self._hub.provider_name, **placeholders)
        self._hub.async_set_webhook_reaches_us(reaches=False)

    def _raise_issue(self, key: str, **placeholders: str) -> None:
        async_raise_entry_issue(self._hass, self._entry, key, **placeholders)

    def _clear_issues(self) -> None:
        async_clear_entry_issues(self._hass, self._entry, _ISSUES)


async def _async_read_body(request: web.Request) -> bytes | None:
    """Read a delivery's body, or None when it is larger than MAX_BODY.

    A declared Content-Length over the cap is refused before a byte is read;
    a body without one (chunked) is read up to the cap and no further. Read
    from `content` (never `read()`, which raises past Home Assistant's own
    limit), which both aiohttp's requests and the ones Home Assistant Cloud
    hands over for a cloudhook (MockRequest) have.
    """
    if _declares_too_much(request):
        return None
    return await read_at_most(request.content, MAX_BODY)


def _declares_too_much(request: web.Request) -> bool:
    """Whether the request's Content-Length is over MAX_BODY."""
    declared = request.headers.get(hdrs.CONTENT_LENGTH, "")
    if not (declared.isascii() and declared.isdigit()):
        return False  # none, or no length: the read keeps to the cap anyway
    try:
        return int(declared) > MAX_BODY
    except ValueError:  # more digits than Python reads into an int
        return True


async def async_remove_webhook(
    hass: HomeAssistant, entry: ConfigEntry[Any], provider: object
) -> None:
    """Undo the registration this entry made, and drop its cloudhook."""
    async_clear_entry_issues(hass, entry, _ISSUES)
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
