"""Asking for the missed calls: the count per phone, and who called last."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
import pytest

from custom_components.switchboard.const import DOMAIN, SERVICE_RESET_MISSED_CALLS
from tests.const import CALLER
from tests.contract.harness import CALLER_NAME, SECOND_CALLER, Harness
from tests.helpers import state_of

from .helpers import (
    FRONT_DESK_NAME,
    KITCHEN_NAME,
    SECOND_CALLER_NAME,
    TELNYX,
    Phones,
    commands,
    say,
)

ADA = f"{CALLER_NAME} ({CALLER})"
CHARLES = f"{SECOND_CALLER_NAME} ({SECOND_CALLER})"
KITCHEN_MISSED_CALLS = "sensor.15550100002_missed_calls"


async def _miss(phones: Phones, *, kitchen: bool, number: str, name: str) -> str:
    """Ring a phone and let the caller give up; return the call id."""
    if kitchen:
        call_id = await phones.ring_kitchen(number, name)
    else:
        call_id = await phones.harness.ring(number, name)
    await phones.harness.abandon(call_id)
    await phones.harness.settle()
    return call_id


async def test_none_then_one_missed_call(hass: HomeAssistant, voice: Harness) -> None:
    assert await say(hass, "how many missed calls do I have?") == "No missed calls."
    call_id = await voice.ring()
    await voice.abandon(call_id)
    await voice.settle()
    assert state_of(hass, voice.missed_calls).state == "1"
    assert await say(hass, f"how many missed calls on the {voice.device_name}") == (
        f"You have 1 missed call on {voice.device_name}, from {voice.caller_shown()}."
    )
    # Asking changed nothing.
    assert commands(voice, call_id) == []
    assert state_of(hass, voice.missed_calls).state == "1"


@pytest.mark.parametrize("harness", ["webex"], indirect=True)
async def test_a_call_missed_on_two_phones_is_not_counted_twice(
    hass: HomeAssistant, voice: Harness
) -> None:
    # Webex rings the user's desk phone and desktop app with the same call.
    call_id = await voice.ring()
    await voice.abandon(call_id)
    await voice.settle()
    phones = [device.name for device in voice.entry.runtime_data.devices.values()]
    assert len(phones) == 2
    assert voice.device_name in phones
    each = " and ".join(f"1 on {phone}" for phone in phones)
    assert await say(hass, "how many missed calls do I have") == (
        f"Missed calls: {each}. The last was from {voice.caller_shown()} on"
        f" {' and '.join(phones)}."
    )


@TELNYX
async def test_per_phone_when_more_than_one_has_missed_calls(
    hass: HomeAssistant, phones: Phones
) -> None:
    await _miss(phones, kitchen=False, number=CALLER, name=CALLER_NAME)
    await _miss(phones, kitchen=False, number=SECOND_CALLER, name=SECOND_CALLER_NAME)
    # Only the front desk missed calls: no list of phones.
    assert await say(hass, "how many missed calls do I have") == (
        f"You have 2 missed calls on {FRONT_DESK_NAME}, the last from {CHARLES}."
    )
    await _miss(phones, kitchen=True, number=CALLER, name=CALLER_NAME)
    assert await say(hass, "how many missed calls do I have") == (
        f"Missed calls: 2 on {FRONT_DESK_NAME} and 1 on {KITCHEN_NAME}."
        f" The last was from {ADA} on {KITCHEN_NAME}."
    )
    assert await say(hass, "how many missed calls on the front desk line") == (
        f"You have 2 missed calls on {FRONT_DESK_NAME}, the last from {CHARLES}."
    )
    assert await say(hass, "how many missed calls are there on the garage phone") == (
        "I don't know a phone called garage phone."
    )

    # The count set back to none is what voice says from then on.
    await hass.services.async_call(
        DOMAIN,
        SERVICE_RESET_MISSED_CALLS,
        {ATTR_ENTITY_ID: KITCHEN_MISSED_CALLS},
        blocking=True,
    )
    assert await say(hass, "how many missed calls on the kitchen phone") == (
        f"No missed calls on {KITCHEN_NAME}."
    )
    assert await say(hass, "how many missed calls do I have") == (
        f"You have 2 missed calls on {FRONT_DESK_NAME}, the last from {CHARLES}."
    )


@TELNYX
async def test_the_last_is_the_latest_missed_across_phones(
    hass: HomeAssistant, phones: Phones
) -> None:
    await _miss(phones, kitchen=True, number=SECOND_CALLER, name=SECOND_CALLER_NAME)
    await _miss(phones, kitchen=False, number=CALLER, name=CALLER_NAME)
    assert await say(hass, "how many missed calls do I have") == (
        f"Missed calls: 1 on {FRONT_DESK_NAME} and 1 on {KITCHEN_NAME}."
        f" The last was from {ADA} on {FRONT_DESK_NAME}."
    )


@TELNYX
async def test_only_exposed_phones_are_counted(
    hass: HomeAssistant, phones: Phones
) -> None:
    phones.expose_kitchen(False)
    await _miss(phones, kitchen=True, number=CALLER, name=CALLER_NAME)
    assert state_of(hass, KITCHEN_MISSED_CALLS).state == "1"
    assert await say(hass, "how many missed calls do I have") == "No missed calls."
    assert await say(hass, "how many missed calls in the kitchen phone") == (
        f"{KITCHEN_NAME} is not exposed to Assist."
    )
    phones.expose_front_desk(False)
    assert await say(hass, "how many missed calls do I have") == (
        "No phone is exposed to Assist."
    )
    # Exposed again, it is counted.
    phones.expose_kitchen(True)
    assert await say(hass, "how many missed calls do I have") == (
        f"You have 1 missed call on {KITCHEN_NAME}, from {ADA}."
    )


@dataclass(frozen=True)
class Language:
    """How one language asks, and what it answers; `kitchen` is the area's name."""

    code: str
    kitchen: str
    asked: tuple[str, ...]
    asked_kitchen: tuple[str, ...]
    # Replies, with {device} and {caller} to fill in.
    none: str
    none_on: str
    one: str


