"""The call intents as tools of the Assist LLM API (see intent.py)."""

from __future__ import annotations

from homeassistant.components.llm import LLMTools
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import LLM_API_ASSIST, IntentTool, LLMContext

from .const import DOMAIN
from .voice.handlers import SwitchboardIntentHandler
from .voice.targets import async_phones

PROMPT = (
    "Use the switchboard tools for phone calls: list the calls to see who is"
    " calling, then answer, decline, hang up or transfer. Without a device or"
    " call_id they take the call that has rung longest (transfer: the call in"
    " progress); their reply says whom they reached. Transfer and dial take a"
    " destination: a phone number with its country code, the name of another"
    " Switchboard phone, or (dial) the name of someone who called lately; dial"
    " without a destination calls back the last caller. Count the missed calls"
    " to say how many went unanswered and who called last."
)


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: LLMContext, api_id: str
) -> LLMTools | None:
    """Offer the call intents while a phone is exposed to the assistant."""
    handlers = [
        handler
        for handler in intent.async_get(hass)
        if isinstance(handler, SwitchboardIntentHandler)
    ]
    if (
        api_id != LLM_API_ASSIST
        or not handlers
        or not any(phone.exposed for phone in async_phones(hass, llm_context.assistant))
    ):
        return None
    return LLMTools(
        tools=[
            IntentTool(
                f"{DOMAIN}__{handler.key}",
                handler,
                title=handler.title,
                integration=DOMAIN,
                annotations=handler.annotations,
            )
            for handler in handlers
        ],
        prompt=PROMPT,
    )
