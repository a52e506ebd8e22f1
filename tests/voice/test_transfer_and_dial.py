"""Transfer and dial by voice: where the call goes, and what Assist says.

All on Telnyx's two numbers, named "Front desk line" (+15550100001) and
"Kitchen phone" (+15550100002), which can both transfer and dial.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.switchboard.providers.model import CallAction
from tests.const import CALLER, FRONT_DESK, KITCHEN
from tests.contract.harness import CALLER_NAME, SECOND_CALLER, Command
from tests.helpers import KITCHEN_SENSOR, SENSOR, call_action, state_of

from .helpers import (
    FRONT_DESK_NAME,
    KITCHEN_NAME,
    SECOND_CALLER_NAME,
    TELNYX,
    Phones,
    say,
)

pytestmark = TELNYX

OFFICE = "+15550100777"
PIZZA_PLACE = "Pizza Place"
PIZZA_NUMBER = "+15550123456"


async def talking(phones: Phones) -> str:
    """Ring the front desk from Ada and answer; return the call once it talks."""
    call_id = await phones.harness.ring(CALLER, CALLER_NAME)
    await phones.harness.act("answer_call")
    await phones.harness.settle()
    assert state_of(phones.hass, SENSOR).state == "talking"
    return call_id


def transfers(phones: Phones) -> list[Command]:
    """The transfers the simulator received."""
    return phones.harness.sent(CallAction.TRANSFER)


def dials(phones: Phones) -> list[tuple[Any, Any]]:
    """The calls placed at the simulator: (from, to)."""
    return [
        (request.body.get("from"), request.body.get("to"))
        for request in phones.harness.simulator.requests
        if request.method == "POST"
        and request.path == "/v2/calls"
        and isinstance(request.body, dict)
    ]


async def miss(phones: Phones, number: str, name: str, *, kitchen: bool) -> None:
    """A call from `number` (`name`) that nobody answers."""
    if kitchen:
        call_id = await phones.ring_kitchen(number, name)
    else:
        call_id = await phones.harness.ring(number, name)
    await phones.harness.abandon(call_id)
    await phones.harness.settle()


def without(
    phones: Phones, action: CallAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make the provider one that lacks `action`."""
    provider = phones.harness.entry.runtime_data.provider
    monkeypatch.setattr(
        provider, "supported_actions", provider.supported_actions - {action}
    )


# --- transfer ---


async def test_transfer_to_a_number_said_aloud(
    hass: HomeAssistant, phones: Phones
) -> None:
    call_id = await talking(phones)
    assert await say(hass, "transfer the call to +1 555 0100 777") == (
        f"Transferred {CALLER_NAME} on {FRONT_DESK_NAME} to {OFFICE}."
    )
    assert transfers(phones) == [Command(CallAction.TRANSFER, call_id, OFFICE)]
    await phones.harness.complete_transfer(call_id)
    assert state_of(hass, SENSOR).state == "idle"
    assert state_of(hass, "sensor.15550100001_last_call").attributes["outcome"] == (
        "transferred"
    )


@pytest.mark.parametrize(
    "said",
    ["plus 1 555 0100 777", "+1 (555) 0100-777", "+1.555.0100.777", "Plus 15550100777"],
)
async def test_a_number_is_read_whatever_its_separators(
    hass: HomeAssistant, phones: Phones, said: str
) -> None:
    call_id = await talking(phones)
    assert await say(hass, f"forward the call to {said}") == (
        f"Transferred {CALLER_NAME} on {FRONT_DESK_NAME} to {OFFICE}."
    )
    assert transfers(phones) == [Command(CallAction.TRANSFER, call_id, OFFICE)]


async def test_transfer_to_another_phone_by_name_or_area(
    hass: HomeAssistant, phones: Phones
) -> None:
    phones.put_kitchen_in("Office")
    call_id = await talking(phones)
    assert await say(hass, "transfer the call to the office") == (
        f"Transferred {CALLER_NAME} on {FRONT_DESK_NAME} to {KITCHEN_NAME}."
    )
    # The phone's own number: the call leaves the front desk for the kitchen.
    assert transfers(phones) == [Command(CallAction.TRANSFER, call_id, KITCHEN)]


async def test_transfer_the_call_on_a_named_phone(
    hass: HomeAssistant, phones: Phones
) -> None:
    await phones.harness.ring(CALLER, CALLER_NAME)
    kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    await call_action(hass, "answer_call", entity_id=KITCHEN_SENSOR)
    await phones.harness.settle()
    assert await say(
        hass, "transfer the call on the kitchen phone to the front desk line"
    ) == (f"Transferred {SECOND_CALLER_NAME} on {KITCHEN_NAME} to {FRONT_DESK_NAME}.")
    assert transfers(phones) == [Command(CallAction.TRANSFER, kitchen, FRONT_DESK)]
    # The front desk's own call, ringing, was left alone.
    assert state_of(hass, SENSOR).state == "ringing"


