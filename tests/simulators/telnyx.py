"""Local simulator of the Telnyx Call Control (Voice API v2) REST API and webhooks.

It follows the behaviour documented in ``/work/shared/reference/telnyx.md``:
Bearer authentication, the ``{"errors": [...]}`` envelope with Telnyx error
codes, paginated lists, call commands with ``client_state``/``command_id``,
and Ed25519-signed webhooks that are retried when the receiver does not answer
2xx within the timeout, then sent to the failover URL.

Used from tests::

    sim = TelnyxSimulator()
    app_id = sim.add_application("Demo", webhook_event_url=receiver_url)
    sim.add_phone_number(app_id, "+15550100001")
    base_url = await sim.start()
    call_id = await sim.ring("+15550100001", "+15550109999")
    await sim.wait_for_webhooks()
    await sim.close()

Standalone, from the repository root (``--help`` lists the routes)::

    python -m tests.simulators.telnyx [--host 127.0.0.1] [--port 8089]
        [--webhook-url http://host/api/webhook/x]

It creates the application "Switchboard demo" with the number +15550100001 and
prints the base URL, API key and webhook public key (fake test credentials;
the demo signs with the same key every run). Ctrl-C stops it.

Control routes (test-only, no authentication, outside ``/v2``):

``POST /_sim/ring``
    Body ``{"to": "+15550100001", "from": "+15550109999", "caller_id_name": "Bob"}``
    (``caller_id_name`` and ``connection_id`` optional). Starts an inbound call
    and answers ``{"call_control_id": "v3:..."}``.
``POST /_sim/hangup``
    Body ``{"call_control_id": "v3:...", "cause": "normal_clearing",
    "source": "caller"}`` (``cause`` and ``source`` optional). The far end
    hangs up. Answers ``{"result": "ok"}``.
``POST /_sim/pickup``
    Body ``{"call_id": "v3:..."}``. The far end of an outgoing call (a dial, or
    the new leg of a transfer) answers now. Answers ``{"result": "ok"}``.
``POST /_sim/press``
    Body ``{"call_id": "v3:...", "digits": "1"}``. The caller presses keys on an
    answered call: one ``call.dtmf.received`` per key and, while a gather runs,
    ``call.gather.ended`` once it has its digits (a terminating digit, the
    maximum, or at the end of the keys pressed, as if the inter-digit timeout
    passed at once). Answers ``{"result": "ok"}``.

Beyond answering (``transfer``, ``speak``, ``gather_using_speak``,
``playback_start``, ``send_dtmf`` and ``POST /v2/calls``), each command answers
with the documented errors and sends the documented webhooks after its
response. The far end of an outgoing call answers by itself after
``pickup_delay`` seconds (None: only ``/_sim/pickup`` answers it); a number in
``busy_numbers`` refuses instead (``call.hangup``, ``user_busy``). A transfer's
new leg shares our leg's ``call_session_id``; once it answers, both legs are
bridged (``call.bridged`` for each) and, when either hangs up later, so does
the other (Telnyx's default without ``park_after_unbridge``).
"""

import argparse
import asyncio
import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import hashlib
import itertools
import json
import math
import re
import secrets
import time
from typing import Any, Final, Literal, Self
import uuid

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.simulators.base import (
    ApiError,
    BodyProblem,
    Control,
    DeliveringSimulator,
    SimRequest,
    add_webhook_url_option,
    after_response,
    path_match,
    retry_after_headers,
)

__all__ = [
    "FIRST_ID",
    "CallState",
    "Direction",
    "SimCall",
    "SimDelivery",
    "SimRequest",
    "TelnyxSimulator",
    "main",
]

type CallState = Literal["parked", "answered", "hangup"]
type Direction = Literal["incoming", "outgoing"]

_PAGE_SIZE_MAX: Final = 250
_PAGE_SIZE_DEFAULT: Final = 20
_NAME_FILTER: Final = "filter[application_name][contains]"
_NAME_FILTER_MIN: Final = 3
_REJECT_CAUSES: Final = {"CALL_REJECTED": "call_rejected", "USER_BUSY": "user_busy"}
_ACTIONS: Final = (
    "answer",
    "reject",
    "hangup",
    "transfer",
    "speak",
    "gather_using_speak",
    "playback_start",
    "send_dtmf",
)
# Commands that play media or keys need an answered call (90034 otherwise).
_MEDIA_ACTIONS: Final = frozenset(
    {"speak", "gather_using_speak", "playback_start", "send_dtmf"}
)
_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
_SENT_KEYS: Final = frozenset("0123456789ABCD*#wW")
_PRESSED_KEYS: Final = frozenset("0123456789ABCD*#")
_GATHER_KEYS: Final = frozenset("0123456789*#")
_SPEAK_LANGUAGES: Final = frozenset(
    {
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
    }
)
# The speak payload: 3,000 characters in the schema, 5,000 in error 90010; the
# simulator refuses only what both refuse.
_MAX_PAYLOAD: Final = 5000
_GATHER_DEFAULTS: Final = {
    "minimum_digits": 1,
    "maximum_digits": 128,
    "terminating_digit": "#",
}
_READ_ONLY_APP_FIELDS: Final = frozenset({"id", "record_type", "created_at"})
_URL_APP_FIELDS: Final = ("webhook_event_url", "webhook_event_failover_url")

# SIP code reported with each hangup_cause. call_rejected=603 comes from the
# documented call.hangup sample and normal_clearing=200 from observed captures;
# the rest are UNCONFIRMED guesses (usual SIP meaning of the cause).
_SIP_CAUSES: Final = {
    "normal_clearing": "200",
    "call_rejected": "603",
    "user_busy": "486",
    "originator_cancel": "487",
    "timeout": "408",
    "no_answer": "480",
    "not_found": "404",
}

