"""Provider client tests: the clients against the simulators, no Home Assistant."""
