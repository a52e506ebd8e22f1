"""The providers' shared kernel: requests, Retry-After, memory, values, options."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
import json
import math
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.switchboard.providers.kernel import raw
from custom_components.switchboard.providers.kernel.http import (
    Reply,
    bearer_headers,
    parse_object,
    path_segment,
    read_object,
    request_json,
    send,
)
from custom_components.switchboard.providers.kernel.memory import (
    BoundedMap,
    BoundedSet,
)
from custom_components.switchboard.providers.kernel.options import (
    OptionSchema,
    base64_string,
    boolean,
    check_options,
    int_range,
    json_object,
    non_empty_string,
    one_of,
    refuse_voicemail,
    text_length,
)
from custom_components.switchboard.providers.kernel.payload import (
    load_json,
    load_payload,
)
from custom_components.switchboard.providers.kernel.raw import MAX_TEXT, raw_fields
from custom_components.switchboard.providers.kernel.retry_after import retry_after
from custom_components.switchboard.providers.kernel.values import (
    finite_number,
    first_text,
    integer,
    is_number,
    is_text,
    non_empty_text,
    normalize_number,
    parse_direction,
    parse_timestamp,
    trimmed_text,
)
from custom_components.switchboard.providers.model import (
    CallAction,
    Direction,
    InvalidOptionError,
    InvalidPayloadError,
    ProviderError,
    ProviderUnavailableError,
)

# --- Retry-After ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("2.128", 2.128),
        ("0", 0.0),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after(value) == expected


def test_retry_after_as_a_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    wait = retry_after(later)
    assert wait is not None
    assert 25 < wait <= 30
    assert retry_after("soon") is None
    assert retry_after("-3") == 0.0


def test_retry_after_dates_against_a_clock() -> None:
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC).timestamp()
    assert retry_after("Wed, 21 Oct 2026 07:28:30 GMT", clock=lambda: now) == 30.0
    # A date gone by asks for no wait; a date without a zone is GMT.
    assert retry_after("Wed, 21 Oct 2026 07:00:00 GMT", clock=lambda: now) == 0.0
    assert retry_after("Wed, 21 Oct 2026 07:28:10 -0000", clock=lambda: now) == 10.0


# --- bounded memory ---


def test_memory_forgets_the_oldest() -> None:
    memory: BoundedMap[str, str] = BoundedMap(2)
    for key in ("a", "b", "c"):
        memory.put(key, key.upper())
    assert "a" not in memory
    assert memory.get("c") == "C"
    assert len(memory) == 2


def test_putting_again_makes_a_key_the_newest() -> None:
    memory: BoundedMap[str, int] = BoundedMap(2)
    memory.put("a", 1)
    memory.put("b", 2)
    memory.put("a", 3)
    memory.put("c", 4)
    assert "b" not in memory
    assert memory["a"] == 3
    assert memory.get("b") is None
    with pytest.raises(KeyError):
        memory["b"]


def test_reading_changes_no_order_but_touching_does() -> None:
    memory: BoundedMap[str, list[str]] = BoundedMap(2)
    first = memory.touch("a", list)
    first.append("noted")
    memory.put("b", [])
    assert memory.get("a") == ["noted"]  # a get: "a" stays the oldest
    memory.put("c", [])
    assert "a" not in memory
    memory.touch("b", list)  # known: the same value, now the newest
    memory.put("d", [])
    assert "b" in memory
    assert "c" not in memory


def test_forgetting() -> None:
    memory: BoundedMap[str, str] = BoundedMap(3)
    memory.put("a", "x")
    memory.forget("a")
    memory.forget("never there")
    assert "a" not in memory
    assert len(memory) == 0


def test_bounded_set() -> None:
    keys: BoundedSet[str] = BoundedSet(2)
    keys.add("a")
    keys.add("b")
    keys.add("a")
    keys.add("c")
    assert "a" in keys
    assert "b" not in keys
    assert len(keys) == 2
    keys.discard("a")
    keys.discard("never there")
    assert "a" not in keys
    assert len(keys) == 1


# --- values ---


def test_numbers_are_normalized() -> None:
    assert normalize_number("+1-202-555-0133") == "+12025550133"
    assert normalize_number("(202) 555 0133") == "2025550133"
    assert normalize_number("+1 408 526 7209") == "+14085267209"
    assert normalize_number("(408) 526-7209") == "4085267209"
    assert normalize_number(" +44 20 7946 0000") == "+442079460000"


@pytest.mark.parametrize(
    ("value", "as_is", "trimmed"),
    [
        ("abc", "abc", "abc"),
        (" abc ", " abc ", "abc"),
        ("  ", "  ", None),
        ("", None, None),
        (5, None, None),
        (None, None, None),
    ],
)
def test_text(value: Any, as_is: str | None, trimmed: str | None) -> None:
    assert non_empty_text(value) == as_is
    assert trimmed_text(value) == trimmed


def test_first_text() -> None:
    item = {"a": "", "b": 5, "c": "third", "d": "fourth"}
    assert first_text(item, ("a", "b", "c", "d")) == "third"
    assert first_text(item, ("a", "b", "missing")) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (200, 200),
        ("200", 200),
        (" 7 ", 7),
        (2.0, 2),
        (True, None),
        ("2.5", None),
        (None, None),
        ("x", None),
        ([1], None),
        (math.inf, None),
        (math.nan, None),
        ("9" * 5000, None),
    ],
)
def test_integer(value: Any, expected: int | None) -> None:
    assert integer(value) == expected


def test_is_number() -> None:
    assert is_number(1)
    assert is_number(1.5)
    assert not is_number(True)
    assert not is_number("1")
    assert not is_number(None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (-2.5, -2.5),
        (math.inf, None),
        (-math.inf, None),
        (math.nan, None),
        (10**400, None),  # past what a float holds
        (True, None),
        ("1", None),
    ],
)
def test_finite_number(value: Any, expected: float | None) -> None:
    assert finite_number(value) == expected


def test_text_is_valid_unicode() -> None:
    assert is_text("caf\u00e9")
    assert is_text("")
    assert not is_text("\ud800")  # JSON lets a lone surrogate through
    assert not is_text(b"bytes")
    assert non_empty_text("a\udcffb") is None
    assert trimmed_text(" \ud800 ") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "2025-08-05T16:48:19.360Z",
            datetime(2025, 8, 5, 16, 48, 19, 360000, UTC),
        ),
        (
            "2026-11-21T10:00:00.000001+01:00",
            datetime(2026, 11, 21, 10, 0, 0, 1, timezone(timedelta(hours=1))),
        ),
        ("2025-08-05T16:48:19.360", datetime(2025, 8, 5, 16, 48, 19, 360000, UTC)),
        ("yesterday", None),
        ("", None),
        (1_700_000_000, None),
        (None, None),
        # No call happens then, and Home Assistant could not show it in every zone.
        ("0001-01-01T00:00:00", None),
        ("0001-01-01T00:00:00+01:00", None),
        ("1969-12-31T23:59:59Z", None),
        ("9999-12-31T23:59:59-01:00", None),
        ("9000-01-01T00:00:00Z", None),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_timestamps(value: Any, expected: datetime | None) -> None:
    moment = parse_timestamp(value)
    assert moment == expected
    if moment is not None:
        assert moment.tzinfo is not None


def test_direction() -> None:
    assert parse_direction("incoming") is Direction.INCOMING
    assert parse_direction("outgoing") is Direction.OUTGOING
    assert parse_direction("inbound") is None
    assert parse_direction(None) is None


def test_raw_fields_keep_a_few_scalars() -> None:
    source = {
        "state": "parked",
        "is_alive": False,
        "duration": 12,
        "quality": 4.5,
        "from": "+15550100001",
        "nothing": None,
        "headers": [{"name": "X", "value": "1"}],
        "stats": {"mos": 4.2},
        "long": "x" * (MAX_TEXT + 50),
    }
    raw = raw_fields(
        source,
        ("state", "is_alive", "duration", "quality", "nothing", "headers"),
        event="call.initiated",
        stats=source["stats"],
        long=source["long"],
        missing=None,
    )
    assert raw == {
        "state": "parked",
        "is_alive": False,
        "duration": 12,
        "quality": 4.5,
        "event": "call.initiated",
        "long": "x" * MAX_TEXT,
    }
    assert raw_fields(source) == {}


def test_raw_fields_keep_only_what_json_carries() -> None:
    source = {
        "nan": math.nan,
        "inf": math.inf,
        "huge": 2**64,
        "top": 2**63 - 1,
        "surrogate": "\ud800",
        "empty": "",
    }
    assert raw_fields(source, source) == {"top": 2**63 - 1, "empty": ""}


# --- JSON from outside ---


def test_load_json_turns_every_failure_into_value_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ValueError, match="nested too deeply"):
        load_json(deep)
    with pytest.raises(ValueError, match="decode"):
        load_json(b"\xff")
    assert load_json("1e400") == math.inf  # refused field by field, not here
    assert parse_object(deep) is None


def test_load_payload_is_invalid_payload() -> None:
    assert load_payload(b'{"a": 1}', "a delivery") == {"a": 1}
    for body in (b"[" * 100_000, b"{nope", b"\xff\xfe\x00"):
        with pytest.raises(InvalidPayloadError, match="a delivery is not JSON"):
            load_payload(body, "a delivery")


# --- option schemas ---

SCHEMA: OptionSchema = {
    CallAction.ANSWER: {
        "mode": one_of("rtp", "mp3"),
        "label": non_empty_string,
        "name": text_length(1, 4),
        "loud": boolean,
        "config": json_object,
        "rate": int_range(1),
        "length": int_range(0, 10),
        "state": base64_string,
    },
    CallAction.REJECT: {"reason": one_of("none", "busy", ignore_case=True)},
}


def check(action: CallAction, options: dict[str, Any]) -> dict[str, Any]:
    return check_options(SCHEMA, action, options, unknown="is not an option here")


def test_good_options_pass_as_a_copy() -> None:
    options = {
        "mode": "rtp",
        "label": "x",
        "name": "abcd",
        "loud": False,
        "config": {},
        "rate": 16000,
        "length": 10,
        "state": "aGVsbG8=",
    }
    checked = check(CallAction.ANSWER, options)
    assert checked == options
    assert checked is not options
    assert check(CallAction.REJECT, {"reason": "Busy"}) == {"reason": "Busy"}
    assert check(CallAction.HANGUP, {}) == {}


@pytest.mark.parametrize(
    ("action", "options", "reason"),
    [
        (CallAction.ANSWER, {"reason": "busy"}, "is not an option here"),
        (CallAction.HANGUP, {"mode": "rtp"}, "is not an option here"),
        (CallAction.ANSWER, {"mode": "RTP"}, "must be one of rtp, mp3"),
        (CallAction.ANSWER, {"mode": ["rtp"]}, "must be one of rtp, mp3"),
        (CallAction.REJECT, {"reason": "gone"}, "must be one of none, busy"),
        (CallAction.REJECT, {"reason": 3}, "must be one of none, busy"),
        (CallAction.ANSWER, {"label": ""}, "must be a non-empty string"),
        (CallAction.ANSWER, {"label": 1}, "must be a non-empty string"),
        (CallAction.ANSWER, {"name": ""}, "must be 1 to 4 characters"),
        (CallAction.ANSWER, {"name": "abcde"}, "must be 1 to 4 characters"),
        (CallAction.ANSWER, {"name": 4}, "must be 1 to 4 characters"),
        (CallAction.ANSWER, {"loud": "yes"}, "must be true or false"),
        (CallAction.ANSWER, {"config": []}, "must be an object"),
        (CallAction.ANSWER, {"rate": 0}, "must be 1 or more"),
        (CallAction.ANSWER, {"rate": "fast"}, "must be a whole number"),
        (CallAction.ANSWER, {"rate": True}, "must be a whole number"),
        (CallAction.ANSWER, {"rate": 1.5}, "must be a whole number"),
        (CallAction.ANSWER, {"length": 11}, "must be between 0 and 10"),
        (CallAction.ANSWER, {"length": -1}, "must be between 0 and 10"),
        (CallAction.ANSWER, {"state": 5}, "must be a base64 string"),
        (CallAction.ANSWER, {"state": "not base64!"}, "must be a valid base64 string"),
    ],
)
def test_bad_options_name_the_option_and_the_reason(
    action: CallAction, options: dict[str, Any], reason: str
) -> None:
    [name] = options
    with pytest.raises(InvalidOptionError) as raised:
        check(action, options)
    assert raised.value.option == name
    assert raised.value.reason == reason
    assert str(raised.value) == f"{name}: {reason}"


def test_the_first_bad_option_is_named() -> None:
    with pytest.raises(InvalidOptionError) as raised:
        check(CallAction.ANSWER, {"mode": "rtp", "rate": 0, "loud": "x"})
    assert raised.value.option == "rate"


# --- the JSON request ---


@dataclass
class Server:
    """A loopback server whose next reply a test chooses; records requests."""

    url: str = ""
    status: int = 200
    body: str = '{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": await request.text(),
            }
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(
            status=self.status,
            text=self.body,
            headers=self.headers,
            content_type="application/json",
        )


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[Server]:
    served = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", served.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    served.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield served
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncGenerator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


class RefusedError(ProviderError):
    """What the test's error mapper makes of a failed reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"HTTP {reply.status}")
        self.reply = reply