# Titles and details verbatim from the Telnyx API error-code table
# (knowledge-base wiki/reference/api-error-codes.md). 90015 uses the wording of
# a real response body (reference section 7.1) instead of the table's.
_ERRORS: Final[dict[str, tuple[str, str]]] = {
    "10003": (
        "Invalid URL",
        (
            "The URL provided was invalid, malformed, or too long. "
            "URLs can be a maximum of 2000 characters."
        ),
    ),
    "10004": ("Missing required parameter", "A required parameter was missing."),
    "10005": (
        "Resource not found",
        "The requested resource or URL could not be found.",
    ),
    "10007": ("Unexpected error", "An unexpected error occured."),  # sic
    "10008": ("Request timeout", "The request timed out."),
    "10009": (
        "Authentication failed",
        (
            "The required authentication headers were either invalid or not "
            "included in the request."
        ),
    ),
    "10010": (
        "Authorization failed",
        (
            "You do not have permission to perform the requested action on the "
            "specified resource or resources."
        ),
    ),
    "10011": (
        "Too many requests",
        "You have exceeded the maximum number of allowed requests.",
    ),
    "10015": ("Bad Request", "The request failed because it was not well-formed."),
    "10023": ("Invalid JSON", "The supplied JSON is invalid."),
    "10030": (
        "Method not allowed",
        "The URL is valid, but the method is not allowed.",
    ),
    "90015": (
        "Invalid Call Control ID",
        "The call_control_id provided was not valid.",
    ),
    "90017": (
        "Invalid value for client_state",
        "The 'client_state' parameter must be a valid base64 string.",
    ),
    "90018": (
        "Call has already ended",
        "This call is no longer active and can't receive commands.",
    ),
    "90034": (
        "Call has not been answered yet",
        "This call can't receive this command because it has not been answered yet.",
    ),
    "90102": (
        "Command is invalid",
        "Call answer command cannot be issued for outbound calls.",
    ),
    "10016": (
        "Phone number must be in +E.164 format",
        "The specified phone number parameter must be in +E.164 format.",
    ),
    "90007": (
        "Invalid value for terminating_digit",
        (
            "The 'terminating_digit' parameter must be a 'string' with a value"
            " of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, *, or #."
        ),
    ),
    "90008": (
        "Invalid value for valid_digits",
        (
            "The 'valid_digits' parameter must be a 'string' with a value of"
            " 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, *, or #."
        ),
    ),
    "90009": (
        "Invalid value for loop",
        (
            "The 'loop' parameter must either be 'infinity' or an 'integer'"
            " with a minimum value of 1 and a maximum value of 100."
        ),
    ),
    "90010": (
        "Invalid value for payload",
        "The 'payload' parameter should contain between 1 and 5000 characters.",
    ),
    "90011": (
        "Invalid value for payload_type",
        (
            "The 'payload_type' parameter must be of type 'string' with a value"
            " of either text or ssml."
        ),
    ),
    "90013": (
        "Invalid value for language",
        "The 'language' parameter must be of type 'string'.",
    ),
    "90014": (
        "Invalid value for digits",
        (
            "The 'digits' parameter must be a 'string' made of a combination of"
            " either 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, A, B, C, D, w, W, * or #."
        ),
    ),
    "90016": (
        "Invalid value for stop",
        (
            "The 'stop' parameter must be a 'string' with a value of 'all',"
            " 'current' or 'overlay'."
        ),
    ),
    "90022": (
        "Invalid value for minimum_digits",
        (
            "The 'minimum_digits' parameter must be an 'integer' with a minimum"
            " value of 1 and a maximum value of 128."
        ),
    ),
    "90023": (
        "Invalid value for maximum_digits",
        (
            "The 'maximum_digits' parameter must be an 'integer' with a minimum"
            " value of 1 and a maximum value of 128."
        ),
    ),
    "90027": (
        "Invalid value for duration_millis",
        (
            "The 'duration_millis' parameter must be an 'integer' with a minimum"
            " value of 100 and a maximum value of 500."
        ),
    ),
    "90028": (
        "Invalid value for timeout_secs",
        (
            "The 'timeout_secs' parameter must be an 'integer' with a minimum"
            " and a maximum value accepted by command"
        ),
    ),
}

_STATUS_CODES: Final = {
    400: "10015",
    401: "10009",
    403: "10010",
    404: "10005",
    405: "10030",
    408: "10008",
    422: "90018",
    429: "10011",
}

_BALANCE: Final = {
    "data": {
        "record_type": "balance",
        "pending": "10.00",
        "balance": "300.00",
        "credit_limit": "100.00",
        "available_credit": "400.00",
        "currency": "USD",
    }
}

# The standalone demo signs with this key every run, so that a Home Assistant
# set up against it keeps verifying webhooks after a restart.
_DEMO_SIGNING_SEED: Final = hashlib.sha256(b"switchboard telnyx demo").digest()
_DEMO_NUMBER: Final = "+15550100001"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    """Format like Telnyx: ISO-8601 UTC with microseconds and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


FIRST_ID = 2811212257810187875


@dataclass
class SimCall:
    """One call leg as the simulator tracks it."""

    call_control_id: str
    call_leg_id: str
    call_session_id: str
    connection_id: str
    from_: str
    to: str
    direction: Direction = "incoming"
    state: CallState = "parked"
    hangup_cause: str | None = None
    client_state: str | None = None
    commands: list[dict[str, Any]] = field(default_factory=list)
    caller_id_name: str | None = None
    start_time: datetime = field(default_factory=_utcnow)
    end_time: datetime | None = None
    webhook_url: str | None = None
    command_ids: dict[str, float] = field(default_factory=dict)
    # What GET /v2/call_events lists for this leg: one entry per webhook event.
    events: list[dict[str, Any]] = field(default_factory=list)
    # A transfer's new leg: the leg that was transferred.
    transfer_of: str | None = None
    # The leg this one is bridged to (a transfer's two legs, once answered).
    bridged_with: str | None = None
    # A running gather (gather_using_speak): its limits, and the keys so far.
    gather: dict[str, Any] | None = None
    gathered: str = ""


@dataclass(frozen=True)
class SimDelivery:
    """One webhook POST attempt; ``status`` is None on timeout/connection error."""

    event_type: str
    event_id: str
    attempt: int
    status: int | None
    url: str


@dataclass(frozen=True)
class _Event:
    chain_key: str
    event_type: str
    event_id: str
    occurred_at: str
    payload: dict[str, Any]
    urls: tuple[str, ...]
    duplicate: bool


class _ApiError(ApiError):
    """Raised by handlers; turned into a Telnyx ``errors`` response."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        detail: str | None = None,
        source: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, detail)
        self.code = code
        self.source = source

    def response(self) -> web.Response:
        """Build the error response."""
        return _error_response(
            self.status, self.code, detail=self.message, source=self.source
        )


def _error_response(
    status: int,
    code: str,
    *,
    detail: str | None = None,
    source: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Return ``{"errors": [...]}`` with the catalogue title/detail for ``code``."""
    title, default_detail = _ERRORS.get(code, ("Error", "Simulated error."))
    error: dict[str, Any] = {"code": code, "title": title}
    if source is not None:
        error["source"] = source
    error["detail"] = detail or default_detail
    return web.json_response({"errors": [error]}, status=status, headers=headers)


def _fault_code(status: int) -> str:
    if status >= 500:
        return "10007"
    return _STATUS_CODES.get(status, "10015")


def _fault_response(
    status: int, code: str | None, retry_after: float | None
) -> web.Response:
    """An injected error: the code's catalogue entry, rate-limit headers on 429."""
    headers: dict[str, str] = {}
    if status == 429:
        reset = math.ceil(retry_after) if retry_after else 1
        headers = {
            "x-ratelimit-limit": "100",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset),
        }
    headers.update(retry_after_headers(retry_after))
    return _error_response(status, code or _fault_code(status), headers=headers)


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


