"""Local simulator of Webex Calling call control, its OAuth2 and its webhooks.

It follows ``/work/shared/reference/webex.md``: OAuth2 authorization-code and
refresh-token grants, Bearer tokens with scopes and expiry, ``GET /people/me``,
the user's preferred answer endpoints, the call-control commands with the
documented state machine, ``GET /telephony/calls``, webhooks CRUD with
``max``/``Link`` paging, deliveries in the observed envelope signed with
``X-Spark-Signature`` (hex HMAC-SHA1 of the raw body), and errors in the Webex
body ``{"message", "errors": [{"description"}], "trackingId"}``.

Where the reference is UNCONFIRMED the simulator takes one reading and makes it
configurable: the status for a command in the wrong state
(``wrong_state_status``, 400), the ``eventType`` of hold/resume/dial events,
delivery retries (none by default), and the webhook auto-disable threshold.

Beyond answering: ``hold``/``resume`` (updated events in state ``held`` and
back to ``connected``), ``divert`` (to a destination or voicemail: the call is
disconnected), ``transfer`` (``callId1`` + ``destination``: 201 and a new
outgoing call to the destination; once it answers, both calls disconnect;
``callId1`` + ``callId2``: 204, both disconnect), ``transmitDtmf`` (204, no
event: Webex reports no DTMF either way) and ``dial`` (201; a click to dial on
a desk phone alerts it first as ``clickToDial``). Calls placed through the API
(dial, a transfer's call) are answered ``pickup_delay`` seconds later (0.1 by
default; None: never, so a test sees them dialing), or at once by
``POST /_sim/pickup``. Webex has no speak or play commands.

Used from tests::

    sim = WebexSimulator(display_name="Grace Hopper")
    desk = sim.add_endpoint("Cisco 8865 (Kitchen)", "DEVICE")
    base_url = await sim.start()              # http://127.0.0.1:<port>/v1
    tokens = sim.issue_tokens()                # a token response, as after sign-in
    call_id = await sim.ring("+15557654321", "Ada Lovelace")
    await sim.wait_for_webhooks()
    await sim.close()

Scenario methods: ``ring``, ``answer_on_device``, ``answer_elsewhere``,
``remote_hangup``, ``hold``, ``resume``, ``remote_hold``, ``dial``,
``remote_answer``, ``pickup``. Tokens: ``issue_tokens``, ``expire_access_tokens``,
``revoke_refresh_tokens``. Webhooks: ``add_webhook``, ``disable_webhook``,
the ``webhooks`` dict (id -> Webex webhook object). Faults: ``fail_next``,
``slow_next``, ``duplicate_webhooks``, ``hold_webhooks``/``release_webhooks``,
``drop_next_webhook``, ``bad_signatures``, ``auto_disable_after``. Logs:
``requests``, ``deliveries``; ``wait_for_webhooks()`` lets deliveries finish.

Standalone, from the repository root (``--help`` lists the routes)::

    python -m tests.simulators.webex [--host 127.0.0.1] [--port 8090]

It creates "Grace Hopper" with a desk phone and the Webex app and prints the
base URL, the OAuth URLs, the client id/secret (the same every run) and a
token pair (fake test credentials). Ctrl-C stops it.

Control routes (test-only, no authentication, outside ``/v1``):

``POST /_sim/ring``
    Body ``{"number": "+15557654321", "name": "Ada"}`` (``name`` optional).
    Rings every endpoint; answers ``{"callId": "..."}``.
``POST /_sim/hangup``
    Body ``{"callId": "..."}``. The far end hangs up. Answers ``{"result": "ok"}``.
``POST /_sim/answer_elsewhere``
    Body ``{"callId": "..."}``. Someone else answers the ringing call.
``POST /_sim/pickup``
    Body ``{"call_id": "..."}``. A call placed through the API (dial, a
    transfer's call) is answered now.
``POST /_sim/press``
    Body ``{"call_id": "...", "digits": "1"}``. Answers 409: Webex does not
    report the keys a caller presses.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import hashlib
import hmac
import itertools
import json
import secrets
import time
from typing import Any, Final, Literal, Self
from urllib.parse import urlencode
import uuid

from aiohttp import web

from tests.simulators.base import (
    ApiError,
    BodyProblem,
    Control,
    DeliveringSimulator,
    SimRequest,
    after_response,
    path_match,
    retry_after_headers,
)

__all__ = [
    "ALL_SCOPES",
    "Personality",
    "SimCall",
    "SimDelivery",
    "SimEndpoint",
    "SimRequest",
    "SimToken",
    "State",
    "WebexSimulator",
    "error_response",
    "main",
    "sign",
    "webex_id",
]

type Personality = Literal["originator", "terminator", "clickToDial"]
type State = Literal[
    "connecting", "alerting", "connected", "held", "remoteHeld", "disconnected"
]

ALL_SCOPES: Final = (
    "spark:calls_read",
    "spark:calls_write",
    "spark:telephony_config_read",
    "spark:telephony_config_write",
    "spark:people_read",
)
_OPEN_PATHS: Final = ("/v1/authorize", "/v1/access_token")
_PAGE_MAX: Final = 100
_REJECT_ACTIONS: Final = ("busy", "temporarilyUnavailable", "ignore")
# transmitDtmf: 0-9, *, #, A-D, and "," for a pause.
_DTMF_KEYS: Final = frozenset("0123456789*#ABCD,")
_ANSWERED: Final = ("connected", "held", "remoteHeld")
_NO_DTMF: Final = (
    "Webex Calling does not report the keys a caller presses: no DTMF events."
)
_ENDPOINT_TYPES: Final = ("DEVICE", "APPLICATION", "HOTDESKING_GUEST")
_WEBHOOK_RESOURCES: Final = frozenset(
    {
        "telephony_calls",
        "telephony_conference",
        "telephony_mwi",
        "messages",
        "memberships",
        "rooms",
        "meetings",
        "attachmentActions",
    }
)
_WEBHOOK_EVENTS: Final = frozenset(
    {"created", "updated", "deleted", "started", "ended", "joined", "left", "all"}
)
_UNAUTHORIZED: Final = (
    "The request requires a valid access token set in the Authorization request header."
)
# The reference's third-party examples give 401's and 403's wording; the rest
# are UNCONFIRMED wordings in the same style.
_MESSAGES: Final = {
    400: "The request could not be understood by the server due to malformed syntax.",
    401: _UNAUTHORIZED,
    403: "The requested resource could not be found.",
    404: "The requested resource could not be found.",
    405: "The request method is not supported for this resource.",
    409: "The request could not be processed because it conflicts with the "
    "resource's state.",
    423: "The requested resource is temporarily unavailable.",
    429: "Too many requests have been sent in a given amount of time.",
    500: "Something went wrong on the server.",
    502: "The server received an invalid response from an upstream server.",
    503: "Server is overloaded with requests. Try again later.",
    504: "An upstream server failed to respond on time.",
}

_TOKEN: Final = web.RequestKey["SimToken"]("webex_sim_token")
# The standalone demo's integration: the same (fake) client every run.
_DEMO_CLIENT_ID: Final = "C" + hashlib.sha256(b"switchboard webex demo id").hexdigest()
_DEMO_CLIENT_SECRET: Final = hashlib.sha256(b"switchboard webex demo").hexdigest()


def _utcnow() -> datetime:
    """Now, to the millisecond: what Webex's timestamps carry."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _iso(moment: datetime) -> str:
    """Format like Webex: ISO-8601 UTC with milliseconds and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def webex_id(kind: str, value: str) -> str:
    """Encode an id like Webex: unpadded base64 of ``ciscospark://us/KIND/value``."""
    raw = f"ciscospark://us/{kind}/{value}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def _tracking_id() -> str:
    return f"ROUTER_{str(uuid.uuid4()).upper()}"


