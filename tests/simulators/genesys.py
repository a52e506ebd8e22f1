"""Local simulator of Genesys Web Services (GWS API v2) and its CometD server.

It follows ``/work/shared/reference/genesys.md`` and the Answer / Calls API
pages: HTTP Basic auth on every request, a ``JSESSIONID`` cookie, the
``X-CSRF-HEADER`` / ``X-CSRF-TOKEN`` pair on GET responses and enforced on
every POST (403 "Missing or invalid Csrf token"), ``statusCode`` envelopes
(HTTP 400 for 1/2/10, 401 for 20, 403 for 3/5, 404 for 6, 500 for 4, as the
reference suggests), the user, devices and calls resources, call operations
checked against the call's ``capabilities`` (statusCode 2 otherwise), and a
CometD 3 long-polling server at ``/api/v2/notifications`` (handshake,
subscribe with ``*`` / ``**`` wildcards, ``/meta/connect`` held up to
``advice.timeout``, a client's own ``advice.timeout``, ``402::Unknown client``
with ``reconnect: handshake``, ``maxInterval`` expiry, disconnect).

Used from tests::

    sim = GenesysSimulator(cometd_timeout=1.0, max_interval=2.0)
    desk = sim.add_device("5005")
    public = sim.add_device("+15550100777", telephony_network="Public")
    await sim.start()               # sim.base_url: what a user enters
    await sim.wait_for_connected()  # a CometD client subscribed and polling
    call_id = sim.ring(desk, caller="+15551234567")
    await sim.wait_for_delivered()  # the client has handled what was queued
    sim.answer(call_id)             # the agent answers on the phone
    sim.hold(call_id); sim.retrieve(call_id); sim.remote_hangup(call_id)
    await sim.close()

Scenario methods (synchronous; each publishes a CallStateChangeMessage):
``ring(device_id, caller=..., call_type="Inbound")``, ``dial(device_id,
destination)`` (the agent dials on the phone), ``answer``, ``remote_answer``,
``hold``, ``retrieve``, ``remote_hangup`` (all take the call id),
``set_agent_state(device_id, "NotReady")`` (DeviceStateChangeMessage),
``publish_error(text)`` and ``publish(channel, data)`` for any message.

Commands beyond answering, as the Voice API pages document them: POST
``/api/v2/me/calls/{id}`` with ``SingleStepTransfer`` (``destination``
``{"phoneNumber"}``, optional ``location``, ``userData``) -> ``Released``;
``Hold`` -> ``Held``; ``Retrieve`` (UNCONFIRMED: no page, named in the Held
capabilities) -> ``Established``; ``SendDtmf`` (``digits``) -> a
``DtmfSent`` message, state unchanged. POST
``/api/v2/me/devices/{id}/calls`` with ``Dial`` (``destination``, optional
``location``, ``userData``) -> ``{"statusCode": 0}`` without a call id, then
a ``Dialing`` message; the far end answers (``Established``) after
``pickup_delay`` seconds (default 0.1; None: never, until ``/_sim/pickup``).
An operation not in the call's capabilities answers statusCode 2, a missing
parameter 1, a malformed one 10, an unknown call or device 6. GWS reports no
keys the caller presses: ``/_sim/press`` answers 409.

Faults: ``fail_next(status, status_code=..., message=..., body=...,
path_contains=..., channel=..., count=..., retry_after=...)``,
``slow_next(seconds, ...)``, ``refuse_handshakes(reconnect="none")``,
``drop_connections()`` (pending long-polls cut), ``expire_clients(error=...,
advice=...)`` (next connect: "402::Unknown client" with ``reconnect:
handshake`` advice, or the error given, with or without advice),
``refuse_streams(successful=True)`` / ``accept_streams()`` (every connect
answered ``reconnect: none``, the client forgotten), ``go_offline()`` /
``go_online()`` (503 for everything, long-polls cut), ``await
restart(downtime)`` (connections refused for ``downtime`` seconds, then
back without any CometD client or HTTP session), ``invalidate_csrf()``
(every session forgotten), ``duplicate_next(count)``, ``hold_messages()`` /
``release_messages(reverse=True)``. A Public network device has no Answer.

Log: ``requests`` (every API request, with its monotonic time ``at``),
``published`` (every message), ``handshakes``, ``calls[call_id].operations``
(each accepted operation's body), ``.transferred_to`` and ``.dial`` (the Dial
body of a call dialled over REST).

Standalone, from the repository root (``--help`` lists the routes)::

    python -m tests.simulators.genesys [--host 127.0.0.1] [--port 8092]

It creates the agent ksippo (Kristi Sippola) with the devices 5005 (Private)
and +15550100777 (Public) and prints the URL and credentials (fake test
credentials). Ctrl-C stops it.

Control routes (test-only, no authentication, outside ``/api/v2``):

``POST /_sim/ring``
    Body ``{"device": "5005", "caller": "+15551234567"}`` (a device id or
    number; ``caller`` optional). Answers ``{"call_id": "..."}``.
``POST /_sim/hangup``, ``/_sim/answer``, ``/_sim/hold``, ``/_sim/retrieve``
    Body ``{"call_id": "..."}``. Answers ``{"result": "ok"}``.
``POST /_sim/pickup``
    Body ``{"call_id": "..."}``: the far end answers a dialled call now.
``POST /_sim/press``
    Body ``{"call_id": "...", "digits": "1"}``: always 409 with a plain
    message, since GWS API v2 has no notification of keys the caller presses.
"""

import argparse
import asyncio
import base64
import binascii
from collections.abc import Callable, Sequence
import contextlib
from dataclasses import dataclass, field
from http import HTTPStatus
import itertools
import json
import secrets
import time
from typing import Any, Final, Literal, Self
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.simulators import base
from tests.simulators.base import (
    ApiError,
    BodyProblem,
    Control,
    RequestMatch,
    Simulator,
    after_response,
    raw_reply,
    retry_after_headers,
)

__all__ = [
    "WAIT_LIMIT",
    "CallIdForm",
    "GenesysSimulator",
    "Message",
    "ParticipantsFormat",
    "SimCall",
    "SimDevice",
    "SimRequest",
    "main",
]

type Message = dict[str, Any]
type ParticipantsFormat = Literal["objects", "strings"]
type CallIdForm = Literal["uuid", "connid"]

