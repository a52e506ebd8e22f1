"""A small CometD (Bayeux 1.0) long-polling client on a shared aiohttp session.

The maintained Python CometD clients open an aiohttp session of their own, so
they cannot share the cookies (JSESSIONID, BAYEUX_BROWSER) and the CSRF header
that Genesys Web Services ties to the REST calls. This one posts on the
caller's session: handshake, subscribe, one outstanding /meta/connect at a
time, and /meta/disconnect on stop.

It follows the server's advice as soon as the server answers (reconnect
retry / handshake / none, interval, timeout; the numbers clamped to sane
bounds): a server that no longer knows the client (a 401, 402 or 403 error,
with or without advice) gets a new handshake at once. While the server
cannot be reached it backs off, capped at a few seconds. When the server
advises reconnect "none", Bayeux forbids the client to come back on its own:
run() raises StreamRefusedError and whoever runs it decides when to try
again. Whatever a reply holds ends in one of these; nothing in a reply can
end the loop otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
import contextlib
from http import HTTPStatus
import itertools
import logging
from typing import Any, Final

import aiohttp

from .kernel.limits import read_at_most
from .kernel.payload import load_json
from .kernel.values import finite_number, is_text
from .model import AuthenticationError, ProviderError, ProviderUnavailableError

_LOGGER = logging.getLogger(__name__)

# Seconds; read on every use so tests can make them small.
REQUEST_TIMEOUT: Final = 10.0  # handshake, subscribe, disconnect
CONNECT_MARGIN: Final = 10.0  # a /meta/connect may take advice.timeout plus this
DEFAULT_TIMEOUT: Final = 30.0  # advice.timeout until the server gives one
# The longest advice followed. A longer timeout is asked down on every
# connect (the client's own advice.timeout), so a dead connection shows
# within a minute; a longer interval would leave calls unseen for that long.
MAX_TIMEOUT: Final = 60.0
MAX_INTERVAL: Final = 5.0
# Connects answered at once with nothing are sent at most this often.
MIN_POLL: Final = 0.25
FIRST_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 2.0
# Bytes. A reply is a few messages of a few kilobytes; a larger one is not
# read whole.
MAX_REPLY: Final = 16 * 1024 * 1024
MAX_ERROR_TEXT: Final = 200

LONG_POLLING: Final = "long-polling"
RETRY: Final = "retry"
HANDSHAKE: Final = "handshake"
NONE: Final = "none"
ADVICES: Final = (RETRY, HANDSHAKE, NONE)
# Error codes that mean the server does not know the client (any more):
# CometD's 402::Unknown client, and the 401 and 403 other servers answer.
UNKNOWN_CLIENT: Final = frozenset({"401", "402", "403"})
# GWS answers statusCode 20 ("User is not authenticated") in its own envelope.
NOT_AUTHENTICATED: Final = 20

type Message = dict[str, Any]
type MessagesCallback = Callable[[list[Message]], None]
type ConnectionCallback = Callable[[bool], None]


class StreamRefusedError(ProviderUnavailableError):
    """The server ended the session and advised not to reconnect (reconnect none)."""


class _DropError(Exception):
    """The session or the transport failed; the loop decides how to come back."""

    def __init__(
        self, reason: str, *, rehandshake: bool = False, interval: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rehandshake = rehandshake
        # The server answered and advised this wait; None means back off.
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
        # The timeout we advise on each connect when the server's is too long.
        self._asked_timeout: float | None = None
        self._backoff = FIRST_BACKOFF
        # The server's advice was followed since the last successful connect:
        # advice that failed once is not followed in a loop.
        self._advice_followed = False
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
        AuthenticationError when the server refuses the credentials, and
        StreamRefusedError when it advises not to reconnect. A stopped client
        stays stopped: run() then returns at once.
        """
        if self._stopping.is_set():
            return
        self._claim()
        self._done.clear()
        self._on_messages = on_messages
        self._on_connection = on_connection
        try:
            await self._loop()
        except _StoppedError:
            await self._disconnect()
        except (AuthenticationError, StreamRefusedError) as err:
            # The server is done with this session: nothing to leave.
            self._client_id = None
            self._set_up(up=False, reason=str(err))
            raise
        finally:
            self._running = False
            self._done.set()

    async def check(self) -> None:
        """Open a session, poll once and leave it: raise what would stop run().

        The connect asks the server to answer at once (advice timeout 0).
        Raises AuthenticationError and StreamRefusedError as run() would, and
        ProviderUnavailableError when the server cannot be reached or answers
        nothing usable. Messages in the replies are not delivered.
        """
        if self._stopping.is_set():
            return
        self._claim()
        self._on_messages = _ignore
        try:
            await self._attempt(self._open_once)
        except _DropError as drop:
            raise ProviderUnavailableError(f"{self._name}: {drop.reason}") from None
        except AuthenticationError, StreamRefusedError:
            # The server is done with this session: nothing to leave.
            self._client_id = None
            raise
        except _StoppedError:
            pass
        finally:
            self._abandoned = None
            await self._disconnect()
            self._running = False

    async def stop(self) -> None:
        """Leave the session (/meta/disconnect) and let run() return."""
        self._stopping.set()
        if self._running:
            await self._done.wait()

    def _claim(self) -> None:
        if self._running:
            raise RuntimeError("the CometD client is already running")
        self._running = True

    # --- the loop ---

    async def _loop(self) -> None:
        delay = 0.0
        while True:
            if delay:
                await self._guard(asyncio.sleep(delay))
            try:
                await self._attempt(self._stay_connected)
            except _DropError as drop:
                delay = self._dropped_after(drop)

    async def _open_once(self) -> None:
        await self._handshake()
        await self._subscribe()
        await self._connect(resume=True)

    async def _stay_connected(self) -> None:
        if self._client_id is None:
            await self._handshake()
            await self._subscribe()
        else:
            # Back after a failed connect: the server may still hold our
            # session and the messages queued in it. Ask it to answer at
            # once (advice timeout 0) so we know now whether it does.
            await self._connect(resume=True)
        self._set_up(up=True)
        loop = asyncio.get_running_loop()
        while True:
            sent = loop.time()
            delivered = await self._connect()
            wait = self._interval
            if not delivered:
                # A server answering every connect at once with nothing
                # (advice timeout 0) would make this a busy loop.
                wait = max(wait, MIN_POLL - (loop.time() - sent))
            if wait > 0:
                await self._guard(asyncio.sleep(wait))

    async def _attempt(self, session: Callable[[], Awaitable[None]]) -> None:
        """Run `session`; what no check above foresaw is a drop, never the end."""
        try:
            await session()
        except _DropError, _StoppedError, AuthenticationError, StreamRefusedError:
            raise
        except Exception as err:
            _LOGGER.debug(
                "%s: unexpected %s; starting a new session",
                self._name,
                type(err).__name__,
                exc_info=True,
            )
            raise _DropError(
                f"unexpected {type(err).__name__}", rehandshake=True
            ) from err

    def _dropped_after(self, drop: _DropError) -> float:
        """Record a drop; return how long to wait before trying again."""
        _LOGGER.debug("%s: %s", self._name, drop.reason)
        if drop.rehandshake:
            self._abandoned = self._client_id or self._abandoned
            self._client_id = None
        self._set_up(up=False, reason=drop.reason)
        if drop.interval is not None and not self._advice_followed:
            # The server answered: follow its advice now, however long it was
            # away. Advice that did not work once is not followed again
            # before a connect succeeds.
            self._advice_followed = True
            return drop.interval
        delay = self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)
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
            _LOGGER.debug("%s: connection lost (%s)", self._name, reason)
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
        replies = await self._send([handshake], REQUEST_TIMEOUT)
        self._client_id = self._read_handshake(_reply_to(handshake, replies))

    def _read_handshake(self, reply: Message) -> str:
        """Return the client id a handshake reply gives, or raise why not."""
        self._advise(reply)
        error = _error_text(reply)
        if reply.get("successful") is not True:
            if self._reconnect == NONE:
                # A handshake refused for good is a refusal of the credentials.
                raise AuthenticationError(
                    f"{self._name} refused the handshake: {error}"
                )
            raise _DropError(f"handshake refused: {error}", interval=self._interval)
        if self._reconnect == NONE:
            raise StreamRefusedError(
                f"{self._name} advised not to connect after the handshake"
            )
        # A new session starts with the retry the handshake stands for.
        self._reconnect = RETRY
        client_id = reply.get("clientId")
        if not is_text(client_id) or not client_id:
            raise _DropError("handshake reply without a clientId")
        return str(client_id)

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
            self._read_subscribe(message, _reply_to(message, replies))

    def _read_subscribe(self, message: Message, reply: Message) -> None:
        """Raise unless the reply confirms the subscription."""
        self._advise(reply)
        self._check_not_refused(reply)
        if reply.get("successful") is not True:
            # Whatever the server kept of this session, start a clean one.
            raise _DropError(
                f"subscribe to {message['subscription']} refused: {_error_text(reply)}",
                rehandshake=True,
                interval=self._interval,
            )

    async def _connect(self, *, resume: bool = False) -> bool:
        """Send one /meta/connect; return whether its reply carried messages."""
        message: Message = {
            "channel": "/meta/connect",
            "clientId": self._client_id,
            "connectionType": LONG_POLLING,
        }
        if resume:
            message["advice"] = {"timeout": 0}
        elif self._asked_timeout is not None:
            message["advice"] = {"timeout": round(self._asked_timeout * 1000)}
        replies, events = await self._guard(
            self._post([message], self._timeout + CONNECT_MARGIN)
        )
        self._deliver(events)
        self._read_connect(_reply_to(message, replies))
        return bool(events)

    def _read_connect(self, reply: Message) -> None:
        """Return when the session goes on; raise how it must come back if not."""
        self._advise(reply)
        self._check_not_refused(reply)
        if reply.get("successful") is True:
            if self._reconnect == HANDSHAKE:
                raise _DropError(
                    "the server asked for a new handshake",
                    rehandshake=True,
                    interval=self._interval,
                )
            self._advice_followed = False
            self._backoff = FIRST_BACKOFF
            return
        unknown = _error_code(reply) in UNKNOWN_CLIENT or self._reconnect == HANDSHAKE
        raise _DropError(
            f"connect refused: {_error_text(reply)}",
            rehandshake=unknown,
            interval=self._interval,
        )

    def _check_not_refused(self, reply: Message) -> None:
        if self._reconnect == NONE:
            raise StreamRefusedError(
                f"{self._name} ended the stream and advised not to reconnect"
                f" ({_error_text(reply)})"
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
        """Take in a reply's advice; what is not a sane value is left out."""
        advice = reply.get("advice")
        if not isinstance(advice, dict):
            return
        reconnect = advice.get("reconnect")
        if isinstance(reconnect, str) and reconnect in ADVICES:
            self._reconnect = reconnect
        timeout = _seconds(advice.get("timeout"))
        if timeout is not None:
            self._timeout = min(timeout, MAX_TIMEOUT)
            self._asked_timeout = MAX_TIMEOUT if timeout > MAX_TIMEOUT else None
        interval = _seconds(advice.get("interval"))
        if interval is not None:
            self._interval = min(interval, MAX_INTERVAL)

    # --- HTTP ---

    async def _send(self, messages: list[Message], limit: float) -> list[Message]:
        """Post messages; deliver the events in the reply; return the meta replies."""
        replies, events = await self._guard(self._post(messages, limit))
        self._deliver(events)
        return replies

    def _deliver(self, events: list[Message]) -> None:
        if events:
            try:
                self._on_messages(events)
            except Exception:
                _LOGGER.exception("%s: a message could not be handled", self._name)

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
                length = response.content_length
                raw = None
                if length is None or length <= MAX_REPLY:
                    raw = await read_at_most(response.content, MAX_REPLY)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise _DropError(f"cannot reach the server: {type(err).__name__}") from err
        if status == HTTPStatus.UNAUTHORIZED:
            raise AuthenticationError(f"{self._name}: credentials refused (HTTP 401)")
        if status == HTTPStatus.FORBIDDEN:
            # A CSRF token or session the server no longer honours (after a
            # restart, say): a new handshake, at once, runs before_handshake,
            # which gets fresh ones.
            raise _DropError(
                "forbidden (HTTP 403)", rehandshake=True, interval=self._interval
            )
        if status >= HTTPStatus.MULTIPLE_CHOICES:
            raise _DropError(f"HTTP {status}")
        if raw is None:
            raise _DropError(f"a reply of more than {MAX_REPLY} bytes")
        return self._read_reply(raw)

    def _read_reply(self, raw: bytes) -> tuple[list[Message], list[Message]]:
        """Split a reply body into (meta replies, events); raise if it is none."""
        try:
            body = load_json(raw)
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
            channel = item.get("channel") if isinstance(item, dict) else None
            if is_text(channel):
                (replies if str(channel).startswith("/meta/") else events).append(item)
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
    error = reply.get("error")
    if is_text(error) and error:
        return str(error)[:MAX_ERROR_TEXT]
    return "no reason given"


def _error_code(reply: Message) -> str:
    """Return the code of a Bayeux error ("402::Unknown client" -> "402")."""
    return _error_text(reply).split(":", 1)[0].strip()


def _seconds(milliseconds: Any) -> float | None:
    """Read a finite, non-negative number of milliseconds as seconds."""
    value = finite_number(milliseconds)
    if value is None or value < 0:
        return None
    return value / 1000


def _ignore(_value: Any) -> None:
    """Stand in for the callbacks until run() gives real ones."""
