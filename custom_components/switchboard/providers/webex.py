"""Webex Calling call control client: OAuth2 bearer tokens, REST, signed webhooks.

Each of the user's preferred answer endpoints (desk phone, Webex app, hot desk)
is a device. An incoming call rings on every endpoint; answering names the
endpoint, and once Webex says which endpoint has the call it belongs there.
Webhook deliveries carry no event id: events are identified by call id, event
type and event timestamp, and ordered by the timestamp.

Beyond answering, Webex's call control has hold and resume, transfer (to a
destination, once it answers) and divert (blind, or to voicemail), dial (click
to dial from an endpoint) and transmitDtmf. It has no text-to-speech or audio
playback, and does not report the keys a caller presses.
"""

from __future__ import annotations

from collections.abc import Mapping
import contextlib
from datetime import UTC, datetime
import hashlib
import hmac
from http import HTTPStatus
import logging
import secrets
import time
from typing import Any, ClassVar, Final, Literal, Protocol

import aiohttp

from .kernel.http import Reply, bearer_headers, path_segment, read_object, send
from .kernel.memory import BoundedMap, BoundedSet
from .kernel.options import (
    OptionSchema,
    boolean,
    check_options,
    dtmf_digits,
    one_of,
)
from .kernel.payload import load_json, load_payload
from .kernel.raw import raw_fields
from .kernel.retry_after import retry_after
from .kernel.values import non_empty_text, normalize_number, parse_timestamp
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
    InvalidOptionError,
    InvalidPayloadError,
    InvalidSignatureError,
    NotTheApiError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)

DEFAULT_URL: Final = "https://webexapis.com/v1"
# calls_read: list calls and create telephony_calls webhooks; calls_write: the
# commands; telephony_config_read: the answer endpoints. Whether GET /people/me
# needs people_read is UNCONFIRMED: asked for, and the client copes without it.
SCOPES: Final[tuple[str, ...]] = (
    "spark:calls_read",
    "spark:calls_write",
    "spark:telephony_config_read",
    "spark:people_read",
)
REQUEST_TIMEOUT: Final = 10.0
PAGE_SIZE: Final = 100
WEBHOOK_RESOURCE: Final = "telephony_calls"
SIGNATURE_HEADER: Final = "x-spark-signature"
# Calls remembered per client (answered endpoint, answered, rejected by us).
MEMORY: Final = 512

ENDPOINTS_PATH: Final = (
    "/telephony/config/people/me/settings/availablePreferredAnswerEndpoints"
)
ENDPOINT_MODELS: Final = {
    "DEVICE": "Desk phone",
    "APPLICATION": "Webex app",
    "HOTDESKING_GUEST": "Hot desk",
}
# The one device of a user without preferred answer endpoints: answering names
# no endpoint, and Webex answers on the user's primary device. Webex endpoint
# ids are base64, so this id is never one of them.
PRIMARY_DEVICE_ID: Final = "primary"
PRIMARY_DEVICE: Final = "Primary device"
REJECT_ACTIONS: Final = ("busy", "temporarilyUnavailable", "ignore")
DIRECTIONS: Final = {
    "terminator": Direction.INCOMING,
    "originator": Direction.OUTGOING,
    "clickToDial": Direction.OUTGOING,
}
STATES: Final = {
    "connecting": CallState.DIALING,
    "connected": CallState.TALKING,
    # Held by the user (hold); resume brings it back.
    "held": CallState.ON_HOLD,
    # Held by the remote party (in the same organisation): on hold as the user
    # sees it, but it is not the user's to resume (resume is "Resume a held
    # call"), so it offers no resume (REMOTE_HELD_ACTIONS).
    "remoteHeld": CallState.ON_HOLD,
    "disconnected": CallState.ENDED,
}
# Orders events with the same timestamp: ringing < talking < held < ended.
RANKS: Final = {
    CallState.RINGING: 0,
    CallState.DIALING: 0,
    CallState.TALKING: 1,
    CallState.ON_HOLD: 2,
    CallState.ENDED: 3,
}
# What each state allows. "Unanswered incoming calls cannot be transferred but
# can be diverted": a ringing call's transfer is a divert.
RINGING_ACTIONS: Final = frozenset(
    {CallAction.ANSWER, CallAction.REJECT, CallAction.HANGUP, CallAction.TRANSFER}
)
# Dialing (connecting, or the user's own device alerting for a click to dial),
# and an outgoing call alerting: only hang-up.
ACTIVE_ACTIONS: Final = frozenset({CallAction.HANGUP})
TALKING_ACTIONS: Final = frozenset(
    {
        CallAction.HANGUP,
        CallAction.TRANSFER,
        CallAction.HOLD,
        CallAction.SEND_DIGITS,
    }
)
# Whether Webex transfers or diverts a held call is UNCONFIRMED (transfer
# joins "two calls", one of them usually held): offered.
HELD_ACTIONS: Final = frozenset(
    {CallAction.RESUME, CallAction.HANGUP, CallAction.TRANSFER}
)
REMOTE_HELD_ACTIONS: Final = frozenset({CallAction.HANGUP, CallAction.TRANSFER})
# The commands each action sends (POST /telephony/calls/<command>).
COMMANDS: Final = {
    CallAction.ANSWER: "answer",
    CallAction.REJECT: "reject",
    CallAction.HANGUP: "hangup",
    CallAction.HOLD: "hold",
    CallAction.RESUME: "resume",
    CallAction.SEND_DIGITS: "transmitDtmf",
}
# transmitDtmf: "Each digit must be part of the following set: [0-9, *, #, A,
# B, C, D]. A comma "," may be included to indicate a pause between digits."
DTMF_KEYS: Final = "0123456789*#ABCD,"
# UNCONFIRMED: Webex documents no length limits for dtmf or destination.
DTMF_MAX: Final = 64
DESTINATION_MAX: Final = 256
# A Webex option of transfer: divert (blind, at once) instead of transfer
# (waits for the destination to answer).
DIVERT: Final = "divert"


