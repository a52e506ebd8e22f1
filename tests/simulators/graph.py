"""Local simulator of Microsoft Graph calling bots: token, calls, notifications.

It follows ``/work/shared/reference/graph.md``: the client-credentials token
endpoint of Microsoft Entra ID (``/{tenant}/oauth2/v2.0/token``), Graph's call
routes under ``/v1.0/communications/calls``, Graph's ``{"error": {...}}`` bodies,
the OpenID configuration and signing keys of notification tokens (its own RSA
key pair under its own kid; the 2048-bit key is generated once per process and
shared, for speed), and ``commsNotifications`` posted to the bot with
an RS256 Bearer JWT (``aud`` = client id, ``iss``, ``tid``, ``iat``/``nbf``/``exp``).

One root URL serves everything, so a client takes ``graph_url = login_url =
sim.url`` and ``openid_configuration_url = sim.openid_configuration_url``. The
token endpoint accepts only the ``scopes`` of Microsoft's Graphs (``scope``,
``https://graph.microsoft.com/.default``, and the national clouds'), as Entra ID
does behind any proxy; the key set names each key by ``kid`` and by a distinct
``x5t``.

Used from tests::

    sim = GraphSimulator(answer_window=3.0)
    await sim.start()
    sim.bot_webhook_url = "https://bot.example/api/webhook/abc"
    sim.deliver_via = {"https://bot.example": "http://127.0.0.1:8123"}
    call_id = await sim.ring(caller_name="Ada Lovelace")
    await sim.wait_for_notifications()
    ...
    await sim.close()

**https and ``deliver_via``.** Graph only calls https URLs: ``bot_webhook_url``
(the bot registration's calling webhook) and every ``callbackUri`` must be https,
as in Graph (a non-https ``callbackUri`` gets 400). The simulator has no TLS, so
``deliver_via`` maps an https origin (``"https://bot.example"``) to the http
loopback origin that really receives (``"http://127.0.0.1:8123"``), playing the
TLS-terminating front (Nabu Casa, a reverse proxy) in between. A URL whose
origin is not mapped is not delivered: its delivery is recorded with status None.

Scenarios: ``ring(...)`` -> call id, a ``created``/``incoming`` notification to
``bot_webhook_url``; answer (``POST .../answer``, 202) -> ``establishing`` then
``established`` to the answer's ``callbackUri``; neither answer nor reject
within ``answer_window`` seconds -> ``deleted`` with resultInfo 408/1106; reject
(202) -> ``deleted`` with only ``@odata.type``/``@odata.id``; ``DELETE`` (204)
-> ``terminating`` then ``deleted``/``terminated`` 200/5001;
``remote_hangup(call_id)`` -> ``deleted`` 200/4097; ``remote_hold`` /
``remote_resume``; ``press(call_id, digits)`` / ``press_tone`` (after
``subscribeToTone``: ``updated`` notifications with ``toneInfo``, ``sequenceId``
counting up); ``playPrompt`` and ``sendDtmfTones`` -> 200 + running operation +
``Location``, then a ``deleted`` operation notification (completed);
``transfer`` (202) -> ``transferring``, ``transferAccepted``, then ``deleted``
with resultInfo 0/7015 (or, with ``fail_transfers``, back to ``established``
with 500/7000); ``POST /communications/calls`` (201 + the call, establishing) ->
``establishing``, then ``established`` once the far end picks up, after
``pickup_delay`` seconds on the simulator's clock (None: never; ``pickup``
answers at once); calling a phone number (placing or transferring) needs
``application_instance_id`` as the call's source (None: the bot has no number;
the 400 is UNCONFIRMED); ``keepAlive``; ``GET`` a call (404 once it ended);
``notify(items, url=None)`` posts any commsNotification items, signed, to
``url`` or the bot (operations, rosters, odd payloads).

Clock: ``now()`` is the simulator's clock (wall clock plus what ``advance``
added). It times the answer window and access-token expiry; ``await
advance(seconds)`` moves it and runs the timers that fall due. Notification
token times stay on the wall clock (plus ``token_skew``), as the receiver checks
them against its own.

Faults: ``fail_next(status, path_contains=None, retry_after=None, code=None,
count=1, *, body=None)`` answers matching requests with Graph's error body (the
Entra ID one on the token endpoint), or with ``body`` as raw text (a broken
reply, any status); ``retry_after`` (seconds, or a string sent as is) becomes
the Retry-After header; without ``path_contains`` only Graph routes
(``/v1.0/...``) match. ``slow_next(seconds, path_contains=None, count=1)``.
``duplicate_notifications`` posts each notification twice;
``batch_notifications`` sends an answer's two notifications in one envelope;
``hold_notifications()`` / ``await release_notifications(reverse=True)``
(``established`` before ``establishing``); ``legacy_first`` sends an incoming
call first in a legacy (non-Graph) body and resends it in Graph format when the
bot answers 204; a bot answering 302 + ``Location`` (region affinity) gets
the notification there instead (once); ``forge_next(count=1, **token)`` signs
the next deliveries with ``notification_token(**token)``;
``notification_token(claims=None, kid=None, x5t=None, key=None,
algorithm="RS256", headers=None)`` builds a token (a claim set to None is
removed) so tests can forge wrong ``aud``/``iss``, expired, unknown ``kid``, a
foreign key (``foreign_key()``), a key named by ``x5t`` alone, odd header
fields, ...; ``rotate_keys()`` replaces the signing key;
``revoke_tokens()`` makes Graph refuse every issued access token;
``permissions`` (application permissions; app-hosted media needs
``Calls.AccessMedia.All``); ``wrong_state_status`` (UNCONFIRMED: 409) for
answering or rejecting a call that is not incoming, and for transferring,
prompting or sending tones on one that is not established.

Logs: ``requests`` (every request but ``/_sim/``), ``deliveries`` (every
notification POST, with the status the bot answered), ``calls``.
``await wait_for_notifications()`` returns when every delivery is done.

Standalone, from the repository root (``--help`` lists the routes)::

    python -m tests.simulators.graph [--host 127.0.0.1] [--port 8091]
        [--webhook-url https://ha.example/api/webhook/x]
        [--deliver-via https://ha.example=http://127.0.0.1:8123]

Control routes (test-only, no authentication):

``POST /_sim/ring``
    Body ``{"caller_name": "Ada Lovelace", "caller_id": "...", "phone": "+1..."}``
    (all optional). Answers ``{"call_id": "..."}``.
``POST /_sim/hangup``
    Body ``{"call_id": "..."}``. The caller hangs up. Answers ``{"result": "ok"}``.
``POST /_sim/webhook``
    Body ``{"url": "https://..."}``. Sets the bot's calling webhook (as pasted
    into the bot registration). Answers ``{"result": "ok"}``.
``POST /_sim/pickup``
    Body ``{"call_id": "..."}``. The far end of a call the bot placed answers
    now. Answers ``{"result": "ok"}``.
``POST /_sim/press``
    Body ``{"call_id": "...", "digits": "1"}``. The caller presses keys: one
    tone notification each. Answers ``{"result": "ok"}``, or 409 with a plain
    message when the bot has not subscribed to the call's tones (Graph reports
    none then).
"""

