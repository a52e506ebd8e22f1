"""Telnyx Call Control v2 client: REST commands and Ed25519-signed webhooks."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from http import HTTPStatus
from typing import Any, ClassVar, Final
import uuid

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .kernel.http import Reply, bearer_headers, request_json
from .kernel.options import (
    Check,
    OptionSchema,
    base64_string,
    boolean,
    check_options,
    int_range,
    json_object,
    non_empty_string,
    one_of,
    text_length,
)
from .kernel.payload import load_json, load_payload
from .kernel.raw import raw_fields
from .kernel.retry_after import retry_after
from .kernel.values import (
    integer,
    non_empty_text,
    normalize_number,
    parse_direction,
    parse_timestamp,
)
from .model import (
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
    InvalidPayloadError,
    InvalidSignatureError,
    NotTheApiError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)

DEFAULT_URL: Final = "https://api.telnyx.com/v2"
REQUEST_TIMEOUT: Final = 10.0
PAGE_SIZE: Final = 250
# No list of a home's account comes near this; a list that does is refused.
MAX_PAGES: Final = 100
# Both official SDKs reject a webhook whose timestamp is further than this from now.
REPLAY_WINDOW: Final = 300
# A Telnyx-Timestamp is Unix seconds: a dozen digits reach the year 33658.
MAX_TIMESTAMP_DIGITS: Final = 12

# Telnyx sends these, and we have no use for them: accepted and ignored. Anything
# not here nor in STATE_EVENTS is not a Telnyx call webhook and is refused.
IGNORED_EVENTS: Final = frozenset(
    {
        "call.dtmf.received",
        "call.gather.ended",
        "call.speak.started",
        "call.speak.ended",
        "call.playback.started",
        "call.playback.ended",
        "call.recording.saved",
        "call.recording.error",
        "call.recording.transcription.saved",
        "call.machine.detection.ended",
        "call.machine.greeting.ended",
        "call.machine.premium.detection.ended",
        "call.machine.premium.greeting.ended",
        "call.fork.started",
        "call.fork.stopped",
        "call.enqueued",
        "call.dequeued",
        "call.left_queue",
        "call.refer.started",
        "call.refer.completed",
        "call.refer.failed",
        "call.cost",
        "call.transcription",
        "streaming.started",
        "streaming.stopped",
        "streaming.failed",
    }
)
# event type -> (state rank used to order events with the same timestamp)
STATE_EVENTS: Final = {
    "call.initiated": 0,
    "call.answered": 1,
    "call.bridged": 1,
    "call.unhold": 1,
    "call.hold": 2,
    "call.hangup": 3,
}
END_REASONS: Final = {
    "normal_clearing": EndReason.COMPLETED,
    "call_rejected": EndReason.REJECTED,
    "user_busy": EndReason.REJECTED,
    "originator_cancel": EndReason.MISSED,
    "timeout": EndReason.MISSED,
    "no_answer": EndReason.MISSED,
}
RINGING_ACTIONS: Final = frozenset(
    {CallAction.ANSWER, CallAction.REJECT, CallAction.HANGUP}
)
ACTIVE_ACTIONS: Final = frozenset({CallAction.HANGUP})
ACTION_PATHS: Final = {
    CallAction.ANSWER: "answer",
    CallAction.REJECT: "reject",
    CallAction.HANGUP: "hangup",
}
# Retry-After on a Telnyx 429 is UNCONFIRMED; x-ratelimit-reset (seconds until
# the window resets) is documented. Whichever is there, Retry-After first.
RETRY_HEADERS: Final = ("Retry-After", "x-ratelimit-reset")
# What Call.raw keeps of a webhook's payload and of GET /calls/{id}.
EVENT_RAW_FIELDS: Final = (
    "state",
    "hangup_cause",
    "hangup_source",
    "sip_hangup_cause",
    # The call id names the leg; the session id is what Telnyx support asks for.
    "call_session_id",
)
# What Call.raw keeps of a live call the event log says nothing of.
ACTIVE_RAW_FIELDS: Final = ("call_duration", "call_leg_id", "call_session_id")
STATUS_RAW_FIELDS: Final = (
    "is_alive",
    "call_duration",
    "end_time",
    "call_leg_id",
    "call_session_id",
)


@dataclass(frozen=True, slots=True)
class TelnyxApplication:
    """A Call Control application: the account a config entry follows."""

    application_id: str
    name: str
    webhook_event_url: str | None


def load_public_key(public_key: str) -> Ed25519PublicKey:
    """Read the portal's webhook public key: base64 of the raw 32-byte key."""
    try:
        raw = base64.b64decode(public_key.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidSignatureError("not a base64 Ed25519 public key") from err


# --- answer / reject / hangup options, as in Telnyx's command documentation ---

CODECS: Final = frozenset({"G722", "PCMU", "PCMA", "G729", "OPUS", "VP8", "H264"})
MAX_FILE_NAME: Final = 40


def _headers(names: tuple[str, ...] | None = None) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not all(
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("value"), str)
            and set(item) == {"name", "value"}
            for item in value
        ):
            return "must be a list of {name, value} pairs"
        if names and any(item["name"] not in names for item in value):
            return f"only {', '.join(names)} is supported"
        return None

    return check


