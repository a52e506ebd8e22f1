"""Tests of the telnyx provider: its client and its integration."""
