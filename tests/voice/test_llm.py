"""The same intents as tools of the Assist LLM API, as an LLM agent gets them."""

from __future__ import annotations

from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.util import dt as dt_util
import probatio as vol
import pytest

from custom_components.switchboard.providers.model import CallAction
from tests.const import CALLER
from tests.contract.harness import CALLER_NAME, SECOND_CALLER
from tests.helpers import KITCHEN_SENSOR, SENSOR, state_of

from .helpers import SECOND_CALLER_NAME, TELNYX, Phones, commands

pytestmark = TELNYX

TOOLS = {
    "switchboard__answer_call",
    "switchboard__reject_call",
    "switchboard__hang_up_call",
    "switchboard__list_calls",
}
MISSED_CALLS_TOOL = "switchboard__missed_calls"


async def assist_api(hass: HomeAssistant, language: str = "en") -> llm.APIInstance:
    """The Assist API as a conversation agent using it gets it."""
    return await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="test_agent",
            context=Context(),
            language=language,
            assistant="conversation",
            device_id=None,
        ),
    )


async def call_tool(
    api: llm.APIInstance, name: str, **arguments: str
) -> dict[str, Any]:
    """Call one tool as the LLM would; return what it reads."""
    result = await api.async_call_tool(llm.ToolInput(name, arguments))
    assert not result.error
    return dict(result.data)


def said(result: dict[str, Any]) -> str:
    """The speech of a tool's intent response."""
    speech: str = result["speech"]["plain"]["speech"]
    return speech


async def test_the_tools_are_listed(hass: HomeAssistant, phones: Phones) -> None:
    api = await assist_api(hass)
    tools = {tool.name: tool for tool in api.tools}
    assert set(tools) >= TOOLS
    for name in TOOLS:
        tool = tools[name]
        assert tool.integration == "switchboard"
        assert tool.description
        parameters = vol.to_openapi(
            tool.parameters, custom_serializer=api.custom_serializer
        )
        assert set(parameters["properties"]) == {"device", "call_id"}
        assert not parameters.get("required")
    assert tools["switchboard__list_calls"].annotations.read_only
    assert not tools["switchboard__answer_call"].annotations.read_only
    assert "switchboard tools for phone calls" in api.api_prompt


async def test_no_tools_while_no_phone_is_exposed(
    hass: HomeAssistant, phones: Phones
) -> None:
    phones.expose_front_desk(False)
    phones.expose_kitchen(False)
    api = await assist_api(hass)
    assert not {*TOOLS, MISSED_CALLS_TOOL} & {tool.name for tool in api.tools}


async def test_each_tool_does_what_it_says(hass: HomeAssistant, phones: Phones) -> None:
    front_desk = await phones.harness.ring(CALLER, CALLER_NAME)
    kitchen = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    api = await assist_api(hass)

    listed = await call_tool(api, "switchboard__list_calls")
    assert listed["response_type"] == "query_answer"
    calls = listed["speech_slots"]["calls"]
    assert [(c["call_id"], c["device"], c["state"]) for c in calls] == [
        (front_desk, "Front desk line", "ringing"),
        (kitchen, "Kitchen phone", "ringing"),
    ]
    assert calls[0]["caller_name"] == CALLER_NAME
    assert calls[0]["caller_number"] == CALLER
    assert calls[0]["direction"] == "incoming"
    assert said(listed).startswith("2 calls are ringing")

    # The newer call, by its id.
    answered = await call_tool(api, "switchboard__answer_call", call_id=kitchen)
    assert said(answered) == f"Answered {SECOND_CALLER_NAME} on Kitchen phone."
    assert answered["speech_slots"]["call_id"] == kitchen
    assert answered["data"]["success"][0]["name"] == "Kitchen phone"
    assert commands(phones.harness, kitchen) == ["answer"]
    assert commands(phones.harness, front_desk) == []
    await phones.harness.settle()
    assert state_of(hass, KITCHEN_SENSOR).state == "talking"

    # A phone by name.
    rejected = await call_tool(
        api, "switchboard__reject_call", device="Front desk line"
    )
    assert said(rejected) == f"Declined the call from {CALLER_NAME} on Front desk line."
    assert commands(phones.harness, front_desk) == ["reject"]
    await phones.harness.settle()
    assert state_of(hass, SENSOR).state == "idle"

    # Nothing given: the call in progress.
    hung_up = await call_tool(api, "switchboard__hang_up_call")
    assert (
        said(hung_up) == f"Ended the call with {SECOND_CALLER_NAME} on Kitchen phone."
    )
    assert commands(phones.harness, kitchen) == ["answer", "hangup"]
    await phones.harness.settle()
    assert state_of(hass, KITCHEN_SENSOR).state == "idle"

    listed = await call_tool(api, "switchboard__list_calls")
    assert listed["speech_slots"]["calls"] == []
    assert said(listed) == "Nothing is ringing."


