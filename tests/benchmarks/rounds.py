"""Timed rounds of webhook deliveries, interleaved between sides, and their stats.

A round hands pre-made requests one after another to Home Assistant's
`webhook.async_handle_webhook`, then lets the loop finish what they scheduled.
Before it: `gc.collect()`; during it: the collector off and logging disabled;
after it: both back. Sides take turns A B B A A B ..., so that neither always
runs first or right after the other's untimed clean-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
import gc
from http import HTTPStatus
import logging
import statistics
import time

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant


@dataclass(frozen=True, slots=True)
class RoundTime:
    """Seconds per delivery in one round: CPU (process time) and wall clock."""

    cpu: float
    wall: float


@dataclass(slots=True)
class Series:
    """The rounds of one side."""

    label: str
    rounds: list[RoundTime] = field(default_factory=list)
    per_round: int = 0  # deliveries in a round

    @property
    def cpu(self) -> list[float]:
        """CPU seconds per delivery, one per round."""
        return [round_.cpu for round_ in self.rounds]

    @property
    def wall(self) -> list[float]:
        """Wall seconds per delivery, one per round."""
        return [round_.wall for round_ in self.rounds]


def low(values: Sequence[float]) -> float:
    """The best (lowest) of the rounds: the least disturbed by other load."""
    return min(values)


def mid(values: Sequence[float]) -> float:
    """The median of the rounds."""
    return statistics.median(values)


@contextmanager
def quiet_and_uncollected() -> Iterator[None]:
    """Collect garbage now; no collector and no logging until the block ends."""
    gc.collect()
    gc.disable()
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        gc.enable()


async def async_deliver(
    hass: HomeAssistant, webhook_id: str, requests: Iterable[web.Request]
) -> int:
    """Hand each request to Home Assistant's webhook entry; count non-200 answers."""
    refused = 0
    for request in requests:
        response = await webhook.async_handle_webhook(hass, webhook_id, request)
        if response.status != HTTPStatus.OK:
            refused += 1
    await hass.async_block_till_done()
    return refused


async def async_time_round(
    hass: HomeAssistant, webhook_id: str, requests: Sequence[web.Request]
) -> RoundTime:
    """Deliver the requests in one timed round; raise if any was refused."""
    with quiet_and_uncollected():
        cpu, wall = time.process_time(), time.perf_counter()
        refused = await async_deliver(hass, webhook_id, requests)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if refused:
        raise RuntimeError(f"{refused} of {len(requests)} deliveries were refused")
    return RoundTime(cpu / len(requests), wall / len(requests))


@dataclass(frozen=True, slots=True)
class Side:
    """One contender of an interleaved measurement.

    `make` builds a round's requests (signed, untimed); `after` undoes what the
    round left (ends the calls it rang), untimed.
    """

    label: str
    webhook_id: str
    make: Callable[[], list[web.Request]]
    after: Callable[[], Awaitable[None]] | None = None


async def async_interleave(
    hass: HomeAssistant, sides: Sequence[Side], rounds: int
) -> dict[str, Series]:
    """Run `rounds` timed rounds of every side, taking turns A B B A A B ..."""
    series = {side.label: Series(side.label) for side in sides}
    for number in range(rounds):
        order = sides if number % 2 == 0 else list(reversed(sides))
        for side in order:
            requests = side.make()
            timed = await async_time_round(hass, side.webhook_id, requests)
            series[side.label].rounds.append(timed)
            series[side.label].per_round = len(requests)
            if side.after is not None:
                await side.after()
    return series