async def test_a_call_is_not_transferred_to_its_own_phone(
    hass: HomeAssistant, phones: Phones
) -> None:
    await talking(phones)
    assert await say(hass, "transfer the call to the front desk line") == (
        f"{CALLER_NAME} is already on {FRONT_DESK_NAME}."
    )
    assert transfers(phones) == []


async def test_transfer_to_a_name_nobody_has(
    hass: HomeAssistant, phones: Phones
) -> None:
    await talking(phones)
    assert await say(hass, "transfer the call to the garage") == (
        "I don't know a phone called the garage. Say its name or a number."
    )
    assert await say(hass, "Leite den Anruf an die Garage weiter", "de") == (
        "Ich kenne kein Telefon namens die Garage. Sag seinen Namen oder eine Nummer."
    )
    assert transfers(phones) == []
    assert state_of(hass, SENSOR).state == "talking"


async def test_transfer_with_no_call(hass: HomeAssistant, phones: Phones) -> None:
    assert await say(hass, "transfer the call to +1 555 0100 777") == (
        "There is no call to transfer."
    )
    assert await say(hass, "transfer the call on the kitchen phone to the office") == (
        f"There is no call on {KITCHEN_NAME} to transfer."
    )
    assert transfers(phones) == []


async def test_transfer_where_the_provider_cannot(
    hass: HomeAssistant, phones: Phones, monkeypatch: pytest.MonkeyPatch
) -> None:
    await talking(phones)
    without(phones, CallAction.TRANSFER, monkeypatch)
    assert await say(hass, "transfer the call to the kitchen phone") == (
        f"Could not transfer {CALLER_NAME} on {FRONT_DESK_NAME} to {KITCHEN_NAME}."
        " Telnyx cannot transfer calls."
    )
    assert await say(hass, "Transfère l'appel au Kitchen phone", "fr") == (
        f"Impossible de transférer l'appel de {FRONT_DESK_NAME} vers {KITCHEN_NAME}"
        f" ({CALLER_NAME}). Telnyx ne peut pas transférer d'appel."
    )
    assert transfers(phones) == []
    assert state_of(hass, SENSOR).state == "talking"


async def test_a_refused_transfer_says_why(hass: HomeAssistant, phones: Phones) -> None:
    await talking(phones)
    phones.harness.refuse_next(CallAction.TRANSFER, 503)
    assert await say(hass, "transfer the call to +15550100777") == (
        f"Could not transfer {CALLER_NAME} on {FRONT_DESK_NAME} to {OFFICE}."
        " Telnyx cannot be reached right now."
    )
    # The call stays where it was; a transfer is not risked twice.
    assert len(transfers(phones)) == 1
    await phones.harness.settle()
    assert state_of(hass, SENSOR).state == "talking"


async def test_a_destination_the_provider_does_not_take(
    hass: HomeAssistant, phones: Phones
) -> None:
    await talking(phones)
    # Telnyx takes +E.164 numbers and SIP addresses.
    assert await say(hass, "transfer the call to 12") == (
        f"Could not transfer {CALLER_NAME} on {FRONT_DESK_NAME} to 12. Telnyx does"
        " not take that number or address."
    )
    assert transfers(phones) == []


async def test_a_ringing_call_telnyx_cannot_transfer_yet(
    hass: HomeAssistant, phones: Phones
) -> None:
    await phones.harness.ring(CALLER, CALLER_NAME)
    assert await say(hass, "transfer the call to the kitchen phone") == (
        f"Could not transfer {CALLER_NAME} on {FRONT_DESK_NAME} to {KITCHEN_NAME}."
        " Telnyx does not allow that on this call now."
    )
    assert transfers(phones) == []


# --- dial ---


async def test_call_a_number(hass: HomeAssistant, phones: Phones) -> None:
    assert await say(hass, "call +1 555 0100 777") == (
        f"Calling {OFFICE} from {FRONT_DESK_NAME}."
    )
    assert dials(phones) == [(FRONT_DESK, OFFICE)]
    await phones.harness.settle()
    sensor = state_of(hass, SENSOR)
    assert sensor.state == "dialing"
    assert sensor.attributes["remote_number"] == OFFICE
    assert sensor.attributes["direction"] == "outgoing"