LANGUAGES = [
    Language(
        "en",
        "Kitchen",
        asked=(
            "how many missed calls do I have?",
            "How many missed calls?",
            "how many missed calls have I got",
            "how many missed calls are there",
            "how many calls did I miss?",
            "how many calls have I missed",
            "do I have any missed calls?",
            "Are there missed calls?",
            "did I miss any calls?",
            "have I missed any calls",
        ),
        asked_kitchen=(
            "how many missed calls do I have in the kitchen?",
            "how many missed calls on the kitchen phone",
        ),
        none="No missed calls.",
        none_on="No missed calls on {device}.",
        one="You have 1 missed call on {device}, from {caller}.",
    ),
    Language(
        "de",
        "Küche",
        asked=(
            "Wie viele verpasste Anrufe habe ich?",
            "Wieviele verpasste Anrufe gibt es?",
            "Wie viele Anrufe hab ich verpasst?",
            "Habe ich verpasste Anrufe?",
            "Gibt es verpasste Anrufe?",
            "Hab ich einen Anruf verpasst?",
        ),
        asked_kitchen=(
            "Wie viele verpasste Anrufe habe ich in der Küche?",
            "Wie viele verpasste Anrufe gibt es am Kitchen phone?",
        ),
        none="Keine verpassten Anrufe.",
        none_on="Keine verpassten Anrufe auf {device}.",
        one="Du hast 1 verpassten Anruf auf {device}, von {caller}.",
    ),
    Language(
        "fr",
        "Cuisine",
        asked=(
            "Combien d'appels manqués ai-je ?",
            "Combien d'appels manqués est-ce que j'ai ?",
            "Combien d'appels en absence y a-t-il ?",
            "Combien d'appels ai-je manqués ?",
            "Est-ce que j'ai des appels manqués ?",
            "Ai-je manqué un appel ?",
        ),
        asked_kitchen=(
            "Combien d'appels manqués dans la cuisine ?",
            "Combien d'appels manqués ai-je sur le téléphone de la cuisine ?",
        ),
        none="Aucun appel manqué.",
        none_on="Aucun appel manqué sur {device}.",
        one="Tu as 1 appel manqué sur {device}, de {caller}.",
    ),
    Language(
        "es",
        "Cocina",
        asked=(
            "¿Cuántas llamadas perdidas tengo?",
            "¿Cuántas llamadas perdidas hay?",
            "¿Cuántas llamadas he perdido?",
            "¿Tengo llamadas perdidas?",
            "¿Hay alguna llamada perdida?",
            "¿He perdido alguna llamada?",
        ),
        asked_kitchen=(
            "¿Cuántas llamadas perdidas tengo en la cocina?",
            "¿Cuántas llamadas perdidas hay en la cocina?",
        ),
        none="No hay llamadas perdidas.",
        none_on="No hay llamadas perdidas en {device}.",
        one="Tienes 1 llamada perdida en {device}, de {caller}.",
    ),
    Language(
        "nl",
        "Keuken",
        asked=(
            "Hoeveel gemiste oproepen heb ik?",
            "Hoeveel gesprekken heb ik gemist?",
            "Heb ik gemiste oproepen?",
            "Zijn er gemiste gesprekken?",
            "Heb ik een oproep gemist?",
        ),
        asked_kitchen=(
            "Hoeveel gemiste oproepen heb ik in de keuken?",
            "Hoeveel gemiste oproepen zijn er in de keuken?",
        ),
        none="Geen gemiste oproepen.",
        none_on="Geen gemiste oproepen op {device}.",
        one="Je hebt 1 gemiste oproep op {device}, van {caller}.",
    ),
]


@TELNYX
@pytest.mark.parametrize(
    "language", LANGUAGES, ids=[language.code for language in LANGUAGES]
)
async def test_each_sentence_of_each_language(
    hass: HomeAssistant, phones: Phones, language: Language
) -> None:
    phones.put_kitchen_in(language.kitchen)
    none_in_kitchen = language.none_on.format(device=KITCHEN_NAME)
    for sentence in language.asked:
        assert await say(hass, sentence, language.code) == language.none, sentence
    for sentence in language.asked_kitchen:
        reply = await say(hass, sentence, language.code)
        assert reply == none_in_kitchen, sentence

    await _miss(phones, kitchen=False, number=CALLER, name=CALLER_NAME)
    for sentence in language.asked:
        assert await say(hass, sentence, language.code) == language.one.format(
            device=FRONT_DESK_NAME, caller=ADA
        ), sentence
    # The front desk's missed call is not the kitchen's.
    for sentence in language.asked_kitchen:
        reply = await say(hass, sentence, language.code)
        assert reply == none_in_kitchen, sentence

    await _miss(phones, kitchen=True, number=SECOND_CALLER, name=SECOND_CALLER_NAME)
    for sentence in language.asked_kitchen:
        assert await say(hass, sentence, language.code) == language.one.format(
            device=KITCHEN_NAME, caller=CHARLES
        ), sentence
