"""Facts about primitives that passes act on, keyed by the Primitive object.

The rules a pass applies to particular primitives (jit's peephole rewrites, the JVP trace's
folding of scalings) are written against what a primitive *is* (a reshape, an elementwise
scaling, the engine's accumulation), not against its name. The module that defines a
primitive declares that here (`declare(reshape_p, Role.RESHAPE)`), the way JAX registers a
lowering next to its primitive; a pass reads `ROLE.get(eqn.primitive)`, and when it emits
such an equation itself it takes the primitive from `BUILTIN` (filled by the same call).
Back-end tables (fusion templates, codegen inline forms, ...) live in their pass modules,
also keyed by Primitive, and are filled the same way.
"""

from __future__ import annotations

import enum

from frechet._src.core.primitive import Primitive


class Role(enum.Enum):
    """What a built-in primitive is, for the passes that rewrite it."""

    ADD_ANY = "add_any"                # the engine's accumulation: x + y, same specs
    MULTIPLY = "multiply"              # elementwise product (scalings of a tangent)
    RESHAPE = "reshape"                # params: shape
    TRANSPOSE = "transpose"            # params: permutation
    BROADCAST_IN_DIM = "broadcast_in_dim"   # params: shape, broadcast_dimensions
    REDUCE_SUM = "reduce_sum"          # params: axes
    CONCATENATE = "concatenate"        # params: axis
    GETITEM = "getitem"                # params: index (static entries)
    INDEX_ADD = "index_add"            # params: index; x with v added at index


class _Builtin:
    """The primitive playing each Role (attribute access: the JVP trace reads `multiply` on
    its hot path)."""

    __slots__ = tuple(r.value for r in Role)

    def __getattr__(self, name):       # only reached for a role nobody declared
        raise LookupError(f"import frechet (which defines the primitives) before using the "
                          f"passes: no primitive is declared as {name!r}")


ROLE: dict[Primitive, Role] = {}
BUILTIN = _Builtin()


def declare(prim: Primitive, role: Role) -> None:
    """Declare that `prim` plays `role` (once per role)."""
    if not isinstance(prim, Primitive) or not isinstance(role, Role):
        raise TypeError(f"declare(primitive, Role.X), got {prim!r}, {role!r}")
    try:
        current = getattr(BUILTIN, role.value)
    except LookupError:
        current = None
    if current is not None and current is not prim:
        raise ValueError(f"{role} is already played by {current!r}")
    ROLE[prim] = role
    setattr(BUILTIN, role.value, prim)


class _FrontEnd:
    """The NumPy front end as a namespace, for rules and compound operations below it that are
    written in NumPy's terms. The front end sits above them, so it registers itself here at
    import (`frechet/__init__.py`) instead of being imported upward."""

    __slots__ = ("namespace",)

    def __init__(self):
        self.namespace = None


FRONT_END = _FrontEnd()


def set_front_end(namespace) -> None:
    """Register the front-end namespace (`frechet.numpy`)."""
    FRONT_END.namespace = namespace


def front_end():
    """The registered front end (`frechet.numpy`)."""
    if FRONT_END.namespace is None:
        raise LookupError("import frechet (which registers frechet.numpy as the front end) "
                          "before running rules written in NumPy's terms")
    return FRONT_END.namespace
