"""Custom integrations (kept a package so tests import the project's copy, see PITFALLS.md)."""
