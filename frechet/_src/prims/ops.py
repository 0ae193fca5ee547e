"""The primitive-level operations rules are written with: strict (equal shapes and dtypes),
one primitive each, usable on arrays and traced values alike."""

from frechet._src.prims.elementwise import P, add, const, div, mul, neg, select, square, sub
from frechet._src.prims.shape import broadcast_to, convert, reduce_sum, reshape, transpose
from frechet._src.prims.special import expit_p

exp = P["exp"].bind
log = P["log"].bind
sin = P["sin"].bind
cos = P["cos"].bind
tanh = P["tanh"].bind
sqrt = P["sqrt"].bind
expit = expit_p.bind

__all__ = ["add", "broadcast_to", "const", "convert", "cos", "div", "exp", "expit", "log", "mul",
           "neg", "reduce_sum", "reshape", "select", "sin", "sqrt", "square", "sub", "tanh",
           "transpose"]