async def get(session: aiohttp.ClientSession, server: Server) -> dict[str, Any]:
    return await request_json(
        session,
        "GET",
        f"{server.url}/things",
        service="Svc",
        errors=RefusedError,
        time_limit=2,
    )


async def test_request_sends_what_it_is_given(
    session: aiohttp.ClientSession, server: Server
) -> None:
    data = await request_json(
        session,
        "POST",
        f"{server.url}/calls/{path_segment('v3:a/b')}",
        service="Svc",
        errors=RefusedError,
        time_limit=2,
        headers=bearer_headers("tok"),
        params={"page": "2"},
        json_body={"command_id": "c1"},
    )
    assert data == {"ok": True}
    [sent] = server.requests
    assert sent["method"] == "POST"
    assert sent["path"] == "/calls/v3:a/b"  # decoded by the server
    assert sent["query"] == {"page": "2"}
    assert sent["headers"]["Authorization"] == "Bearer tok"
    assert sent["headers"]["Accept"] == "application/json"
    assert json.loads(sent["body"]) == {"command_id": "c1"}


async def test_send_posts_a_form_and_reads_the_next_page(
    session: aiohttp.ClientSession, server: Server
) -> None:
    server.headers = {"Link": f'<{server.url}/things?cursor=2>; rel="next"'}
    reply = await send(
        session,
        "POST",
        f"{server.url}/token",
        service="Svc",
        time_limit=2,
        form={"grant_type": "client_credentials"},
    )
    assert reply.status == 200
    assert not reply.failed
    assert reply.next_url == f"{server.url}/things?cursor=2"
    assert reply.text == '{"ok": true}'
    assert server.requests[0]["body"] == "grant_type=client_credentials"
    server.headers = {}
    assert (
        await send(session, "GET", server.url, service="Svc", time_limit=2)
    ).next_url is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [("", {}), ("  \n", {}), ("[1, 2]", {}), ('"text"', {}), ('{"a": 1}', {"a": 1})],
)
async def test_bodies_that_are_no_object_read_as_empty(
    session: aiohttp.ClientSession, server: Server, body: str, expected: dict[str, Any]
) -> None:
    server.body = body
    assert await get(session, server) == expected