def _codecs(value: Any) -> str | None:
    if isinstance(value, str) and value and set(value.split(",")) <= CODECS:
        return None
    return f"must be a comma-separated list of {', '.join(sorted(CODECS))}"


COMMON_OPTIONS: Final[dict[str, Check]] = {
    "client_state": base64_string,
    "command_id": non_empty_string,
}
OPTIONS: Final[OptionSchema] = {
    CallAction.ANSWER: {
        **COMMON_OPTIONS,
        "billing_group_id": non_empty_string,
        "custom_headers": _headers(),
        "preferred_codecs": _codecs,
        "sip_headers": _headers(("User-to-User",)),
        "sound_modifications": json_object,
        "stream_url": non_empty_string,
        "stream_track": one_of("inbound_track", "outbound_track", "both_tracks"),
        "stream_codec": non_empty_string,
        "stream_bidirectional_mode": one_of("mp3", "rtp"),
        "stream_bidirectional_codec": one_of("PCMU", "PCMA", "G722"),
        "stream_bidirectional_target_legs": one_of("both", "self", "opposite"),
        "stream_bidirectional_sampling_rate": int_range(1),
        "send_silence_when_idle": boolean,
        "webhook_url": non_empty_string,
        "webhook_url_method": one_of("POST", "GET"),
        "transcription": boolean,
        "transcription_config": json_object,
        "record": one_of("record-from-answer"),
        "record_channels": one_of("single", "dual"),
        "record_format": one_of("wav", "mp3"),
        "record_max_length": int_range(0, 43200),
        "record_timeout_secs": int_range(0),
        "record_track": one_of("both", "inbound", "outbound"),
        "record_trim": one_of("trim-silence"),
        "record_custom_file_name": text_length(1, MAX_FILE_NAME),
    },
    CallAction.REJECT: {
        **COMMON_OPTIONS,
        "cause": one_of("CALL_REJECTED", "USER_BUSY"),
    },
    CallAction.HANGUP: {**COMMON_OPTIONS, "custom_headers": _headers()},
}


