"""Where one event's time goes: cProfile over the event path, by function.

Not part of `scripts/benchmark`; run it when a target of the event-path
benchmark is not met::

    .venv/bin/python -m tests.benchmarks.profile_path [devices] [live calls]

It sets one entry up with `devices` numbers (default 1), rings `live calls`
calls on its first number and leaves them ringing (default 0), then profiles
whole calls (ringing, answered, hung up) on random devices through
`webhook.async_handle_webhook`, and prints the functions that cost most,
by own time and by cumulative time.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import pstats
import sys

from tests.benchmarks.bench_hass import async_add_entry, async_bench_hass, numbers_for
from tests.benchmarks.rounds import async_deliver, quiet_and_uncollected
from tests.benchmarks.telnyx_traffic import as_requests
from tests.simulators.telnyx import TelnyxSimulator

CALLS = 1_000
SHOWN = 25


async def async_profile(devices: int, live: int) -> pstats.Stats:
    """Profile CALLS whole calls on an entry with `devices` devices."""
    simulator = TelnyxSimulator()
    await simulator.start()
    try:
        async with async_bench_hass() as hass:
            numbers = numbers_for(1, devices)
            entry = await async_add_entry(hass, simulator, "Profiled", numbers, 1)
            traffic = entry.traffic
            ringing = [traffic.ring(traffic.new_call(numbers[0])) for _ in range(live)]
            await async_deliver(hass, entry.webhook_id, as_requests(ringing))
            warm_up = as_requests(traffic.whole_calls(CALLS // 10))
            await async_deliver(hass, entry.webhook_id, warm_up)
            requests = as_requests(traffic.whole_calls(CALLS))
            gc.collect()
            gc.freeze()
            profile = cProfile.Profile()
            with quiet_and_uncollected():
                profile.enable()
                await async_deliver(hass, entry.webhook_id, requests)
                profile.disable()
            gc.unfreeze()
    finally:
        await simulator.close()
    return pstats.Stats(profile, stream=io.StringIO())


def print_profile(stats: pstats.Stats, events: int) -> None:
    """Print the costliest functions, by own and by cumulative time."""
    stats.strip_dirs()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(SHOWN)
        print(f"--- by {order}, {events:,} events ---")
        print(out.getvalue().split("\n\n", 2)[-1])


def main(argv: list[str]) -> None:
    """Profile and print; argv: [devices] [live calls]."""
    devices = int(argv[0]) if argv else 1
    live = int(argv[1]) if len(argv) > 1 else 0
    stats = asyncio.run(async_profile(devices, live))
    print_profile(stats, 3 * CALLS)


if __name__ == "__main__":
    main(sys.argv[1:])
