"""The Webex client against the simulator, over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
import pytest

from custom_components.switchboard.providers import webex as webex_module
from custom_components.switchboard.providers.base import (
    ReconcilingProvider,
    WebhookProvider,
    WebhookRegistrar,
)
from custom_components.switchboard.providers.model import (
    ActionNotAllowedError,
    AuthenticationError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
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
from custom_components.switchboard.providers.webex import (
    SCOPES,
    WebexClient,
    new_webhook_secret,
    signature,
    validate_options,
)
from tests.const import CALLER
from tests.fixtures.webex import (
    WEBEX_APP,
    WEBEX_DESK_PHONE,
    WEBEX_PERSON,
    SimulatorTokens,
)
from tests.simulators.webex import SimEndpoint, WebexSimulator
from tests.webex.conftest import Receiver

LINE = "+15550100100"

# The reference's computed test vector (not published by Cisco).
VECTOR_SECRET = "somesupersecretphrase"
VECTOR_BODY = (
    b'{"id":"Y2lz","resource":"telephony_calls","event":"created","data":'
    b'{"callId":"Y2lzY29z","eventType":"received","state":"alerting"}}'
)
VECTOR_SIGNATURE = "1e9a2e3fe8661eaf4501401f8995e0c51fde5785"

# The verbatim captures of the reference (section 6.4), envelope fields shared.
CAPTURE_ENVELOPE: dict[str, Any] = {
    "resource": "telephony_calls",
    "created": "2025-07-01T13:31:06.813Z",
    "orgId": "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8xNzExMTdkNi04YjgyLTQ0Y2EtOThlOS1hYzExNTdmMmNkMWQ",  # noqa: E501
    "actorId": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hODA4YmVmYS05MTM4LTQ2MWMtYjlhZi0zOTJjNzg0ZTBjMWE",  # noqa: E501
    "createdBy": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hODA4YmVmYS05MTM4LTQ2MWMtYjlhZi0zOTJjNzg0ZTBjMWE",  # noqa: E501
    "appId": "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL0MzZjU0MjYwYTQyMjhjY2NlNWY4YjM3NDVlYjYzMDA0MDYzYjVlZTgzOWRlNDE4YjMyOGFkMGMxZTA5MjAzYzgx",  # noqa: E501
    "name": "WebexSAPROD",
    "id": "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svYTkzZDliMTItM2YyNC00YzM1LTljYWYtMjFmMjMzZGUyMzNj",  # noqa: E501
    "targetUrl": "https://f8c2wc8446.execute-api.us-east-1.amazonaws.com/telephony",
    "ownedBy": "creator",
    "status": "active",
}
CAPTURE_PARTY = {
    "name": "POUYA SHAHRDAMI",
    "privacyEnabled": False,
    "number": "+19059227700",
    "callType": "external",
}
CAPTURE_CALL = "Y2lzY29zcGFyazovL3VzL0NBTEwvY2FsbGhhbGYtOTYwNTQyMDI5NDow"
CAPTURE_RECEIVED = {
    "data": {
        "callId": CAPTURE_CALL,
        "appearance": 1,
        "personality": "terminator",
        "created": "2025-08-05T16:48:19.359Z",
        "remoteParty": CAPTURE_PARTY,
        "muteCapable": False,
        "eventType": "received",
        "state": "alerting",
        "callSessionId": "ZmEzMmU1MzQtYzNhMi00NjVkLWJjZTgtNTI1OWZlODlmNWZi",
        "muted": False,
        "eventTimestamp": "2025-08-05T16:48:19.360Z",
        "completedElsewhere": False,
    },
    **CAPTURE_ENVELOPE,
    "event": "created",
}
CAPTURE_ANSWERED = {
    "data": {
        "callId": CAPTURE_CALL,
        "endpointType": "APPLICATION",
        "answered": "2025-08-05T16:48:21.154Z",
        "created": "2025-08-05T16:48:19.359Z",
        "endpointId": "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OLzAzNWVlYTFlLTY4ZmEtNDkyNS1iNWM2LWM2MzUwZmUwMzA3OA",  # noqa: E501
        "eventType": "answered",
        "callSessionId": "ZmEzMmU1MzQtYzNhMi00NjVkLWJjZTgtNTI1OWZlODlmNWZi",
        "completedElsewhere": False,
        "appearance": 1,
        "personality": "terminator",
        "remoteParty": CAPTURE_PARTY,
        "muteCapable": True,
        "state": "connected",
        "muted": False,
        "eventTimestamp": "2025-08-05T16:48:21.240Z",
    },
    **CAPTURE_ENVELOPE,
    "event": "updated",
}
CAPTURE_DISCONNECTED = {
    "data": {
        "eventType": "disconnected",
        "eventTimestamp": "2025-08-14T18:52:43.357Z",
        "callId": "Y2lzY29zcGFyazovL3VzL0NBTEwvY2FsbGhhbGYtOTgyNzEzMjM3MDow",
        "callSessionId": "MWFmMDFjNTQtOTdlMS00ODA3LWEzZjgtMTY2ODNiNjFhNjQw",
        "personality": "terminator",
        "state": "disconnected",
        "muteCapable": False,
        "muted": False,
        "remoteParty": CAPTURE_PARTY,
        "created": "2025-08-14T18:52:41.728Z",
        "disconnected": "2025-08-14T18:52:43.357Z",
        "completedElsewhere": True,
    },
    **CAPTURE_ENVELOPE,
    "event": "deleted",
}


@dataclass
class Canned:
    """A server that answers with whatever the test queued, to probe odd replies."""

    url: str = ""
    replies: list[web.Response] = field(default_factory=list)


@pytest.fixture
async def canned(socket_enabled: None) -> AsyncGenerator[Canned]:
    state = Canned()

    async def handle(request: web.Request) -> web.Response:
        del request
        return state.replies.pop(0)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    yield state
    await runner.cleanup()


class FixedToken:
    """A TokenSource that never changes its token (for servers without OAuth)."""

    def __init__(self) -> None:
        self.refreshes = 0

    async def async_token(self, *, refresh: bool = False) -> str:
        self.refreshes += refresh
        return "token"


@pytest.fixture
def canned_client(
    canned: Canned, webex_session: aiohttp.ClientSession, webex_secret: str
) -> WebexClient:
    return WebexClient(
        webex_session, FixedToken(), base_url=canned.url, webhook_secret=webex_secret
    )


@pytest.fixture
async def client(
    webex_client: WebexClient, receiver: Receiver, webex: WebexSimulator
) -> WebexClient:
    """A client that knows its devices and has its webhook registered."""
    await webex_client.async_get_devices()
    await webex_client.async_set_webhook_url(receiver.url)
    webex.requests.clear()
    return webex_client


async def delivered(
    webex: WebexSimulator, receiver: Receiver, client: WebexClient
) -> list[CallEvent]:
    """Let the simulator deliver, then parse what arrived, in arrival order."""
    await webex.wait_for_webhooks()
    events: list[CallEvent] = []
    for headers, body in receiver.take():
        events += await client.async_parse_webhook(headers, body, time.time())
    return events


def signed(secret: str, envelope: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(envelope).encode()
    return {"X-Spark-Signature": signature(secret, body)}, body


def envelope(data: dict[str, Any], event: str = "updated") -> dict[str, Any]:
    return {**CAPTURE_ENVELOPE, "event": event, "data": data}


def as_call(event: CallEvent) -> Call:
    return Call(
        call_id=event.call_id,
        device_ids=event.device_ids,
        direction=event.direction or Direction.INCOMING,
        state=event.state,
        actions=event.actions or frozenset(),
    )


def device(webex: WebexSimulator, name: str) -> Device:
    return Device(webex.endpoint_id(name), name, "Desk phone", LINE)


# --- protocols and options ---


def test_client_implements_its_protocols(webex_client: WebexClient) -> None:
    assert isinstance(webex_client, WebhookProvider)
    assert isinstance(webex_client, WebhookRegistrar)
    assert isinstance(webex_client, ReconcilingProvider)
    assert webex_client.owns_registration is True
    assert set(SCOPES) >= {
        "spark:calls_read",
        "spark:calls_write",
        "spark:telephony_config_read",
        "spark:people_read",
    }
    webex_client.use_webhook_url("https://example.invalid/api/webhook/x")
    assert webex_client.webhook_url == "https://example.invalid/api/webhook/x"


@pytest.mark.parametrize("action", ["busy", "temporarilyUnavailable", "ignore"])
def test_reject_takes_a_webex_action(action: str) -> None:
    assert validate_options(CallAction.REJECT, {"action": action}) == {"action": action}
    assert validate_options(CallAction.REJECT, {}) == {}


@pytest.mark.parametrize(
    ("action", "options", "option"),
    [
        (CallAction.REJECT, {"action": "decline"}, "action"),
        (CallAction.REJECT, {"cause": "USER_BUSY"}, "cause"),
        (CallAction.ANSWER, {"endpointId": "x"}, "endpointId"),
        (CallAction.HANGUP, {"action": "busy"}, "action"),
    ],
)
def test_invalid_options_name_the_option(
    webex_client: WebexClient, action: CallAction, options: dict[str, Any], option: str
) -> None:
    with pytest.raises(InvalidOptionError) as raised:
        webex_client.validate_options(action, options)
    assert raised.value.option == option


def test_helpers() -> None:
    assert len(new_webhook_secret()) >= 43  # 32 random bytes, base64
    assert new_webhook_secret() != new_webhook_secret()
    assert signature(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE


# --- signatures ---


async def test_reference_test_vector_verifies(
    webex_session: aiohttp.ClientSession,
) -> None:
    client = WebexClient(webex_session, FixedToken(), webhook_secret=VECTOR_SECRET)
    # The signature passes; the vector's data has no eventTimestamp, so it is
    # then refused as a payload, not as a forgery.
    with pytest.raises(InvalidPayloadError, match="eventTimestamp"):
        await client.async_parse_webhook(
            {"X-Spark-Signature": VECTOR_SIGNATURE}, VECTOR_BODY, time.time()
        )


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param(
            {"X-Spark-Signature": VECTOR_SIGNATURE},
            VECTOR_BODY.replace(b"Y2lzY29z", b"Y2lzZXZp"),
            id="body changed",
        ),
        pytest.param({}, VECTOR_BODY, id="no signature"),
        pytest.param(
            {"X-Spark-Signature": "0" * 40}, VECTOR_BODY, id="wrong signature"
        ),
        pytest.param({"X-Spark-Signature": "é"}, VECTOR_BODY, id="not hex"),
    ],
)
async def test_forged_webhooks_are_refused(
    webex_session: aiohttp.ClientSession, headers: dict[str, str], body: bytes
) -> None:
    client = WebexClient(webex_session, FixedToken(), webhook_secret=VECTOR_SECRET)
    with pytest.raises(InvalidSignatureError):
        await client.async_parse_webhook(headers, body, time.time())


async def test_header_name_and_hex_case_do_not_matter(
    webex_session: aiohttp.ClientSession,
) -> None:
    client = WebexClient(webex_session, FixedToken(), webhook_secret=VECTOR_SECRET)
    headers, body = signed(VECTOR_SECRET, CAPTURE_RECEIVED)
    upper = {"x-spark-signature": headers["X-Spark-Signature"].upper()}
    assert len(await client.async_parse_webhook(upper, body, time.time())) == 1


async def test_without_secret_nothing_is_trusted(
    webex_session: aiohttp.ClientSession,
) -> None:
    client = WebexClient(webex_session, FixedToken())
    with pytest.raises(InvalidSignatureError):
        await client.async_parse_webhook(
            {"X-Spark-Signature": VECTOR_SIGNATURE}, VECTOR_BODY, time.time()
        )


# --- webhook payloads ---


async def test_observed_captures_map_to_the_model(
    webex_client: WebexClient, webex_secret: str
) -> None:
    devices = await webex_client.async_get_devices()
    [ringing] = await webex_client.async_parse_webhook(
        *signed(webex_secret, CAPTURE_RECEIVED), time.time()
    )
    assert ringing.event_id == f"{CAPTURE_CALL}:received:2025-08-05T16:48:19.360Z"
    assert ringing.state is CallState.RINGING
    assert ringing.direction is Direction.INCOMING
    assert ringing.remote_number == "+19059227700"
    assert ringing.remote_name == "POUYA SHAHRDAMI"
    assert ringing.local_number == LINE
    assert ringing.device_ids == tuple(d.device_id for d in devices)
    # A ringing Webex call can be diverted: transfer.
    assert ringing.actions == frozenset(
        {CallAction.ANSWER, CallAction.REJECT, CallAction.HANGUP, CallAction.TRANSFER}
    )
    assert ringing.started_at == datetime(2025, 8, 5, 16, 48, 19, 359000, UTC)
    # Diagnostics keep the state and ids, not the parties.
    assert ringing.raw == {
        "event": "received",
        "state": "alerting",
        "personality": "terminator",
        "callSessionId": CAPTURE_RECEIVED["data"]["callSessionId"],
        "completedElsewhere": False,
    }
    [talking] = await webex_client.async_parse_webhook(
        *signed(webex_secret, CAPTURE_ANSWERED), time.time()
    )
    assert talking.state is CallState.TALKING
    assert talking.actions == frozenset(
        {
            CallAction.HANGUP,
            CallAction.TRANSFER,
            CallAction.HOLD,
            CallAction.SEND_DIGITS,
        }
    )
    # Answered on an endpoint that is not one of ours: still the user's call.
    assert talking.device_ids == ringing.device_ids
    assert talking.order > ringing.order
    [ended] = await webex_client.async_parse_webhook(
        *signed(webex_secret, CAPTURE_DISCONNECTED), time.time()
    )
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.ANSWERED_ELSEWHERE
    assert ended.actions == frozenset()
    assert ended.device_ids == ()


@pytest.mark.parametrize(
    ("data", "state", "direction"),
    [
        pytest.param(
            {"state": "parked", "answered": "2025-08-05T16:48:21.154Z"},
            CallState.TALKING,
            None,
            id="unknown state, answered",
        ),
        pytest.param(
            {"state": "parked", "personality": "originator"},
            CallState.DIALING,
            Direction.OUTGOING,
            id="unknown state, outgoing",
        ),
        pytest.param(
            {"state": "parked", "personality": "terminator"},
            CallState.RINGING,
            Direction.INCOMING,
            id="unknown state, incoming",
        ),
        pytest.param(
            {"state": "alerting", "personality": "clickToDial"},
            CallState.DIALING,
            Direction.OUTGOING,
            id="click to dial",
        ),
        pytest.param(
            {"state": "connecting", "personality": "originator"},
            CallState.DIALING,
            Direction.OUTGOING,
            id="connecting",
        ),
        pytest.param(
            {"state": "remoteHeld", "personality": "originator"},
            CallState.ON_HOLD,
            Direction.OUTGOING,
            id="remote held",
        ),
    ],
)
async def test_states_map_to_the_model(
    webex_client: WebexClient,
    webex_secret: str,
    data: dict[str, Any],
    state: CallState,
    direction: Direction | None,
) -> None:
    body = envelope(
        {"callId": "c1", "eventTimestamp": "2025-08-05T16:48:19.360", **data}
    )
    [event] = await webex_client.async_parse_webhook(
        *signed(webex_secret, body), time.time()
    )
    assert event.state is state
    assert event.direction is direction
    assert event.order == (
        datetime(2025, 8, 5, 16, 48, 19, 360000, UTC).timestamp(),
        webex_module.RANKS[state],
    )


async def test_alerting_outgoing_offers_no_answer(
    webex_client: WebexClient, webex_secret: str
) -> None:
    body = envelope(
        {
            "callId": "c1",
            "eventTimestamp": "2025-08-05T16:48:19.360Z",
            "state": "alerting",
            "personality": "originator",
            "remoteParty": {"number": "1234", "name": "1234"},
        },
        "created",
    )
    [event] = await webex_client.async_parse_webhook(
        *signed(webex_secret, body), time.time()
    )
    assert event.state is CallState.RINGING
    assert event.actions == frozenset({CallAction.HANGUP})
    assert event.remote_name is None  # the name only repeats the number
    # eventType missing: the envelope's event names the event instead.
    assert event.event_id == "c1:created:2025-08-05T16:48:19.360Z"


async def test_deleted_event_ends_the_call_whatever_its_state(
    webex_client: WebexClient, webex_secret: str
) -> None:
    body = envelope(
        {
            "callId": "c1",
            "eventType": "gone",
            "eventTimestamp": "2025-08-05T16:48:19.360Z",
            "state": "connected",
            "personality": "originator",
        },
        "deleted",
    )
    [event] = await webex_client.async_parse_webhook(
        *signed(webex_secret, body), time.time()
    )
    assert event.state is CallState.ENDED
    assert event.end_reason is EndReason.COMPLETED


async def test_other_resources_carry_no_news(
    webex_client: WebexClient, webex_secret: str
) -> None:
    body = {**envelope({"id": "m1"}, "created"), "resource": "messages"}
    assert (
        await webex_client.async_parse_webhook(*signed(webex_secret, body), time.time())
        == []
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed json"),
        pytest.param(b"[]", id="not an object"),
        pytest.param(
            json.dumps(envelope({"eventTimestamp": "2025-08-05T16:48:19.360Z"})),
            id="no callId",
        ),
        pytest.param(json.dumps({**CAPTURE_ENVELOPE, "data": []}), id="data a list"),
        pytest.param(json.dumps(envelope({"callId": "c1"})), id="no timestamp"),
        pytest.param(
            json.dumps(envelope({"callId": "c1", "eventTimestamp": "yesterday"})),
            id="bad timestamp",
        ),
    ],
)
async def test_unreadable_webhooks_are_refused(
    webex_client: WebexClient, webex_secret: str, body: bytes | str
) -> None:
    raw = body.encode() if isinstance(body, str) else body
    with pytest.raises(InvalidPayloadError):
        await webex_client.async_parse_webhook(
            {"X-Spark-Signature": signature(webex_secret, raw)}, raw, time.time()
        )


# --- account and devices ---


async def test_account_and_devices(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    account = await webex_client.async_get_account()
    assert account.account_id == webex.person["id"]
    assert account.name == WEBEX_PERSON
    webex.endpoints["hot"] = SimEndpoint("hot", "Hot desk 3", "HOTDESKING_GUEST")
    webex.endpoints["new"] = SimEndpoint("new", "Car kit", "CAR")
    devices = await webex_client.async_get_devices()
    assert [(d.name, d.model, d.number) for d in devices] == [
        (WEBEX_DESK_PHONE, "Desk phone", LINE),
        (WEBEX_APP, "Webex app", LINE),
        ("Hot desk 3", "Hot desk", LINE),
        ("Car kit", "Endpoint", LINE),
    ]
    assert devices[0].device_id == webex.endpoint_id(WEBEX_DESK_PHONE)
    # people/me was read once, by async_get_account.
    assert [r.path for r in webex.requests].count("/v1/people/me") == 1


async def test_devices_read_the_person_first(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    webex.person["phoneNumbers"] = [
        {"type": "mobile", "value": "+1 555 000 0001"},
        {"type": "work", "value": "+1 555 000 0002"},
        {"type": "work", "value": "+1 555 000 0003", "primary": True},
        "junk",
    ]
    devices = await webex_client.async_get_devices()
    assert {d.number for d in devices} == {"+15550000003"}


async def test_account_name_falls_back_to_email(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    del webex.person["displayName"]
    webex.person["phoneNumbers"] = "none"
    account = await webex_client.async_get_account()
    assert account.name == "grace.hopper@example.com"
    del webex.person["id"]
    with pytest.raises(ProviderError, match="who is signed in"):
        await webex_client.async_get_account()


async def test_without_people_read_devices_still_work(
    webex: WebexSimulator, webex_session: aiohttp.ClientSession
) -> None:
    scopes = [s for s in SCOPES if s != "spark:people_read"]
    tokens = SimulatorTokens(webex_session, webex, webex.issue_tokens(scopes))
    client = WebexClient(webex_session, tokens, base_url=webex.base_url)
    with pytest.raises(PermissionDeniedError, match="spark:people_read"):
        await client.async_get_account()
    devices = await client.async_get_devices()
    assert len(devices) == 2
    assert devices[0].number is None


# --- calls over webhooks, end to end ---


async def test_answer_on_the_chosen_endpoint(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    desk = device(webex, WEBEX_DESK_PHONE)
    call_id = await webex.ring(CALLER, "Ada Lovelace")
    [ringing] = await delivered(webex, receiver, client)
    assert ringing.call_id == call_id
    assert ringing.state is CallState.RINGING
    assert set(ringing.device_ids) == set(webex.endpoints)
    assert ringing.remote_name == "Ada Lovelace"
    assert ringing.local_number == LINE
    await client.async_perform(CallAction.ANSWER, as_call(ringing), desk, {})
    assert webex.requests[-1].path == "/v1/telephony/calls/answer"
    assert webex.requests[-1].body == {"callId": call_id, "endpointId": desk.device_id}
    assert webex.calls[call_id].state == "connected"
    [talking] = await delivered(webex, receiver, client)
    assert talking.state is CallState.TALKING
    assert talking.device_ids == (desk.device_id,)
    await webex.hold(call_id)
    await webex.resume(call_id)
    held, resumed = await delivered(webex, receiver, client)
    assert held.state is CallState.ON_HOLD
    assert resumed.state is CallState.TALKING
    assert ringing.order < talking.order < held.order < resumed.order
    await client.async_perform(CallAction.HANGUP, as_call(talking), desk, {})
    assert webex.requests[-1].body == {"callId": call_id}
    [ended] = await delivered(webex, receiver, client)
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.COMPLETED
    assert ended.device_ids == (desk.device_id,)


async def test_unanswered_call_is_missed(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    await webex.remote_hangup(call_id)
    ringing, ended = await delivered(webex, receiver, client)
    assert ringing.remote_name is None
    assert ended.end_reason is EndReason.MISSED
    assert ended.device_ids == ()


async def test_answered_on_the_device_itself(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    app = webex.endpoint_id(WEBEX_APP)
    call_id = await webex.ring(CALLER)
    await webex.answer_on_device(call_id, app)
    await webex.remote_hangup(call_id)
    _, talking, ended = await delivered(webex, receiver, client)
    assert talking.device_ids == (app,)
    assert ended.device_ids == (app,)
    assert ended.end_reason is EndReason.COMPLETED


async def test_answered_elsewhere_is_not_missed(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    await webex.answer_elsewhere(call_id)
    _, ended = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.ANSWERED_ELSEWHERE


@pytest.mark.parametrize(
    ("action", "options", "body"),
    [
        (CallAction.REJECT, {"action": "ignore"}, {"action": "ignore"}),
        (CallAction.REJECT, {}, {}),
        (CallAction.HANGUP, {}, {}),
    ],
)
async def test_reject_or_hang_up_a_ringing_call(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    action: CallAction,
    options: dict[str, Any],
    body: dict[str, Any],
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    await client.async_perform(
        action, as_call(ringing), device(webex, WEBEX_APP), options
    )
    assert webex.requests[-1].path == f"/v1/telephony/calls/{action}"
    assert webex.requests[-1].body == {"callId": call_id, **body}
    assert webex.calls[call_id].reject_action == options.get("action", "busy")
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.REJECTED


async def test_a_failed_reject_is_forgotten(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    webex.fail_next(409)
    with pytest.raises(ActionNotAllowedError):
        await client.async_perform(
            CallAction.REJECT, as_call(ringing), device(webex, WEBEX_APP), {}
        )
    await webex.remote_hangup(call_id)
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.MISSED


async def test_a_reject_that_may_have_happened_is_kept(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    webex.fail_next(503)
    with pytest.raises(ProviderUnavailableError):
        await client.async_perform(
            CallAction.REJECT, as_call(ringing), device(webex, WEBEX_APP), {}
        )
    await webex.remote_hangup(call_id)
    [ended] = await delivered(webex, receiver, client)
    assert ended.end_reason is EndReason.REJECTED


async def test_outgoing_calls(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    desk = webex.endpoint_id(WEBEX_DESK_PHONE)
    call_id = await webex.dial(CALLER, desk)
    [click] = await delivered(webex, receiver, client)
    assert click.state is CallState.DIALING
    assert click.direction is Direction.OUTGOING
    assert click.device_ids == (desk,)
    assert click.actions == frozenset({CallAction.HANGUP})
    await webex.answer_on_device(call_id, desk)
    await webex.remote_answer(call_id)
    await webex.remote_hold(call_id)
    await webex.remote_hangup(call_id)
    connecting, talking, held, ended = await delivered(webex, receiver, client)
    assert connecting.state is CallState.DIALING
    assert talking.state is CallState.TALKING
    assert held.state is CallState.ON_HOLD
    assert ended.end_reason is EndReason.COMPLETED
    app_call = await webex.dial(CALLER, webex.endpoint_id(WEBEX_APP))
    [placed] = await delivered(webex, receiver, client)
    assert placed.call_id == app_call
    assert placed.state is CallState.DIALING


async def test_duplicates_share_an_event_id(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    webex.duplicate_webhooks = True
    await webex.ring(CALLER)
    first, second = await delivered(webex, receiver, client)
    assert first == second


async def test_reordered_deliveries_still_sort(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    webex.hold_webhooks()
    call_id = await webex.ring(CALLER)
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_APP))
    await webex.remote_hangup(call_id)
    await webex.release_webhooks(reverse=True)
    events = await delivered(webex, receiver, client)
    assert [e.state for e in events] == [
        CallState.ENDED,
        CallState.TALKING,
        CallState.RINGING,
    ]
    assert sorted(events, key=lambda e: e.order) == events[::-1]
    assert events[0].end_reason is EndReason.COMPLETED


async def test_simulator_signatures_can_be_wrong(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    webex.bad_signatures = True
    await webex.ring(CALLER)
    await webex.wait_for_webhooks()
    [(headers, body)] = receiver.take()
    with pytest.raises(InvalidSignatureError):
        await client.async_parse_webhook(headers, body, time.time())


# --- reconciling ---


async def test_list_calls_after_a_lost_delivery(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    app = device(webex, WEBEX_APP)
    ringing_id = await webex.ring(CALLER, "Ada Lovelace")
    answered_id = await webex.ring("+15550000009")
    by_call = {e.call_id: e for e in await delivered(webex, receiver, client)}
    ringing = by_call[ringing_id]
    webex.drop_next_webhook()
    await client.async_perform(
        CallAction.ANSWER, as_call(by_call[answered_id]), app, {}
    )
    await webex.wait_for_webhooks()
    assert receiver.take() == []
    assert webex.deliveries[-1].dropped
    events = {event.call_id: event for event in await client.async_list_calls()}
    assert events[ringing_id].state is CallState.RINGING
    assert events[ringing_id].remote_name == "Ada Lovelace"
    assert set(events[ringing_id].device_ids) == set(webex.endpoints)
    assert events[ringing_id].order > ringing.order
    assert events[answered_id].state is CallState.TALKING
    assert events[answered_id].device_ids == (app.device_id,)
    assert events[answered_id].occurred_at == webex.calls[answered_id].answered


async def test_list_calls_without_knowing_the_endpoint(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    await webex_client.async_get_devices()
    call_id = await webex.ring(CALLER)
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_APP))
    [event] = await webex_client.async_list_calls()
    assert event.state is CallState.TALKING
    assert set(event.device_ids) == set(webex.endpoints)


async def test_refresh_a_live_and_a_gone_call(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    now = await client.async_refresh_call(as_call(ringing))
    assert now is not None
    assert now.state is CallState.RINGING
    assert now.order > ringing.order
    await webex.remote_hangup(call_id)
    gone = await client.async_refresh_call(as_call(ringing))
    assert gone is not None
    assert gone.state is CallState.ENDED
    assert gone.end_reason is None  # Webex no longer says why
    assert gone.order > now.order


async def test_answering_a_gone_call_then_refreshing(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    await webex.remote_hangup(call_id)
    with pytest.raises(CallEndedError, match="tracking id ROUTER_"):
        await client.async_perform(
            CallAction.REJECT, as_call(ringing), device(webex, WEBEX_APP), {}
        )
    # The failed reject was forgotten; a reject that got through is remembered.
    gone = await client.async_refresh_call(as_call(ringing))
    assert gone is not None
    assert gone.end_reason is None
    other = await webex.ring(CALLER)
    [second] = [
        e for e in await delivered(webex, receiver, client) if e.call_id == other
    ]
    await client.async_perform(
        CallAction.REJECT, as_call(second), device(webex, WEBEX_APP), {}
    )
    gone = await client.async_refresh_call(as_call(second))
    assert gone is not None
    assert gone.call_id == other
    assert gone.end_reason is EndReason.REJECTED


# --- command errors from the simulator's state machine ---


async def test_answer_refused_when_not_alerting(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    await webex.answer_on_device(call_id, webex.endpoint_id(WEBEX_APP))
    with pytest.raises(ActionNotAllowedError, match="not alerting"):
        await client.async_perform(
            CallAction.ANSWER, as_call(ringing), device(webex, WEBEX_DESK_PHONE), {}
        )


async def test_answer_refused_on_an_endpoint_without_api_answer(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    webex.endpoints[webex.endpoint_id(WEBEX_APP)].answer_capable = False
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    with pytest.raises(ActionNotAllowedError, match="answer via API"):
        await client.async_perform(
            CallAction.ANSWER, as_call(ringing), device(webex, WEBEX_APP), {}
        )
    assert webex.calls[call_id].state == "alerting"


# --- HTTP errors ---


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ActionNotAllowedError),
        (403, PermissionDeniedError),
        (404, CallEndedError),
        (405, ProviderError),
        (409, ActionNotAllowedError),
        (410, CallEndedError),
        (423, RateLimitedError),
        (429, RateLimitedError),
        (500, ProviderUnavailableError),
        (502, ProviderUnavailableError),
        (503, ProviderUnavailableError),
        (504, ProviderUnavailableError),
    ],
)
async def test_command_errors_map_to_the_model(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    status: int,
    error: type[ProviderError],
) -> None:
    call_id = await webex.ring(CALLER)
    [ringing] = await delivered(webex, receiver, client)
    webex.fail_next(status, message=f"Simulated {status}")
    with pytest.raises(error) as raised:
        await client.async_perform(
            CallAction.ANSWER, as_call(ringing), device(webex, WEBEX_APP), {}
        )
    assert type(raised.value) is error
    assert str(raised.value).startswith(f"Simulated {status} (tracking id ROUTER_")
    assert webex.calls[call_id].state == "alerting"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ProviderError),
        # The account check's 404 means the URL is not the API's; a 404
        # elsewhere stays _NotFoundError (tests/webex/test_setup_errors.py).
        (404, NotTheApiError),
        (409, ProviderError),
        (403, PermissionDeniedError),
    ],
)
async def test_errors_outside_commands(
    webex_client: WebexClient,
    webex: WebexSimulator,
    status: int,
    error: type[ProviderError],
) -> None:
    webex.fail_next(status, path_contains="/people/me")
    with pytest.raises(error) as raised:
        await webex_client.async_get_account()
    assert type(raised.value) is error


async def test_missing_scope_is_named(
    webex: WebexSimulator, webex_session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    tokens = SimulatorTokens(
        webex_session, webex, webex.issue_tokens(["spark:calls_read"])
    )
    client = WebexClient(webex_session, tokens, base_url=webex.base_url)
    with pytest.raises(PermissionDeniedError, match="spark:telephony_config_read"):
        await client.async_get_devices()


@pytest.mark.parametrize(
    ("retry_after", "expected"), [(2.5, 2.5), (None, None), (0, 0.0)]
)
async def test_rate_limits_carry_the_wait(
    webex_client: WebexClient,
    webex: WebexSimulator,
    retry_after: float | None,
    expected: float | None,
) -> None:
    webex.fail_next(429, retry_after=retry_after)
    with pytest.raises(RateLimitedError) as raised:
        await webex_client.async_list_calls()
    assert raised.value.retry_after == expected


async def test_slow_answer_is_a_timeout(
    webex_client: WebexClient,
    webex: WebexSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webex_module, "REQUEST_TIMEOUT", 0.1)
    webex.slow_next(0.5)
    with pytest.raises(ProviderUnavailableError, match="TimeoutError"):
        await webex_client.async_list_calls()


async def test_unreachable_provider(
    webex_session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    client = WebexClient(webex_session, FixedToken(), base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ProviderUnavailableError):
        await client.async_list_calls()


# --- tokens ---


async def test_expired_token_is_refreshed_once(
    webex_client: WebexClient, webex: WebexSimulator, webex_tokens: SimulatorTokens
) -> None:
    webex.expire_access_tokens()
    await webex_client.async_list_calls()
    assert webex_tokens.refreshes == 1
    refresh = next(r for r in webex.requests if r.path == "/v1/access_token")
    assert refresh.body["grant_type"] == "refresh_token"
    assert [r.path for r in webex.requests].count("/v1/telephony/calls") == 2


async def test_second_401_means_sign_in_again(
    webex_client: WebexClient, webex: WebexSimulator, webex_tokens: SimulatorTokens
) -> None:
    webex.fail_next(401, path_contains="/telephony/calls", count=2)
    with pytest.raises(AuthenticationError, match="valid access token"):
        await webex_client.async_list_calls()
    assert webex_tokens.refreshes == 1


async def test_refused_refresh_token_means_sign_in_again(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    webex.expire_access_tokens()
    webex.revoke_refresh_tokens()
    with pytest.raises(AuthenticationError, match="invalid_grant"):
        await webex_client.async_list_calls()


# --- odd replies ---


async def test_odd_error_bodies_still_say_something(
    canned: Canned, canned_client: WebexClient
) -> None:
    canned.replies = [
        web.Response(status=502, text="<html>Bad gateway</html>"),
        web.json_response(
            {"errors": [{"description": "Only this"}]},
            status=400,
            headers={"TrackingID": "HDR_1"},
        ),
        web.json_response({"errors": ["odd"]}, status=400),
    ]
    with pytest.raises(ProviderUnavailableError) as outage:
        await canned_client.async_list_calls()
    assert str(outage.value) == "Webex answered HTTP 502"
    with pytest.raises(ProviderError) as described:
        await canned_client.async_list_calls()
    assert str(described.value) == "Only this (tracking id HDR_1)"
    with pytest.raises(ProviderError) as bare:
        await canned_client.async_list_calls()
    assert str(bare.value) == "Webex answered HTTP 400"


async def test_odd_success_bodies(canned: Canned, canned_client: WebexClient) -> None:
    canned.replies = [
        web.Response(status=200, text="{not json"),
        web.json_response([1, 2]),
        web.json_response({"items": "none"}),
        web.json_response({"items": [{"id": 5}, "x"]}),
        web.json_response({"endpoints": {"id": "x"}}),
    ]
    with pytest.raises(ProviderUnavailableError, match="invalid JSON"):
        await canned_client.async_list_calls()
    assert await canned_client.async_list_calls() == []
    assert await canned_client.async_list_calls() == []
    assert await canned_client.async_list_calls() == []
    canned_client._person_read = True
    assert await canned_client.async_get_devices() == []


async def test_next_page_outside_the_api_is_not_followed(
    canned: Canned, canned_client: WebexClient
) -> None:
    canned.replies = [
        web.json_response(
            {"items": []},
            headers={"Link": '<https://evil.example/v1/webhooks?cursor=1>; rel="next"'},
        )
    ]
    with pytest.raises(ProviderError, match="outside its API"):
        await canned_client.async_get_webhook_url()


# --- webhook registration ---


async def test_webhook_is_created_read_and_deleted(
    webex_client: WebexClient, webex: WebexSimulator, webex_secret: str
) -> None:
    url = "https://example.invalid/api/webhook/abc"
    assert await webex_client.async_get_webhook_url() is None
    await webex_client.async_set_webhook_url(url)
    create = webex.requests[-1]
    assert (create.method, create.path) == ("POST", "/v1/webhooks")
    assert create.body == {
        "name": "Switchboard",
        "targetUrl": url,
        "resource": "telephony_calls",
        "event": "all",
        "secret": webex_secret,
    }
    assert await webex_client.async_get_webhook_url() == url
    await webex_client.async_set_webhook_url(url + "2")
    update = webex.requests[-1]
    assert update.method == "PUT"
    assert update.body["status"] == "active"
    assert await webex_client.async_get_webhook_url() == url + "2"
    assert len(webex.webhooks) == 1
    await webex_client.async_set_webhook_url(None)
    assert webex.requests[-1].method == "DELETE"
    assert webex.webhooks == {}
    assert await webex_client.async_get_webhook_url() is None
    await webex_client.async_set_webhook_url(None)  # nothing left to delete


async def test_disabled_webhook_is_reactivated(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    [webhook_id] = webex.webhooks
    webex.disable_webhook(webhook_id)
    assert await client.async_get_webhook_url() is None
    await webex.ring(CALLER)
    await webex.wait_for_webhooks()
    assert receiver.take() == []
    await client.async_set_webhook_url(receiver.url)
    assert webex.webhooks[webhook_id]["status"] == "active"
    assert await client.async_get_webhook_url() == receiver.url


async def test_failing_deliveries_disable_the_webhook(
    client: WebexClient, webex: WebexSimulator, receiver: Receiver
) -> None:
    webex.auto_disable_after = 2
    receiver.status = 500
    await webex.ring(CALLER)
    await webex.ring(CALLER)
    await webex.wait_for_webhooks()
    assert [d.status for d in webex.deliveries] == [500, 500]
    assert await client.async_get_webhook_url() is None
    await client.async_set_webhook_url(receiver.url)
    assert await client.async_get_webhook_url() == receiver.url


async def test_a_foreign_secret_or_shape_is_replaced(
    webex_client: WebexClient, webex: WebexSimulator, webex_secret: str
) -> None:
    url = "https://example.invalid/hook"
    stale = webex.add_webhook("Switchboard", url, secret="someone else's")
    assert await webex_client.async_get_webhook_url() is None
    await webex_client.async_set_webhook_url(url)
    assert webex.webhooks[stale]["secret"] == webex_secret
    wrong = webex.add_webhook("Switchboard", url, event="created")
    duplicate = webex.add_webhook("Switchboard", url, secret=webex_secret)
    other = webex.add_webhook("Someone else", url, resource="messages")
    await webex_client.async_set_webhook_url(url)
    assert set(webex.webhooks) == {stale, other}
    assert wrong not in webex.webhooks
    assert duplicate not in webex.webhooks


async def test_webhook_deleted_meanwhile_is_created_again(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    url = "https://example.invalid/hook"
    webex.add_webhook("Switchboard", url, status="inactive")
    webex.fail_next(404, path_contains="/webhooks/")
    await webex_client.async_set_webhook_url(url)
    assert [r.method for r in webex.requests[-2:]] == ["PUT", "POST"]
    assert len(webex.webhooks) == 2  # the simulator never lost the first one
    webex.fail_next(404, path_contains="/webhooks/", count=2)
    await webex_client.async_set_webhook_url(None)
    assert [r.method for r in webex.requests[-2:]] == ["DELETE", "DELETE"]


async def test_webhooks_are_found_page_by_page(
    webex_client: WebexClient, webex: WebexSimulator
) -> None:
    for index in range(150):
        webex.add_webhook(f"Other {index}", "https://example.invalid/other")
    webex.add_webhook("Switchboard", "https://example.invalid/ours", secret=None)
    assert await webex_client.async_get_webhook_url() == "https://example.invalid/ours"
    pages = [r for r in webex.requests if r.path == "/v1/webhooks"]
    assert [p.query.get("cursor") for p in pages] == [None, "100"]
    assert pages[0].query["max"] == "100"


async def test_registration_needs_a_secret(
    webex: WebexSimulator,
    webex_session: aiohttp.ClientSession,
    webex_tokens: SimulatorTokens,
) -> None:
    client = WebexClient(webex_session, webex_tokens, base_url=webex.base_url)
    with pytest.raises(ProviderError, match="no webhook secret"):
        await client.async_set_webhook_url("https://example.invalid/hook")
    await client.async_set_webhook_url(None)  # removing needs none


# --- the simulator's OAuth and control routes, as the integration uses them ---


async def test_oauth_code_flow(
    webex: WebexSimulator, webex_session: aiohttp.ClientSession
) -> None:
    redirect = "https://example.invalid/auth/external/callback"
    async with webex_session.get(
        webex.authorize_url,
        params={
            "client_id": webex.client_id,
            "response_type": "code",
            "redirect_uri": redirect,
            "scope": " ".join(SCOPES),
            "state": "xyz",
        },
        allow_redirects=False,
    ) as response:
        assert response.status == 302
        location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    form = {
        "grant_type": "authorization_code",
        "client_id": webex.client_id,
        "client_secret": webex.client_secret,
        "code": query["code"][0],
        "redirect_uri": redirect,
    }
    async with webex_session.post(webex.token_url, data=form) as response:
        tokens = await response.json()
    assert tokens["scope"].split() == sorted(SCOPES)
    assert tokens["expires_in"] > 0
    assert tokens["refresh_token_expires_in"] > 0
    async with webex_session.post(webex.token_url, data=form) as response:
        assert response.status == 400  # a code is used once
        assert (await response.json())["error"] == "invalid_grant"
    async with webex_session.post(
        webex.token_url, data={**form, "client_secret": "wrong"}
    ) as response:
        assert response.status == 401


async def test_simulator_control_routes(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    control = webex.base_url.removesuffix("/v1")
    async with webex_session.post(
        f"{control}/_sim/ring", json={"number": CALLER, "name": "Ada"}
    ) as response:
        call_id = (await response.json())["callId"]
    async with webex_session.post(
        f"{control}/_sim/hangup", json={"callId": call_id}
    ) as response:
        assert response.status == 200
    ringing, ended = await delivered(webex, receiver, client)
    assert ringing.remote_name == "Ada"
    assert ended.end_reason is EndReason.MISSED


async def api(
    session: aiohttp.ClientSession,
    webex: WebexSimulator,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
) -> tuple[int, Any]:
    """Call the simulator's API directly; return status and JSON (None if empty)."""
    auth = token or webex.issue_tokens()["access_token"]
    async with session.request(
        method,
        f"{webex.base_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {auth}"},
    ) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def test_simulator_call_control_api(
    client: WebexClient,
    webex: WebexSimulator,
    receiver: Receiver,
    webex_session: aiohttp.ClientSession,
) -> None:
    async def command(name: str, body: Any) -> int:
        path = f"/telephony/calls/{name}"
        return (await api(webex_session, webex, "POST", path, body))[0]

    me = "/telephony/config/people/me/settings/preferredAnswerEndpoint"
    desk = webex.endpoint_id(WEBEX_DESK_PHONE)
    assert await api(webex_session, webex, "GET", me) == (200, {})
    assert (await api(webex_session, webex, "PUT", me, {"id": "nope"}))[0] == 400
    assert await api(webex_session, webex, "PUT", me, {"id": desk}) == (204, None)
    assert (await api(webex_session, webex, "GET", me))[1]["id"] == desk
    call_id = await webex.ring(CALLER)
    call = {"callId": call_id}
    assert await command("reject", {**call, "action": "hang up"}) == 400
    assert await command("reject", {}) == 400
    assert await command("reject", {"callId": "unknown"}) == 404
    assert await command("hold", call) == 400
    assert await command("park", call) == 404
    assert await command("answer", [1]) == 400
    assert await command("answer", call) == 204
    assert webex.calls[call_id].endpoint_id == desk  # the preferred endpoint
    assert await command("reject", call) == 400
    assert await command("resume", call) == 400
    assert await command("hold", call) == 204
    assert await command("resume", call) == 204
    path = f"/telephony/calls/{call_id}"
    status, details = await api(webex_session, webex, "GET", path)
    assert (status, details["state"]) == (200, "connected")
    assert await command("dial", {"destination": CALLER, "endpointId": "x"}) == 400
    status, placed = await api(
        webex_session, webex, "POST", "/telephony/calls/dial", {"destination": CALLER}
    )
    assert status == 201
    assert webex.calls[placed["callId"]].personality == "originator"
    events = await delivered(webex, receiver, client)
    assert [e.raw["event"] for e in events if e.call_id == call_id][-2:] == [
        "held",
        "resumed",
    ]
    assert (await api(webex_session, webex, "GET", "/people/me", token="bad"))[0] == 401


