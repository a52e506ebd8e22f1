"""Genesys Workspace Web Services (GWS API v2) client: REST call control, CometD events.

Every request carries HTTP Basic auth and the session cookie (JSESSIONID) of
the caller's session; every POST, CometD's included, carries the CSRF header
GWS hands out on GET responses. Calls ring on the agent's devices (DNs); their
state arrives as CallStateChangeMessages on the CometD channel /v2/me/calls.

Logging the agent in or out (StartContactCenterSession,
EndContactCenterSession) is the contact centre's business, not ours: this
client never sends either, and never changes the agent's state.

Beyond answering, GWS has (Voice API pages): SingleStepTransfer, Hold,
Retrieve and SendDtmf on POST /api/v2/me/calls/{id}, and Dial on POST
/api/v2/me/devices/{id}/calls. It has no text-to-speech or playback
operation, and no notification of keys the caller presses (only DtmfSent,
for the digits we sent), so speak, play and digits received are not here.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import hashlib
from http import HTTPStatus
import itertools
import json
import logging
import re
import time
from typing import Any, ClassVar, Final

import aiohttp

from .base import ConnectionCallback, EventsCallback
from .bayeux import BayeuxClient
from .kernel.http import Reply, parse_object, path_segment, send
from .kernel.memory import BoundedMap
from .kernel.options import (
    OptionSchema,
    boolean,
    check_options,
    dtmf_digits,
    refuse_voicemail,
)
from .kernel.raw import raw_fields
from .kernel.retry_after import retry_after
from .kernel.values import first_text, integer, is_text, non_empty_text
from .model import (
    ARG_DIGITS,
    ARG_TO,
    ARG_VOICEMAIL,
    Account,
    ActionNotAllowedError,
    AuthenticationError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
    CallNotFoundError,
    CallState,
    Device,
    Direction,
    EndReason,
    NotTheApiError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT: Final = 10.0
API_PATH: Final = "/api/v2"
SUBSCRIPTIONS: Final = ("/v2/me/calls", "/v2/me/devices")
CALL_MESSAGE: Final = "CallStateChangeMessage"
# Calls remembered for their direction, whether they were answered, and ids.
REMEMBERED_CALLS: Final = 512
MAX_PLAIN_ERROR: Final = 200
# Longest text of a message kept in an event id or a log line.
MAX_NOTE: Final = 64
MAX_LOGGED_ERROR: Final = 200
# A call older than this (GWS's "duration", in seconds) is a malformed field.
MAX_CALL_AGE: Final = 366 * 24 * 3600

STATES: Final = {
    "ringing": CallState.RINGING,
    "dialing": CallState.DIALING,
    "established": CallState.TALKING,
    "held": CallState.ON_HOLD,
    "released": CallState.ENDED,
    # Workspace API v3's end state; UNCONFIRMED for v2, read as the end.
    "completed": CallState.ENDED,
}
# A call never goes back from talking or held to ringing or dialing: the phase
# leads the order, so a late message cannot make an answered call ring again.
PHASES: Final = {
    CallState.RINGING: 0,
    CallState.DIALING: 0,
    CallState.TALKING: 1,
    CallState.ON_HOLD: 1,
    CallState.ENDED: 2,
}
# Capabilities are compared case-insensitively and without separators: the
# Calls API page spells "HangUp" where the samples say "Hangup". There is no
# voice Reject. Retrieve is named only in the capabilities of a held call
# (the Hold sample); its page is not found: UNCONFIRMED, no parameters.
CAPABILITIES: Final = {
    "answer": CallAction.ANSWER,
    "hangup": CallAction.HANGUP,
    "hold": CallAction.HOLD,
    "retrieve": CallAction.RESUME,
    "singlesteptransfer": CallAction.TRANSFER,
    "senddtmf": CallAction.SEND_DIGITS,
}
# GWS offers SendDtmf while Dialing too (the Dial sample), but digits sent
# before the far end answers reach no one: send_digits waits for Established.
TALKING_ONLY: Final = frozenset({CallAction.SEND_DIGITS})
OPERATIONS: Final = {
    CallAction.ANSWER: "Answer",
    CallAction.HANGUP: "Hangup",
    CallAction.HOLD: "Hold",
    CallAction.RESUME: "Retrieve",
    CallAction.TRANSFER: "SingleStepTransfer",
    # The page is "CallsSendDTMF"; the operationName is "SendDtmf".
    CallAction.SEND_DIGITS: "SendDtmf",
}
_NOT_ALNUM: Final = re.compile(r"[^a-z0-9]")
# Participant fields that hold a number, in the order we trust them: the
# object format of 8.5.2 and later, and participantsInfo of older builds.
NUMBER_FIELDS: Final = (
    "phoneNumber",
    "digits",
    "formattedPhoneNumber",
    "e164Number",
    "E164digits",
    "localPhoneNumber",
)
# UNCONFIRMED: no GWS v2 sample names a participant; take a name if one is there.
NAME_FIELDS: Final = ("displayName", "name")

# GWS statusCode values (Return Values page).
STATUS_INVALID_FOR_STATE: Final = 2
STATUS_FORBIDDEN: Final = 3
STATUS_INTERNAL_ERROR: Final = 4
STATUS_NO_PERMISSION: Final = 5
STATUS_NOT_FOUND: Final = 6
STATUS_NOT_AUTHENTICATED: Final = 20

# The options of SingleStepTransfer and Dial beside the destination: GWS's
# "location" (for the T-Server requests) and "userData" (attached data).
OPTION_LOCATION: Final = "location"
OPTION_USER_DATA: Final = "user_data"
# UNCONFIRMED: GWS names no limit for a destination; a DN or a number is short.
MAX_DESTINATION: Final = 64
MAX_LOCATION: Final = 255
MAX_USER_DATA: Final = 50
# The SendDtmf page says "one or more digits (0-9)"; T-Server sends * and #
# too: UNCONFIRMED, so they are let through. No length limit is documented.
DTMF_KEYS: Final = "0123456789*#"
MAX_DTMF: Final = 32
# How long a Dial waits for its call to show up over CometD, before it asks
# GET /me/calls instead (GWS answers a Dial with no call id).
DIAL_TIMEOUT: Final = 5.0
# A Released call within this long of an accepted SingleStepTransfer was
# transferred: GWS's Released message says nothing of why the call ended.
TRANSFER_WINDOW: Final = 30.0
# What Call.raw keeps of a call: its ids, state and kind (never its userData,
# the attached data that may hold customer details).
RAW_FIELDS: Final = ("id", "connId", "callUuid", "state", "callType", "deviceUri")


def _destination(value: Any) -> str | None:
    """Accept a number or DN: GWS's destination.phoneNumber."""
    if (
        is_text(value)
        and 0 < len(value.strip()) <= MAX_DESTINATION
        and value.isprintable()
    ):
        return None
    return f"must be a number or DN of 1 to {MAX_DESTINATION} characters"