def _destination(value: Any) -> str | None:
    """Accept a Webex destination: digits or a URI ("1234", "+1222...", "sip:...")."""
    if (
        isinstance(value, str)
        and value.strip()
        and len(value) <= DESTINATION_MAX
        and value.isprintable()
    ):
        return None
    return f"must be a number or address of 1 to {DESTINATION_MAX} characters"


# Reject takes an optional `action`; answer, hang-up, hold and resume take
# none: the call and endpoint come from the call and device themselves.
OPTIONS: Final[OptionSchema] = {
    CallAction.REJECT: {"action": one_of(*REJECT_ACTIONS)},
    CallAction.TRANSFER: {
        ARG_TO: _destination,
        ARG_VOICEMAIL: boolean,
        DIVERT: boolean,
    },
    CallAction.SEND_DIGITS: {ARG_DIGITS: dtmf_digits(DTMF_KEYS, DTMF_MAX)},
    CallAction.DIAL: {ARG_TO: _destination},
}
REQUIRED: Final = {
    CallAction.SEND_DIGITS: (ARG_DIGITS,),
    CallAction.DIAL: (ARG_TO,),
}
# What Call.raw keeps of a call's data (webhook or GET /telephony/calls).
RAW_FIELDS: Final = (
    "state",
    "personality",
    "callSessionId",
    "endpointId",
    "endpointType",
    "completedElsewhere",
)

type Context = Literal["command", "dial", "call", "other"]

_LOGGER = logging.getLogger(__name__)


class TokenSource(Protocol):
    """Where the client gets its OAuth2 access token."""

    async def async_token(self, *, refresh: bool = False) -> str:
        """Return a valid access token; refresh=True forces a refresh.

        Raises AuthenticationError when the refresh token is refused.
        """


class _NotFoundError(ProviderError):
    """A 404 outside call control (a webhook already gone)."""


def authorize_url(base_url: str = DEFAULT_URL) -> str:
    """Where a user signs in to the Webex whose API is at `base_url`.

    Webex documents https://webexapis.com/v1/authorize. That another Webex
    (FedRAMP, say) or a proxy serves it at the same path under its API base is
    UNCONFIRMED.
    """
    return f"{base_url.rstrip('/')}/authorize"


def token_url(base_url: str = DEFAULT_URL) -> str:
    """Where codes and refresh tokens become tokens, for the API at `base_url`.

    Webex documents POST https://webexapis.com/v1/access_token; the same path
    under another API base is UNCONFIRMED (seen for FedRAMP only in
    third-party code).
    """
    return f"{base_url.rstrip('/')}/access_token"


