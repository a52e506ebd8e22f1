"""Voice: Assist sentences and LLM tools for the calls (see ../intent.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.setup import async_when_setup

from .exposure import ASSIST, async_expose_new_call_sensors


@callback
def async_setup_voice(hass: HomeAssistant) -> None:
    """Expose new Call sensors to Assist; teach it the sentences once it loads."""
    async_expose_new_call_sensors(hass)

    async def _async_conversation_loaded(hass: HomeAssistant, _component: str) -> None:
        # Imported only now: the conversation integration's requirements are
        # installed once it is set up.
        from .sentences import async_register_sentences  # noqa: PLC0415

        await async_register_sentences(hass)

    async_when_setup(hass, ASSIST, _async_conversation_loaded)
