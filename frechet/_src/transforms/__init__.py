"""Transformations: interpreters over primitives that compose."""
