"""Custom integrations of this repository (a package so tests can import it)."""