async def test_call_from_a_named_phone(hass: HomeAssistant, phones: Phones) -> None:
    assert await say(hass, "call +1 555 0100 777 from the kitchen phone") == (
        f"Calling {OFFICE} from {KITCHEN_NAME}."
    )
    assert await say(hass, "Ruf die Front desk line vom Kitchen phone an", "de") == (
        f"Rufe {FRONT_DESK_NAME} von {KITCHEN_NAME} aus an."
    )
    assert dials(phones) == [(KITCHEN, OFFICE), (KITCHEN, FRONT_DESK)]
    await phones.harness.settle()
    assert state_of(hass, KITCHEN_SENSOR).state == "dialing"
    assert state_of(hass, KITCHEN_SENSOR).attributes["active_calls"] == 2
    assert state_of(hass, SENSOR).state == "idle"


async def test_call_another_phone_from_a_line_that_is_not_it(
    hass: HomeAssistant, phones: Phones
) -> None:
    assert await say(hass, "call the front desk line") == (
        f"Calling {FRONT_DESK_NAME} from {KITCHEN_NAME}."
    )
    assert dials(phones) == [(KITCHEN, FRONT_DESK)]
    phones.expose_kitchen(False)
    # The only phone left is the one called.
    assert await say(hass, "call the front desk line") == (
        f"There is no other phone to call {FRONT_DESK_NAME} from."
    )
    assert len(dials(phones)) == 1


async def test_call_a_recent_caller_back_by_name(
    hass: HomeAssistant, phones: Phones
) -> None:
    await miss(phones, PIZZA_NUMBER, PIZZA_PLACE, kitchen=True)
    # From the phone they called.
    assert await say(hass, "call Pizza Place back") == (
        f"Calling {PIZZA_PLACE} from {KITCHEN_NAME}."
    )
    assert await say(hass, "call back pizza place") == (
        f"Calling {PIZZA_PLACE} from {KITCHEN_NAME}."
    )
    # A part of the name will do.
    assert (
        await say(hass, "call pizza") == f"Calling {PIZZA_PLACE} from {KITCHEN_NAME}."
    )
    assert dials(phones) == [(KITCHEN, PIZZA_NUMBER)] * 3


async def test_call_back_the_last_caller(hass: HomeAssistant, phones: Phones) -> None:
    assert await say(hass, "call back") == "There is no recent caller to call back."
    await miss(phones, PIZZA_NUMBER, PIZZA_PLACE, kitchen=True)
    # An answered call is recent too, and newer.
    call_id = await talking(phones)
    await phones.harness.hang_up_remotely(call_id)
    await phones.harness.settle()
    for sentence in (
        "call back the last caller",
        "call back",
        "call the last caller back",
    ):
        assert await say(hass, sentence) == (
            f"Calling {CALLER_NAME} from {FRONT_DESK_NAME}."
        ), sentence
    assert await say(hass, "call back the last caller on the kitchen phone") == (
        f"Calling {PIZZA_PLACE} from {KITCHEN_NAME}."
    )
    assert dials(phones) == [(FRONT_DESK, CALLER)] * 3 + [(KITCHEN, PIZZA_NUMBER)]


async def test_the_last_caller_is_one_who_called_in(
    hass: HomeAssistant, phones: Phones
) -> None:
    await miss(phones, PIZZA_NUMBER, PIZZA_PLACE, kitchen=False)
    assert await say(hass, "call +1 555 0100 777") != ""
    await phones.harness.settle()
    # The front desk's last call is now the one it placed: not a caller.
    (placed,) = [
        call.call_id
        for call in phones.harness.entry.runtime_data.calls.live_calls()
        if call.remote_number == OFFICE
    ]
    await phones.harness.hang_up_remotely(placed)
    await phones.harness.settle()
    last = state_of(hass, "sensor.15550100001_last_call").attributes
    assert last["direction"] == "outgoing"
    assert (
        await say(hass, "call back") == f"Calling {PIZZA_PLACE} from {FRONT_DESK_NAME}."
    )
    assert dials(phones)[-1] == (FRONT_DESK, PIZZA_NUMBER)


async def test_recent_callers_are_kept_across_a_reload(
    hass: HomeAssistant, phones: Phones
) -> None:
    await miss(phones, PIZZA_NUMBER, PIZZA_PLACE, kitchen=True)
    await phones.harness.reload()
    assert await say(hass, "call Pizza Place back") == (
        f"Calling {PIZZA_PLACE} from {KITCHEN_NAME}."
    )
    assert dials(phones) == [(KITCHEN, PIZZA_NUMBER)]


