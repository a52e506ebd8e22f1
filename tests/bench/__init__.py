"""`scripts/bench`: Switchboard in a real `hass` process, against a floor."""
