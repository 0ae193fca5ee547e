"""Interval Taylor enclosures and what is built on them (frechet.bounds)."""
