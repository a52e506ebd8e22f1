"""Every transfer and dial sentence of every language does what it says.

On Telnyx's two numbers: the front desk line and the kitchen phone, which is
in the kitchen area (named in each language). A transfer goes to the kitchen
by its area's name, or to the office's number said aloud; a call goes to that
number, or back to Pizza Place, who called the kitchen and gave up.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
import pytest

from custom_components.switchboard.providers.model import CallAction
from tests.const import CALLER, FRONT_DESK, KITCHEN
from tests.contract.harness import CALLER_NAME, SECOND_CALLER
from tests.helpers import KITCHEN_SENSOR, SENSOR, call_action, state_of

from .helpers import (
    FRONT_DESK_NAME,
    KITCHEN_NAME,
    SECOND_CALLER_NAME,
    TELNYX,
    Phones,
    say,
)
from .test_transfer_and_dial import OFFICE, PIZZA_NUMBER, PIZZA_PLACE, dials, miss

pytestmark = TELNYX


@dataclass(frozen=True)
class Language:
    """What a user says in one language; `kitchen` is the area's name there."""

    code: str
    kitchen: str
    # The front desk's call, to the kitchen (by its area).
    transfer: tuple[str, ...]
    # The front desk's call, to +1 555 0100 777.
    transfer_number: tuple[str, ...]
    # The kitchen's call (the front desk rings too), to +1 555 0100 777.
    transfer_kitchen: tuple[str, ...]
    # +1 555 0100 777, from the first phone.
    dial: tuple[str, ...]
    # +1 555 0100 777, from the kitchen phone.
    dial_kitchen: tuple[str, ...]
    # Pizza Place, by name.
    call_back: tuple[str, ...]
    # The last caller (Pizza Place).
    call_back_last: tuple[str, ...]


LANGUAGES = [
    Language(
        "en",
        "Kitchen",
        transfer=(
            "transfer the call to the kitchen",
            "Forward the call to the kitchen phone",
            "transfer my call to Kitchen",
            "transfer this call to the kitchen",
            "transfer the caller to the kitchen",
            "put the call through to the kitchen",
        ),
        transfer_number=(
            "transfer the call to +1 555 0100 777",
            "forward this call to plus 1 555 0100 777",
            "Transfer the call to +1 (555) 0100-777.",
        ),
        transfer_kitchen=(
            "transfer the call in the kitchen to +1 555 0100 777",
            "forward the call on the kitchen phone to +15550100777",
        ),
        dial=("call +1 555 0100 777", "dial +1 555 0100 777", "Call plus 15550100777"),
        dial_kitchen=(
            "call +1 555 0100 777 from the kitchen phone",
            "dial +15550100777 on the kitchen phone",
            "call +15550100777 with the kitchen",
        ),
        call_back=(
            "call Pizza Place back",
            "call back Pizza Place",
            "call pizza place",
        ),
        call_back_last=(
            "call back",
            "Call back the last caller",
            "call the last caller back",
            "call back whoever called",
            "call the last number",
        ),
    ),
    Language(
        "de",
        "Küche",
        transfer=(
            "Leite den Anruf an die Küche weiter",
            "Leite den Anruf zur Küche weiter",
            "Stell den Anruf zur Küche durch",
            "Verbinde den Anruf mit der Küche",
            "Anruf an die Küche weiterleiten",
        ),
        transfer_number=(
            "Leite den Anruf an +1 555 0100 777 weiter",
            "Verbinde den Anruf mit plus 1 555 0100 777",
        ),
        transfer_kitchen=("Leite den Anruf in der Küche an +1 555 0100 777 weiter",),
        dial=(
            "Ruf +1 555 0100 777 an",
            "Rufe plus 1 555 0100 777 an",
            "+1 555 0100 777 anrufen",
        ),
        dial_kitchen=(
            "Ruf +1 555 0100 777 von der Küche an",
            "Rufe +15550100777 mit dem Kitchen phone an",
        ),
        call_back=(
            "Ruf Pizza Place zurück",
            "Ruf Pizza Place an",
            "Pizza Place zurückrufen",
            "Pizza Place anrufen",
        ),
        call_back_last=(
            "Ruf zurück",
            "Ruf den letzten Anrufer zurück",
            "Rufe den letzten Anrufer an",
            "Den letzten Anrufer zurückrufen",
        ),
    ),
    Language(
        "fr",
        "Cuisine",
        transfer=(
            "Transfère l'appel à la cuisine",
            "Transférez l'appel vers la cuisine",
            "Passe l'appel à la cuisine",
        ),
        transfer_number=(
            "Transfère l'appel au +1 555 0100 777",
            "Transfère l'appel vers plus 1 555 0100 777",
        ),
        transfer_kitchen=(
            "Transfère l'appel de la cuisine au +1 555 0100 777",
            "Transfère l'appel dans la cuisine vers le +15550100777",
        ),
        dial=(
            "Appelle le +1 555 0100 777",
            "Appelez plus 1 555 0100 777",
            "Appelle +15550100777",
        ),
        dial_kitchen=(
            "Appelle le +1 555 0100 777 depuis la cuisine",
            "Appelle +15550100777 avec le Kitchen phone",
        ),
        call_back=("Rappelle Pizza Place", "Appelle Pizza Place"),
        call_back_last=(
            "Rappelle",
            "Rappelle le dernier appelant",
            "Rappelez le dernier numéro",
            "Appelle le dernier appelant",
        ),
    ),
    Language(
        "es",
        "Cocina",
        transfer=(
            "Transfiere la llamada a la cocina",
            "Pasa la llamada a la cocina",
            "Transfiere la llamada al Kitchen phone",
        ),
        transfer_number=(
            "Transfiere la llamada al +1 555 0100 777",
            "Pasa la llamada a más 1 555 0100 777",
        ),
        transfer_kitchen=(
            "Transfiere la llamada de la cocina al +1 555 0100 777",
            "Pasa la llamada en la cocina a +15550100777",
        ),
        dial=(
            "Llama al +1 555 0100 777",
            "Llama a más 1 555 0100 777",
            "Marca el número +1 555 0100 777",
        ),
        dial_kitchen=(
            "Llama al +1 555 0100 777 desde la cocina",
            "Llame a +15550100777 con el Kitchen phone",
        ),
        call_back=("Llama a Pizza Place", "Devuelve la llamada a Pizza Place"),
        call_back_last=(
            "Devuelve la llamada",
            "Llama al último que llamó",
            "Devuelve la llamada al último que llamó",
        ),
    ),
    Language(
        "nl",
        "Keuken",
        transfer=(
            "Verbind het gesprek door met de keuken",
            "Schakel de oproep door naar de keuken",
            "Zet het gesprek door naar de keuken",
        ),
        transfer_number=(
            "Verbind het gesprek door met +1 555 0100 777",
            "Schakel de oproep door naar plus 1 555 0100 777",
        ),
        transfer_kitchen=("Verbind het gesprek in de keuken door met +1 555 0100 777",),
        dial=("Bel +1 555 0100 777", "Bel plus 1 555 0100 777"),
        dial_kitchen=(
            "Bel +1 555 0100 777 vanaf de keuken",
            "Bel +15550100777 met de Kitchen phone",
        ),
        call_back=("Bel Pizza Place terug", "Bel Pizza Place"),
        call_back_last=(
            "Bel terug",
            "Bel de laatste beller terug",
            "Bel de laatste beller",
        ),
    ),
]
BY_CODE = pytest.mark.parametrize(
    "language", LANGUAGES, ids=[language.code for language in LANGUAGES]
)