import argparse
import asyncio
import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import functools
import itertools
import json
import secrets
import time
from typing import Any, Final, Self
import uuid

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
import jwt
from yarl import URL

from tests.simulators.base import (
    ApiError,
    BodyProblem,
    Control,
    DeliveringSimulator,
    RequestMatch,
    SimRequest,
    add_webhook_url_option,
    after_response,
    path_match,
    raw_reply,
    retry_after_headers,
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_ISSUER",
    "GRAPH_SCOPE",
    "GRAPH_SCOPES",
    "JWKS_PATH",
    "OPENID_PATH",
    "TENANT_ID",
    "GraphSimulator",
    "SimCall",
    "SimDelivery",
    "SimRequest",
    "main",
]

TENANT_ID: Final = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID: Final = "2891555a-92ff-42e6-80fa-6e1300c6b5c6"
CLIENT_SECRET: Final = "sim~secret.0123456789abcdefghij"  # a fake
DEFAULT_ISSUER: Final = "https://graph.microsoft.com"
GRAPH_SCOPE: Final = "https://graph.microsoft.com/.default"
GRAPH_SCOPES: Final = (
    GRAPH_SCOPE,
    "https://graph.microsoft.us/.default",
    "https://dod-graph.microsoft.us/.default",
)
OPENID_PATH: Final = "/v1/.well-known/OpenIdConfiguration"
JWKS_PATH: Final = "/v1/keys"

_GRAPH_PREFIX: Final = "/v1.0/"
_TOKEN_SUFFIX: Final = "/oauth2/v2.0/token"
_MODALITIES: Final = frozenset(
    {"unknown", "audio", "video", "screenSharing", "videoBasedScreenSharing", "data"}
)
_REJECT_REASONS: Final = frozenset({"none", "busy", "forbidden"})
_SERVICE_HOSTED: Final = "microsoft.graph.serviceHostedMediaConfig"
_APP_HOSTED: Final = "microsoft.graph.appHostedMediaConfig"
_ACCESS_MEDIA: Final = "Calls.AccessMedia.All"
_TONES: Final = frozenset(
    {*(f"tone{digit}" for digit in range(10)), "star", "pound", "a", "b", "c", "d"}
)
# A key pressed -> its toneInfo.tone.
_KEY_TONES: Final = {
    **{str(digit): f"tone{digit}" for digit in range(10)},
    "*": "star",
    "#": "pound",
    **{key: key.lower() for key in "ABCD"},
}
_TRANSFER_COMPLETED: Final = {
    "code": 0,
    "subcode": 7015,
    "message": "GracefulTransferCompleted",
}

# Graph error codes per status (concepts/errors.md); 401's is what Graph sends
# for a bad token.
_CODES: Final = {
    400: "invalidRequest",
    401: "InvalidAuthenticationToken",
    403: "accessDenied",
    404: "itemNotFound",
    405: "notSupported",
    409: "notAllowed",
    429: "TooManyRequests",
    500: "generalException",
    503: "serviceNotAvailable",
}
_MESSAGES: Final = {
    "invalidRequest": "The request is malformed or incorrect.",
    "InvalidAuthenticationToken": "Access token has expired or is not yet valid.",
    "accessDenied": "The caller doesn't have permission to perform the action.",
    "itemNotFound": "The resource could not be found.",
    "notSupported": "The request isn't supported by the system.",
    "notAllowed": "The action is not allowed by the system.",
    "TooManyRequests": "Please retry again later.",
    "generalException": "An unspecified error has occurred.",
    "serviceNotAvailable": "The service is temporarily unavailable.",
}
# Entra ID token errors: (error, AADSTS code, description).
_AAD_ERRORS: Final = {
    "grant": (
        "unsupported_grant_type",
        70003,
        "The app requested an unsupported grant type.",
    ),
    "tenant": ("invalid_request", 90002, "Tenant not found."),
    "client": (
        "unauthorized_client",
        700016,
        "Application with identifier was not found in the directory.",
    ),
    "secret": ("invalid_client", 7000215, "Invalid client secret provided."),
    "scope": ("invalid_scope", 1002012, "The provided value for scope is not valid."),
    "unavailable": (
        "temporarily_unavailable",
        90006,
        "The server is temporarily unavailable.",
    ),
}


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def _start_key() -> rsa.RSAPrivateKey:
    # Generating a 2048-bit key takes ~50 ms: simulators of one test run share
    # the first one (each under its own kid). rotate_keys() makes new ones.
    return _new_key()


def _thumbprint() -> str:
    """Return a made-up certificate thumbprint, as JWKS x5t spells one."""
    return base64.urlsafe_b64encode(secrets.token_bytes(20)).rstrip(b"=").decode()


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class SimCall:
    """One call to the bot as the simulator tracks it."""

    call_id: str
    source: dict[str, Any]
    targets: list[dict[str, Any]]
    created_at: float
    callback_uri: str
    state: str = "incoming"
    direction: str = "incoming"
    etag: int = 1
    accepted_modalities: list[str] = field(default_factory=list)
    media_config: dict[str, Any] | None = None
    reject_reason: str | None = None
    result_info: dict[str, Any] | None = None
    tones_subscribed: bool = False
    tone_sequence: int = 0
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What the bot sent: each sendDtmfTones' tones, a transfer's target.
    sent_tones: list[list[str]] = field(default_factory=list)
    transfer_target: dict[str, Any] | None = None

    @property
    def resource_url(self) -> str:
        """Return the call's resourceUrl."""
        return f"/communications/calls/{self.call_id}"

    @property
    def ended(self) -> bool:
        """Tell whether the call is over."""
        return self.state == "terminated"


@dataclass(frozen=True)
class SimDelivery:
    """One notification POST; ``status`` is None when nothing answered."""

    url: str
    status: int | None
    body: dict[str, Any]
    legacy: bool = False
    error: str | None = None

    @property
    def changes(self) -> list[tuple[str, str | None]]:
        """Return (changeType, state) of each notification in the envelope."""
        return [
            (item.get("changeType", ""), (item.get("resourceData") or {}).get("state"))
            for item in self.body.get("value", [])
        ]


@dataclass(frozen=True)
class _Notification:
    chain: str
    url: str
    items: tuple[dict[str, Any], ...]
    legacy: bool = False


