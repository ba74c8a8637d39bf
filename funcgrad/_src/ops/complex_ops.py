"""Complex parts: real, imag, conj (linear primitives), and the complex-AD conventions.

funcgrad follows JAX: a VJP is the *transpose* of the JVP (the R-linear tangent map) with
respect to the real bilinear pairing ``<u, v> = Re(sum(u * v))`` -- no conjugation. So the
VJP of a holomorphic op is ``g * f'(z)`` (``vjp(exp)(g) = g * exp(z)``), and ``grad`` of a
real-valued ``f`` of complex ``z = x + iy`` is ``df/dx - i df/dy`` (``2 df/dz``, the
*conjugate* of the steepest-ascent direction; PyTorch returns its conjugate). Transposes
of the non-holomorphic linear maps: ``real``: ``g -> g + 0j``; ``imag``: ``g -> -1j g``;
``conj``: ``g -> conj(g)``; the real embedding ``R -> C``: ``g -> real(g)``.

A real value promoted to complex inside a binary op (``x * 1j``) receives a complex
cotangent from the op's rule: only its real part is meaningful. Rather than converting on
the (hot) real path, funcgrad lets that imaginary part ride along through real ops (whose
rules are real-linear with real coefficients, so it never mixes into the real part) and
drops it where it matters: :func:`real_cotangent` in the rules of complex-to-real ops
(``real``, ``imag``, ``abs``, ``slogdet``, casts) and at real inputs of the pullback.
"""

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


def real_cotangent(g):
    """The cotangent of a real value: ``g``, or its real part if ``g`` is complex (see the
    module docstring)."""
    return real(g) if g.dtype.kind == "c" else g


def _real_vjp(g, ans, x):
    if x.dtype.kind != "c":
        return g
    return real_cotangent(g).astype(x.dtype)  # the transpose of Re: g -> g + 0j


real_p = _mk("real", _real_vjp)
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
