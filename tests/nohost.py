"""Torch tensors that refuse to become NumPy arrays, for the tests of other back ends: any
silent copy to NumPy (a tensor implements __array__, so NumPy would accept one) fails.
Import after `pytest.importorskip("torch")`."""

import numpy as np
import torch


class NoHost(torch.Tensor):
    """A tensor that refuses to become a NumPy array."""

    def __array__(self, *args, **kwargs):
        raise AssertionError("a tensor was converted to NumPy")


def nohost(a, dtype=None):
    """A NoHost copy of a (array-like), in dtype if given, else a's own."""
    a = np.asarray(a)
    return torch.from_numpy(np.array(a if dtype is None else a.astype(dtype), copy=True)) \
        .as_subclass(NoHost)


def host(t) -> np.ndarray:
    """A tensor's values as NumPy, copied by torch (the explicit way)."""
    return t.as_subclass(torch.Tensor).detach().numpy()
