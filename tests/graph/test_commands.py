"""Beyond answering on Graph: transfer, dial, play, send digits, digits pressed.

Each command goes to the simulator over loopback HTTP; the tests check the
request it received and the notifications (and so the states) that follow.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from hypothesis import given, strategies as st
import pytest

from custom_components.switchboard.providers.graph import GraphClient, validate_options
from custom_components.switchboard.providers.model import (
    ARG_DIGITS,
    ARG_TO,
    ARG_URL,
    ARG_VOICEMAIL,
    ActionNotAllowedError,
    Call,
    CallAction,
    CallEndedError,
    CallEvent,
    CallState,
    Direction,
    EndReason,
    InvalidOptionError,
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from tests.providers.hostile import encode, examples, json_values, mutated, outcome
from tests.simulators.graph import GraphSimulator

from .notifications import (
    bearer,
    call_data,
    envelope as notification_envelope,
    item as notification_item,
    parse as parse_now,
)
from .test_client import (
    BOT_DEVICE,
    CALL_URL,
    WEBHOOK,
    Bot,
    FakeClock,
    envelope,
    item,
    make_client,
    ring,
    signed,
)

USER = "550fae72-d251-43ec-868c-373732c2704f"
PHONE = "+12025550123"
PROMPT = "https://cdn.example/closed.wav"
TALKING = frozenset(
    {CallAction.HANGUP, CallAction.TRANSFER, CallAction.PLAY, CallAction.SEND_DIGITS}
)
SERVICE_HOSTED = {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(
    session: aiohttp.ClientSession, graph: GraphSimulator, clock: FakeClock
) -> GraphClient:
    client = make_client(session, graph, clock=clock)
    client.use_webhook_url(WEBHOOK)
    return client


@pytest.fixture
async def bot(client: GraphClient, graph: GraphSimulator) -> AsyncGenerator[Bot]:
    """The bot's webhook, as in test_client (the same receiver)."""
    receiver = Bot(client)
    app = web.Application()
    app.router.add_post("/api/webhook/{webhook_id}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    graph.bot_webhook_url = WEBHOOK
    graph.deliver_via = {
        "https://ha.example": f"http://127.0.0.1:{runner.addresses[0][1]}"
    }
    yield receiver
    await graph.close()
    await runner.cleanup()


async def talking(
    graph: GraphSimulator, bot: Bot, client: GraphClient, **answer: Any
) -> Call:
    """Ring the bot and answer: the call once established (tones subscribed)."""
    call = await ring(graph, bot)
    options = client.validate_options(CallAction.ANSWER, answer)
    await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, options)
    await graph.wait_for_notifications()
    answered = bot.call(call.call_id)
    assert answered.state is CallState.TALKING
    return answered


async def perform(
    client: GraphClient, action: CallAction, call: Call, **options: Any
) -> None:
    validated = client.validate_options(action, options)
    await client.async_perform(action, call, BOT_DEVICE, validated)


def posted(graph: GraphSimulator, suffix: str) -> list[Any]:
    """The bodies of the requests to paths ending in `suffix`."""
    return [
        r.body for r in graph.requests if r.method == "POST" and r.path.endswith(suffix)
    ]


# --- what Graph has ---


@pytest.mark.parametrize(
    ("cloud", "digits"), [("global", True), ("usgov", False), ("dod", False)]
)
async def test_supported_actions_are_what_graph_documents(
    session: aiohttp.ClientSession, graph: GraphSimulator, cloud: str, digits: bool
) -> None:
    client = make_client(session, graph, cloud=cloud)
    # startHoldMusic needs a participant id, which peer-to-peer calls lack;
    # Graph has no text-to-speech.
    for missing in (CallAction.HOLD, CallAction.RESUME, CallAction.SPEAK):
        assert missing not in client.supported_actions
    for present in (CallAction.TRANSFER, CallAction.PLAY, CallAction.DIAL):
        assert present in client.supported_actions
    # sendDtmfTones is global-only: neither supported nor offered elsewhere.
    assert (CallAction.SEND_DIGITS in client.supported_actions) is digits
    [established] = await parse(
        client, graph, item("updated", {"state": "established"})
    )
    assert (CallAction.SEND_DIGITS in (established.actions or ())) is digits
    talking_call = Call("c1", ("bot",), Direction.INCOMING, CallState.TALKING)
    with pytest.raises(ActionNotAllowedError, match="not an action on a call"):
        await client.async_perform(
            CallAction.DIAL, talking_call, BOT_DEVICE, {"to": USER}
        )
    with pytest.raises(ActionNotAllowedError, match="cannot hold"):
        await client.async_perform(
            CallAction.HOLD,
            Call("c1", ("bot",), Direction.INCOMING, CallState.TALKING),
            BOT_DEVICE,
            {},
        )