def _location(value: Any) -> str | None:
    if is_text(value) and 0 < len(value) <= MAX_LOCATION and value.isprintable():
        return None
    return f"must be a text of 1 to {MAX_LOCATION} characters"


def _user_data(value: Any) -> str | None:
    """Accept key/value pairs of texts and whole numbers (T-Server's KV list)."""
    if (
        isinstance(value, dict)
        and len(value) <= MAX_USER_DATA
        and all(
            is_text(key)
            and key
            and (
                is_text(item) or (isinstance(item, int) and not isinstance(item, bool))
            )
            for key, item in value.items()
        )
    ):
        return None
    return (
        f"must be an object of at most {MAX_USER_DATA} keys, each a text or a"
        " whole number"
    )


# Answer, Hangup, Hold and Retrieve take no parameters in GWS.
OPTIONS: Final[OptionSchema] = {
    CallAction.TRANSFER: {
        ARG_TO: _destination,
        # Only `false` gets here: refuse_voicemail has refused the rest.
        ARG_VOICEMAIL: boolean,
        OPTION_LOCATION: _location,
        OPTION_USER_DATA: _user_data,
    },
    CallAction.SEND_DIGITS: {ARG_DIGITS: dtmf_digits(DTMF_KEYS, MAX_DTMF)},
    CallAction.DIAL: {
        ARG_TO: _destination,
        OPTION_LOCATION: _location,
        OPTION_USER_DATA: _user_data,
    },
}
REQUIRED: Final = {
    CallAction.TRANSFER: (ARG_TO,),
    CallAction.SEND_DIGITS: (ARG_DIGITS,),
    CallAction.DIAL: (ARG_TO,),
}


