"""The figures of `scripts/bench`, each for Switchboard and for the floor.

Every figure is taken on both sides in the same run and the same `hass`,
in rounds that take turns (A B B A A B ...), so that a noisy neighbour hits
both alike; the report compares mins and medians of the rounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
import contextlib
from dataclasses import dataclass, field
import itertools
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
import time
from typing import Any, Final

import aiohttp

from tests.benchmarks.telnyx_traffic import CALLER, CALLER_NAME, Delivery

from .stack import AUTOMATION_IDS, Side, Stack

KINDS: Final = ("switchboard", "floor")
# Hangs only: how long one answer or state may take before the bench gives up.
WAIT_TIMEOUT: Final = 60.0
# After a round: let `hass` finish what the deliveries scheduled.
SETTLE: Final = 0.2


def turns(rounds: int, kinds: Sequence[str] = KINDS) -> list[str]:
    """Who goes in each round: A B B A A B B A ... (A B C C B A ... for three)."""
    order: list[str] = []
    for index in range(rounds):
        order += kinds if index % 2 == 0 else kinds[::-1]
    return order


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[rank]


@dataclass
class Figure:
    """One figure on both sides: per-round values, lower is better."""

    name: str
    unit: str
    rounds: dict[str, list[float]] = field(default_factory=dict)
    target: float | None = None  # the most the ratio may be
    higher_is_better: bool = False
    note: str = ""
    # The two sides compared, the first over the second.
    sides: tuple[str, str] = KINDS

    def __post_init__(self) -> None:
        """Start with no round on either side."""
        for kind in self.sides:
            self.rounds.setdefault(kind, [])

    def low(self, kind: str) -> float:
        """The best round of one side."""
        values = self.rounds[kind]
        return max(values) if self.higher_is_better else min(values)

    def mid(self, kind: str) -> float:
        """The median round of one side."""
        return statistics.median(self.rounds[kind])

    def ratios(self) -> tuple[float | None, float | None]:
        """Switchboard over the floor: of the best rounds, of the medians.

        None where the floor's figure is 0 (the floor keeps no memory per call).
        """
        return (
            _ratio(self.low(self.sides[0]), self.low(self.sides[1])),
            _ratio(self.mid(self.sides[0]), self.mid(self.sides[1])),
        )

    def met(self) -> bool | None:
        """Whether the best-round ratio meets the target; None without one."""
        best = self.ratios()[0]
        if self.target is None or best is None:
            return None
        if self.higher_is_better:
            return best >= self.target
        return best <= self.target

    def as_json(self) -> dict[str, Any]:
        """Everything measured, for the JSON file."""
        return {
            "name": self.name,
            "unit": self.unit,
            "sides": self.sides,
            "rounds": self.rounds,
            "ratio_min": self.ratios()[0],
            "ratio_median": self.ratios()[1],
            "target": self.target,
            "met": self.met(),
            "note": self.note,
        }


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom else None


# ------------------------------------------------------------- the process


def hass_cpu(pid: int) -> float:
    """CPU seconds `hass` has used, all its threads, in nanoseconds' precision."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def hass_rss(pid: int) -> int:
    """The resident set of `hass`, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


# ------------------------------------------------------------ deliveries


class Poster:
    """Posts signed deliveries to one side's webhook, as Telnyx would."""

    def __init__(self, session: aiohttp.ClientSession, stack: Stack) -> None:
        """Post through `session` to the stack's `hass`."""
        self._session = session
        self._root = stack.hass.url

    async def post(self, side: Side, delivery: Delivery) -> None:
        """One delivery; anything but 200 stops the bench."""
        async with self._session.post(
            f"{self._root}/api/webhook/{side.webhook_id}",
            data=delivery.body,
            headers=delivery.headers,
        ) as reply:
            if reply.status != 200:
                raise RuntimeError(
                    f"{side.kind} {side.size}: webhook answered {reply.status}"
                )

    async def calls(
        self, side: Side, calls: Sequence[Sequence[Delivery]], concurrency: int
    ) -> float:
        """Deliver whole calls, `concurrency` at a time; the wall time taken.

        Each call's deliveries go one after another, as Telnyx sends them.
        """
        queue = iter(calls)

        async def _worker() -> None:
            for deliveries in queue:
                for delivery in deliveries:
                    await self.post(side, delivery)

        start = time.perf_counter()
        await asyncio.gather(*(_worker() for _ in range(concurrency)))
        return time.perf_counter() - start