async def parse(
    client: GraphClient, graph: GraphSimulator, *items: Any
) -> list[CallEvent]:
    return await client.async_parse_webhook(
        signed(graph), envelope(*items), time.time()
    )


# --- digits pressed ---


async def test_answering_subscribes_to_tones_and_keys_become_digits(
    client: GraphClient, graph: GraphSimulator, bot: Bot, session: aiohttp.ClientSession
) -> None:
    call = await talking(graph, bot, client)
    assert call.actions == TALKING
    [subscription] = posted(graph, f"{call.call_id}/subscribeToTone")
    assert set(subscription) == {"clientContext"}
    assert graph.calls[call.call_id].tones_subscribed
    seen = len(bot.events)
    async with session.post(
        f"{graph.url}/_sim/press", json={"call_id": call.call_id, "digits": "1#*"}
    ) as response:
        assert response.status == 200
    await graph.wait_for_notifications()
    keys = bot.events[seen:]
    assert [event.digits for event in keys] == ["1", "#", "*"]
    assert {event.state for event in keys} == {CallState.TALKING}
    assert len({event.event_id for event in keys}) == 3
    assert all(event.actions is None for event in keys)
    assert keys[0].raw["tone"] == "tone1"
    assert bot.call(call.call_id).state is CallState.TALKING
    # Microsoft redelivering a tone is the same event.
    again = notification_item(
        "updated",
        {
            "state": "established",
            "toneInfo": {"sequenceId": 1, "tone": "tone1"},
        },
        f"{CALL_URL}{call.call_id}",
    )
    [repeat] = await parse(client, graph, again)
    assert repeat.event_id == keys[0].event_id
    # A refresh establishes nothing new: no second subscription.
    await client.async_refresh_call(call)
    assert len(posted(graph, "/subscribeToTone")) == 1


async def test_keys_before_any_subscription_are_not_reported(
    client: GraphClient, graph: GraphSimulator, bot: Bot, session: aiohttp.ClientSession
) -> None:
    call = await ring(graph, bot)
    async with session.post(
        f"{graph.url}/_sim/press", json={"call_id": call.call_id, "digits": "1"}
    ) as response:
        assert response.status == 409
        assert "subscribeToTone" in await response.text()
    async with session.post(
        f"{graph.url}/_sim/press", json={"call_id": call.call_id}
    ) as response:
        assert response.status == 400
    # A call Graph did not route through the bot's answer is never subscribed.
    await parse(
        client, graph, item("updated", {"state": "established"}, CALL_URL + "other")
    )
    assert posted(graph, "/subscribeToTone") == []