def new_webhook_secret() -> str:
    """Make a webhook secret: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    """Return X-Spark-Signature for `body`: lowercase hex HMAC-SHA1 with `secret`."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def validate_options(action: CallAction, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check options against the command's documented body.

    Reject takes an optional `action` (busy, the default; temporarilyUnavailable;
    ignore). Transfer takes `to` (required unless `voicemail` is true),
    `voicemail` and `divert`; send_digits `digits`; dial `to`. Answer, hang-up,
    hold and resume take none.
    """
    checked = check_options(
        OPTIONS,
        action,
        options,
        unknown="is not a Webex option for this action",
        required=REQUIRED,
    )
    if action is CallAction.TRANSFER:
        voicemail = checked.get(ARG_VOICEMAIL) is True
        if not voicemail and ARG_TO not in checked:
            raise InvalidOptionError(ARG_TO, "is required")
        if voicemail and checked.get(DIVERT) is False:
            # Only divert reaches voicemail.
            raise InvalidOptionError(DIVERT, "must be true with voicemail")
    return checked


class WebexClient:
    """Talks to Webex Calling as the signed-in user."""

    # Webex's call control has no text-to-speech or playback (speak, play).
    supported_actions = frozenset(
        {
            CallAction.ANSWER,
            CallAction.REJECT,
            CallAction.HANGUP,
            CallAction.TRANSFER,
            CallAction.HOLD,
            CallAction.RESUME,
            CallAction.SEND_DIGITS,
            CallAction.DIAL,
        }
    )
    # Whether Webex refuses an http targetUrl is UNCONFIRMED: not demanded.
    webhook_requires_https = False
    # Our webhook is ours alone: deleted when the entry is removed.
    owns_registration = True
    # Call.raw keeps no party; the entry's token and secret are the kind's.
    # Webex sends no event for the keys a caller presses.
    reports_digits: ClassVar[bool] = False
    redact_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenSource,
        *,
        base_url: str = DEFAULT_URL,
        webhook_secret: str | None = None,
        webhook_name: str = "Switchboard",
    ) -> None:
        """Keep the session and token source; nothing is sent yet."""
        self._session = session
        self._tokens = tokens
        self._base_url = base_url.rstrip("/")
        self._webhook_secret = webhook_secret
        self.webhook_name = webhook_name
        self.webhook_url: str | None = None
        self._devices: dict[str, Device] = {}
        self._person_read = False
        self._line_number: str | None = None
        self._call_endpoints: BoundedMap[str, str] = BoundedMap(MEMORY)
        self._answered: BoundedSet[str] = BoundedSet(MEMORY)
        self._rejected: BoundedSet[str] = BoundedSet(MEMORY)
        # Calls we transferred or diverted (noted before the command is sent),
        # and the calls Webex placed to carry a transfer -> the call they carry.
        self._transferred: BoundedSet[str] = BoundedSet(MEMORY)
        self._consults: BoundedMap[str, str] = BoundedMap(MEMORY)
        # The furthest each call has come (RANKS), as the events read so far say.
        self._reached: BoundedMap[str, int] = BoundedMap(MEMORY)

    # --- REST ---

    async def _request(
        self,
        method: str,
        target: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        context: Context = "other",
    ) -> tuple[dict[str, Any], str | None]:
        """Send one request; return its JSON object and the next page's URL.

        A 401 refreshes the token once and tries again; a second 401 means the
        user must sign in again.
        """
        # A target is a path, or a next-page URL already checked to be ours.
        url = (
            target
            if target.startswith(f"{self._base_url}/")
            else f"{self._base_url}{target}"
        )
        token = await self._tokens.async_token()
        reply = await self._send(method, url, token, params, body)
        if reply.status == HTTPStatus.UNAUTHORIZED:
            token = await self._tokens.async_token(refresh=True)
            reply = await self._send(method, url, token, params, body)
        data = read_object(
            reply, service="Webex", errors=lambda failed: _error(failed, context)
        )
        return data, reply.next_url

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
    ) -> Reply:
        return await send(
            self._session,
            method,
            url,
            service="Webex",
            # Read at call time, so a test can shorten it.
            time_limit=REQUEST_TIMEOUT,
            headers=bearer_headers(token),
            params=params,
            json_body=body,
        )

    async def async_get_account(self) -> Account:
        """Say who signed in: GET /people/me.

        Raises NotTheApiError when that answers 404: the API always knows its
        caller, so the URL is not the API's (one without /v1, say).
        """
        try:
            data, _ = await self._request("GET", "/people/me")
        except _NotFoundError as err:
            raise NotTheApiError(str(err)) from err
        person_id = data.get("id")
        if not isinstance(person_id, str) or not person_id:
            raise ProviderError("Webex did not say who is signed in")
        self._person_read = True
        self._line_number = _line_number(data.get("phoneNumbers"))
        emails = data.get("emails")
        name = data.get("displayName") or (
            emails[0] if isinstance(emails, list) and emails else None
        )
        return Account(person_id, str(name or person_id))

    async def async_get_devices(self) -> list[Device]:
        """Each preferred answer endpoint of the user is a device.

        A user without any (the list is empty when none of the user's endpoints
        supports it) has one device: the primary device.
        """
        if not self._person_read:
            try:
                await self.async_get_account()
            except PermissionDeniedError:
                # Without people_read the endpoints still work; only the user's
                # own number (local_number) stays unknown.
                self._person_read = True
        data, _ = await self._request("GET", ENDPOINTS_PATH)
        endpoints = data.get("endpoints")
        devices = [
            Device(
                device_id=item["id"],
                name=str(item.get("name") or item["id"]),
                model=ENDPOINT_MODELS.get(str(item.get("type")), "Endpoint"),
                number=self._line_number,
            )
            for item in (endpoints if isinstance(endpoints, list) else [])
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]
        if endpoints == []:
            devices = [
                Device(
                    device_id=PRIMARY_DEVICE_ID,
                    name=PRIMARY_DEVICE,
                    model=PRIMARY_DEVICE,
                    number=self._line_number,
                )
            ]
        self._devices = {device.device_id: device for device in devices}
        return devices

    async def async_list_calls(self) -> list[CallEvent]:
        """Each current call with its state as of now (GET /telephony/calls)."""
        data, _ = await self._request("GET", "/telephony/calls")
        now = time.time()
        items = data.get("items")
        return [
            self._snapshot(item, now)
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]

    async def async_refresh_call(self, call: Call) -> CallEvent | None:
        """Where the call stands now; a call Webex no longer knows has ended."""
        try:
            data, _ = await self._request(
                "GET",
                f"/telephony/calls/{path_segment(call.call_id)}",
                context="call",
            )
        except CallNotFoundError:
            now = time.time()
            return CallEvent(
                event_id=f"{call.call_id}:gone:{now!r}",
                call_id=call.call_id,
                order=(now, RANKS[CallState.ENDED]),
                state=CallState.ENDED,
                occurred_at=datetime.fromtimestamp(now, UTC),
                # Why it ended is unknown unless we sent it away ourselves.
                end_reason=self._our_end(call.call_id),
                actions=frozenset(),
            )
        return self._snapshot({**data, "id": call.call_id}, time.time())

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
        """Send `action`'s command for `call` (answered on `device`)."""
        if action is CallAction.TRANSFER:
            await self._transfer(call, options)
            return
        command = COMMANDS.get(action)
        if command is None:
            # Speak, play and dial are not commands on a call at Webex.
            raise ActionNotAllowedError(f"Webex call control cannot {action}")
        body: dict[str, Any] = {"callId": call.call_id}
        if action is CallAction.ANSWER and device.device_id != PRIMARY_DEVICE_ID:
            body["endpointId"] = device.device_id
        elif action is CallAction.REJECT:
            body.update(options)
        elif action is CallAction.SEND_DIGITS:
            body["dtmf"] = options[ARG_DIGITS]
        # Hanging up an unanswered incoming call rejects it (sends it to busy).
        rejecting = action is CallAction.REJECT or (
            action is CallAction.HANGUP and call.state is CallState.RINGING
        )
        # Noted before sending: the webhook may arrive before the response.
        await self._command(
            command, body, note=self._rejected if rejecting else None, call=call
        )
        if action is CallAction.ANSWER:
            self._call_endpoints.put(call.call_id, device.device_id)
            self._answered.add(call.call_id)

    async def _command(
        self,
        command: str,
        body: Mapping[str, Any],
        *,
        call: Call,
        note: BoundedSet[str] | None = None,
    ) -> dict[str, Any]:
        """POST one call command; `note` keeps the call unless it surely failed.

        A call is noted (rejected, transferred) before the command is sent, as
        its webhook may arrive before the response; a refusal forgets it, an
        outage keeps it (it may have happened).
        """
        if note is not None:
            note.add(call.call_id)
        try:
            data, _ = await self._request(
                "POST", f"/telephony/calls/{command}", body=body, context="command"
            )
        except ProviderUnavailableError:
            raise
        except ProviderError:
            if note is not None:
                note.discard(call.call_id)
            raise
        return data

    async def _transfer(self, call: Call, options: Mapping[str, Any]) -> None:
        """Transfer to `to` once it answers, or divert (blind, or to voicemail).

        Webex's divert is "commonly referred to as Blind Transfer"; its
        transfer with callId1 and a destination is a "Mute Transfer", "similar
        to the divert API with the difference of waiting for the destination to
        respond prior to transferring the call. If the destination does not
        respond, the call is not transferred." Unanswered incoming calls
        cannot be transferred but can be diverted, so a ringing call is
        diverted.
        """
        destination = options.get(ARG_TO)
        voicemail = options.get(ARG_VOICEMAIL) is True
        if voicemail or options.get(DIVERT) is True or call.state is CallState.RINGING:
            body: dict[str, Any] = {"callId": call.call_id}
            if destination is not None:
                body["destination"] = destination
            if voicemail:
                # Without a destination: the user's own voicemail; with one,
                # that user's voicemail.
                body["toVoicemail"] = True
            await self._command("divert", body, call=call, note=self._transferred)
            return
        data = await self._command(
            "transfer",
            {"callId1": call.call_id, "destination": destination},
            call=call,
            note=self._transferred,
        )
        # 201 {callId, callSessionId}: the call Webex places to the destination.
        # UNCONFIRMED: that it shows in webhooks as one of the user's calls
        # (outgoing, connecting) until the destination answers and both end.
        consult = non_empty_text(data.get("callId"))
        if consult is not None:
            self._consults.put(consult, call.call_id)
            if (endpoint := self._call_endpoints.get(call.call_id)) is not None:
                self._call_endpoints.put(consult, endpoint)

    async def async_dial(self, device: Device, options: Mapping[str, Any]) -> CallEvent:
        """Place a call from `device` to options["to"]: POST /telephony/calls/dial.

        Click to dial: the endpoint (every endpoint of the user, for the
        primary device) alerts first, and once it is answered the call goes out
        to the destination. Webex answers 201 {callId, callSessionId}; the
        call's progress follows in webhooks (clickToDial alerting, connecting,
        connected).
        """
        destination = str(options[ARG_TO])
        body: dict[str, Any] = {"destination": destination}
        if device.device_id != PRIMARY_DEVICE_ID:
            body["endpointId"] = device.device_id
        data, _ = await self._request(
            "POST", "/telephony/calls/dial", body=body, context="dial"
        )
        call_id = non_empty_text(data.get("callId"))
        if call_id is None:
            raise ProviderError("Webex did not say which call it placed")
        self._call_endpoints.put(call_id, device.device_id)
        self._reach(call_id, CallState.DIALING)
        now = datetime.now(UTC)
        return CallEvent(
            event_id=f"{call_id}:dial",
            call_id=call_id,
            # The answer has no Webex timestamp: it sorts before every event
            # Webex sends about the call, so one that overtook it still wins.
            order=(0.0, RANKS[CallState.DIALING]),
            state=CallState.DIALING,
            device_ids=(device.device_id,),
            direction=Direction.OUTGOING,
            remote_number=destination,
            local_number=self._line_number,
            occurred_at=now,
            started_at=now,
            actions=ACTIVE_ACTIONS,
            raw=raw_fields(data, ("callSessionId",), event="dial"),
        )

    # --- webhook registration ---

    def use_webhook_url(self, url: str | None) -> None:
        """Remember where Home Assistant receives events (commands never say)."""
        self.webhook_url = url

    async def _our_webhooks(self) -> list[dict[str, Any]]:
        """Our webhooks (by name) among all of the user's, page by page."""
        found: list[dict[str, Any]] = []
        target: str | None = "/webhooks"
        params: Mapping[str, str] | None = {"max": str(PAGE_SIZE)}
        while target is not None:
            data, next_url = await self._request("GET", target, params=params)
            items = data.get("items")
            found.extend(
                item
                for item in (items if isinstance(items, list) else [])
                if isinstance(item, dict)
                and item.get("name") == self.webhook_name
                and isinstance(item.get("id"), str)
            )
            if next_url is not None and not next_url.startswith(f"{self._base_url}/"):
                # Never send the token anywhere but the API.
                raise ProviderError("Webex pointed the next page outside its API")
            target, params = next_url, None
        return found

    @staticmethod
    def _reusable(webhook: Mapping[str, Any]) -> bool:
        """Whether a webhook of our name sends what we need (PUT cannot change it)."""
        return (
            webhook.get("resource") == WEBHOOK_RESOURCE
            and webhook.get("event") == "all"
        )

    def _is_current(self, webhook: Mapping[str, Any]) -> bool:
        """Whether our webhook delivers now, signed with our secret."""
        # Whether Webex shows the secret in webhook details is UNCONFIRMED: an
        # absent secret is taken as ours.
        secret = webhook.get("secret")
        return (
            self._reusable(webhook)
            and webhook.get("status") == "active"
            and isinstance(webhook.get("targetUrl"), str)
            and (secret is None or secret == self._webhook_secret)
        )

    async def async_get_webhook_url(self) -> str | None:
        """Our webhook's targetUrl while it is active; None otherwise."""
        for webhook in await self._our_webhooks():
            if self._is_current(webhook):
                return str(webhook["targetUrl"])
        return None

    async def async_set_webhook_url(self, url: str | None) -> None:
        """Point our webhook at `url` (created or reactivated); None deletes it."""
        webhooks = await self._our_webhooks()
        keep = None
        if url is not None:
            secret = self._secret()
            keep = next((hook for hook in webhooks if self._reusable(hook)), None)
        for webhook in webhooks:
            if webhook is not keep:
                await self._delete_webhook(webhook["id"])
        if url is None:
            return
        if keep is not None:
            try:
                await self._request(
                    "PUT",
                    f"/webhooks/{path_segment(keep['id'])}",
                    body={
                        "name": self.webhook_name,
                        "targetUrl": url,
                        "secret": secret,
                        "status": "active",
                    },
                )
            except _NotFoundError:
                pass  # deleted meanwhile: create it again
            else:
                return
        await self._request(
            "POST",
            "/webhooks",
            body={
                "name": self.webhook_name,
                "targetUrl": url,
                "resource": WEBHOOK_RESOURCE,
                "event": "all",
                "secret": secret,
            },
        )

    async def _delete_webhook(self, webhook_id: str) -> None:
        with contextlib.suppress(_NotFoundError):  # already gone
            await self._request("DELETE", f"/webhooks/{path_segment(webhook_id)}")

    def _secret(self) -> str:
        if not self._webhook_secret:
            raise ProviderError("no webhook secret configured")
        return self._webhook_secret

    # --- webhook deliveries ---

    async def async_parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[CallEvent]:
        """Check X-Spark-Signature over the raw body, then read the envelope.

        Webex sends no timestamp header, so there is no replay window to check.
        """
        del now
        self._verify(headers, body)
        envelope = load_payload(body, "Webex webhook")
        if not isinstance(envelope, dict):
            raise InvalidPayloadError("not a Webex webhook envelope")
        if envelope.get("resource") != WEBHOOK_RESOURCE:
            return []
        data = envelope.get("data")
        call_id = non_empty_text(data.get("callId")) if isinstance(data, dict) else None
        if not isinstance(data, dict) or call_id is None:
            raise InvalidPayloadError("telephony_calls event without callId")
        stamp = data.get("eventTimestamp")
        occurred_at = parse_timestamp(stamp)
        if occurred_at is None:
            raise InvalidPayloadError("telephony_calls event without eventTimestamp")
        # eventType is an open string (only received, updated, answered and
        # disconnected are observed); the envelope's event is the fallback.
        event = non_empty_text(envelope.get("event"))
        event_type = non_empty_text(data.get("eventType")) or event or "-"
        deleted = event == "deleted" or event_type == "disconnected"
        state = CallState.ENDED if deleted else _known_state(data)
        if state is None:
            state = _guessed_state(data, event_type)
            if RANKS[state] < self._rank_reached(call_id):
                # An unknown state never moves a call back (talking to ringing).
                _LOGGER.debug(
                    "Skipped a Webex %s event in an unknown state", event_type[:64]
                )
                return []
        return [
            self._event(
                call_id,
                data,
                event_id=f"{call_id}:{event_type}:{stamp}",
                when=occurred_at.timestamp(),
                occurred_at=occurred_at,
                deleted=deleted,
                event_name=event_type,
                state=state,
            )
        ]

    def _verify(self, headers: Mapping[str, str], body: bytes) -> None:
        if not self._webhook_secret:
            raise InvalidSignatureError("no webhook secret configured")
        given = next(
            (
                value
                for key, value in headers.items()
                if key.lower() == SIGNATURE_HEADER
            ),
            "",
        )
        expected = signature(self._webhook_secret, body)
        # A hex digest is ASCII; anything else (undecodable bytes included)
        # cannot match and cannot be compared as bytes either.
        if (
            not given
            or not given.isascii()
            or not hmac.compare_digest(
                given.strip().lower().encode(), expected.encode()
            )
        ):
            raise InvalidSignatureError("X-Spark-Signature does not match")

    # --- mapping ---

    def _rank_reached(self, call_id: str) -> int:
        """Return the furthest rank the call has reached; -1 if not read yet."""
        reached = self._reached.get(call_id)
        return -1 if reached is None else reached

    def _reach(self, call_id: str, state: CallState) -> None:
        """Remember that the call got as far as `state`, if no further already."""
        self._reached.put(call_id, max(RANKS[state], self._rank_reached(call_id)))

    def _snapshot(self, item: dict[str, Any], now: float) -> CallEvent:
        """Read a call as GET /telephony/calls shows it now: newer than any event."""
        answered = parse_timestamp(item.get("answered"))
        return self._event(
            item["id"],
            item,
            event_id=f"{item['id']}:now:{now!r}",
            when=now,
            occurred_at=answered or parse_timestamp(item.get("created")),
            deleted=False,
            event_name="call",
        )

    def _event(
        self,
        call_id: str,
        data: Mapping[str, Any],
        *,
        event_id: str,
        when: float,
        occurred_at: datetime | None,
        deleted: bool,
        event_name: str,
        state: CallState | None = None,
    ) -> CallEvent:
        direction = _direction(data)
        if state is None:
            state = CallState.ENDED if deleted else _state(data)
        if state in (CallState.TALKING, CallState.ON_HOLD) or data.get("answered"):
            self._answered.add(call_id)
        self._reach(call_id, state)
        party = data.get("remoteParty")
        party = party if isinstance(party, dict) else {}
        number = non_empty_text(party.get("number"))
        name = non_empty_text(party.get("name"))
        return CallEvent(
            event_id=event_id,
            call_id=call_id,
            order=(when, RANKS[state]),
            state=state,
            device_ids=self._devices_for(call_id, state, data.get("endpointId")),
            direction=direction,
            remote_number=number,
            remote_name=name if name != number else None,
            local_number=self._line_number,
            occurred_at=occurred_at,
            started_at=parse_timestamp(data.get("created")),
            end_reason=self._end_reason(call_id, data, direction)
            if state is CallState.ENDED
            else None,
            actions=_actions(state, direction, data),
            raw=raw_fields(data, RAW_FIELDS, event=event_name),
        )

    def _devices_for(
        self, call_id: str, state: CallState, endpoint: Any
    ) -> tuple[str, ...]:
        if state is CallState.RINGING:
            # An incoming call alerts every endpoint of the user.
            return tuple(self._devices)
        if isinstance(endpoint, str) and endpoint in self._devices:
            self._call_endpoints.put(call_id, endpoint)
            return (endpoint,)
        known = self._call_endpoints.get(call_id)
        if known is not None and known in self._devices:
            return (known,)
        if state is CallState.ENDED:
            return ()  # the call stays where it was
        # Active on an endpoint that is not ours, or Webex did not say which:
        # it is still the user's call, on their line.
        return tuple(self._devices)

    def _our_end(self, call_id: str) -> EndReason | None:
        """Return the end we caused (a reject, a transfer), if any."""
        if call_id in self._transferred:
            return EndReason.TRANSFERRED
        if call_id in self._rejected:
            return EndReason.REJECTED
        return None

    def _end_reason(
        self, call_id: str, data: Mapping[str, Any], direction: Direction | None
    ) -> EndReason:
        original = self._consults.get(call_id)
        if original is not None:
            if data.get("answered") or call_id in self._answered:
                return EndReason.TRANSFERRED  # it carried the call away
            # The destination never answered: the transfer failed and the
            # call it would have carried stays with the user.
            self._transferred.discard(original)
            return EndReason.COMPLETED
        if call_id in self._transferred:
            return EndReason.TRANSFERRED
        if data.get("completedElsewhere") is True:
            return EndReason.ANSWERED_ELSEWHERE
        if call_id in self._rejected:
            return EndReason.REJECTED
        if (
            direction is Direction.INCOMING
            and not data.get("answered")
            and call_id not in self._answered
        ):
            return EndReason.MISSED
        return EndReason.COMPLETED


