"""Telnyx Call Control v2 client: REST commands and Ed25519-signed webhooks."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from http import HTTPStatus
import logging
import re
from typing import Any, ClassVar, Final
import uuid

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .kernel.http import Reply, bearer_headers, request_json
from .kernel.memory import BoundedMap, BoundedSet
from .kernel.options import (
    Check,
    OptionSchema,
    base64_string,
    boolean,
    check_options,
    dtmf_digits,
    http_url,
    int_range,
    json_object,
    non_empty_string,
    one_of,
    refuse_voicemail,
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
    ARG_DIGITS,
    ARG_LANGUAGE,
    ARG_MESSAGE,
    ARG_TO,
    ARG_URL,
    ARG_VOICE,
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

_LOGGER = logging.getLogger(__name__)

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
# not here, in STATE_EVENTS nor in DIGIT_EVENTS is not a Telnyx call webhook and
# is refused. The speak and playback events follow our speak and play commands
# but carry no news of the call.
IGNORED_EVENTS: Final = frozenset(
    {
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
# Keys the caller pressed: one per call.dtmf.received ("digit"), all of a gather
# at once in call.gather.ended ("digits").
DIGIT_EVENTS: Final = frozenset({"call.dtmf.received", "call.gather.ended"})
# What a caller can press (DTMF has A-D too), and at most how many at once: a
# gather takes up to 128 digits.
PRESSED_KEYS: Final = "0123456789*#ABCD"
MAX_PRESSED: Final = 128
_readable_keys: Final = dtmf_digits(PRESSED_KEYS, MAX_PRESSED)
# A transfer's other leg answering (or being bridged) confirms the transfer.
TRANSFER_CONFIRMATIONS: Final = frozenset({"call.answered", "call.bridged"})
# How many transfers (and their other legs) a client keeps in mind.
MAX_TRANSFERS: Final = 256
MAX_LEGS: Final = 1024
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
# An outgoing call before the far end answers: Telnyx refuses media commands on
# it (90034), so only hanging up.
DIALING_ACTIONS: Final = frozenset({CallAction.HANGUP})
TALKING_ACTIONS: Final = frozenset(
    {
        CallAction.HANGUP,
        CallAction.TRANSFER,
        CallAction.SPEAK,
        CallAction.PLAY,
        CallAction.SEND_DIGITS,
    }
)
# Telnyx has no hold command; a call is on hold only when Telnyx says so
# (call.hold). Which commands a held call takes is UNCONFIRMED: hanging up and
# sending it on are offered, speaking and playing to nobody listening are not.
HELD_ACTIONS: Final = frozenset({CallAction.HANGUP, CallAction.TRANSFER})
ACTION_PATHS: Final = {
    CallAction.ANSWER: "answer",
    CallAction.REJECT: "reject",
    CallAction.HANGUP: "hangup",
    CallAction.TRANSFER: "transfer",
    CallAction.SPEAK: "speak",
    CallAction.PLAY: "playback_start",
    CallAction.SEND_DIGITS: "send_dtmf",
}
# The neutral arguments under Telnyx's own names, per command.
RENAMED: Final[Mapping[CallAction, Mapping[str, str]]] = {
    CallAction.SPEAK: {ARG_MESSAGE: "payload"},
    CallAction.PLAY: {ARG_URL: "audio_url"},
}
# speak requires a voice. "female" and "male" are Telnyx's basic voices, the
# ones its error 90012 names; a voice given by the user replaces it.
DEFAULT_VOICE: Final = "female"
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


@dataclass(frozen=True, slots=True, eq=False)
class _Transfer:
    """A transfer of one of our calls, sent and not yet confirmed (or confirmed).

    `leg_key` finds the new leg's events: the call session both legs share
    (documented: "an inbound and outbound leg of a transferred call"), or,
    when the call's session is not known, the number called.
    """

    call_id: str
    leg_key: str


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


# A number (+E.164) or a SIP URI, as transfer and dial take them ("The DID or
# SIP URI to dial out to").
_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
_SIP_URI: Final = re.compile(r"sips?:[^\s,]+", re.IGNORECASE)
# send_dtmf: 0-9, A-D, * and #, w and W a pause of 0.5 s and 1 s. Telnyx
# documents no top; MAX_SENT_DIGITS is ours (UNCONFIRMED).
SENT_KEYS: Final = "0123456789ABCD*#wW"
MAX_SENT_DIGITS: Final = 64
# A gather's keys (errors 90007 and 90008 list them).
GATHER_KEYS: Final = "0123456789*#"
# The speak payload: 3,000 characters in the schema (error 90010 says 5,000).
MAX_SPEECH: Final = 3000
MAX_DISPLAY_NAME: Final = 128
MAX_LOOP: Final = 100
# speak's `language`, as the command documents it (ignored with Polly voices).
LANGUAGES: Final = (
    "arb",
    "cmn-CN",
    "cy-GB",
    "da-DK",
    "de-DE",
    "en-AU",
    "en-GB",
    "en-GB-WLS",
    "en-IN",
    "en-US",
    "es-ES",
    "es-MX",
    "es-US",
    "fr-CA",
    "fr-FR",
    "hi-IN",
    "is-IS",
    "it-IT",
    "ja-JP",
    "ko-KR",
    "nb-NO",
    "nl-NL",
    "pl-PL",
    "pt-BR",
    "pt-PT",
    "ro-RO",
    "ru-RU",
    "sv-SE",
    "tr-TR",
)
AMD_MODES: Final = one_of(
    "premium", "detect", "detect_beep", "detect_words", "greeting_end", "disabled"
)


def _destination(*, with_digits: bool) -> Check:
    """Accept a +E.164 number or a SIP URI; a transfer's may end in ",<digits>".

    Telnyx plays the digits after the comma once the destination answers.
    """

    def check(value: Any) -> str | None:
        if isinstance(value, str):
            target, comma, digits = (
                value.partition(",") if with_digits else (value, "", "")
            )
            if (_E164.fullmatch(target) or _SIP_URI.fullmatch(target)) and (
                not comma or (digits and all(key in SENT_KEYS for key in digits))
            ):
                return None
        return "must be a +E.164 number or a sip: URI"

    return check


def _number(value: Any) -> str | None:
    if isinstance(value, str) and _E164.fullmatch(value):
        return None
    return "must be a +E.164 number"


def _loop(value: Any) -> str | None:
    """Accept how often to play: 1 to MAX_LOOP times, or "infinity"."""
    if value == "infinity" or (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 1 <= value <= MAX_LOOP
    ):
        return None
    return "must be a whole number between 1 and 100, or infinity"


COMMON_OPTIONS: Final[dict[str, Check]] = {
    "client_state": base64_string,
    "command_id": non_empty_string,
}
RECORD_OPTIONS: Final[dict[str, Check]] = {
    "record": one_of("record-from-answer"),
    "record_channels": one_of("single", "dual"),
    "record_format": one_of("wav", "mp3"),
    "record_max_length": int_range(0, 43200),
    "record_timeout_secs": int_range(0),
    "record_track": one_of("both", "inbound", "outbound"),
    "record_trim": one_of("trim-silence"),
    "record_custom_file_name": text_length(1, MAX_FILE_NAME),
}
# What transfer and dial share: how the new leg is placed. Neither takes
# `webhook_url`: the new leg's webhooks would go elsewhere, and Switchboard
# would never see the transfer confirmed or the call answered.
NEW_LEG_OPTIONS: Final[dict[str, Check]] = {
    **COMMON_OPTIONS,
    **RECORD_OPTIONS,
    "from_display_name": text_length(1, MAX_DISPLAY_NAME),
    "timeout_secs": int_range(5, 600),
    # 60 to 14,000 in error 90029, up to 14,400 (the default) in the schema.
    "time_limit_secs": int_range(60, 14400),
    "answering_machine_detection": AMD_MODES,
    "answering_machine_detection_config": json_object,
    "audio_url": http_url,
    "media_name": non_empty_string,
    "custom_headers": _headers(),
    "sip_headers": _headers(("User-to-User",)),
    "sip_auth_username": non_empty_string,
    "sip_auth_password": non_empty_string,
    "sip_transport_protocol": one_of("UDP", "TCP", "TLS"),
    "media_encryption": one_of("disabled", "SRTP", "DTLS"),
    "sound_modifications": json_object,
}
# speak's options that make it gather_using_speak: speak, then collect keys.
GATHER_OPTIONS: Final[dict[str, Check]] = {
    "minimum_digits": int_range(1, 128),
    "maximum_digits": int_range(1, 128),
    "maximum_tries": int_range(1, 128),
    "timeout_millis": int_range(1),
    "inter_digit_timeout_millis": int_range(1, 120000),
    "terminating_digit": dtmf_digits(GATHER_KEYS, 1),
    "valid_digits": dtmf_digits(GATHER_KEYS, len(GATHER_KEYS)),
    "invalid_payload": text_length(1, MAX_SPEECH),
}
# speak's options that gather_using_speak does not take.
SPEAK_ONLY: Final = ("loop", "stop", "target_legs")
# Options that may not come together: Telnyx takes one of them.
EXCLUSIVE: Final = (("audio_url", "media_name"),)
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
        **RECORD_OPTIONS,
    },
    CallAction.REJECT: {
        **COMMON_OPTIONS,
        "cause": one_of("CALL_REJECTED", "USER_BUSY"),
    },
    CallAction.HANGUP: {**COMMON_OPTIONS, "custom_headers": _headers()},
    # Blind transfer: Telnyx calls `to` and bridges our caller to whoever answers.
    CallAction.TRANSFER: {
        **NEW_LEG_OPTIONS,
        ARG_TO: _destination(with_digits=True),
        # Telnyx presents the original call's `to` (our number) when omitted.
        "from": _number,
        "early_media": boolean,
        "target_leg_client_state": base64_string,
        "mute_dtmf": one_of("none", "both", "self", "opposite"),
    },
    # POST /calls from the device's number; `from` is always the device's.
    CallAction.DIAL: {
        **NEW_LEG_OPTIONS,
        ARG_TO: _destination(with_digits=False),
        "billing_group_id": non_empty_string,
        "preferred_codecs": _codecs,
        "send_silence_when_idle": boolean,
        "transcription": boolean,
        "transcription_config": json_object,
    },
    CallAction.SPEAK: {
        **COMMON_OPTIONS,
        **GATHER_OPTIONS,
        ARG_MESSAGE: text_length(1, MAX_SPEECH),
        ARG_VOICE: non_empty_string,
        ARG_LANGUAGE: one_of(*LANGUAGES),
        "payload_type": one_of("text", "ssml"),
        "service_level": one_of("basic", "premium"),
        "voice_settings": json_object,
        "loop": _loop,
        "stop": one_of("current", "all"),
        "target_legs": one_of("self", "opposite", "both"),
    },
    CallAction.PLAY: {
        **COMMON_OPTIONS,
        ARG_URL: http_url,
        "audio_type": one_of("mp3", "wav"),
        "loop": _loop,
        "overlay": boolean,
        "stop": one_of("current", "all"),
        "target_legs": one_of("self", "opposite", "both"),
        "cache_audio": boolean,
    },
    CallAction.SEND_DIGITS: {
        **COMMON_OPTIONS,
        ARG_DIGITS: dtmf_digits(SENT_KEYS, MAX_SENT_DIGITS),
        "duration_millis": int_range(100, 500),
    },
}
REQUIRED: Final[Mapping[CallAction, tuple[str, ...]]] = {
    CallAction.TRANSFER: (ARG_TO,),
    CallAction.DIAL: (ARG_TO,),
    CallAction.SPEAK: (ARG_MESSAGE,),
    CallAction.PLAY: (ARG_URL,),
    CallAction.SEND_DIGITS: (ARG_DIGITS,),
}


def validate_options(action: CallAction, options: Mapping[str, Any]) -> dict[str, Any]:
    """Check options against the command's documented body; add a command_id.

    The command_id is made once per user action, so a retried request is never
    a second command: Telnyx ignores a repeated command_id on the same call.
    """
    refuse_voicemail(action, options, "Telnyx cannot divert to voicemail")
    if action is CallAction.TRANSFER and ARG_VOICEMAIL in options:
        options = {k: v for k, v in options.items() if k != ARG_VOICEMAIL}
    validated = check_options(
        OPTIONS,
        action,
        options,
        unknown="is not a Telnyx option for this action",
        required=REQUIRED,
    )
    for first, second in EXCLUSIVE:
        if first in validated and second in validated:
            raise InvalidOptionError(second, f"cannot be combined with {first}")
    if action is CallAction.SPEAK:
        _check_gather(validated)
    validated.setdefault("command_id", str(uuid.uuid4()))
    if action is CallAction.REJECT:
        validated.setdefault("cause", "CALL_REJECTED")
    return validated


def _check_gather(options: Mapping[str, Any]) -> None:
    """Refuse speak's own options in a speak that gathers, and min above max."""
    if not any(name in options for name in GATHER_OPTIONS):
        return
    for name in SPEAK_ONLY:
        if name in options:
            raise InvalidOptionError(name, "cannot be combined with gather options")
    low, high = options.get("minimum_digits", 1), options.get("maximum_digits", 128)
    if low > high:
        raise InvalidOptionError("minimum_digits", "must not exceed maximum_digits")


