"""The Microsoft Graph client against the simulator, over loopback HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Generator
import json
import time
from typing import Any
from unittest.mock import patch

import aiohttp
from aiohttp import web
import pytest

from custom_components.switchboard.calls import CallBook
from custom_components.switchboard.providers.base import WebhookProvider
from custom_components.switchboard.providers.graph import (
    CLOUDS,
    GraphClient,
    auth as graph_auth,
    client as graph_client,
    notifications as graph_notifications,
    validate_options,
)
from custom_components.switchboard.providers.graph.auth import (
    KEY_REFRESH_INTERVAL,
    OPENID_CACHE,
)
from custom_components.switchboard.providers.graph.errors import PERMISSIONS
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
    PermissionDeniedError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    ResendRequestedError,
)
from tests.simulators.graph import GraphSimulator

WEBHOOK = "https://ha.example/api/webhook/graph-entry"
CALL_URL = "/communications/calls/"


class FakeClock:
    """A clock the test moves; starts at the wall clock."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Bot:
    """The bot's webhook: verifies and applies deliveries like Home Assistant's."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self.book = CallBook()
        self.events: list[CallEvent] = []
        self.refused: list[str] = []
        self.redirect_next = False

    async def handle(self, request: web.Request) -> web.Response:
        if self.redirect_next:
            self.redirect_next = False
            raise web.HTTPFound("/api/webhook/moved")
        body = await request.read()
        try:
            events = await self.client.async_parse_webhook(
                request.headers, body, time.time()
            )
        except InvalidSignatureError as err:
            self.refused.append(str(err))
            return web.Response(status=401)
        except ResendRequestedError:
            return web.Response(status=204)
        except InvalidPayloadError as err:
            self.refused.append(str(err))
            return web.Response(status=400)
        self.events.extend(events)
        self.book.apply_all(events)
        return web.Response(status=202)

    def call(self, call_id: str) -> Call:
        call = self.book.get(call_id)
        assert call is not None
        return call


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(
    session: aiohttp.ClientSession, graph: GraphSimulator, **kwargs: Any
) -> GraphClient:
    options: dict[str, Any] = {
        "tenant_id": graph.tenant_id,
        "client_id": graph.client_id,
        "client_secret": graph.client_secret,
        "graph_url": graph.url,
        "login_url": graph.url,
        "openid_configuration_url": graph.openid_configuration_url,
        **kwargs,
    }
    return GraphClient(session, **options)


@pytest.fixture
def client(
    session: aiohttp.ClientSession, graph: GraphSimulator, clock: FakeClock
) -> GraphClient:
    client = make_client(session, graph, clock=clock)
    client.use_webhook_url(WEBHOOK)
    return client


@pytest.fixture
async def bot(client: GraphClient, graph: GraphSimulator) -> AsyncGenerator[Bot]:
    receiver = Bot(client)
    app = web.Application()
    app.router.add_post("/api/webhook/{webhook_id}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    graph.bot_webhook_url = WEBHOOK
    graph.deliver_via = {"https://ha.example": f"http://127.0.0.1:{port}"}
    yield receiver
    await graph.close()
    await runner.cleanup()


@pytest.fixture
def short_timeout() -> Generator[None]:
    # Read by the Graph requests and by the token and key requests.
    with (
        patch.object(graph_client, "REQUEST_TIMEOUT", 0.2),
        patch.object(graph_auth, "REQUEST_TIMEOUT", 0.2),
    ):
        yield


BOT_DEVICE = Device("bot", "Teams calling bot", "Calling bot")


async def ring(graph: GraphSimulator, bot: Bot, **kwargs: Any) -> Call:
    call_id = await graph.ring(**kwargs)
    await graph.wait_for_notifications()
    return bot.call(call_id)


def envelope(*items: Any, kind: str = "#microsoft.graph.commsNotifications") -> bytes:
    return json.dumps({"@odata.type": kind, "value": list(items)}).encode()


def item(
    change: str, data: Any, resource: str | None = "/communications/calls/c1"
) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change,
        "resourceData": data,
    }
    if resource is not None:
        notification["resourceUrl"] = resource
    return notification


def signed(graph: GraphSimulator, **token: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {graph.notification_token(**token)}"}


async def parse(
    client: GraphClient, graph: GraphSimulator, *items: Any
) -> list[CallEvent]:
    return await client.async_parse_webhook(
        signed(graph), envelope(*items), time.time()
    )


# --- token, account, devices ---


async def test_account_devices_and_protocols(
    client: GraphClient, graph: GraphSimulator
) -> None:
    account = await client.async_get_account()
    assert (account.account_id, account.name) == (graph.client_id, "Teams calling bot")
    [device] = await client.async_get_devices()
    assert (device.device_id, device.model) == (graph.client_id, "Calling bot")
    assert isinstance(client, WebhookProvider)
    assert client.webhook_requires_https
    [token] = [r for r in graph.requests if r.path.endswith("/token")]
    assert token.path == f"/{graph.tenant_id}/oauth2/v2.0/token"
    assert token.body == {
        "client_id": graph.client_id,
        # Graph's own scope, though requests go to the simulator's URL.
        "scope": CLOUDS["global"].scope,
        "client_secret": graph.client_secret,
        "grant_type": "client_credentials",
    }


async def test_token_is_cached_and_renewed_before_expiry(
    client: GraphClient, graph: GraphSimulator, clock: FakeClock
) -> None:
    graph.token_ttl = 3599
    await client.async_get_account()
    await client.async_get_account()
    assert sum(r.path.endswith("/token") for r in graph.requests) == 1
    clock.now += 3599 - 300 + 1  # inside the renewal margin
    await client.async_get_account()
    assert sum(r.path.endswith("/token") for r in graph.requests) == 2


@pytest.mark.parametrize(
    ("override", "aadsts"),
    [
        ({"client_secret": "wrong"}, "AADSTS7000215"),
        ({"tenant_id": "other.onmicrosoft.com"}, "AADSTS90002"),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, "AADSTS700016"),
    ],
)
async def test_wrong_credentials_are_an_authentication_error(
    session: aiohttp.ClientSession,
    graph: GraphSimulator,
    override: dict[str, str],
    aadsts: str,
) -> None:
    client = make_client(session, graph, **override)
    with pytest.raises(AuthenticationError) as raised:
        await client.async_get_account()
    assert aadsts in str(raised.value)
    assert "trace id" in str(raised.value)
    assert graph.client_secret not in str(raised.value)
    assert "wrong" not in str(raised.value)


@pytest.mark.parametrize(
    ("cloud", "scope"),
    [
        ("global", "https://graph.microsoft.com/.default"),
        ("usgov", "https://graph.microsoft.us/.default"),
        ("dod", "https://dod-graph.microsoft.us/.default"),
    ],
)
async def test_each_cloud_asks_for_its_own_graph(
    session: aiohttp.ClientSession, graph: GraphSimulator, cloud: str, scope: str
) -> None:
    graph.scopes = {"https://graph.simulator.invalid/.default"}  # a cloud of its own
    client = GraphClient(
        session,
        tenant_id=graph.tenant_id,
        client_id=graph.client_id,
        client_secret=graph.client_secret,
        cloud=cloud,
        login_url=graph.url,
    )
    with pytest.raises(AuthenticationError, match="invalid_scope"):
        await client.async_get_account()
    assert graph.requests[-1].body["scope"] == scope == CLOUDS[cloud].scope


async def test_unknown_cloud(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ProviderError, match="cloud"):
        GraphClient(
            session, tenant_id="t", client_id="c", client_secret="s", cloud="china"
        )


@pytest.mark.parametrize(
    ("status", "body", "retry_after", "error"),
    [
        (429, None, 1.5, RateLimitedError),
        (503, None, 2.25, ProviderUnavailableError),
        (500, "<html>oops</html>", None, ProviderUnavailableError),
        (404, None, None, ProviderError),
        (200, "not json", None, ProviderUnavailableError),
        (
            200,
            '{"access_token": "", "expires_in": 3599}',
            None,
            ProviderUnavailableError,
        ),
        (200, '{"expires_in": 3599}', None, ProviderUnavailableError),
    ],
)
async def test_token_endpoint_faults(
    client: GraphClient,
    graph: GraphSimulator,
    status: int,
    body: str | None,
    retry_after: float | None,
    error: type[ProviderError],
) -> None:
    graph.fail_next(
        status, path_contains="/oauth2/", retry_after=retry_after, body=body
    )
    with pytest.raises(error) as raised:
        await client.async_get_account()
    assert type(raised.value) is error
    if retry_after is not None:
        assert getattr(raised.value, "retry_after", None) == pytest.approx(retry_after)
    await client.async_get_account()  # the next try gets a token


async def test_unreachable_endpoints(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    client = GraphClient(
        session,
        tenant_id="t",
        client_id="c",
        client_secret="s",
        graph_url="http://127.0.0.1:9",
        login_url="http://127.0.0.1:9",
        openid_configuration_url="http://127.0.0.1:9/config",
    )
    with pytest.raises(ProviderUnavailableError, match="Entra ID"):
        await client.async_get_account()
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"k1"}').decode()
    token = f"{header.rstrip('=')}.e30.c2ln"  # an RS256 token naming key k1
    with pytest.raises(ProviderUnavailableError, match="OpenID"):
        await client.async_parse_webhook(
            {"Authorization": f"Bearer {token}"}, b"{}", time.time()
        )


# --- a call end to end ---


async def test_incoming_call_is_answered_and_hung_up(
    client: GraphClient, graph: GraphSimulator, bot: Bot, clock: FakeClock
) -> None:
    call = await ring(graph, bot, caller_name="Ada Lovelace", caller_id="ada-id")
    assert call.state is CallState.RINGING
    assert call.direction is Direction.INCOMING
    assert call.remote_name == "Ada Lovelace"
    assert call.remote_number is None  # a Teams user has no number
    assert call.actions == frozenset({CallAction.ANSWER, CallAction.REJECT})
    assert call.device_ids == (graph.client_id,)
    assert call.started_at is not None
    clock.now = call.started_at.timestamp() + 1
    options = client.validate_options(CallAction.ANSWER, {})
    await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, options)
    answer = graph.requests[-1]
    assert answer.path == f"/v1.0{CALL_URL}{call.call_id}/answer"
    assert answer.headers["Authorization"].startswith("Bearer ")
    assert answer.body == {
        "callbackUri": WEBHOOK,
        "acceptedModalities": ["audio"],
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
    }
    await graph.wait_for_notifications()
    assert [e.state for e in bot.events] == [
        CallState.RINGING,
        CallState.RINGING,
        CallState.TALKING,
    ]
    assert bot.events[1].actions == frozenset({CallAction.HANGUP})
    talking = bot.call(call.call_id)
    assert talking.state is CallState.TALKING
    assert talking.answered_at is not None
    refreshed = await client.async_refresh_call(talking)
    assert refreshed is not None
    assert refreshed.state is CallState.TALKING
    assert await client.async_keep_alive(talking) is None
    assert graph.requests[-1].path.endswith(f"/{call.call_id}/keepAlive")
    await client.async_perform(CallAction.HANGUP, talking, BOT_DEVICE, {})
    assert graph.requests[-1].method == "DELETE"
    await graph.wait_for_notifications()
    assert bot.book.get(call.call_id) is None
    assert bot.events[-2].state is CallState.ENDED  # terminating
    assert bot.events[-2].end_reason is EndReason.COMPLETED
    gone = await client.async_refresh_call(talking)
    assert gone is not None
    assert gone.state is CallState.ENDED
    with pytest.raises(CallEndedError, match="HTTP 404"):
        await client.async_perform(CallAction.HANGUP, talking, BOT_DEVICE, {})
    ended = await client.async_keep_alive(talking)
    assert ended is not None
    assert ended.state is CallState.ENDED


async def test_established_before_establishing_never_regresses(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    graph.hold_notifications()
    await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, {})
    await graph.release_notifications(reverse=True)
    established, establishing = bot.events[-2:]
    assert established.state is CallState.TALKING
    assert establishing.raw == {"change": "updated", "state": "establishing"}
    assert establishing.order < established.order
    assert bot.call(call.call_id).state is CallState.TALKING
    # A late incoming (a redelivery) cannot bring the ringing back either.
    late = await parse(
        client,
        graph,
        item("created", {"state": "incoming"}, f"{CALL_URL}{call.call_id}"),
    )
    assert late[0].order < established.order


async def test_several_notifications_in_one_post(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    graph.batch_notifications = True
    call = await ring(graph, bot)
    await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, {})
    await graph.wait_for_notifications()
    assert graph.deliveries[-1].changes == [
        ("updated", "establishing"),
        ("updated", "established"),
    ]
    assert [e.state for e in bot.events[1:]] == [CallState.RINGING, CallState.TALKING]
    assert bot.call(call.call_id).state is CallState.TALKING


async def test_duplicate_notifications_are_one_event(
    graph: GraphSimulator, bot: Bot
) -> None:
    graph.duplicate_notifications = True
    call = await ring(graph, bot)
    assert len(graph.deliveries) == 2
    assert bot.events[0].event_id == bot.events[1].event_id
    assert len(bot.book.live_calls()) == 1
    assert call.state is CallState.RINGING


async def test_unanswered_call_is_missed_after_the_window(
    graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    await graph.advance(graph.answer_window + 1)
    await graph.wait_for_notifications()
    ended = bot.events[-1]
    assert ended.state is CallState.ENDED
    assert ended.end_reason is EndReason.MISSED
    assert bot.book.get(call.call_id) is None


async def test_answer_after_the_window_fails_before_any_request(
    client: GraphClient, graph: GraphSimulator, bot: Bot, clock: FakeClock
) -> None:
    call = await ring(graph, bot)
    assert call.started_at is not None
    requests = len(graph.requests)
    with patch.object(graph_client, "ANSWER_WINDOW", 5.0):
        clock.now = call.started_at.timestamp() + 5.5
        with pytest.raises(ActionNotAllowedError, match="5-second answer window"):
            await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, {})
    assert len(graph.requests) == requests


async def test_answer_when_the_simulated_window_passed(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    await graph.advance(graph.answer_window + 1)
    with pytest.raises(CallEndedError, match="itemNotFound"):
        await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, {})


@pytest.mark.parametrize("url", [None, "http://ha.local:8123/api/webhook/x"])
async def test_answer_needs_an_https_callback(
    client: GraphClient, graph: GraphSimulator, bot: Bot, url: str | None
) -> None:
    call = await ring(graph, bot)
    client.use_webhook_url(url)
    requests = len(graph.requests)
    with pytest.raises(ProviderError, match="https") as raised:
        await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, {})
    assert "webhook/x" not in str(raised.value)
    assert len(graph.requests) == requests


async def test_answer_with_other_modalities_and_app_hosted_media(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    options = validate_options(
        CallAction.ANSWER,
        {
            "accepted_modalities": ["audio", "video"],
            "media_config": {
                "@odata.type": "microsoft.graph.appHostedMediaConfig",
                "blob": "<media config blob>",
            },
        },
    )
    with pytest.raises(PermissionDeniedError, match=r"Calls\.AccessMedia\.All"):
        await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, options)
    graph.permissions.add("Calls.AccessMedia.All")
    await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, options)
    assert graph.requests[-1].body["acceptedModalities"] == ["audio", "video"]
    assert graph.calls[call.call_id].media_config == {
        "@odata.type": "#microsoft.graph.appHostedMediaConfig",
        "blob": "<media config blob>",
    }
    with pytest.raises(ActionNotAllowedError, match="HTTP 409"):
        await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, options)


async def test_reject_is_a_rejected_call(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    options = client.validate_options(CallAction.REJECT, {"reason": "Busy"})
    await client.async_perform(CallAction.REJECT, call, BOT_DEVICE, options)
    assert graph.requests[-1].body == {"reason": "busy", "callbackUri": WEBHOOK}
    assert graph.calls[call.call_id].reject_reason == "busy"
    await graph.wait_for_notifications()
    ended = bot.events[-1]
    assert (ended.state, ended.end_reason) == (CallState.ENDED, EndReason.REJECTED)
    assert ended.raw == {"change": "deleted"}


async def test_failed_reject_is_not_a_rejection(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    graph.fail_next(503, path_contains="/reject")
    with pytest.raises(ProviderUnavailableError):
        await client.async_perform(CallAction.REJECT, call, BOT_DEVICE, {})
    await graph.remote_hangup(call.call_id)
    await graph.wait_for_notifications()
    assert bot.events[-1].end_reason is EndReason.MISSED


async def test_reject_without_https_callback_names_none(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    client.use_webhook_url(None)
    await client.async_perform(
        CallAction.REJECT, call, BOT_DEVICE, {"reason": "forbidden"}
    )
    assert graph.requests[-1].body == {"reason": "forbidden"}


async def test_caller_giving_up_is_missed_and_hanging_up_completed(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    first = await ring(graph, bot)
    await graph.remote_hangup(first.call_id)
    await graph.wait_for_notifications()
    missed = bot.events[-1]
    assert (missed.call_id, missed.end_reason) == (first.call_id, EndReason.MISSED)
    second = await ring(graph, bot)
    await client.async_perform(CallAction.ANSWER, second, BOT_DEVICE, {})
    await graph.wait_for_notifications()
    await graph.remote_hold(second.call_id)
    await graph.wait_for_notifications()
    assert bot.call(second.call_id).state is CallState.ON_HOLD
    await graph.remote_resume(second.call_id)
    await graph.wait_for_notifications()
    assert bot.call(second.call_id).state is CallState.TALKING
    await graph.remote_hangup(second.call_id)
    await graph.wait_for_notifications()
    ended = bot.events[-1]
    assert (ended.state, ended.end_reason) == (CallState.ENDED, EndReason.COMPLETED)


async def test_phone_caller(graph: GraphSimulator, bot: Bot) -> None:
    call = await ring(graph, bot, caller_name=None, phone="+15557654321")
    assert call.remote_number == "+15557654321"
    assert call.remote_name is None


async def test_legacy_first_delivery_is_asked_again(
    graph: GraphSimulator, bot: Bot
) -> None:
    graph.legacy_first = True
    call = await ring(graph, bot)
    assert [(d.legacy, d.status) for d in graph.deliveries] == [
        (True, 204),
        (False, 202),
    ]
    assert call.state is CallState.RINGING


async def test_bot_redirect_is_followed(graph: GraphSimulator, bot: Bot) -> None:
    bot.redirect_next = True
    call = await ring(graph, bot)
    assert [d.status for d in graph.deliveries] == [302, 202]
    assert graph.deliveries[1].url.endswith("/api/webhook/moved")
    assert call.state is CallState.RINGING


async def test_operations_and_tones_carry_no_call_news(
    client: GraphClient, graph: GraphSimulator, bot: Bot, session: aiohttp.ClientSession
) -> None:
    call = await ring(graph, bot)
    await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, {})
    await graph.wait_for_notifications()
    token = graph.requests[-1].headers["Authorization"]
    base = f"{graph.url}/v1.0{CALL_URL}{call.call_id}"
    prompt = {"prompts": [{"mediaInfo": {"uri": "https://cdn.example/beep.wav"}}]}
    async with session.post(
        f"{base}/keepAlive", headers={"Authorization": token}
    ) as response:
        assert response.status == 200
    for action, body in (("playPrompt", prompt), ("subscribeToTone", {})):
        async with session.post(
            f"{base}/{action}", json=body, headers={"Authorization": token}
        ) as response:
            assert response.status == 200
            assert "/operations/" in response.headers["Location"]
    await graph.press_tone(call.call_id, "tone5")
    await graph.wait_for_notifications()
    completion = graph.deliveries[-2]
    assert completion.status == 202
    assert "/operations/" in completion.body["value"][0]["resourceUrl"]
    assert bot.events[-1].raw["state"] == "established"
    assert bot.events[-1].raw["tone"] == "tone5"
    assert bot.call(call.call_id).state is CallState.TALKING
    assert len(bot.events) == 4  # created, establishing, established, the tone


# --- REST errors ---


@pytest.mark.parametrize(
    ("status", "code", "error", "action"),
    [
        (403, None, PermissionDeniedError, CallAction.ANSWER),
        (403, None, PermissionDeniedError, CallAction.REJECT),
        (403, None, PermissionDeniedError, CallAction.HANGUP),
        (404, None, CallEndedError, CallAction.ANSWER),
        (410, None, CallEndedError, CallAction.HANGUP),
        (409, None, ActionNotAllowedError, CallAction.REJECT),
        (400, "notAllowed", ActionNotAllowedError, CallAction.ANSWER),
        (400, None, ProviderError, CallAction.ANSWER),
        (500, None, ProviderUnavailableError, CallAction.HANGUP),
    ],
)
async def test_errors_map_to_the_model(
    client: GraphClient,
    graph: GraphSimulator,
    bot: Bot,
    status: int,
    code: str | None,
    error: type[ProviderError],
    action: CallAction,
) -> None:
    call = await ring(graph, bot)
    graph.fail_next(status, code=code, path_contains=CALL_URL)
    with pytest.raises(error) as raised:
        await client.async_perform(action, call, BOT_DEVICE, {})
    assert type(raised.value) is error
    message = str(raised.value)
    assert f"HTTP {status}" in message
    assert "request-id" in message
    assert graph.calls[call.call_id].state == "incoming"
    if status == 403:
        assert PERMISSIONS[action] in message


async def test_permission_error_on_reading_a_call(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    graph.fail_next(403)
    with pytest.raises(PermissionDeniedError, match=r"Calls\.Initiate\.All"):
        await client.async_refresh_call(call)


@pytest.mark.parametrize("retry_after", [2.128, 10])
async def test_rate_limit_carries_a_fractional_wait(
    client: GraphClient, graph: GraphSimulator, bot: Bot, retry_after: float
) -> None:
    call = await ring(graph, bot)
    graph.fail_next(429, retry_after=retry_after)
    with pytest.raises(RateLimitedError, match="TooManyRequests") as raised:
        await client.async_perform(CallAction.ANSWER, call, BOT_DEVICE, {})
    assert raised.value.retry_after == pytest.approx(retry_after)


async def test_unavailable_carries_the_wait(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    graph.fail_next(503, retry_after=0.5)
    with pytest.raises(ProviderUnavailableError, match="serviceNotAvailable") as raised:
        await client.async_perform(CallAction.HANGUP, call, BOT_DEVICE, {})
    assert raised.value.retry_after == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"error": "flat"}', "Microsoft Graph error (HTTP 429)"),
        ("[]", "Microsoft Graph error (HTTP 429)"),
        ('{"error": {"message": "  "}}', "Microsoft Graph error (HTTP 429)"),
        (
            json.dumps(
                {
                    "error": {
                        "code": "x",
                        "message": "m",
                        "innererror": {"request-id": "r1"},
                    }
                }
            ),
            "m (HTTP 429, code x, request-id r1)",
        ),
    ],
)
async def test_odd_error_bodies(
    client: GraphClient, graph: GraphSimulator, bot: Bot, body: str, message: str
) -> None:
    call = await ring(graph, bot)
    # Retry-After as an HTTP-date (UNCONFIRMED for Graph, which documents
    # seconds) is read the tolerant way: a date gone by asks for no wait.
    graph.fail_next(429, body=body, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    with pytest.raises(RateLimitedError) as raised:
        await client.async_perform(CallAction.HANGUP, call, BOT_DEVICE, {})
    assert str(raised.value) == message
    assert raised.value.retry_after == 0.0


async def test_refused_cached_token_is_renewed_once(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    await client.async_get_account()
    graph.revoke_tokens()
    await client.async_perform(CallAction.HANGUP, call, BOT_DEVICE, {})
    assert sum(r.path.endswith("/token") for r in graph.requests) == 2
    assert graph.calls[call.call_id].ended


async def test_graph_refusing_every_token_is_an_authentication_error(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    await client.async_get_account()
    graph.fail_next(401, count=2)
    with pytest.raises(AuthenticationError, match="InvalidAuthenticationToken"):
        await client.async_perform(CallAction.HANGUP, call, BOT_DEVICE, {})
    assert sum(r.path.endswith("/token") for r in graph.requests) == 2


async def test_fresh_token_refused_is_not_retried(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    graph.fail_next(401)
    with pytest.raises(AuthenticationError):
        await client.async_perform(CallAction.HANGUP, call, BOT_DEVICE, {})
    assert sum(r.path.endswith("/token") for r in graph.requests) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [("not json", ProviderUnavailableError), ("[1, 2]", None), ('{"id": "x"}', None)],
)
async def test_unreadable_success_bodies(
    client: GraphClient,
    graph: GraphSimulator,
    bot: Bot,
    body: str,
    expected: type[ProviderError] | None,
) -> None:
    call = await ring(graph, bot)
    graph.fail_next(200, body=body)
    if expected is None:
        assert await client.async_refresh_call(call) is None
        return
    with pytest.raises(expected):
        await client.async_refresh_call(call)


@pytest.mark.usefixtures("short_timeout")
async def test_slow_graph_is_a_timeout(
    client: GraphClient, graph: GraphSimulator, bot: Bot
) -> None:
    call = await ring(graph, bot)
    graph.slow_next(0.5)
    with pytest.raises(ProviderUnavailableError, match="TimeoutError"):
        await client.async_perform(CallAction.HANGUP, call, BOT_DEVICE, {})


async def test_unreachable_graph(client: GraphClient, graph: GraphSimulator) -> None:
    await client.async_get_account()
    await graph.close()
    call = Call("c1", ("bot",), Direction.INCOMING, CallState.TALKING)
    with pytest.raises(ProviderUnavailableError, match="Microsoft Graph"):
        await client.async_perform(CallAction.HANGUP, call, BOT_DEVICE, {})


# --- notification tokens ---


@pytest.mark.parametrize(
    "token",
    [
        pytest.param({"claims": {"aud": "someone-else"}}, id="wrong audience"),
        pytest.param({"claims": {"iss": "https://evil.example"}}, id="wrong issuer"),
        pytest.param(
            {"claims": {"exp": int(time.time()) - 3600, "iat": 0, "nbf": 0}},
            id="expired",
        ),
        pytest.param({"claims": {"nbf": int(time.time()) + 3600}}, id="not valid yet"),
        pytest.param({"claims": {"exp": "tomorrow"}}, id="exp not a number"),
        pytest.param({"claims": {"tid": None}}, id="no tenant"),
        pytest.param({"claims": {"exp": None}}, id="no expiry"),
        pytest.param({"kid": "unknown-kid"}, id="unknown key id"),
        pytest.param({"kid": ""}, id="no key id"),
        pytest.param({"forged": True}, id="forged signature"),
        pytest.param({"algorithm": "HS256"}, id="shared-secret algorithm"),
    ],
)
async def test_bad_notification_tokens_are_refused(
    client: GraphClient, graph: GraphSimulator, token: dict[str, Any]
) -> None:
    if token.pop("forged", False):
        token["key"] = graph.foreign_key()
    body = envelope(item("created", {"state": "incoming"}))
    with pytest.raises(InvalidSignatureError):
        await client.async_parse_webhook(signed(graph, **token), body, time.time())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not.a.jwt"},
    ],
)
async def test_missing_or_malformed_bearer(
    client: GraphClient, headers: dict[str, str]
) -> None:
    with pytest.raises(InvalidSignatureError):
        await client.async_parse_webhook(headers, b"{}", time.time())


async def test_forged_delivery_gets_401_and_changes_nothing(
    graph: GraphSimulator, bot: Bot
) -> None:
    graph.forge_next(claims={"aud": "another-bot"})
    call_id = await graph.ring()
    await graph.wait_for_notifications()
    assert [d.status for d in graph.deliveries] == [401]
    assert bot.book.get(call_id) is None
    assert bot.refused == ["token refused: InvalidAudienceError"]


async def test_token_checked_against_the_time_of_receipt(
    client: GraphClient, graph: GraphSimulator
) -> None:
    body = envelope(item("created", {"state": "incoming"}))
    headers = signed(graph)
    assert await client.async_parse_webhook(headers, body, time.time())
    with pytest.raises(InvalidSignatureError, match="expired"):
        await client.async_parse_webhook(headers, body, time.time() + 7200)
    with pytest.raises(InvalidSignatureError, match="not valid yet"):
        await client.async_parse_webhook(headers, body, time.time() - 600)


async def test_botframework_issuer_is_accepted(
    client: GraphClient, graph: GraphSimulator
) -> None:
    events = await client.async_parse_webhook(
        signed(graph, claims={"iss": "https://api.botframework.com"}),
        envelope(item("created", {"state": "incoming"})),
        time.time(),
    )
    assert events[0].state is CallState.RINGING


def key_fetches(graph: GraphSimulator) -> int:
    return sum(r.path == "/v1/keys" for r in graph.requests)


def config_fetches(graph: GraphSimulator) -> int:
    return sum(r.path.endswith("OpenIdConfiguration") for r in graph.requests)


async def test_keys_are_cached_and_refetched_for_a_new_key(
    client: GraphClient, graph: GraphSimulator, clock: FakeClock
) -> None:
    body = envelope(item("created", {"state": "incoming"}))
    await client.async_parse_webhook(signed(graph), body, time.time())
    await client.async_parse_webhook(signed(graph), body, time.time())
    assert (config_fetches(graph), key_fetches(graph)) == (1, 1)
    # Forged key ids do not make us hammer the key endpoint...
    for _ in range(3):
        with pytest.raises(InvalidSignatureError, match="unknown key"):
            await client.async_parse_webhook(
                signed(graph, kid="forged"), body, time.time()
            )
    clock.now += KEY_REFRESH_INTERVAL
    with pytest.raises(InvalidSignatureError, match="unknown key"):
        await client.async_parse_webhook(signed(graph, kid="forged"), body, time.time())
    assert key_fetches(graph) == 2
    # ...but Microsoft's new key is fetched when it first appears.
    graph.rotate_keys()
    clock.now += KEY_REFRESH_INTERVAL
    assert await client.async_parse_webhook(signed(graph), body, time.time())
    assert (config_fetches(graph), key_fetches(graph)) == (1, 3)
    clock.now += OPENID_CACHE + 1
    assert await client.async_parse_webhook(signed(graph), body, time.time())
    assert (config_fetches(graph), key_fetches(graph)) == (2, 4)


@pytest.mark.parametrize(
    ("path", "status", "body", "message"),
    [
        ("OpenIdConfiguration", 200, "{}", "no jwks_uri"),
        ("OpenIdConfiguration", 200, "not json", "not JSON"),
        ("OpenIdConfiguration", 200, "[]", "not an object"),
        ("/v1/keys", 503, None, "HTTP 503"),
    ],
)
async def test_key_endpoint_faults(
    client: GraphClient,
    graph: GraphSimulator,
    clock: FakeClock,
    path: str,
    status: int,
    body: str | None,
    message: str,
) -> None:
    graph.fail_next(status, path_contains=path, body=body)
    payload = envelope(item("created", {"state": "incoming"}))
    with pytest.raises(ProviderUnavailableError, match=message):
        await client.async_parse_webhook(signed(graph), payload, time.time())
    with pytest.raises(ProviderUnavailableError, match="unavailable"):
        await client.async_parse_webhook(signed(graph), payload, time.time())
    assert key_fetches(graph) + config_fetches(graph) <= 2  # no second try yet
    clock.now += KEY_REFRESH_INTERVAL
    assert await client.async_parse_webhook(signed(graph), payload, time.time())


async def test_unusable_keys_are_skipped(
    client: GraphClient, graph: GraphSimulator
) -> None:
    keys = graph.jwks()["keys"]
    odd = [
        "not a key",
        {"kty": "RSA"},
        {"kty": "EC", "crv": "P-999", "kid": "ec"},
        {"kty": "RSA", "kid": "broken", "n": "AQAB"},
    ]
    graph.fail_next(
        200, path_contains="/v1/keys", body=json.dumps({"keys": odd + keys})
    )
    payload = envelope(item("created", {"state": "incoming"}))
    assert await client.async_parse_webhook(signed(graph), payload, time.time())
    with pytest.raises(InvalidSignatureError, match="unknown key"):
        await client.async_parse_webhook(signed(graph, kid="ec"), payload, time.time())


# --- notification bodies ---


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "legacy", "callState": "incoming"}',
        b"[1, 2]",
        envelope(item("created", {}), kind="#microsoft.graph.somethingElse"),
    ],
)
async def test_legacy_bodies_are_asked_again(
    client: GraphClient, graph: GraphSimulator, body: bytes
) -> None:
    with pytest.raises(ResendRequestedError):
        await client.async_parse_webhook(signed(graph), body, time.time())


async def test_body_that_is_not_json(
    client: GraphClient, graph: GraphSimulator
) -> None:
    with pytest.raises(InvalidPayloadError):
        await client.async_parse_webhook(signed(graph), b"{nope", time.time())


@pytest.mark.parametrize(
    "items",
    [
        ["not an object"],
        [{"changeType": "exploded", "resourceUrl": "/communications/calls/c1"}],
        [item("updated", "established")],
    ],
)
async def test_unreadable_notifications_are_refused(
    client: GraphClient, graph: GraphSimulator, items: list[Any]
) -> None:
    with pytest.raises(InvalidPayloadError):
        await parse(client, graph, *items)


async def test_a_readable_notification_survives_a_broken_neighbour(
    client: GraphClient, graph: GraphSimulator
) -> None:
    events = await parse(
        client, graph, "broken", item("updated", {"state": "established"})
    )
    assert [e.state for e in events] == [CallState.TALKING]


@pytest.mark.parametrize(
    "notification",
    [
        item(
            "deleted", {"status": "completed"}, "/communications/calls/c1/operations/o1"
        ),
        item(
            "updated",
            [{"id": "p1", "isMuted": True}],
            "/communications/calls/c1/participants",
        ),
        item("updated", {"state": "established"}, "/communications/contentSharing/x"),
        item("updated", {"state": "established"}, None),
        item("updated", {"mediaState": {"audio": "inactive"}}),
        item("updated", {"state": "weird"}),
    ],
)
async def test_notifications_without_call_news(
    client: GraphClient, graph: GraphSimulator, notification: dict[str, Any]
) -> None:
    assert await parse(client, graph, notification) == []


async def test_empty_envelope_without_type(
    client: GraphClient, graph: GraphSimulator
) -> None:
    body = json.dumps({"value": []}).encode()
    assert await client.async_parse_webhook(signed(graph), body, time.time()) == []


async def test_call_id_from_odata_id_and_app_path(
    client: GraphClient, graph: GraphSimulator
) -> None:
    [by_odata] = await parse(
        client,
        graph,
        item(
            "updated", {"@odata.id": "/communications/calls/AbC", "state": "hold"}, None
        ),
    )
    assert (by_odata.call_id, by_odata.state) == ("AbC", CallState.ON_HOLD)
    [by_app] = await parse(client, graph, item("deleted", None, "/app/calls/XyZ"))
    assert (by_app.call_id, by_app.state) == ("XyZ", CallState.ENDED)
    assert by_app.end_reason is EndReason.COMPLETED  # never seen before


async def test_pstn_call_to_an_application_instance(
    client: GraphClient, graph: GraphSimulator
) -> None:
    data = {
        "@odata.type": "#microsoft.graph.call",
        "state": "incoming",
        "direction": "incoming",
        "source": {"identity": {"phone": {"id": " +15557654321 ", "displayName": ""}}},
        "targets": [
            "junk",
            {"identity": {"user": {"id": "u1"}}},
            {
                "identity": {
                    "applicationInstance": {
                        "displayName": "Front desk line",
                        "id": "a1",
                    }
                }
            },
        ],
    }
    [event] = await parse(client, graph, item("created", data))
    assert event.remote_number == "+15557654321"
    assert event.remote_name is None
    assert event.local_number == "Front desk line"
    data["targets"] = [
        {"identity": {"applicationInstance": {"id": "a1"}}},
        {"identity": {"phone": {"id": "+15550100001"}}},
    ]
    [event] = await parse(
        client, graph, item("created", data, "/communications/calls/c2")
    )
    assert event.local_number == "+15550100001"
    data["targets"] = {"not": "a list"}
    data["source"] = {"identity": {"encrypted": {"id": "x", "displayName": "Guest"}}}
    [event] = await parse(
        client, graph, item("created", data, "/communications/calls/c3")
    )
    assert (event.remote_number, event.remote_name, event.local_number) == (
        None,
        "Guest",
        None,
    )
    data["targets"] = [{"identity": {"applicationInstance": {}}}]
    data["source"] = "junk"
    [event] = await parse(
        client, graph, item("created", data, "/communications/calls/c4")
    )
    assert (event.remote_name, event.local_number) == (None, None)


@pytest.mark.parametrize(
    ("states", "expected", "actions"),
    [
        (["incoming"], CallState.DIALING, {CallAction.HANGUP}),
        (["establishing"], CallState.DIALING, {CallAction.HANGUP}),
        (["redirecting"], CallState.RINGING, set()),
        (["established", "transferring"], CallState.TALKING, {CallAction.HANGUP}),
        (["established", "transferAccepted"], CallState.TALKING, {CallAction.HANGUP}),
        (["terminating"], CallState.ENDED, set()),
    ],
)
async def test_state_mapping(
    client: GraphClient,
    graph: GraphSimulator,
    states: list[str],
    expected: CallState,
    actions: set[CallAction],
) -> None:
    first = {"state": states[0], "direction": "outgoing"}
    events = await parse(client, graph, item("created", first))
    for state in states[1:]:
        events = await parse(client, graph, item("updated", {"state": state}))
    assert events[0].state is expected
    assert events[0].actions == actions


@pytest.mark.parametrize(
    ("result", "before", "reason"),
    [
        ({"code": 603, "subcode": 0}, "incoming", EndReason.REJECTED),
        ({"code": "408", "subCode": "1106"}, "incoming", EndReason.MISSED),
        ({"code": 500, "subcode": 1005}, "established", EndReason.FAILED),
        ({"code": 410, "subcode": 301005}, "established", EndReason.FAILED),
        ({"code": "200", "subcode": "5001"}, "established", EndReason.COMPLETED),
        ({"code": True, "subcode": None}, "established", EndReason.COMPLETED),
        ({"code": "n/a"}, "incoming", EndReason.MISSED),
        ("junk", "hold", EndReason.COMPLETED),
    ],
)
async def test_end_reasons(
    client: GraphClient,
    graph: GraphSimulator,
    result: Any,
    before: str,
    reason: EndReason,
) -> None:
    await parse(client, graph, item("updated", {"state": before}))
    [ended] = await parse(
        client, graph, item("deleted", {"state": "terminated", "resultInfo": result})
    )
    assert ended.end_reason is reason


async def test_events_carry_ids_orders_and_times(
    client: GraphClient, graph: GraphSimulator
) -> None:
    now = time.time()
    data = {"state": "incoming", "@odata.etag": 'W/"5445"', "direction": "incoming"}
    [incoming] = await client.async_parse_webhook(
        signed(graph), envelope(item("created", data)), now
    )
    assert incoming.event_id == 'c1:created:incoming:W/"5445"'
    assert incoming.order == (now, 0)
    assert incoming.started_at == incoming.occurred_at
    assert incoming.started_at is not None
    assert incoming.started_at.timestamp() == pytest.approx(now)
    [hold] = await client.async_parse_webhook(
        signed(graph), envelope(item("updated", {"state": "hold"})), now + 1
    )
    assert hold.event_id == "c1:updated:hold:-"
    assert hold.started_at is None
    assert hold.direction is None
    assert hold.order == (now + 1, 2)


# --- options ---


@pytest.mark.parametrize(
    ("action", "options", "field"),
    [
        (CallAction.ANSWER, {"accepted_modalities": []}, "accepted_modalities"),
        (CallAction.ANSWER, {"accepted_modalities": "audio"}, "accepted_modalities"),
        (
            CallAction.ANSWER,
            {"accepted_modalities": ["audio", "audio"]},
            "accepted_modalities",
        ),
        (CallAction.ANSWER, {"accepted_modalities": ["data"]}, "accepted_modalities"),
        (CallAction.ANSWER, {"media_config": "service"}, "media_config"),
        (CallAction.ANSWER, {"media_config": {}}, "media_config"),
        (
            CallAction.ANSWER,
            {"media_config": {"@odata.type": "#microsoft.graph.mediaConfig"}},
            "media_config",
        ),
        (
            CallAction.ANSWER,
            {"media_config": {"@odata.type": "#microsoft.graph.appHostedMediaConfig"}},
            "media_config",
        ),
        (
            CallAction.ANSWER,
            {
                "media_config": {
                    "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
                    "preFetchMedia": [{"resourceId": "x"}],
                }
            },
            "media_config",
        ),
        (CallAction.ANSWER, {"reason": "busy"}, "reason"),
        (CallAction.REJECT, {"reason": "later"}, "reason"),
        (CallAction.REJECT, {"reason": 3}, "reason"),
        (CallAction.HANGUP, {"reason": "none"}, "reason"),
    ],
)
def test_invalid_options_name_the_field(
    action: CallAction, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOptionError) as raised:
        validate_options(action, options)
    assert raised.value.option == field


def test_option_defaults() -> None:
    assert validate_options(CallAction.ANSWER, {}) == {
        "accepted_modalities": ["audio"],
        "media_config": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
    }
    assert validate_options(CallAction.REJECT, {}) == {"reason": "none"}
    assert validate_options(CallAction.HANGUP, {}) == {}
    media = {
        "@odata.type": "#microsoft.graph.serviceHostedMediaConfig",
        "preFetchMedia": [{"uri": "https://cdn.example/beep.wav", "resourceId": "b"}],
    }
    options = {
        "accepted_modalities": ["videoBasedScreenSharing"],
        "media_config": media,
    }
    assert validate_options(CallAction.ANSWER, options) == options


async def test_memory_of_calls_is_bounded(
    session: aiohttp.ClientSession, graph: GraphSimulator, clock: FakeClock
) -> None:
    with patch.object(graph_notifications, "REMEMBERED_CALLS", 2):
        # The limit is read when the client is made.
        client = make_client(session, graph, clock=clock)
        for call_id in ("a", "b", "c"):
            await parse(
                client,
                graph,
                item("created", {"state": "incoming"}, CALL_URL + call_id),
            )
        [forgotten] = await parse(client, graph, item("deleted", {}, CALL_URL + "a"))
        [remembered] = await parse(client, graph, item("deleted", {}, CALL_URL + "c"))
    # Only a call still remembered is known to have gone unanswered.
    assert forgotten.end_reason is EndReason.COMPLETED
    assert remembered.end_reason is EndReason.MISSED


async def test_simulator_control_routes_and_raw_notifications(
    graph: GraphSimulator, bot: Bot, session: aiohttp.ClientSession
) -> None:
    async with session.post(
        f"{graph.url}/_sim/ring", json={"caller_name": "Bob", "phone": "+15550109999"}
    ) as response:
        call_id = (await response.json())["call_id"]
    await graph.wait_for_notifications()
    assert bot.call(call_id).remote_number == "+15550109999"
    roster = item("updated", [{"id": "p1"}], f"{CALL_URL}{call_id}/participants")
    await graph.notify([roster])
    await graph.wait_for_notifications()
    assert graph.deliveries[-1].status == 202
    async with session.post(
        f"{graph.url}/_sim/hangup", json={"call_id": call_id}
    ) as response:
        assert await response.json() == {"result": "ok"}
    async with session.post(f"{graph.url}/_sim/hangup", json={}) as response:
        assert response.status == 400
    await graph.wait_for_notifications()
    assert bot.book.get(call_id) is None
    assert (graph.graph_url, graph.login_url) == (graph.url, graph.url)
