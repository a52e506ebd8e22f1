"""The provider a contract test runs for: one harness per parametrisation."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest

from .harness import Harness, WebhookHarness
from .providers import HARNESSES, PROVIDERS, WEBHOOK_PROVIDERS


def started(request: pytest.FixtureRequest, hass: HomeAssistant) -> Harness:
    """The harness of the provider `request.param`, its entry set up."""
    harness = HARNESSES[request.param](hass, request)
    harness.start()
    return harness


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest, hass: HomeAssistant) -> Harness:
    """Each provider in turn, set up against its simulator.

    A test that applies to some providers only names them with
    `@pytest.mark.parametrize("harness", [...], indirect=True)`.
    """
    return started(request, hass)


@pytest.fixture(params=WEBHOOK_PROVIDERS)
def webhook_harness(
    request: pytest.FixtureRequest, hass: HomeAssistant
) -> WebhookHarness:
    """Each provider that posts to Home Assistant's webhook, set up."""
    harness = started(request, hass)
    assert isinstance(harness, WebhookHarness)
    return harness
