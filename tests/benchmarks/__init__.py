"""Benchmarks that print numbers; run with scripts/benchmark, not by pytest."""
