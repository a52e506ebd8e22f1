"""The Graph calling-bot client: the Provider side, and its REST requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
import time
from typing import Any, ClassVar, Final

import aiohttp

from ..kernel.http import Reply, bearer_headers, path_segment, read_object, send
from ..model import (
    Account,
    ActionNotAllowedError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
    Device,
    ProviderError,
)
from .auth import AccessTokens, NotificationTokens
from .const import CLOUDS, OPENID_CONFIGURATION_URL, REQUEST_TIMEOUT
from .errors import graph_error
from .notifications import NotificationReader
from .options import validate_options

# "The bot is expected to Answer or Reject the call before the call times out
# (Current timeout value is 15 seconds)." Read at call time: tests patch it.
ANSWER_WINDOW = 15.0
BOT_NAME: Final = "Teams calling bot"
BOT_MODEL: Final = "Calling bot"
GRAPH: Final = "Microsoft Graph"


class GraphClient:
    """Talks to Microsoft Graph as one calling bot (one app registration)."""

    supported_actions = frozenset(
        {CallAction.ANSWER, CallAction.REJECT, CallAction.HANGUP}
    )
    webhook_requires_https = True
    # Our callback URL, named in answer and reject.
    redact_keys: ClassVar[frozenset[str]] = frozenset({"callbackUri"})

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        cloud: str = "global",
        graph_url: str | None = None,
        login_url: str | None = None,
        openid_configuration_url: str = OPENID_CONFIGURATION_URL,
        scope: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep the session and credentials; nothing is sent yet.

        `graph_url` and `login_url` move where requests go (a proxy, a local
        simulator); the token is still asked for the cloud's own Graph
        (`https://graph.microsoft.com/.default`), which is what Entra ID
        issues tokens for, unless `scope` names another.
        """
        if cloud not in CLOUDS:
            raise ProviderError(f"unknown Microsoft cloud {cloud!r}")
        roots = CLOUDS[cloud]
        self._session = session
        self.client_id = client_id
        self._graph_url = (graph_url or roots.graph_url).rstrip("/")
        login = (login_url or roots.login_url).rstrip("/")
        self._clock = clock
        self._webhook_url: str | None = None
        self._tokens = AccessTokens(
            session,
            token_url=f"{login}/{path_segment(tenant_id)}/oauth2/v2.0/token",
            form={
                "client_id": client_id,
                # .default names the Graph the token is for: the cloud's, not
                # whatever address requests go through.
                "scope": scope or roots.scope,
                "client_secret": client_secret,
                "grant_type": "client_credentials",
            },
            clock=clock,
        )
        self._notification_tokens = NotificationTokens(
            session,
            audience=client_id,
            openid_configuration_url=openid_configuration_url,
            clock=clock,
        )
        self._reader = NotificationReader(client_id)

    # --- Provider ---

    async def async_get_account(self) -> Account:
        """Get a token, which checks tenant, client id and secret."""
        await self._tokens.token()
        return Account(self.client_id, BOT_NAME)

    async def async_get_devices(self) -> list[Device]:
        """Return the one device: the bot."""
        return [Device(self.client_id, BOT_NAME, BOT_MODEL)]

    def validate_options(
        self, action: CallAction, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Check the options of one user action."""
        return validate_options(action, options)

    async def async_perform(
        self,
        action: CallAction,
        call: Call,
        device: Device,
        options: Mapping[str, Any],
    ) -> None:
        """Answer, reject or hang up; the bot is the only device."""
        del device
        path = _call_path(call)
        if action is CallAction.HANGUP:
            await self._request("DELETE", path, action=action)
            return
        options = validate_options(action, options)
        if action is CallAction.ANSWER:
            callback = self._https_webhook_url()
            if callback is None:
                raise ProviderError(
                    "Home Assistant has no https URL for Microsoft to send this "
                    "call's updates to: set up Home Assistant Cloud or an external "
                    "https URL"
                )
            if call.started_at is not None and (
                self._clock() - call.started_at.timestamp() > ANSWER_WINDOW
            ):
                raise ActionNotAllowedError(
                    f"the {ANSWER_WINDOW:g}-second answer window has passed"
                )
            body: dict[str, Any] = {
                "callbackUri": callback,
                "acceptedModalities": options["accepted_modalities"],
                "mediaConfig": options["media_config"],
            }
            await self._request("POST", f"{path}/answer", body=body, action=action)
            return
        body = {"reason": options["reason"]}
        if (callback := self._https_webhook_url()) is not None:
            body["callbackUri"] = callback
        # Marked first: the deleted notification may overtake the 202.
        notes = self._reader.notes(call.call_id, self._clock())
        notes.rejected = True
        try:
            await self._request("POST", f"{path}/reject", body=body, action=action)
        except ProviderError:
            notes.rejected = False
            raise

    async def async_refresh_call(self, call: Call) -> CallEvent | None:
        """Read the call; a call Graph no longer knows has ended."""
        now = self._clock()
        try:
            data = await self._request("GET", _call_path(call))
        except CallEndedError:
            return self._gone(call, now)
        return self._reader.event(call.call_id, "get", data, now)

    async def async_keep_alive(self, call: Call) -> CallEvent | None:
        """Tell Graph an answered call is still wanted; it ends it after 45 min.

        A call Graph no longer knows (404) has ended: its end is returned.
        """
        try:
            await self._request("POST", f"{_call_path(call)}/keepAlive")
        except CallEndedError:
            return self._gone(call, self._clock())
        return None

    def _gone(self, call: Call, now: float) -> CallEvent | None:
        data = {"state": "terminated"}
        return self._reader.event(call.call_id, "deleted", data, now, gone=True)

    # --- WebhookProvider ---

    def use_webhook_url(self, url: str | None) -> None:
        """Keep the URL named as callbackUri when answering and rejecting."""
        self._webhook_url = url

    def _https_webhook_url(self) -> str | None:
        url = self._webhook_url
        return url if url and url.lower().startswith("https://") else None

    async def async_parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[CallEvent]:
        """Verify the Bearer token, then read the commsNotifications envelope."""
        await self._notification_tokens.verify(headers, now)
        return self._reader.read(body, now)

    # --- REST ---

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        action: CallAction | None = None,
    ) -> dict[str, Any]:
        token, fresh = await self._tokens.token()
        reply = await self._send(method, path, body, token)
        if reply.status == HTTPStatus.UNAUTHORIZED and not fresh:
            # A cached token Graph no longer takes: one more try with a new one.
            self._tokens.forget()
            token, _ = await self._tokens.token()
            reply = await self._send(method, path, body, token)
        return read_object(
            reply, service=GRAPH, errors=lambda failed: graph_error(failed, action)
        )

    async def _send(
        self, method: str, path: str, body: Mapping[str, Any] | None, token: str
    ) -> Reply:
        return await send(
            self._session,
            method,
            f"{self._graph_url}/v1.0{path}",
            service=GRAPH,
            time_limit=REQUEST_TIMEOUT,
            headers=bearer_headers(token),
            json_body=body,
        )


def _call_path(call: Call) -> str:
    return f"/communications/calls/{path_segment(call.call_id)}"
