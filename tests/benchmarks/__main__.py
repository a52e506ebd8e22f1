"""Print how fast and how small the hot paths are.

CallBook: events per second and the memory it keeps after many calls have
passed through. Webhooks: signed Telnyx deliveries verified and parsed per second.
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
from custom_components.switchboard.providers.model import CallEvent, CallState
from custom_components.switchboard.providers.telnyx import TelnyxClient

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
        f"webhooks: {rounds / elapsed:,.0f} verified deliveries/s "
        f"({elapsed / rounds * 1e6:,.0f} µs each)"
    )


if __name__ == "__main__":
    bench_callbook()
    asyncio.run(bench_webhooks())