_CSRF_HEADER: Final = "X-CSRF-TOKEN"
_CSRF_REFUSAL: Final = "Missing or invalid Csrf token"
_SESSION_COOKIE: Final = "JSESSIONID"
_BROWSER_COOKIE: Final = "BAYEUX_BROWSER"
_CALLS_CHANNEL: Final = "/v2/me/calls"
# Why /_sim/press cannot press keys: GWS has nothing to tell a client.
_NO_DTMF: Final = (
    "Genesys Web Services (API v2) reports no keys the caller presses: it has"
    " no DTMF notification, only DtmfSent for the digits the agent sends."
)
_DEVICES_CHANNEL: Final = "/v2/me/devices"
# Longest a wait_for_...() waits before it raises TimeoutError (a safety net).
WAIT_LIMIT: Final = 5.0
_RECHECK: Final = 0.05
_VOICE_ENVIRONMENT: Final = "370ef5e6-9e3c-4d91-9588-7f4dfe67e011"

# statusMessage of each statusCode: the Return Values page.
_STATUS_MESSAGES: Final = {
    1: "A required parameter is missing in the request.",
    2: "A specified parameter is not valid for the current state.",
    3: "The operation is forbidden.",
    4: "An internal error occurred.",
    5: "The user does not have permission to perform this operation.",
    6: "The requested resource could not be found.",
    7: "The operation was partially successful.",
    10: "Input validation error - the provided value is not within the range of"
    " valid values",
    20: "User is not authenticated. Any subsequent request should provide credentials",
}
# HTTP status of each statusCode: UNCONFIRMED, the reference's suggestion.
_HTTP_STATUS: Final = {1: 400, 2: 400, 10: 400, 3: 403, 5: 403, 6: 404, 4: 500, 20: 401}
_STATUS_CODES: Final = {400: 2, 401: 20, 403: 3, 404: 6, 500: 4}

# Capabilities per state. Established, Held and Dialing are the documented
# samples (Answer, Hold, Dial pages); Ringing is UNCONFIRMED (the reference's
# suggestion).
_USER_DATA_CAPS: Final = (
    "AttachUserData",
    "UpdateUserData",
    "DeleteUserData",
    "DeleteUserDataPair",
)
_ESTABLISHED_CAPS: Final = (
    "SingleStepTransfer",
    "InitiateConference",
    "Hold",
    "SingleStepConference",
    "InitiateTransfer",
    "SendDtmf",
    "DeleteUserData",
    "AttachUserData",
    "DeleteUserDataPair",
    "Hangup",
    "UpdateUserData",
)
# The Dial sample's Dialing call.
_DIALING_CAPS: Final = (
    "SendDtmf",
    "DeleteUserData",
    "AttachUserData",
    "DeleteUserDataPair",
    "Hangup",
    "UpdateUserData",
)
_HELD_CAPS: Final = (
    "SingleStepTransfer",
    "InitiateConference",
    "Retrieve",
    "SingleStepConference",
    "InitiateTransfer",
    "DeleteUserData",
    "AttachUserData",
    "DeleteUserDataPair",
    "Hangup",
    "UpdateUserData",
)
# operationName -> (state it leads to, notificationType)
_OPERATIONS: Final = {
    "Answer": ("Established", "StatusChange"),
    "Hangup": ("Released", "StatusChange"),
    "Hold": ("Held", "StatusChange"),
    "Retrieve": ("Established", "StatusChange"),
    "SingleStepTransfer": ("Released", "StatusChange"),
    "AttachUserData": (None, "AttachedDataChanged"),
    "UpdateUserData": (None, "AttachedDataChanged"),
    "DeleteUserData": (None, "AttachedDataChanged"),
    "SendDtmf": (None, "DtmfSent"),
}

_SESSION: Final = web.RequestKey[str]("genesys_sim_session")
_NEW_SESSION: Final = web.RequestKey[bool]("genesys_sim_new_session")


@dataclass
class SimDevice:
    """One agent device (DN)."""

    device_id: str
    phone_number: str
    telephony_network: str = "Private"
    user_state: str = "Ready"


@dataclass
class SimCall:
    """One call on one of the agent's devices."""

    call_uuid: str
    conn_id: str
    device_id: str
    call_type: str
    state: str
    other_party: str
    dnis: str
    ani: str | None
    started: float = field(default_factory=time.monotonic)
    user_data: dict[str, Any] = field(default_factory=dict)
    operations: list[dict[str, Any]] = field(default_factory=list)
    # Where a SingleStepTransfer sent the call.
    transferred_to: str | None = None
    # The body of the Dial that placed the call (None: not dialled over REST).
    dial: dict[str, Any] | None = None


def _destination(body: dict[str, Any]) -> str:
    """A Dial's or SingleStepTransfer's destination.phoneNumber (statusCode 1)."""
    destination = body.get("destination")
    number = destination.get("phoneNumber") if isinstance(destination, dict) else None
    if not isinstance(number, str) or not number.strip():
        raise _ApiError(1, "destination.phoneNumber is required.")
    return number


def _check_extras(body: dict[str, Any]) -> dict[str, Any]:
    """The optional ``location`` (a string) and ``userData`` (an object)."""
    location = body.get("location")
    if location is not None and not isinstance(location, str):
        raise _ApiError(10, "location must be a string.")
    user_data = body.get("userData", {})
    if not isinstance(user_data, dict):
        raise _ApiError(10, "userData must be an object.")
    return user_data


def _channels(body: Any) -> list[str]:
    """The Bayeux channels of the messages in a CometD request body."""
    messages = body if isinstance(body, list) else [body]
    return [
        str(message.get("channel")) for message in messages if isinstance(message, dict)
    ]


@dataclass(frozen=True)
class SimRequest(base.SimRequest):
    """One API request received by the simulator, at ``at`` (time.monotonic)."""

    at: float = field(default_factory=time.monotonic)

    @property
    def channels(self) -> list[str]:
        """The Bayeux channels of a CometD request."""
        return _channels(self.body)


def _request_match(path_contains: str | None, channel: str | None) -> RequestMatch:
    """Match a path fragment and a Bayeux channel; a None matches anything."""

    def matches(request: base.SimRequest) -> bool:
        if path_contains is not None and path_contains not in request.path:
            return False
        return channel is None or channel in _channels(request.body)

    return matches


@dataclass
class _CometClient:
    client_id: str
    subscriptions: set[str] = field(default_factory=set)
    queue: list[Message] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    polling: int = 0
    poll_generation: int = 0
    last_seen: float = field(default_factory=time.monotonic)
    # Messages went out in a reply; cleared by the client's next connect.
    unacknowledged: bool = False
    gone: bool = False


