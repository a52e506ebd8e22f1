"""Memory per live call, and memory once calls have come and gone.

Measured with tracemalloc: a reading is what is still allocated, after
`gc.collect()`, of what was allocated since tracing began. Each measurement
first runs a traced warm-up, so that the CallBook's bounded memories (recent
event ids, recently ended calls) already hold traced ids of the same kind at
the baseline: what they swap is not taken for growth.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
import gc
import linecache
from pathlib import Path
import sys
import time
import tracemalloc

from homeassistant.core import HomeAssistant

from custom_components.switchboard.providers.base import WebhookProvider
from custom_components.switchboard.providers.model import CallEvent
from tests.benchmarks.bench_hass import BenchEntry
from tests.benchmarks.rounds import async_deliver, quiet_and_uncollected
from tests.benchmarks.telnyx_traffic import Delivery, as_request

LIVE_CALLS = 5_000
LIVE_DEVICES = 100
# More events than the CallBook remembers (2 048), more calls than it keeps
# ended, and enough whole calls to fill what else is bounded on the path: with
# 800 calls of warm-up, 2 000 and 6 000 more calls grew memory by about 50 B a
# call; after 12 000, 6 000 more grew it by 5 KB in all (under 1 B a call),
# so the growth was a bounded store filling, not a leak.
WARM_UP_CALLS = 12_000
FULL_PATH_CALLS = 6_000
HUB_CALLS = 100_000
HUB_WARM_UP = 3_200  # rings and ends, past what the CallBook keeps
HUB_BATCH = 1_000
# The hub's calls ring here: a device id no entity follows, so that 100 000
# calls take seconds, not minutes (the entities are in the full-path figures).
UNFOLLOWED_DEVICE = "bench-no-entity-follows-this"
TOP_LINES = 6
_OURS = str(Path("custom_components") / "switchboard")

type Line = tuple[str, int]  # "file:line  code", bytes


@dataclass(frozen=True, slots=True)
class LiveCalls:
    """What calls left ringing keep allocated, and what is left once they end."""

    calls: int
    devices: int
    retained: int  # bytes while all are live, over the baseline
    marginal: float  # bytes per call that the second half added
    ours: int  # of `retained`, bytes allocated by custom_components/switchboard
    top: list[Line]  # the lines that allocated most of `retained`
    left: int  # bytes over the baseline once every call ended
    left_at: list[Line]  # where those bytes are


@dataclass(frozen=True, slots=True)
class Churn:
    """Traced memory before and after calls rang and ended one after another."""

    path: str
    calls: int
    baseline: int
    after: int
    growth: list[Line]  # where memory grew most

    @property
    def difference(self) -> int:
        """Bytes over the baseline."""
        return self.after - self.baseline


@dataclass(frozen=True, slots=True)
class MemoryFigures:
    """The memory measurements."""

    live: LiveCalls
    churns: list[Churn]


def remember_sources() -> None:
    """Read Switchboard's sources now, so lines are quoted as they ran.

    Files may be edited while the benchmark runs; linecache keeps what it read.
    """
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.startswith("custom_components.switchboard") and path:
            linecache.getlines(path)


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def _where(frame: tracemalloc.Frame) -> str:
    """Name a line shortly, with its code: switchboard/..., a package, stdlib."""
    name = frame.filename
    for marker, prefix in ((_OURS, "switchboard"), ("site-packages/", "")):
        if (start := name.find(marker)) >= 0:
            short = prefix + name[start + len(marker) :]
            break
    else:
        short = Path(name).name if name.startswith("/") else name
    code = linecache.getline(name, frame.lineno).strip()
    if name == "<string>":
        code = "(code made at run time: a dataclass __init__)"
    return f"{short}:{frame.lineno}  {code[:56]}"


def _only_ours(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    return snapshot.filter_traces([tracemalloc.Filter(True, f"*{_OURS}*")])


def _growth(
    after: tracemalloc.Snapshot, before: tracemalloc.Snapshot
) -> tuple[int, list[Line]]:
    """Bytes more in `after` than in `before`, and the lines that grew most.

    Formatting reads source files into linecache: only once tracing stopped.
    """
    stats = after.compare_to(before, "lineno")
    top = [(_where(stat.traceback[0]), stat.size_diff) for stat in stats[:TOP_LINES]]
    return sum(stat.size_diff for stat in stats), top


async def _async_deliver_lazily(
    hass: HomeAssistant, entry: BenchEntry, deliveries: Iterable[Delivery]
) -> None:
    """Deliver through the full path, each request made just before and dropped.

    A request kept alive would count: headers iterated once keep what
    multidict made for them.
    """
    requests = (as_request(delivery) for delivery in deliveries)
    if refused := await async_deliver(hass, entry.webhook_id, requests):
        raise RuntimeError(f"{entry.title}: {refused} deliveries were refused")


async def async_full_path(
    hass: HomeAssistant, entry: BenchEntry
) -> tuple[LiveCalls, Churn]:
    """Through the full path: whole calls one after another, then live calls.

    All on the first LIVE_DEVICES devices, which the warm-up rings first, so
    that every device already shows a call's aftermath at the baseline.
    FULL_PATH_CALLS whole calls (ringing, answered, hung up) must leave memory
    at its baseline. Then LIVE_CALLS calls ring, read at half and at all of
    them (the marginal figure leaves fixed costs out), and end.
    """
    traffic = entry.traffic
    numbers = traffic.numbers[:LIVE_DEVICES]
    warm_up = traffic.whole_calls(WARM_UP_CALLS, numbers)
    whole = traffic.whole_calls(FULL_PATH_CALLS, numbers)
    calls = [traffic.new_call(numbers[n % len(numbers)]) for n in range(LIVE_CALLS)]
    rings = [traffic.ring(call) for call in calls]
    ends = [traffic.hang_up(call) for call in calls]
    half = LIVE_CALLS // 2
    with quiet_and_uncollected():
        tracemalloc.start()
        try:
            await _async_deliver_lazily(hass, entry, warm_up)
            baseline, start = _traced(), tracemalloc.take_snapshot()
            await _async_deliver_lazily(hass, entry, whole)
            at_rest, rest = _traced(), tracemalloc.take_snapshot()
            await _async_deliver_lazily(hass, entry, rings[:half])
            halfway = _traced()
            await _async_deliver_lazily(hass, entry, rings[half:])
            live, ringing = _traced(), tracemalloc.take_snapshot()
            await _async_deliver_lazily(hass, entry, ends)
            ended, done = _traced(), tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    if len(entry.hub.calls):
        raise RuntimeError(f"{entry.title}: the live calls did not all end")
    ours = _growth(_only_ours(ringing), _only_ours(rest))[0]
    live_calls = LiveCalls(
        calls=LIVE_CALLS,
        devices=len(numbers),
        retained=live - at_rest,
        marginal=(live - halfway) / (LIVE_CALLS - half),
        ours=ours,
        top=_growth(ringing, rest)[1],
        left=ended - at_rest,
        left_at=_growth(done, rest)[1],
    )
    churn = Churn(
        "full path", FULL_PATH_CALLS, baseline, at_rest, _growth(rest, start)[1]
    )
    return live_calls, churn


async def _async_templates(entry: BenchEntry) -> tuple[CallEvent, CallEvent]:
    """One ring and one hang-up as the entry's Telnyx client parses them."""
    provider = entry.hub.provider
    if not isinstance(provider, WebhookProvider):
        raise TypeError(f"{entry.title}: not a webhook provider")
    traffic = entry.traffic
    call = traffic.new_call()
    parsed: list[CallEvent] = []
    for delivery in (traffic.ring(call), traffic.hang_up(call)):
        parsed += await provider.async_parse_webhook(
            delivery.headers, delivery.body, time.time()
        )
    ring, end = (replace(event, device_ids=(UNFOLLOWED_DEVICE,)) for event in parsed)
    return ring, end