async def test_invalid_json_is_an_outage(
    session: aiohttp.ClientSession, server: Server
) -> None:
    server.body = "<html>oops</html>"
    with pytest.raises(
        ProviderUnavailableError, match=r"^Svc answered with invalid JSON$"
    ):
        await get(session, server)


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
async def test_failed_replies_go_through_the_mapper(
    session: aiohttp.ClientSession, server: Server, status: int
) -> None:
    server.status = status
    server.body = "not even JSON"
    server.headers = {"Retry-After": "3"}
    with pytest.raises(RefusedError) as raised:
        await get(session, server)
    assert raised.value.reply.status == status
    assert raised.value.reply.text == "not even JSON"
    assert raised.value.reply.headers["Retry-After"] == "3"
    assert raised.value.reply.failed


async def test_a_reply_without_content_is_empty(
    session: aiohttp.ClientSession, server: Server
) -> None:
    server.status = 204
    server.body = ""
    assert await get(session, server) == {}


async def test_unreachable_host(
    session: aiohttp.ClientSession, socket_enabled: None
) -> None:
    with pytest.raises(
        ProviderUnavailableError, match=r"^cannot reach Svc: ClientConnectorError"
    ):
        await request_json(
            session,
            "GET",
            "http://127.0.0.1:9/x",
            service="Svc",
            errors=RefusedError,
            time_limit=2,
        )
    with pytest.raises(
        ProviderUnavailableError, match=r"^cannot read the keys: ClientConnectorError"
    ):
        await send(
            session,
            "GET",
            "http://127.0.0.1:9/x",
            service="Svc",
            time_limit=2,
            unreachable="cannot read the keys",
        )


