"""`scripts/develop` and `scripts/ring`: a real Home Assistant and the simulators."""
