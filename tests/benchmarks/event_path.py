"""One event's path, measured in process against Home Assistant's own floor.

Signed Telnyx webhook body -> `webhook.async_handle_webhook` -> Switchboard's
handler -> hub -> CallBook -> entity state written, inside a Home Assistant
test instance whose entries are set up against the Telnyx simulator on
loopback. Beside it, in the same process and interleaved with it, the floor
(tests/bench/floor_integration, the one `scripts/bench` uses) handles the
same kind of deliveries, on entries of its own over the same numbers.

Three measurements (CPU per event, ring rate with live calls, memory per call)
are printed with whether each target is met. Nothing fails on a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import gc

from aiohttp import web
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback

from tests.benchmarks.bench_hass import (
    BenchEntry,
    async_add_entry,
    async_add_floor,
    async_bench_hass,
    async_settle,
    numbers_for,
)
from tests.benchmarks.memory import async_measure_memory, remember_sources
from tests.benchmarks.report import EventCase, RingCase, print_report
from tests.benchmarks.rounds import Side, async_deliver, async_interleave
from tests.benchmarks.telnyx_traffic import SimulatedCall, as_requests
from tests.simulators.telnyx import TelnyxSimulator

ROUNDS = 11
CALLS_PER_ROUND = 100  # 300 events: ringing, answered, hung up
RINGS_PER_ROUND = 150
LIVE_CALLS = 2_000
MANY_DEVICES = 1_000


@dataclass(frozen=True, slots=True)
class Bench:
    """The instance, its entries and the floor beside them."""

    hass: HomeAssistant
    # The floor's webhook id over the numbers of each entry, by its title.
    floor: dict[str, str]
    # The same floor writing as many entity states as ours, by entry title.
    matched: dict[str, str]
    one: BenchEntry  # 1 device, no live call
    many: BenchEntry  # 1 000 devices, no live call
    one_loaded: BenchEntry  # 1 device holding LIVE_CALLS ringing calls
    many_loaded: BenchEntry  # 1 000 devices sharing LIVE_CALLS ringing calls


async def async_deliver_all(
    hass: HomeAssistant, webhook_id: str, requests: Sequence[web.Request]
) -> None:
    """Deliver untimed; every delivery must be accepted."""
    if refused := await async_deliver(hass, webhook_id, requests):
        raise RuntimeError(f"{refused} of {len(requests)} deliveries were refused")


async def async_set_up(hass: HomeAssistant, simulator: TelnyxSimulator) -> Bench:
    """Set the four entries up, register the floor, ring the live calls."""
    entries = [
        await async_add_entry(hass, simulator, title, numbers_for(index, count), index)
        for index, (title, count) in enumerate(
            (
                ("One", 1),
                ("Many", MANY_DEVICES),
                ("One loaded", 1),
                ("Many loaded", MANY_DEVICES),
            ),
            start=1,
        )
    ]
    one, many, one_loaded, many_loaded = entries
    floor, matched = {}, {}
    for seed, entry in enumerate((one, many), start=1):
        numbers = list(entry.traffic.numbers)
        floor[entry.title] = await async_add_floor(hass, simulator, numbers, seed)
        matched[entry.title] = await async_add_floor(
            hass, simulator, numbers, seed + 10, as_switchboard=True
        )
    for loaded in (one_loaded, many_loaded):
        calls = [loaded.traffic.new_call() for _ in range(LIVE_CALLS)]
        requests = as_requests([loaded.traffic.ring(call) for call in calls])
        await async_deliver_all(hass, loaded.webhook_id, requests)
        if len(loaded.hub.calls) != LIVE_CALLS:
            raise RuntimeError(f"{loaded.title}: {len(loaded.hub.calls)} live calls")
    return Bench(hass, floor, matched, one, many, one_loaded, many_loaded)


async def async_writes_per_event(
    hass: HomeAssistant, webhook_id: str, requests: Sequence[web.Request]
) -> float:
    """Deliver untimed (a warm-up) and count the state writes per delivery."""
    writes = 0

    @callback
    def _count(_event: Event[EventStateChangedData]) -> None:
        nonlocal writes
        writes += 1

    stop = hass.bus.async_listen(EVENT_STATE_CHANGED, _count)
    try:
        await async_deliver_all(hass, webhook_id, requests)
    finally:
        stop()
    return writes / len(requests)


async def async_measure_events(bench: Bench, entry: BenchEntry) -> EventCase:
    """CPU and wall per event: whole calls on one device each, ours vs floor."""
    hass = bench.hass
    floor, matched = bench.floor[entry.title], bench.matched[entry.title]

    def _make() -> list[web.Request]:
        return as_requests(entry.traffic.whole_calls(CALLS_PER_ROUND))

    floor_writes = await async_writes_per_event(hass, floor, _make())
    matched_writes = await async_writes_per_event(hass, matched, _make())
    our_writes = await async_writes_per_event(hass, entry.webhook_id, _make())
    if not our_writes:
        raise RuntimeError(f"{entry.title}: the deliveries changed no state")
    series = await async_interleave(
        hass,
        [
            Side("floor", floor, _make),
            Side("switchboard", entry.webhook_id, _make),
            Side("same writes", matched, _make),
        ],
        ROUNDS,
    )
    if len(entry.hub.calls):
        raise RuntimeError(f"{entry.title}: calls left live after whole calls")
    return EventCase(
        label=f"{entry.device_count:,} device{'s' if entry.device_count > 1 else ''}",
        floor=series["floor"],
        ours=series["switchboard"],
        matched=series["same writes"],
        floor_writes=floor_writes,
        our_writes=our_writes,
        matched_writes=matched_writes,
    )


class Ringer:
    """One side of the ring measurement: rings calls, and ends them untimed."""

    def __init__(self, hass: HomeAssistant, entry: BenchEntry, label: str) -> None:
        """Ring on `entry`'s devices, one chosen at random per call."""
        self._hass = hass
        self._entry = entry
        self._calls: list[SimulatedCall] = []
        self.label = label

    def side(self) -> Side:
        """Return the ringer as a side of an interleaved measurement."""
        return Side(self.label, self._entry.webhook_id, self._make, self._async_end)

    def _make(self) -> list[web.Request]:
        traffic = self._entry.traffic
        self._calls = [traffic.new_call() for _ in range(RINGS_PER_ROUND)]
        return as_requests([traffic.ring(call) for call in self._calls])

    async def _async_end(self) -> None:
        traffic = self._entry.traffic
        requests = as_requests([traffic.hang_up(call) for call in self._calls])
        await async_deliver_all(self._hass, self._entry.webhook_id, requests)


