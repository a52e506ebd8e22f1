"""Tests of the graph provider: its client and its integration."""
