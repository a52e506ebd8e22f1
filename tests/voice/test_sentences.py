"""Every sentence of every language acts on the right call on the right phone.

Telnyx's front desk line rings from Ada Lovelace; for a sentence that names a
phone, the kitchen rings too (later, from Charles Babbage), and only the
kitchen's call may be touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
import pytest

from tests.const import CALLER
from tests.contract.harness import CALLER_NAME, SECOND_CALLER
from tests.helpers import KITCHEN_SENSOR, SENSOR, state_of

from .helpers import (
    FRONT_DESK_NAME,
    KITCHEN_NAME,
    SECOND_CALLER_NAME,
    TELNYX,
    Phones,
    commands,
    say,
)

pytestmark = TELNYX


@dataclass(frozen=True)
class Language:
    """What a user says in one language; `kitchen` is the area's name there."""

    code: str
    kitchen: str
    answer: tuple[str, ...]
    answer_kitchen: tuple[str, ...]
    reject: tuple[str, ...]
    reject_kitchen: tuple[str, ...]
    hang_up: tuple[str, ...]
    hang_up_kitchen: tuple[str, ...]
    who: tuple[str, ...]
    who_kitchen: tuple[str, ...]


LANGUAGES = [
    Language(
        "en",
        "Kitchen",
        answer=(
            "answer the call",
            "Answer the phone",
            "answer my phone",
            "take the call",
            "get the call",
            "pick up",
            "Pick up the phone",
            "pick the call up",
        ),
        answer_kitchen=(
            "answer the call on the kitchen phone",
            "Answer the call in the kitchen",
            "take the call in the kitchen",
            "pick up the phone in the kitchen",
            "answer the kitchen phone",
            "answer the call on Kitchen phone",
        ),
        reject=("reject the call", "Decline the call", "refuse the call"),
        reject_kitchen=(
            "decline the call in the kitchen",
            "reject the call on the kitchen phone",
        ),
        hang_up=(
            "hang up",
            "Hang up the phone",
            "hang up the call",
            "end the call",
            "finish the call",
            "stop the call",
        ),
        hang_up_kitchen=(
            "hang up the call in the kitchen",
            "end the call on the kitchen phone",
        ),
        who=(
            "who is calling?",
            "Who's calling?",
            "who is calling me",
            "who's on the phone?",
            "who is on the line",
            "is anyone calling?",
            "Is somebody calling me?",
        ),
        who_kitchen=(
            "who is calling in the kitchen?",
            "who's calling on the kitchen phone",
        ),
    ),
    Language(
        "de",
        "Küche",
        answer=(
            "Nimm den Anruf an",
            "Anruf annehmen",
            "Geh ran",
            "Geh dran",
            "Geh ans Telefon",
            "Heb ab",
            "Nimm ab",
        ),
        answer_kitchen=(
            "Nimm den Anruf in der Küche an",
            "Anruf in der Küche annehmen",
        ),
        reject=(
            "Lehne den Anruf ab",
            "Anruf ablehnen",
            "Weise den Anruf ab",
            "Anruf abweisen",
        ),
        reject_kitchen=(
            "Lehne den Anruf in der Küche ab",
            "Anruf in der Küche ablehnen",
        ),
        hang_up=(
            "Leg auf",
            "Auflegen",
            "Beende den Anruf",
            "Anruf beenden",
            "Gespräch beenden",
        ),
        hang_up_kitchen=(
            "Beende den Anruf in der Küche",
            "Anruf in der Küche beenden",
        ),
        who=(
            "Wer ruft an?",
            "Wer ruft mich an?",
            "Wer ist dran?",
            "Wer ist am Telefon?",
            "Ruft jemand an?",
        ),
        who_kitchen=("Wer ruft in der Küche an?",),
    ),
    Language(
        "fr",
        "Cuisine",
        answer=(
            "Réponds à l'appel",
            "Réponds au téléphone",
            "Répondez à l'appel",
            "Décroche",
            "Décroche le téléphone",
            "Prends l'appel",
        ),
        answer_kitchen=(
            "Réponds à l'appel dans la cuisine",
            "Prends l'appel dans la cuisine",
            "Décroche dans la cuisine",
            "Réponds à l'appel sur le téléphone de la cuisine",
        ),
        reject=("Rejette l'appel", "Refuse l'appel", "Refusez l'appel"),
        reject_kitchen=("Refuse l'appel dans la cuisine",),
        hang_up=(
            "Raccroche",
            "Termine l'appel",
            "Mets fin à l'appel",
            "Arrête l'appel",
        ),
        hang_up_kitchen=(
            "Raccroche dans la cuisine",
            "Termine l'appel dans la cuisine",
        ),
        who=(
            "Qui appelle ?",
            "Qui m'appelle ?",
            "Qui est au téléphone ?",
            "Qui est-ce qui appelle ?",
            "Est-ce que quelqu'un appelle ?",
        ),
        who_kitchen=("Qui appelle dans la cuisine ?",),
    ),
    Language(
        "es",
        "Cocina",
        answer=(
            "Contesta",
            "Contesta la llamada",
            "Atiende el teléfono",
            "Responde a la llamada",
            "Coge la llamada",
            "Toma la llamada",
        ),
        answer_kitchen=(
            "Contesta la llamada en la cocina",
            "Atiende la llamada de la cocina",
            "Responde la llamada en la cocina",
        ),
        reject=("Rechaza la llamada", "Declina la llamada"),
        reject_kitchen=("Rechaza la llamada en la cocina",),
        hang_up=(
            "Cuelga",
            "Cuelga la llamada",
            "Termina la llamada",
            "Corta la llamada",
            "Finaliza la llamada",
        ),
        hang_up_kitchen=(
            "Cuelga la llamada en la cocina",
            "Termina la llamada en la cocina",
        ),
        who=(
            "¿Quién llama?",
            "¿Quién está llamando?",
            "¿Quién está al teléfono?",
            "¿Está llamando alguien?",
            "¿Me llama alguien?",
        ),
        who_kitchen=("¿Quién llama en la cocina?",),
    ),
    Language(
        "nl",
        "Keuken",
        answer=(
            "Neem op",
            "Neem de telefoon op",
            "Neem de oproep op",
            "Beantwoord de oproep",
            "Neem het gesprek aan",
            "Pak de telefoon op",
        ),
        answer_kitchen=(
            "Neem de oproep in de keuken op",
            "Beantwoord de oproep in de keuken",
        ),
        reject=("Weiger de oproep", "Wijs de oproep af"),
        reject_kitchen=(
            "Weiger de oproep in de keuken",
            "Wijs de oproep in de keuken af",
        ),
        hang_up=(
            "Hang op",
            "Ophangen",
            "Beëindig het gesprek",
            "Beëindig de oproep",
            "Stop de oproep",
        ),
        hang_up_kitchen=(
            "Beëindig het gesprek in de keuken",
            "Beëindig de oproep in de keuken",
        ),
        who=("Wie belt er?", "Wie belt?", "Wie is aan de lijn?", "Belt er iemand?"),
        who_kitchen=("Wie belt er in de keuken?",),
    ),
]
BY_CODE = pytest.mark.parametrize(
    "language", LANGUAGES, ids=[language.code for language in LANGUAGES]
)


