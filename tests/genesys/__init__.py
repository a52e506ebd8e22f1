"""Tests of the genesys provider: its client and its integration."""
