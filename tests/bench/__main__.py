"""`scripts/bench`: Switchboard in a real `hass`, against a floor in the same `hass`.

Prints a table and writes every round to JSON. Not a test: nothing fails on
a number; the table says which targets this run met.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import os
from pathlib import Path
import platform
import sys
import time
from typing import Any, Final

import aiohttp

from . import measure
from .measure import Figure
from .stack import BENCH_FOLDER, Stack, async_start, async_stop

RESULTS: Final = BENCH_FOLDER / "results.json"
MIB: Final = 1024 * 1024


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=(
            "Measure Switchboard in a real Home Assistant against a floor"
            " integration in the same process (a webhook that checks the same"
            " signature and writes one state; an automation that sends the same"
            " answer request), in interleaved rounds. Prints a table, writes JSON."
        ),
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=100_000,
        help="calls that come and go before RSS is read again (default 100000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer rounds and 10,000 churn calls: a look, not a result",
    )
    parser.add_argument(
        "--json", type=Path, default=RESULTS, help=f"where to write ({RESULTS})"
    )
    return parser


def say(text: str) -> None:
    """Progress, at once."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def _async_run(options: argparse.Namespace) -> dict[str, Any]:
    quick = options.quick
    rounds = 4 if quick else 8
    churn_calls = 10_000 if quick else options.calls
    say("==> starting the simulator and Home Assistant, adding the entries")
    began = time.perf_counter()
    stack: Stack = await async_start(seed=1)
    say(f"    ready in {time.perf_counter() - began:.0f} s (hass pid {stack.pid})")
    figures: list[Figure] = []
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            poster = measure.Poster(session, stack)
            say("==> warming up")
            for size in (2, 1000):
                for kind in (*measure.KINDS, "same"):
                    side = stack.side(kind, size)
                    await poster.calls(side, measure.whole_calls(side, 300), 10)
            say("==> webhook -> state latency")
            figures += await measure.state_latency(stack, poster, session, rounds, 25)
            for size in (2, 1000):
                for concurrency in (1, 10, 50):
                    say(f"==> CPU per webhook, {size} devices, {concurrency} at once")
                    figures += await measure.cpu_per_webhook(
                        stack,
                        poster,
                        size,
                        concurrency,
                        rounds,
                        100 if concurrency == 1 else 300,
                    )
                say(f"==> CPU per webhook, {size} devices, floor with as many writes")
                figures += await measure.cpu_per_webhook(
                    stack, poster, size, 10, rounds, 300, same_writes=True
                )

            async def _rings() -> list[Figure]:
                found: list[Figure] = []
                for concurrency, times in ((1, 10), (50, 1), (200, 1)):
                    say(f"==> ring -> answer, {concurrency} concurrent")
                    for _ in range(times):
                        p50, p99 = await measure.ring_to_answer(
                            stack, concurrency, max(2, rounds // 2)
                        )
                        found += [p50, p99]
                return _merged(found)

            figures += await measure.with_automations(stack, _rings)
            say("==> memory per live call")
            figures.append(await measure.live_call_memory(stack, poster, 2000, 2))
            say("==> import time")
            figures.append(await measure.import_time(stack, rounds))
            for size in (1, 100, 1000):
                say(f"==> entry set-up, {size} devices")
                figures.append(await measure.set_up_time(stack, size, 3))
            say(f"==> RSS after {churn_calls:,} calls (Switchboard, then the floor)")
            churned = await measure.churn(
                stack, poster, 5_000 if quick else 30_000, churn_calls, 2 * MIB
            )
    finally:
        await async_stop(stack)
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "quick": quick,
        "figures": [figure.as_json() for figure in figures],
        "churn": churned,
        "table": _table(figures, churned),
    }


def _merged(figures: Sequence[Figure]) -> list[Figure]:
    """Figures of the same name measured in several goes, as one."""
    by_name: dict[str, Figure] = {}
    for figure in figures:
        kept = by_name.setdefault(figure.name, figure)
        if kept is not figure:
            for kind, values in figure.rounds.items():
                kept.rounds[kind] += values
    return list(by_name.values())


def _times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _value(figure: Figure, kind: str) -> str:
    return f"{figure.low(kind):,.1f} / {figure.mid(kind):,.1f}"


def _table(figures: Sequence[Figure], churned: dict[str, Any]) -> str:
    rows = [
        (
            "figure",
            "unit",
            "Switchboard best / median",
            "floor best / median",
            "ratio best / median",
            "target",
        )
    ]
    for figure in figures:
        best, median = figure.ratios()
        met = figure.met()
        sign = ">=" if figure.higher_is_better else "<="
        target = (
            ""
            if figure.target is None
            else f"{sign} {figure.target}x: {'met' if met else 'NOT met'}"
        )
        rows.append(
            (
                figure.name,
                figure.unit,
                _value(figure, figure.sides[0]),
                _value(figure, figure.sides[1]),
                f"{_times(best)} / {_times(median)}",
                target,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(6)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines += ["", _churn_lines(churned)]
    return "\n".join(lines)


def _churn_lines(churned: dict[str, Any]) -> str:
    heading = (
        f"RSS after {churned['calls']:,} calls came and went (after a warm-up of"
        f" {churned['warm_up']:,}), 1,000 devices:"
    )
    lines = [heading]
    for kind, label in (("switchboard", "Switchboard"), ("floor", "floor")):
        side = churned[kind]
        lines.append(
            f"  {label:<11}  baseline {side['baseline'] / MIB:,.1f} MiB, after"
            f" {side['after'] / MIB:,.1f} MiB, growth"
            f" {side['growth'] / MIB:+,.2f} MiB (second half"
            f" {side['second_half'] / MIB:+,.2f} MiB; {side['seconds']:.0f} s)"
        )
    verdict = "met" if churned["met"] else "NOT met"
    lines.append(
        f"  target: back to the baseline (within"
        f" {churned['tolerance'] / MIB:.0f} MiB): {verdict}"
    )
    return "\n".join(lines)


LEGEND: Final = """\
Legend: every figure is measured on both sides in the same hass, in rounds
that take turns (A B B A ...); "best" is the best round, "median" the median
round; ratios are Switchboard over the floor. The floor is an integration in
the bench's config dir whose webhook checks the same Ed25519 signature and
replay window, parses the body and writes one entity state, and whose
automation sends the same Telnyx answer request; "floor with as many
writes" is the same floor writing as many entity states per webhook as
Switchboard's entities of a number (3 per stage, 4 at a hang-up), for
information: the targets are against the one-write floor. The "bound" rows
put that floor over the one-write floor (in the Switchboard column): the
least any integration showing those entities costs against the CPU target.
CPU is the hass process's own (all threads, /proc schedstat); latencies are
timed on the websocket (subscribe_entities, as the frontend) and at the
simulator."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print the table; write the JSON."""
    options = _parser().parse_args(argv)
    results = asyncio.run(_async_run(options))
    measure.dump(options.json, results)
    say("")
    say(results["table"])
    say("")
    say(LEGEND)
    say(f"\nEvery round: {options.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
