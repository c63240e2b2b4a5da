"""Tests for the upstream API clients (no Home Assistant involved)."""