class _NotReportedError(Exception):
    """A control that Graph would not report anything for: answered 409."""


class _ConflictControl(Control):
    """A control route answering 409 with a plain message for _NotReportedError."""

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one call of the route."""
        try:
            return await super().handle(request)
        except _NotReportedError as err:
            return web.Response(status=409, text=str(err))


class _GraphError(ApiError):
    """Raised by handlers; turned into Graph's error body."""

    def response(self) -> web.Response:
        """Build Graph's error body."""
        return _graph_error(self.status, message=self.message)


def _graph_error(
    status: int,
    code: str | None = None,
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    code = code or _CODES.get(status, "generalException")
    request_id = str(uuid.uuid4())
    inner: dict[str, Any] = {"date": _iso_now(), "request-id": request_id}
    if status == 429:
        # The throttling page's sample body, verbatim in shape.
        inner = {
            "code": "429",
            "date": _iso_now(),
            "message": "Please retry after",
            "request-id": request_id,
            "status": "429",
        }
    error = {
        "code": code,
        "message": message or _MESSAGES.get(code, "Simulated error."),
        "innerError": {**inner, "client-request-id": request_id},
    }
    return web.json_response({"error": error}, status=status, headers=headers)


def _aad_error(
    status: int, kind: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    error, number, text = _AAD_ERRORS[kind]
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    description = (
        f"AADSTS{number}: {text}\r\nTrace ID: {trace_id}\r\n"
        f"Correlation ID: {correlation_id}\r\nTimestamp: {_iso_now()}Z"
    )
    return web.json_response(
        {
            "error": error,
            "error_description": description,
            "error_codes": [number],
            "timestamp": f"{_iso_now()}Z",
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={number}",
        },
        status=status,
        headers=headers,
    )


def _graph_routes(path_contains: str | None) -> RequestMatch:
    """Match paths containing ``path_contains``; without it, Graph's routes only."""
    return path_match(path_contains, everything_under=_GRAPH_PREFIX)


def _is_https(value: Any) -> bool:
    return (
        isinstance(value, str)
        and URL(value).scheme == "https"
        and bool(URL(value).host)
    )


def _party_kind(info: Any) -> str | None:
    """Return "user" or "phone" for an invitationParticipantInfo naming one."""
    identity = info.get("identity") if isinstance(info, dict) else None
    for kind in ("user", "phone"):
        named = identity.get(kind) if isinstance(identity, dict) else None
        if isinstance(named, dict) and isinstance(named.get("id"), str) and named["id"]:
            return kind
    return None


def _identity(kind: str, **values: Any) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.identitySet",
        kind: {
            "@odata.type": "#microsoft.graph.identity",
            **{k: v for k, v in values.items() if v is not None},
        },
    }


class GraphSimulator(DeliveringSimulator[_Notification]):
    """Fake Microsoft Graph calling API, Entra ID token endpoint and notifier."""

    title = "Microsoft Graph calling simulator"
    default_port = 8091
    authentication = "/v1.0: Authorization: Bearer <token from the token route>"

    def __init__(
        self,
        *,
        tenant_id: str = TENANT_ID,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        answer_window: float = 15.0,
        token_ttl: int = 3599,
        notification_token_ttl: float = 3600.0,
        issuer: str = DEFAULT_ISSUER,
        scopes: Iterable[str] = GRAPH_SCOPES,
        bot_name: str = "Switchboard bot",
        delivery_timeout: float = 5.0,
    ) -> None:
        """Create the simulator and its signing key; call :meth:`start` to serve."""
        super().__init__(delivery_timeout=delivery_timeout)
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.answer_window = answer_window
        self.token_ttl = token_ttl
        self.notification_token_ttl = notification_token_ttl
        self.issuer = issuer
        # The global Graph's own scope, and every scope the token endpoint
        # accepts: the Graphs it stands in for.
        self.scope = GRAPH_SCOPE
        self.scopes = set(scopes)
        self.bot_name = bot_name
        self.permissions: set[str] = set()
        self.url = ""
        self.bot_webhook_url: str | None = None
        self.deliver_via: dict[str, str] = {}
        self.calls: dict[str, SimCall] = {}
        self.deliveries: list[SimDelivery] = []
        self.duplicate_notifications = False
        self.batch_notifications = False
        self.legacy_first = False
        self.token_skew = 0.0
        # UNCONFIRMED: the status for answering/rejecting a call not incoming
        # (and transferring or prompting one not established).
        self.wrong_state_status = 409
        # Seconds until the far end of a call the bot placed answers; None:
        # never (``pickup`` answers it).
        self.pickup_delay: float | None = 0.1
        # The bot's application instance with a phone number (None: it has
        # none): the source of calls to phone numbers.
        self.application_instance_id: str | None = str(uuid.uuid4())
        # Transfers fail back to established (500/7000).
        self.fail_transfers = False
        self.kid = secrets.token_hex(8)
        # Microsoft's keys also carry their certificate's thumbprint.
        self.x5t = _thumbprint()
        self._key = _start_key()
        self._tokens: dict[str, float] = {}
        self._offset = 0.0
        self._clock_moved = asyncio.Event()
        self._timers: dict[str, tuple[float, asyncio.Task[None]]] = {}
        self._forged: list[dict[str, Any]] = []
        self._operation_ids = itertools.count(1)

    # ------------------------------------------------------------------ setup

    def _api_routes(self) -> list[web.RouteDef]:
        calls = "/v1.0/communications/calls/{call_id}"
        return [
            web.post("/{tenant}/oauth2/v2.0/token", self._token),
            web.get(OPENID_PATH, self._openid_configuration),
            web.get("/.well-known/OpenIdConfiguration", self._openid_configuration),
            web.get(JWKS_PATH, self._jwks),
            web.post("/v1.0/communications/calls", self._create_call),
            web.get(calls, self._get_call),
            web.delete(calls, self._delete_call),
            web.post(calls + "/{action}", self._post_action),
        ]

    def _controls(self) -> list[Control]:
        return [
            Control(
                "ring",
                self._control_ring,
                '{"caller_name": "Ada Lovelace", "caller_id": "...", "phone":'
                ' "+1..."}\n(all optional): calls the bot; answers {"call_id": "..."}',
            ),
            Control(
                "hangup",
                self._control_hangup,
                '{"call_id": "..."}: the caller hangs up',
            ),
            Control(
                "webhook",
                self._control_webhook,
                '{"url": "https://..."}: the bot registration\'s calling webhook'
                "\n(what --webhook-url sets at start)",
            ),
            Control(
                "pickup",
                self._control_pickup,
                '{"call_id": "..."}: the far end of a call the bot placed answers',
            ),
            _ConflictControl(
                "press",
                self._control_press,
                '{"call_id": "...", "digits": "1"}: the caller presses keys (409'
                "\nwhen the bot has not subscribed to the call's tones)",
            ),
        ]

    def _started(self, root: str) -> str:
        self.url = root
        return self.url

    def _bad_body(self, problem: BodyProblem) -> Exception:
        if problem is BodyProblem.NOT_JSON:
            return _GraphError(400, "Invalid JSON in the request body.")
        return _GraphError(400, problem)

    def _http_error(self, status: int) -> web.StreamResponse | None:
        return _graph_error(status)

    async def _stopped(self) -> None:
        """Cancel the timers too; the clock stops with the server."""
        timers = [task for _, task in self._timers.values()]
        for task in timers:
            task.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._timers.clear()
        await super()._stopped()

    @property
    def graph_url(self) -> str:
        """Return the Graph root a client uses (the routes live under /v1.0)."""
        return self.url

    @property
    def login_url(self) -> str:
        """Return the Entra ID root a client uses."""
        return self.url

    @property
    def openid_configuration_url(self) -> str:
        """Return where the notification keys' OpenID configuration is."""
        return f"{self.url}{OPENID_PATH}"

    # ------------------------------------------------------------------ clock

    def now(self) -> float:
        """Return the simulator's clock: the wall clock plus what advance added."""
        return time.time() + self._offset

    async def advance(self, seconds: float) -> None:
        """Move the clock on and let the timers that fall due run."""
        self._offset += seconds
        moved, self._clock_moved = self._clock_moved, asyncio.Event()
        moved.set()
        due = [
            task
            for deadline, task in self._timers.values()
            if deadline <= self.now() and not task.done()
        ]
        if due:
            await asyncio.wait(due)

    async def _sleep_until(self, deadline: float) -> None:
        while (remaining := deadline - self.now()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._clock_moved.wait(), remaining)

    # -------------------------------------------------------------- scenarios

    async def ring(
        self,
        caller_name: str | None = "Ada Lovelace",
        caller_id: str | None = None,
        phone: str | None = None,
    ) -> str:
        """Call the bot: a Teams user (or a phone number); return the call id.

        A ``created``/``incoming`` notification goes to ``bot_webhook_url`` and
        the answer window starts.
        """
        if not _is_https(self.bot_webhook_url):
            raise ValueError("bot_webhook_url must be an https URL")
        if phone is not None:
            # How a PSTN caller appears is UNCONFIRMED: phone.id (E.164) assumed.
            identity = _identity("phone", id=phone, displayName=caller_name)
        else:
            identity = _identity(
                "user",
                id=caller_id or str(uuid.uuid4()),
                displayName=caller_name,
                tenantId=self.tenant_id,
            )
        call = SimCall(
            call_id=str(uuid.uuid4()),
            source={
                "@odata.type": "#microsoft.graph.participantInfo",
                "identity": identity,
                "region": "westus",
                "languageId": "en-US",
            },
            targets=[
                {
                    "@odata.type": "#microsoft.graph.invitationParticipantInfo",
                    "identity": _identity(
                        "application", id=self.client_id, displayName=self.bot_name
                    ),
                }
            ],
            created_at=self.now(),
            callback_uri=str(self.bot_webhook_url),
        )
        self.calls[call.call_id] = call
        item = self._item(call, "created", self._resource(call))
        self._send(call, [item], legacy=self.legacy_first)
        deadline = call.created_at + self.answer_window
        timer = asyncio.create_task(self._expire(call, deadline))
        self._timers[call.call_id] = (deadline, timer)
        return call.call_id

    async def remote_hangup(
        self,
        call_id: str,
        *,
        code: int = 200,
        subcode: int = 4097,
        message: str = "Call ended by the other participant in the call.",
    ) -> None:
        """Let the caller hang up: a ``deleted`` notification with resultInfo."""
        call = self._live(call_id)
        self._end(call, {"code": code, "subcode": subcode, "message": message})
        self._send(call, [self._terminated(call)])

    async def remote_hold(self, call_id: str) -> None:
        """Put the established call on hold: an ``updated``/``hold`` notification."""
        self._set_state(self._live(call_id), "hold")

    async def remote_resume(self, call_id: str) -> None:
        """Take the call off hold: ``updated``/``established``."""
        self._set_state(self._live(call_id), "established")

    async def press_tone(self, call_id: str, tone: str) -> None:
        """Press a key on a call subscribed to tones: ``updated`` with toneInfo."""
        call = self._live(call_id)
        if not call.tones_subscribed or tone not in _TONES:
            raise ValueError("not subscribed to tones, or not a tone")
        call.tone_sequence += 1
        call.etag += 1
        data = {
            "@odata.type": "#microsoft.graph.call",
            "@odata.etag": f'W/"{call.etag}"',
            "state": call.state,
            "toneInfo": {
                "@odata.type": "#microsoft.graph.toneInfo",
                "sequenceId": call.tone_sequence,
                "tone": tone,
            },
        }
        self._send(call, [self._item(call, "updated", data)])

    async def press(self, call_id: str, digits: str) -> None:
        """Press keys on a call: one tone notification each, in order.

        Raises _NotReportedError when the bot has not subscribed to the call's
        tones (Graph reports no keys then), ValueError for an unknown key.
        """
        call = self._live(call_id)
        if not call.tones_subscribed:
            raise _NotReportedError(
                "Graph reports no keys on this call: the bot has not subscribed"
                " to its tones (subscribeToTone)"
            )
        tones = [_KEY_TONES.get(key.upper()) for key in digits]
        if not tones or None in tones:
            raise ValueError("digits must be 0-9, *, # or A-D")
        for tone in tones:
            await self.press_tone(call_id, str(tone))

    async def pickup(self, call_id: str) -> None:
        """Let the far end of a call the bot placed answer: ``established``."""
        call = self._live(call_id)
        if call.direction != "outgoing" or call.state != "establishing":
            raise ValueError(f"call {call_id} is not a call the bot is placing")
        self._cancel_timer(call)
        self._answered_out(call)

    def _answered_out(self, call: SimCall) -> None:
        call.state = "established"
        call.etag += 1
        # As in create-call's "Notification - established".
        data = {
            "@odata.type": "#microsoft.graph.call",
            "@odata.etag": f'W/"{call.etag}"',
            "state": "established",
            "direction": "outgoing",
            "id": call.call_id,
        }
        self._send(call, [self._item(call, "updated", data)])

    async def _ring_out(self, call: SimCall, deadline: float) -> None:
        await self._sleep_until(deadline)
        if call.state == "establishing":
            self._timers.pop(call.call_id, None)
            self._answered_out(call)

    async def notify(
        self, items: Sequence[dict[str, Any]], *, url: str | None = None
    ) -> None:
        """Post any commsNotification items (signed) to ``url`` or the bot."""
        target = url or self.bot_webhook_url
        if not _is_https(target):
            raise ValueError("notifications go to https URLs only")
        self._queue(_Notification("notify", str(target), tuple(items)))

    def _live(self, call_id: str) -> SimCall:
        call = self.calls.get(call_id)
        if call is None or call.ended:
            raise ValueError(f"no live call {call_id}")
        return call

    async def _expire(self, call: SimCall, deadline: float) -> None:
        await self._sleep_until(deadline)
        if call.state == "incoming":
            self._end(
                call,
                {
                    "code": 408,
                    "subcode": 1106,
                    "message": (
                        "An acknowledgement was not received for the call "
                        "acceptance in the allotted time."
                    ),
                },
            )
            self._send(call, [self._terminated(call)])

    def _end(self, call: SimCall, result: dict[str, Any] | None) -> None:
        call.state = "terminated"
        call.etag += 1
        if result is not None:
            call.result_info = {"@odata.type": "#microsoft.graph.resultInfo", **result}
        timer = self._timers.pop(call.call_id, None)
        if timer is not None and timer[1] is not asyncio.current_task():
            timer[1].cancel()

    def _set_state(self, call: SimCall, state: str) -> None:
        call.state = state
        call.etag += 1
        self._send(call, [self._state_item(call)])

    # ---------------------------------------------------------- notifications

    def _resource(self, call: SimCall) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.call",
            "@odata.id": call.resource_url,
            "@odata.etag": f'W/"{call.etag}"',
            "state": call.state,
            "direction": call.direction,
            "callbackUri": call.callback_uri,
            "source": call.source,
            "targets": call.targets,
            "requestedModalities": ["audio"],
            "tenantId": self.tenant_id,
            "myParticipantId": call.call_id[::-1],
            "id": call.call_id,
        }

    @staticmethod
    def _item(call: SimCall, change: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.commsNotification",
            "changeType": change,
            "resourceUrl": call.resource_url,
            "resourceData": data,
        }

    def _state_item(self, call: SimCall) -> dict[str, Any]:
        data = {
            "@odata.type": "#microsoft.graph.call",
            "@odata.id": call.resource_url,
            "@odata.etag": f'W/"{call.etag}"',
            "state": call.state,
        }
        return self._item(call, "updated", data)

    def _terminated(self, call: SimCall) -> dict[str, Any]:
        data: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.call",
            "@odata.etag": f'W/"{call.etag}"',
            "state": "terminated",
        }
        if call.result_info is not None:
            data["resultInfo"] = call.result_info
        return self._item(call, "deleted", data)

    def _send(
        self, call: SimCall, items: list[dict[str, Any]], *, legacy: bool = False
    ) -> None:
        self._queue(
            _Notification(call.call_id, call.callback_uri, tuple(items), legacy)
        )

    def hold_notifications(self) -> None:
        """Queue notifications instead of posting them."""
        self._outbox.hold()

    async def release_notifications(self, *, reverse: bool = False) -> None:
        """Post the held notifications (newest first if ``reverse``); stop holding."""
        await self._outbox.release(reverse=reverse)

    async def wait_for_notifications(self) -> None:
        """Wait until every scheduled notification has been posted."""
        await self._delivered(requests_too=False)

    def _chain_of(self, event: _Notification) -> str:
        return event.chain

    async def _deliver_events(self, notifications: list[_Notification]) -> None:
        for notification in notifications:
            for _ in range(2 if self.duplicate_notifications else 1):
                await self._deliver(notification)

    async def _deliver(self, notification: _Notification) -> None:
        envelope = {
            "@odata.type": "#microsoft.graph.commsNotifications",
            "value": list(notification.items),
        }
        if notification.legacy:
            status = await self._post(notification.url, self._legacy(envelope), True)
            if status != 204:
                return  # the bot kept the legacy protocol: nothing more comes
        await self._post(notification.url, envelope, False)

    @staticmethod
    def _legacy(envelope: dict[str, Any]) -> dict[str, Any]:
        # The legacy (Skype) format is undocumented (UNCONFIRMED): a body shaped
        # like the old real-time media "conversation" callbacks.
        data = envelope["value"][0]["resourceData"]
        return {
            "id": data.get("id"),
            "appId": data.get("targets", [{}])[0]
            .get("identity", {})
            .get("application", {})
            .get("id"),
            "callState": data.get("state"),
            "presentedModalityTypes": ["audio"],
            "isMultiparty": False,
        }

    def _route(self, url: str) -> str | None:
        target = URL(url)
        if target.scheme != "https":
            return None
        origin = str(target.origin()).rstrip("/")
        front = self.deliver_via.get(origin) or self.deliver_via.get(origin + "/")
        if front is None:
            return None
        return front.rstrip("/") + str(target.relative())

    async def _post(
        self, url: str, body: dict[str, Any], legacy: bool, *, redirects: int = 1
    ) -> int | None:
        """POST one signed notification; record it; return the bot's status."""
        route = self._route(url)
        if route is None:
            self.deliveries.append(
                SimDelivery(
                    url, None, body, legacy, "not an https URL deliver_via maps"
                )
            )
            return None
        token = self._next_token()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        posted = await self._poster.post(route, json.dumps(body).encode(), headers)
        self.deliveries.append(
            SimDelivery(url, posted.status, body, legacy, posted.error)
        )
        if posted.status == 302 and posted.location and redirects > 0:
            # "the application may reply with 302 Found + Location" (region
            # affinity): the notification goes there instead.
            return await self._post(
                str(URL(url).join(URL(posted.location))),
                body,
                legacy,
                redirects=redirects - 1,
            )
        return posted.status

    # ----------------------------------------------------- notification tokens

    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        """Return the key genuine notification tokens are signed with now."""
        return self._key

    def foreign_key(self) -> rsa.RSAPrivateKey:
        """Return a new RSA key that is not in the published key set."""
        return _new_key()

    def rotate_keys(self) -> None:
        """Sign with a new key under a new kid; the old key leaves the key set."""
        self._key = _new_key()
        self.kid = secrets.token_hex(8)
        self.x5t = _thumbprint()

    def jwks(self) -> dict[str, Any]:
        """Return the published key set."""
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "x5t": self.x5t,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                    "endorsements": ["msteams"],
                }
            ]
        }

    def notification_claims(self) -> dict[str, Any]:
        """Return the claims a genuine notification token carries now."""
        issued = int(time.time() + self.token_skew)
        return {
            "aud": self.client_id,
            "iss": self.issuer,
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(self.notification_token_ttl),
            "tid": self.tenant_id,
        }

    def notification_token(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        kid: str | None = None,
        x5t: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        algorithm: str = "RS256",
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """Build a notification token; ``claims`` override (None removes one).

        ``kid`` and ``key`` default to the published ones (``kid=""`` leaves the
        kid out); ``x5t`` adds a thumbprint (``x5t=sim.x5t, kid=""`` names the
        key by its thumbprint alone); ``algorithm`` "HS256" signs with a shared
        secret instead of a key (a forgery); ``headers`` adds header fields.
        """
        payload = self.notification_claims()
        for name, value in (claims or {}).items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        fields: dict[str, Any] = {} if kid == "" else {"kid": kid or self.kid}
        if x5t is not None:
            fields["x5t"] = x5t
        fields.update(headers or {})
        if algorithm.startswith("HS"):
            return jwt.encode(payload, "x" * 32, algorithm=algorithm, headers=fields)
        return jwt.encode(
            payload, key or self._key, algorithm=algorithm, headers=fields
        )

    def forge_next(self, count: int = 1, **token: Any) -> None:
        """Sign the next ``count`` POSTs with ``notification_token(**token)``."""
        self._forged.extend(dict(token) for _ in range(count))

    def _next_token(self) -> str:
        if self._forged:
            return self.notification_token(**self._forged.pop(0))
        return self.notification_token()

    # ---------------------------------------------------------- fault control

    def fail_next(
        self,
        status: int,
        path_contains: str | None = None,
        retry_after: float | str | None = None,
        code: str | None = None,
        count: int = 1,
        *,
        body: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status``.

        Without ``path_contains`` only Graph routes (``/v1.0/...``) match. The
        body is Graph's error body (Entra ID's on the token endpoint) for
        ``code``, unless ``body`` gives the raw text of a broken reply.
        """
        headers = retry_after_headers(retry_after)

        def reply(request: SimRequest) -> web.Response:
            if body is not None:
                return raw_reply(status, body, headers)
            if request.path.endswith(_TOKEN_SUFFIX):
                kind = "unavailable" if status >= 429 else "secret"
                return _aad_error(status, kind, headers)
            return _graph_error(status, code, headers=headers)

        self._faults.add(reply, times=count, matches=_graph_routes(path_contains))

    def slow_next(
        self, seconds: float, path_contains: str | None = None, count: int = 1
    ) -> None:
        """Delay the responses to the next ``count`` matching requests."""
        self._slows.add(seconds, times=count, matches=_graph_routes(path_contains))

    def revoke_tokens(self) -> None:
        """Forget every issued access token: Graph answers 401 to them."""
        self._tokens.clear()

    # ------------------------------------------------------------------ auth

    def _refuse(self, request: web.Request) -> web.StreamResponse | None:
        if not request.path.startswith(_GRAPH_PREFIX):
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return _graph_error(401, message="Access token is empty.")
        expires = self._tokens.get(token)
        if expires is None or expires <= self.now():
            return _graph_error(401)
        return None

    # ------------------------------------------------------------------ routes

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "grant")
        if request.match_info["tenant"] != self.tenant_id:
            return _aad_error(400, "tenant")
        if form.get("client_id") != self.client_id:
            return _aad_error(400, "client")
        secret = str(form.get("client_secret", ""))
        if not secrets.compare_digest(secret.encode(), self.client_secret.encode()):
            return _aad_error(401, "secret")
        # Entra ID issues tokens for Graph itself, however the client reaches
        # Entra ID (a proxy, this simulator): the scope names that Graph.
        if form.get("scope") not in self.scopes:
            return _aad_error(400, "scope")
        token = secrets.token_urlsafe(48)
        self._tokens[token] = self.now() + self.token_ttl
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_ttl,
                "ext_expires_in": self.token_ttl,
                "access_token": token,
            }
        )

    async def _openid_configuration(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": "https://api.botframework.com",
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self.url}{JWKS_PATH}",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _jwks(self, _request: web.Request) -> web.Response:
        return web.json_response(self.jwks())

    def _call(self, request: web.Request) -> SimCall:
        call = self.calls.get(request.match_info["call_id"])
        if call is None or call.ended:
            raise _GraphError(404, "The call could not be found.")
        return call

    async def _get_call(self, request: web.Request) -> web.Response:
        call = self._call(request)
        data = self._resource(call)
        data.update(
            {
                "@odata.context": (
                    f"{self.url}/v1.0/$metadata#communications/calls/$entity"
                ),
                "mediaConfig": call.media_config,
                "resultInfo": call.result_info,
                "subject": None,
                "toneInfo": None,
            }
        )
        return web.json_response(data)

    async def _delete_call(self, request: web.Request) -> web.Response:
        call = self._call(request)
        call.state = "terminating"
        call.etag += 1
        terminating = self._state_item(call)
        # Verbatim from call-delete.md: code and subcode as strings.
        result = {
            "code": "200",
            "subcode": "5001",
            "message": "The conversation has ended.",
        }
        self._end(call, result)
        terminated = self._terminated(call)
        after_response(request, lambda: self._send(call, [terminating, terminated]))
        return web.Response(status=204)

    async def _post_action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"].lower().removeprefix("microsoft.graph.")
        handlers: dict[str, Callable[[web.Request, SimCall], Any]] = {
            "answer": self._answer,
            "reject": self._reject,
            "keepalive": self._keep_alive,
            "playprompt": self._play_prompt,
            "subscribetotone": self._subscribe_to_tone,
            "senddtmftones": self._send_dtmf_tones,
            "transfer": self._transfer,
        }
        handler = handlers.get(action)
        if handler is None:
            raise _GraphError(400, f"Unsupported action {action}.")
        call = self._call(request)
        result: web.Response = await handler(request, call)
        return result

    def _check_incoming(self, call: SimCall) -> None:
        if (
            call.state == "incoming"
            and self.now() - call.created_at > self.answer_window
        ):
            # The window passed and the timer has not run yet: the call is gone.
            raise _GraphError(404, "The call could not be found.")
        if call.state != "incoming":
            raise _GraphError(
                self.wrong_state_status, f"The call is {call.state}, not incoming."
            )

    async def _answer(self, request: web.Request, call: SimCall) -> web.Response:
        body = await self._json_body(request)
        self._check_incoming(call)
        callback = body.get("callbackUri", self.bot_webhook_url)
        if not _is_https(callback):
            raise _GraphError(400, "callbackUri must be an https URL.")
        modalities = body.get("acceptedModalities")
        if (
            not isinstance(modalities, list)
            or not modalities
            or not all(m in _MODALITIES for m in modalities)
        ):
            raise _GraphError(400, "acceptedModalities is required.")
        media = body.get("mediaConfig")
        kind = media.get("@odata.type") if isinstance(media, dict) else None
        if not isinstance(kind, str) or kind.removeprefix("#") not in {
            _SERVICE_HOSTED,
            _APP_HOSTED,
        }:
            raise _GraphError(400, "mediaConfig with an @odata.type is required.")
        if (
            kind.removeprefix("#") == _APP_HOSTED
            and _ACCESS_MEDIA not in self.permissions
        ):
            raise _GraphError(403, f"Application-hosted media needs {_ACCESS_MEDIA}.")
        assert isinstance(media, dict)
        call.callback_uri = str(callback)
        call.accepted_modalities = list(modalities)
        call.media_config = media
        self._cancel_timer(call)
        call.state = "establishing"
        call.etag += 1
        establishing = self._state_item(call)
        call.state = "established"
        call.etag += 1
        items = [establishing, self._state_item(call)]

        def notify() -> None:
            if self.batch_notifications:
                self._send(call, items)
            else:
                for item in items:
                    self._send(call, [item])

        after_response(request, notify)
        return web.Response(status=202)

    async def _reject(self, request: web.Request, call: SimCall) -> web.Response:
        body = await self._json_body(request)
        self._check_incoming(call)
        reason = body.get("reason", "none")
        if not isinstance(reason, str) or reason.lower() not in _REJECT_REASONS:
            raise _GraphError(400, "reason must be none, busy or forbidden.")
        callback = body.get("callbackUri", call.callback_uri)
        if not _is_https(callback):
            raise _GraphError(400, "callbackUri must be an https URL.")
        call.reject_reason = reason.lower()
        call.callback_uri = str(callback)
        self._end(call, None)
        # Verbatim from call-reject.md: only @odata.type and @odata.id.
        data = {"@odata.type": "#microsoft.graph.call", "@odata.id": call.resource_url}
        item = self._item(call, "deleted", data)
        after_response(request, lambda: self._send(call, [item]))
        return web.Response(status=202)

    def _cancel_timer(self, call: SimCall) -> None:
        timer = self._timers.pop(call.call_id, None)
        if timer is not None:
            timer[1].cancel()

    async def _keep_alive(self, _request: web.Request, _call: SimCall) -> web.Response:
        return web.Response(status=200)

    def _operation(
        self, call: SimCall, kind: str, status: str, context: Any
    ) -> tuple[dict[str, Any], dict[str, str]]:
        operation_id = str(uuid.UUID(int=next(self._operation_ids)))
        operation = {
            "@odata.type": f"#microsoft.graph.{kind}",
            "id": operation_id,
            "status": status,
            "clientContext": context,
        }
        call.operations[operation_id] = operation
        location = f"{self.url}/v1.0{call.resource_url}/operations/{operation_id}"
        return operation, {"Location": location}

    def _check_established(self, call: SimCall, what: str) -> None:
        if call.state != "established":
            raise _GraphError(
                self.wrong_state_status,
                f"{what} needs an established call; the call is {call.state}.",
            )

    def _complete_later(
        self,
        request: web.Request,
        call: SimCall,
        operation: dict[str, Any],
        **extra: Any,
    ) -> None:
        """Send the operation's completion after the response (a deleted one)."""

        def completed() -> None:
            url = f"{call.resource_url}/operations/{operation['id']}"
            data = {**operation, "@odata.id": url, "status": "completed", **extra}
            item = {
                "@odata.type": "#microsoft.graph.commsNotification",
                "changeType": "deleted",
                "resourceUrl": url,
                "resourceData": data,
            }
            self._send(call, [item])

        after_response(request, completed)

    async def _play_prompt(self, request: web.Request, call: SimCall) -> web.Response:
        body = await self._json_body(request)
        self._check_established(call, "playPrompt")
        if (call.media_config or {}).get("@odata.type", "").removeprefix(
            "#"
        ) != _SERVICE_HOSTED:
            raise _GraphError(400, "playPrompt needs a service-hosted call.")
        prompts = body.get("prompts")
        if not isinstance(prompts, list) or not 0 < len(prompts) <= 20:
            raise _GraphError(400, "prompts must list 1 to 20 media prompts.")
        for prompt in prompts:
            info = prompt.get("mediaInfo") if isinstance(prompt, dict) else None
            uri = info.get("uri") if isinstance(info, dict) else None
            if not isinstance(uri, str) or URL(uri).scheme not in {"http", "https"}:
                raise _GraphError(400, "Each prompt needs a mediaInfo with a uri.")
        operation, headers = self._operation(
            call, "playPromptOperation", "running", body.get("clientContext")
        )
        self._complete_later(
            request,
            call,
            operation,
            resultInfo={
                "@odata.type": "#microsoft.graph.resultInfo",
                "code": 200,
                "subcode": 0,
                "message": "Action completed successfully.",
            },
        )
        return web.json_response(operation, headers=headers)

    async def _send_dtmf_tones(
        self, request: web.Request, call: SimCall
    ) -> web.Response:
        body = await self._json_body(request)
        tones = body.get("tones")
        # A "ToneInfo collection" whose example lists tone names: both read.
        names = [
            tone.get("tone") if isinstance(tone, dict) else tone
            for tone in (tones if isinstance(tones, list) else [])
        ]
        if not names or not all(
            isinstance(name, str) and name.lower() in _TONES for name in names
        ):
            raise _GraphError(400, "tones must list tone0-tone9, star, pound or a-d.")
        delay = body.get("delayBetweenTonesMs")
        if delay is not None and (
            isinstance(delay, bool) or not isinstance(delay, int) or delay < 0
        ):
            raise _GraphError(400, "delayBetweenTonesMs must be a whole number.")
        self._check_established(call, "sendDtmfTones")
        call.sent_tones.append([str(name).lower() for name in names])
        operation, headers = self._operation(
            call, "sendDtmfTonesOperation", "running", body.get("clientContext")
        )
        self._complete_later(
            request, call, operation, completionReason="completedSuccessfully"
        )
        return web.json_response(operation, headers=headers)

    async def _subscribe_to_tone(
        self, request: web.Request, call: SimCall
    ) -> web.Response:
        body = await self._json_body(request)
        if (call.media_config or {}).get("@odata.type", "").removeprefix(
            "#"
        ) == _APP_HOSTED:
            raise _GraphError(400, "subscribeToTone needs a service-hosted call.")
        call.tones_subscribed = True
        operation, headers = self._operation(
            call,
            "subscribeToToneOperation",
            "completed",
            body.get("clientContext"),
        )
        return web.json_response(operation, headers=headers)

    async def _transfer(self, request: web.Request, call: SimCall) -> web.Response:
        body = await self._json_body(request)
        target = body.get("transferTarget")
        kind = _party_kind(target)
        if kind is None:
            raise _GraphError(
                400, "transferTarget needs an identity with a user or a phone id."
            )
        self._check_established(call, "transfer")
        if kind == "phone" and self.application_instance_id is None:
            raise _GraphError(
                400,
                "Transfer to PSTN number is supported only for application instance.",
            )
        assert isinstance(target, dict)
        call.transfer_target = target
        call.state = "transferring"
        call.etag += 1
        items = [self._state_item(call)]
        if self.fail_transfers:
            call.state = "established"
            call.etag += 1
            failed = self._state_item(call)
            failed["resourceData"]["resultInfo"] = {
                "@odata.type": "#microsoft.graph.resultInfo",
                "code": 500,
                "subCode": 7000,
                "message": "The transfer target did not answer.",
            }
            items.append(failed)
        else:
            call.state = "transferAccepted"
            call.etag += 1
            items.append(self._state_item(call))
            self._end(call, _TRANSFER_COMPLETED)
            items.append(self._terminated(call))

        def notify() -> None:
            for item in items:
                self._send(call, [item])

        after_response(request, notify)
        return web.Response(status=202)

    async def _create_call(self, request: web.Request) -> web.Response:
        """Place a peer-to-peer call from the bot (application-post-calls)."""
        body = await self._json_body(request)
        callback = body.get("callbackUri")
        if not _is_https(callback):
            raise _GraphError(400, "callbackUri must be an https URL.")
        targets = body.get("targets")
        if not isinstance(targets, list) or len(targets) != 1:
            raise _GraphError(400, "targets must name the one participant to call.")
        kind = _party_kind(targets[0])
        if kind is None:
            raise _GraphError(
                400, "The target needs an identity with a user or a phone id."
            )
        modalities = body.get("requestedModalities")
        if (
            not isinstance(modalities, list)
            or not modalities
            or not all(m in _MODALITIES for m in modalities)
        ):
            raise _GraphError(400, "requestedModalities is required.")
        media = body.get("mediaConfig")
        media_kind = media.get("@odata.type") if isinstance(media, dict) else None
        if not isinstance(media_kind, str) or media_kind.removeprefix("#") not in {
            _SERVICE_HOSTED,
            _APP_HOSTED,
        }:
            raise _GraphError(400, "mediaConfig with an @odata.type is required.")
        if (
            media_kind.removeprefix("#") == _APP_HOSTED
            and _ACCESS_MEDIA not in self.permissions
        ):
            raise _GraphError(403, f"Application-hosted media needs {_ACCESS_MEDIA}.")
        tenant = body.get("tenantId")
        if tenant is not None and tenant != self.tenant_id:
            raise _GraphError(400, "tenantId is not the bot's tenant.")
        source = body.get("source")
        instance = None
        if source is not None:
            identity = source.get("identity") if isinstance(source, dict) else None
            named = (
                identity.get("applicationInstance")
                if isinstance(identity, dict)
                else None
            )
            instance = named.get("id") if isinstance(named, dict) else None
            if instance is None or instance != self.application_instance_id:
                raise _GraphError(400, "source is not the bot's application instance.")
        if kind == "phone" and instance is None:
            # "This call requires an application instance with a PSTN number
            # assigned"; Graph's error for its absence is UNCONFIRMED.
            raise _GraphError(
                400, "Calling a phone number needs the bot's application instance."
            )
        assert isinstance(media, dict)
        call = SimCall(
            call_id=str(uuid.uuid4()),
            source=source
            or {
                "@odata.type": "#microsoft.graph.participantInfo",
                "identity": _identity(
                    "application", id=self.client_id, displayName=self.bot_name
                ),
            },
            targets=[
                {
                    "@odata.type": "#microsoft.graph.invitationParticipantInfo",
                    **targets[0],
                }
            ],
            created_at=self.now(),
            callback_uri=str(callback),
            state="establishing",
            direction="outgoing",
            media_config=media,
        )
        self.calls[call.call_id] = call
        data = self._resource(call)
        data.update(
            {
                "@odata.context": f"{self.url}/v1.0/$metadata#app/calls/$entity",
                "mediaConfig": media,
                "requestedModalities": modalities,
                "resultInfo": None,
                "toneInfo": None,
            }
        )
        establishing = self._item(
            call,
            "updated",
            {
                "@odata.type": "#microsoft.graph.call",
                "state": "establishing",
                "id": call.call_id,
            },
        )

        def ring_out() -> None:
            self._send(call, [establishing])
            if self.pickup_delay is not None and call.state == "establishing":
                deadline = self.now() + self.pickup_delay
                timer = asyncio.create_task(self._ring_out(call, deadline))
                self._timers[call.call_id] = (deadline, timer)

        after_response(request, ring_out)
        location = f"{self.url}/v1.0{call.resource_url}"
        return web.json_response(data, status=201, headers={"Location": location})

    # ------------------------------------------------------------ control routes

    async def _control_ring(self, body: dict[str, Any]) -> dict[str, Any]:
        call_id = await self.ring(
            caller_name=body.get("caller_name", "Ada Lovelace"),
            caller_id=body.get("caller_id"),
            phone=body.get("phone"),
        )
        return {"call_id": call_id}

    async def _control_hangup(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.remote_hangup(str(body["call_id"]))
        return {"result": "ok"}

    async def _control_pickup(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.pickup(str(body["call_id"]))
        return {"result": "ok"}

    async def _control_press(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.press(str(body["call_id"]), str(body["digits"]))
        return {"result": "ok"}

    async def _control_webhook(self, body: dict[str, Any]) -> dict[str, Any]:
        if not _is_https(body["url"]):
            raise ValueError("the calling webhook must be an https URL")
        self.bot_webhook_url = str(body["url"])
        return {"result": "ok"}

    # ---------------------------------------------------------- command line

    @classmethod
    def _add_demo_options(cls, parser: argparse.ArgumentParser) -> None:
        add_webhook_url_option(parser, "the bot's calling webhook, an https URL")
        parser.add_argument(
            "--deliver-via",
            action="append",
            default=[],
            metavar="HTTPS_ORIGIN=HTTP_ORIGIN",
            help="post what goes to an https origin to this http origin instead"
            " (the simulator has no TLS); repeatable",
        )

    @classmethod
    def demo(cls, options: argparse.Namespace) -> Self:
        """The demo tenant's bot, calling back ``--webhook-url``."""
        simulator = cls()
        simulator.bot_webhook_url = options.webhook_url
        for mapping in options.deliver_via:
            origin, _, target = mapping.partition("=")
            simulator.deliver_via[origin.rstrip("/")] = target
        return simulator

    def demo_credentials(self) -> list[tuple[str, str]]:
        return [
            ("tenant id", self.tenant_id),
            ("client id", self.client_id),
            ("client secret", self.client_secret),
        ]

    def demo_details(self) -> list[tuple[str, str]]:
        return [("OpenID config", self.openid_configuration_url)]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the demo simulator until interrupted (see ``--help``)."""
    GraphSimulator.main(argv)


if __name__ == "__main__":
    main()