async def test_a_name_that_fits_several_numbers_is_not_guessed(
    hass: HomeAssistant, phones: Phones
) -> None:
    await miss(phones, PIZZA_NUMBER, PIZZA_PLACE, kitchen=True)
    await miss(phones, "+15550123499", PIZZA_PLACE, kitchen=False)
    assert await say(hass, "call Pizza Place") == (
        f"Pizza Place could be {PIZZA_PLACE} (+15550123499) or {PIZZA_PLACE}"
        f" ({PIZZA_NUMBER}). Say which one."
    )
    phones.put_kitchen_in("Office")
    phones.put_front_desk_in("Office")
    assert await say(hass, "Bel het office", "nl") == (
        f"Het office kan {FRONT_DESK_NAME} ({FRONT_DESK}) of {KITCHEN_NAME} ({KITCHEN})"
        " zijn. Zeg welke."
    )
    assert dials(phones) == []


async def test_call_a_name_nobody_has(hass: HomeAssistant, phones: Phones) -> None:
    assert await say(hass, "call the plumber") == (
        "I don't know a phone or a recent caller called the plumber. Say a name or a"
        " number."
    )
    assert await say(hass, "Llama a Pizza Place", "es") == (
        "No conozco ningún teléfono ni llamante reciente llamado Pizza Place. Di un"
        " nombre o un número."
    )
    assert dials(phones) == []


async def test_call_where_the_provider_cannot(
    hass: HomeAssistant, phones: Phones, monkeypatch: pytest.MonkeyPatch
) -> None:
    without(phones, CallAction.DIAL, monkeypatch)
    assert await say(hass, "call +15550100777") == (
        f"Could not call {OFFICE} from {FRONT_DESK_NAME}. Telnyx cannot place calls."
    )
    assert await say(hass, "bel +15550100777", "nl") == (
        f"Kon {OFFICE} niet bellen vanaf {FRONT_DESK_NAME}. Telnyx kan geen"
        " gesprekken opzetten."
    )
    assert dials(phones) == []
    assert state_of(hass, SENSOR).state == "idle"


async def test_a_refused_call_says_why(hass: HomeAssistant, phones: Phones) -> None:
    phones.harness.refuse_next(CallAction.DIAL, 503)
    assert await say(hass, "dial +15550100777") == (
        f"Could not call {OFFICE} from {FRONT_DESK_NAME}. Telnyx cannot be reached"
        " right now."
    )
    # A second call is not risked.
    assert len(dials(phones)) == 1
    await phones.harness.settle()
    assert state_of(hass, SENSOR).state == "idle"


async def test_call_from_an_unknown_or_unexposed_phone(
    hass: HomeAssistant, phones: Phones
) -> None:
    assert await say(hass, "call +15550100777 from the garage phone") == (
        "I don't know a phone called garage phone."
    )
    phones.expose_kitchen(False)
    assert await say(hass, "call +15550100777 from the kitchen phone") == (
        f"{KITCHEN_NAME} is not exposed to Assist."
    )
    assert dials(phones) == []


async def test_nothing_else_is_touched(hass: HomeAssistant, phones: Phones) -> None:
    ringing = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    assert await say(hass, "call +15550100777") == (
        f"Calling {OFFICE} from {FRONT_DESK_NAME}."
    )
    await phones.harness.settle()
    # The kitchen's ringing call rings on.
    assert state_of(hass, KITCHEN_SENSOR).state == "ringing"
    assert state_of(hass, KITCHEN_SENSOR).attributes["call_id"] == ringing


async def test_transfer_to_an_address(hass: HomeAssistant, phones: Phones) -> None:
    call_id = await talking(phones)
    desk = "sip:desk@example.sip.telnyx.com"
    assert await say(hass, f"transfer the call to {desk}") == (
        f"Transferred {CALLER_NAME} on {FRONT_DESK_NAME} to {desk}."
    )
    assert transfers(phones) == [Command(CallAction.TRANSFER, call_id, desk)]


async def test_a_caller_without_a_number_cannot_be_called_back(
    hass: HomeAssistant, phones: Phones
) -> None:
    # Withheld: the name is known, the number is not.
    await miss(phones, "", PIZZA_PLACE, kitchen=True)
    assert await say(hass, "call back") == "There is no recent caller to call back."
    assert await say(hass, "call Pizza Place back") == (
        "I don't know a phone or a recent caller called Pizza Place. Say a name or a"
        " number."
    )
    await miss(phones, PIZZA_NUMBER, PIZZA_PLACE, kitchen=False)
    assert await say(hass, "call back the last caller on the kitchen phone") == (
        f"There is no recent caller on {KITCHEN_NAME} to call back."
    )
    assert await say(hass, "call back") == (
        f"Calling {PIZZA_PLACE} from {FRONT_DESK_NAME}."
    )
    assert dials(phones) == [(FRONT_DESK, PIZZA_NUMBER)]
