"""Tests of the providers' shared kernel and retry policy, no Home Assistant."""