def _direction(data: Mapping[str, Any]) -> Direction | None:
    personality = data.get("personality")
    return DIRECTIONS.get(personality) if isinstance(personality, str) else None


def _known_state(data: Mapping[str, Any]) -> CallState | None:
    """Return the state the data names, if it is one of the documented enum."""
    state = data.get("state")
    if not isinstance(state, str):
        return None
    if state == "alerting":
        # clickToDial alerts the user's own device to place a Dial.
        clicked = data.get("personality") == "clickToDial"
        return CallState.DIALING if clicked else CallState.RINGING
    return STATES.get(state)


def _state(data: Mapping[str, Any]) -> CallState:
    if (known := _known_state(data)) is not None:
        return known
    # A state outside the documented enum: read what else the data says.
    if data.get("answered"):
        return CallState.TALKING
    if _direction(data) is Direction.OUTGOING:
        return CallState.DIALING
    return CallState.RINGING


def _guessed_state(data: Mapping[str, Any], event_type: str) -> CallState:
    """Where a webhook event in a state outside the documented enum leaves its call.

    UNCONFIRMED: Webex documents the states as an enum; a new value is read
    from the event type and the rest of the data, and applied only where it
    moves the call forward.
    """
    if event_type == "answered":
        return CallState.TALKING
    return _state(data)