def whole_calls(
    side: Side, count: int, *, answered: bool = True
) -> list[list[Delivery]]:
    """`count` calls to the side's numbers, signed now: ring, answer, hang up."""
    traffic = side.traffic
    assert traffic is not None
    calls = []
    for _ in range(count):
        call = traffic.new_call()
        middle = [traffic.answer(call)] if answered else []
        calls.append([traffic.ring(call), *middle, traffic.hang_up(call)])
    return calls


# ------------------------------------------------------------- the figures


async def cpu_per_webhook(
    stack: Stack,
    poster: Poster,
    size: int,
    concurrency: int,
    rounds: int,
    calls: int,
    *,
    same_writes: bool = False,
) -> list[Figure]:
    """CPU time of `hass` per webhook, and webhooks per second.

    With `same_writes`, three sides take turns: Switchboard, the one-write
    floor and the floor writing as many entity states. Two figures then, for
    information: Switchboard over the floor writing as much, and that floor
    over the one-write floor (the bound: what showing as many entity states
    costs, whatever else an integration does or does not do).
    """
    label = f"{size:,} devices, concurrency {concurrency}"
    kinds = (*KINDS, "same") if same_writes else KINDS
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    rate: dict[str, list[float]] = {kind: [] for kind in kinds}
    for kind in turns(rounds, kinds):
        side = stack.side(kind, size)
        batch = whole_calls(side, calls)
        webhooks = sum(len(call) for call in batch)
        await asyncio.sleep(SETTLE)
        before = hass_cpu(stack.pid)
        wall = await poster.calls(side, batch, concurrency)
        await asyncio.sleep(SETTLE)
        cpu[kind].append((hass_cpu(stack.pid) - before) / webhooks * 1e6)
        rate[kind].append(webhooks / wall)
    if not same_writes:
        return [
            Figure(f"CPU per webhook, {label}", "µs", cpu, target=1.2),
            Figure(f"webhooks/s, {label}", "/s", rate, higher_is_better=True),
        ]
    return [
        Figure(
            f"CPU per webhook, {label}, floor with as many writes",
            "µs",
            cpu,
            sides=("switchboard", "same"),
        ),
        Figure(
            f"bound: floor with as many writes over the floor, CPU, {label}",
            "µs",
            cpu,
            sides=("same", "floor"),
        ),
    ]


class EntityWatch:
    """The frontend's view of the states: `subscribe_entities` on the websocket."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        """Read changes from an authenticated, subscribed websocket."""
        self._websocket = websocket
        self._waiting: dict[tuple[str, str], asyncio.Future[float]] = {}
        self._reader = asyncio.create_task(self._read())

    def expect(self, entity_id: str, state: str) -> asyncio.Future[float]:
        """A future of when `entity_id` next shows `state`."""
        future = asyncio.get_running_loop().create_future()
        self._waiting[entity_id, state] = future
        return future

    async def _read(self) -> None:
        while True:
            message = await self._websocket.receive_json()
            now = time.perf_counter()
            changes = message.get("event", {}).get("c", {})
            for entity_id, change in changes.items():
                shown = change.get("+", {}).get("s")
                future = self._waiting.pop((entity_id, shown), None)
                if future is not None and not future.done():
                    future.set_result(now)

    async def close(self) -> None:
        """Stop reading."""
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def entity_watch(
    session: aiohttp.ClientSession, stack: Stack
) -> AsyncIterator[EntityWatch]:
    """Subscribe as the frontend does; yield the watch."""
    async with session.ws_connect(f"{stack.hass.url}/api/websocket") as websocket:
        assert (await websocket.receive_json())["type"] == "auth_required"
        await websocket.send_json({"type": "auth", "access_token": stack.token})
        assert (await websocket.receive_json())["type"] == "auth_ok"
        await websocket.send_json({"id": 1, "type": "subscribe_entities"})
        while (await websocket.receive_json()).get("type") != "result":
            pass
        watch = EntityWatch(websocket)
        try:
            yield watch
        finally:
            await watch.close()


async def state_latency(
    stack: Stack,
    poster: Poster,
    session: aiohttp.ClientSession,
    rounds: int,
    samples: int,
) -> tuple[Figure, Figure]:
    """Webhook posted -> the entity's new state on the websocket: p50 and p99."""
    p50 = Figure("webhook -> state, p50 (2 devices)", "ms")
    p99 = Figure("webhook -> state, p99 (2 devices)", "ms")
    measured: dict[str, list[float]] = {kind: [] for kind in KINDS}
    async with entity_watch(session, stack) as watch:
        for kind in turns(rounds):
            side = stack.side(kind, 2)
            traffic = side.traffic
            assert traffic is not None
            this_round = []
            for index in range(samples):
                number = side.numbers[index % len(side.numbers)]
                entity = side.call_entity(number)
                call = traffic.new_call(number)
                ringing = watch.expect(entity, "ringing")
                start = time.perf_counter()
                await poster.post(side, traffic.ring(call))
                shown = await asyncio.wait_for(ringing, WAIT_TIMEOUT)
                this_round.append((shown - start) * 1e3)
                idle = watch.expect(entity, "idle")
                await poster.post(side, traffic.hang_up(call))
                await asyncio.wait_for(idle, WAIT_TIMEOUT)
            measured[kind] += this_round
            p50.rounds[kind].append(percentile(this_round, 0.5))
            p99.rounds[kind].append(percentile(this_round, 0.99))
    for kind in KINDS:
        p50.note += f"{kind} all samples p50 {percentile(measured[kind], 0.5):.2f} ms; "
        p99.note += (
            f"{kind} all samples p99 {percentile(measured[kind], 0.99):.2f} ms; "
        )
    return p50, p99


