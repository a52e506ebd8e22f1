"""What every provider simulator shares: server, recording, faults, command line.

A simulator subclasses `Simulator` (or `DeliveringSimulator`, for providers that
post webhooks or notifications) and keeps only what is provider-specific: its
routes, authentication, state machine, payloads, error bodies and signing.

The base serves the app on loopback (`start`, `close`), records every provider
request in `requests`, runs injected faults and delays (`_faults`, `_slows`:
the provider's `fail_next` / `slow_next` say what its error body looks like),
turns errors raised by handlers into the provider's error body, runs what a
command causes after its response has gone out (`after_response`), answers the
test-only control routes under ``/_sim/`` (`Control`), and gives each simulator
its command line (`Simulator.main`): ``python -m tests.simulators.<provider>
[--host 127.0.0.1] [--port N]``, whose ``--help`` lists the routes and the
demo credentials.

Request flow through the middleware, for a provider route::

    record -> take a delay -> take a fault, or check auth -> handler
           -> wait out the delay -> send the response -> run after_response

A provider whose order differs (Genesys delays before anything) overrides
`Simulator._serve` and reuses the pieces.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import functools
import json
import signal
import ssl
import sys
from typing import Any, ClassVar, Final, Self
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.simulators.delivery import Outbox, Poster

SIM_PREFIX: Final = "/_sim/"
LOOPBACK: Final = "127.0.0.1"

_AFTER: Final = web.RequestKey[list[Callable[[], None]]]("simulator_after")


# ------------------------------------------------------------------- requests


@dataclass(frozen=True)
class SimRequest:
    """One API request received by the simulator."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


type RequestMatch = Callable[[SimRequest], bool]


def recorded_body(raw: bytes, content_type: str) -> Any:
    """A request body as tests read it: a form as a dict, JSON parsed, or text."""
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text


class BodyProblem(StrEnum):
    """What is wrong with a request body that should be a JSON object."""

    NOT_JSON = "The request body is not valid JSON."
    NOT_OBJECT = "The request body must be a JSON object."