def _actions(
    state: CallState, direction: Direction | None, data: Mapping[str, Any]
) -> frozenset[CallAction]:
    if state is CallState.ENDED:
        return frozenset()
    if state is CallState.RINGING:
        return (
            RINGING_ACTIONS if direction is not Direction.OUTGOING else ACTIVE_ACTIONS
        )
    if state is CallState.TALKING:
        return TALKING_ACTIONS
    if state is CallState.ON_HOLD:
        return (
            REMOTE_HELD_ACTIONS if data.get("state") == "remoteHeld" else HELD_ACTIONS
        )
    return ACTIVE_ACTIONS


def _line_number(numbers: Any) -> str | None:
    """Find the user's work number in GET /people/me phoneNumbers, primary first."""
    if not isinstance(numbers, list):
        return None
    work = [
        item
        for item in numbers
        if isinstance(item, dict)
        and item.get("type") == "work"
        and isinstance(item.get("value"), str)
        and item["value"].strip()
    ]
    work.sort(key=lambda item: item.get("primary") is not True)
    return normalize_number(work[0]["value"]) if work else None


def _error(reply: Reply, context: Context) -> ProviderError:
    status, headers = reply.status, reply.headers
    message = _message(status, headers, reply.text)
    if status == HTTPStatus.UNAUTHORIZED:
        return AuthenticationError(message)
    if status == HTTPStatus.FORBIDDEN:
        return PermissionDeniedError(message)
    if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.LOCKED):
        return RateLimitedError(message, retry_after(headers.get("Retry-After")))
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProviderUnavailableError(message)
    if status in (HTTPStatus.NOT_FOUND, HTTPStatus.GONE):
        if context == "dial":
            return ProviderError(message)  # no call to be gone
        if context == "command":
            return CallEndedError(message)
        if context == "call":
            return CallNotFoundError(message)
        return _NotFoundError(message)
    if context in ("command", "dial") and status in (
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.CONFLICT,
    ):
        # The status for a call that is not alerting (or in the wrong state for
        # the command, or a dial the endpoint cannot place) is UNCONFIRMED;
        # 400 and 409 are the likely ones. Webex's message says which.
        return ActionNotAllowedError(message)
    return ProviderError(message)


def _message(status: int, headers: Mapping[str, str], text: str) -> str:
    """Webex's own message and tracking id, from {message, errors, trackingId}."""
    message: Any = None
    tracking: Any = headers.get("TrackingID")
    try:
        data = load_json(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = data.get("message")
        errors = data.get("errors")
        if not message and isinstance(errors, list) and errors:
            first = errors[0]
            message = first.get("description") if isinstance(first, dict) else None
        tracking = data.get("trackingId") or tracking
    text = str(message) if message else f"Webex answered HTTP {status}"
    return f"{text} (tracking id {tracking})" if tracking else text
