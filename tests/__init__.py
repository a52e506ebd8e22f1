"""Tests for the Switchboard integration."""
