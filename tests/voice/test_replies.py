"""What Assist says, and does not do: rang first, twice, not ringing, unknown.

All on Telnyx's two numbers, named "Front desk line" and "Kitchen phone".
"""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent

from tests.const import CALLER
from tests.contract.harness import CALLER_NAME, SECOND_CALLER
from tests.helpers import KITCHEN_SENSOR, SENSOR, state_of

from .helpers import (
    SECOND_CALLER_NAME,
    TELNYX,
    Phones,
    commands,
    converse,
    say,
)

pytestmark = TELNYX

ADA = f"{CALLER_NAME} ({CALLER})"
CHARLES = f"{SECOND_CALLER_NAME} ({SECOND_CALLER})"


async def test_who_is_calling_with_none_one_and_two_ringing(
    hass: HomeAssistant, phones: Phones
) -> None:
    assert await say(hass, "who is calling?") == "Nothing is ringing."
    await phones.harness.ring(CALLER, CALLER_NAME)
    assert await say(hass, "who is calling?") == f"{ADA} is calling on Front desk line."
    await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    assert await say(hass, "who is calling?") == (
        f"2 calls are ringing: {ADA} on Front desk line and {CHARLES} on Kitchen phone."
    )
    assert await say(hass, "wer ruft an?", "de") == (
        f"Es klingeln 2 Anrufe: {ADA} auf Front desk line und {CHARLES} auf"
        " Kitchen phone."
    )


async def test_who_is_calling_names_a_call_in_progress(
    hass: HomeAssistant, phones: Phones
) -> None:
    await phones.harness.ring(CALLER, CALLER_NAME)
    await phones.harness.act("answer_call")
    await phones.harness.settle()
    assert await say(hass, "who's on the phone?") == (
        f"Nothing is ringing. On the line: {ADA} on Front desk line."
    )


async def test_two_ringing_answers_the_first_and_says_so_then_the_next(
    hass: HomeAssistant, phones: Phones
) -> None:
    first = await phones.harness.ring(CALLER, CALLER_NAME)
    second = await phones.harness.ring(SECOND_CALLER, SECOND_CALLER_NAME)
    # Until the provider's event says the first call is talking, it still rings
    # in Home Assistant: the next request must take the second, not the first.
    phones.harness.hold_deliveries()
    assert await say(hass, "answer the call") == (
        f"Answered {CALLER_NAME} on Front desk line, who rang first. Still"
        f" ringing: {SECOND_CALLER_NAME} on Front desk line."
    )
    assert state_of(hass, SENSOR).state == "ringing"
    assert state_of(hass, SENSOR).attributes["call_id"] == first
    assert await say(hass, "answer the call") == (
        f"Answered {SECOND_CALLER_NAME} on Front desk line."
    )
    assert await say(hass, "answer the call") == "Nothing is ringing."
    assert commands(phones.harness, first) == ["answer"]
    assert commands(phones.harness, second) == ["answer"]
    await phones.harness.release_deliveries(reverse=False)
    await phones.harness.settle()
    assert state_of(hass, SENSOR).state == "talking"
    assert state_of(hass, SENSOR).attributes["active_calls"] == 2


async def test_two_requests_at_once_answer_two_calls(
    hass: HomeAssistant, phones: Phones
) -> None:
    first = await phones.harness.ring(CALLER, CALLER_NAME)
    second = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    replies = await asyncio.gather(
        say(hass, "answer the call"), say(hass, "pick up the phone")
    )
    # Whichever was first took the first call; the other took the other call.
    assert sorted(reply.split(" on ")[0] for reply in replies) == [
        f"Answered {CALLER_NAME}",
        f"Answered {SECOND_CALLER_NAME}",
    ]
    assert commands(phones.harness, first) == ["answer"]
    assert commands(phones.harness, second) == ["answer"]


async def test_the_call_that_rang_first_is_answered_across_phones(
    hass: HomeAssistant, phones: Phones
) -> None:
    kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
    reply = await say(hass, "answer the call")
    assert reply.startswith(f"Answered {SECOND_CALLER_NAME} on Kitchen phone")
    assert commands(phones.harness, kitchen) == ["answer"]
    assert commands(phones.harness, front_desk) == []


async def test_a_named_phone_that_does_not_ring(
    hass: HomeAssistant, phones: Phones
) -> None:
    front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
    result = await converse(hass, "answer the call on the kitchen phone")
    assert result.response.speech["plain"]["speech"] == (
        "Nothing is ringing on Kitchen phone."
    )
    assert await say(hass, "decline the call in the kitchen phone") == (
        "Nothing is ringing on Kitchen phone."
    )
    assert await say(hass, "hang up the call on the kitchen phone") == (
        "There is no call on Kitchen phone to end."
    )
    assert await say(hass, "who is calling on the kitchen phone") == (
        "Nothing is ringing on Kitchen phone."
    )
    assert await say(hass, "Nimm den Anruf am Kitchen phone an", "de") == (
        "Auf Kitchen phone klingelt gerade nichts."
    )
    assert commands(phones.harness, front_desk) == []
    assert state_of(hass, SENSOR).state == "ringing"
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"


