"""One suite of contract tests, run for every provider."""
