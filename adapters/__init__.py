"""Translators to the outside world: one module or folder per external system."""
