"""Voice: the call intents, and how Assist and LLM agents reach them.

How (Home Assistant 2026.10):

- The intent handlers (voice/handlers.py) do the work: find the phones, pick
  the call, act through the hub, say what happened in the request's language.
  This module is the integration's `intent` platform: Home Assistant's intent
  integration calls `async_setup_intents`, and the conversation integration
  depends on it, so the handlers are there wherever Assist can ask.
- The built-in agent hears the sentences of sentences/<lang>.yaml as sentence
  triggers of the conversation agent manager (voice/sentences.py), the
  mechanism behind automations' "sentence" triggers. They are registered when
  the conversation integration is set up, with nothing for the user to copy,
  and each trigger's callback calls `intent.async_handle` with our intent.
- LLM agents using the Assist API get the same handlers as tools (llm.py): in
  2026.10 the API's tools come from each integration's `llm` platform, and ours
  wraps the registered handlers in `helpers.llm.IntentTool`, as the intent
  integration does for its own intents. A tool call is an `intent.async_handle`.
- Only phones whose Call sensor is exposed to the asking assistant are acted
  on (`async_should_expose`); new Call sensors are exposed to Assist when they
  are created (voice/exposure.py), so voice works right after set-up.

Why not another route: the user's custom_sentences folder is the user's (and
needs a reload); the conversation integration's config intents are the user's
`conversation: intents:` YAML, which a reload puts back over ours, and they are
the same for every language; the built-in sentences (home-assistant-intents)
ship with Home Assistant and take no additions.

Limits of sentence triggers:

- The agent tries every language's sentences whatever the user speaks. The
  reply is in the user's language when we have it, else in the one heard.
- A trigger returns text only: the agent reports every reply as an action
  done, a failure included (its text says what failed). LLM tools get the whole
  intent response, error code and call details included.
- `{device}` and `{destination}` match any words; the handler finds the
  phone (or the number, phone or recent caller a transfer or a call goes to)
  and says when nothing has that name. Only the first way a sentence matches
  reaches the handler, so the sentences with both come first in their list,
  and the dial handler leaves out "back" around a name itself.
- Every trigger whose sentences match runs: no two intents' sentences may
  match the same words, else both act.
- A trigger comes before every other sentence, so every sentence with a
  wildcard also has a word for a call or a phone (or a verb used for nothing
  else: "call", "dial", "ruf ... an", "bel"), lest it catch an unrelated
  request ("leg im Wohnzimmer Musik auf" is not a hang-up).
- Triggers run before any conversation agent of a pipeline, LLM agents too:
  these sentences are always handled by Home Assistant itself.
- A sentence must match a template (no fuzzy matching), and Assist's debug
  view shows a match as a "trigger".
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from .voice.handlers import HANDLERS


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the call intents (the intent integration calls this once)."""
    for handler in HANDLERS:
        intent.async_register(hass, handler)
