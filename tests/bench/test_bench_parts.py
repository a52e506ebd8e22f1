"""What `scripts/bench` needs no `hass` for: turns, quantiles, ratios, the floor."""

from __future__ import annotations

import base64
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
import pytest

from tests.bench.floor_integration import verified
from tests.bench.measure import Figure, percentile, turns
from tests.simulators.telnyx import TelnyxSimulator


def test_sides_take_turns_so_neither_always_goes_first() -> None:
    assert turns(3) == [
        "switchboard",
        "floor",
        "floor",
        "switchboard",
        "switchboard",
        "floor",
    ]


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0


def test_ratios_of_best_and_median_rounds_and_the_target() -> None:
    cpu = Figure("cpu", "µs", target=1.2)
    cpu.rounds = {"switchboard": [12.0, 14.0, 13.0], "floor": [10.0, 11.0, 20.0]}
    assert cpu.ratios() == (pytest.approx(1.2), pytest.approx(13.0 / 11.0))
    assert cpu.met() is True
    cpu.rounds["switchboard"][0] = 12.5
    assert cpu.met() is False
    rate = Figure("rate", "/s", higher_is_better=True, target=0.9)
    rate.rounds = {"switchboard": [80.0, 90.0], "floor": [100.0, 95.0]}
    assert rate.ratios()[0] == pytest.approx(0.9)
    assert rate.met() is True
    # A floor that keeps nothing per call has no ratio, and no verdict.
    memory = Figure("memory", "B", target=1.0)
    memory.rounds = {"switchboard": [50.0], "floor": [0.0]}
    assert memory.ratios() == (None, None)
    assert memory.met() is None
    assert memory.as_json()["ratio_min"] is None


def test_the_floor_checks_the_signature_and_the_replay_window() -> None:
    simulator = TelnyxSimulator()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(simulator.public_key_b64))
    body = b'{"data": {}}'
    now = int(time.time())
    headers = {
        "telnyx-timestamp": str(now),
        "telnyx-signature-ed25519": simulator.sign(str(now), body),
    }
    assert verified(key, headers, body, now)
    assert not verified(key, headers, body + b" ", now)
    assert not verified(key, headers, body, now + 301)
    assert not verified(key, {**headers, "telnyx-timestamp": "soon"}, body, now)
    assert not verified(key, {}, body, now)


def test_three_sides_take_turns_too() -> None:
    kinds = ("switchboard", "floor", "same")
    assert turns(2, kinds) == [*kinds, *kinds[::-1]]


def test_a_figure_compares_the_sides_it_names() -> None:
    bound = Figure("bound", "µs", sides=("same", "floor"))
    assert bound.rounds == {"same": [], "floor": []}
    bound.rounds = {"same": [13.0, 12.0], "floor": [10.0, 10.0]}
    assert bound.ratios() == (pytest.approx(1.2), pytest.approx(1.25))
    assert bound.as_json()["sides"] == ("same", "floor")