def _command(action: CallAction, options: Mapping[str, Any]) -> tuple[str, bool]:
    """Return the command path for `action`, and whether it starts a gather."""
    if action is CallAction.SPEAK and any(name in options for name in GATHER_OPTIONS):
        return "gather_using_speak", True
    path = ACTION_PATHS.get(action)
    if path is None:  # hold, resume: refused by the hub before this
        raise ActionNotAllowedError(f"Telnyx has no {action} command for a call")
    return path, False


def _body(action: CallAction, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the command's body: the neutral arguments under Telnyx's names."""
    renamed = RENAMED.get(action, {})
    body = {renamed.get(name, name): value for name, value in options.items()}
    if action is CallAction.SPEAK:
        body.setdefault(ARG_VOICE, DEFAULT_VOICE)
    return body


class TelnyxClient:
    """Talks to one Telnyx account, following one Call Control application."""

    # Telnyx Call Control has no hold or resume command for a call (only for
    # conference participants); there is no voicemail divert either.
    supported_actions = frozenset(
        {
            CallAction.ANSWER,
            CallAction.REJECT,
            CallAction.HANGUP,
            CallAction.TRANSFER,
            CallAction.SPEAK,
            CallAction.PLAY,
            CallAction.SEND_DIGITS,
            CallAction.DIAL,
        }
    )
    webhook_requires_https = False
    # The application's webhook URL is the user's setting, not ours alone.
    owns_registration = False
    # call.dtmf.received and call.gather.ended.
    reports_digits: ClassVar[bool] = True
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
        # Transfers sent, by our call's id, until confirmed or failed.
        self._transfers: BoundedMap[str, _Transfer] = BoundedMap(MAX_TRANSFERS)
        # Every transfer (sent or confirmed) by its leg key, and the new legs
        # seen: their events are not calls of our devices.
        self._leg_keys: BoundedMap[str, _Transfer] = BoundedMap(MAX_TRANSFERS)
        self._legs: BoundedMap[str, _Transfer] = BoundedMap(MAX_LEGS)
        # Our calls that a confirmed transfer sent on.
        self._transferred: BoundedSet[str] = BoundedSet(MAX_LEGS)
        # Calls with a gather of ours running: their keys come in the gather.
        self._gathering: BoundedSet[str] = BoundedSet(MAX_TRANSFERS)
        # Outgoing calls: only call.initiated says the direction, and the
        # parties of the later events read the other way round.
        self._outgoing: BoundedSet[str] = BoundedSet(MAX_LEGS)

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
        """Send the command; the device plays no part in Telnyx's commands.

        A transfer and a gather are noted before the command goes out: their
        first webhooks may arrive before Telnyx's answer to it.
        """
        del device
        command, gathers = _command(action, options)
        body = _body(action, options)
        transfer = (
            self._expect_transfer(call, body) if action is CallAction.TRANSFER else None
        )
        if gathers:
            self._gathering.add(call.call_id)
        try:
            await self._request(
                "POST", f"/calls/{call.call_id}/actions/{command}", body=body
            )
        except ProviderError:
            if transfer is not None:
                self._drop_transfer(transfer)
            if gathers:
                self._gathering.discard(call.call_id)
            raise

    async def async_dial(self, device: Device, options: Mapping[str, Any]) -> CallEvent:
        """Call options["to"] from the device's number (POST /calls).

        The application is the connection placing the call, so its webhooks
        follow the new call: call.initiated (outgoing), then call.answered or
        call.hangup. Telnyx answers before the far end rings: the call is
        dialing, and this event is placed before any of its webhooks.
        """
        if not device.number:
            raise ProviderError(f"{device.name} has no number to call from")
        body = {
            **_body(CallAction.DIAL, options),
            "connection_id": self._application(),
            "from": device.number,
        }
        data = (await self._request("POST", "/calls", body=body)).get("data")
        data = data if isinstance(data, dict) else {}
        call_id = non_empty_text(data.get("call_control_id"))
        if call_id is None:
            raise ProviderError("Telnyx did not say which call it placed")
        self._outgoing.add(call_id)
        return CallEvent(
            event_id=f"dial:{call_id}",
            call_id=call_id,
            order=(0.0, 0),
            state=CallState.DIALING,
            device_ids=(device.device_id,),
            direction=Direction.OUTGOING,
            remote_number=str(options[ARG_TO]),
            local_number=device.number,
            started_at=parse_timestamp(data.get("start_time")),
            actions=DIALING_ACTIONS,
            raw=raw_fields(data, ("call_leg_id", "call_session_id"), event="dial"),
        )

    # --- transfers ---

    def _expect_transfer(self, call: Call, body: Mapping[str, Any]) -> _Transfer:
        session = non_empty_text(call.raw.get("call_session_id"))
        transfer = _Transfer(call.call_id, session or _number_key(body.get("to")))
        self._transfers.put(call.call_id, transfer)
        self._leg_keys.put(transfer.leg_key, transfer)
        return transfer

    def _drop_transfer(self, transfer: _Transfer) -> None:
        """Forget a transfer that failed: the call stays ours."""
        if self._transfers.get(transfer.call_id) is transfer:
            self._transfers.forget(transfer.call_id)
        if self._leg_keys.get(transfer.leg_key) is transfer:
            self._leg_keys.forget(transfer.leg_key)

    def _transfer_news(
        self,
        event_type: str,
        event_id: str,
        call_id: str,
        occurred_at: datetime,
        payload: Mapping[str, Any],
    ) -> list[CallEvent] | None:
        """Read an event as part of a transfer; None when it is no part of one.

        Telnyx's transfer calls `to` on a new leg and bridges our caller to it
        once answered (the documented webhooks: call.initiated, call.bridged
        to leg B, call.answered or call.hangup). Our leg stays up at Telnyx,
        bridged, but it has left the device: the call ends here, TRANSFERRED,
        when the new leg answers or either leg is reported bridged, not when
        the command is accepted. A new leg that hangs up first is a failed
        transfer: the call stays. The new leg's own events are not a call of
        the device (its `from` is our number by default) and are dropped.
        """
        if call_id in self._transferred:
            if event_type in STATE_EVENTS:
                return [_left(call_id, event_id, occurred_at, event_type)]
            return []
        pending = self._transfers.get(call_id)
        if pending is not None:
            if event_type == "call.bridged":
                return [self._confirm(pending, event_id, occurred_at, event_type)]
            if event_type == "call.hangup":
                self._drop_transfer(pending)
            return None
        transfer = self._legs.get(call_id) or self._leg_of(call_id, payload)
        if transfer is None:
            return None
        self._legs.put(call_id, transfer)
        if self._transfers.get(transfer.call_id) is transfer:
            if event_type in TRANSFER_CONFIRMATIONS:
                return [self._confirm(transfer, event_id, occurred_at, event_type)]
            if event_type == "call.hangup":
                _LOGGER.debug("A Telnyx transfer was not answered; the call stays")
                self._drop_transfer(transfer)
        return []

    def _leg_of(self, call_id: str, payload: Mapping[str, Any]) -> _Transfer | None:
        """Find the transfer whose new leg this call is, if it is one."""
        if not len(self._leg_keys):
            return None
        session = non_empty_text(payload.get("call_session_id"))
        transfer = self._leg_keys.get(session) if session else None
        if transfer is None and payload.get("direction") == "outgoing":
            transfer = self._leg_keys.get(_number_key(payload.get("to")))
        if transfer is None or transfer.call_id == call_id:
            return None
        return transfer

    def _confirm(
        self,
        transfer: _Transfer,
        event_id: str,
        occurred_at: datetime,
        event_type: str,
    ) -> CallEvent:
        self._transfers.forget(transfer.call_id)
        self._transferred.add(transfer.call_id)
        return _left(transfer.call_id, event_id, occurred_at, event_type)

    def _is_other_leg(self, call_id: str, item: Mapping[str, Any]) -> bool:
        """Whether a live call is one of ours that left, or a transfer's new leg."""
        if call_id in self._transferred or call_id in self._legs:
            return True
        session = non_empty_text(item.get("call_session_id"))
        transfer = self._leg_keys.get(session) if session else None
        if transfer is None or transfer.call_id == call_id:
            return False
        self._legs.put(call_id, transfer)
        return True

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
            if call_id is not None and not self._is_other_leg(call_id, item):
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
        if name == "call.bridged":
            # Switchboard bridges only by transfer: a live call whose latest
            # news is a bridge is a transferred call or its new leg (one this
            # client has not seen, say before a restart). Neither is a call of
            # the device. UNCONFIRMED that nothing else bridges our calls.
            return []
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
        if event_type not in STATE_EVENTS and event_type not in DIGIT_EVENTS:
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
        news = self._transfer_news(event_type, event_id, call_id, occurred_at, payload)
        if news is not None:
            return news
        if event_type in DIGIT_EVENTS:
            pressed = self._pressed(event_type, event_id, call_id, occurred_at, payload)
            return [] if pressed is None else [pressed]
        if event_type == "call.hangup":
            self._gathering.discard(call_id)
        return [self._event(event_type, event_id, call_id, occurred_at, payload)]

    def _pressed(
        self,
        event_type: str,
        event_id: str,
        call_id: str,
        occurred_at: datetime,
        payload: Mapping[str, Any],
    ) -> CallEvent | None:
        """Keys the caller pressed, as an event of digits; None for none readable.

        Telnyx reports each key (call.dtmf.received), during a gather too, and
        a gather's keys together when it ends (call.gather.ended). While a
        gather of ours runs its keys are reported once, by the gather, and
        only when it ended `valid`: a timeout or a hang-up says nothing.
        Whether Telnyx reports keys with no gather running is UNCONFIRMED (the
        gather documents them): speak with gather options to be sure.
        """
        if event_type == "call.dtmf.received":
            if call_id in self._gathering:
                return None
            digits = payload.get("digit")
        else:
            self._gathering.discard(call_id)
            status = payload.get("status")
            if status is not None and status != "valid":
                _LOGGER.debug("Skipped a Telnyx gather that ended %.20s", status)
                return None
            digits = payload.get("digits")
        if _readable_keys(digits) is not None:
            _LOGGER.debug("Skipped a Telnyx %s without readable digits", event_type)
            return None
        return CallEvent(
            event_id=event_id,
            call_id=call_id,
            # Keys come on a call that talks; they move no state.
            order=(occurred_at.timestamp(), STATE_EVENTS["call.answered"]),
            state=CallState.TALKING,
            occurred_at=occurred_at,
            digits=digits,
            raw={"event": event_type},
        )

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
        if direction is Direction.OUTGOING:
            self._outgoing.add(call_id)
        elif direction is None and call_id in self._outgoing:
            direction = Direction.OUTGOING
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
            return CallState.DIALING, DIALING_ACTIONS
        return CallState.RINGING, RINGING_ACTIONS
    if event_type == "call.hold":
        return CallState.ON_HOLD, HELD_ACTIONS
    if event_type == "call.hangup":
        return CallState.ENDED, frozenset()
    return CallState.TALKING, TALKING_ACTIONS


def _left(
    call_id: str, event_id: str, occurred_at: datetime, event_type: str
) -> CallEvent:
    """Our call, sent on by a confirmed transfer: it has left the device."""
    return CallEvent(
        event_id=f"{event_id}:transferred",
        call_id=call_id,
        order=(occurred_at.timestamp(), STATE_EVENTS["call.hangup"]),
        state=CallState.ENDED,
        occurred_at=occurred_at,
        end_reason=EndReason.TRANSFERRED,
        actions=frozenset(),
        raw={"event": event_type, "transferred": True},
    )


def _number_key(value: Any) -> str:
    """Key a transfer by the number called, when no session is known."""
    target = value.partition(",")[0] if isinstance(value, str) else ""
    return f"to:{normalize_number(target) if target.startswith('+') else target}"


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
