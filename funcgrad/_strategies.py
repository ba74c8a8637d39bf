"""Hypothesis strategies for property-testing functions of arrays (``funcgrad.testing.strategies``).

Requires ``hypothesis`` (installed with ``funcgrad[dev]``).

>>> from hypothesis import given
>>> from funcgrad.testing import strategies as fst
>>> @given(fst.arrays(shape=(3,)))
... def test_finite(x):
...     assert x.shape == (3,)
>>> test_finite()
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["arrays", "shapes", "broadcastable_shapes", "axes", "float_dtypes", "pytrees"]


def float_dtypes():
    """float32 or float64."""
    return st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(dtype=np.float64, shape=None, *, low=-2.0, high=2.0, exclude_near=None,
           min_dims=0, max_dims=3, max_side=4):
    """Float arrays with values in ``[low, high]``; ``exclude_near=(c, d)`` keeps values at
    least ``d`` away from ``c`` (e.g. a pole or a kink)."""
    shape = shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side) if shape is None \
        else shape
    dtype = np.dtype(dtype)
    width = 32 if dtype == np.float32 else 64
    elems = st.floats(low, high, allow_nan=False, allow_infinity=False, width=width)
    if exclude_near is not None:
        c, d = exclude_near
        elems = elems.filter(lambda v: abs(v - c) >= d)
    return hnp.arrays(dtype, shape, elements=elems)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4):
    """Tuples of mutually broadcastable shapes and their broadcast result:
    ``(input_shapes, result_shape)``."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(
        lambda s: (s.input_shapes, s.result_shape))


def axes(ndim, allow_none=True, allow_tuple=True, allow_negative=True):
    """A valid ``axis`` argument for an array of rank ``ndim``."""
    opts = []
    if allow_none:
        opts.append(st.none())
    if ndim > 0:
        lo = -ndim if allow_negative else 0
        opts.append(st.integers(lo, ndim - 1))
        if allow_tuple:
            opts.append(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1,
                                 max_size=ndim).map(tuple))
    return st.one_of(*opts) if opts else st.none()


def pytrees(leaves=None, max_leaves=6):
    """Nested dict/list/tuple pytrees of float arrays."""
    leaves = arrays(max_dims=2) if leaves is None else leaves
    return st.recursive(leaves, lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.lists(kids, max_size=3).map(tuple),
        st.dictionaries(st.text("abcdef", min_size=1, max_size=3), kids, max_size=3)),
        max_leaves=max_leaves)