async def test_simulator_webhook_api(
    webex: WebexSimulator, webex_session: aiohttp.ClientSession
) -> None:
    hooks = "/webhooks"
    good = {
        "name": "x",
        "targetUrl": "https://example.invalid/x",
        "resource": "telephony_calls",
        "event": "all",
    }
    status, created = await api(webex_session, webex, "POST", hooks, good)
    assert status == 200
    assert created["status"] == "active"
    assert "secret" not in created
    for bad in (
        {**good, "targetUrl": "ftp://x"},
        {**good, "resource": "calls"},
        {**good, "name": ""},
    ):
        assert (await api(webex_session, webex, "POST", hooks, bad))[0] == 400
    limited = webex.issue_tokens(["spark:people_read"])["access_token"]
    assert (await api(webex_session, webex, "POST", hooks, good, token=limited))[
        0
    ] == 403
    one = f"{hooks}/{created['id']}"
    assert (await api(webex_session, webex, "GET", one))[1] == created
    assert (await api(webex_session, webex, "GET", f"{hooks}/nope"))[0] == 404
    gone = {**good, "status": "gone"}
    assert (await api(webex_session, webex, "PUT", one, gone))[0] == 400
    for query in ("?max=0", "?max=x", "?cursor=-1"):
        assert (await api(webex_session, webex, "GET", hooks + query))[0] == 400
    assert (await api(webex_session, webex, "PATCH", one, good))[0] == 405


