"""A small CometD (Bayeux 1.0) long-polling client on a shared aiohttp session.

The maintained Python CometD clients open an aiohttp session of their own, so
they cannot share the cookies (JSESSIONID, BAYEUX_BROWSER) and the CSRF header
that Genesys Web Services ties to the REST calls. This one posts on the
caller's session: handshake, subscribe, one outstanding /meta/connect at a
time, the server's advice (reconnect retry / handshake / none, interval,
timeout), a new handshake when the server forgets the client (402), capped
exponential back-off forever on failures, and /meta/disconnect on stop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
import contextlib
from http import HTTPStatus
import itertools
import json
import logging
from typing import Any, Final

import aiohttp

from .model import AuthenticationError, ProviderError

_LOGGER = logging.getLogger(__name__)

# Seconds; read on every use so tests can make them small.
REQUEST_TIMEOUT: Final = 10.0  # handshake, subscribe, disconnect
CONNECT_MARGIN: Final = 10.0  # a /meta/connect may take advice.timeout plus this
DEFAULT_TIMEOUT: Final = 30.0  # advice.timeout until the server gives one
FIRST_BACKOFF: Final = 1.0
MAX_BACKOFF: Final = 60.0

LONG_POLLING: Final = "long-polling"
RETRY: Final = "retry"
HANDSHAKE: Final = "handshake"
NONE: Final = "none"
# GWS answers statusCode 20 ("User is not authenticated") in its own envelope.
NOT_AUTHENTICATED: Final = 20

type Message = dict[str, Any]
type MessagesCallback = Callable[[list[Message]], None]
type ConnectionCallback = Callable[[bool], None]


class _DropError(Exception):
    """The session or the transport failed; the loop decides how to come back."""

    def __init__(
        self, reason: str, *, rehandshake: bool = False, interval: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rehandshake = rehandshake
        # The server's advice.interval; None means back off.
        self.interval = interval


class _StoppedError(Exception):
    """stop() was called."""


class BayeuxClient:
    """One CometD session over HTTP long-polling, kept alive until stopped."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        subscriptions: Sequence[str],
        headers: Callable[[], Mapping[str, str]] | None = None,
        before_handshake: Callable[[], Awaitable[None]] | None = None,
        name: str = "CometD",
    ) -> None:
        """Keep what every request needs; nothing is sent before run().

        `headers` is asked before every request (credentials, and a CSRF
        token that changes);
        `before_handshake` runs before every handshake (to refresh the HTTP
        session the server ties the CometD session to); `name` is for logs.
        """
        self._session = session
        self._url = url
        self._subscriptions = tuple(subscriptions)
        self._headers = headers
        self._before_handshake = before_handshake
        self._name = name
        self._ids = itertools.count(1)
        self._client_id: str | None = None
        # A session we gave up on: told to go before the next handshake.
        self._abandoned: str | None = None
        self._reconnect = RETRY
        self._interval = 0.0
        self._timeout = DEFAULT_TIMEOUT
        self._backoff = FIRST_BACKOFF
        # A /meta/connect succeeded since the last drop: advice is trusted again.
        self._healthy = False
        self._up = False
        self._running = False
        self._stopping = asyncio.Event()
        self._done = asyncio.Event()
        self._on_messages: MessagesCallback = _ignore
        self._on_connection: ConnectionCallback = _ignore

    @property
    def client_id(self) -> str | None:
        """The server's id of this client, while it has one."""
        return self._client_id

    @property
    def connected(self) -> bool:
        """True while the stream is established and subscribed."""
        return self._up

    async def run(
        self, on_messages: MessagesCallback, on_connection: ConnectionCallback
    ) -> None:
        """Deliver messages until stop(); reconnect on every failure.

        `on_messages` gets the non-meta messages of each reply, in order;
        `on_connection(True)` follows each handshake and subscription (and a
        resumed connect), `on_connection(False)` each drop. Raises
        AuthenticationError when the server refuses the credentials. A stopped
        client stays stopped: run() then returns at once.
        """
        if self._stopping.is_set():
            return
        if self._running:
            raise RuntimeError("the CometD client is already running")
        self._running = True
        self._done.clear()
        self._on_messages = on_messages
        self._on_connection = on_connection
        try:
            await self._loop()
        except _StoppedError:
            await self._disconnect()
        except AuthenticationError:
            self._set_up(up=False, reason="credentials refused")
            raise
        finally:
            self._running = False
            self._done.set()

    async def stop(self) -> None:
        """Leave the session (/meta/disconnect) and let run() return."""
        self._stopping.set()
        if self._running:
            await self._done.wait()

    # --- the loop ---

    async def _loop(self) -> None:
        delay = 0.0
        while True:
            if delay:
                await self._guard(asyncio.sleep(delay))
            try:
                if self._client_id is None:
                    await self._handshake()
                    await self._subscribe()
                else:
                    # Back after a failed connect: the server may still hold our
                    # session and the messages queued in it. Ask it to answer at
                    # once (advice timeout 0) so we know now whether it does.
                    await self._connect(resume=True)
                self._set_up(up=True)
                while True:
                    await self._connect()
                    if self._interval:
                        await self._guard(asyncio.sleep(self._interval))
            except _DropError as drop:
                delay = self._dropped_after(drop)

    def _dropped_after(self, drop: _DropError) -> float:
        """Record a drop; return how long to wait before trying again."""
        _LOGGER.debug("%s: %s", self._name, drop.reason)
        if drop.rehandshake:
            self._abandoned = self._client_id or self._abandoned
            self._client_id = None
        self._set_up(up=False, reason=drop.reason)
        if drop.interval is not None and self._healthy:
            delay = drop.interval
        else:
            delay = self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
        self._healthy = False
        return delay

    def _set_up(self, *, up: bool, reason: str = "") -> None:
        if up is self._up:
            return
        self._up = up
        # The integration logs the drop and the return once, with the entry's
        # name; here only the detail, for debugging.
        if up:
            _LOGGER.debug("%s: connected", self._name)
        else:
            _LOGGER.debug("%s: connection lost (%s); reconnecting", self._name, reason)
        self._on_connection(up)

    # --- Bayeux meta messages ---

    async def _handshake(self) -> None:
        if self._before_handshake is not None:
            try:
                await self._guard(self._before_handshake())
            except AuthenticationError:
                raise
            except ProviderError as err:
                raise _DropError(f"cannot prepare the handshake: {err}") from err
        if self._abandoned is not None:
            # The server may still hold it (and count it against the
            # browser's sessions); the reply, if any, is of no use to us.
            message: Message = {
                "channel": "/meta/disconnect",
                "clientId": self._abandoned,
            }
            self._abandoned = None
            with contextlib.suppress(_DropError, ProviderError):
                await self._guard(self._post([message], REQUEST_TIMEOUT))
        self._reconnect = RETRY
        handshake: Message = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": [LONG_POLLING],
        }
        reply = _reply_to(handshake, await self._send([handshake], REQUEST_TIMEOUT))
        self._advise(reply)
        if not reply.get("successful"):
            error = _error_text(reply)
            if self._reconnect == NONE:
                # A handshake refused for good is a refusal of the credentials.
                raise AuthenticationError(
                    f"{self._name} refused the handshake: {error}"
                )
            raise _DropError(f"handshake refused: {error}")
        client_id = reply.get("clientId")
        if not isinstance(client_id, str) or not client_id:
            raise _DropError("handshake reply without a clientId")
        self._client_id = client_id

    async def _subscribe(self) -> None:
        messages: list[Message] = [
            {
                "channel": "/meta/subscribe",
                "clientId": self._client_id,
                "subscription": subscription,
            }
            for subscription in self._subscriptions
        ]
        replies = await self._send(messages, REQUEST_TIMEOUT)
        for message in messages:
            reply = _reply_to(message, replies)
            self._advise(reply)
            if not reply.get("successful"):
                # Whatever the server kept of this session, start a clean one.
                self._check_unknown(reply, "subscribe")
                raise _DropError(
                    f"subscribe to {message['subscription']} refused: "
                    f"{_error_text(reply)}",
                    rehandshake=True,
                )

    async def _connect(self, *, resume: bool = False) -> None:
        message: Message = {
            "channel": "/meta/connect",
            "clientId": self._client_id,
            "connectionType": LONG_POLLING,
        }
        if resume:
            message["advice"] = {"timeout": 0}
        reply = _reply_to(
            message, await self._send([message], self._timeout + CONNECT_MARGIN)
        )
        self._advise(reply)
        if reply.get("successful"):
            if self._reconnect == HANDSHAKE:
                raise _DropError(
                    "the server asked for a new handshake",
                    rehandshake=True,
                    interval=self._interval,
                )
            if self._reconnect == NONE:
                # Bayeux says stop; a stream that must stay up starts over.
                raise _DropError("the server said not to reconnect", rehandshake=True)
            self._healthy = True
            self._backoff = FIRST_BACKOFF
            return
        self._check_unknown(reply, "connect")
        raise _DropError(
            f"connect refused: {_error_text(reply)}",
            rehandshake=self._reconnect == NONE,
        )

    def _check_unknown(self, reply: Message, what: str) -> None:
        """Raise for a new handshake when the server no longer knows us."""
        if _error_text(reply).startswith("402") or self._reconnect == HANDSHAKE:
            raise _DropError(
                f"{what}: {_error_text(reply)}",
                rehandshake=True,
                interval=self._interval,
            )

    async def _disconnect(self) -> None:
        client_id, self._client_id = self._client_id, None
        self._up = False
        if client_id is None:
            return
        message: Message = {"channel": "/meta/disconnect", "clientId": client_id}
        with contextlib.suppress(_DropError, ProviderError):
            await self._post([message], REQUEST_TIMEOUT)
        _LOGGER.debug("%s: disconnected", self._name)

    def _advise(self, reply: Message) -> None:
        advice = reply.get("advice")
        if not isinstance(advice, dict):
            return
        reconnect = advice.get("reconnect")
        if reconnect in (RETRY, HANDSHAKE, NONE):
            self._reconnect = reconnect
        timeout = _milliseconds(advice.get("timeout"))
        if timeout is not None:
            self._timeout = timeout
        interval = _milliseconds(advice.get("interval"))
        if interval is not None:
            self._interval = interval

    # --- HTTP ---

    async def _send(self, messages: list[Message], limit: float) -> list[Message]:
        """Post messages; deliver the events in the reply; return the meta replies."""
        replies, events = await self._guard(self._post(messages, limit))
        if events:
            try:
                self._on_messages(events)
            except Exception:
                _LOGGER.exception("%s: a message could not be handled", self._name)
        return replies

    async def _post(
        self, messages: list[Message], limit: float
    ) -> tuple[list[Message], list[Message]]:
        """Post messages within `limit` seconds; return (meta replies, events)."""
        for message in messages:
            message["id"] = str(next(self._ids))
        headers = {"Accept": "application/json"}
        if self._headers is not None:
            headers.update(self._headers())
        try:
            async with self._session.post(
                self._url,
                json=messages,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise _DropError(f"cannot reach the server: {type(err).__name__}") from err
        if status == HTTPStatus.UNAUTHORIZED:
            raise AuthenticationError(f"{self._name}: credentials refused (HTTP 401)")
        if status == HTTPStatus.FORBIDDEN:
            # A CSRF token or session the server no longer honours: a new
            # handshake runs before_handshake, which gets fresh ones.
            raise _DropError("forbidden (HTTP 403)", rehandshake=True)
        if status >= HTTPStatus.MULTIPLE_CHOICES:
            raise _DropError(f"HTTP {status}")
        try:
            body = json.loads(raw)
        except ValueError as err:
            raise _DropError("a reply that is not JSON") from err
        if isinstance(body, dict):
            if body.get("statusCode") == NOT_AUTHENTICATED:
                raise AuthenticationError(f"{self._name}: user is not authenticated")
            body = [body]
        if not isinstance(body, list):
            raise _DropError("a reply that is not a list of messages")
        replies: list[Message] = []
        events: list[Message] = []
        for item in body:
            if isinstance(item, dict) and isinstance(item.get("channel"), str):
                meta = item["channel"].startswith("/meta/")
                (replies if meta else events).append(item)
        return replies, events

    async def _guard[T](self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` unless stop() comes first."""
        task = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait((task, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if task.cancelled():
            raise _StoppedError
        # Done before the stop: the next guard stops.
        return task.result()


def _reply_to(message: Message, replies: list[Message]) -> Message:
    """Find the reply with the message's id (or, failing that, its channel)."""
    for reply in replies:
        if reply.get("id") == message["id"]:
            return reply
    for reply in replies:
        if reply.get("channel") == message["channel"] and reply.get("id") is None:
            return reply
    raise _DropError(f"no reply to {message['channel']}")


def _error_text(reply: Message) -> str:
    return str(reply.get("error") or "no reason given")


def _milliseconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, value / 1000)


def _ignore(_value: Any) -> None:
    """Stand in for the callbacks until run() gives real ones."""