class BadBodyError(ValueError):
    """A request body that is not a JSON object."""

    def __init__(self, problem: BodyProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in `raw` ({} when empty); `BadBodyError` otherwise."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadBodyError(BodyProblem.NOT_JSON) from None
    if not isinstance(body, dict):
        raise BadBodyError(BodyProblem.NOT_OBJECT)
    return body


# ------------------------------------------------------- faults and delays


def path_match(fragment: str | None, *, everything_under: str = "") -> RequestMatch:
    """Match paths containing `fragment`; without one, every path under a prefix."""
    if fragment is None:
        return lambda request: request.path.startswith(everything_under)
    return lambda request: fragment in request.path


@dataclass
class _Injection[T]:
    value: T
    remaining: int
    matches: RequestMatch


class Injected[T]:
    """Injected behaviours (faults, delays) for the next requests they match.

    The first one added that matches a request is used, `times` times.
    """

    def __init__(self) -> None:
        """Start with nothing injected."""
        self._injections: list[_Injection[T]] = []

    def add(self, value: T, *, times: int, matches: RequestMatch) -> None:
        """Use `value` for the next `times` requests that `matches` accepts."""
        self._injections.append(_Injection(value, times, matches))

    def take(self, request: SimRequest) -> T | None:
        """The value for `request`, counting one use; None when nothing matches."""
        for injection in self._injections:
            if injection.matches(request):
                injection.remaining -= 1
                if injection.remaining <= 0:
                    self._injections.remove(injection)
                return injection.value
        return None


type FaultReply = Callable[[SimRequest], web.StreamResponse]


def retry_after_headers(retry_after: float | str | None) -> dict[str, str]:
    """A Retry-After header: seconds as a number, or a string (an HTTP-date) as is."""
    if retry_after is None:
        return {}
    if isinstance(retry_after, str):
        return {"Retry-After": retry_after}
    return {"Retry-After": f"{retry_after:g}"}


def raw_reply(status: int, text: str, headers: Mapping[str, str]) -> web.Response:
    """A reply with `text` as its body verbatim (a broken or foreign body)."""
    return web.Response(
        status=status, text=text, content_type="application/json", headers=headers
    )


class ApiError(Exception, ABC):
    """Raised by a handler; the provider's subclass says how the error looks."""

    def __init__(self, status: int, message: str | None = None) -> None:
        """An error answered with HTTP ``status``, and what to say if anything."""
        super().__init__(message)
        self.status = status
        self.message = message

    @abstractmethod
    def response(self) -> web.Response:
        """Build the provider's error response."""


# ------------------------------------------------------------- after response


def after_response(request: web.Request, callback: Callable[[], None]) -> None:
    """Run `callback` once the response to `request` has been sent.

    What a command causes (webhooks, notifications, messages) follows its reply.
    """
    request[_AFTER].append(callback)


# ------------------------------------------------------------ control routes


type ControlAction = Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Control:
    """One test-only control route: ``POST /_sim/<name>`` with a JSON body.

    `run` gets the body and returns the JSON answer; a KeyError or ValueError
    it raises answers 400 ``{"error": ...}``. `usage` is shown by ``--help``.
    """

    name: str
    run: ControlAction
    usage: str

    @property
    def path(self) -> str:
        """The route's path."""
        return f"{SIM_PREFIX}{self.name}"

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one call of the route."""
        try:
            answer = await self.run(json_object(await request.read()))
        except (KeyError, ValueError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(dict(answer))


# ----------------------------------------------------------------- simulator


class Simulator[R: SimRequest](ABC):
    """An aiohttp fake of one provider, served on loopback for tests.

    Subclasses give `_api_routes`, `_controls`, `_started` (the URL a client
    uses), `_bad_body` (their error for a body that is not a JSON object),
    `_http_error` (their body for aiohttp's 404/405), and usually `_refuse`
    (authentication). For the command line: `title`, `default_port`,
    `authentication`, `demo`, `demo_credentials`, and optionally `demo_details`
    and `_add_demo_options`.
    """

    title: ClassVar[str]
    default_port: ClassVar[int]
    # How the provider routes authenticate, as --help says it.
    authentication: ClassVar[str]
    # How long closing waits for requests still being served.
    shutdown_timeout: ClassVar[float] = 60.0

    def __init__(self, request_type: type[R]) -> None:
        """Set up the shared state; `request_type` records each request."""
        self.requests: list[R] = []
        self._request_type = request_type
        self._faults: Injected[FaultReply] = Injected()
        self._slows: Injected[float] = Injected()
        self._runner: web.AppRunner | None = None
        self._root = ""
        self._closing = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # ------------------------------------------------------------ provider

    @abstractmethod
    def _api_routes(self) -> list[web.RouteDef]:
        """The provider's documented routes."""

    @abstractmethod
    def _controls(self) -> list[Control]:
        """The test-only control routes."""

    @abstractmethod
    def _started(self, root: str) -> str:
        """Note the server's root URL (``http://host:port``); return a client's URL."""

    @abstractmethod
    def _bad_body(self, problem: BodyProblem) -> Exception:
        """The provider's error for a request body that is not a JSON object."""

    @abstractmethod
    def _http_error(self, status: int) -> web.StreamResponse | None:
        """The provider's body for aiohttp's `status` (404, 405); None: aiohttp's."""

    def _refuse(self, _request: web.Request) -> web.StreamResponse | None:
        """Refuse a request its credentials do not allow; None lets it through."""
        return None

    def _stopping(self) -> None:  # noqa: B027 - an optional hook
        """Closing has started, before the server stops (e.g. end long-polls)."""

    async def _stopped(self) -> None:  # noqa: B027 - an optional hook
        """The server has stopped: cancel what is still going out."""

    # -------------------------------------------------------------- serving

    @functools.cached_property
    def app(self) -> web.Application:
        """The aiohttp application: the provider's routes and the control routes."""
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self._api_routes())
        app.add_routes(
            web.post(control.path, control.handle) for control in self._all_controls()
        )
        return app

    def _all_controls(self) -> list[Control]:
        """The provider's control routes, and the ones every simulator has."""
        return [
            *self._controls(),
            Control(
                "requests",
                self._control_requests,
                '{"since": 0}\n(since optional): the provider requests received'
                ' from that index on,\nwithout headers; answers {"requests":'
                ' [{"method", "path", "query", "body"}...], "count": N}',
            ),
        ]

    async def _control_requests(self, body: dict[str, Any]) -> Mapping[str, Any]:
        """What the simulator received, for a test in another process."""
        since = body.get("since", 0)
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError("since must be a whole number, 0 or more")
        return {
            "count": len(self.requests),
            "requests": [
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "body": request.body,
                }
                for request in self.requests[since:]
            ],
        }

    async def start(self, host: str = LOOPBACK, port: int = 0) -> str:
        """Serve on ``host:port`` (0 = any free port); return the client's URL."""
        self._closing = False
        self._runner = web.AppRunner(
            self.app, access_log=None, shutdown_timeout=self.shutdown_timeout
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._root = f"http://{host}:{self._runner.addresses[0][1]}"
        return self._started(self._root)

    async def close(self) -> None:
        """Stop serving; then cancel what is still going out.

        Nothing more is sent once closing starts, not even what a request still
        being served would cause.
        """
        self._closing = True
        self._stopping()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._stopped()

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        """The request's JSON object body ({} when empty), or the provider's error."""
        try:
            return json_object(await request.read())
        except BadBodyError as err:
            raise self._bad_body(err.problem) from None

    async def _requests_answered(self) -> None:
        """Wait until no provider request is being served."""
        await self._idle.wait()

    # ----------------------------------------------------------- middleware

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if request.path.startswith(SIM_PREFIX):
            return await self._translate(request, handler)
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._serve(request, handler, await self._record(request))
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _serve(
        self, request: web.Request, handler: Handler, recorded: R
    ) -> web.StreamResponse:
        """Delay, fault or refuse, else handle; the delay holds back the reply."""
        delay = self._slows.take(recorded)
        response = self._take_fault(recorded) or self._refuse(request)
        if response is None:
            response = await self._handle(request, handler)
        if delay:
            await asyncio.sleep(delay)
        await self._send_then_run_after(request, response)
        return response

    async def _record(self, request: web.Request) -> R:
        raw = await request.read()
        recorded = self._request_type(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=recorded_body(raw, request.content_type),
        )
        self.requests.append(recorded)
        return recorded

    def _take_fault(self, recorded: SimRequest) -> web.StreamResponse | None:
        reply = self._faults.take(recorded)
        return None if reply is None else reply(recorded)

    async def _handle(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Run the handler, collecting what it wants done after the response."""
        request[_AFTER] = []
        return await self._translate(request, handler)

    async def _translate(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Run the handler; answer the errors it raises in the provider's body."""
        try:
            return await handler(request)
        except ApiError as err:
            return err.response()
        except web.HTTPException as err:
            response = self._http_error(err.status)
            if response is None:
                raise
            return response

    @staticmethod
    async def _send_then_run_after(
        request: web.Request, response: web.StreamResponse
    ) -> None:
        after = request.get(_AFTER)
        if not after:
            return
        with contextlib.suppress(ConnectionError):
            await response.prepare(request)
            await response.write_eof()
        for callback in after:
            callback()

    # --------------------------------------------------------- command line

    @classmethod
    @abstractmethod
    def demo(cls, options: argparse.Namespace) -> Self:
        """The simulator the command line serves, set up with demo data."""

    @abstractmethod
    def demo_credentials(self) -> list[tuple[str, str]]:
        """The fake credentials a person enters to reach the demo: (label, value)."""

    def demo_details(self) -> list[tuple[str, str]]:
        """What else the command line prints once serving: (label, value)."""
        return []

    @classmethod  # noqa: B027 - an optional hook
    def _add_demo_options(cls, parser: argparse.ArgumentParser) -> None:
        """Add the provider's own command-line options."""

    def _use_options(self, options: argparse.Namespace) -> None:  # noqa: B027
        """Apply the command-line options a family of simulators shares."""

    @classmethod
    def main(cls, argv: Sequence[str] | None = None) -> None:
        """Serve the demo simulator until interrupted (Ctrl-C or SIGTERM)."""
        options = cls._parser().parse_args(argv)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(cls._serve_demo(options))
        sys.stdout.write(f"{cls.title} stopped\n")

    @classmethod
    def _parser(cls) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog=f"python -m {_module_name(cls)}",
            description=f"{cls.title}, for tests and for trying Switchboard.",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument(
            "--host",
            default=LOOPBACK,
            help="address to listen on (default: %(default)s, loopback only)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=cls.default_port,
            help="port to listen on (default: %(default)s)",
        )
        cls._add_demo_options(parser)
        parser.epilog = cls.demo(parser.parse_args([])).help_text()
        return parser

    def help_text(self) -> str:
        """The routes and demo credentials, as ``--help`` lists them."""
        api = [
            f"  {route.method:<7}{route.resource.canonical}"
            for route in self.app.router.routes()
            if route.method != "HEAD"
            and route.resource is not None
            and not route.resource.canonical.startswith(SIM_PREFIX)
        ]
        controls = [
            f"  POST   {control.path}\n{_indent(control.usage, 11)}"
            for control in self._all_controls()
        ]
        return "\n".join(
            [
                f"provider routes ({self.authentication}):",
                *api,
                "",
                "control routes (test-only, no authentication, JSON bodies):",
                *controls,
                "",
                "demo credentials (fake):",
                *_pairs(self.demo_credentials()),
            ]
        )

    @classmethod
    async def _serve_demo(cls, options: argparse.Namespace) -> None:
        simulator = cls.demo(options)
        simulator._use_options(options)
        url = await simulator.start(options.host, options.port)
        sys.stdout.write(simulator._banner(url))
        sys.stdout.flush()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        try:
            await stop.wait()
        finally:
            await simulator.close()

    def _banner(self, url: str) -> str:
        names = "|".join(control.name for control in self._all_controls())
        lines = [
            f"{self.title} listening on {url}",
            *_pairs(
                [
                    *self.demo_credentials(),
                    *self.demo_details(),
                    ("control", f"POST {self._root}{SIM_PREFIX}{names}"),
                ]
            ),
        ]
        return "\n".join(lines) + "\n"


def add_webhook_url_option(parser: argparse.ArgumentParser, meaning: str) -> None:
    """Add ``--webhook-url URL``: where the demo posts; ``meaning`` tells what it is."""
    parser.add_argument(
        "--webhook-url", default=None, metavar="URL", help=f"{meaning} (default: none)"
    )


def _pairs(pairs: Iterable[tuple[str, str]]) -> list[str]:
    listed = list(pairs)
    width = max((len(label) for label, _ in listed), default=0) + 2
    return [f"  {f'{label}:':<{width}}{value}" for label, value in listed]


def _indent(text: str, columns: int) -> str:
    return "\n".join(" " * columns + line for line in text.splitlines())


def _module_name(cls: type) -> str:
    """The module to run with ``python -m`` (also when it runs as __main__)."""
    spec = getattr(sys.modules.get(cls.__module__), "__spec__", None)
    return spec.name if spec is not None else cls.__module__


# --------------------------------------------------------- delivering sims


class DeliveringSimulator[E](Simulator[SimRequest]):
    """A simulator that posts events (webhooks, notifications) to receivers.

    Subclasses name each event's chain (`_chain_of`: its call, so one call's
    events go out in order) and deliver a list of events (`_deliver_events`),
    posting through `_poster`. Events go through `_queue`, which holds them
    while `_outbox` holds and drops them once closing has started.
    """

    def __init__(self, *, delivery_timeout: float) -> None:
        """Set up the outbox and a poster giving each POST `delivery_timeout` s."""
        super().__init__(SimRequest)
        self._outbox: Outbox[E] = Outbox(self._chain_of, self._deliver_events)
        self._poster = Poster(delivery_timeout)

    @abstractmethod
    def _chain_of(self, event: E) -> str:
        """The chain (call) whose deliveries `event` must follow."""

    @abstractmethod
    async def _deliver_events(self, events: list[E]) -> None:
        """Deliver `events` in order."""

    def _queue(self, event: E) -> None:
        if not self._closing:
            self._outbox.put(event)

    async def _delivered(self, *, requests_too: bool) -> None:
        """Wait until every delivery (and, `requests_too`, every request) is done."""
        while True:
            if requests_too:
                await self._requests_answered()
            pending = self._outbox.pending()
            if not pending:
                return
            await asyncio.wait(pending)

    async def _stopped(self) -> None:
        await self._outbox.cancel()
        await self._poster.close()

    def trust(self, cafile: str) -> None:
        """Verify https receivers against `cafile` (PEM) only, not the system's CAs."""
        self._poster.ssl_context = ssl.create_default_context(cafile=cafile)

    @classmethod
    def _parser(cls) -> argparse.ArgumentParser:
        parser = super()._parser()
        parser.add_argument(
            "--trust-ca",
            metavar="PEM",
            default=None,
            help="verify https receivers against this CA certificate only"
            " (a Home Assistant serving a self-signed certificate)",
        )
        return parser

    def _use_options(self, options: argparse.Namespace) -> None:
        if options.trust_ca:
            self.trust(options.trust_ca)