async def _ring_both(phones: Phones) -> tuple[str, str]:
    """Ring the front desk, then the kitchen; return both call ids."""
    front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
    kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    return front_desk, kitchen


async def _end(phones: Phones, *call_ids: str) -> None:
    """The callers hang up, so the next sentence starts from idle phones."""
    for call_id in call_ids:
        await phones.harness.hang_up_remotely(call_id)
    await phones.harness.settle()
    assert state_of(phones.hass, SENSOR).state == "idle"
    assert state_of(phones.hass, KITCHEN_SENSOR).state == "idle"


@BY_CODE
async def test_answer(hass: HomeAssistant, phones: Phones, language: Language) -> None:
    for sentence in language.answer:
        call_id = await phones.harness.ring(CALLER, CALLER_NAME)
        reply = await say(hass, sentence, language.code)
        assert CALLER_NAME in reply, sentence
        assert FRONT_DESK_NAME in reply, sentence
        assert commands(phones.harness, call_id) == ["answer"], sentence
        await phones.harness.settle()
        assert state_of(hass, SENSOR).state == "talking", sentence
        await _end(phones, call_id)


@BY_CODE
async def test_answer_on_a_named_phone(
    hass: HomeAssistant, phones: Phones, language: Language
) -> None:
    phones.put_kitchen_in(language.kitchen)
    for sentence in language.answer_kitchen:
        front_desk, kitchen = await _ring_both(phones)
        reply = await say(hass, sentence, language.code)
        assert SECOND_CALLER_NAME in reply, sentence
        assert KITCHEN_NAME in reply, sentence
        # The front desk rang first, but the kitchen was named.
        assert commands(phones.harness, kitchen) == ["answer"], sentence
        assert commands(phones.harness, front_desk) == [], sentence
        await phones.harness.settle()
        assert state_of(hass, KITCHEN_SENSOR).state == "talking", sentence
        assert state_of(hass, SENSOR).state == "ringing", sentence
        await _end(phones, front_desk, kitchen)


