"""The Switchboard actions, registered once for every entry.

They resolve their target themselves instead of going through Home Assistant's
entity-service helper, for two reasons. That helper skips unavailable
entities without a word, so an automation answering while the Genesys stream
reconnects would believe it answered: here the hub says why it cannot. And a
device target names all four sensors of a device, which must act once.

The fields of an action beyond answering (`to`, `message`, `digits`...) go to
the provider inside the options, under the neutral model's names, so the
provider checks them with its own options.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import config_validation as cv, target
from homeassistant.helpers.typing import VolDictType
import probatio as vol

from .const import (
    ATTR_CALL_ID,
    ATTR_OPTIONS,
    DOMAIN,
    SERVICE_ANSWER_CALL,
    SERVICE_DIAL,
    SERVICE_HANGUP_CALL,
    SERVICE_HOLD_CALL,
    SERVICE_PLAY,
    SERVICE_REJECT_CALL,
    SERVICE_RESET_MISSED_CALLS,
    SERVICE_RESUME_CALL,
    SERVICE_SEND_DIGITS,
    SERVICE_SPEAK,
    SERVICE_TRANSFER_CALL,
)
from .entity import SwitchboardEntity, entity_index
from .providers.model import (
    ARG_DIGITS,
    ARG_LANGUAGE,
    ARG_MESSAGE,
    ARG_TO,
    ARG_URL,
    ARG_VOICE,
    ARG_VOICEMAIL,
    CallAction,
)
from .sensor import CallSensor, MissedCallsSensor

OPTIONS_SCHEMA: VolDictType = {
    vol.Optional(ATTR_OPTIONS): vol.Schema({cv.string: object}),
}
CALL_ACTION_SCHEMA: VolDictType = {
    vol.Optional(ATTR_CALL_ID): cv.string,
    **OPTIONS_SCHEMA,
}

# Each call action, and the fields it takes beside call_id and options. They
# are all optional here: the provider says which it needs (a transfer needs
# `to` unless it goes to voicemail), and a missing one is a translated error.
CALL_ACTIONS: dict[str, tuple[CallAction, VolDictType]] = {
    SERVICE_ANSWER_CALL: (CallAction.ANSWER, {}),
    SERVICE_REJECT_CALL: (CallAction.REJECT, {}),
    SERVICE_HANGUP_CALL: (CallAction.HANGUP, {}),
    SERVICE_TRANSFER_CALL: (
        CallAction.TRANSFER,
        {vol.Optional(ARG_TO): cv.string, vol.Optional(ARG_VOICEMAIL): cv.boolean},
    ),
    SERVICE_HOLD_CALL: (CallAction.HOLD, {}),
    SERVICE_RESUME_CALL: (CallAction.RESUME, {}),
    SERVICE_SPEAK: (
        CallAction.SPEAK,
        {
            vol.Optional(ARG_MESSAGE): cv.string,
            vol.Optional(ARG_LANGUAGE): cv.string,
            vol.Optional(ARG_VOICE): cv.string,
        },
    ),
    SERVICE_PLAY: (CallAction.PLAY, {vol.Optional(ARG_URL): cv.string}),
    SERVICE_SEND_DIGITS: (
        CallAction.SEND_DIGITS,
        {vol.Optional(ARG_DIGITS): cv.string},
    ),
}
DIAL_FIELDS: VolDictType = {vol.Optional(ARG_TO): cv.string}


async def _async_targeted[SensorT: SwitchboardEntity](
    hass: HomeAssistant, call: ServiceCall, kind: type[SensorT]
) -> list[SensorT]:
    """Return the `kind` sensor of each device the call targets, once per device.

    Any Switchboard sensor stands for its device, so a user may target the
    call sensor, the caller sensor, the device or its area.
    """
    selected = target.async_extract_referenced_entity_ids(
        hass, target.TargetSelection(call.data)
    )
    wanted = selected.referenced | selected.indirectly_referenced
    index = entity_index(hass)
    found = [
        entity
        for key in index.devices_named(wanted, SENSOR_DOMAIN)
        if (entity := index.of_device(key, kind)) is not None
    ]
    if not found:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_switchboard_target",
            translation_placeholders={"action": f"{DOMAIN}.{call.service}"},
        )
    await _async_check_permission(hass, call, list(found))
    return found


async def _async_check_permission(
    hass: HomeAssistant, call: ServiceCall, sensors: list[SwitchboardEntity]
) -> None:
    """Refuse a user who may not control the sensors, as entity actions do."""
    if not call.context.user_id:
        return
    user = await hass.auth.async_get_user(call.context.user_id)
    if user is None or user.is_admin:
        return
    for sensor in sensors:
        if not user.permissions.check_entity(sensor.entity_id, POLICY_CONTROL):
            raise Unauthorized(
                context=call.context,
                entity_id=sensor.entity_id,
                permission=POLICY_CONTROL,
            )


def _options(call: ServiceCall, fields: VolDictType) -> dict[str, Any] | None:
    """Return the action's options, with its fields put in under their names.

    A field given both as a field and inside options is refused: which one
    was meant is anyone's guess.
    """
    options: dict[str, Any] | None = call.data.get(ATTR_OPTIONS)
    for marker in fields:
        name = str(marker)
        if name not in call.data:
            continue
        options = dict(options or {})
        if name in options:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="option_given_twice",
                translation_placeholders={
                    "action": f"{DOMAIN}.{call.service}",
                    "option": name,
                },
            )
        options[name] = call.data[name]
    return options


def _call_action(
    hass: HomeAssistant, action: CallAction, fields: VolDictType
) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    async def _async_handle(call: ServiceCall) -> ServiceResponse:
        options = _options(call, fields)
        sensors = await _async_targeted(hass, call, CallSensor)
        call_id = call.data.get(ATTR_CALL_ID)
        responses: dict[str, Any] = {}
        for sensor in sensors:
            responses[sensor.entity_id] = await sensor.async_act(
                action, call_id, options
            )
        return responses if call.return_response else None

    return _async_handle


async def _async_dial(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    """Place one call, from the one device the action targets."""
    options = _options(call, DIAL_FIELDS)
    sensors = await _async_targeted(hass, call, CallSensor)
    if len(sensors) > 1:
        # One call is meant: a dial from every phone in an area would ring
        # the callee once per phone.
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="dial_one_device",
            translation_placeholders={"count": str(len(sensors))},
        )
    sensor = sensors[0]
    response = await sensor.async_dial(options)
    return {sensor.entity_id: response} if call.return_response else None


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the call actions, dial and the reset of the missed-call count."""
    for name, (action, fields) in CALL_ACTIONS.items():
        hass.services.async_register(
            DOMAIN,
            name,
            _call_action(hass, action, fields),
            schema=cv.make_entity_service_schema({**CALL_ACTION_SCHEMA, **fields}),
            supports_response=SupportsResponse.OPTIONAL,
        )
    hass.services.async_register(
        DOMAIN,
        SERVICE_DIAL,
        partial(_async_dial, hass),
        schema=cv.make_entity_service_schema({**OPTIONS_SCHEMA, **DIAL_FIELDS}),
        supports_response=SupportsResponse.OPTIONAL,
    )

    async def _async_reset(call: ServiceCall) -> None:
        for sensor in await _async_targeted(hass, call, MissedCallsSensor):
            sensor.reset()

    hass.services.async_register(
        DOMAIN,
        SERVICE_RESET_MISSED_CALLS,
        _async_reset,
        schema=cv.make_entity_service_schema({}),
    )