async def _automations(stack: Stack, service: str) -> None:
    await asyncio.to_thread(
        stack.hass.expect,
        "POST",
        f"/api/services/automation/{service}",
        {"entity_id": list(AUTOMATION_IDS.values())},
        token=stack.token,
    )


async def ring_to_answer(
    stack: Stack, concurrency: int, rounds: int
) -> tuple[Figure, Figure]:
    """A call rings -> an automation answers -> the simulator has the answer."""
    label = f"{concurrency} concurrent"
    p50 = Figure(f"ring -> answer, p50, {label}", "ms")
    p99 = Figure(
        f"ring -> answer, p99, {label}",
        "ms",
        target=1.5 if concurrency == 200 else None,
    )
    simulator = stack.simulator
    for kind in turns(rounds):
        side = stack.side(kind, 2)
        numbers = itertools.cycle(side.numbers)
        started: dict[str, float] = {}

        async def _ring(number: str, started: dict[str, float] = started) -> None:
            start = time.perf_counter()
            call_id = await simulator.ring(number, CALLER, caller_id_name=CALLER_NAME)
            started[call_id] = start
            if call_id not in simulator.answered_at:
                simulator.answer_waiters[call_id] = (
                    asyncio.get_running_loop().create_future()
                )

        await asyncio.gather(*(_ring(next(numbers)) for _ in range(concurrency)))
        waiting = [
            future
            for call_id in started
            if (future := simulator.answer_waiters.get(call_id)) is not None
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*waiting), WAIT_TIMEOUT)
        finally:
            for call_id in started:
                simulator.answer_waiters.pop(call_id, None)
        took = [(simulator.answered_at[c] - s) * 1e3 for c, s in started.items()]
        p50.rounds[kind].append(percentile(took, 0.5))
        p99.rounds[kind].append(percentile(took, 0.99))
        await simulator.wait_for_webhooks()
        for call_id in started:
            await simulator.remote_hangup(call_id)
        await simulator.wait_for_webhooks()
        await asyncio.sleep(SETTLE)
    return p50, p99


async def live_call_memory(
    stack: Stack, poster: Poster, calls: int, rounds: int
) -> Figure:
    """RSS per live call, with 1,000 devices: `calls` ring, then all end."""
    figure = Figure(f"RSS per live call ({calls:,} live, 1,000 devices)", "B")
    for kind in turns(rounds):
        side = stack.side(kind, 1000)
        traffic = side.traffic
        assert traffic is not None
        live = [traffic.new_call(side.numbers[n % 1000]) for n in range(calls)]
        await asyncio.sleep(1.0)
        before = hass_rss(stack.pid)
        await poster.calls(side, [[traffic.ring(call)] for call in live], 50)
        await asyncio.sleep(1.0)
        figure.rounds[kind].append(max(0, hass_rss(stack.pid) - before) / calls)
        await poster.calls(side, [[traffic.hang_up(call)] for call in live], 50)
    return figure