def transferred(phones: Phones, call_id: str) -> list[str]:
    """Where the simulator was told to transfer `call_id`."""
    return [
        command.argument
        for command in phones.harness.sent(CallAction.TRANSFER)
        if command.call_id == call_id
    ]


async def talking(phones: Phones) -> str:
    """The front desk is on a call with Ada."""
    call_id = await phones.harness.ring(CALLER, CALLER_NAME)
    await phones.harness.act("answer_call", call_id=call_id)
    await phones.harness.settle()
    return call_id


async def end(phones: Phones, *call_ids: str) -> None:
    """The callers hang up; a transfer's new leg goes with its caller."""
    for call_id in call_ids:
        await phones.harness.hang_up_remotely(call_id)
    await phones.harness.settle()
    assert state_of(phones.hass, SENSOR).state == "idle"
    assert state_of(phones.hass, KITCHEN_SENSOR).state == "idle"


@BY_CODE
async def test_transfer(
    hass: HomeAssistant, phones: Phones, language: Language
) -> None:
    phones.put_kitchen_in(language.kitchen)
    for sentence, to in [
        *((sentence, KITCHEN) for sentence in language.transfer),
        *((sentence, OFFICE) for sentence in language.transfer_number),
    ]:
        call_id = await talking(phones)
        reply = await say(hass, sentence, language.code)
        assert CALLER_NAME in reply, sentence
        assert FRONT_DESK_NAME in reply, sentence
        assert (KITCHEN_NAME if to == KITCHEN else OFFICE) in reply, sentence
        assert transferred(phones, call_id) == [to], sentence
        await end(phones, call_id)


@BY_CODE
async def test_transfer_on_a_named_phone(
    hass: HomeAssistant, phones: Phones, language: Language
) -> None:
    phones.put_kitchen_in(language.kitchen)
    for sentence in language.transfer_kitchen:
        front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
        kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
        await call_action(hass, "answer_call", entity_id=KITCHEN_SENSOR)
        await phones.harness.settle()
        reply = await say(hass, sentence, language.code)
        assert SECOND_CALLER_NAME in reply, sentence
        assert KITCHEN_NAME in reply, sentence
        assert transferred(phones, kitchen) == [OFFICE], sentence
        assert transferred(phones, front_desk) == [], sentence
        await end(phones, front_desk, kitchen)


@BY_CODE
async def test_dial(hass: HomeAssistant, phones: Phones, language: Language) -> None:
    phones.put_kitchen_in(language.kitchen)
    expected: list[tuple[str, str]] = []
    for sentence, line, name in [
        *((sentence, FRONT_DESK, FRONT_DESK_NAME) for sentence in language.dial),
        *((sentence, KITCHEN, KITCHEN_NAME) for sentence in language.dial_kitchen),
    ]:
        reply = await say(hass, sentence, language.code)
        assert OFFICE in reply, sentence
        assert name in reply, sentence
        expected.append((line, OFFICE))
        assert dials(phones) == expected, sentence
    await phones.harness.settle()
    assert state_of(hass, SENSOR).state == "dialing"
    assert state_of(hass, SENSOR).attributes["active_calls"] == len(language.dial)
    assert state_of(hass, KITCHEN_SENSOR).state == "dialing"


@BY_CODE
async def test_call_back(
    hass: HomeAssistant, phones: Phones, language: Language
) -> None:
    phones.put_kitchen_in(language.kitchen)
    await miss(phones, PIZZA_NUMBER, PIZZA_PLACE, kitchen=True)
    sentences = (*language.call_back, *language.call_back_last)
    for count, sentence in enumerate(sentences, start=1):
        reply = await say(hass, sentence, language.code)
        assert PIZZA_PLACE in reply, sentence
        assert KITCHEN_NAME in reply, sentence
        # From the phone Pizza Place called.
        assert dials(phones) == [(KITCHEN, PIZZA_NUMBER)] * count, sentence