async def async_measure_rings(bench: Bench) -> list[RingCase]:
    """Rings per second with no live call and with LIVE_CALLS live calls."""
    hass = bench.hass
    many = Ringer(hass, bench.many, f"{MANY_DEVICES:,} devices, 0 live")
    many_loaded = Ringer(
        hass,
        bench.many_loaded,
        f"{MANY_DEVICES:,} devices, {LIVE_CALLS:,} live (spread)",
    )
    one = Ringer(hass, bench.one, "1 device, 0 live")
    one_loaded = Ringer(
        hass, bench.one_loaded, f"1 device, {LIVE_CALLS:,} live (same device)"
    )

    def _floor_rings() -> list[web.Request]:
        traffic = bench.many.traffic
        rings = [traffic.ring(traffic.new_call()) for _ in range(RINGS_PER_ROUND)]
        return as_requests(rings)

    sides = [
        Side("floor", bench.floor[bench.many.title], _floor_rings),
        *(ringer.side() for ringer in (many, many_loaded, one, one_loaded)),
    ]
    series = await async_interleave(hass, sides, ROUNDS)
    floor = series["floor"]
    return [
        RingCase(series[many_loaded.label], series[many.label], floor),
        RingCase(series[one_loaded.label], series[one.label], floor),
    ]


async def async_run() -> None:
    """Set everything up, measure, tear down, print."""
    simulator = TelnyxSimulator()
    await simulator.start()
    try:
        async with async_bench_hass() as hass:
            bench = await async_set_up(hass, simulator)
            await async_settle(hass)
            remember_sources()
            # What set-up made lives on: collections between rounds skip it.
            gc.collect()
            gc.freeze()
            try:
                events = [
                    await async_measure_events(bench, bench.one),
                    await async_measure_events(bench, bench.many),
                ]
                rings = await async_measure_rings(bench)
                memory = await async_measure_memory(hass, bench.many, bench.one)
            finally:
                gc.unfreeze()
    finally:
        await simulator.close()
    print_report(events, rings, memory)