class _NoDtmfControl(Control):
    """``/_sim/press``: GWS has no DTMF notification, so 409 and a plain text."""

    async def handle(self, request: web.Request) -> web.Response:
        """Refuse, whatever the body."""
        await request.read()
        return web.Response(status=409, text=_NO_DTMF)


async def _never(_body: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover
    raise ValueError(_NO_DTMF)


class _ApiError(ApiError):
    """Raised by handlers; turned into a statusCode envelope."""

    def __init__(self, status_code: int, message: str | None = None) -> None:
        super().__init__(_HTTP_STATUS.get(status_code, 400), message)
        self.status_code = status_code

    def response(self) -> web.Response:
        return _status_response(self.status_code, self.message)


def _status_response(
    status_code: int, message: str | None = None, http_status: int | None = None
) -> web.Response:
    body = {
        "statusCode": status_code,
        "statusMessage": message or _STATUS_MESSAGES.get(status_code, "Error"),
    }
    return web.json_response(
        body, status=http_status or _HTTP_STATUS.get(status_code, 400)
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"statusCode": 0, **extra})


def _channel_matches(pattern: str, channel: str) -> bool:
    """Bayeux globbing: ``*`` is one segment, ``**`` any number."""
    if pattern.endswith("/**"):
        return channel.startswith(pattern[:-2])
    if pattern.endswith("/*"):
        prefix = pattern[:-1]
        return channel.startswith(prefix) and "/" not in channel[len(prefix) :]
    return pattern == channel


def _fault_reply(
    status: int,
    status_code: int | None,
    message: str | None,
    body: str | None,
    retry_after: float | str | None,
) -> web.Response:
    """An injected error: ``body`` verbatim, a statusCode envelope, or a proxy's."""
    headers = retry_after_headers(retry_after)
    if body is not None:
        return raw_reply(status, body, headers)
    if status_code is None:
        status_code = _STATUS_CODES.get(status)
    if status_code is None:
        reason = message or _phrase(status)
        return web.Response(status=status, text=reason, headers=headers)
    response = _status_response(status_code, message, status)
    response.headers.update(headers)
    return response


