"""Implementations of the journey's storage ports: ``sqlite`` (embedded default)."""