def sign(secret: str, body: bytes) -> str:
    """Return the X-Spark-Signature of ``body``: hex HMAC-SHA1 keyed with the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


@dataclass
class SimEndpoint:
    """One endpoint of the user: a preferred answer endpoint, or not.

    An endpoint without the preferred answer endpoint functionality is not in
    availablePreferredAnswerEndpoints, and no command may name it; it can
    still be the user's primary device, which an answer without endpointId
    reaches.
    """

    id: str
    name: str
    type: str
    answer_capable: bool = True
    preferred_capable: bool = True


@dataclass
class SimCall:
    """One call of the user as the simulator tracks it."""

    id: str
    call_session_id: str
    personality: Personality
    state: State
    remote_party: dict[str, Any]
    created: datetime = field(default_factory=_utcnow)
    answered: datetime | None = None
    disconnected: datetime | None = None
    endpoint_id: str | None = None
    completed_elsewhere: bool = False
    reject_action: str | None = None
    # Where a divert or transfer sent the call: a destination, "voicemail",
    # or the id of the call it was joined to.
    sent_to: str | None = None
    # A transfer's call to the destination: the call it carries once answered.
    transfer_of: str | None = None
    # Placed through the API (dial, transfer): answered after pickup_delay.
    placed: bool = False
    dtmf: list[str] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SimToken:
    """An issued access token and the refresh token it came with."""

    access_token: str
    refresh_token: str
    scopes: frozenset[str]
    expires_at: float
    refresh_expires_at: float


@dataclass(frozen=True)
class SimDelivery:
    """One webhook POST attempt; ``status`` is None on timeout, error or drop."""

    webhook_id: str
    url: str
    event: str
    event_type: str
    call_id: str
    status: int | None
    dropped: bool
    envelope: dict[str, Any]


@dataclass(frozen=True)
class _Event:
    call_id: str
    event: str
    data: dict[str, Any]
    duplicate: bool


class _ApiError(ApiError):
    """Raised by handlers; turned into a Webex error response."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message)
        self.headers = headers

    def response(self) -> web.Response:
        """Build the error response."""
        return error_response(self.status, self.message, headers=self.headers)


def error_response(
    status: int, message: str | None = None, *, headers: dict[str, str] | None = None
) -> web.Response:
    """A Webex error: ``{message, errors: [{description}], trackingId}``."""
    text = message or _MESSAGES.get(status, "Simulated error.")
    tracking = _tracking_id()
    return web.json_response(
        {"message": text, "errors": [{"description": text}], "trackingId": tracking},
        status=status,
        headers={"TrackingID": tracking, **(headers or {})},
    )


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    """An OAuth error as RFC 6749 spells it, with Webex's tracking id.

    Webex's exact token-error body is UNCONFIRMED: both the OAuth fields and
    Webex's message fields are present.
    """
    tracking = _tracking_id()
    return web.json_response(
        {
            "error": error,
            "error_description": description,
            "message": description,
            "errors": [{"description": description}],
            "trackingId": tracking,
        },
        status=status,
        headers={"TrackingID": tracking},
    )


def _required_string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _ApiError(400, f"{name} is required.")
    return value