async def churn(
    stack: Stack, poster: Poster, warm_up: int, calls: int, tolerance: int
) -> dict[str, Any]:
    """RSS after `calls` calls came and went, over the RSS after a warm-up.

    Calls of the 1,000-device entry (ring, then the caller gives up), 50 at a
    time, signed in batches (a signature is good for five minutes);
    Switchboard first, then the floor. RSS is read after the warm-up, half
    way and at the end: memory that grows in the second half as in the first
    is kept per call; growth that stops is the allocator settling.
    """
    result: dict[str, Any] = {"calls": calls, "warm_up": warm_up}
    for kind in KINDS:
        side = stack.side(kind, 1000)

        async def _run(count: int, side: Side = side) -> None:
            for start in range(0, count, 5000):
                batch = whole_calls(side, min(5000, count - start), answered=False)
                await poster.calls(side, batch, 50)

        await _run(warm_up)
        await asyncio.sleep(2.0)
        baseline = hass_rss(stack.pid)
        began = time.perf_counter()
        await _run(calls // 2)
        await asyncio.sleep(2.0)
        half = hass_rss(stack.pid)
        await _run(calls - calls // 2)
        took = time.perf_counter() - began
        await asyncio.sleep(2.0)
        after = hass_rss(stack.pid)
        result[kind] = {
            "baseline": baseline,
            "half": half,
            "after": after,
            "growth": after - baseline,
            "second_half": after - half,
            "seconds": took,
        }
    result["tolerance"] = tolerance
    result["met"] = result["switchboard"]["growth"] <= tolerance
    return result


IMPORTS: Final = {
    "switchboard": (
        "custom_components.switchboard",
        "custom_components.switchboard.config_flow",
        "custom_components.switchboard.sensor",
        "custom_components.switchboard.event",
        "custom_components.switchboard.button",
    ),
    "floor": (
        "custom_components.switchboard_bench_floor",
        "custom_components.switchboard_bench_floor.config_flow",
        "custom_components.switchboard_bench_floor.sensor",
    ),
}
# What Home Assistant has imported before it sets an integration up.
PRELOADED: Final = (
    "homeassistant.core",
    "homeassistant.config_entries",
    "homeassistant.helpers.entity_platform",
    "homeassistant.helpers.config_validation",
    "homeassistant.components.webhook",
    "homeassistant.components.sensor",
    "homeassistant.components.button",
    "homeassistant.components.event",
)


def _import_seconds(config_dir: Path, modules: Sequence[str]) -> float:
    script = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(config_dir)!r})\n"
        + "".join(f"import {module}\n" for module in PRELOADED)
        + "start = time.perf_counter()\n"
        + "".join(f"import {module}\n" for module in modules)
        + "print(time.perf_counter() - start)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        capture_output=True,
        check=True,
        text=True,
        cwd=config_dir,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return float(done.stdout.strip())


async def import_time(stack: Stack, rounds: int) -> Figure:
    """Importing the integration and its platforms, in a fresh interpreter."""
    figure = Figure("import time (after Home Assistant's own)", "ms")
    config_dir = stack.hass.config_dir
    for kind in turns(rounds):
        seconds = await asyncio.to_thread(_import_seconds, config_dir, IMPORTS[kind])
        figure.rounds[kind].append(seconds * 1e3)
    return figure


async def set_up_time(stack: Stack, size: int, rounds: int) -> Figure:
    """Reloading an entry with `size` devices (unload, then set up)."""
    figure = Figure(f"entry set-up, {size:,} devices (reload)", "ms")
    for kind in turns(rounds):
        side = stack.side(kind, size)
        start = time.perf_counter()
        await asyncio.to_thread(
            stack.hass.expect,
            "POST",
            f"/api/config/config_entries/entry/{side.entry_id}/reload",
            token=stack.token,
        )
        figure.rounds[kind].append((time.perf_counter() - start) * 1e3)
        await asyncio.sleep(SETTLE)
    return figure


async def with_automations(
    stack: Stack, work: Callable[[], Awaitable[list[Figure]]]
) -> list[Figure]:
    """Run `work` with the answering automations on."""
    await _automations(stack, "turn_on")
    try:
        return await work()
    finally:
        await _automations(stack, "turn_off")


def dump(path: Path, data: dict[str, Any]) -> None:
    """Write the JSON results."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