def normalize_base_url(url: str) -> str:
    """Return the server root from what a user enters.

    "https://gws.example.com", ".../cloud-web" (a context path), and either
    with a trailing "/api/v2" or "/" all work.
    """
    root = url.strip().rstrip("/")
    if root.lower().endswith(API_PATH):
        root = root[: -len(API_PATH)].rstrip("/")
    return root


def basic_authorization(username: str, password: str) -> str:
    """Return the Authorization header value for HTTP Basic auth.

    Genesys' own .NET client encodes the credentials as ISO-8859-1; UTF-8
    serves characters Latin-1 does not have.
    """
    credentials = f"{username}:{password}"
    try:
        raw = credentials.encode("latin1")
    except UnicodeEncodeError:
        raw = credentials.encode("utf-8")
    return f"Basic {base64.b64encode(raw).decode('ascii')}"


@dataclass(slots=True)
class _Seen:
    """What the client learned about one call from earlier messages."""

    direction: Direction | None = None
    answered: bool = False


@dataclass(slots=True)
class _Dialling:
    """A Dial sent from one device, waiting to learn its call."""

    device_id: str
    found: asyncio.Future[CallEvent]


class GenesysClient:
    """Talks to Genesys Web Services as one agent, over REST and CometD."""

    # What the GWS Voice API documents; no Reject, speak or play.
    supported_actions = frozenset(
        {
            CallAction.ANSWER,
            CallAction.HANGUP,
            CallAction.TRANSFER,
            CallAction.HOLD,
            CallAction.RESUME,
            CallAction.SEND_DIGITS,
            CallAction.DIAL,
        }
    )
    # Call.raw keeps no party nor attached data; the credentials are the kind's.
    # GWS has no notification of the keys a caller presses.
    reports_digits: ClassVar[bool] = False
    redact_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        username: str,
        password: str,
    ) -> None:
        """Keep the session and credentials; nothing is sent yet.

        The session should have a cookie jar that accepts IP hosts
        (aiohttp.CookieJar(unsafe=True)): GWS ties the CSRF token and the
        CometD session to its cookies.
        """
        self._session = session
        self._root = normalize_base_url(base_url)
        self._authorization = basic_authorization(username, password)
        self._csrf: tuple[str, str] | None = None
        self._devices: dict[str, Device] = {}
        self._sequence = itertools.count(1)
        # Read when the client is made, so a test can shrink it first.
        self._seen: BoundedMap[str, _Seen] = BoundedMap(REMEMBERED_CALLS)
        self._aliases: BoundedMap[str, str] = BoundedMap(REMEMBERED_CALLS)
        # Calls a SingleStepTransfer was sent for, and when (time.monotonic).
        self._transfers: dict[str, float] = {}
        self._dialling: list[_Dialling] = []
        # One Dial at a time: the next new outgoing call is the one it placed.
        self._dial_lock = asyncio.Lock()
        self._bayeux = BayeuxClient(
            session,
            f"{self._root}{API_PATH}/notifications",
            subscriptions=SUBSCRIPTIONS,
            headers=self._post_headers,
            before_handshake=self._refresh_session,
            name="Genesys notifications",
        )

    # --- REST ---

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        csrf_retry: bool = True,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        headers.update(
            self._post_headers()
            if method != "GET"
            else {"Authorization": self._authorization}
        )
        reply = await send(
            self._session,
            method,
            f"{self._root}{API_PATH}{path}",
            service="Genesys Web Services",
            # Read at call time, so a test can shorten it.
            time_limit=REQUEST_TIMEOUT,
            headers=headers,
            params=params,
            json_body=body,
        )
        self._capture_csrf(reply.headers)
        if (
            reply.status == HTTPStatus.FORBIDDEN
            and method != "GET"
            and "csrf" in reply.text.lower()
            and csrf_retry
        ):
            # "Missing or invalid Csrf token": the token lives as long as the
            # HTTP session, and a GET hands out the current one. Retry once.
            await self._refresh_session()
            return await self._request(
                method, path, params=params, body=body, csrf_retry=False
            )
        # GWS may refuse in a 200 too: its statusCode says so.
        data = parse_object(reply.text)
        code = data.get("statusCode") if data else None
        if reply.failed or code not in (None, 0):
            raise _error(reply, data)
        if data is None:
            raise ProviderUnavailableError(
                f"Genesys Web Services answered with invalid JSON (HTTP {reply.status})"
            )
        return data

    def _capture_csrf(self, headers: Mapping[str, str]) -> None:
        token = headers.get("X-CSRF-TOKEN")
        if token:
            # X-CSRF-HEADER names the header to send the token in.
            self._csrf = (headers.get("X-CSRF-HEADER") or "X-CSRF-TOKEN", token)

    def _post_headers(self) -> dict[str, str]:
        """Return Basic auth, and the CSRF token once GWS handed one out."""
        headers = {"Authorization": self._authorization}
        if self._csrf is not None:
            name, token = self._csrf
            headers[name] = token
        return headers

    async def _refresh_session(self) -> None:
        """GET /me: a session cookie and the CSRF pair that goes with it."""
        await self._request("GET", "/me")

    async def async_get_account(self) -> Account:
        """Name the agent (user id, full name); also picks up the CSRF token.

        Raises NotTheApiError when /me is not found: Web Services always has
        it, so the URL is not Web Services' (a context path missing, say).
        """
        try:
            me = await self._request("GET", "/me")
        except CallNotFoundError as err:
            raise NotTheApiError(str(err)) from err
        user = me.get("user")
        if not isinstance(user, dict) or not user.get("id"):
            raise ProviderError("Genesys Web Services did not say who the user is")
        full_name = " ".join(
            str(user[part])
            for part in ("firstName", "lastName")
            if isinstance(user.get(part), str) and user[part].strip()
        )
        name = full_name or str(user.get("userName") or user["id"])
        return Account(str(user["id"]), name)

    async def async_get_devices(self) -> list[Device]:
        """Each of the agent's devices (DNs) is a device."""
        devices = [
            device
            for item in await self._collection("/me/devices", "devices")
            if (device := _device(item)) is not None
        ]
        self._devices = {device.device_id: device for device in devices}
        return devices

    async def async_list_calls(self) -> list[CallEvent]:
        """One event per call the agent has now (GET /me/calls?fields=*)."""
        # The snapshot takes its place in the order before it is asked for:
        # messages delivered before then are older and cannot overtake it;
        # messages delivered while it is on its way may be newer, and since
        # Bayeux delivers in order, the last of them is right.
        sequence = next(self._sequence)
        items = await self._collection("/me/calls", "calls")
        now = datetime.now(UTC)
        return [
            event
            for item in items
            if (event := self._event(item, sequence, now, source="snapshot"))
            is not None
        ]

    async def async_refresh_call(self, call: Call) -> CallEvent | None:
        """Where one call stands; a call GWS no longer knows has ended."""
        sequence = next(self._sequence)
        now = datetime.now(UTC)
        try:
            data = await self._request("GET", f"/me/calls/{path_segment(call.call_id)}")
        except CallNotFoundError:  # statusCode 6 or HTTP 404
            seen = self._seen.get(call.call_id) or _Seen()
            answered = seen.answered or call.answered_at is not None
            unanswered = call.direction is Direction.INCOMING and not answered
            reason = EndReason.MISSED if unanswered else EndReason.COMPLETED
            return CallEvent(
                event_id=f"{call.call_id}:gone:{sequence}",
                call_id=call.call_id,
                order=(float(PHASES[CallState.ENDED]), sequence),
                state=CallState.ENDED,
                occurred_at=now,
                end_reason=self._transferred(call.call_id) or reason,
            )
        # UNCONFIRMED: the single call is presumably wrapped in "call", after
        # the rule for singular resources; take a bare call object too.
        item = data.get("call", data)
        if not isinstance(item, dict) or "state" not in item:
            return None
        return self._event(item, sequence, now, source="refresh")

    async def _collection(self, path: str, key: str) -> list[dict[str, Any]]:
        data = await self._request("GET", path, params={"fields": "*"})
        items = data.get(key)
        if not isinstance(items, list):
            # Without the objects we cannot tell what exists; saying "none"
            # would end every call, so this is an error.
            raise ProviderError(f"Genesys Web Services did not list the {key}")
        return [item for item in items if isinstance(item, dict)]

    def validate_options(
        self, action: CallAction, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Check an action's arguments and GWS options.

        Transfer and dial take `to` (GWS's destination.phoneNumber), and the
        options `location` and `user_data` (GWS's userData); send_digits
        takes `digits`. The other operations take no parameters in GWS.
        """
        refuse_voicemail(
            action,
            options,
            "cannot be used on Genesys, which has no divert to voicemail",
        )
        return check_options(
            OPTIONS,
            action,
            options,
            unknown="Genesys Web Services takes no such option for this action",
            required=REQUIRED,
        )

    async def async_perform(
        self,
        action: CallAction,
        call: Call,
        device: Device,
        options: Mapping[str, Any],
    ) -> None:
        """POST the operation to the call; the result arrives over CometD."""
        del device
        operation = OPERATIONS.get(action)
        if operation is None:
            raise ActionNotAllowedError(_missing(action))
        body: dict[str, Any] = {"operationName": operation}
        if action is CallAction.TRANSFER:
            body.update(_destination_body(options))
            # Noted before it is sent: the Released message may come first.
            self._note_transfer(call.call_id)
        elif action is CallAction.SEND_DIGITS:
            body["digits"] = str(options[ARG_DIGITS])
        try:
            await self._request(
                "POST", f"/me/calls/{path_segment(call.call_id)}", body=body
            )
        except ProviderError:
            if action is CallAction.TRANSFER:
                self._transfers.pop(call.call_id, None)
            raise

    async def async_dial(self, device: Device, options: Mapping[str, Any]) -> CallEvent:
        """POST Dial to the device; return the first event of the call it placed.

        GWS answers a Dial with only {"statusCode": 0}: the call, and its id,
        arrive as a Dialing CallStateChangeMessage. The first outgoing call on
        the device that the client had never seen is the one placed. If none
        comes over CometD within DIAL_TIMEOUT, GET /me/calls says. A call that
        never shows up is a ProviderError (not worth retrying: the call may be
        on its way, and a second Dial would place a second call).
        """
        target = str(options[ARG_TO]).strip()
        body: dict[str, Any] = {"operationName": "Dial"}
        body.update(_destination_body(options))
        path = f"/me/devices/{path_segment(device.device_id)}/calls"
        async with self._dial_lock:
            found: asyncio.Future[CallEvent] = (
                asyncio.get_running_loop().create_future()
            )
            dialling = _Dialling(device.device_id, found)
            self._dialling.append(dialling)
            try:
                try:
                    await self._request("POST", path, body=body)
                except CallNotFoundError as err:  # statusCode 6: the device
                    raise ProviderError(
                        f"Genesys Web Services does not know the device {device.name}"
                        f": {err}"
                    ) from err
                event = await self._dialled(found)
            finally:
                self._dialling.remove(dialling)
        return replace(
            event,
            device_ids=event.device_ids or (device.device_id,),
            remote_number=event.remote_number or target,
            actions=(
                frozenset({CallAction.HANGUP})
                if event.actions is None and event.state is CallState.DIALING
                else event.actions
            ),
        )

    async def _dialled(self, found: asyncio.Future[CallEvent]) -> CallEvent:
        """Wait for the dialled call over CometD, else look for it in /me/calls."""
        try:
            # Read at call time, so a test can shorten it.
            async with asyncio.timeout(DIAL_TIMEOUT):
                return await asyncio.shield(found)
        except TimeoutError:
            pass
        try:
            # A call it lists for the first time is offered to the Dial.
            await self.async_list_calls()
        except ProviderError as err:
            raise ProviderError(
                f"Genesys Web Services accepted the dial, but its call could not"
                f" be found: {err}"
            ) from err
        if not found.done():
            raise ProviderError(
                "Genesys Web Services accepted the dial, but reported no call"
            )
        return found.result()

    def _note_transfer(self, call_id: str) -> None:
        now = time.monotonic()
        for old in [
            k for k, at in self._transfers.items() if now - at > TRANSFER_WINDOW
        ]:
            del self._transfers[old]
        self._transfers[call_id] = now

    def _transferred(self, call_id: str) -> EndReason | None:
        """TRANSFERRED for an ended call a SingleStepTransfer was just sent for.

        The note stays for the window: a Released delivered twice, or a
        refresh that finds the call gone, says the same.
        """
        noted = self._transfers.get(call_id)
        if noted is not None and time.monotonic() - noted <= TRANSFER_WINDOW:
            return EndReason.TRANSFERRED
        return None

    def _offer(self, event: CallEvent) -> None:
        """Give a call seen for the first time to a Dial waiting on its device."""
        if event.direction is not Direction.OUTGOING:
            return
        for dialling in self._dialling:
            if not dialling.found.done() and (
                not event.device_ids or dialling.device_id in event.device_ids
            ):
                dialling.found.set_result(event)
                return

    # --- CometD ---

    async def async_stream(
        self, on_events: EventsCallback, on_connection: ConnectionCallback
    ) -> None:
        """Follow /v2/me/calls and /v2/me/devices until async_stop().

        Raises AuthenticationError when GWS refuses the credentials, and
        StreamRefusedError (a ProviderUnavailableError) when it ends the
        stream and advises not to reconnect.
        """

        def on_messages(messages: list[dict[str, Any]]) -> None:
            if events := self.read_messages(messages):
                on_events(events)

        await self._bayeux.run(on_messages, on_connection)

    async def async_check_stream(self) -> None:
        """Open a CometD session, poll once and leave: raise what stops a stream."""
        await self._bayeux.check()

    async def async_stop(self) -> None:
        """Leave the CometD session; async_stream returns. A stopped client stays so."""
        await self._bayeux.stop()

    def read_messages(self, messages: list[dict[str, Any]]) -> list[CallEvent]:
        """Read the messages of one reply; one it cannot read costs only itself."""
        events: list[CallEvent] = []
        for message in messages:
            try:
                events.extend(self.parse_message(message))
            except Exception:  # the other messages of the reply go on
                _LOGGER.debug("Skipped an unreadable CometD message", exc_info=True)
        return events

    def parse_message(self, message: Mapping[str, Any]) -> list[CallEvent]:
        """Read one CometD message; only CallStateChangeMessages carry calls.

        Bayeux delivers the messages of one connection in order, and GWS
        stamps them with nothing to sort by, so the client numbers them as
        they arrive: a per-client sequence is a fair order. A field of the
        wrong type or out of range says nothing; a message without a call id
        or a known state is skipped (logged at debug level).
        """
        data = message.get("data")
        if not isinstance(data, dict):
            return []
        if data.get("errorMessage") is not None:
            error = data["errorMessage"]
            _LOGGER.warning(
                "Genesys Web Services reported an error: %s",
                str(error)[:MAX_LOGGED_ERROR] if is_text(error) else "(unreadable)",
            )
            # UNCONFIRMED: the error names no call; a transfer just sent may
            # be what failed, so its call's end no longer counts as one.
            self._transfers.clear()
            return []
        call = data.get("call")
        kind = data.get("messageType", CALL_MESSAGE)
        if not (is_text(kind) and kind == CALL_MESSAGE and isinstance(call, dict)):
            return []
        event = self._event(
            call,
            next(self._sequence),
            datetime.now(UTC),
            source=_note(data.get("notificationType")) or "message",
            stamp=_stamp(message, data),
            phone_number=non_empty_text(data.get("phoneNumber")),
        )
        return [event] if event is not None else []

    # --- mapping ---

    def _event(
        self,
        item: Mapping[str, Any],
        sequence: int,
        now: datetime,
        *,
        source: str,
        stamp: str | None = None,
        phone_number: str | None = None,
    ) -> CallEvent | None:
        call_id = self._call_id(item)
        name = item.get("state")
        # An unknown state says nothing: it never moves a call, back or on.
        state = STATES.get(str(name).lower()) if is_text(name) else None
        if call_id is None or state is None:
            _LOGGER.debug("Ignoring a call without id or known state")
            return None
        new = call_id not in self._seen
        seen = self._remember(call_id)
        direction = _direction(item.get("callType"), state) or seen.direction
        seen.direction = direction
        if state in (CallState.TALKING, CallState.ON_HOLD):
            seen.answered = True
        device_ids, device_number = self._devices_for(item, phone_number)
        dnis = non_empty_text(item.get("dnis"))
        local = (
            phone_number
            or device_number
            or (dnis if direction is Direction.INCOMING else None)
        )
        remote, remote_name = _remote(item, direction, local)
        end_reason = None
        if state is CallState.ENDED:
            missed = direction is Direction.INCOMING and not seen.answered
            end_reason = self._transferred(call_id) or (
                EndReason.MISSED if missed else EndReason.COMPLETED
            )
        event = CallEvent(
            # A snapshot or refresh is news once; a message is the same news
            # when the server delivers it twice (same id, or same content).
            event_id=f"{call_id}:{source}:{name}:{stamp or sequence}",
            call_id=call_id,
            order=(float(PHASES[state]), sequence),
            state=state,
            device_ids=device_ids,
            direction=direction,
            remote_number=remote,
            remote_name=remote_name,
            local_number=local,
            occurred_at=now,
            started_at=_started_at(item.get("duration"), now),
            end_reason=end_reason,
            actions=_actions(item.get("capabilities"), state),
            raw=raw_fields(item, RAW_FIELDS, event=source),
        )
        if new and self._dialling:
            self._offer(event)
        return event

    def _call_id(self, item: Mapping[str, Any]) -> str | None:
        """Return the call's id; connId and callUuid of a known call map to it.

        Builds before 8.5.2 use the connId as id, later ones the callUuid.
        """
        ids = [
            value
            for key in ("id", "callUuid", "connId")
            if (value := non_empty_text(item.get(key)))
        ]
        if not ids:
            return None
        call_id = next((self._aliases[i] for i in ids if i in self._aliases), ids[0])
        for alias in ids:
            self._aliases.put(alias, call_id)
        return call_id

    def _remember(self, call_id: str) -> _Seen:
        return self._seen.touch(call_id, _Seen)

    def _devices_for(
        self, item: Mapping[str, Any], phone_number: str | None
    ) -> tuple[tuple[str, ...], str | None]:
        """Return the device a call is on, and that device's number if known."""
        uri = non_empty_text(item.get("deviceUri"))
        if uri and (device_id := uri.rstrip("/").rsplit("/", 1)[-1]):
            device = self._devices.get(device_id)
            return (device_id,), device.number if device else None
        for number in (phone_number, non_empty_text(item.get("dnis"))):
            for device in self._devices.values():
                if number and device.number == number:
                    return (device.device_id,), device.number
        # Not told which device: the call shows on every device of the agent.
        return tuple(self._devices), None


def _device(item: Mapping[str, Any]) -> Device | None:
    device_id = non_empty_text(item.get("id"))
    if not device_id:
        return None
    number = first_text(item, ("phoneNumber", "e164Number"))
    network = item.get("telephonyNetwork")
    public = is_text(network) and str(network).lower() == "public"
    return Device(
        device_id=device_id,
        name=number or device_id,
        # On a Public network device GWS offers no Answer: say so.
        model="Agent device (public network)" if public else "Agent device",
        number=number,
    )


def _direction(call_type: Any, state: CallState) -> Direction | None:
    kind = str(call_type).lower() if is_text(call_type) else ""
    if kind == "inbound":
        return Direction.INCOMING
    if kind == "outbound":
        return Direction.OUTGOING
    # Internal and Consult calls go either way: the first state tells.
    if state is CallState.RINGING:
        return Direction.INCOMING
    if state is CallState.DIALING:
        return Direction.OUTGOING
    return None


def _participants(item: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Return (number, name) of each participant, in either of GWS's formats."""
    participants = item.get("participants")
    info = item.get("participantsInfo")
    if not isinstance(participants, list):
        return []
    infos = info if isinstance(info, list) else []
    result: list[tuple[str, str | None]] = []
    for index, participant in enumerate(participants):
        details = infos[index] if index < len(infos) else None
        if isinstance(participant, dict):
            details = participant
            number = first_text(participant, NUMBER_FIELDS)
        else:
            number = non_empty_text(participant)
        if number:
            name = (
                first_text(details, NAME_FIELDS) if isinstance(details, dict) else None
            )
            result.append((number, name))
    return result


def _remote(
    item: Mapping[str, Any], direction: Direction | None, local: str | None
) -> tuple[str | None, str | None]:
    parties = _participants(item)
    others = [party for party in parties if party[0] != local] or parties
    number, name = others[0] if others else (None, None)
    if direction is Direction.OUTGOING:
        # Who the agent dialled: the other party, else the dialled number.
        return (number, name) if number else (non_empty_text(item.get("dnis")), None)
    ani = non_empty_text(item.get("ani"))
    if ani:
        # An external caller: ani is the number the call came from.
        return ani, name if number == ani else None
    return number, name


def _actions(capabilities: Any, state: CallState) -> frozenset[CallAction] | None:
    if not isinstance(capabilities, list):
        return frozenset() if state is CallState.ENDED else None
    names = {
        _NOT_ALNUM.sub("", str(name).lower()) for name in capabilities if is_text(name)
    }
    return frozenset(
        action
        for name, action in CAPABILITIES.items()
        if name in names and (state is CallState.TALKING or action not in TALKING_ONLY)
    )


def _destination_body(options: Mapping[str, Any]) -> dict[str, Any]:
    """GWS's destination, location and userData of a transfer or a dial."""
    body: dict[str, Any] = {
        "destination": {"phoneNumber": str(options[ARG_TO]).strip()}
    }
    if OPTION_LOCATION in options:
        body["location"] = options[OPTION_LOCATION]
    if OPTION_USER_DATA in options:
        body["userData"] = dict(options[OPTION_USER_DATA])
    return body


def _missing(action: CallAction) -> str:
    """Say what GWS lacks for an action it has no operation for."""
    if action is CallAction.REJECT:
        return (
            "Genesys Web Services has no Reject operation for voice calls; "
            "hang up instead"
        )
    if action in (CallAction.SPEAK, CallAction.PLAY):
        return "Genesys Web Services has no text-to-speech or playback operation"
    return f"Genesys Web Services has no operation for {action}"


def _started_at(duration: Any, now: datetime) -> datetime | None:
    """GWS gives a call's age in seconds, as a string ("22").

    A negative age, or one past MAX_CALL_AGE (a date out of range), says
    nothing.
    """
    seconds = integer(duration)
    if seconds is None or not 0 <= seconds <= MAX_CALL_AGE:
        return None
    return now - timedelta(seconds=seconds)


def _note(value: Any) -> str | None:
    """Return a short text of a message (notificationType) to tell it apart."""
    return str(value)[:MAX_NOTE] if is_text(value) and value else None


def _stamp(message: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    """Return what tells this message from another with the same state.

    The Bayeux message id when the server sets one, else the server's
    generation timestamp (seen in some samples), else the content itself.
    """
    if (message_id := _scalar(message.get("id"))) is not None:
        return f"id={message_id}"
    metrics = data.get("metrics")
    processing = metrics.get("eventProcessing") if isinstance(metrics, dict) else None
    if isinstance(processing, dict) and (
        generated := _scalar(processing.get("serverGenerationTimestamp"))
    ):
        return f"at={generated}"
    try:
        content = json.dumps(data, sort_keys=True, default=str).encode()
    except RecursionError, TypeError, ValueError:
        # Nothing to tell it by: it counts as news.
        return None
    return f"sha={hashlib.sha256(content).hexdigest()[:16]}"


def _scalar(value: Any) -> str | None:
    """Return a short id of a string or a whole number; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if abs(value) < 10**20 else None
    return _note(value)


def _error(reply: Reply, data: Mapping[str, Any] | None) -> ProviderError:
    """Map GWS's statusCode (or, without one, the HTTP status) to the model."""
    status = reply.status
    code = data.get("statusCode") if data else None
    if isinstance(code, bool) or not isinstance(code, int):
        code = None
    message = (data or {}).get("statusMessage") or _plain(reply.text) or _phrase(status)
    described = f"{message} (HTTP {status}"
    described += f", statusCode {code})" if code is not None else ")"
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR or code == STATUS_INTERNAL_ERROR:
        return ProviderUnavailableError(described)
    if code == STATUS_NOT_AUTHENTICATED or status == HTTPStatus.UNAUTHORIZED:
        return AuthenticationError(described)
    if code in (STATUS_FORBIDDEN, STATUS_NO_PERMISSION):
        return PermissionDeniedError(described)
    if code == STATUS_NOT_FOUND:
        return CallEndedError(described)
    if code == STATUS_INVALID_FOR_STATE:
        return ActionNotAllowedError(described)
    if code is None and status == HTTPStatus.FORBIDDEN:
        return PermissionDeniedError(described)
    if code is None and status == HTTPStatus.NOT_FOUND:
        return CallNotFoundError(described)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        # No rate limit is documented for GWS; a proxy in front may have one.
        return RateLimitedError(
            described, retry_after(reply.headers.get("Retry-After"))
        )
    return ProviderError(described)


def _plain(body: str) -> str | None:
    """Return a short plain-text body (a proxy's, the CSRF refusal), not HTML."""
    body = body.strip()
    if 0 < len(body) <= MAX_PLAIN_ERROR and "<" not in body:
        return body
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Genesys Web Services error"