def validate_options(action: CallAction, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check options against the command's documented body; add a command_id.

    The command_id is made once per user action, so a retried request is never
    a second command: Telnyx ignores a repeated command_id on the same call.
    """
    validated = check_options(
        OPTIONS, action, options, unknown="is not a Telnyx option for this action"
    )
    validated.setdefault("command_id", str(uuid.uuid4()))
    if action is CallAction.REJECT:
        validated.setdefault("cause", "CALL_REJECTED")
    return validated


class TelnyxClient:
    """Talks to one Telnyx account, following one Call Control application."""

    supported_actions = frozenset(CallAction)
    webhook_requires_https = False
    # The application's webhook URL is the user's setting, not ours alone.
    owns_registration = False
    # The caller's state, where deliveries went and URLs the user gave commands.
    redact_keys: ClassVar[frozenset[str]] = frozenset(
        {"client_state", "delivered_to", "webhook_url", "stream_auth_token"}
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        public_key: str | None = None,
        application_id: str | None = None,
        base_url: str = DEFAULT_URL,
        request_timeout: float | None = None,
    ) -> None:
        """Keep the session and credentials; nothing is sent yet."""
        self._session = session
        self._api_key = api_key
        self._verifier = load_public_key(public_key) if public_key else None
        self.application_id = application_id
        self._base_url = base_url.rstrip("/")
        self._request_timeout = request_timeout
        self._devices_by_number: dict[str, tuple[str, ...]] = {}
        self._all_devices: tuple[str, ...] = ()

    # --- REST ---

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await request_json(
            self._session,
            method,
            f"{self._base_url}{path}",
            service="Telnyx",
            errors=_error,
            # Read at call time, so a test can shorten it.
            time_limit=self._request_timeout or REQUEST_TIMEOUT,
            headers=bearer_headers(self._api_key),
            params=params,
            json_body=body,
        )

    async def _list(self, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every item of a list, page by page (see _next_page).

        Raises ProviderError past MAX_PAGES: a partial list of calls would end
        the calls it lacks.
        """
        items: list[dict[str, Any]] = []
        page: dict[str, str] = {"page[number]": "1"}
        for _ in range(MAX_PAGES):
            data = await self._request(
                "GET", path, params={**params, **page, "page[size]": str(PAGE_SIZE)}
            )
            listed = data.get("data")
            items.extend(
                item
                for item in (listed if isinstance(listed, list) else [])
                if isinstance(item, dict)
            )
            page = _next_page(data.get("meta"), page)
            if not page:
                return items
        raise ProviderError(f"Telnyx lists more than {MAX_PAGES} pages of {path}")

    async def async_validate_key(self) -> None:
        """Check the API key with the read-only balance endpoint.

        Raises NotTheApiError when the address answers 404 there: every account
        has a balance, so the URL is not the API's (one without /v2, say).
        """
        try:
            try:
                await self._request("GET", "/balance")
            except PermissionDeniedError:
                # A restricted key may not read the balance yet control calls.
                await self._request(
                    "GET", "/call_control_applications", params={"page[size]": "1"}
                )
        except CallNotFoundError as err:  # Telnyx's 404
            raise NotTheApiError(str(err)) from err

    async def async_list_applications(self) -> list[TelnyxApplication]:
        """List the account's Call Control applications."""
        return [
            _application(item)
            for item in await self._list("/call_control_applications", {})
        ]

    async def async_get_application(self) -> TelnyxApplication:
        """Fetch the followed application."""
        data = await self._request(
            "GET", f"/call_control_applications/{self._application()}"
        )
        return _application(data.get("data", {}))

    async def async_get_account(self) -> Account:
        """Check the key against the followed application."""
        application = await self.async_get_application()
        return Account(application.application_id, application.name)

    async def async_get_devices(self) -> list[Device]:
        """Each phone number of the application is a device."""
        numbers = await self._list(
            "/phone_numbers", {"filter[connection_id]": self._application()}
        )
        devices = [
            Device(
                device_id=str(item["id"]),
                name=str(item["phone_number"]),
                model="Phone number",
                number=str(item["phone_number"]),
            )
            for item in numbers
            if item.get("id") and item.get("phone_number")
        ]
        # One tuple per device, shared by every call on it.
        self._devices_by_number = {
            normalize_number(device.number or ""): (device.device_id,)
            for device in devices
        }
        self._all_devices = tuple(device.device_id for device in devices)
        return devices

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
        """Send the command; the device plays no part in Telnyx's commands."""
        del device
        await self._request(
            "POST",
            f"/calls/{call.call_id}/actions/{ACTION_PATHS[action]}",
            body=options,
        )

    async def async_list_calls(self) -> list[CallEvent]:
        """Each live call of the application, with where it stands now.

        The application's active calls (the application id is the connection
        id) say which calls are alive, but neither their state nor their
        parties: each call's own webhook events in the call event log say those.
        """
        active = await self._list(
            f"/connections/{self._application()}/active_calls", {}
        )
        events: list[CallEvent] = []
        for item in active:
            call_id = non_empty_text(item.get("call_control_id"))
            if call_id is not None:
                events.extend(await self._listed_call(call_id, item))
        return events

    async def _listed_call(
        self, call_id: str, item: Mapping[str, Any]
    ) -> list[CallEvent]:
        """Read one live call as its latest logged state event has it."""
        leg = non_empty_text(item.get("call_leg_id"))
        try:
            logged = (
                await self._list(
                    "/call_events", {"filter[leg_id]": leg, "filter[type]": "webhook"}
                )
                if leg
                else []
            )
        except PermissionDeniedError, CallNotFoundError:
            # The log is a debugging API a key may not reach: the active calls
            # alone still end the calls that are gone.
            logged = []
        payload: dict[str, Any] = {}
        latest: tuple[datetime, str] | None = None
        for when, name, entry_payload in sorted(
            _logged_events(logged), key=lambda e: (e[0], STATE_EVENTS.get(e[1], -1))
        ):
            # Later events add to what earlier ones said (the initiated event
            # alone has the direction and the caller's name).
            payload.update(entry_payload)
            if name in STATE_EVENTS:
                latest = when, name
        if latest is None:
            return [self._alive(call_id, item)]
        when, name = latest
        event = self._event(
            name,
            f"log:{call_id}:{name}:{when.timestamp()!r}",
            call_id,
            when,
            {**payload, "call_control_id": call_id},
        )
        if event.local_number is not None:
            return [event]
        # The log named not our number: which device the call is on is unknown.
        # A call we do not know shows on every number (placed before any
        # event); one we know keeps its number and takes the state.
        return [
            replace(event, event_id=f"{event.event_id}:placed", order=(0.0, 0)),
            replace(event, device_ids=()),
        ]

    def _alive(self, call_id: str, item: Mapping[str, Any]) -> CallEvent:
        """Show a live call the log tells nothing of yet (it lags behind the call).

        Placed before any event, it never moves a call we know; a call we do
        not know shows as ringing on every number, which a call that has just
        begun is.
        """
        return CallEvent(
            event_id=f"alive:{call_id}",
            call_id=call_id,
            order=(0.0, 0),
            state=CallState.RINGING,
            device_ids=self._all_devices,
            actions=RINGING_ACTIONS,
            raw=raw_fields(item, ACTIVE_RAW_FIELDS, event="active_call"),
        )

    async def async_refresh_call(self, call: Call) -> CallEvent | None:
        """Ask whether the call is alive; an ended call yields its end."""
        data = (await self._request("GET", f"/calls/{call.call_id}")).get("data", {})
        if data.get("is_alive", True):
            return None
        ended_at = parse_timestamp(data.get("end_time"))
        return CallEvent(
            event_id=f"status:{call.call_id}",
            call_id=call.call_id,
            order=(ended_at.timestamp() if ended_at else float("inf"), 3),
            state=CallState.ENDED,
            occurred_at=ended_at,
            raw=raw_fields(data, STATUS_RAW_FIELDS, event="status"),
        )

    async def async_get_webhook_url(self) -> str | None:
        """Where the application sends its webhooks now."""
        return (await self.async_get_application()).webhook_event_url

    async def async_set_webhook_url(self, url: str | None) -> None:
        """Point the application's webhooks at `url`."""
        await self._request(
            "PATCH",
            f"/call_control_applications/{self._application()}",
            body={"webhook_event_url": url},
        )

    def _application(self) -> str:
        if self.application_id is None:
            raise ProviderError("no Call Control application chosen")
        return self.application_id

    # --- webhooks ---

    def use_webhook_url(self, url: str | None) -> None:
        """Telnyx commands never name the webhook URL; nothing to keep."""

    async def async_parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[CallEvent]:
        """Verify and read a delivery (all local work: no request is made)."""
        return self.parse_webhook(headers, body, now)

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float
    ) -> list[CallEvent]:
        """Verify the Ed25519 signature over "timestamp|body", then read the event."""
        self._verify(headers, body, now)
        envelope = load_payload(body, "Telnyx webhook")
        data = envelope.get("data") if isinstance(envelope, dict) else None
        if not isinstance(data, dict):
            raise InvalidPayloadError("not a Telnyx webhook envelope")
        event_type = data.get("event_type")
        if not isinstance(event_type, str):
            raise InvalidPayloadError("event without an event_type")
        if event_type in IGNORED_EVENTS:
            return []
        if event_type not in STATE_EVENTS:
            raise InvalidPayloadError(f"unknown event type {event_type[:64]!r}")
        event_id = non_empty_text(data.get("id"))
        payload = data.get("payload")
        occurred_at = parse_timestamp(data.get("occurred_at"))
        if event_id is None or not isinstance(payload, dict) or occurred_at is None:
            raise InvalidPayloadError("not a Telnyx webhook envelope")
        call_id = non_empty_text(payload.get("call_control_id"))
        if call_id is None:
            raise InvalidPayloadError("event without call_control_id")
        connection = payload.get("connection_id")
        if (
            self.application_id
            and isinstance(connection, str | int)
            and connection
            and str(connection) != self.application_id
        ):
            # Signed by Telnyx but for another application of the account.
            return []
        return [self._event(event_type, event_id, call_id, occurred_at, payload)]

    def _verify(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        if self._verifier is None:
            raise InvalidSignatureError("no webhook public key configured")
        lowered = {key.lower(): value for key, value in headers.items()}
        timestamp = lowered.get("telnyx-timestamp", "")
        signature = lowered.get("telnyx-signature-ed25519", "")
        # Unix seconds: plain ASCII digits, so also what was signed byte for byte.
        if (
            not (timestamp.isascii() and timestamp.isdigit())
            or len(timestamp) > MAX_TIMESTAMP_DIGITS
        ):
            raise InvalidSignatureError("missing or malformed signature headers")
        try:
            raw_signature = base64.b64decode(signature, validate=True)
        except (ValueError, binascii.Error) as err:
            raise InvalidSignatureError(
                "missing or malformed signature headers"
            ) from err
        if abs(now - int(timestamp)) > REPLAY_WINDOW:
            raise InvalidSignatureError("timestamp outside the replay window")
        try:
            self._verifier.verify(raw_signature, f"{timestamp}|".encode() + body)
        except InvalidSignature as err:
            raise InvalidSignatureError("signature does not match") from err

    def _event(
        self,
        event_type: str,
        event_id: str,
        call_id: str,
        occurred_at: datetime,
        payload: dict[str, Any],
    ) -> CallEvent:
        direction = parse_direction(payload.get("direction"))
        state, actions = _state(event_type, direction)
        caller = non_empty_text(payload.get("from"))
        callee = non_empty_text(payload.get("to"))
        incoming = direction is not Direction.OUTGOING
        remote, local = (caller, callee) if incoming else (callee, caller)
        caller_name = non_empty_text(payload.get("caller_id_name"))
        cause = payload.get("hangup_cause")
        return CallEvent(
            event_id=event_id,
            call_id=call_id,
            order=(occurred_at.timestamp(), STATE_EVENTS[event_type]),
            state=state,
            device_ids=self._devices_for(local),
            direction=direction,
            remote_number=remote,
            remote_name=(caller_name if incoming and caller_name != remote else None),
            local_number=local,
            occurred_at=occurred_at,
            started_at=parse_timestamp(payload.get("start_time")),
            end_reason=END_REASONS.get(cause)
            if state is CallState.ENDED and isinstance(cause, str)
            else None,
            actions=actions,
            raw=raw_fields(payload, EVENT_RAW_FIELDS, event=event_type),
        )

    def _devices_for(self, local_number: Any) -> tuple[str, ...]:
        if isinstance(local_number, str):
            device = self._devices_by_number.get(normalize_number(local_number))
            if device:
                return device
        # A call to the application that matches none of its numbers (a SIP URI,
        # say) still rings the application: show it on every number.
        return self._all_devices


def _next_page(meta: Any, page: Mapping[str, str]) -> dict[str, str]:
    """Return the parameters of the page after `page`; none after the last one.

    Telnyx lists page by page[number] up to meta.total_pages (the SDK's
    DefaultFlatPagination, active calls included). The docs' example of the
    active calls shows cursor paging instead (meta.cursors.after and a
    meta.next link); which one that list sends is UNCONFIRMED: both are
    followed.
    """
    if not isinstance(meta, dict):
        return {}
    number = integer(page.get("page[number]"))
    total = integer(meta.get("total_pages"))
    if number is not None and total is not None:
        return {"page[number]": str(number + 1)} if number < total else {}
    cursors = meta.get("cursors")
    after = non_empty_text(cursors.get("after")) if isinstance(cursors, dict) else None
    if after is not None and meta.get("next"):
        return {"page[after]": after}
    return {}


def _logged_events(
    entries: list[dict[str, Any]],
) -> list[tuple[datetime, str, dict[str, Any]]]:
    """Read the webhook events of a call event log: when, which, their payload.

    `name`, `type` and `event_timestamp` are documented. Where the raw event
    is in `metadata` is UNCONFIRMED (the schema says only that it "includes
    raw event"): read as the webhook's data object under `event`, the whole
    envelope or not. Without it an event still gives the state.
    """
    events: list[tuple[datetime, str, dict[str, Any]]] = []
    for entry in entries:
        when = parse_timestamp(entry.get("event_timestamp"))
        name = non_empty_text(entry.get("name"))
        if entry.get("type") != "webhook" or when is None or name is None:
            continue
        metadata = entry.get("metadata")
        raw = metadata.get("event") if isinstance(metadata, dict) else None
        if isinstance(raw, dict) and isinstance(raw.get("data"), dict):
            raw = raw["data"]
        payload = raw.get("payload") if isinstance(raw, dict) else None
        events.append((when, name, payload if isinstance(payload, dict) else {}))
    return events


def _application(item: Mapping[str, Any]) -> TelnyxApplication:
    return TelnyxApplication(
        application_id=str(item.get("id", "")),
        name=str(item.get("application_name") or item.get("id", "")),
        webhook_event_url=item.get("webhook_event_url") or None,
    )


def _state(
    event_type: str, direction: Direction | None
) -> tuple[CallState, frozenset[CallAction]]:
    if event_type == "call.initiated":
        if direction is Direction.OUTGOING:
            return CallState.DIALING, ACTIVE_ACTIONS
        return CallState.RINGING, RINGING_ACTIONS
    if event_type == "call.hold":
        return CallState.ON_HOLD, ACTIVE_ACTIONS
    if event_type == "call.hangup":
        return CallState.ENDED, frozenset()
    return CallState.TALKING, ACTIVE_ACTIONS


def _error(reply: Reply) -> ProviderError:
    status = reply.status
    code, message = _first_error(reply.text)
    described = f"{message} (HTTP {status}{f', code {code}' if code else ''})"
    if status == HTTPStatus.UNAUTHORIZED:
        return AuthenticationError(described)
    if status == HTTPStatus.FORBIDDEN:
        return PermissionDeniedError(described)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RateLimitedError(described, _retry_after(reply.headers))
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ProviderUnavailableError(described)
    if code == "90018":
        return CallEndedError(described)
    if code == "90015" or status == HTTPStatus.NOT_FOUND:
        return CallNotFoundError(described)
    if code in {"90034", "90102"}:
        return ActionNotAllowedError(described)
    return ProviderError(described)


def _first_error(text: str) -> tuple[str | None, str]:
    try:
        first = load_json(text)["errors"][0]
        code = str(first["code"]) if first.get("code") is not None else None
        parts = [str(first[key]) for key in ("title", "detail") if first.get(key)]
        return code, ": ".join(parts) or "Telnyx error"
    except ValueError, KeyError, IndexError, TypeError, AttributeError:
        return None, "Telnyx error"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    # Both are documented as seconds; Retry-After is read in either HTTP form.
    waits = (retry_after(headers.get(name)) for name in RETRY_HEADERS)
    return next((wait for wait in waits if wait is not None), None)
