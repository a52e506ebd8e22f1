"""Print how fast and how small the hot paths are.

CallBook: events per second and the memory it keeps after many calls have
passed through. Webhooks: signed Telnyx deliveries verified and parsed per second.
Event path: one event from webhook to entity state inside Home Assistant,
against Home Assistant's own floor (tests/benchmarks/event_path.py).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
import json
import time
import tracemalloc

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from custom_components.switchboard.calls import CallBook
from custom_components.switchboard.providers.graph import GraphClient
from custom_components.switchboard.providers.model import CallEvent, CallState
from custom_components.switchboard.providers.telnyx import TelnyxClient
from custom_components.switchboard.providers.webex import (
    WebexClient,
    new_webhook_secret,
    signature,
)
from tests.benchmarks import event_path
from tests.simulators.graph import GraphSimulator

CALLS = 100_000


def event(call: int, state: CallState, at: float) -> CallEvent:
    return CallEvent(
        event_id=f"{call}-{state}",
        call_id=f"call-{call}",
        order=(at, 0),
        state=state,
        device_ids=(f"device-{call % 10}",),
        occurred_at=datetime.fromtimestamp(at, UTC),
    )


def bench_callbook() -> None:
    book = CallBook()
    tracemalloc.start()
    started = time.perf_counter()
    for call in range(CALLS):
        book.apply(event(call, CallState.RINGING, call))
        book.apply(event(call, CallState.TALKING, call + 0.1))
        book.apply(event(call, CallState.ENDED, call + 0.2))
    elapsed = time.perf_counter() - started
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"callbook: {3 * CALLS / elapsed:,.0f} events/s over {CALLS:,} calls; "
        f"memory kept {kept / 1024:,.0f} KiB, peak {peak / 1024:,.0f} KiB, "
        f"live calls {len(book)}"
    )


async def bench_webhooks() -> None:
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(
        key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    ).decode()
    async with aiohttp.ClientSession() as session:
        client = TelnyxClient(session, "KEY", public_key=public)
        body = json.dumps(
            {
                "data": {
                    "record_type": "event",
                    "event_type": "call.initiated",
                    "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
                    "occurred_at": "2026-11-21T10:00:00.000001Z",
                    "payload": {
                        "call_control_id": "v3:bench",
                        "from": "+15557654321",
                        "to": "+15550100001",
                        "direction": "incoming",
                        "state": "parked",
                    },
                },
                "meta": {"attempt": 1},
            }
        ).encode()
        now = int(time.time())
        signature = base64.b64encode(key.sign(f"{now}|".encode() + body)).decode()
        headers = {"telnyx-timestamp": str(now), "telnyx-signature-ed25519": signature}
        rounds = 5_000
        started = time.perf_counter()
        for _ in range(rounds):
            client.parse_webhook(headers, body, now)
        elapsed = time.perf_counter() - started
    print(
        f"telnyx webhooks: {rounds / elapsed:,.0f} verified deliveries/s "
        f"({elapsed / rounds * 1e6:,.0f} µs each)"
    )


class _NoTokens:
    async def async_token(self, *, refresh: bool = False) -> str:
        del refresh
        return "unused"


async def bench_webex() -> None:
    secret = new_webhook_secret()
    body = json.dumps(
        {
            "id": "Y2lz",
            "resource": "telephony_calls",
            "event": "created",
            "data": {
                "callId": "Y2lzY29zcGFyazovL3VzL0NBTEwvYmVuY2g",
                "eventType": "received",
                "eventTimestamp": "2026-11-21T10:00:00.000Z",
                "state": "alerting",
                "personality": "terminator",
                "remoteParty": {"number": "+15557654321", "name": "Ada"},
            },
        }
    ).encode()
    headers = {"X-Spark-Signature": signature(secret, body)}
    async with aiohttp.ClientSession() as session:
        client = WebexClient(session, _NoTokens(), webhook_secret=secret)
        rounds = 20_000
        started = time.perf_counter()
        for _ in range(rounds):
            await client.async_parse_webhook(headers, body, time.time())
        elapsed = time.perf_counter() - started
    print(
        f"webex webhooks: {rounds / elapsed:,.0f} verified deliveries/s "
        f"({elapsed / rounds * 1e6:,.0f} µs each)"
    )


async def bench_graph() -> None:
    simulator = GraphSimulator()
    url = await simulator.start()
    body = json.dumps(
        {
            "@odata.type": "#microsoft.graph.commsNotifications",
            "value": [
                {
                    "@odata.type": "#microsoft.graph.commsNotification",
                    "changeType": "created",
                    "resourceUrl": "/communications/calls/bench",
                    "resourceData": {
                        "@odata.type": "#microsoft.graph.call",
                        "state": "incoming",
                        "direction": "incoming",
                    },
                }
            ],
        }
    ).encode()
    headers = {"Authorization": f"Bearer {simulator.notification_token()}"}
    try:
        async with aiohttp.ClientSession() as session:
            client = GraphClient(
                session,
                tenant_id=simulator.tenant_id,
                client_id=simulator.client_id,
                client_secret=simulator.client_secret,
                graph_url=url,
                login_url=url,
                openid_configuration_url=simulator.openid_configuration_url,
            )
            await client.async_parse_webhook(headers, body, time.time())  # keys
            rounds = 2_000
            started = time.perf_counter()
            for _ in range(rounds):
                await client.async_parse_webhook(headers, body, time.time())
            elapsed = time.perf_counter() - started
    finally:
        await simulator.close()
    print(
        f"teams notifications: {rounds / elapsed:,.0f} verified (RS256 JWT)/s "
        f"({elapsed / rounds * 1e6:,.0f} µs each)"
    )


async def bench_providers() -> None:
    await bench_webhooks()
    await bench_webex()
    await bench_graph()


if __name__ == "__main__":
    bench_callbook()
    asyncio.run(bench_providers())
    asyncio.run(event_path.async_run())