def _check_client_state(body: dict[str, Any]) -> None:
    value = body.get("client_state")
    if value is None:
        return
    if not isinstance(value, str) or not _is_base64(value):
        raise _ApiError(422, "90017", source={"pointer": "/client_state"})


def _check_reject_cause(body: dict[str, Any]) -> str:
    """Return the hangup_cause for a valid reject ``cause``."""
    cause = body.get("cause")
    if cause is None:
        raise _ApiError(422, "10004", source={"pointer": "/cause"})
    if not isinstance(cause, str) or cause not in _REJECT_CAUSES:
        raise _ApiError(
            422,
            "10015",
            detail="The 'cause' parameter must be one of CALL_REJECTED, USER_BUSY.",
            source={"pointer": "/cause"},
        )
    return _REJECT_CAUSES[cause]


def _required_text(body: dict[str, Any], name: str) -> str:
    """A required string field: 10004 when missing, 10015 when not a string."""
    value = body.get(name)
    if value is None:
        raise _ApiError(422, "10004", source={"pointer": f"/{name}"})
    if not isinstance(value, str) or not value:
        raise _ApiError(
            422,
            "10015",
            detail=f"The '{name}' parameter must be a non-empty string.",
            source={"pointer": f"/{name}"},
        )
    return value


def _check_int(
    body: dict[str, Any], name: str, low: int, high: int | None, code: str
) -> None:
    value = body.get(name)
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        raise _ApiError(422, code, source={"pointer": f"/{name}"})


def _check_choice(
    body: dict[str, Any],
    name: str,
    choices: frozenset[str] | tuple[str, ...],
    code: str,
) -> None:
    value = body.get(name)
    if value is not None and value not in choices:
        raise _ApiError(422, code, source={"pointer": f"/{name}"})


def _check_loop(body: dict[str, Any]) -> None:
    if body.get("loop") != "infinity":
        _check_int(body, "loop", 1, 100, "90009")


def _check_url(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise _ApiError(422, "10003", source={"pointer": f"/{name}"})


def _check_keys(
    body: dict[str, Any], name: str, keys: frozenset[str], code: str
) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, str) or not value or not set(value) <= keys:
        raise _ApiError(422, code, source={"pointer": f"/{name}"})


def _check_speech(body: dict[str, Any]) -> None:
    """What speak and gather_using_speak both check: payload, voice, language."""
    payload = body.get("payload")
    if payload is None:
        raise _ApiError(422, "10004", source={"pointer": "/payload"})
    if not isinstance(payload, str) or not 1 <= len(payload) <= _MAX_PAYLOAD:
        raise _ApiError(422, "90010", source={"pointer": "/payload"})
    _required_text(body, "voice")
    _check_choice(body, "payload_type", ("text", "ssml"), "90011")
    _check_choice(body, "language", _SPEAK_LANGUAGES, "90013")
    _check_choice(body, "service_level", ("basic", "premium"), "10015")


def _exclusive(body: dict[str, Any], *names: str) -> None:
    given = [name for name in names if body.get(name) is not None]
    if len(given) > 1:
        raise _ApiError(
            422,
            "10015",
            detail=f"{' and '.join(given)} cannot be used together in one request.",
            source={"pointer": f"/{given[-1]}"},
        )