async def test_simulator_retries_and_refuses_oauth_misuse(
    webex: WebexSimulator, webex_session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    retrying = WebexSimulator(webhook_retry_delays=(0.01,))
    retrying.add_endpoint(WEBEX_APP, "APPLICATION")
    await retrying.start()
    try:
        retrying.add_webhook("x", receiver.url, secret="s")
        receiver.status = 503
        await retrying.ring(CALLER)
        await retrying.wait_for_webhooks()
        assert [d.status for d in retrying.deliveries] == [503, 503]
    finally:
        await retrying.close()
    base = {"client_id": webex.client_id, "response_type": "code", "redirect_uri": "x"}
    for query in (
        {**base, "client_id": "other"},
        {**base, "response_type": "token"},
        {**base, "scope": "spark:all"},
    ):
        async with webex_session.get(
            webex.authorize_url, params=query, allow_redirects=False
        ) as response:
            assert response.status == 400
    credentials = {"client_id": webex.client_id, "client_secret": webex.client_secret}
    async with webex_session.post(
        webex.token_url, data={**credentials, "grant_type": "password"}
    ) as response:
        assert (await response.json())["error"] == "unsupported_grant_type"
    control = webex.base_url.removesuffix("/v1")
    for route, body in (("ring", {}), ("hangup", {"callId": "nope"})):
        async with webex_session.post(f"{control}/_sim/{route}", json=body) as reply:
            assert reply.status == 400