async def test_a_phone_no_one_has(hass: HomeAssistant, phones: Phones) -> None:
    front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
    assert await say(hass, "answer the call on the garage phone") == (
        "I don't know a phone called garage phone."
    )
    assert await say(hass, "Réponds à l'appel dans le garage", "fr") == (
        "Je ne connais pas de téléphone nommé garage."
    )
    assert commands(phones.harness, front_desk) == []
    assert state_of(hass, SENSOR).state == "ringing"


async def test_a_phone_named_by_its_line_by_area_or_by_its_sensor(
    hass: HomeAssistant, phones: Phones
) -> None:
    phones.put_kitchen_in("Break room")
    # The device is called "Front desk line": "line" may be left out or said.
    front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
    assert await say(hass, "answer the front desk line") == (
        f"Answered {CALLER_NAME} on Front desk line."
    )
    assert commands(phones.harness, front_desk) == ["answer"]
    kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    assert await say(hass, "answer the call in the break room") == (
        f"Answered {SECOND_CALLER_NAME} on Kitchen phone."
    )
    assert commands(phones.harness, kitchen) == ["answer"]
    # The Call sensor's own name ("Kitchen phone Call").
    assert await say(hass, "end the call on kitchen phone call") == (
        f"Ended the call with {SECOND_CALLER_NAME} on Kitchen phone."
    )
    assert commands(phones.harness, kitchen) == ["answer", "hangup"]


async def test_hang_up_with_no_call(hass: HomeAssistant, phones: Phones) -> None:
    assert await say(hass, "hang up") == "There is no call to end."
    assert await say(hass, "Cuelga", "es") == "No hay ninguna llamada que terminar."


async def test_hang_up_ends_the_call_in_progress_before_a_ringing_one(
    hass: HomeAssistant, phones: Phones
) -> None:
    talking = await phones.harness.ring(CALLER, CALLER_NAME)
    await say(hass, "answer the call")
    ringing = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    assert await say(hass, "hang up") == (
        f"Ended the call with {CALLER_NAME} on Front desk line."
    )
    assert commands(phones.harness, talking) == ["answer", "hangup"]
    assert commands(phones.harness, ringing) == []
    await phones.harness.settle()
    assert state_of(hass, SENSOR).state == "idle"
    assert state_of(hass, KITCHEN_SENSOR).state == "ringing"


async def test_an_unexposed_phone_is_not_answered(
    hass: HomeAssistant, phones: Phones
) -> None:
    phones.expose_kitchen(False)
    kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    assert await say(hass, "who is calling?") == "Nothing is ringing."
    assert await say(hass, "answer the call") == "Nothing is ringing."
    result = await converse(hass, "answer the call on the kitchen phone")
    assert result.response.speech["plain"]["speech"] == (
        "Kitchen phone is not exposed to Assist."
    )
    assert await say(hass, "Nimm den Anruf am Kitchen phone an", "de") == (
        "Kitchen phone ist für Assist nicht freigegeben."
    )
    assert commands(phones.harness, kitchen) == []
    await phones.harness.settle()
    assert state_of(hass, KITCHEN_SENSOR).state == "ringing"
    # Exposed again, it is answered.
    phones.expose_kitchen(True)
    assert await say(hass, "answer the call") == (
        f"Answered {SECOND_CALLER_NAME} on Kitchen phone."
    )
    assert commands(phones.harness, kitchen) == ["answer"]


async def test_no_phone_exposed(hass: HomeAssistant, phones: Phones) -> None:
    phones.expose_kitchen(False)
    phones.expose_front_desk(False)
    call_id = await phones.harness.ring(CALLER, CALLER_NAME)
    assert await say(hass, "answer the call") == "No phone is exposed to Assist."
    assert await say(hass, "wer ruft an", "de") == (
        "Für Assist ist kein Telefon freigegeben."
    )
    assert commands(phones.harness, call_id) == []


async def test_replies_in_the_users_language_else_in_the_one_heard(
    hass: HomeAssistant, phones: Phones
) -> None:
    await phones.harness.ring(CALLER, CALLER_NAME)
    # An English sentence from a German speaker: a German reply.
    assert await say(hass, "who is calling", "de-CH") == (
        f"{ADA} ruft auf Front desk line an."
    )
    # A language Switchboard does not speak: the reply is in the one heard.
    assert await say(hass, "qui appelle", "it") == (
        f"Appel sur Front desk line : {ADA}."
    )


async def test_a_sentence_the_agent_does_not_know_is_left_to_it(
    hass: HomeAssistant, phones: Phones
) -> None:
    call_id = await phones.harness.ring(CALLER, CALLER_NAME)
    result = await converse(hass, "answer the door")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert result.response.error_code is intent.IntentResponseErrorCode.NO_INTENT_MATCH
    assert commands(phones.harness, call_id) == []
