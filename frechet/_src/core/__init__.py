"""The core: abstract values, primitives, traces and tracers, chosen by context."""
