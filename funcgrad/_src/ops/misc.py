"""Odds and ends: dtype conversion and ``stop_gradient``."""

from __future__ import annotations

import numpy as np

from funcgrad._src import backend
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops.rules import elementwise_batch

# --- convert_element_type --------------------------------------------------------------


def _convert_impl(x, *, dtype):
    return x.astype(dtype)


def _convert_d(g, ans, x, *, dtype):
    if x.dtype.kind not in "fc":
        return None
    if g.dtype.kind == "c" and (x.dtype.kind == "f" or np.dtype(dtype).kind != "c"):
        # the transpose of R -> C is Re; a complex cotangent of a real output (complex ->
        # real casts keep the real part, as NumPy) is meaningful only in its real part
        from funcgrad._src.ops.complex_ops import real

        g = real(g)
    return convert_element_type(g, x.dtype)


convert_element_type_p = Primitive("convert_element_type", _convert_impl)
convert_element_type_p.vjp = (_convert_d,)


def _convert_jvp(primals, tangents, *, dtype):
    (x,), (t,) = primals, tangents
    ans = bind(convert_element_type_p, x, dtype=dtype)
    if t is None or np.dtype(dtype).kind not in "fc":
        return ans, None
    return ans, convert_element_type(t, dtype)


convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.batch = elementwise_batch(convert_element_type_p)


def convert_element_type(x, dtype):
    """Cast ``x`` to ``dtype`` (``x.astype(dtype)``); differentiable between float types."""
    dtype = np.dtype(dtype)
    if not isinstance(x, Tracer):
        x = backend.canonicalize(x)
        return x if x.dtype == dtype else x.astype(dtype)
    if x.dtype == dtype:
        return x
    return bind(convert_element_type_p, x, dtype=dtype)


# --- stop_gradient ---------------------------------------------------------------------


def _identity(x):
    return x


stop_gradient_p = Primitive("stop_gradient", _identity, nondiff=True)
stop_gradient_p.batch = elementwise_batch(stop_gradient_p)