class GenesysSimulator(Simulator[SimRequest]):
    """Fake Genesys Web Services (REST + CometD) for one agent, for tests."""

    title = "Genesys Web Services simulator"
    default_port = 8092
    authentication = (
        "HTTP Basic; a POST also needs the JSESSIONID cookie and X-CSRF-TOKEN of a GET"
    )
    shutdown_timeout = 0.5

    def __init__(
        self,
        *,
        username: str = "ksippo",
        password: str = "Sw1tchb0ard-demo",  # noqa: S107 - a fake test credential
        user_id: str = "63630bbebf4840d7a0bffd6312bc29ff",
        first_name: str = "Kristi",
        last_name: str = "Sippola",
        csrf: bool = True,
        cometd_timeout: float = 30.0,
        cometd_interval: float = 0.0,
        max_interval: float = 15.0,
        participants_format: ParticipantsFormat = "objects",
        call_id_form: CallIdForm = "uuid",
        hangup_while_ringing: bool = True,
        message_ids: bool = True,
        context_path: str = "",
        dtmf_alphabet: str = "0123456789*#",
    ) -> None:
        """Create the simulator; call :meth:`start` to serve it.

        ``cometd_timeout`` / ``cometd_interval`` / ``max_interval`` are in
        seconds (GWS defaults 30 / 0 / 15). ``participants_format`` "strings"
        and ``call_id_form`` "connid" give the older builds' call shape.
        ``hangup_while_ringing`` (UNCONFIRMED in GWS) offers Hangup on a
        ringing call. ``message_ids`` gives each CometD message an id.
        ``dtmf_alphabet`` is what SendDtmf takes: the page says 0-9, T-Server
        sends * and # too (UNCONFIRMED), so the default has them.
        """
        super().__init__(SimRequest)
        self.username = username
        self.password = password
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.csrf = csrf
        self.cometd_timeout = cometd_timeout
        self.cometd_interval = cometd_interval
        self.max_interval = max_interval
        self.participants_format = participants_format
        self.call_id_form = call_id_form
        self.hangup_while_ringing = hangup_while_ringing
        self.message_ids = message_ids
        self.context_path = context_path.rstrip("/")
        self.dtmf_alphabet = dtmf_alphabet
        # Seconds until the far end answers a call dialled over REST; None:
        # never (until /_sim/pickup), so a test can see the call dialling.
        self.pickup_delay: float | None = 0.1
        self._pickups: dict[str, asyncio.TimerHandle] = {}
        self.base_url = ""
        self.devices: dict[str, SimDevice] = {}
        self.calls: dict[str, SimCall] = {}
        self.published: list[Message] = []
        self.handshakes = 0
        self.contact_center_operations: list[str] = []
        self._sessions: dict[str, str] = {}
        self._clients: dict[str, _CometClient] = {}
        self._device_ids = itertools.count(1)
        self._call_numbers = itertools.count(1)
        self._message_numbers = itertools.count(1)
        self._handshake_refusals: list[str] = []
        self._duplicates = 0
        self._holding = False
        self._held: list[Message] = []
        self._offline = False
        # How the server answers a client it does not know.
        self.unknown_client_error = "402::Unknown client"
        self.unknown_client_advice = True
        # None: connects are served; else the "successful" of a reconnect none.
        self._stream_refusal: bool | None = None
        self._cuts = 0
        self._changed = asyncio.Event()
        self._closed = asyncio.Event()

    # ------------------------------------------------------------------ setup

    @property
    def api(self) -> str:
        """The path prefix of the REST API."""
        return f"{self.context_path}/api/v2"

    def _api_routes(self) -> list[web.RouteDef]:
        api = self.api
        return [
            web.get(f"{api}/diagnostics/version", self._version),
            web.get(f"{api}/me", self._get_me),
            web.post(f"{api}/me", self._post_me),
            web.post(f"{api}/me/channels/voice", self._post_voice),
            web.get(f"{api}/me/devices", self._get_devices),
            web.post(f"{api}/me/devices/{{device_id}}/calls", self._post_dial),
            web.get(f"{api}/me/calls", self._get_calls),
            web.get(f"{api}/me/calls/{{call_id}}", self._get_call),
            web.post(f"{api}/me/calls/{{call_id}}", self._post_operation),
            web.post(f"{api}/notifications", self._notifications),
        ]

    def _controls(self) -> list[Control]:
        call_id = '{"call_id": "..."}: '
        return [
            Control(
                "ring",
                self._control_ring,
                '{"device": "5005", "caller": "+15551234567"} (a device id or'
                ' number;\ncaller optional): a call rings; answers {"call_id": "..."}',
            ),
            Control(
                "hangup",
                self._call_control(self.remote_hangup),
                f"{call_id}the far end hangs up",
            ),
            Control(
                "answer",
                self._call_control(self.answer),
                f"{call_id}the agent answers on the phone",
            ),
            Control("hold", self._call_control(self.hold), f"{call_id}the agent holds"),
            Control(
                "retrieve",
                self._call_control(self.retrieve),
                f"{call_id}the agent takes the call off hold",
            ),
            Control(
                "pickup",
                self._call_control(self.pickup),
                f"{call_id}the far end answers a dialled call now",
            ),
            _NoDtmfControl(
                "press",
                _never,
                '{"call_id": "...", "digits": "1"}: answers 409 (plain text): GWS API'
                "\nv2 reports no keys the caller presses",
            ),
        ]

    def _started(self, root: str) -> str:
        self.base_url = f"{root}{self.context_path}"
        return self.base_url

    def _bad_body(self, problem: BodyProblem) -> Exception:
        return _ApiError(1, problem)

    def _http_error(self, status: int) -> web.StreamResponse | None:
        if status == 405:
            return _status_response(1, "Method not allowed.", 405)
        return _status_response(6) if status == 404 else None

    def _stopping(self) -> None:
        """Release pending long-polls and delayed requests."""
        self._closed.set()
        for handle in self._pickups.values():
            handle.cancel()
        self._pickups.clear()
        for client in self._clients.values():
            self._wake(client)

    @property
    def _origin(self) -> str:
        return self.base_url.removesuffix(self.context_path) or "http://127.0.0.1"

    # ----------------------------------------------------------- data set-up

    def add_device(self, phone_number: str, telephony_network: str = "Private") -> str:
        """Give the agent a device; return its id."""
        number = next(self._device_ids)
        device_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"genesys-sim-device-{number}"))
        self.devices[device_id] = SimDevice(device_id, phone_number, telephony_network)
        return device_id

    def device_id(self, phone_number: str) -> str:
        """The id of the device with ``phone_number``."""
        for device in self.devices.values():
            if device.phone_number == phone_number:
                return device.device_id
        raise KeyError(phone_number)

    def _device_resource(self, device: SimDevice) -> dict[str, Any]:
        ready = device.user_state == "Ready"
        return {
            "id": device.device_id,
            "deviceState": "Active",
            "userState": {
                "id": "9430250E-0A1B-421F-B372-F29E69366DED"
                if ready
                else "900D55CC-2BB0-431F-8BF9-D3525B383BE6",
                "displayName": "Ready" if ready else "Not Ready",
                "state": device.user_state,
            },
            "phoneNumber": device.phone_number,
            "e164Number": device.phone_number,
            "telephonyNetwork": device.telephony_network,
            "doNotDisturb": "Off",
            "voiceEnvironmentUri": (
                f"{self._origin}/api/v2/voice-environments/{_VOICE_ENVIRONMENT}"
            ),
            "capabilities": ["ForwardCallsOn", "DoNotDisturbOn"],
        }

    def _call_key(self, call: SimCall) -> str:
        return call.conn_id if self.call_id_form == "connid" else call.call_uuid

    def _capabilities(self, call: SimCall) -> list[str]:
        if call.state == "Ringing":
            device = self.devices[call.device_id]
            # "Web Services doesn't include the Answer operation in the
            # capabilities for incoming calls on [a Public] device."
            answer = [] if device.telephony_network == "Public" else ["Answer"]
            hangup = ["Hangup"] if self.hangup_while_ringing else []
            return [*answer, *hangup, *_USER_DATA_CAPS]
        if call.state == "Dialing":
            return list(_DIALING_CAPS)
        if call.state == "Established":
            return list(_ESTABLISHED_CAPS)
        if call.state == "Held":
            return list(_HELD_CAPS)
        return []

    def _participants(self, call: SimCall) -> dict[str, Any]:
        details = {
            "digits": call.other_party,
            "e164Number": call.other_party,
            "formattedPhoneNumber": call.other_party,
        }
        if self.participants_format == "strings":
            return {"participants": [call.other_party], "participantsInfo": [details]}
        return {"participants": [{**details, "phoneNumber": call.other_party}]}

    def call_resource(self, call_id: str) -> dict[str, Any]:
        """The call as GWS shows it."""
        call = self.calls[call_id]
        key = self._call_key(call)
        resource: dict[str, Any] = {
            "id": key,
            "state": call.state,
            "callUuid": call.call_uuid,
            "connId": call.conn_id,
            "deviceUri": f"{self._origin}/api/v2/devices/{call.device_id}",
            **self._participants(call),
            "dnis": call.dnis,
            "callType": call.call_type,
            "capabilities": self._capabilities(call),
            "userData": dict(call.user_data),
            "duration": str(int(time.monotonic() - call.started)),
            "mute": "Off",
            "supervisorListeningIn": False,
            "monitoredUserMuted": False,
            "monitoring": False,
            "uri": f"{self._origin}{self.api}/me/calls/{key}",
            "path": f"/calls/{key}",
        }
        if call.ani is not None:
            resource["ani"] = call.ani
        return resource

    # ------------------------------------------------------------- scenarios

    def _new_call(
        self,
        device_id: str,
        *,
        call_type: str,
        state: str,
        other_party: str,
        dnis: str,
        ani: str | None,
    ) -> str:
        if device_id not in self.devices:
            raise ValueError(f"unknown device {device_id}")
        number = next(self._call_numbers)
        call = SimCall(
            call_uuid=f"01RCC3N118B1V0SL8O7GK2LAES{number:06X}",
            conn_id=f"007102719260{number:04x}",
            device_id=device_id,
            call_type=call_type,
            state=state,
            other_party=other_party,
            dnis=dnis,
            ani=ani,
        )
        key = self._call_key(call)
        self.calls[key] = call
        self._publish_call(key, "StatusChange")
        return key

    def ring(
        self,
        device_id: str,
        caller: str = "+15551234567",
        *,
        call_type: str = "Inbound",
    ) -> str:
        """A call rings on the device; return its id."""
        device = self.devices.get(device_id)
        return self._new_call(
            device_id,
            call_type=call_type,
            state="Ringing",
            other_party=caller,
            dnis=device.phone_number if device else "",
            ani=caller if call_type == "Inbound" else None,
        )

    def dial(self, device_id: str, destination: str) -> str:
        """The agent dials out from the device (Dialing); return the call id."""
        return self._new_call(
            device_id,
            call_type="Outbound",
            state="Dialing",
            other_party=destination,
            dnis=destination,
            ani=None,
        )

    def _change(self, call_id: str, state: str, *expected: str) -> None:
        call = self.calls[call_id]
        if call.state not in expected:
            raise ValueError(f"call {call_id} is {call.state}")
        call.state = state
        self._publish_call(call_id, "StatusChange")

    def answer(self, call_id: str) -> None:
        """The agent answers the ringing call on the phone itself."""
        self._change(call_id, "Established", "Ringing")

    def remote_answer(self, call_id: str) -> None:
        """The far end answers a call the agent dialled."""
        self._change(call_id, "Established", "Dialing")

    def pickup(self, call_id: str) -> None:
        """The far end answers a dialled call now, before ``pickup_delay``."""
        handle = self._pickups.pop(call_id, None)
        if handle is not None:
            handle.cancel()
        self.remote_answer(call_id)

    def _schedule_pickup(self, call_id: str) -> None:
        if self.pickup_delay is None:
            return

        def due() -> None:
            self._pickups.pop(call_id, None)
            call = self.calls.get(call_id)
            if call is not None and call.state == "Dialing" and not self._closing:
                self.remote_answer(call_id)

        loop = asyncio.get_running_loop()
        self._pickups[call_id] = loop.call_later(self.pickup_delay, due)

    def hold(self, call_id: str) -> None:
        """The agent puts the call on hold."""
        self._change(call_id, "Held", "Established")

    def retrieve(self, call_id: str) -> None:
        """The agent takes the call off hold."""
        self._change(call_id, "Established", "Held")

    def remote_hangup(self, call_id: str) -> None:
        """The far end hangs up (or a ringing caller gives up)."""
        self._change(call_id, "Released", "Ringing", "Dialing", "Established", "Held")

    def set_agent_state(self, device_id: str, state: str) -> None:
        """Change the agent state on a device (DeviceStateChangeMessage)."""
        device = self.devices[device_id]
        device.user_state = state
        self.publish(
            _DEVICES_CHANNEL,
            {
                "messageType": "DeviceStateChangeMessage",
                "devices": [self._device_resource(device)],
            },
        )

    def publish_error(self, text: str) -> None:
        """An asynchronous error (``data.errorMessage``) on /v2/me/devices."""
        self.publish(_DEVICES_CHANNEL, {"errorMessage": text})

    def _publish_call(self, call_id: str, notification_type: str) -> None:
        call = self.calls[call_id]
        device = self.devices[call.device_id]
        data: dict[str, Any] = {
            "notificationType": notification_type,
            "call": self.call_resource(call_id),
            "phoneNumber": device.phone_number,
            "extensions": {"BusinessCall": 0},
            "messageType": "CallStateChangeMessage",
        }
        self.publish(_CALLS_CHANNEL, data)

    def publish(self, channel: str, data: dict[str, Any]) -> None:
        """Send a message to every CometD client subscribed to ``channel``."""
        message: Message = {"channel": channel, "data": data}
        if self.message_ids:
            message["id"] = str(next(self._message_numbers))
        self.published.append(message)
        if self._holding:
            self._held.append(message)
            return
        copies = 1
        if self._duplicates:
            self._duplicates -= 1
            copies = 2
        self._deliver([message] * copies)

    def _deliver(self, messages: list[Message]) -> None:
        self._expire_idle_clients()
        for client in self._clients.values():
            wanted = [
                dict(message)
                for message in messages
                if any(
                    _channel_matches(pattern, message["channel"])
                    for pattern in client.subscriptions
                )
            ]
            if wanted:
                client.queue.extend(wanted)
                self._wake(client)

    # -------------------------------------------------------- fault control

    def fail_next(
        self,
        status: int = 500,
        *,
        status_code: int | None = None,
        message: str | None = None,
        body: str | None = None,
        retry_after: float | str | None = None,
        path_contains: str | None = None,
        channel: str | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` matching API requests with ``status``.

        The body is ``{"statusCode", "statusMessage"}`` (``status_code``
        defaults from the HTTP status: 400→2, 401→20, 403→3, 404→6, 500→4);
        other statuses without a ``status_code`` get a proxy's plain-text
        reason; ``body`` replaces the body verbatim. ``channel`` matches
        CometD requests carrying a message on that Bayeux channel.
        """
        self._faults.add(
            lambda _request: _fault_reply(
                status, status_code, message, body, retry_after
            ),
            times=count,
            matches=_request_match(path_contains, channel),
        )

    def slow_next(
        self,
        seconds: float,
        *,
        path_contains: str | None = None,
        channel: str | None = None,
        count: int = 1,
    ) -> None:
        """Delay the next ``count`` matching API requests before handling them."""
        self._slows.add(
            seconds, times=count, matches=_request_match(path_contains, channel)
        )

    def refuse_handshakes(self, reconnect: str = "none", count: int = 1) -> None:
        """Refuse the next handshakes with ``advice.reconnect`` = ``reconnect``."""
        self._handshake_refusals.extend([reconnect] * count)

    def drop_connections(self) -> None:
        """Cut every pending long-poll (the client sees the connection close)."""
        self._cuts += 1
        for client in self._clients.values():
            self._wake(client)

    def expire_clients(
        self, *, error: str | None = None, advice: bool | None = None
    ) -> None:
        """Forget every CometD client: their next connect gets "unknown client".

        That is "402::Unknown client" with ``reconnect: handshake`` advice,
        unless ``error`` (e.g. "401::Authentication invalid") or ``advice``
        (False: none at all) say otherwise; what they say stays.
        """
        if error is not None:
            self.unknown_client_error = error
        if advice is not None:
            self.unknown_client_advice = advice
        for client in self._clients.values():
            client.gone = True
            self._wake(client)
        self._clients.clear()

    def refuse_streams(self, *, successful: bool = True) -> None:
        """Answer every connect ``reconnect: none`` and forget its client.

        Pending connects are answered at once. ``successful`` is the reply's
        (True: a server ending the session cleanly).
        """
        self._stream_refusal = successful
        for client in self._clients.values():
            self._wake(client)

    def accept_streams(self) -> None:
        """Serve connects again."""
        self._stream_refusal = None

    async def restart(self, downtime: float) -> None:
        """Go down as a restarting server does; serve again after ``downtime`` s.

        Pending long-polls are cut and new connections refused; the server
        comes back on the same port knowing no CometD client and no HTTP
        session (cookies and CSRF tokens are stale).
        """
        runner = self._runner
        if runner is None:
            raise RuntimeError("the simulator is not serving")
        host, port = runner.addresses[0][:2]
        self.drop_connections()
        for site in list(runner.sites):
            await site.stop()
        if runner.server is not None:
            await runner.server.shutdown(self.shutdown_timeout)
        self.expire_clients()
        self._sessions.clear()
        await asyncio.sleep(downtime)
        await web.TCPSite(runner, host, port).start()

    def go_offline(self) -> None:
        """Answer every API request with 503 and cut pending long-polls."""
        self._offline = True
        self.drop_connections()

    def go_online(self) -> None:
        """Serve requests again (CometD sessions survive unless they expired)."""
        self._offline = False

    def invalidate_csrf(self) -> None:
        """Forget every HTTP session: cookies and CSRF tokens stop working."""
        self._sessions.clear()

    def duplicate_next(self, count: int = 1) -> None:
        """Deliver each of the next ``count`` messages twice."""
        self._duplicates += count

    def hold_messages(self) -> None:
        """Queue published messages instead of delivering them."""
        self._holding = True

    def release_messages(self, *, reverse: bool = False) -> None:
        """Deliver the held messages (newest first if ``reverse``); stop holding."""
        self._holding = False
        held, self._held = self._held, []
        if reverse:
            held.reverse()
        self._deliver(held)

    # --------------------------------------------------------------- waiting

    @property
    def connected_clients(self) -> int:
        """CometD clients subscribed to the calls channel with a pending connect."""
        return sum(
            1
            for client in self._clients.values()
            if client.polling
            and any(_channel_matches(p, _CALLS_CHANNEL) for p in client.subscriptions)
        )

    def _touch(self) -> None:
        """Let the wait_for_...() helpers look again."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_LIMIT):
            while not condition():
                # Clients also expire with time alone: look again now and then.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), _RECHECK)

    async def wait_for_connected(self, *, handshakes: int = 1) -> None:
        """Wait for ``handshakes`` handshakes and a client subscribed and polling."""
        await self._wait(
            lambda: self.handshakes >= handshakes and self.connected_clients > 0
        )

    async def wait_for_delivered(self) -> None:
        """Wait until every queued message went out and its client came back.

        A client sends its next /meta/connect after it handled a reply, so
        once it has, what the reply carried has been handled.
        """

        def delivered() -> bool:
            # A client that left without a disconnect counts once it expired.
            self._expire_idle_clients()
            return all(
                not client.queue and not client.unacknowledged
                for client in self._clients.values()
            )

        await self._wait(delivered)

    async def wait_for_disconnected(self) -> None:
        """Wait until no CometD client is left."""
        await self._wait(lambda: not self._clients)

    # ------------------------------------------------------------- middleware

    async def _serve(
        self, request: web.Request, handler: Handler, recorded: SimRequest
    ) -> web.StreamResponse:
        """Offline, delay (before anything), fault, auth and session, handler."""
        if self._offline:
            return web.Response(status=503, text="Service Unavailable")
        if not await self._delay(recorded):
            return web.Response(status=503, text="Service Unavailable")
        fault = self._take_fault(recorded)
        if fault is not None:
            return fault
        if not request.path.endswith("/diagnostics/version"):
            refusal = self._check_auth(request) or self._check_session(request)
            if refusal is not None:
                return refusal
        response = await self._handle(request, handler)
        self._add_session_headers(request, response)
        await self._send_then_run_after(request, response)
        return response

    async def _delay(self, recorded: SimRequest) -> bool:
        """Wait out an injected delay; False when closing cut it short."""
        delay = self._slows.take(recorded)
        if not delay:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), delay)
        return not self._closed.is_set()

    def _add_session_headers(
        self, request: web.Request, response: web.StreamResponse
    ) -> None:
        """A new session's cookie; the CSRF token pair on GET responses."""
        session = request.get(_SESSION)
        if session is None or session not in self._sessions:
            return
        if request[_NEW_SESSION]:
            response.set_cookie(_SESSION_COOKIE, session, path="/", httponly=True)
        if self.csrf and request.method == "GET":
            response.headers["X-CSRF-HEADER"] = _CSRF_HEADER
            response.headers["X-CSRF-TOKEN"] = self._sessions[session]

    def _check_auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("latin1")
        except binascii.Error, ValueError:
            decoded = ""
        expected = f"{self.username}:{self.password}"
        if scheme.lower() == "basic" and secrets.compare_digest(
            decoded.encode("utf-8"), expected.encode("utf-8")
        ):
            return None
        response = _status_response(20)
        response.headers["WWW-Authenticate"] = 'Basic realm="Genesys Web Services"'
        return response

    def _check_session(self, request: web.Request) -> web.Response | None:
        """Find or open the HTTP session; enforce CSRF on anything but GET."""
        session = request.cookies.get(_SESSION_COOKIE, "")
        if self.csrf and request.method != "GET":
            # "Without a cookie store, Web Services returns the same HTTP 403".
            token = self._sessions.get(session)
            given = request.headers.get(_CSRF_HEADER, "")
            if token is None or not secrets.compare_digest(given, token):
                return web.Response(status=403, text=_CSRF_REFUSAL)
        request[_NEW_SESSION] = session not in self._sessions
        if request[_NEW_SESSION]:
            session = secrets.token_hex(16).upper()
            self._sessions[session] = str(uuid.uuid4())
        request[_SESSION] = session
        return None

    # --------------------------------------------------------------- routes

    async def _version(self, _request: web.Request) -> web.Response:
        return _ok(version="8.5.200.50")

    def _user(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "userName": self.username,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "roles": ["ROLE_AGENT"],
            "enabled": True,
            "changePasswordOnFirstLogin": False,
            "uri": f"{self._origin}{self.api}/users/{self.user_id}",
            "path": f"/users/{self.user_id}",
        }

    async def _get_me(self, request: web.Request) -> web.Response:
        user = self._user()
        subresources = request.query.get("subresources", "")
        if "*" in subresources or "devices" in subresources:
            user["devices"] = [self._device_resource(d) for d in self.devices.values()]
        return _ok(user=user)

    async def _post_me(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        operation = body.get("operationName")
        if operation not in ("StartContactCenterSession", "EndContactCenterSession"):
            raise _ApiError(1, "operationName is missing or not valid.")
        self.contact_center_operations.append(str(operation))
        if operation == "EndContactCenterSession":
            # "also invalidates the client HTTP session"
            self._sessions.pop(request[_SESSION], None)
        return _ok()

    async def _post_voice(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        states = {"Ready": "Ready", "NotReady": "NotReady", "AfterCallWork": "NotReady"}
        state = states.get(str(body.get("operationName")))
        if state is None:
            raise _ApiError(1, "operationName is missing or not valid.")

        def announce() -> None:
            for device_id in self.devices:
                self.set_agent_state(device_id, state)

        after_response(request, announce)
        return _ok()

    async def _get_devices(self, request: web.Request) -> web.Response:
        devices = [self._device_resource(d) for d in self.devices.values()]
        if request.query.get("fields") == "*":
            return _ok(devices=devices)
        uris = [f"{self._origin}{self.api}/devices/{d['id']}" for d in devices]
        return _ok(uris=uris)

    async def _post_dial(self, request: web.Request) -> web.Response:
        device_id = request.match_info["device_id"]
        if device_id not in self.devices:
            raise _ApiError(6)
        body = await self._json_body(request)
        if body.get("operationName") != "Dial":
            raise _ApiError(1, "operationName Dial is required.")
        number = _destination(body)
        user_data = _check_extras(body)

        def dial() -> None:
            key = self.dial(device_id, number)
            call = self.calls[key]
            call.dial = body
            call.user_data.update(user_data)
            self._schedule_pickup(key)

        # The reply carries no call id: the call arrives over CometD.
        after_response(request, dial)
        return _ok()

    def _live_calls(self) -> list[str]:
        return [key for key, call in self.calls.items() if call.state != "Released"]

    async def _get_calls(self, request: web.Request) -> web.Response:
        keys = self._live_calls()
        if request.query.get("fields") == "*":
            return _ok(calls=[self.call_resource(key) for key in keys])
        uris = [f"{self._origin}{self.api}/me/calls/{key}" for key in keys]
        return _ok(uris=uris)

    def _live_call(self, request: web.Request) -> tuple[str, SimCall]:
        key = request.match_info["call_id"]
        call = self.calls.get(key)
        if call is None or call.state == "Released":
            # A released call is gone from GWS.
            raise _ApiError(6)
        return key, call

    async def _get_call(self, request: web.Request) -> web.Response:
        key, _call = self._live_call(request)
        # UNCONFIRMED wrapper key, after the rule for singular resources.
        return _ok(call=self.call_resource(key))

    async def _post_operation(self, request: web.Request) -> web.Response:
        key, call = self._live_call(request)
        body = await self._json_body(request)
        operation = body.get("operationName")
        if not isinstance(operation, str) or not operation:
            raise _ApiError(1, "operationName is missing.")
        if operation not in self._capabilities(call):
            raise _ApiError(2)
        if operation == "SingleStepTransfer":
            destination, extra = _destination(body), _check_extras(body)
            call.transferred_to = destination
            call.user_data.update(extra)
        if operation == "SendDtmf":
            self._check_digits(body)
        call.operations.append(body)
        state, notification = _OPERATIONS.get(operation, (None, None))
        if operation in ("AttachUserData", "UpdateUserData"):
            user_data = body.get("userData")
            if isinstance(user_data, dict):
                call.user_data.update(user_data)
        if operation == "DeleteUserData":
            call.user_data.clear()
        if state is not None:
            call.state = state
        if notification is not None:
            after_response(request, lambda: self._publish_call(key, notification))
        return _ok()

    def _check_digits(self, body: dict[str, Any]) -> None:
        """SendDtmf's ``digits``: "one or more digits" (statusCode 1 / 10)."""
        digits = body.get("digits")
        if digits is None:
            raise _ApiError(1, "digits is required.")
        if (
            not isinstance(digits, str)
            or not digits
            or any(key not in self.dtmf_alphabet for key in digits)
        ):
            raise _ApiError(10, f"digits must be one or more of {self.dtmf_alphabet}.")

    # ---------------------------------------------------------------- CometD

    def _expire_idle_clients(self) -> None:
        """maxInterval: a client with no connect pending for that long is gone."""
        now = time.monotonic()
        for client_id, client in list(self._clients.items()):
            if not client.polling and now - client.last_seen > self.max_interval:
                client.gone = True
                del self._clients[client_id]
                self._touch()

    def _known_client(self, message: Message) -> _CometClient | None:
        self._expire_idle_clients()
        return self._clients.get(str(message.get("clientId")))

    def _wake(self, client: _CometClient) -> None:
        client.wake.set()
        client.wake = asyncio.Event()
        self._touch()

    def _advice(self) -> dict[str, Any]:
        return {
            "reconnect": "retry",
            "interval": int(self.cometd_interval * 1000),
            "timeout": int(self.cometd_timeout * 1000),
        }

    def _unknown(self, message: Message) -> Message:
        reply: Message = {
            "channel": message.get("channel"),
            "id": message.get("id"),
            "successful": False,
            "error": self.unknown_client_error,
        }
        if self.unknown_client_advice:
            reply["advice"] = {"reconnect": "handshake", "interval": 0}
        return reply

    async def _notifications(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response(
                [{"successful": False, "error": "400::Bad message"}], status=400
            )
        messages = [
            m
            for m in (body if isinstance(body, list) else [body])
            if isinstance(m, dict)
        ]
        replies: list[Message] = []
        connect: Message | None = None
        new_browser = False
        for message in messages:
            channel = message.get("channel")
            if channel == "/meta/handshake":
                replies.append(self._handshake(message))
                new_browser = _BROWSER_COOKIE not in request.cookies
            elif channel == "/meta/subscribe":
                replies.append(self._subscribe(message, subscribe=True))
            elif channel == "/meta/unsubscribe":
                replies.append(self._subscribe(message, subscribe=False))
            elif channel == "/meta/disconnect":
                replies.append(self._disconnect(message))
            elif channel == "/meta/connect":
                connect = message
            else:
                replies.append(
                    {
                        "channel": channel,
                        "id": message.get("id"),
                        "successful": False,
                        "error": "403::Publish denied",
                    }
                )
        if connect is not None:
            connect_replies = await self._connect(connect)
            if connect_replies is None:
                # Cut: close the connection without an answer.
                if request.transport is not None:
                    request.transport.close()
                return web.Response(status=503)
            replies.extend(connect_replies)
        response = web.json_response(replies)
        if new_browser:
            response.set_cookie(_BROWSER_COOKIE, secrets.token_hex(12), path="/")
        return response

    def _handshake(self, message: Message) -> Message:
        reply: Message = {
            "channel": "/meta/handshake",
            "id": message.get("id"),
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
        }
        types = message.get("supportedConnectionTypes")
        if not isinstance(types, list) or "long-polling" not in types:
            return {
                **reply,
                "successful": False,
                "error": "406::Unsupported connection types",
                "advice": {"reconnect": "none"},
            }
        if self._handshake_refusals:
            reconnect = self._handshake_refusals.pop(0)
            return {
                **reply,
                "successful": False,
                "error": "403::Handshake denied",
                "advice": {"reconnect": reconnect, "interval": 0},
            }
        client_id = secrets.token_hex(13)
        self._clients[client_id] = _CometClient(client_id)
        self.handshakes += 1
        self._touch()
        return {
            **reply,
            "clientId": client_id,
            "successful": True,
            "advice": self._advice(),
        }

    def _subscribe(self, message: Message, *, subscribe: bool) -> Message:
        client = self._known_client(message)
        if client is None:
            return self._unknown(message)
        value = message.get("subscription")
        listed = value if isinstance(value, list) else [value]
        channels = [c for c in listed if isinstance(c, str)]
        reply: Message = {
            "channel": message.get("channel"),
            "id": message.get("id"),
            "clientId": client.client_id,
            "subscription": value,
        }
        if len(channels) != len(listed) or not all(
            c.startswith("/") and not c.startswith("/meta/") for c in channels
        ):
            return {**reply, "successful": False, "error": "403::Invalid channel"}
        for channel in channels:
            if subscribe:
                client.subscriptions.add(channel)
            else:
                client.subscriptions.discard(channel)
        self._touch()
        return {**reply, "successful": True}

    def _disconnect(self, message: Message) -> Message:
        client = self._known_client(message)
        if client is None:
            return self._unknown(message)
        client.gone = True
        del self._clients[client.client_id]
        self._wake(client)
        return {
            "channel": "/meta/disconnect",
            "id": message.get("id"),
            "clientId": client.client_id,
            "successful": True,
        }

    async def _connect(self, message: Message) -> list[Message] | None:
        """Hold the connect until messages, timeout, a newer connect or a cut."""
        client = self._known_client(message)
        if client is None:
            return [self._unknown(message)]
        reply: Message = {
            "channel": "/meta/connect",
            "id": message.get("id"),
            "clientId": client.client_id,
        }
        if message.get("connectionType") != "long-polling":
            return [
                {
                    **reply,
                    "successful": False,
                    "error": "406::Unsupported connection type",
                }
            ]
        if self._stream_refusal is not None:
            return [self._refused(client, reply)]
        client.unacknowledged = False
        timeout = self.cometd_timeout
        advice = message.get("advice")
        if isinstance(advice, dict) and isinstance(advice.get("timeout"), int | float):
            timeout = min(timeout, advice["timeout"] / 1000)
        # One outstanding connect per client: a newer one releases the older.
        client.poll_generation += 1
        generation = client.poll_generation
        self._wake(client)
        cuts = self._cuts
        client.polling += 1
        self._touch()
        deadline = time.monotonic() + timeout
        try:
            while (
                not client.queue
                and not client.gone
                and not self._closing
                and cuts == self._cuts
                and generation == client.poll_generation
                and self._stream_refusal is None
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.wake.wait(), remaining)
        finally:
            client.polling -= 1
            client.last_seen = time.monotonic()
        if cuts != self._cuts:
            return None
        if self._stream_refusal is not None:
            return [self._refused(client, reply)]
        messages, client.queue = client.queue, []
        client.unacknowledged = bool(messages) and not client.gone
        self._touch()
        return [*messages, {**reply, "successful": True, "advice": self._advice()}]

    def _refused(self, client: _CometClient, reply: Message) -> Message:
        """End the client's session: reconnect none (no handshake, no connect)."""
        client.gone = True
        self._clients.pop(client.client_id, None)
        self._touch()
        refusal: Message = {
            **reply,
            "successful": self._stream_refusal,
            "advice": {"reconnect": "none", "interval": 0},
        }
        if not self._stream_refusal:
            refusal["error"] = "403::Session ended by the server"
        return refusal

    # -------------------------------------------------------- control routes

    async def _control_ring(self, body: dict[str, Any]) -> dict[str, Any]:
        device = str(body.get("device", ""))
        device_id = device if device in self.devices else None
        with contextlib.suppress(KeyError):
            device_id = device_id or self.device_id(device)
        if device_id is None:
            raise ValueError(f"unknown device {device}")
        return {
            "call_id": self.ring(device_id, str(body.get("caller") or "+15551234567"))
        }

    @staticmethod
    def _call_control(action: Callable[[str], None]) -> base.ControlAction:
        """A control route that runs ``action`` on the body's ``call_id``."""

        async def run(body: dict[str, Any]) -> dict[str, Any]:
            action(str(body["call_id"]))
            return {"result": "ok"}

        return run

    # ---------------------------------------------------------- command line

    @classmethod
    def demo(cls, options: argparse.Namespace) -> Self:
        """The agent ksippo with the devices 5005 (Private), +15550100777 (Public)."""
        del options  # nothing to choose
        simulator = cls()
        simulator.add_device("5005")
        simulator.add_device("+15550100777", telephony_network="Public")
        return simulator

    def demo_credentials(self) -> list[tuple[str, str]]:
        return [("username", self.username), ("password", self.password)]

    def demo_details(self) -> list[tuple[str, str]]:
        devices = ", ".join(
            f"{device.phone_number} ({device.telephony_network})"
            for device in self.devices.values()
        )
        return [("devices", devices)]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the demo simulator until interrupted (see ``--help``)."""
    GenesysSimulator.main(argv)


if __name__ == "__main__":
    main()