def _int_query(
    query: Mapping[str, str], name: str, default: int, high: int | None
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (high is not None and value > high):
        limit = f" and {high}" if high is not None else ""
        raise _ApiError(
            422,
            "10015",
            detail=f"The '{name}' parameter must be an integer between 1{limit}.",
            source={"parameter": name},
        )
    return value


def _page(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    """Answer one page of ``items`` in the Telnyx list envelope."""
    number = _int_query(request.query, "page[number]", 1, None)
    size = _int_query(request.query, "page[size]", _PAGE_SIZE_DEFAULT, _PAGE_SIZE_MAX)
    start = (number - 1) * size
    meta = {
        "page_number": number,
        "page_size": size,
        # UNCONFIRMED: an empty list is reported as one (empty) page.
        "total_pages": max(1, math.ceil(len(items) / size)),
        "total_results": len(items),
    }
    return web.json_response({"data": items[start : start + size], "meta": meta})


def _cursor_page(request: web.Request, items: list[dict[str, Any]]) -> web.Response:
    """Answer one page of ``items`` paged by cursor, as the docs' example shows.

    The cursor here is the offset of the page's first item in base64; Telnyx's
    are opaque.
    """
    size = _int_query(request.query, "page[size]", _PAGE_SIZE_DEFAULT, _PAGE_SIZE_MAX)
    after = request.query.get("page[after]")
    try:
        start = int(base64.b64decode(after or "MA==", validate=True))
    except binascii.Error, ValueError:
        raise _ApiError(422, "10015", source={"parameter": "page[after]"}) from None
    end = start + size
    meta: dict[str, Any] = {"total_items": len(items)}
    if end < len(items):
        cursor = base64.b64encode(str(end).encode()).decode()
        meta["cursors"] = {"after": cursor}
        meta["next"] = f"{request.path}?page[after]={cursor}"
    return web.json_response({"data": items[start:end], "meta": meta})


def _log_entry(
    call: SimCall,
    event_type: str,
    event_id: str,
    occurred_at: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """One webhook event as the call event log (GET /v2/call_events) lists it.

    The entry's fields are documented; that ``metadata`` holds the raw event
    as the webhook's ``data`` object under ``event`` is UNCONFIRMED (the schema
    says only "Event metadata, which includes raw event").
    """
    return {
        "record_type": "call_event",
        "call_leg_id": call.call_leg_id,
        "call_session_id": call.call_session_id,
        "event_timestamp": occurred_at,
        "name": event_type,
        "type": "webhook",
        "metadata": {
            "event": {
                "record_type": "event",
                "event_type": event_type,
                "id": event_id,
                "occurred_at": occurred_at,
                "payload": dict(payload),
            }
        },
    }


def _new_application(
    application_id: str, name: str, webhook_event_url: str | None
) -> dict[str, Any]:
    now = _iso(_utcnow())
    return {
        "id": application_id,
        "record_type": "call_control_application",
        "active": True,
        "application_name": name,
        "anchorsite_override": "Latency",
        "call_cost_in_webhooks": False,
        "created_at": now,
        "updated_at": now,
        "dtmf_type": "RFC 2833",
        "first_command_timeout": False,
        "first_command_timeout_secs": 30,
        "inbound": {
            "channel_limit": None,
            "shaken_stir_enabled": False,
            "sip_subdomain": None,
            "sip_subdomain_receive_settings": "from_anyone",
        },
        "outbound": {"channel_limit": None, "outbound_voice_profile_id": None},
        "redact_dtmf_debug_logging": False,
        "tags": [],
        "webhook_api_version": "2",
        "webhook_event_failover_url": None,
        "webhook_event_url": webhook_event_url,
        "webhook_timeout_secs": None,
    }


def _dialed(call: SimCall) -> dict[str, Any]:
    """What POST /v2/calls answers: the new call, not alive yet (dialing)."""
    return {
        "call_control_id": call.call_control_id,
        "call_leg_id": call.call_leg_id,
        "call_session_id": call.call_session_id,
        "client_state": call.client_state,
        "is_alive": False,
        "record_type": "call",
        "start_time": _iso(call.start_time),
    }


def _mark_ended(call: SimCall, cause: str) -> None:
    call.state = "hangup"
    call.hangup_cause = cause
    call.end_time = _utcnow()


def _check_app_patch(body: dict[str, Any]) -> None:
    for key in _URL_APP_FIELDS:
        value = body.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise _ApiError(422, "10003", source={"pointer": f"/{key}"})
    name = body.get("application_name", "x")
    if not isinstance(name, str) or not name:
        raise _ApiError(422, "10015", source={"pointer": "/application_name"})


class TelnyxSimulator(DeliveringSimulator[_Event]):
    """Fake Telnyx Voice API v2 server plus webhook sender, for tests."""

    title = "Telnyx Call Control simulator"
    default_port = 8089
    authentication = "Authorization: Bearer <api key>"

    def __init__(
        self,
        *,
        api_key: str = "KEYsimulator0000",
        webhook_retry_delays: Sequence[float] = (0.05, 0.1, 0.2),
        webhook_timeout: float = 2.0,
    ) -> None:
        """Create the simulator; call :meth:`start` to serve it."""
        super().__init__(delivery_timeout=webhook_timeout)
        self.api_key = api_key
        self._sign_with(Ed25519PrivateKey.generate())
        self.base_url = ""
        self.applications: dict[str, dict[str, Any]] = {}
        self.phone_numbers: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(FIRST_ID)
        self.calls: dict[str, SimCall] = {}
        self.deliveries: list[SimDelivery] = []
        self.duplicate_webhooks = False
        self.timestamp_offset = 0.0
        # Extra fault: sign webhooks with a key other than public_key_b64.
        self.bad_signatures = False
        # Documented as "duplicate command_ids within 60 seconds are ignored".
        self.command_id_window = 60.0
        self._retry_delays = tuple(webhook_retry_delays)
        self._last_occurred: datetime | None = None
        # How GET /v2/connections/{id}/active_calls pages: by page[number] with
        # meta.total_pages (the SDK's DefaultFlatPagination), or by cursor
        # (meta.cursors.after and meta.next, the docs page's example).
        self.active_calls_paging: Literal["numbers", "cursors"] = "numbers"
        # The far end of an outgoing call answers after this many seconds;
        # None: only POST /_sim/pickup (or pickup()) answers it.
        self.pickup_delay: float | None = 0.1
        # Numbers whose far end refuses an outgoing call (call.hangup, user_busy).
        self.busy_numbers: set[str] = set()
        self._pickups: dict[str, asyncio.Task[None]] = {}
        # Dial command_ids (ignored when repeated) and the call each placed.
        self._dials: dict[str, tuple[str, float]] = {}

    # ------------------------------------------------------------------ setup

    def _api_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v2/balance", self._get_balance),
            web.get("/v2/call_control_applications", self._list_applications),
            web.get("/v2/call_control_applications/{app_id}", self._get_application),
            web.patch(
                "/v2/call_control_applications/{app_id}", self._patch_application
            ),
            web.get("/v2/phone_numbers", self._list_phone_numbers),
            web.get("/v2/calls/{call_control_id}", self._get_call),
            web.get(
                "/v2/connections/{connection_id}/active_calls",
                self._list_active_calls,
            ),
            web.get("/v2/call_events", self._list_call_events),
            web.post("/v2/calls/{call_control_id}/actions/{action}", self._post_action),
            web.post("/v2/calls", self._dial),
        ]

    def _controls(self) -> list[Control]:
        return [
            Control(
                "ring",
                self._control_ring,
                '{"to": "+15550100001", "from": "+15550109999", "caller_id_name":'
                ' "Bob"}\n(caller_id_name and connection_id optional): an inbound'
                ' call;\nanswers {"call_control_id": "v3:..."}',
            ),
            Control(
                "hangup",
                self._control_hangup,
                '{"call_control_id": "v3:...", "cause": "normal_clearing",'
                ' "source": "caller"}\n(cause and source optional): the far end'
                " hangs up",
            ),
            Control(
                "pickup",
                self._control_pickup,
                '{"call_id": "v3:..."}: the far end of an outgoing call (a dial\n'
                "or a transfer's new leg) answers now",
            ),
            Control(
                "press",
                self._control_press,
                '{"call_id": "v3:...", "digits": "1"}: the caller presses keys\n'
                "(call.dtmf.received each; call.gather.ended while a gather runs)",
            ),
        ]

    def _started(self, root: str) -> str:
        self.base_url = f"{root}/v2"
        return self.base_url

    def _bad_body(self, problem: BodyProblem) -> Exception:
        if problem is BodyProblem.NOT_JSON:
            return _ApiError(400, "10023")
        return _ApiError(400, "10023", detail=problem)

    def _http_error(self, status: int) -> web.StreamResponse | None:
        codes = {404: "10005", 405: "10030"}
        return _error_response(status, codes[status]) if status in codes else None

    def _refuse(self, request: web.Request) -> web.StreamResponse | None:
        expected = f"Bearer {self.api_key}"
        given = request.headers.get("Authorization", "")
        if secrets.compare_digest(given.encode(), expected.encode()):
            return None
        return _error_response(401, "10009")

    # ----------------------------------------------------------- data set-up

    def _numeric_id(self) -> str:
        """Return a 19-digit id like Telnyx application and number ids.

        Sequential per simulator rather than random, so that snapshots of what
        a test sets up stay the same from run to run.
        """
        return str(next(self._ids))

    def add_application(
        self, name: str, *, webhook_event_url: str | None = None
    ) -> str:
        """Add a Call Control Application; return its id (the connection_id)."""
        application = _new_application(self._numeric_id(), name, webhook_event_url)
        self.applications[application["id"]] = application
        return str(application["id"])

    def add_phone_number(self, connection_id: str, phone_number: str) -> str:
        """Assign ``phone_number`` to the application ``connection_id``."""
        if connection_id not in self.applications:
            raise ValueError(f"unknown connection {connection_id}")
        number_id = self._numeric_id()
        now = _iso(_utcnow())
        self.phone_numbers[number_id] = {
            "id": number_id,
            "record_type": "phone_number",
            "phone_number": phone_number,
            "status": "active",
            "phone_number_type": "local",
            "connection_id": connection_id,
            "connection_name": self.applications[connection_id]["application_name"],
            "purchased_at": now,
            "created_at": now,
            "updated_at": now,
            "tags": [],
            "deletion_lock_enabled": False,
        }
        return number_id

    # ------------------------------------------------------------- scenarios

    async def ring(
        self,
        to: str,
        from_: str,
        *,
        caller_id_name: str | None = None,
        connection_id: str | None = None,
    ) -> str:
        """Start an inbound call to ``to``; emit call.initiated; return its id."""
        connection = connection_id or self._connection_for(to)
        if connection not in self.applications:
            raise ValueError(f"unknown connection {connection}")
        call = SimCall(
            call_control_id=f"v3:{secrets.token_urlsafe(40)}",
            call_leg_id=str(uuid.uuid4()),
            call_session_id=str(uuid.uuid4()),
            connection_id=connection,
            from_=from_,
            to=to,
            caller_id_name=caller_id_name or from_,
        )
        self.calls[call.call_control_id] = call
        extra = {
            "direction": call.direction,
            "caller_id_name": call.caller_id_name,
            "calling_party_type": "pstn",
        }
        self._emit(call, "call.initiated", "parked", extra)
        return call.call_control_id

    def _connection_for(self, phone_number: str) -> str:
        for number in self.phone_numbers.values():
            if number["phone_number"] == phone_number:
                return str(number["connection_id"])
        raise ValueError(f"no application owns {phone_number}")

    async def remote_hangup(
        self,
        call_control_id: str,
        *,
        cause: str = "normal_clearing",
        source: str = "caller",
    ) -> None:
        """Let the far end hang up the call; emit call.hangup."""
        call = self.calls[call_control_id]
        if call.state == "hangup":
            raise ValueError("call has already ended")
        self._end(call, cause, source)()

    async def pickup(self, call_id: str) -> None:
        """Let the far end of an outgoing call answer now (or refuse, if busy)."""
        call = self.calls[call_id]
        if call.direction != "outgoing" or call.state != "parked":
            raise ValueError("not an outgoing call that is ringing")
        self._cancel_pickup(call_id)
        self._far_end_answers(call)

    async def press(self, call_id: str, digits: str) -> None:
        """Let the caller press `digits` on an answered call."""
        call = self.calls[call_id]
        if call.state != "answered":
            raise ValueError("keys are pressed on an answered call")
        if not digits or not set(digits) <= _PRESSED_KEYS:
            raise ValueError("digits must be 0-9, A-D, * or #")
        for key in digits:
            self._emit(call, "call.dtmf.received", None, {"digit": key})
            if call.gather is not None:
                self._gather_key(call, key)
        if call.gather is not None and call.gathered:
            # The inter-digit timeout passes at once.
            self._end_gather(call)

    def _gather_key(self, call: SimCall, key: str) -> None:
        gather = call.gather or {}
        if key == gather["terminating_digit"]:
            self._end_gather(call)
            return
        call.gathered += key
        if len(call.gathered) >= gather["maximum_digits"]:
            self._end_gather(call)

    def _end_gather(self, call: SimCall, status: str | None = None) -> None:
        gather, digits = call.gather or {}, call.gathered
        call.gather, call.gathered = None, ""
        if status is None:
            valid = set(gather.get("valid_digits") or _GATHER_KEYS)
            fits = gather["minimum_digits"] <= len(digits) <= gather["maximum_digits"]
            status = "valid" if fits and set(digits) <= valid else "invalid"
        self._emit(
            call, "call.gather.ended", None, {"digits": digits, "status": status}
        )

    def _place(self, call: SimCall) -> None:
        """Send an outgoing call's call.initiated; let its far end answer later.

        UNCONFIRMED: the `state` of an outgoing call.initiated (the schema
        allows parked and bridging; bridging is assumed, it is being placed).
        """
        self._emit(call, "call.initiated", "bridging", {"direction": "outgoing"})
        if self.pickup_delay is None or self._closing:
            return
        task = asyncio.get_running_loop().create_task(
            self._pickup_later(call.call_control_id, self.pickup_delay)
        )
        self._pickups[call.call_control_id] = task

    async def _pickup_later(self, call_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        self._pickups.pop(call_id, None)
        call = self.calls.get(call_id)
        if call is not None and call.state == "parked" and not self._closing:
            self._far_end_answers(call)

    def _cancel_pickup(self, call_id: str) -> None:
        task = self._pickups.pop(call_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _far_end_answers(self, call: SimCall) -> None:
        """An outgoing call is answered (or refused); a transfer's legs bridge."""
        if call.to in self.busy_numbers:
            _mark_ended(call, "user_busy")
            self._emit_hangup(call, "callee")
            return
        call.state = "answered"
        self._emit(call, "call.answered", "answered", {})
        original = self.calls.get(call.transfer_of or "")
        if original is None:
            return
        original.state = "answered"
        original.bridged_with, call.bridged_with = (
            call.call_control_id,
            original.call_control_id,
        )
        self._emit(call, "call.bridged", None, {})
        self._emit(original, "call.bridged", None, {})

    def _end(self, call: SimCall, cause: str, source: str) -> Callable[[], None]:
        """End `call`, the leg bridged to it and its unanswered transfer legs.

        Returns what sends their webhooks (a running gather ends first, with
        status call_hangup).
        """
        ended = [call]
        _mark_ended(call, cause)
        for other in self.calls.values():
            if other.state == "hangup":
                continue
            if other.call_control_id == call.bridged_with:
                _mark_ended(other, "normal_clearing")
                ended.append(other)
            elif other.transfer_of == call.call_control_id and other.state == "parked":
                _mark_ended(other, "originator_cancel")
                ended.append(other)
        for leg in ended:
            self._cancel_pickup(leg.call_control_id)

        def emit() -> None:
            for leg in ended:
                if leg.gather is not None:
                    self._end_gather(leg, "call_hangup")
                self._emit_hangup(leg, source)

        return emit

    def _emit_hangup(self, call: SimCall, source: str) -> None:
        cause = call.hangup_cause or "unspecified"
        extra = {
            "end_time": _iso(call.end_time or _utcnow()),
            "hangup_cause": cause,
            "hangup_source": source,
            "sip_hangup_cause": _SIP_CAUSES.get(cause, "unspecified"),
        }
        self._emit(call, "call.hangup", "hangup", extra)

    # -------------------------------------------------------- fault control

    def fail_next(
        self,
        status: int,
        *,
        code: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching API requests with ``status``."""
        self._faults.add(
            lambda _request: _fault_response(status, code, retry_after),
            times=times,
            matches=path_match(path_contains),
        )

    def slow_next(
        self, seconds: float, *, times: int = 1, path_contains: str | None = None
    ) -> None:
        """Delay the responses to the next ``times`` matching API requests."""
        self._slows.add(seconds, times=times, matches=path_match(path_contains))

    def hold_webhooks(self) -> None:
        """Queue webhook deliveries instead of sending them."""
        self._outbox.hold()

    async def release_webhooks(self, *, reverse: bool = False) -> None:
        """Send the held webhooks (newest first if ``reverse``) and stop holding.

        Returns once the released deliveries, retries included, have finished.
        """
        await self._outbox.release(reverse=reverse)

    async def wait_for_webhooks(self) -> None:
        """Wait until every request is handled and its webhooks delivered.

        A far end that is to answer by itself (pickup_delay) is waited for too,
        and the webhooks of its answer.
        """
        while True:
            await self._delivered(requests_too=True)
            pickups = [task for task in self._pickups.values() if not task.done()]
            if not pickups:
                return
            await asyncio.wait(pickups)

    async def _stopped(self) -> None:
        pickups = list(self._pickups.values())
        self._pickups.clear()
        for task in pickups:
            task.cancel()
        await asyncio.gather(*pickups, return_exceptions=True)
        await super()._stopped()

    def sign(self, timestamp: str, body: bytes) -> str:
        """Return the base64 Ed25519 signature of ``f"{timestamp}|" + body``."""
        key = Ed25519PrivateKey.generate() if self.bad_signatures else None
        signer = key or self._private_key
        return base64.b64encode(signer.sign(f"{timestamp}|".encode() + body)).decode()

    def _sign_with(self, key: Ed25519PrivateKey) -> None:
        """Sign webhooks with ``key``; publish its public half."""
        self._private_key = key
        raw_public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key_b64 = base64.b64encode(raw_public).decode()

    # --------------------------------------------------------------- routes

    async def _get_balance(self, _request: web.Request) -> web.Response:
        return web.json_response(_BALANCE)

    async def _list_applications(self, request: web.Request) -> web.Response:
        apps = list(self.applications.values())
        needle = request.query.get(_NAME_FILTER)
        if needle is not None:
            if len(needle) < _NAME_FILTER_MIN:
                raise _ApiError(
                    422,
                    "10015",
                    detail=f"The '{_NAME_FILTER}' filter needs at least 3 characters.",
                    source={"parameter": _NAME_FILTER},
                )
            apps = [a for a in apps if needle.lower() in a["application_name"].lower()]
        return _page(request, apps)

    def _application(self, request: web.Request) -> dict[str, Any]:
        application = self.applications.get(request.match_info["app_id"])
        if application is None:
            raise _ApiError(404, "10005")
        return application

    async def _get_application(self, request: web.Request) -> web.Response:
        return web.json_response({"data": self._application(request)})

    async def _patch_application(self, request: web.Request) -> web.Response:
        application = self._application(request)
        body = await self._json_body(request)
        _check_app_patch(body)
        for key, value in body.items():
            if key in _READ_ONLY_APP_FIELDS or key not in application:
                continue
            current = application[key]
            if isinstance(current, dict) and isinstance(value, dict):
                current.update(value)
            else:
                application[key] = value
        application["updated_at"] = _iso(_utcnow())
        return web.json_response({"data": application})

    async def _list_phone_numbers(self, request: web.Request) -> web.Response:
        numbers = list(self.phone_numbers.values())
        for name in ("connection_id", "phone_number"):
            wanted = request.query.get(f"filter[{name}]")
            if wanted is not None:
                numbers = [n for n in numbers if n[name] == wanted]
        return _page(request, numbers)

    async def _get_call(self, request: web.Request) -> web.Response:
        call = self.calls.get(request.match_info["call_control_id"])
        if call is None:
            raise _ApiError(404, "10005")
        alive = call.state != "hangup"
        end = call.end_time or _utcnow()
        data: dict[str, Any] = {
            "call_control_id": call.call_control_id,
            "call_leg_id": call.call_leg_id,
            "call_session_id": call.call_session_id,
            "client_state": call.client_state,
            "is_alive": alive,
            "record_type": "call",
            "call_duration": int((end - call.start_time).total_seconds()),
            "start_time": _iso(call.start_time),
        }
        if not alive:
            data["end_time"] = _iso(end)
        return web.json_response({"data": data})

    async def _list_active_calls(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["connection_id"]
        if connection_id not in self.applications:
            # UNCONFIRMED: the answer for an unknown connection (the docs name
            # only 200 and 422); the usual resource-not-found is assumed.
            raise _ApiError(404, "10005")
        items = [
            {
                "call_control_id": call.call_control_id,
                "call_duration": int((_utcnow() - call.start_time).total_seconds()),
                "call_leg_id": call.call_leg_id,
                "call_session_id": call.call_session_id,
                "client_state": call.client_state,
                "record_type": "call",
            }
            for call in self.calls.values()
            if call.connection_id == connection_id and call.state != "hangup"
        ]
        if self.active_calls_paging == "cursors":
            return _cursor_page(request, items)
        return _page(request, items)

    async def _list_call_events(self, request: web.Request) -> web.Response:
        """The call event log: webhook events, oldest first, by leg or session."""
        entries = [entry for call in self.calls.values() for entry in call.events]
        for name, key in (
            ("leg_id", "call_leg_id"),
            ("application_session_id", "call_session_id"),
            ("type", "type"),
            ("name", "name"),
        ):
            wanted = request.query.get(f"filter[{name}]")
            if wanted is not None:
                entries = [entry for entry in entries if entry[key] == wanted]
        entries.sort(key=lambda entry: str(entry["event_timestamp"]))
        return _page(request, entries)

    async def _post_action(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in _ACTIONS:
            raise _ApiError(404, "10005")
        body = await self._json_body(request)
        call = self.calls.get(request.match_info["call_control_id"])
        if call is None:
            raise _ApiError(422, "90015", source={"pointer": "/call_control_id"})
        if self._is_duplicate_command(call, body):
            # UNCONFIRMED: Telnyx documents that a repeated command_id (same
            # call, within 60 s) is ignored, not what it answers. Assume 200 ok.
            return web.json_response({"data": {"result": "ok"}})
        if call.state == "hangup":
            raise _ApiError(422, "90018")
        _check_client_state(body)
        data, emit = self._execute(action, call, body)
        self._accept_command(call, action, body)
        after_response(request, emit)
        return web.json_response({"data": data})

    def _is_duplicate_command(self, call: SimCall, body: dict[str, Any]) -> bool:
        command_id = body.get("command_id")
        if command_id is None:
            return False
        if not isinstance(command_id, str):
            raise _ApiError(422, "10015", source={"pointer": "/command_id"})
        seen = call.command_ids.get(command_id)
        return seen is not None and time.monotonic() - seen < self.command_id_window

    def _accept_command(self, call: SimCall, action: str, body: dict[str, Any]) -> None:
        call.commands.append({**body, "action": action})
        if body.get("client_state") is not None:
            call.client_state = body["client_state"]
        command_id = body.get("command_id")
        if isinstance(command_id, str):
            call.command_ids[command_id] = time.monotonic()

    def _execute(
        self, action: str, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Run ``action``; return response data and the deferred webhook."""
        if action in _MEDIA_ACTIONS and call.state != "answered":
            raise _ApiError(422, "90034")
        commands = {
            "answer": self._answer,
            "reject": self._reject,
            "hangup": self._hangup,
            "transfer": self._transfer,
            "speak": self._speak,
            "gather_using_speak": self._gather_using_speak,
            "playback_start": self._playback_start,
            "send_dtmf": self._send_dtmf,
        }
        return commands[action](call, body)

    def _answer(
        self, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        if call.direction != "incoming":
            raise _ApiError(422, "90102")
        if call.state != "parked":
            # UNCONFIRMED: the error for answering an answered call is undocumented.
            raise _ApiError(
                422,
                "90102",
                detail="Call answer command cannot be issued for an answered call.",
            )
        call.state = "answered"
        webhook_url = body.get("webhook_url")
        if isinstance(webhook_url, str) and webhook_url:
            call.webhook_url = webhook_url
        data: dict[str, Any] = {"result": "ok"}
        if body.get("record"):
            data["recording_id"] = str(uuid.uuid4())
        return data, lambda: self._emit(call, "call.answered", "answered", {})

    def _reject(
        self, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        cause = _check_reject_cause(body)
        if call.state != "parked":
            # UNCONFIRMED: the error for rejecting an answered call is undocumented.
            raise _ApiError(
                422,
                "90102",
                detail="Call reject command cannot be issued for an answered call.",
            )
        return {"result": "ok"}, self._end(call, cause, "callee")

    def _hangup(
        self, call: SimCall, _body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        return {"result": "ok"}, self._end(call, "normal_clearing", "callee")

    def _transfer(
        self, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Call `to` on a new leg; once it answers, bridge it to this one.

        UNCONFIRMED: which states take a transfer. An unanswered outgoing
        call is refused (90034); an incoming one still ringing is taken (call
        forwarding without answering).
        """
        to = _required_text(body, "to")
        caller_id = body.get("from")
        if caller_id is not None and (
            not isinstance(caller_id, str) or not _E164.fullmatch(caller_id)
        ):
            raise _ApiError(422, "10016", source={"pointer": "/from"})
        _check_int(body, "timeout_secs", 5, 600, "90028")
        _check_int(body, "time_limit_secs", 60, 14400, "10015")
        _exclusive(body, "audio_url", "media_name")
        _check_url(body, "audio_url")
        if call.direction == "outgoing" and call.state != "answered":
            raise _ApiError(422, "90034")
        leg = SimCall(
            call_control_id=f"v3:{secrets.token_urlsafe(40)}",
            call_leg_id=str(uuid.uuid4()),
            call_session_id=call.call_session_id,
            connection_id=call.connection_id,
            # "will default to the `to` number of the original call if omitted"
            from_=caller_id or call.to,
            to=to.partition(",")[0],
            direction="outgoing",
            client_state=body.get("target_leg_client_state"),
            webhook_url=body.get("webhook_url") or call.webhook_url,
            transfer_of=call.call_control_id,
        )
        self.calls[leg.call_control_id] = leg
        return {"result": "ok"}, lambda: self._place(leg)

    def _speak(
        self, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        _check_speech(body)
        _check_loop(body)
        _check_choice(body, "stop", ("current", "all", "overlay"), "90016")
        _check_choice(body, "target_legs", ("self", "opposite", "both"), "10015")
        endless = body.get("loop") == "infinity"

        def emit() -> None:
            self._emit(call, "call.speak.started", None, {}, parties=False)
            if not endless:
                extra = {"status": "completed"}
                self._emit(call, "call.speak.ended", None, extra, parties=False)

        return {"result": "ok"}, emit

    def _gather_using_speak(
        self, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Speak, then gather keys: call.dtmf.received each, call.gather.ended.

        The keys come from /_sim/press. UNCONFIRMED: whether Telnyx also sends
        call.speak.started/ended for the prompt (the command lists only the
        DTMF and gather webhooks); the simulator sends neither.
        """
        _check_speech(body)
        _check_int(body, "minimum_digits", 1, 128, "90022")
        _check_int(body, "maximum_digits", 1, 128, "90023")
        _check_int(body, "maximum_tries", 1, 128, "10015")
        _check_int(body, "inter_digit_timeout_millis", 1, 120000, "10015")
        _check_keys(body, "terminating_digit", _GATHER_KEYS, "90007")
        _check_keys(body, "valid_digits", _GATHER_KEYS, "90008")
        if len(body.get("terminating_digit") or "#") != 1:
            raise _ApiError(422, "90007", source={"pointer": "/terminating_digit"})
        call.gather = {
            **_GATHER_DEFAULTS,
            **{
                key: body[key]
                for key in (*_GATHER_DEFAULTS, "valid_digits")
                if key in body
            },
        }
        call.gathered = ""
        return {"result": "ok"}, lambda: None

    def _playback_start(
        self, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        sources = ("audio_url", "media_name", "playback_content")
        if all(body.get(name) is None for name in sources):
            raise _ApiError(422, "10004", source={"pointer": "/audio_url"})
        _exclusive(body, "audio_url", "media_name")
        _check_url(body, "audio_url")
        _check_loop(body)
        _check_choice(body, "audio_type", ("mp3", "wav"), "10015")
        _check_choice(body, "stop", ("current", "all", "overlay"), "90016")
        _check_choice(body, "target_legs", ("self", "opposite", "both"), "10015")
        endless = body.get("loop") == "infinity"
        media = {
            "media_url": body.get("audio_url"),
            "media_name": body.get("media_name"),
            "overlay": bool(body.get("overlay", False)),
        }

        def emit() -> None:
            self._emit(call, "call.playback.started", None, media, parties=False)
            if not endless:
                ended = {**media, "status": "completed"}
                self._emit(call, "call.playback.ended", None, ended, parties=False)

        return {"result": "ok"}, emit

    def _send_dtmf(
        self, call: SimCall, body: dict[str, Any]
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Play keys to the far end; Telnyx sends no webhook for it."""
        del call
        if body.get("digits") is None:
            raise _ApiError(422, "10004", source={"pointer": "/digits"})
        _check_keys(body, "digits", _SENT_KEYS, "90014")
        _check_int(body, "duration_millis", 100, 500, "90027")
        return {"result": "ok"}, lambda: None

    async def _dial(self, request: web.Request) -> web.Response:
        """POST /v2/calls: place an outgoing call from the connection.

        UNCONFIRMED: the answer to a repeated command_id (documented as
        ignored); the call the first one placed is answered again.
        """
        body = await self._json_body(request)
        _check_client_state(body)
        connection = _required_text(body, "connection_id")
        if connection not in self.applications:
            raise _ApiError(
                422,
                "10015",
                detail="The 'connection_id' parameter names no Call Control App.",
                source={"pointer": "/connection_id"},
            )
        to = _required_text(body, "to")
        caller_id = _required_text(body, "from")
        if not _E164.fullmatch(caller_id):
            raise _ApiError(422, "10016", source={"pointer": "/from"})
        _check_int(body, "timeout_secs", 5, 600, "90028")
        _exclusive(body, "audio_url", "media_name")
        _check_url(body, "audio_url")
        command_id = body.get("command_id")
        if command_id is not None and not isinstance(command_id, str):
            raise _ApiError(422, "10015", source={"pointer": "/command_id"})
        seen = self._dials.get(command_id) if command_id else None
        if seen is not None and time.monotonic() - seen[1] < self.command_id_window:
            return web.json_response({"data": _dialed(self.calls[seen[0]])})
        webhook_url = body.get("webhook_url")
        call = SimCall(
            call_control_id=f"v3:{secrets.token_urlsafe(40)}",
            call_leg_id=str(uuid.uuid4()),
            call_session_id=str(uuid.uuid4()),
            connection_id=connection,
            from_=caller_id,
            to=to,
            direction="outgoing",
            client_state=body.get("client_state"),
            webhook_url=webhook_url if isinstance(webhook_url, str) else None,
        )
        call.commands.append({**body, "action": "dial"})
        self.calls[call.call_control_id] = call
        if command_id:
            self._dials[command_id] = (call.call_control_id, time.monotonic())
        after_response(request, lambda: self._place(call))
        return web.json_response({"data": _dialed(call)})

    # -------------------------------------------------------- control routes

    async def _control_ring(self, body: dict[str, Any]) -> dict[str, Any]:
        call_id = await self.ring(
            str(body["to"]),
            str(body["from"]),
            caller_id_name=body.get("caller_id_name"),
            connection_id=body.get("connection_id"),
        )
        return {"call_control_id": call_id}

    async def _control_hangup(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.remote_hangup(
            str(body["call_control_id"]),
            cause=str(body.get("cause", "normal_clearing")),
            source=str(body.get("source", "caller")),
        )
        return {"result": "ok"}

    async def _control_pickup(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.pickup(str(body["call_id"]))
        return {"result": "ok"}

    async def _control_press(self, body: dict[str, Any]) -> dict[str, Any]:
        await self.press(str(body["call_id"]), str(body["digits"]))
        return {"result": "ok"}

    # -------------------------------------------------------------- webhooks

    def _next_occurred_at(self) -> str:
        now = _utcnow()
        if self._last_occurred is not None and now <= self._last_occurred:
            now = self._last_occurred + timedelta(microseconds=1)
        self._last_occurred = now
        return _iso(now)

    def _webhook_urls(self, call: SimCall) -> tuple[str, ...]:
        application = self.applications.get(call.connection_id, {})
        primary = call.webhook_url or application.get("webhook_event_url")
        if not primary:
            return ()
        failover = application.get("webhook_event_failover_url")
        return (primary, failover) if failover else (primary,)

    def _emit(
        self,
        call: SimCall,
        event_type: str,
        state: str | None,
        extra: dict[str, Any],
        *,
        parties: bool = True,
    ) -> None:
        """Build one event for ``call``, log it, and deliver (or hold) it.

        Telnyx logs an event (GET /v2/call_events) whether or not a webhook
        URL takes it. Every payload has the call's ids; `parties` adds `from`
        and `to` (the speak and playback events have none), and `state` is
        given only by the events whose schema has one.
        """
        payload: dict[str, Any] = {
            "call_control_id": call.call_control_id,
            "call_leg_id": call.call_leg_id,
            "call_session_id": call.call_session_id,
            "client_state": call.client_state,
            "connection_id": call.connection_id,
        }
        if parties:
            payload.update(
                {"from": call.from_, "to": call.to, "start_time": _iso(call.start_time)}
            )
        if state is not None:
            payload["state"] = state
        payload.update(extra)
        event_id, occurred_at = str(uuid.uuid4()), self._next_occurred_at()
        call.events.append(_log_entry(call, event_type, event_id, occurred_at, payload))
        urls = self._webhook_urls(call)
        if not urls:
            return
        event = _Event(
            chain_key=call.call_control_id,
            event_type=event_type,
            event_id=event_id,
            occurred_at=occurred_at,
            payload=payload,
            urls=urls,
            duplicate=self.duplicate_webhooks,
        )
        self._queue(event)

    def _chain_of(self, event: _Event) -> str:
        return event.chain_key

    async def _deliver_events(self, events: list[_Event]) -> None:
        for event in events:
            delivered, next_attempt = await self._deliver(event, 1)
            if delivered and event.duplicate:
                await self._deliver(event, next_attempt)

    async def _deliver(self, event: _Event, attempt: int) -> tuple[bool, int]:
        """Try each URL with retries; return (delivered, next attempt number)."""
        for url in event.urls:
            for delay in (0.0, *self._retry_delays):
                if delay:
                    await asyncio.sleep(delay)
                delivered = await self._post(event, url, attempt)
                attempt += 1
                if delivered:
                    return True, attempt
        return False, attempt

    async def _post(self, event: _Event, url: str, attempt: int) -> bool:
        """POST one signed attempt; record it; return True on a 2xx answer."""
        envelope = {
            "data": {
                "record_type": "event",
                "event_type": event.event_type,
                "id": event.event_id,
                "occurred_at": event.occurred_at,
                "payload": event.payload,
            },
            "meta": {"attempt": attempt, "delivered_to": url},
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        timestamp = str(int(time.time() + self.timestamp_offset))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "telnyx-webhooks",
            "Telnyx-Signature-Ed25519": self.sign(timestamp, body),
            "Telnyx-Timestamp": timestamp,
        }
        posted = await self._poster.post(url, body, headers)
        self.deliveries.append(
            SimDelivery(event.event_type, event.event_id, attempt, posted.status, url)
        )
        return posted.delivered

    # ---------------------------------------------------------- command line

    @classmethod
    def _add_demo_options(cls, parser: argparse.ArgumentParser) -> None:
        add_webhook_url_option(parser, "the demo application's webhook_event_url")

    @classmethod
    def demo(cls, options: argparse.Namespace) -> Self:
        """The application "Switchboard demo" with the number +15550100001."""
        simulator = cls()
        simulator._sign_with(Ed25519PrivateKey.from_private_bytes(_DEMO_SIGNING_SEED))
        app_id = simulator.add_application(
            "Switchboard demo", webhook_event_url=options.webhook_url
        )
        simulator.add_phone_number(app_id, _DEMO_NUMBER)
        return simulator

    def demo_credentials(self) -> list[tuple[str, str]]:
        return [("api key", self.api_key), ("public key", self.public_key_b64)]

    def demo_details(self) -> list[tuple[str, str]]:
        return [
            (
                "application",
                f"{app_id} ({app['application_name']}), number {_DEMO_NUMBER}",
            )
            for app_id, app in self.applications.items()
        ]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the demo simulator until interrupted (see ``--help``)."""
    TelnyxSimulator.main(argv)


if __name__ == "__main__":
    main()
