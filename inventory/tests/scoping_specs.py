"""Inventory pages are listed in core/tests/scoping_specs.py; this app adds none of its own."""

SPECS: list = []
