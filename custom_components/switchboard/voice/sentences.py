"""Bring the language files' sentences to Home Assistant's built-in agent.

Imported only once the conversation integration is set up: its requirements
(hassil) are installed then, and not necessarily before.

Each (language, intent) pair is one sentence trigger of the conversation agent
manager, the mechanism automations' "sentence" triggers use. Its callback
hands what was heard to the intent handler through `intent.async_handle`, so
the built-in agent and LLM agents run the same code, and returns the
handler's speech.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hassil.recognize import RecognizeResult
from homeassistant.components.conversation import (
    DOMAIN as CONVERSATION_DOMAIN,
    ConversationInput,
)
from homeassistant.components.conversation.agent_manager import get_agent_manager
from homeassistant.components.conversation.trigger import (
    has_no_punctuation,
    is_valid_sentence,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from .handlers import HANDLERS
from .phrases import async_get_phrases, supported_language

type TriggerCallback = Callable[
    [ConversationInput, RecognizeResult], Awaitable[str | None]
]


def _heard(
    hass: HomeAssistant, intent_type: str, sentence_language: str
) -> TriggerCallback:
    """Make the callback of one intent's sentences in one language."""

    async def _async_heard(
        user_input: ConversationInput, result: RecognizeResult
    ) -> str:
        # Sentences of every language are tried whatever the user's language:
        # answer in the user's language when we speak it, else in the one heard.
        language = supported_language(user_input.language) or sentence_language
        slots = {
            name: {"value": str(entity.value).strip(), "text": entity.text.strip()}
            for name, entity in result.entities.items()
        }
        response = await intent.async_handle(
            hass,
            CONVERSATION_DOMAIN,
            intent_type,
            slots,
            user_input.text,
            user_input.context,
            language,
            assistant=CONVERSATION_DOMAIN,
            device_id=user_input.device_id,
            satellite_id=user_input.satellite_id,
            conversation_agent_id=user_input.agent_id,
        )
        speech: str = response.speech["plain"]["speech"]
        return speech

    return _async_heard


async def async_register_sentences(hass: HomeAssistant) -> None:
    """Register every language's sentences as triggers of the built-in agent."""
    manager = get_agent_manager(hass)
    for language, phrases in (await async_get_phrases(hass)).items():
        for handler in HANDLERS:
            if not (sentences := list(phrases.sentences.get(handler.key, ()))):
                continue
            is_valid_sentence(has_no_punctuation(sentences))
            manager.register_trigger(
                sentences, _heard(hass, handler.intent_type, language)
            )
