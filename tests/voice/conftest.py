"""Home Assistant with Assist, and the contract suite's providers behind it."""

from __future__ import annotations

from homeassistant.components.homeassistant.const import DATA_EXPOSED_ENTITIES
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from tests.contract.conftest import started
from tests.contract.harness import Harness
from tests.contract.providers import PROVIDERS
from tests.contract.providers.telnyx import TelnyxHarness

from .helpers import Phones, name_phones


@pytest.fixture
async def assist(hass: HomeAssistant, request: pytest.FixtureRequest) -> None:
    """Set up exposure and the conversation integration, as a new install has them.

    They come before the entry, as at start-up, and before Home Assistant
    serves HTTP (the conversation API adds routes). Parametrised indirectly
    with False, Assist does not take new entities.
    """
    assert await async_setup_component(hass, "homeassistant", {})
    hass.data[DATA_EXPOSED_ENTITIES].async_set_expose_new_entities(
        "conversation", getattr(request, "param", True)
    )
    assert await async_setup_component(hass, "conversation", {})


@pytest.fixture(params=PROVIDERS)
def harness(
    request: pytest.FixtureRequest, hass: HomeAssistant, assist: None
) -> Harness:
    """Each provider in turn, its entry set up after Assist.

    A test for some providers only names them with
    `@pytest.mark.parametrize("harness", [...], indirect=True)`.
    """
    return started(request, hass)


@pytest.fixture
async def voice(hass: HomeAssistant, harness: Harness) -> Harness:
    """The harness, once Assist has learnt the sentences."""
    await hass.async_block_till_done()
    return harness


@pytest.fixture
async def phones(hass: HomeAssistant, voice: Harness) -> Phones:
    """Telnyx's two numbers as the user named them (harness "telnyx" only)."""
    assert isinstance(voice, TelnyxHarness)
    return name_phones(hass, voice)
