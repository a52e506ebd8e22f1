"""Tests of the webex provider: its client and its integration."""
