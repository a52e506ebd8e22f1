"""The event-path benchmark's tables, legend and one line per target.

Every comparison is a ratio within one run: of the lowest rounds of each side
(the least disturbed by other load on a shared machine) and of the medians.
A target is judged on the ratio of the lowest rounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tests.benchmarks.memory import Churn, Line, LiveCalls, MemoryFigures
from tests.benchmarks.rounds import Series, low, mid

CPU_TARGET = 1.2  # Switchboard / floor, CPU per event
RING_TARGET = 0.9  # rings/s with live calls / without
LIVE_CALL_TARGET = 1024  # bytes per live call
CHURN_TOLERANCE = 1  # bytes per call still allocated once the calls ended
# Noise a reading may carry, whatever the number of calls: Home Assistant's
# background work (timers, storage) and the hash tables of the CallBook's
# bounded memories, which resize in steps of ~85 KiB as ids come and go.
CHURN_SLACK = 256 * 1024
_US = 1e6

LEGEND = f"""\
Legend:
  floor: the integration scripts/bench measures against
    (tests/bench/floor_integration): its webhook checks the same Ed25519
    signature and replay window, json.loads the body and writes one entity
    state; reached through the same webhook.async_handle_webhook as
    Switchboard.
  same writes: the same floor writing as many entity states per event as
    Switchboard's entities of a number show (call, caller, event; the last
    call too at the end); "ratio, same writes" is Switchboard over it, for
    information: the target is judged against the one-write floor.
  bound: the same-writes floor over the one-write floor, the least that any
    integration showing those entities can cost against the target.
  writes/event: state_changed events per delivery (counted in a warm-up round).
  CPU: time.process_time per delivery; wall: time.perf_counter per delivery.
  min / best: the least disturbed round; ratios are of mins and of medians,
    always between sides measured interleaved in this run (A B B A ...).
  retained / marginal: traced bytes kept per live call, over no call / added by
    the second half of the calls (which leaves fixed per-device costs out).
  targets (judged on mins): CPU Switchboard/floor <= {CPU_TARGET} with 1 and 1,000
    devices; rings/s with 2,000 live calls / with none >= {RING_TARGET}; retained
    bytes per live call <= {LIVE_CALL_TARGET}; once calls ended, traced memory within
    {CHURN_TOLERANCE} B per call + {CHURN_SLACK // 1024} KiB of the baseline.
"""


@dataclass(frozen=True, slots=True)
class EventCase:
    """Whole calls on one entry: the floor's rounds and ours."""

    label: str
    floor: Series
    ours: Series
    # A floor that writes as many states per event as Switchboard does.
    matched: Series
    floor_writes: float
    our_writes: float
    matched_writes: float

    @property
    def cpu_ratio(self) -> tuple[float, float]:
        """Ours / floor, CPU per event: of the lowest rounds, of the medians."""
        return _ratios(self.ours.cpu, self.floor.cpu)

    @property
    def matched_ratio(self) -> tuple[float, float]:
        """Ours / the as-many-writes floor, CPU per event."""
        return _ratios(self.ours.cpu, self.matched.cpu)

    @property
    def bound(self) -> tuple[float, float]:
        """The as-many-writes floor / the floor: what showing as much costs."""
        return _ratios(self.matched.cpu, self.floor.cpu)

    @property
    def wall_ratio(self) -> tuple[float, float]:
        """Ours / floor, wall per event: of the lowest rounds, of the medians."""
        return _ratios(self.ours.wall, self.floor.wall)


@dataclass(frozen=True, slots=True)
class RingCase:
    """Rings on an entry holding live calls, on one without, and the floor's."""

    loaded: Series
    empty: Series
    floor: Series

    @property
    def rate_ratio(self) -> tuple[float, float]:
        """Rings/s with live calls / without (= time without / time with)."""
        return _ratios(self.empty.cpu, self.loaded.cpu)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One target: what it asks, what was measured, whether it is met."""

    name: str
    measured: str
    met: bool


def _ratios(top: Sequence[float], bottom: Sequence[float]) -> tuple[float, float]:
    return low(top) / low(bottom), mid(top) / mid(bottom)


def _kib(size: float) -> str:
    return f"{size / 1024:,.1f} KiB"


def churn_tolerance(calls: int) -> int:
    """Bytes over the baseline still called "back to baseline" after `calls`."""
    return CHURN_TOLERANCE * calls + CHURN_SLACK


def print_report(
    events: Sequence[EventCase], rings: Sequence[RingCase], memory: MemoryFigures
) -> None:
    """Print the three tables, the legend and the verdicts."""
    print()
    print("Event path: signed Telnyx webhook -> webhook.async_handle_webhook ->")
    print("  Switchboard's handler -> hub -> CallBook -> entity states, in process")
    verdicts = [
        *_print_events(events),
        *_print_rings(rings),
        *_print_memory(memory),
    ]
    print()
    print(LEGEND)
    print("Targets:")
    for verdict in verdicts:
        met = "met" if verdict.met else "NOT met"
        print(f"  {verdict.name}: {verdict.measured} -> {met}")


def _print_events(cases: Sequence[EventCase]) -> list[Verdict]:
    first = cases[0].ours
    print()
    print(
        f"1. Per event: {len(first.rounds)} rounds x {first.per_round} events a side;"
        " whole calls (ringing,"
    )
    print("   answered, hung up), each on a device chosen at random")
    print(f"   {'':28}{'writes':>7}{'CPU us/event':>19}{'wall us/event':>19}")
    print(f"   {'case':15}{'side':13}{'/event':>7}", end="")
    print(f"{'min':>9}{'median':>10}{'min':>9}{'median':>10}")
    verdicts: list[Verdict] = []
    for case in cases:
        for label, series, writes in (
            (case.label, case.floor, case.floor_writes),
            ("", case.ours, case.our_writes),
            ("", case.matched, case.matched_writes),
        ):
            print(f"   {label:15}{series.label:13}{writes:>7.2f}", end="")
            print(
                f"{low(series.cpu) * _US:>9.0f}{mid(series.cpu) * _US:>10.0f}", end=""
            )
            print(f"{low(series.wall) * _US:>9.0f}{mid(series.wall) * _US:>10.0f}")
        (cpu_low, cpu_mid), (wall_low, wall_mid) = case.cpu_ratio, case.wall_ratio
        print(f"   {'':15}{'ratio':13}{'':7}{cpu_low:>9.2f}{cpu_mid:>10.2f}", end="")
        print(f"{wall_low:>9.2f}{wall_mid:>10.2f}")
        matched_low, matched_mid = case.matched_ratio
        print(f"   {'':15}{'ratio, same writes':20}", end="")
        print(f"{matched_low:>9.2f}{matched_mid:>10.2f}")
        bound_low, bound_mid = case.bound
        print(f"   {'':15}{'bound':20}{bound_low:>9.2f}{bound_mid:>10.2f}")
        verdicts.append(
            Verdict(
                f"CPU per event, {case.label}, <= {CPU_TARGET}x floor",
                f"{cpu_low:.2f}x (median {cpu_mid:.2f}x)",
                cpu_low <= CPU_TARGET,
            )
        )
    return verdicts


def _print_rings(cases: Sequence[RingCase]) -> list[Verdict]:
    floor = cases[0].floor
    print()
    print(
        f"2. Ring rate: {len(floor.rounds)} rounds x {floor.per_round} rings a side,"
        " each a new call on a random"
    )
    print("   device of the entry; the calls a round rang are ended, untimed, after it")
    print(f"   {'case':40}{'rings/s CPU':>18}{'rings/s wall':>18}")
    print(f"   {'':40}{'best':>8}{'median':>10}{'best':>8}{'median':>10}")
    _print_rate(floor)
    verdicts: list[Verdict] = []
    for case in cases:
        _print_rate(case.empty)
        _print_rate(case.loaded)
        best, median = case.rate_ratio
        print(f"   {'  ratio with / without live calls':40}{best:>8.2f}{median:>10.2f}")
        verdicts.append(
            Verdict(
                f"rings/s, {case.loaded.label}, >= {RING_TARGET}x of 0 live",
                f"{best:.2f}x (median {median:.2f}x)",
                best >= RING_TARGET,
            )
        )
    return verdicts


def _print_rate(series: Series) -> None:
    print(f"   {series.label:40}", end="")
    print(f"{1 / low(series.cpu):>8,.0f}{1 / mid(series.cpu):>10,.0f}", end="")
    print(f"{1 / low(series.wall):>8,.0f}{1 / mid(series.wall):>10,.0f}")


def _print_memory(memory: MemoryFigures) -> list[Verdict]:
    live = memory.live
    print()
    print("3. Memory (tracemalloc; gc.collect() before each reading)")
    _print_live(live)
    for churn in memory.churns:
        _print_churn(churn)
    per_call = live.retained / live.calls
    return [
        Verdict(
            f"memory per live call <= {LIVE_CALL_TARGET} B",
            f"{per_call:,.0f} B (marginal {live.marginal:,.0f} B)",
            per_call <= LIVE_CALL_TARGET,
        ),
        *(
            Verdict(
                f"back to baseline after {churn.calls:,} calls ({churn.path})",
                f"{churn.difference:+,} B",
                churn.difference <= churn_tolerance(churn.calls),
            )
            for churn in memory.churns
        ),
    ]


def _print_lines(lines: Sequence[Line], calls: int | None = None) -> None:
    for where, size in lines:
        if calls:
            print(f"       {size / calls:>8,.0f} B/call  {where}")
        else:
            print(f"       {size:>+10,} B  {where}")


def _print_live(live: LiveCalls) -> None:
    print(
        f"   {live.calls:,} calls left ringing over {live.devices} devices,"
        " through the full path:"
    )
    print(
        f"     retained {_kib(live.retained)} = {live.retained / live.calls:,.0f} B"
        f" per call (marginal {live.marginal:,.0f} B), of which"
        f" {live.ours / live.calls:,.0f} B"
    )
    print("     allocated on Switchboard's lines; allocated most at:")
    _print_lines(live.top, live.calls)
    print(
        f"     once they all ended: {live.left:+,} B over the reading before they"
        " rang, kept at:"
    )
    _print_lines(live.left_at[:3])


def _print_churn(churn: Churn) -> None:
    how = {
        "full path": "whole calls one after another through the full path",
        "hub": "rung and ended through hub.async_deliver (parsed events, fresh ids)",
    }[churn.path]
    print(f"   {churn.calls:,} {how}:")
    print(
        f"     baseline {_kib(churn.baseline)}, after {_kib(churn.after)},"
        f" difference {churn.difference:+,} B"
    )
    if churn.difference > CHURN_SLACK // 16:
        print("     grew most at:")
        _print_lines(churn.growth[:2])