async def test_a_tool_tells_the_llm_what_went_wrong(
    hass: HomeAssistant, phones: Phones
) -> None:
    api = await assist_api(hass, "de")
    nothing = await call_tool(api, "switchboard__answer_call")
    assert nothing["response_type"] == "error"
    assert nothing["data"]["code"] == "no_valid_targets"
    assert said(nothing) == "Es klingelt gerade nichts."
    call_id = await phones.harness.ring(CALLER, CALLER_NAME)
    unknown = await call_tool(api, "switchboard__hang_up_call", call_id="v3:gone")
    assert said(unknown) == "Es gibt keinen laufenden Anruf v3:gone."
    nowhere = await call_tool(api, "switchboard__answer_call", device="Garage")
    assert said(nowhere) == "Ich kenne kein Telefon namens Garage."
    assert commands(phones.harness, call_id) == []


async def test_the_missed_calls_tool(hass: HomeAssistant, phones: Phones) -> None:
    api = await assist_api(hass)
    tool = next(tool for tool in api.tools if tool.name == MISSED_CALLS_TOOL)
    assert tool.integration == "switchboard"
    assert tool.description
    assert tool.annotations.read_only
    parameters = vol.to_openapi(
        tool.parameters, custom_serializer=api.custom_serializer
    )
    # About missed calls, not one live call: a device, no call_id.
    assert set(parameters["properties"]) == {"device"}
    assert not parameters.get("required")

    none = await call_tool(api, MISSED_CALLS_TOOL)
    assert none["response_type"] == "query_answer"
    assert said(none) == "No missed calls."
    assert {
        found["device"]: found["count"]
        for found in none["speech_slots"]["missed_calls"]
    } == {"Front desk line": 0, "Kitchen phone": 0}

    call_id = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    await phones.harness.abandon(call_id)
    await phones.harness.settle()
    counter = state_of(hass, "sensor.15550100002_missed_calls")
    counted = await call_tool(api, MISSED_CALLS_TOOL, device="Kitchen phone")
    charles = f"{SECOND_CALLER_NAME} ({SECOND_CALLER})"
    assert said(counted) == f"You have 1 missed call on Kitchen phone, from {charles}."
    (found,) = counted["speech_slots"]["missed_calls"]
    assert found["device"] == "Kitchen phone"
    assert found["count"] == 1
    assert found["last_caller"] == charles == counter.attributes["last_caller"]
    assert dt_util.parse_datetime(found["last_missed_at"]) == dt_util.parse_datetime(
        counter.attributes["last_missed_at"]
    )
    assert commands(phones.harness, call_id) == []


TRANSFER_TOOL = "switchboard__transfer_call"
DIAL_TOOL = "switchboard__dial"


