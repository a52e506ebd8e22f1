"""Constants of the Switchboard integration."""

import logging
from typing import Final

DOMAIN: Final = "switchboard"
LOGGER = logging.getLogger(__package__)

CONF_PROVIDER: Final = "provider"
CONF_PUBLIC_KEY: Final = "public_key"
CONF_APPLICATION_ID: Final = "application_id"
CONF_REGISTER_WEBHOOK: Final = "register_webhook"
CONF_CLOUDHOOK_URL: Final = "cloudhook_url"
CONF_REGISTERED_URL: Final = "registered_webhook_url"
CONF_PREVIOUS_URL: Final = "previous_webhook_url"
CONF_WEBHOOK_SECRET: Final = "webhook_secret"  # noqa: S105 (a key, not a secret)
CONF_TENANT_ID: Final = "tenant_id"
CONF_CLOUD: Final = "cloud"

ATTR_CALL_ID: Final = "call_id"
ATTR_OPTIONS: Final = "options"
ATTR_STATE: Final = "state"
ATTR_CALLER: Final = "caller"
ATTR_EVENT_TYPE: Final = "event_type"
ATTR_DIGITS: Final = "digits"

EVENT_CALL_ACTIVITY: Final = "switchboard_call_activity"

SERVICE_ANSWER_CALL: Final = "answer_call"
SERVICE_REJECT_CALL: Final = "reject_call"
SERVICE_HANGUP_CALL: Final = "hangup_call"
SERVICE_TRANSFER_CALL: Final = "transfer_call"
SERVICE_HOLD_CALL: Final = "hold_call"
SERVICE_RESUME_CALL: Final = "resume_call"
SERVICE_SPEAK: Final = "speak"
SERVICE_PLAY: Final = "play"
SERVICE_SEND_DIGITS: Final = "send_digits"
SERVICE_DIAL: Final = "dial"
SERVICE_RESET_MISSED_CALLS: Final = "reset_missed_calls"

ISSUE_NO_WEBHOOK_URL: Final = "no_webhook_url"
ISSUE_NO_HTTPS_URL: Final = "no_https_url"
ISSUE_WEBHOOK_URL_CHANGED: Final = "webhook_url_changed"
ISSUE_WEBHOOK_ELSEWHERE: Final = "webhook_elsewhere"
ISSUE_WEBHOOK_OFF: Final = "webhook_off"
