"""Policies for `frechet.checkpoint`: which intermediate values to keep for the backward pass
(the rest are recomputed). A policy is a function `(primitive, params) -> bool`."""

from frechet._src.lax.checkpoint import (
    dots_saveable,
    everything_saveable,
    nothing_saveable,
)

__all__ = ["dots_saveable", "everything_saveable", "nothing_saveable"]
