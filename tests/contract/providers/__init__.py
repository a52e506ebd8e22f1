"""One harness per provider: how the contract suite drives it and its simulator.

A new provider joins the suite with one harness module here and one line in
`HARNESSES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from _pytest.mark import ParameterSet
import pytest

from tests.contract.harness import Capability, Harness, WebhookHarness

from .genesys import GenesysHarness
from .graph import GraphHarness
from .telnyx import TelnyxHarness
from .webex import WebexHarness

HARNESSES: dict[str, type[Harness]] = {
    harness.provider: harness
    for harness in (TelnyxHarness, WebexHarness, GraphHarness, GenesysHarness)
}


def providers_where(wanted: Callable[[type[Harness]], bool]) -> list[str]:
    """The providers whose harness has what a test needs."""
    return [key for key, harness in HARNESSES.items() if wanted(harness)]


PROVIDERS = list(HARNESSES)
WEBHOOK_PROVIDERS = providers_where(lambda h: issubclass(h, WebhookHarness))
REJECTING_PROVIDERS = providers_where(lambda h: h.can_reject)
NOT_REJECTING_PROVIDERS = providers_where(lambda h: not h.can_reject)


def capable(capability: Capability) -> list[str]:
    """The providers that do `capability` (beyond answering)."""
    return providers_where(lambda h: capability in h.capabilities)


def per_capability(
    capabilities: Mapping[str, Capability], *, supported: bool = True
) -> list[ParameterSet]:
    """(provider, name) for each named capability a provider has (or lacks)."""
    return [
        pytest.param(key, name, id=f"{key}-{name}")
        for key, harness in HARNESSES.items()
        for name, capability in capabilities.items()
        if (capability in harness.capabilities) is supported
    ]


# Every provider with each of its realistic faults.
FAULT_CASES = [
    pytest.param(key, fault, id=f"{key}-{fault}")
    for key, harness in HARNESSES.items()
    for fault in harness.refusals
]