def _hub_batches(
    ring: CallEvent, end: CallEvent, first: int, calls: int
) -> Iterator[list[CallEvent]]:
    """The parsed events again with fresh ids: `calls` calls, in batches."""
    at, _rank = ring.order
    for start in range(first, first + calls, HUB_BATCH):
        batch: list[CallEvent] = []
        for number in range(start, min(start + HUB_BATCH, first + calls)):
            call_id, order = f"v3:churn-{number:09d}", at + number
            batch += (
                replace(
                    ring, event_id=f"r{number:09d}", call_id=call_id, order=(order, 0)
                ),
                replace(
                    end, event_id=f"e{number:09d}", call_id=call_id, order=(order, 3)
                ),
            )
        yield batch


async def _async_hub_deliver(
    hass: HomeAssistant, entry: BenchEntry, batches: Iterator[list[CallEvent]]
) -> None:
    for batch in batches:
        entry.hub.async_deliver(batch)
        await hass.async_block_till_done()


async def async_hub_churn(hass: HomeAssistant, entry: BenchEntry) -> Churn:
    """Ring and end HUB_CALLS calls through the hub; compare traced memory.

    The events are the Telnyx client's parse of one signed ring and one signed
    hang-up, given fresh event and call ids: signing and checking 200 000
    deliveries would take minutes.
    """
    ring, end = await _async_templates(entry)
    with quiet_and_uncollected():
        tracemalloc.start()
        try:
            warm_up = _hub_batches(ring, end, 0, HUB_WARM_UP)
            await _async_hub_deliver(hass, entry, warm_up)
            baseline, before = _traced(), tracemalloc.take_snapshot()
            churn = _hub_batches(ring, end, HUB_WARM_UP, HUB_CALLS)
            await _async_hub_deliver(hass, entry, churn)
            after, snapshot = _traced(), tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    if len(entry.hub.calls):
        raise RuntimeError(f"{entry.title}: churned calls left live")
    return Churn("hub", HUB_CALLS, baseline, after, _growth(snapshot, before)[1])


async def async_measure_memory(
    hass: HomeAssistant, spread: BenchEntry, churned: BenchEntry
) -> MemoryFigures:
    """The full path on `spread`'s devices; the long churn in `churned`'s hub."""
    live, full_path = await async_full_path(hass, spread)
    hub = await async_hub_churn(hass, churned)
    return MemoryFigures(live, [full_path, hub])