async def test_slow_reply_is_a_timeout(
    session: aiohttp.ClientSession, server: Server
) -> None:
    server.delay = 0.5
    with pytest.raises(
        ProviderUnavailableError, match=r"^cannot reach Svc: TimeoutError$"
    ):
        await send(session, "GET", server.url, service="Svc", time_limit=0.1)


def test_reading_replies_without_a_server() -> None:
    ok = Reply(200, {}, '{"a": [1]}')
    assert read_object(ok, service="Svc", errors=RefusedError) == {"a": [1]}
    with pytest.raises(RefusedError):
        read_object(Reply(401, {}, ""), service="Svc", errors=RefusedError)
    assert parse_object("{nope") is None
    assert parse_object("") == {}
    assert path_segment("a b/c?d") == "a%20b%2Fc%3Fd"


def _fresh(text: str) -> str:
    """An equal string that is not the same object (literals are shared)."""
    return text.encode().decode()


def test_raw_shares_repeated_short_values_and_keeps_them_alive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(raw, "_shared", {})
    monkeypatch.setattr(raw, "SHARED_VALUES", 2)
    first = raw_fields({"state": _fresh("parked")}, ["state"])
    second = raw_fields({"state": _fresh("parked")}, ["state"])
    assert first["state"] is second["state"]
    # Long values (ids) are not shared; past SHARED_VALUES, nothing new is.
    session = _fresh("8b1c3f2e-" + "x" * 30)
    assert raw_fields({"id": session}, ["id"])["id"] is session
    raw_fields({"cause": _fresh("normal")}, ["cause"])
    late = _fresh("timeout")
    assert raw_fields({"cause": late}, ["cause"])["cause"] is late
    assert len(raw._shared) == 2


def test_a_transfer_to_voicemail_is_refused_where_there_is_no_divert() -> None:
    for asked in (True, None, "yes"):
        with pytest.raises(InvalidOptionError) as raised:
            refuse_voicemail(CallAction.TRANSFER, {"voicemail": asked}, "no divert")
        assert (raised.value.option, raised.value.reason) == ("voicemail", "no divert")
    # Asking for none, or not asking, passes; so does any other action.
    refuse_voicemail(CallAction.TRANSFER, {"voicemail": False}, "no divert")
    refuse_voicemail(CallAction.TRANSFER, {"to": "+15550100002"}, "no divert")
    refuse_voicemail(CallAction.DIAL, {"voicemail": True}, "no divert")
