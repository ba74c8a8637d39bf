"""Complex parts: real, imag, conj (linear primitives)."""

from __future__ import annotations

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops.rules import elementwise_batch, linear_jvp


def _mk(name, vjp):
    prim = Primitive(name, lambda x: getattr(xp_of(x), name)(x), jit_impl=lambda xp: getattr(
        xp, name))
    prim.vjp = (vjp,)
    prim.jvp = linear_jvp(prim)
    prim.batch = elementwise_batch(prim)
    return prim


real_p = _mk("real", lambda g, ans, x: g if x.dtype.kind != "c" else g.astype(x.dtype))
conj_p = _mk("conj", lambda g, ans, x: conj(g))


def real(val):
    """Real part (``numpy.real``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.real(fnp.array([1 + 2j]))
    array([1.], dtype=float32)
    """
    if not isinstance(val, Tracer):
        val = backend.canonicalize(val)
    return bind(real_p, val)


def conj(x):
    """Complex conjugate (``numpy.conj``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.conj(fnp.array([1 + 2j]))
    array([1.-2.j], dtype=complex64)
    """
    if not isinstance(x, Tracer):
        x = backend.canonicalize(x)
    return bind(conj_p, x)


conjugate = conj