class WebexSimulator(DeliveringSimulator[_Event]):
    """Fake Webex Calling API, OAuth server and webhook sender, for tests."""

    title = "Webex Calling simulator"
    default_port = 8090
    authentication = "OAuth2; Authorization: Bearer <access token>"

    def __init__(
        self,
        *,
        display_name: str = "Grace Hopper",
        email: str = "grace.hopper@example.com",
        phone_number: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        access_token_lifetime: int = 14 * 86400,
        refresh_token_lifetime: int = 90 * 86400,
        webhook_timeout: float = 2.0,
        webhook_retry_delays: Sequence[float] = (),
        auto_disable_after: int = 5,
    ) -> None:
        """Create the simulator; call :meth:`start` to serve it."""
        super().__init__(delivery_timeout=webhook_timeout)
        self._ids = itertools.count(1)
        self.client_id = client_id or f"C{secrets.token_hex(32)}"
        self.client_secret = client_secret or secrets.token_hex(32)
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.org_id = webex_id("ORGANIZATION", self._uuid("org"))
        self.app_id = webex_id("APPLICATION", self._uuid("app"))
        first, _, last = display_name.partition(" ")
        self.person: dict[str, Any] = {
            "id": webex_id("PEOPLE", self._uuid("person")),
            "emails": [email],
            "phoneNumbers": (
                [{"type": "work", "value": phone_number, "primary": True}]
                if phone_number
                else []
            ),
            "displayName": display_name,
            "nickName": first,
            "firstName": first,
            "lastName": last,
            "orgId": self.org_id,
            "created": _iso(_utcnow()),
            "type": "person",
        }
        self.base_url = ""
        self.endpoints: dict[str, SimEndpoint] = {}
        self.preferred_endpoint_id: str | None = None
        self.calls: dict[str, SimCall] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, SimToken] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self.deliveries: list[SimDelivery] = []
        # Which scope each API needs. Whether people/me needs people_read is
        # UNCONFIRMED: required here so that the client proves it asks for it.
        self.people_scope: str | None = "spark:people_read"
        # UNCONFIRMED: the status of a command on a call in the wrong state.
        self.wrong_state_status = 400
        self.duplicate_webhooks = False
        self.bad_signatures = False
        self.auto_disable_after = auto_disable_after
        self._retry_delays = tuple(webhook_retry_delays)
        self._failures: dict[str, int] = {}
        self._drops = 0
        self._last_stamp: datetime | None = None
        self._call_numbers = itertools.count(960542029)
        # Seconds until the far end answers a call placed through the API;
        # None: never (POST /_sim/pickup answers it).
        self.pickup_delay: float | None = 0.1
        self._timers: set[asyncio.TimerHandle] = set()

    # ------------------------------------------------------------------ setup

    def _api_routes(self) -> list[web.RouteDef]:
        me = "/v1/telephony/config/people/me/settings"
        return [
            web.get("/v1/authorize", self._authorize),
            web.post("/v1/access_token", self._access_token),
            web.get("/v1/people/me", self._people_me),
            web.get(f"{me}/availablePreferredAnswerEndpoints", self._endpoints),
            web.get(f"{me}/preferredAnswerEndpoint", self._get_preferred),
            web.put(f"{me}/preferredAnswerEndpoint", self._put_preferred),
            web.get("/v1/telephony/calls", self._list_calls),
            web.get("/v1/telephony/calls/{call_id}", self._get_call),
            web.post("/v1/telephony/calls/{command}", self._command),
            web.get("/v1/webhooks", self._list_webhooks),
            web.post("/v1/webhooks", self._create_webhook),
            web.get("/v1/webhooks/{webhook_id}", self._get_webhook),
            web.put("/v1/webhooks/{webhook_id}", self._update_webhook),
            web.delete("/v1/webhooks/{webhook_id}", self._delete_webhook),
        ]

    def _controls(self) -> list[Control]:
        call_id = '{"callId": "..."}: '
        return [
            Control(
                "ring",
                self._control_ring,
                '{"number": "+15557654321", "name": "Ada"} (name optional):\n'
                'rings every endpoint; answers {"callId": "..."}',
            ),
            Control("hangup", self._control_hangup, f"{call_id}the far end hangs up"),
            Control(
                "answer_elsewhere",
                self._control_answer_elsewhere,
                f"{call_id}someone else answers the ringing call",
            ),
            Control(
                "pickup",
                self._control_pickup,
                '{"call_id": "..."}: a call placed through the API (dial, a\n'
                "transfer's call) is answered now",
            ),
            Control(
                "press",
                self._control_press,
                '{"call_id": "...", "digits": "1"}: answers 409, as Webex\n'
                "does not report the keys a caller presses",
            ),
        ]

    def _stopping(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def _started(self, root: str) -> str:
        self.base_url = f"{root}/v1"
        return self.base_url

    def _bad_body(self, problem: BodyProblem) -> Exception:
        return _ApiError(400, problem)

    def _http_error(self, status: int) -> web.StreamResponse | None:
        return error_response(status) if status in {404, 405} else None

    @property
    def authorize_url(self) -> str:
        """The OAuth2 authorize endpoint."""
        return f"{self.base_url}/authorize"

    @property
    def token_url(self) -> str:
        """The OAuth2 token endpoint."""
        return f"{self.base_url}/access_token"

    def _uuid(self, kind: str) -> str:
        """A stable uuid: sequential per simulator, so snapshots stay the same."""
        return str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"webex-sim/{kind}/{next(self._ids)}")
        )

    # ----------------------------------------------------------- data set-up

    def add_endpoint(
        self,
        name: str,
        type_: str = "DEVICE",
        *,
        answer_capable: bool = True,
        preferred_capable: bool = True,
    ) -> str:
        """Add an endpoint (DEVICE, APPLICATION, HOTDESKING_GUEST).

        The first endpoint added is the user's primary device. One that is not
        ``preferred_capable`` is not a preferred answer endpoint.
        """
        if type_ not in _ENDPOINT_TYPES:
            raise ValueError(f"unknown endpoint type {type_}")
        endpoint = SimEndpoint(
            id=webex_id(type_, self._uuid("endpoint")),
            name=name,
            type=type_,
            answer_capable=answer_capable,
            preferred_capable=preferred_capable,
        )
        self.endpoints[endpoint.id] = endpoint
        return endpoint.id

    def endpoint_id(self, name: str) -> str:
        """The id of the endpoint called ``name``."""
        return next(e.id for e in self.endpoints.values() if e.name == name)

    def add_webhook(
        self,
        name: str,
        target_url: str,
        *,
        resource: str = "telephony_calls",
        event: str = "all",
        secret: str | None = None,
        status: str = "active",
    ) -> str:
        """Register a webhook as if created through the API; return its id."""
        webhook: dict[str, Any] = {
            "id": webex_id("WEBHOOK", self._uuid("webhook")),
            "name": name,
            "targetUrl": target_url,
            "resource": resource,
            "event": event,
            "orgId": self.org_id,
            "createdBy": self.person["id"],
            "appId": self.app_id,
            "ownedBy": "creator",
            "status": status,
            "created": _iso(_utcnow()),
        }
        if secret is not None:
            webhook["secret"] = secret
        self.webhooks[webhook["id"]] = webhook
        return str(webhook["id"])

    def disable_webhook(self, webhook_id: str | None = None) -> None:
        """Set a webhook (every webhook if None) inactive, as Webex does."""
        for key, webhook in self.webhooks.items():
            if webhook_id is None or key == webhook_id:
                webhook["status"] = "inactive"

    # ---------------------------------------------------------------- tokens

    def issue_tokens(self, scopes: Sequence[str] | None = None) -> dict[str, Any]:
        """Issue a token pair as a completed sign-in would; return the response."""
        return self._new_token(
            frozenset(ALL_SCOPES if scopes is None else scopes),
            refresh_token=None,
        )

    def _new_token(
        self, scopes: frozenset[str], refresh_token: str | None
    ) -> dict[str, Any]:
        now = time.time()
        previous = self._by_refresh(refresh_token) if refresh_token else None
        org = self.org_id[-12:]
        token = SimToken(
            access_token=f"{secrets.token_urlsafe(48)}_PF84_{org}",
            refresh_token=(
                previous.refresh_token
                if previous
                else f"{secrets.token_urlsafe(48)}_PF84_{org}"
            ),
            scopes=scopes,
            expires_at=now + self.access_token_lifetime,
            refresh_expires_at=(
                previous.refresh_expires_at
                if previous
                else now + self.refresh_token_lifetime
            ),
        )
        self.tokens[token.access_token] = token
        return {
            "access_token": token.access_token,
            "expires_in": self.access_token_lifetime,
            # UNCONFIRMED: Webex keeps the refresh token on refresh (its
            # lifetime counts down); a client should store whatever comes back.
            "refresh_token": token.refresh_token,
            "refresh_token_expires_in": max(0, int(token.refresh_expires_at - now)),
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
        }

    def _by_refresh(self, refresh_token: str) -> SimToken | None:
        return next(
            (
                token
                for token in self.tokens.values()
                if token.refresh_token == refresh_token
            ),
            None,
        )

    def expire_access_tokens(self) -> None:
        """Let every access token issued so far expire now."""
        for token in self.tokens.values():
            token.expires_at = 0.0

    def revoke_refresh_tokens(self) -> None:
        """Make every refresh token issued so far invalid (refresh: invalid_grant)."""
        for token in self.tokens.values():
            token.refresh_expires_at = 0.0

    # ------------------------------------------------------------- scenarios

    async def ring(
        self,
        remote_number: str,
        remote_name: str | None = None,
        *,
        call_type: str = "external",
    ) -> str:
        """An incoming call alerts every endpoint: created/received; its id."""
        party: dict[str, Any] = {"privacyEnabled": False, "callType": call_type}
        if remote_name is not None:
            party["name"] = remote_name
        party["number"] = remote_number
        call = self._new_call("terminator", "alerting", party)
        self._emit(call, "created", "received")
        return call.id

    def _new_call(
        self, personality: Personality, state: State, party: dict[str, Any]
    ) -> SimCall:
        call = SimCall(
            id=webex_id("CALL", f"callhalf-{next(self._call_numbers)}:0"),
            call_session_id=base64.b64encode(self._uuid("session").encode())
            .decode()
            .rstrip("="),
            personality=personality,
            state=state,
            remote_party=party,
        )
        self.calls[call.id] = call
        return call

    def _live(self, call_id: str) -> SimCall:
        call = self.calls[call_id]
        if call.state == "disconnected":
            raise ValueError("call has already ended")
        return call

    async def answer_on_device(self, call_id: str, endpoint_id: str) -> None:
        """The user picks up on one endpoint (not through the API)."""
        call = self._live(call_id)
        if call.state != "alerting":
            raise ValueError("call is not alerting")
        self._answer(call, self.endpoints[endpoint_id])

    async def answer_elsewhere(self, call_id: str) -> None:
        """Another device or agent answers: deleted/disconnected, completedElsewhere."""
        call = self._live(call_id)
        if call.state != "alerting":
            raise ValueError("call is not alerting")
        call.completed_elsewhere = True
        self._disconnect(call)

    async def remote_hangup(self, call_id: str) -> None:
        """The far end hangs up (or gives up ringing): deleted/disconnected."""
        self._disconnect(self._live(call_id))

    async def hold(self, call_id: str) -> None:
        """The user holds the call on their device: updated/held (UNCONFIRMED)."""
        self._set_hold(self._live(call_id), "held")

    async def remote_hold(self, call_id: str) -> None:
        """The far end (same org) holds the call: state remoteHeld."""
        self._set_hold(self._live(call_id), "remoteHeld")

    async def resume(self, call_id: str) -> None:
        """Back to connected: updated/resumed (eventType UNCONFIRMED)."""
        call = self._live(call_id)
        if call.state not in ("held", "remoteHeld"):
            raise ValueError("call is not held")
        call.state = "connected"
        self._emit(call, "updated", "resumed")

    async def dial(self, destination: str, endpoint_id: str | None = None) -> str:
        """Place a call; on a DEVICE endpoint it first alerts as clickToDial."""
        endpoint = self.endpoints[endpoint_id] if endpoint_id else None
        call = self._place(destination, endpoint)
        # UNCONFIRMED: the eventType of a placed call.
        self._emit(call, "created", "originated")
        return call.id

    async def remote_answer(self, call_id: str) -> None:
        """The far end answers an outgoing call: updated/answered."""
        call = self._live(call_id)
        if call.state != "connecting":
            raise ValueError("call is not connecting")
        self._pick_up(call)

    async def pickup(self, call_id: str) -> None:
        """A call placed through the API is answered (see ``_pick_up``)."""
        self._pick_up(self._live(call_id))

    def _pick_up(self, call: SimCall) -> None:
        """Answer a placed call: the user's device first, then the far end.

        The user's device answers a click to dial first. A transfer's call,
        once answered, completes the transfer: the call it carries and itself
        are disconnected.
        """
        if call.personality == "clickToDial" and call.state == "alerting":
            call.personality = "originator"
            call.state = "connecting"
            self._emit(call, "updated", "updated")
        if call.state != "connecting":
            raise ValueError("call is not being placed")
        call.state = "connected"
        call.answered = _utcnow()
        self._emit(call, "updated", "answered")
        carried = self.calls.get(call.transfer_of or "")
        if carried is not None and carried.state != "disconnected":
            # UNCONFIRMED: the events of a completed mute transfer.
            carried.sent_to = str(call.remote_party.get("number"))
            self._disconnect(carried)
            self._disconnect(call)

    def _placed_call(self, call: SimCall) -> None:
        """A call placed through the API: created/originated, then answered later."""
        call.placed = True
        # UNCONFIRMED: the eventType of a placed call.
        self._emit(call, "created", "originated")
        if self.pickup_delay is None or self._closing:
            return
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def answer() -> None:
            if timer is not None:
                self._timers.discard(timer)
            if call.state in ("alerting", "connecting"):
                self._pick_up(call)

        timer = loop.call_later(self.pickup_delay, answer)
        self._timers.add(timer)

    def _answer(self, call: SimCall, endpoint: SimEndpoint) -> None:
        call.endpoint_id = endpoint.id
        if call.personality == "clickToDial":
            # The user's device picked up: the call now goes out.
            call.personality = "originator"
            call.state = "connecting"
            self._emit(call, "updated", "updated")
            return
        call.state = "connected"
        call.answered = _utcnow()
        self._emit(call, "updated", "answered")

    def _disconnect(self, call: SimCall) -> None:
        call.state = "disconnected"
        call.disconnected = _utcnow()
        self._emit(call, "deleted", "disconnected")

    def _set_hold(self, call: SimCall, state: State) -> None:
        if call.state != "connected":
            raise ValueError("call is not connected")
        call.state = state
        self._emit(call, "updated", "held")

    def _place(self, destination: str, endpoint: SimEndpoint | None) -> SimCall:
        party = {"number": destination, "privacyEnabled": False, "callType": "external"}
        if endpoint is not None and endpoint.type == "DEVICE":
            call = self._new_call("clickToDial", "alerting", party)
        else:
            call = self._new_call("originator", "connecting", party)
        call.endpoint_id = endpoint.id if endpoint else None
        return call

    # -------------------------------------------------------- fault control

    def fail_next(
        self,
        status: int,
        path_contains: str | None = None,
        retry_after: float | None = None,
        count: int = 1,
        *,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching /v1 requests with ``status``."""
        headers = retry_after_headers(retry_after) or None
        self._faults.add(
            lambda _request: error_response(status, message, headers=headers),
            times=count,
            matches=path_match(path_contains),
        )

    def slow_next(
        self, seconds: float, *, count: int = 1, path_contains: str | None = None
    ) -> None:
        """Delay the responses to the next ``count`` matching /v1 requests."""
        self._slows.add(seconds, times=count, matches=path_match(path_contains))

    def drop_next_webhook(self, count: int = 1) -> None:
        """Lose the next ``count`` events: recorded as dropped, never sent."""
        self._drops += count

    def hold_webhooks(self) -> None:
        """Queue events instead of delivering them."""
        self._outbox.hold()

    async def release_webhooks(self, *, reverse: bool = False) -> None:
        """Deliver the held events (newest first if ``reverse``); stop holding.

        Returns once the released deliveries have finished.
        """
        await self._outbox.release(reverse=reverse)

    async def wait_for_webhooks(self) -> None:
        """Wait until API requests are answered and every delivery has finished."""
        await self._delivered(requests_too=True)

    # ------------------------------------------------------------------ auth

    def _refuse(self, request: web.Request) -> web.StreamResponse | None:
        if request.path in _OPEN_PATHS:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        token = self.tokens.get(given) if scheme == "Bearer" else None
        if token is None or token.expires_at <= time.time():
            return error_response(401)
        request[_TOKEN] = token
        return None

    @staticmethod
    def _need_scope(request: web.Request, scope: str | None) -> None:
        if scope is not None and scope not in request[_TOKEN].scopes:
            raise _ApiError(403, f"Missing required scope: {scope}")

    # ----------------------------------------------------------------- OAuth

    async def _authorize(self, request: web.Request) -> web.Response:
        """Sign-in and consent happen at once: redirect back with a code."""
        query = request.query
        redirect_uri = query.get("redirect_uri")
        if query.get("client_id") != self.client_id or not redirect_uri:
            raise _ApiError(400, "Invalid client_id or redirect_uri.")
        if query.get("response_type") != "code":
            raise _ApiError(400, "response_type must be code.")
        scopes = frozenset(query.get("scope", "").split())
        if not scopes <= set(ALL_SCOPES):
            raise _ApiError(400, "Invalid scope.")
        code = secrets.token_urlsafe(32)
        self._codes[code] = {"redirect_uri": redirect_uri, "scopes": scopes}
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        raise web.HTTPFound(f"{redirect_uri}{separator}{urlencode(params)}")

    async def _access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return _oauth_error(401, "invalid_client", "Invalid client credentials.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self._codes.pop(str(form.get("code", "")), None)
            if code is None or code["redirect_uri"] != form.get("redirect_uri"):
                return _oauth_error(400, "invalid_grant", "Invalid authorization code.")
            return web.json_response(self._new_token(code["scopes"], None))
        if grant == "refresh_token":
            refresh = str(form.get("refresh_token", ""))
            token = self._by_refresh(refresh) if refresh else None
            if token is None or token.refresh_expires_at <= time.time():
                return _oauth_error(
                    400, "invalid_grant", "The refresh token is invalid or expired."
                )
            return web.json_response(self._new_token(token.scopes, refresh))
        return _oauth_error(
            400, "unsupported_grant_type", "grant_type is not supported."
        )

    # ----------------------------------------------------- people, endpoints

    async def _people_me(self, request: web.Request) -> web.Response:
        self._need_scope(request, self.people_scope)
        return web.json_response(self.person)

    async def _endpoints(self, request: web.Request) -> web.Response:
        self._need_scope(request, "spark:telephony_config_read")
        return web.json_response(
            {
                "endpoints": [
                    {
                        "id": endpoint.id,
                        "type": endpoint.type,
                        "name": endpoint.name,
                        "isPreferredAnswerEndpoint": endpoint.id
                        == self.preferred_endpoint_id,
                    }
                    for endpoint in self.endpoints.values()
                    # Documented: "The list of endpoints is empty if the person
                    # has no endpoints assigned which support the preferred
                    # answer endpoint functionality."
                    if endpoint.preferred_capable
                ]
            }
        )

    async def _get_preferred(self, request: web.Request) -> web.Response:
        self._need_scope(request, "spark:telephony_config_read")
        endpoint = self.endpoints.get(self.preferred_endpoint_id or "")
        if endpoint is None:
            # Documented: no preferred endpoint set -> the API returns empty.
            return web.json_response({})
        return web.json_response(
            {"id": endpoint.id, "type": endpoint.type, "name": endpoint.name}
        )

    async def _put_preferred(self, request: web.Request) -> web.Response:
        self._need_scope(request, "spark:telephony_config_write")
        body = await self._json_body(request)
        wanted = body.get("id")
        if wanted is not None and not self._preferred_capable(wanted):
            raise _ApiError(400, "Invalid endpoint id.")
        self.preferred_endpoint_id = wanted
        # UNCONFIRMED: the success status of this PUT.
        return web.Response(status=204)

    # ------------------------------------------------------------------ calls

    def _call_object(self, call: SimCall, *, key: str = "id") -> dict[str, Any]:
        data: dict[str, Any] = {
            key: call.id,
            "callSessionId": call.call_session_id,
            "personality": call.personality,
            "state": call.state,
            "remoteParty": dict(call.remote_party),
            "appearance": 1,
            "created": _iso(call.created),
        }
        if call.answered is not None:
            data["answered"] = _iso(call.answered)
        data["muteCapable"] = call.state in ("connected", "held", "remoteHeld")
        data["muted"] = False
        return data

    async def _list_calls(self, request: web.Request) -> web.Response:
        self._need_scope(request, "spark:calls_read")
        return web.json_response(
            {
                "items": [
                    self._call_object(call)
                    for call in self.calls.values()
                    if call.state != "disconnected"
                ]
            }
        )

    async def _get_call(self, request: web.Request) -> web.Response:
        self._need_scope(request, "spark:calls_read")
        call = self.calls.get(request.match_info["call_id"])
        if call is None or call.state == "disconnected":
            raise _ApiError(404, "Call not found.")
        return web.json_response(self._call_object(call))

    async def _command(self, request: web.Request) -> web.Response:
        self._need_scope(request, "spark:calls_write")
        command = request.match_info["command"]
        body = await self._json_body(request)
        if command == "dial":
            return self._dial_command(request, body)
        if command == "transfer":
            return self._transfer_command(request, body)
        if command not in (
            "answer",
            "reject",
            "hangup",
            "hold",
            "resume",
            "divert",
            "transmitDtmf",
        ):
            raise _ApiError(404)
        call_id = _required_string(body, "callId")
        call = self.calls.get(call_id)
        if call is None or call.state == "disconnected":
            # UNCONFIRMED: what Webex answers for an unknown or ended call.
            raise _ApiError(404, "Call not found.")
        emit = self._run_command(command, call, body)
        call.commands.append({**body, "command": command})
        after_response(request, emit)
        return web.Response(status=204)

    def _wrong_state(self, message: str) -> _ApiError:
        return _ApiError(self.wrong_state_status, message)

    def _run_command(
        self, command: str, call: SimCall, body: dict[str, Any]
    ) -> Callable[[], None]:
        """Check and apply one command; return what emits its events."""
        if command == "divert":
            return self._divert(call, body)
        if command == "transmitDtmf":
            return self._transmit_dtmf(call, body)
        if command == "answer":
            endpoint = self._answer_endpoint(body)
            if call.state != "alerting":
                raise self._wrong_state("The device is not alerting for the call.")
            return lambda: self._answer(call, endpoint)
        if command == "reject":
            action = body.get("action", "busy")
            if action not in _REJECT_ACTIONS:
                raise _ApiError(400, "Invalid action.")
            if call.state != "alerting" or call.personality != "terminator":
                raise self._wrong_state(
                    "Only an alerting incoming call can be rejected."
                )
            call.reject_action = str(action)
            # "ignore" stops alerting the user's devices while the caller keeps
            # hearing ringback; the events it causes are UNCONFIRMED: the user's
            # call is gone (deleted/disconnected), as for busy.
            return lambda: self._disconnect(call)
        if command == "hangup":
            if call.state == "alerting" and call.personality == "terminator":
                call.reject_action = "busy"  # documented: rejected and sent to busy
            return lambda: self._disconnect(call)
        if command == "hold":
            if call.state != "connected":
                raise self._wrong_state("Only a connected call can be held.")
            return lambda: self._set_hold(call, "held")
        if call.state != "held":
            raise self._wrong_state("Only a held call can be resumed.")

        def resume() -> None:
            call.state = "connected"
            self._emit(call, "updated", "resumed")

        return resume

    def _divert(self, call: SimCall, body: dict[str, Any]) -> Callable[[], None]:
        """Divert (blind transfer): the call leaves the user at once."""
        to_voicemail = body.get("toVoicemail", False)
        if not isinstance(to_voicemail, bool):
            raise _ApiError(400, "toVoicemail must be true or false.")
        destination = body.get("destination")
        if destination is not None:
            destination = _required_string(body, "destination")
        elif not to_voicemail:
            # As documented: without voicemail, a destination is required.
            raise _ApiError(400, "destination is required if toVoicemail is false.")
        if call.state == "connecting" or call.personality == "clickToDial":
            # UNCONFIRMED: whether a call still being placed can be diverted.
            raise self._wrong_state("A call being placed cannot be diverted.")
        call.sent_to = "voicemail" if to_voicemail else destination
        return lambda: self._disconnect(call)

    def _transmit_dtmf(self, call: SimCall, body: dict[str, Any]) -> Callable[[], None]:
        """Send DTMF to the far end: 204 and no event."""
        dtmf = _required_string(body, "dtmf")
        if not set(dtmf) <= _DTMF_KEYS:
            raise _ApiError(400, "dtmf may hold only 0-9, *, #, A-D and commas.")
        if call.state != "connected":
            # UNCONFIRMED: the refusal for a call that is not connected.
            raise self._wrong_state("DTMF can be sent on a connected call only.")
        call.dtmf.append(dtmf)
        return lambda: None

    def _transfer_command(
        self, request: web.Request, body: dict[str, Any]
    ) -> web.Response:
        """Transfer two calls together (204), or one to a destination (201)."""
        first, second, destination = self._transfer_parties(body)
        for call in (first, second):
            if call is not None and call.state not in _ANSWERED:
                raise self._wrong_state(
                    "Unanswered incoming calls cannot be transferred but can be "
                    "diverted."
                )
        first.commands.append({**body, "command": "transfer"})
        if second is not None:
            # Attended: the two calls are joined and leave the user.
            first.sent_to, second.sent_to = second.id, first.id

            def join() -> None:
                self._disconnect(first)
                self._disconnect(second)

            after_response(request, join)
            return web.Response(status=204)
        # Mute transfer: a call to the destination, transferring once answered.
        party = {"number": destination, "privacyEnabled": False, "callType": "external"}
        consult = self._new_call("originator", "connecting", party)
        consult.transfer_of = first.id
        consult.endpoint_id = first.endpoint_id
        after_response(request, lambda: self._placed_call(consult))
        return web.json_response(
            {"callId": consult.id, "callSessionId": consult.call_session_id},
            status=201,
        )

    def _transfer_parties(
        self, body: dict[str, Any]
    ) -> tuple[SimCall, SimCall | None, str | None]:
        """The calls and destination of a transfer, as documented."""
        for name in ("callId1", "callId2", "destination"):
            if body.get(name) is not None:
                _required_string(body, name)
        id1, id2 = body.get("callId1"), body.get("callId2")
        destination = body.get("destination")
        if id1 is None:
            if id2 is not None or destination is not None:
                raise _ApiError(
                    400,
                    "callId1 is mandatory if either callId2 or destination is "
                    "provided.",
                )
            live = [c for c in self.calls.values() if c.state != "disconnected"]
            if len(live) != 2:
                raise _ApiError(
                    400, "callId1 and callId2 are mandatory unless there are two calls."
                )
            return live[0], live[1], None
        if (id2 is None) == (destination is None):
            # UNCONFIRMED: the answer when both (or neither) are given.
            raise _ApiError(400, "Give callId2 or destination with callId1.")
        calls = [self.calls.get(call_id) for call_id in (id1, id2) if call_id]
        if any(call is None or call.state == "disconnected" for call in calls):
            raise _ApiError(404, "Call not found.")
        first, *rest = [call for call in calls if call is not None]
        return first, rest[0] if rest else None, destination

    def _answer_endpoint(self, body: dict[str, Any]) -> SimEndpoint:
        endpoint_id = body.get("endpointId")
        if endpoint_id is None:
            # "When no endpointId is specified, the call is answered on the
            # user's primary device." Taken here as the preferred answer
            # endpoint when one is set, else the first endpoint (UNCONFIRMED
            # which device Webex calls primary).
            endpoint_id = self.preferred_endpoint_id or next(iter(self.endpoints), "")
        elif not self._preferred_capable(endpoint_id):
            endpoint_id = ""
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise _ApiError(
                400,
                "The endpointId must be one of the endpointIds returned by the Get "
                "Preferred Answer Endpoint API.",
            )
        if not endpoint.answer_capable:
            raise self._wrong_state("The device does not support answer via API.")
        return endpoint

    def _preferred_capable(self, endpoint_id: Any) -> bool:
        endpoint = self.endpoints.get(endpoint_id) if endpoint_id else None
        return endpoint is not None and endpoint.preferred_capable

    def _dial_command(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        destination = _required_string(body, "destination")
        endpoint_id = body.get("endpointId")
        endpoint = self.endpoints.get(endpoint_id) if endpoint_id else None
        if endpoint_id and endpoint is None:
            raise _ApiError(400, "Invalid endpointId.")
        call = self._place(destination, endpoint)
        after_response(request, lambda: self._placed_call(call))
        return web.json_response(
            {"callId": call.id, "callSessionId": call.call_session_id}, status=201
        )

    # --------------------------------------------------------------- webhooks

    def _webhook(self, request: web.Request) -> dict[str, Any]:
        webhook = self.webhooks.get(request.match_info["webhook_id"])
        if webhook is None:
            raise _ApiError(404)
        return webhook

    async def _list_webhooks(self, request: web.Request) -> web.Response:
        try:
            size = int(request.query.get("max", _PAGE_MAX))
            start = int(request.query.get("cursor", "0"))
        except ValueError:
            raise _ApiError(400, "max and cursor must be whole numbers.") from None
        if not 1 <= size <= _PAGE_MAX or start < 0:
            raise _ApiError(400, f"max must be between 1 and {_PAGE_MAX}.")
        items = list(self.webhooks.values())
        headers = {}
        if start + size < len(items):
            # Webex's cursor is opaque; an offset serves here.
            next_url = request.url.update_query(
                {"max": str(size), "cursor": str(start + size)}
            )
            headers["Link"] = f'<{next_url}>; rel="next"'
        return web.json_response(
            {"items": items[start : start + size]}, headers=headers
        )

    async def _create_webhook(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        name = _required_string(body, "name")
        target_url = _required_string(body, "targetUrl")
        resource = _required_string(body, "resource")
        event = _required_string(body, "event")
        if not target_url.startswith(("http://", "https://")):
            raise _ApiError(400, "targetUrl must be an http or https URL.")
        if resource not in _WEBHOOK_RESOURCES or event not in _WEBHOOK_EVENTS:
            raise _ApiError(400, "Unsupported resource or event.")
        if resource == "telephony_calls":
            # "Creating a webhook requires 'read' scope on the resource".
            self._need_scope(request, "spark:calls_read")
        secret = body.get("secret")
        webhook_id = self.add_webhook(
            name,
            target_url,
            resource=resource,
            event=event,
            secret=secret if isinstance(secret, str) and secret else None,
        )
        return web.json_response(self.webhooks[webhook_id])

    async def _get_webhook(self, request: web.Request) -> web.Response:
        return web.json_response(self._webhook(request))

    async def _update_webhook(self, request: web.Request) -> web.Response:
        webhook = self._webhook(request)
        body = await self._json_body(request)
        name = _required_string(body, "name")
        target_url = _required_string(body, "targetUrl")
        status = body.get("status", webhook["status"])
        if status not in ("active", "inactive"):
            raise _ApiError(400, "status must be active or inactive.")
        webhook.update(name=name, targetUrl=target_url, status=status)
        if isinstance(body.get("secret"), str):
            webhook["secret"] = body["secret"]
        if status == "active":
            self._failures.pop(webhook["id"], None)
        return web.json_response(webhook)

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        webhook = self._webhook(request)
        del self.webhooks[webhook["id"]]
        return web.Response(status=204)

    # --------------------------------------------------------- control routes

    async def _control_ring(self, body: dict[str, Any]) -> dict[str, Any]:
        number = body.get("number")
        if not isinstance(number, str) or not number:
            raise ValueError("number is required")
        name = body.get("name")
        call_id = await self.ring(number, name if isinstance(name, str) else None)
        return {"callId": call_id}

    async def _control_hangup(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.remote_hangup(str(body["callId"]))
        return {"result": "ok"}

    async def _control_answer_elsewhere(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.answer_elsewhere(str(body["callId"]))
        return {"result": "ok"}

    async def _control_pickup(self, body: dict[str, Any]) -> dict[str, Any]:
        call_id = body.get("call_id", body.get("callId"))
        await self.pickup(str(call_id))
        return {"result": "ok"}

    async def _control_press(self, body: dict[str, Any]) -> dict[str, Any]:
        del body  # there is nothing to press
        raise web.HTTPConflict(text=_NO_DTMF)

    # ------------------------------------------------------------- deliveries

    def _next_stamp(self) -> str:
        now = _utcnow()
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return _iso(now)

    def _emit(self, call: SimCall, event: str, event_type: str) -> None:
        """Snapshot ``call`` as an event's data and deliver (or hold) it."""
        data = self._call_object(call, key="callId")
        if call.endpoint_id is not None and call.endpoint_id in self.endpoints:
            data["endpointId"] = call.endpoint_id
            data["endpointType"] = self.endpoints[call.endpoint_id].type
        if call.disconnected is not None:
            data["disconnected"] = _iso(call.disconnected)
        data["eventType"] = event_type
        data["eventTimestamp"] = self._next_stamp()
        data["completedElsewhere"] = call.completed_elsewhere
        item = _Event(call.id, event, data, self.duplicate_webhooks)
        self._queue(item)

    def _chain_of(self, event: _Event) -> str:
        return event.call_id

    async def _deliver_events(self, events: list[_Event]) -> None:
        for event in events:
            dropped = self._drops > 0
            if dropped:
                self._drops -= 1
            for webhook in list(self.webhooks.values()):
                if self._wants(webhook, event):
                    await self._deliver(webhook, event, dropped=dropped)

    @staticmethod
    def _wants(webhook: Mapping[str, Any], event: _Event) -> bool:
        return (
            webhook["resource"] == "telephony_calls"
            and webhook["status"] == "active"
            and webhook["event"] in ("all", event.event)
        )

    def _envelope(self, webhook: Mapping[str, Any], event: _Event) -> dict[str, Any]:
        """The observed envelope: data first, then the webhook's own fields."""
        envelope: dict[str, Any] = {
            "data": event.data,
            "resource": webhook["resource"],
            "created": webhook["created"],
            "orgId": webhook["orgId"],
            "actorId": self.person["id"],
            "createdBy": webhook["createdBy"],
            "appId": webhook["appId"],
            "name": webhook["name"],
            "id": webhook["id"],
            "event": event.event,
            "targetUrl": webhook["targetUrl"],
            "ownedBy": webhook["ownedBy"],
            "status": webhook["status"],
        }
        if "filter" in webhook:
            envelope["filter"] = webhook["filter"]
        return envelope

    async def _deliver(
        self, webhook: dict[str, Any], event: _Event, *, dropped: bool
    ) -> None:
        envelope = self._envelope(webhook, event)
        if dropped:
            self._log(webhook, event, envelope, None, dropped=True)
            return
        body = json.dumps(envelope, separators=(",", ":")).encode()
        copies = 2 if event.duplicate else 1
        for _ in range(copies):
            for delay in (0.0, *self._retry_delays):
                if delay:
                    await asyncio.sleep(delay)
                status = await self._post(webhook, body)
                self._log(webhook, event, envelope, status, dropped=False)
                if self._count(webhook, status):
                    break
            else:
                return

    def _count(self, webhook: dict[str, Any], status: int | None) -> bool:
        """Count a failure (auto-disable after enough); True when delivered."""
        if status is not None and 200 <= status < 300:
            self._failures.pop(webhook["id"], None)
            return True
        failures = self._failures.get(webhook["id"], 0) + 1
        self._failures[webhook["id"]] = failures
        if failures >= self.auto_disable_after:
            # UNCONFIRMED threshold: Webex disables webhooks that keep failing.
            webhook["status"] = "inactive"
        return False

    async def _post(self, webhook: Mapping[str, Any], body: bytes) -> int | None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "TrackingID": f"WH_{uuid.uuid4()}",
        }
        secret = webhook.get("secret")
        if secret:
            key = secrets.token_hex(16) if self.bad_signatures else secret
            headers["X-Spark-Signature"] = sign(key, body)
        posted = await self._poster.post(webhook["targetUrl"], body, headers)
        return posted.status

    def _log(
        self,
        webhook: Mapping[str, Any],
        event: _Event,
        envelope: dict[str, Any],
        status: int | None,
        *,
        dropped: bool,
    ) -> None:
        self.deliveries.append(
            SimDelivery(
                webhook_id=webhook["id"],
                url=webhook["targetUrl"],
                event=event.event,
                event_type=event.data["eventType"],
                call_id=event.call_id,
                status=status,
                dropped=dropped,
                envelope=envelope,
            )
        )

    # ---------------------------------------------------------- command line

    @classmethod
    def demo(cls, options: argparse.Namespace) -> Self:
        """Grace Hopper with a desk phone and the Webex app."""
        del options  # nothing to choose
        simulator = cls(
            phone_number="+1 555 010 0100",
            client_id=_DEMO_CLIENT_ID,
            client_secret=_DEMO_CLIENT_SECRET,
        )
        simulator.add_endpoint("Cisco 8865 (Kitchen)", "DEVICE")
        simulator.add_endpoint("Webex Desktop Application", "APPLICATION")
        return simulator

    def demo_credentials(self) -> list[tuple[str, str]]:
        return [("client id", self.client_id), ("client secret", self.client_secret)]

    def demo_details(self) -> list[tuple[str, str]]:
        """The OAuth URLs and a freshly issued token pair."""
        tokens = self.issue_tokens()
        return [
            ("authorize", self.authorize_url),
            ("token", self.token_url),
            ("access token", tokens["access_token"]),
            ("refresh token", tokens["refresh_token"]),
            ("person", self.person["displayName"]),
        ]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the demo simulator until interrupted (see ``--help``)."""
    WebexSimulator.main(argv)


if __name__ == "__main__":
    main()
