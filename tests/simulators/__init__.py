"""Local simulators of the telephony providers used in tests."""
