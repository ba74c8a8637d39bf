"""Helper constructors that give common primitive families all their rules in one line.

* :func:`unary` — elementwise ``f(x)`` with derivative ``df(ans, x)``;
* :func:`binary` — elementwise ``f(x, y)`` with partials ``dfdx(g, ans, x, y)``, ...;
* :func:`nondiff` — integer- or bool-valued ops (comparisons, ``floor``, ``argmax``);
* batching helpers shared by the families.

Elementwise primitives never broadcast tracers implicitly: the public wrappers insert an
explicit ``broadcast_to`` (whose VJP is the single un-broadcasting sum), so every rule here
can assume that its traced operands have the output's shape.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind


def broadcast_shapes(*shapes) -> tuple:
    """``numpy.broadcast_shapes`` for tuples of ints, in plain Python (several times faster
    on the few short shapes an eager op sees). Raises ValueError as NumPy does.

    >>> broadcast_shapes((2, 1), (3,))
    (2, 3)
    """
    ndim = max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        off = ndim - len(s)
        for i, d in enumerate(s):
            o = out[off + i]
            if d != o:
                if o == 1:
                    out[off + i] = d
                elif d != 1:
                    raise ValueError(f"shape mismatch: objects cannot be broadcast to a single "
                                     f"shape: {' '.join(str(tuple(t)) for t in shapes)}")
    return tuple(out)


def moveaxis_to_front(x, d):
    """Move batch dim ``d`` of a raw batched value to axis 0 (no-op when already there)."""
    if d == 0 or d is None:
        return x
    from funcgrad._src.ops.shape import moveaxis

    return moveaxis(x, d, 0)


def elementwise_batch(prim: Primitive) -> Callable:
    """Batching rule for elementwise ops whose traced operands share one logical shape."""

    def rule(axis_size, args, dims, **params):
        d0 = None
        same = True
        outer = False  # an unbatched operand traced by an outer transform
        for a, d in zip(args, dims):
            if d is None:
                if getattr(a, "ndim", 0) > 0:
                    same = False
                if isinstance(a, Tracer):
                    outer = True
            elif d0 is None:
                d0 = d
            elif d != d0:
                same = False
        if not same:
            args = [a if d is None else moveaxis_to_front(a, d) for a, d in zip(args, dims)]
            d0 = 0
        if outer:  # keep the invariant for the outer transform: no implicit broadcasting
            shape = next(tuple(a.shape) for a, d in zip(args, dims) if d is not None)
            args = [_broadcast_to(a, shape) if d is None and isinstance(a, Tracer) else a
                    for a, d in zip(args, dims)]
        return bind(prim, *args, **params), d0

    return rule


def _broadcast_to(x, shape):
    from funcgrad._src.ops.shape import broadcast_to

    return broadcast_to(x, shape)


def jvp_from_partials(prim: Primitive, partials) -> Callable:
    """Build a JVP rule from per-argument tangent maps ``partials[i](t, ans, *args)``."""
    def rule(primals, tangents, **params):
        ans = bind(prim, *primals, **params)
        out = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            p = partials[i]
            if p is None:
                raise NotImplementedError(f"{prim.name}: argument {i} is not differentiable")
            ti = p(t, ans, *primals, **params)
            if ti is not None:
                out = ti if out is None else out + ti
        return ans, out

    return rule


def linear_jvp(prim: Primitive) -> Callable:
    """JVP of an op that is linear in all its differentiable arguments jointly."""

    def rule(primals, tangents, **params):
        from funcgrad._src.ops.creation import zeros_like

        ans = bind(prim, *primals, **params)
        if all(t is None for t in tangents):
            return ans, None
        ts = [zeros_like(p) if t is None else t for p, t in zip(primals, tangents)]
        return ans, bind(prim, *ts, **params)

    return rule


def unary(name: str, fn: str | Callable, deriv: Callable | None) -> Primitive:
    """An elementwise unary primitive ``xp.<fn>(x)`` with derivative ``deriv(ans, x)``."""
    from funcgrad._src.ops import elementwise as ew

    if isinstance(fn, str):
        fname = fn

        def impl(x):
            return getattr(xp_of(x), fname)(x)

        if backend._CUPY_TYPE is None:  # NumPy only: call the ufunc directly (hot path)
            impl = getattr(np, fname)

        def jit_impl(xp):
            return getattr(xp, fname)
    else:
        impl = fn
        jit_impl = None
    prim = Primitive(name, impl, jit_impl=jit_impl)
    if deriv is None:
        prim.nondiff = True
    else:
        prim.vjp = (lambda g, ans, x: ew.multiply(g, deriv(ans, x)),)
        prim.jvp = jvp_from_partials(prim, (lambda t, ans, x: ew.multiply(t, deriv(ans, x)),))
    prim.batch = elementwise_batch(prim)
    return prim


def binary(name: str, fn: str | Callable, dx: Callable | None, dy: Callable | None,
           *, jx: Callable | None = None, jy: Callable | None = None,
           nondiff: bool = False) -> Primitive:
    """An elementwise binary primitive. ``dx(g, ans, x, y)`` is the VJP for ``x``; ``jx``
    the JVP partial ``(t, ans, x, y)``, defaulting to ``dx`` (right for products by a
    scalar factor, which covers every elementwise binary op)."""
    if isinstance(fn, str):
        fname = fn

        def impl(x, y):
            return getattr(xp_of(x, y), fname)(x, y)

        if backend._CUPY_TYPE is None:  # NumPy only: call the ufunc directly (hot path)
            impl = getattr(np, fname)

        def jit_impl(xp):
            return getattr(xp, fname)
    else:
        impl = fn
        jit_impl = None
    prim = Primitive(name, impl, nondiff=nondiff, jit_impl=jit_impl)
    if not nondiff:
        prim.vjp = (dx, dy)
        prim.jvp = jvp_from_partials(prim, (jx or dx, jy or dy))
    prim.batch = elementwise_batch(prim)
    return prim