async def test_the_transfer_and_dial_tools(hass: HomeAssistant, phones: Phones) -> None:
    api = await assist_api(hass)
    tools = {tool.name: tool for tool in api.tools}
    transfer, dial = tools[TRANSFER_TOOL], tools[DIAL_TOOL]
    for tool in (transfer, dial):
        assert tool.integration == "switchboard"
        assert tool.description
        assert not tool.annotations.read_only
    parameters = vol.to_openapi(
        transfer.parameters, custom_serializer=api.custom_serializer
    )
    assert set(parameters["properties"]) == {"destination", "device", "call_id"}
    assert parameters["required"] == ["destination"]
    assert "number" in parameters["properties"]["destination"]["description"]
    parameters = vol.to_openapi(
        dial.parameters, custom_serializer=api.custom_serializer
    )
    # A new call: no call_id; without a destination, the last caller.
    assert set(parameters["properties"]) == {"destination", "device"}
    assert not parameters.get("required")
    assert "last caller" in parameters["properties"]["destination"]["description"]
    assert "transfer" in api.api_prompt
    assert "calls back the last caller" in api.api_prompt


async def test_transfer_and_dial_as_an_llm_calls_them(
    hass: HomeAssistant, phones: Phones
) -> None:
    api = await assist_api(hass)
    call_id = await phones.harness.ring(CALLER, CALLER_NAME)
    await phones.harness.act("answer_call")
    await phones.harness.settle()

    # The way an LLM writes a number, and the other phone by name.
    moved = await call_tool(
        api, TRANSFER_TOOL, destination="Kitchen phone", call_id=call_id
    )
    assert (
        said(moved) == f"Transferred {CALLER_NAME} on Front desk line to Kitchen phone."
    )
    assert moved["speech_slots"]["call_id"] == call_id
    assert moved["data"]["success"][0]["name"] == "Front desk line"
    assert [
        (command.call_id, command.argument)
        for command in phones.harness.sent(CallAction.TRANSFER)
    ] == [(call_id, "+15550100002")]

    placed = await call_tool(api, DIAL_TOOL, destination="+15550100777")
    assert said(placed) == "Calling +15550100777 from Front desk line."
    new_call = placed["speech_slots"]["call_id"]
    assert placed["speech_slots"]["state"] == "dialing"
    assert placed["speech_slots"]["direction"] == "outgoing"
    assert placed["speech_slots"]["caller_number"] == "+15550100777"
    await phones.harness.settle()
    assert new_call in {
        call.call_id for call in phones.harness.entry.runtime_data.calls.live_calls()
    }

    # No destination: the last caller, from the phone they called.
    missed = await phones.ring_kitchen(SECOND_CALLER, SECOND_CALLER_NAME)
    await phones.harness.abandon(missed)
    await phones.harness.settle()
    back = await call_tool(api, DIAL_TOOL)
    assert said(back) == f"Calling {SECOND_CALLER_NAME} from Kitchen phone."
    assert back["data"]["success"][0]["name"] == "Kitchen phone"


async def test_transfer_and_dial_tell_the_llm_what_went_wrong(
    hass: HomeAssistant, phones: Phones
) -> None:
    api = await assist_api(hass)
    nothing = await call_tool(api, TRANSFER_TOOL, destination="+15550100777")
    assert nothing["response_type"] == "error"
    assert nothing["data"]["code"] == "no_valid_targets"
    assert said(nothing) == "There is no call to transfer."
    nobody = await call_tool(api, DIAL_TOOL, destination="Grace Hopper")
    assert nobody["data"]["code"] == "no_valid_targets"
    assert said(nobody) == (
        "I don't know a phone or a recent caller called Grace Hopper. Say a name"
        " or a number."
    )
    phones.harness.refuse_next(CallAction.DIAL, 403)
    refused = await call_tool(api, DIAL_TOOL, destination="+15550100777")
    assert refused["data"]["code"] == "failed_to_handle"
    assert said(refused) == (
        "Could not call +15550100777 from Front desk line. The Telnyx account"
        " lacks the permission for that."
    )
    assert state_of(hass, SENSOR).state == "idle"
    # A transfer needs its destination: refused before anything is asked.
    with pytest.raises(intent.InvalidSlotInfo):
        await api.async_call_tool(llm.ToolInput(TRANSFER_TOOL, {}))
    assert phones.harness.sent(CallAction.TRANSFER) == []