@BY_CODE
async def test_reject(hass: HomeAssistant, phones: Phones, language: Language) -> None:
    phones.put_kitchen_in(language.kitchen)
    for sentence in language.reject:
        call_id = await phones.harness.ring(CALLER, CALLER_NAME)
        reply = await say(hass, sentence, language.code)
        assert CALLER_NAME in reply, sentence
        assert FRONT_DESK_NAME in reply, sentence
        assert commands(phones.harness, call_id) == ["reject"], sentence
        await phones.harness.settle()
        assert state_of(hass, SENSOR).state == "idle", sentence
    for sentence in language.reject_kitchen:
        front_desk, kitchen = await _ring_both(phones)
        reply = await say(hass, sentence, language.code)
        assert SECOND_CALLER_NAME in reply, sentence
        assert KITCHEN_NAME in reply, sentence
        assert commands(phones.harness, kitchen) == ["reject"], sentence
        assert commands(phones.harness, front_desk) == [], sentence
        await phones.harness.settle()
        assert state_of(hass, KITCHEN_SENSOR).state == "idle", sentence
        await _end(phones, front_desk)


@BY_CODE
async def test_hang_up(hass: HomeAssistant, phones: Phones, language: Language) -> None:
    phones.put_kitchen_in(language.kitchen)
    for sentence in language.hang_up:
        call_id = await phones.harness.ring(CALLER, CALLER_NAME)
        await phones.harness.act("answer_call")
        await phones.harness.settle()
        reply = await say(hass, sentence, language.code)
        assert CALLER_NAME in reply, sentence
        assert FRONT_DESK_NAME in reply, sentence
        assert commands(phones.harness, call_id) == ["answer", "hangup"], sentence
        await phones.harness.settle()
        assert state_of(hass, SENSOR).state == "idle", sentence
    for sentence in language.hang_up_kitchen:
        front_desk, kitchen = await _ring_both(phones)
        reply = await say(hass, sentence, language.code)
        assert SECOND_CALLER_NAME in reply, sentence
        assert KITCHEN_NAME in reply, sentence
        assert commands(phones.harness, kitchen) == ["hangup"], sentence
        assert commands(phones.harness, front_desk) == [], sentence
        await phones.harness.settle()
        assert state_of(hass, KITCHEN_SENSOR).state == "idle", sentence
        await _end(phones, front_desk)


@BY_CODE
async def test_who_is_calling(
    hass: HomeAssistant, phones: Phones, language: Language
) -> None:
    phones.put_kitchen_in(language.kitchen)
    front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
    for sentence in language.who:
        reply = await say(hass, sentence, language.code)
        assert f"{CALLER_NAME} ({CALLER})" in reply, sentence
        assert FRONT_DESK_NAME in reply, sentence
    kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    for sentence in language.who_kitchen:
        reply = await say(hass, sentence, language.code)
        assert f"{SECOND_CALLER_NAME} ({SECOND_CALLER})" in reply, sentence
        assert KITCHEN_NAME in reply, sentence
        assert CALLER_NAME not in reply, sentence
    # Asking changed nothing.
    assert commands(phones.harness, front_desk) == []
    assert commands(phones.harness, kitchen) == []
    assert state_of(hass, SENSOR).state == "ringing"
    assert state_of(hass, KITCHEN_SENSOR).state == "ringing"