async def test_app_hosted_media_has_no_prompts_and_no_tones(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    graph.permissions.add("Calls.AccessMedia.All")
    media = {"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "b"}
    call = await talking(graph, bot, client, media_config=media)
    assert call.actions == TALKING - {CallAction.PLAY}
    assert posted(graph, "/subscribeToTone") == []


async def test_a_refused_tone_subscription_leaves_the_call_as_it_is(
    client: GraphClient,
    graph: GraphSimulator,
    bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    graph.fail_next(403, path_contains="/subscribeToTone", count=2)
    first = await talking(graph, bot, client)
    second = await talking(graph, bot, client)
    warnings = [r for r in caplog.records if "Calls.AccessMedia.All" in r.getMessage()]
    # Said once as a warning, then only in the debug log.
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.DEBUG]
    graph.fail_next(503, path_contains="/subscribeToTone")
    third = await talking(graph, bot, client)
    assert "Could not subscribe to the tones" in caplog.text
    for call in (first, second, third):
        assert bot.call(call.call_id).state is CallState.TALKING
        assert not graph.calls[call.call_id].tones_subscribed


# --- transfer ---


@pytest.mark.parametrize(
    ("to", "identity"),
    [
        (
            USER,
            {
                "@odata.type": "#microsoft.graph.identitySet",
                "user": {"@odata.type": "#microsoft.graph.identity", "id": USER},
            },
        ),
        (
            "+1 202-555-0123",
            {
                "@odata.type": "#microsoft.graph.identitySet",
                "phone": {"@odata.type": "#microsoft.graph.identity", "id": PHONE},
            },
        ),
    ],
)
async def test_transfer_ends_the_call_as_transferred(
    client: GraphClient,
    graph: GraphSimulator,
    bot: Bot,
    to: str,
    identity: dict[str, Any],
) -> None:
    call = await talking(graph, bot, client)
    seen = len(bot.events)
    await perform(client, CallAction.TRANSFER, call, to=to)
    request = graph.requests[-1]
    assert request.path == f"/v1.0{CALL_URL}{call.call_id}/transfer"
    assert request.body == {
        "transferTarget": {
            "@odata.type": "#microsoft.graph.invitationParticipantInfo",
            "identity": identity,
            "endpointType": "default",
        }
    }
    await graph.wait_for_notifications()
    assert [d.changes for d in graph.deliveries[-3:]] == [
        [("updated", "transferring")],
        [("updated", "transferAccepted")],
        [("deleted", "terminated")],
    ]
    transferring, accepted, ended = bot.events[seen:]
    assert (transferring.state, transferring.actions) == (
        CallState.TALKING,
        frozenset({CallAction.HANGUP}),
    )
    assert accepted.state is CallState.TALKING
    assert (ended.state, ended.end_reason) == (CallState.ENDED, EndReason.TRANSFERRED)
    assert ended.raw["result_subcode"] == 7015
    assert bot.book.get(call.call_id) is None


async def test_a_failed_transfer_comes_back_talking(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    graph.fail_transfers = True
    call = await talking(graph, bot, client)
    await perform(client, CallAction.TRANSFER, call, to=USER)
    await graph.wait_for_notifications()
    transferring, back = bot.events[-2:]
    assert transferring.actions == frozenset({CallAction.HANGUP})
    # Established again, with the failure's resultInfo: news, not a repeat.
    assert (back.state, back.actions) == (CallState.TALKING, TALKING)
    assert back.raw["result_code"] == 500
    assert bot.call(call.call_id).actions == TALKING


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        # A consultative transfer's end names itself.
        ({"state": "terminated", "terminationReason": "AppTransferred"}, None),
        ({"state": "terminated"}, "transferAccepted"),
        (
            {"state": "terminated", "resultInfo": {"code": 200, "subcode": 7015}},
            None,
        ),
    ],
)
async def test_other_ends_of_a_transfer(
    client: GraphClient, graph: GraphSimulator, data: dict[str, Any], reason: str | None
) -> None:
    await parse(client, graph, item("updated", {"state": "established"}))
    if reason is not None:
        await parse(client, graph, item("updated", {"state": reason}))
    [ended] = await parse(client, graph, item("deleted", data))
    assert ended.end_reason is EndReason.TRANSFERRED


async def test_an_accepted_transfer_that_fails_is_a_failure(
    client: GraphClient, graph: GraphSimulator
) -> None:
    await parse(client, graph, item("updated", {"state": "transferAccepted"}))
    result = {"code": 500, "subcode": 1005}
    [ended] = await parse(
        client, graph, item("deleted", {"state": "terminated", "resultInfo": result})
    )
    assert ended.end_reason is EndReason.FAILED


@pytest.mark.parametrize(
    ("fault", "error", "match"),
    [
        ((403, None), PermissionDeniedError, r"Calls\.Initiate\.All"),
        ((404, None), CallEndedError, "HTTP 404"),
        ((409, None), ActionNotAllowedError, "HTTP 409"),
        ((429, 2), RateLimitedError, "HTTP 429"),
        ((503, None), ProviderUnavailableError, "HTTP 503"),
    ],
)
async def test_transfer_errors_map_to_the_model(
    client: GraphClient,
    graph: GraphSimulator,
    bot: Bot,
    fault: tuple[int, float | None],
    error: type[ProviderError],
    match: str,
) -> None:
    call = await talking(graph, bot, client)
    graph.fail_next(fault[0], path_contains="/transfer", retry_after=fault[1])
    with pytest.raises(error, match=match):
        await perform(client, CallAction.TRANSFER, call, to=USER)
    assert graph.calls[call.call_id].state == "established"


async def test_transfer_refusals_of_the_simulator(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    ringing = await ring(graph, bot)
    # Not established yet: the wrong state.
    with pytest.raises(ActionNotAllowedError, match=r"not established|is incoming"):
        await perform(client, CallAction.TRANSFER, ringing, to=USER)
    call = await talking(graph, bot, client)
    graph.application_instance_id = None
    # "Transfer to PSTN number is supported only for application instance."
    with pytest.raises(ProviderError, match="HTTP 400") as raised:
        await perform(client, CallAction.TRANSFER, call, to=PHONE)
    assert type(raised.value) is ProviderError
    await graph.remote_hangup(call.call_id)
    await graph.wait_for_notifications()
    with pytest.raises(CallEndedError):
        await perform(client, CallAction.TRANSFER, call, to=USER)


# --- dial ---


async def test_dial_a_teams_user_dialing_then_talking(
    client: GraphClient, graph: GraphSimulator, bot: Bot, session: aiohttp.ClientSession
) -> None:
    graph.pickup_delay = None
    event = await client.async_dial(
        BOT_DEVICE, validate_options(CallAction.DIAL, {"to": USER})
    )
    request = graph.requests[-1]
    assert (request.method, request.path) == ("POST", "/v1.0/communications/calls")
    assert request.body == {
        "@odata.type": "#microsoft.graph.call",
        "callbackUri": WEBHOOK,
        "targets": [
            {
                "@odata.type": "#microsoft.graph.invitationParticipantInfo",
                "identity": {
                    "@odata.type": "#microsoft.graph.identitySet",
                    "user": {"@odata.type": "#microsoft.graph.identity", "id": USER},
                },
            }
        ],
        "requestedModalities": ["audio"],
        "mediaConfig": SERVICE_HOSTED,
        "tenantId": graph.tenant_id,
    }
    assert event.call_id in graph.calls
    assert (event.state, event.direction) == (CallState.DIALING, Direction.OUTGOING)
    assert (event.remote_number, event.device_ids) == (USER, (BOT_DEVICE.device_id,))
    assert event.actions == frozenset({CallAction.HANGUP})
    assert event.started_at is not None
    bot.book.apply(event)
    await graph.wait_for_notifications()
    dialing = bot.call(event.call_id)
    assert dialing.state is CallState.DIALING
    assert dialing.direction is Direction.OUTGOING
    async with session.post(
        f"{graph.url}/_sim/pickup", json={"call_id": event.call_id}
    ) as response:
        assert await response.json() == {"result": "ok"}
    await graph.wait_for_notifications()
    answered = bot.call(event.call_id)
    assert (answered.state, answered.actions) == (CallState.TALKING, TALKING)
    assert answered.remote_number == USER
    # A placed call's tones are asked for too, once established.
    assert posted(graph, f"{event.call_id}/subscribeToTone")
    async with session.post(
        f"{graph.url}/_sim/pickup", json={"call_id": event.call_id}
    ) as response:
        assert response.status == 400  # already answered


async def test_dial_a_number_from_the_application_instance(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    instance = graph.application_instance_id
    options = validate_options(
        CallAction.DIAL,
        {"to": "+1 (202) 555-0123", "application_instance_id": instance},
    )
    event = await client.async_dial(BOT_DEVICE, options)
    body = graph.requests[-1].body
    assert body["source"] == {
        "@odata.type": "#microsoft.graph.participantInfo",
        "identity": {
            "@odata.type": "#microsoft.graph.identitySet",
            "applicationInstance": {
                "@odata.type": "#microsoft.graph.identity",
                "id": instance,
            },
        },
    }
    assert body["targets"][0]["identity"]["phone"]["id"] == PHONE
    assert event.remote_number == PHONE
    bot.book.apply(event)
    # The far end answers after pickup_delay on the simulator's clock.
    assert graph.pickup_delay is not None
    await graph.advance(graph.pickup_delay)
    await graph.wait_for_notifications()
    call = bot.call(event.call_id)
    assert call.state is CallState.TALKING
    await graph.remote_hangup(event.call_id)
    await graph.wait_for_notifications()
    ended = bot.events[-1]
    assert (ended.state, ended.end_reason) == (CallState.ENDED, EndReason.COMPLETED)


async def test_a_placed_call_nobody_answers(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    graph.pickup_delay = None
    event = await client.async_dial(BOT_DEVICE, {"to": USER})
    bot.book.apply(event)
    await graph.wait_for_notifications()
    await graph.remote_hangup(
        event.call_id, code=480, subcode=10076, message="Callee could not be reached."
    )
    await graph.wait_for_notifications()
    ended = bot.events[-1]
    assert (ended.state, ended.end_reason) == (CallState.ENDED, EndReason.MISSED)
    assert ended.remote_name is None  # the bot is the source, not the far end


async def test_a_tenant_given_by_name_is_left_to_the_token(
    session: aiohttp.ClientSession, graph: GraphSimulator, bot: Bot
) -> None:
    del bot
    graph.tenant_id = "contoso.onmicrosoft.com"  # as a user may enter it
    client = make_client(session, graph)
    client.use_webhook_url(WEBHOOK)
    await client.async_dial(BOT_DEVICE, {"to": USER})
    assert "tenantId" not in graph.requests[-1].body


@pytest.mark.parametrize(
    ("fault", "error", "match"),
    [
        ((403, None), PermissionDeniedError, "application instance"),
        ((429, None), RateLimitedError, "HTTP 429"),
        ((503, None), ProviderUnavailableError, "HTTP 503"),
        ((201, '{"state": "establishing"}'), ProviderUnavailableError, "call id"),
        ((201, "not json"), ProviderUnavailableError, "invalid JSON"),
    ],
)
async def test_dial_errors_map_to_the_model(
    client: GraphClient,
    graph: GraphSimulator,
    bot: Bot,
    fault: tuple[int, str | None],
    error: type[ProviderError],
    match: str,
) -> None:
    del bot
    graph.fail_next(fault[0], path_contains="/communications/calls", body=fault[1])
    with pytest.raises(error, match=match):
        await client.async_dial(BOT_DEVICE, {"to": USER})
    assert not graph.calls


async def test_dial_refusals(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    del bot
    # An application instance that is not the bot's.
    other = {
        "to": PHONE,
        "application_instance_id": "00000000-0000-0000-0000-000000000001",
    }
    with pytest.raises(ProviderError, match="HTTP 400"):
        await client.async_dial(BOT_DEVICE, other)
    client.use_webhook_url("http://ha.example/api/webhook/plain")
    with pytest.raises(ProviderError, match="https URL"):
        await client.async_dial(BOT_DEVICE, {"to": USER})
    assert not graph.calls


async def test_an_unknown_first_state_is_dialing(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    del bot
    graph.fail_next(
        201, path_contains="/communications/calls", body='{"id": "c9", "state": "odd"}'
    )
    event = await client.async_dial(BOT_DEVICE, {"to": USER})
    assert (event.call_id, event.state) == ("c9", CallState.DIALING)


# --- play ---


async def test_play_a_prompt(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await talking(graph, bot, client)
    seen = len(bot.events)
    await perform(client, CallAction.PLAY, call, url=PROMPT)
    request = graph.requests[-1]
    assert request.path == f"/v1.0{CALL_URL}{call.call_id}/playPrompt"
    assert request.body == {
        "prompts": [
            {
                "@odata.type": "#microsoft.graph.mediaPrompt",
                "mediaInfo": {
                    "@odata.type": "#microsoft.graph.mediaInfo",
                    "uri": PROMPT,
                },
            }
        ]
    }
    await graph.wait_for_notifications()
    completion = graph.deliveries[-1]
    assert completion.status == 202
    assert completion.body["value"][0]["resourceData"]["status"] == "completed"
    # The prompt's completion carries no news of the call.
    assert len(bot.events) == seen
    assert bot.call(call.call_id).state is CallState.TALKING


async def test_play_refusals(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    ringing = await ring(graph, bot)
    with pytest.raises(ActionNotAllowedError, match="HTTP 409"):
        await perform(client, CallAction.PLAY, ringing, url=PROMPT)
    call = await talking(graph, bot, client)
    # Graph answering at once that the operation failed: nothing will follow.
    failed = (
        '{"@odata.type": "#microsoft.graph.playPromptOperation", "status": "failed",'
        ' "resultInfo": {"code": 400, "subcode": 8508, "message": "Bad media."}}'
    )
    graph.fail_next(200, path_contains="/playPrompt", body=failed)
    with pytest.raises(
        ProviderError, match=r"could not play the prompt: Bad media\. \(code 400/8508\)"
    ):
        await perform(client, CallAction.PLAY, call, url=PROMPT)
    graph.fail_next(200, path_contains="/playPrompt", body='{"status": "failed"}')
    with pytest.raises(ProviderError, match=r"the operation failed$"):
        await perform(client, CallAction.PLAY, call, url=PROMPT)
    graph.fail_next(403, path_contains="/playPrompt")
    with pytest.raises(PermissionDeniedError, match="playing a prompt"):
        await perform(client, CallAction.PLAY, call, url=PROMPT)


async def test_a_failed_operation_is_only_logged(
    client: GraphClient, graph: GraphSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    data = {
        "@odata.type": "#microsoft.graph.playPromptOperation",
        "status": "failed",
        "resultInfo": {"code": 404, "subcode": 8521, "message": "Prompt not found."},
    }
    assert (
        await parse(client, graph, item("deleted", data, f"{CALL_URL}c1/operations/o1"))
        == []
    )
    assert "Prompt not found." in caplog.text
    junk = {"status": "failed", "resultInfo": "junk"}
    assert (
        await parse(client, graph, item("deleted", junk, f"{CALL_URL}c1/operations/o2"))
        == []
    )
    assert "operations/o2 of call c1 failed: None" in caplog.text


# --- send digits ---


async def test_send_digits(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await talking(graph, bot, client)
    seen = len(bot.events)
    await perform(client, CallAction.SEND_DIGITS, call, digits="12*#A", delay_ms=250)
    request = graph.requests[-1]
    assert request.path == f"/v1.0{CALL_URL}{call.call_id}/sendDtmfTones"
    assert request.body == {
        "tones": ["tone1", "tone2", "star", "pound", "a"],
        "delayBetweenTonesMs": 250,
    }
    await perform(client, CallAction.SEND_DIGITS, call, digits="0")
    assert graph.requests[-1].body == {"tones": ["tone0"]}
    assert graph.calls[call.call_id].sent_tones == [
        ["tone1", "tone2", "star", "pound", "a"],
        ["tone0"],
    ]
    await graph.wait_for_notifications()
    reasons = [
        d.body["value"][0]["resourceData"].get("completionReason")
        for d in graph.deliveries[-2:]
    ]
    assert reasons == ["completedSuccessfully", "completedSuccessfully"]
    assert len(bot.events) == seen


async def test_send_digits_refusals(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    ringing = await ring(graph, bot)
    with pytest.raises(ActionNotAllowedError):
        await perform(client, CallAction.SEND_DIGITS, ringing, digits="1")
    call = await talking(graph, bot, client)
    graph.fail_next(
        200,
        path_contains="/sendDtmfTones",
        body='{"status": "Failed", "resultInfo": 1}',
    )
    with pytest.raises(ProviderError, match="could not send the tones"):
        await perform(client, CallAction.SEND_DIGITS, call, digits="1")


# --- options ---


@pytest.mark.parametrize(
    ("action", "options", "field", "reason"),
    [
        (CallAction.TRANSFER, {}, ARG_TO, "is required"),
        (CallAction.TRANSFER, {ARG_VOICEMAIL: True}, ARG_TO, "is required"),
        (
            CallAction.TRANSFER,
            {ARG_TO: USER, ARG_VOICEMAIL: True},
            ARG_VOICEMAIL,
            "is not a Graph option for this action",
        ),
        (CallAction.TRANSFER, {ARG_TO: "ada@contoso.com"}, ARG_TO, "must be a Teams"),
        (CallAction.TRANSFER, {ARG_TO: "2025550123"}, ARG_TO, "E.164"),
        (CallAction.TRANSFER, {ARG_TO: "+1 202"}, ARG_TO, "E.164"),
        (CallAction.TRANSFER, {ARG_TO: 12025550123}, ARG_TO, "E.164"),
        (CallAction.TRANSFER, {ARG_TO: "x" * 36}, ARG_TO, "GUID"),
        (CallAction.DIAL, {}, ARG_TO, "is required"),
        (CallAction.DIAL, {ARG_TO: PHONE}, "application_instance_id", "phone number"),
        (
            CallAction.DIAL,
            {ARG_TO: USER, "application_instance_id": "bot"},
            "application_instance_id",
            "GUID",
        ),
        (CallAction.PLAY, {}, ARG_URL, "is required"),
        (CallAction.PLAY, {ARG_URL: "ftp://cdn.example/a.wav"}, ARG_URL, "http"),
        (CallAction.PLAY, {ARG_URL: PROMPT, "loop": 2}, "loop", "not a Graph option"),
        (CallAction.SEND_DIGITS, {}, ARG_DIGITS, "is required"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "12x"}, ARG_DIGITS, "0123456789*#ABCD"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: ""}, ARG_DIGITS, "1 to 64"),
        (CallAction.SEND_DIGITS, {ARG_DIGITS: "1" * 65}, ARG_DIGITS, "1 to 64"),
        (
            CallAction.SEND_DIGITS,
            {ARG_DIGITS: "1", "delay_ms": -1},
            "delay_ms",
            "between",
        ),
        (CallAction.SPEAK, {"message": "Hello"}, "message", "not a Graph option"),
        (CallAction.HOLD, {"music": PROMPT}, "music", "not a Graph option"),
    ],
)
def test_invalid_options_are_refused(
    action: CallAction, options: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidOptionError) as raised:
        validate_options(action, options)
    assert raised.value.option == field
    assert reason in raised.value.reason


def test_valid_options_are_normalized() -> None:
    assert validate_options(CallAction.TRANSFER, {ARG_TO: USER.upper()}) == {
        ARG_TO: USER.upper()  # ids are case-sensitive: kept as given
    }
    assert validate_options(CallAction.TRANSFER, {ARG_TO: "+1 202-555-0123"}) == {
        ARG_TO: PHONE
    }
    instance = "3d913abb-aec0-4964-8fa6-3c6850c4f278"
    assert validate_options(
        CallAction.DIAL, {ARG_TO: PHONE, "application_instance_id": instance}
    ) == {ARG_TO: PHONE, "application_instance_id": instance}
    assert validate_options(CallAction.SEND_DIGITS, {ARG_DIGITS: "0123456789*#ABCD"})
    assert validate_options(CallAction.PLAY, {ARG_URL: "http://ha.local/a.wav"})
    assert validate_options(CallAction.HOLD, {}) == {}


# --- hostile tones ---


@pytest.mark.parametrize(
    "tone",
    [
        {"tone": "flash", "sequenceId": 1},
        {"tone": 5, "sequenceId": 1},
        {"tone": "tone10", "sequenceId": 1},
        {"tone": "tone1"},
        {"tone": "tone1", "sequenceId": "one"},
        {"tone": "tone1", "sequenceId": True},
        {"tone": "tone1", "sequenceId": 1e400},
        {"tone": "\ud800", "sequenceId": 1},
        "tone1",
        ["tone1"],
        {},
    ],
)
async def test_unreadable_tones_are_skipped(
    client: GraphClient,
    graph: GraphSimulator,
    caplog: pytest.LogCaptureFixture,
    tone: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    [event] = await parse(
        client, graph, item("updated", {"state": "established", "toneInfo": tone})
    )
    # What is left is the call's state, as without a tone.
    assert event.digits is None
    assert event.state is CallState.TALKING
    assert "Skipped a tone" in caplog.text
    assert await parse(client, graph, item("updated", {"toneInfo": tone})) == []


async def test_a_tone_without_the_call_state_keeps_the_state_it_had(
    client: GraphClient, graph: GraphSimulator
) -> None:
    await parse(client, graph, item("updated", {"state": "hold"}))
    [key] = await parse(
        client,
        graph,
        item("updated", {"toneInfo": {"tone": "POUND", "sequenceId": "7"}}),
    )
    assert (key.digits, key.state, key.event_id) == (
        "#",
        CallState.ON_HOLD,
        "c1:tone:7",
    )
    [first] = await parse(
        client,
        graph,
        item("updated", {"toneInfo": {"tone": "d", "sequenceId": 1}}, CALL_URL + "new"),
    )
    assert (first.digits, first.state) == ("D", CallState.TALKING)


TONE = notification_item(
    "updated",
    call_data("established", toneInfo={"tone": "tone1", "sequenceId": 1}),
)


async def test_any_value_in_any_field_of_a_tone(
    keyed_client: GraphClient, graph: GraphSimulator
) -> None:
    values = json_values("tone1", "star", "pound", "flash", "sequenceId", "tone")
    documents = mutated(notification_envelope(TONE), values)
    headers = bearer(graph)
    seen: list[list[CallEvent] | Exception] = []

    @examples(500)
    @given(documents)
    def check(document: Any) -> None:
        result = outcome(lambda: parse_now(keyed_client, headers, encode(document)))
        seen.append(result)
        for event in result if isinstance(result, list) else []:
            assert event.digits is None or (
                len(event.digits) == 1 and event.digits in "0123456789*#ABCD"
            )

    check()
    keys = [e for r in seen if isinstance(r, list) for e in r if e.digits]
    assert keys  # some stayed a key pressed
    assert any(isinstance(r, list) and r and not r[0].digits for r in seen)


@given(st.text(max_size=3))
def test_options_never_crash_on_digits(digits: str) -> None:
    options = {ARG_DIGITS: digits}
    if digits and all(key in "0123456789*#ABCD" for key in digits):
        assert validate_options(CallAction.SEND_DIGITS, options) == options
    else:
        with pytest.raises(InvalidOptionError, match=r"^digits: must be"):
            validate_options(CallAction.SEND_DIGITS, options)


# --- the simulator's refusals of odd command bodies ---


async def token(session: aiohttp.ClientSession, graph: GraphSimulator) -> str:
    form = {
        "client_id": graph.client_id,
        "client_secret": graph.client_secret,
        "scope": graph.scope,
        "grant_type": "client_credentials",
    }
    async with session.post(
        f"{graph.url}/{graph.tenant_id}/oauth2/v2.0/token", data=form
    ) as response:
        return str((await response.json())["access_token"])


GOOD_TARGET = {"identity": {"user": {"id": USER}}}


@pytest.mark.parametrize(
    ("action", "body", "status", "message"),
    [
        ("transfer", {}, 400, "transferTarget"),
        ("transfer", {"transferTarget": {"identity": {"user": {}}}}, 400, "user"),
        ("sendDtmfTones", {"tones": []}, 400, "tones"),
        ("sendDtmfTones", {"tones": ["tone1", "flash"]}, 400, "tones"),
        ("microsoft.graph.sendDtmfTones", {"tones": [{"tone": "star"}]}, 200, None),
        (
            "sendDtmfTones",
            {"tones": ["tone1"], "delayBetweenTonesMs": "1"},
            400,
            "delay",
        ),
        (
            "sendDtmfTones",
            {"tones": ["tone1"], "delayBetweenTonesMs": True},
            400,
            "delay",
        ),
        ("playPrompt", {"prompts": [{"mediaInfo": {}}]}, 400, "uri"),
        ("playPrompt", {"prompts": ["junk"]}, 400, "uri"),
        ("playPrompt", {"prompts": []}, 400, "1 to 20"),
        ("unknownAction", {}, 400, "Unsupported"),
    ],
)
async def test_simulator_refuses_odd_call_commands(
    client: GraphClient,
    graph: GraphSimulator,
    bot: Bot,
    session: aiohttp.ClientSession,
    action: str,
    body: dict[str, Any],
    status: int,
    message: str | None,
) -> None:
    call = await talking(graph, bot, client)
    headers = {"Authorization": f"Bearer {await token(session, graph)}"}
    async with session.post(
        f"{graph.url}/v1.0{CALL_URL}{call.call_id}/{action}", json=body, headers=headers
    ) as response:
        assert response.status == status
        if message is not None:
            assert message in (await response.json())["error"]["message"]
    async with session.post(
        f"{graph.url}/v1.0{CALL_URL}{call.call_id}/transfer",
        data=b"{not json",
        headers=headers,
    ) as response:
        assert response.status == 400


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"callbackUri": "http://bot.example/cb"}, 400, "callbackUri"),
        ({"targets": []}, 400, "targets"),
        ({"targets": [{"identity": {"guest": {"id": "g"}}}]}, 400, "identity"),
        ({"requestedModalities": ["smell"]}, 400, "requestedModalities"),
        ({"mediaConfig": {}}, 400, "mediaConfig"),
        (
            {"mediaConfig": {"@odata.type": "#microsoft.graph.appHostedMediaConfig"}},
            403,
            "Calls.AccessMedia.All",
        ),
        ({"tenantId": "00000000-0000-0000-0000-000000000000"}, 400, "tenant"),
        ({"source": "junk"}, 400, "application instance"),
        ({"targets": [{"identity": {"phone": {"id": PHONE}}}]}, 400, "phone number"),
    ],
)
async def test_simulator_refuses_odd_new_calls(
    graph: GraphSimulator,
    bot: Bot,
    session: aiohttp.ClientSession,
    change: dict[str, Any],
    status: int,
    message: str,
) -> None:
    del bot
    body = {
        "callbackUri": WEBHOOK,
        "targets": [GOOD_TARGET],
        "requestedModalities": ["audio"],
        "mediaConfig": SERVICE_HOSTED,
        **change,
    }
    headers = {"Authorization": f"Bearer {await token(session, graph)}"}
    async with session.post(
        f"{graph.url}/v1.0/communications/calls", json=body, headers=headers
    ) as response:
        assert response.status == status
        assert message in (await response.json())["error"]["message"]
    assert not graph.calls


async def test_simulator_tones_need_service_hosted_media(
    client: GraphClient, graph: GraphSimulator, bot: Bot, session: aiohttp.ClientSession
) -> None:
    graph.permissions.add("Calls.AccessMedia.All")
    media = {"@odata.type": "#microsoft.graph.appHostedMediaConfig", "blob": "b"}
    call = await talking(graph, bot, client, media_config=media)
    headers = {"Authorization": f"Bearer {await token(session, graph)}"}
    for action in ("subscribeToTone", "playPrompt"):
        async with session.post(
            f"{graph.url}/v1.0{CALL_URL}{call.call_id}/{action}",
            json={"prompts": [{"mediaInfo": {"uri": PROMPT}}]},
            headers=headers,
        ) as response:
            assert response.status == 400
            assert "service-hosted" in (await response.json())["error"]["message"]
    with pytest.raises(ValueError, match="not a call the bot is placing"):
        await graph.pickup(call.call_id)
    graph.calls[call.call_id].tones_subscribed = True
    with pytest.raises(ValueError, match="digits"):
        await graph.press(call.call_id, "x")
