"""The call actions, registered once for every entry."""

from __future__ import annotations

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN
from homeassistant.core import HomeAssistant, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.typing import VolDictType
import probatio as vol

from .const import (
    ATTR_CALL_ID,
    ATTR_OPTIONS,
    DOMAIN,
    SERVICE_ANSWER_CALL,
    SERVICE_HANGUP_CALL,
    SERVICE_REJECT_CALL,
)

CALL_ACTION_SCHEMA: VolDictType = {
    vol.Optional(ATTR_CALL_ID): cv.string,
    vol.Optional(ATTR_OPTIONS): vol.Schema({cv.string: object}),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register answer_call, reject_call and hangup_call on the call sensors."""
    for name in (SERVICE_ANSWER_CALL, SERVICE_REJECT_CALL, SERVICE_HANGUP_CALL):
        service.async_register_platform_entity_service(
            hass,
            DOMAIN,
            name,
            entity_domain=SENSOR_DOMAIN,
            schema=CALL_ACTION_SCHEMA,
            func=f"async_{name}",
            supports_response=SupportsResponse.OPTIONAL,
        )
