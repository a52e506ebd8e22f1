"""End to end: a real `hass` process, driven through its public APIs."""
