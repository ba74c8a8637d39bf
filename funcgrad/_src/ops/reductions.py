"""Reductions: sum, max, min (primitives), argmax/argmin (no gradient), and composites
(mean, var, std, prod-free ``logsumexp`` lives in ``funcgrad.scipy``).

Primitives take a normalised tuple ``axis`` and ``keepdims``; their VJPs re-insert the
reduced axes and broadcast the cotangent back.
"""

from __future__ import annotations

import builtins

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops.rules import jvp_from_partials, moveaxis_to_front
from funcgrad._src.ops.shape import broadcast_to, reshape


def _arr(x):
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


def normalize_axes(axis, ndim: int, name: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{name}: axis {a} is out of bounds for array of dimension {ndim}")
        out.append(int(a) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: duplicate value in 'axis': {axis}")
    return tuple(sorted(out)) if ndim else ()


def _keep_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g, x, axes, keepdims):
    """Cotangent ``g`` of a reduction over ``axes``, broadcast back to ``x``'s shape."""
    if not keepdims:
        g = reshape(g, _keep_shape(x.shape, axes))
    return broadcast_to(g, x.shape)


def _reduce_batch(prim):
    def rule(axis_size, args, dims, *, axis, keepdims):
        (x,), (d,) = args, dims
        x = moveaxis_to_front(x, d)
        return bind(prim, x, axis=tuple(a + 1 for a in axis), keepdims=keepdims), 0

    return rule


# --- sum -------------------------------------------------------------------------------


def _sum_impl(x, *, axis, keepdims):
    xp = xp_of(x)
    if xp is np and x.dtype.kind in "fc":  # the ufunc's reduce skips numpy.sum's Python layer
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return xp.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g, ans, x, *, axis, keepdims):
    return _expand_back(g, x, axis, keepdims)


sum_p = Primitive("sum", _sum_impl)
sum_p.vjp = (_sum_vjp,)
sum_p.jvp = jvp_from_partials(sum_p, (lambda t, ans, x, **p: bind(sum_p, t, **p),))
sum_p.batch = _reduce_batch(sum_p)


def sum(a, axis=None, dtype=None, keepdims=False):  # noqa: A001
    """Sum of elements over the given axes (``numpy.sum``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.sum(fnp.ones((2, 3)), axis=1)
    array([3., 3.], dtype=float32)
    """
    a = _arr(a)
    if dtype is not None:
        a = a.astype(dtype)
    elif a.dtype.kind == "b":
        a = a.astype(backend.default_int())
    axes = normalize_axes(axis, a.ndim, "sum")
    if not axes and not isinstance(a, Tracer) and a.dtype.kind in "fc":
        return a  # NOTE: integer sums widen (NumPy's int32 -> int64) even over no axes
    return bind(sum_p, a, axis=axes, keepdims=bool(keepdims))


def mean(a, axis=None, dtype=None, keepdims=False):
    """Arithmetic mean over the given axes (``numpy.mean``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.mean(fnp.array([1.0, 2.0, 6.0]))
    array(3., dtype=float32)
    """
    a = _arr(a)
    if a.dtype.kind not in "fc":
        a = a.astype(dtype or backend.default_float())
    axes = normalize_axes(axis, a.ndim, "mean")
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    s = sum(a, axis=axes, dtype=dtype, keepdims=keepdims)
    return ew.divide(s, n) if n != 1 else s


def var(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """Variance over the given axes (``numpy.var``), with ``ddof``; real for complex input
    (the mean of ``|a - mean(a)|**2``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.var(fnp.array([1.0, 3.0]))
    array(1., dtype=float32)
    """
    a = _arr(a)
    axes = normalize_axes(axis, a.ndim, "var")
    n = 1
    for ax in axes:
        n *= a.shape[ax]
    c = ew.subtract(a, mean(a, axis=axes, dtype=dtype, keepdims=True))
    if c.dtype.kind == "c":  # |c|**2, real (as NumPy)
        from funcgrad._src.ops.complex_ops import conj, real

        sq = real(ew.multiply(c, conj(c)))
    else:
        sq = ew.square(c)
    return ew.divide(sum(sq, axis=axes, keepdims=keepdims), builtins.max(n - ddof, 0))


def std(a, axis=None, dtype=None, ddof=0, keepdims=False):
    """Standard deviation over the given axes (``numpy.std``), with ``ddof``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.std(fnp.array([1.0, 3.0]))
    array(1., dtype=float32)
    """
    return ew.sqrt(var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims))


# --- max / min -------------------------------------------------------------------------


def _chooser_vjp(g, ans, x, *, axis, keepdims):
    # NOTE: ties share the gradient equally (as JAX's reduce_max).
    ans_k = ans if keepdims else reshape(ans, _keep_shape(x.shape, axis))
    mask = ew.equal(x, ans_k).astype(x.dtype)
    counts = sum(mask, axis=axis, keepdims=True)
    return ew.divide(ew.multiply(_expand_back(g, x, axis, keepdims), mask), counts)


def _chooser(name, fn):
    ufunc = np.maximum if fn == "max" else np.minimum

    def impl(x, *, axis, keepdims):
        xp = xp_of(x)
        if xp is np:  # the ufunc's reduce skips numpy.max's Python layer
            return ufunc.reduce(x, axis=axis, keepdims=keepdims)
        return getattr(xp, fn)(x, axis=axis, keepdims=keepdims)

    prim = Primitive(name, impl)
    prim.vjp = (_chooser_vjp,)

    def jvp_part(t, ans, x, *, axis, keepdims):
        ans_k = ans if keepdims else reshape(ans, _keep_shape(x.shape, axis))
        mask = ew.equal(x, ans_k).astype(x.dtype)
        num = sum(ew.multiply(t, mask), axis=axis, keepdims=keepdims)
        return ew.divide(num, sum(mask, axis=axis, keepdims=keepdims))

    prim.jvp = jvp_from_partials(prim, (jvp_part,))
    prim.batch = _reduce_batch(prim)
    return prim


max_p = _chooser("max", "max")
min_p = _chooser("min", "min")


def _mk_chooser(prim, name):
    def f(a, axis=None, keepdims=False, initial=None, where=None):
        if initial is not None or where is not None:
            raise NotImplementedError(f"{name}: 'initial' and 'where' are not supported")
        a = _arr(a)
        if a.size == 0:
            raise ValueError(f"{name}: zero-size array to reduction operation {name} which has "
                             "no identity")
        axes = normalize_axes(axis, a.ndim, name)
        return bind(prim, a, axis=axes, keepdims=bool(keepdims))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"{name.capitalize()} over the given axes (``numpy.{name}``); ties share the "
                 f"gradient equally.\n\n>>> import funcgrad.numpy as fnp\n"
                 f">>> fnp.{name}(fnp.array([[1.0, 5.0], [3.0, 2.0]]), axis=0).shape\n(2,)\n")
    return f


max = _mk_chooser(max_p, "max")  # noqa: A001
min = _mk_chooser(min_p, "min")  # noqa: A001
amax = max
amin = min


# --- argmax / argmin (no gradient) -----------------------------------------------------


def _arg_impl(fn):
    def impl(x, *, axis, keepdims):
        return getattr(xp_of(x), fn)(x, axis=axis, keepdims=keepdims)

    return impl


def _arg_batch(prim):
    def rule(axis_size, args, dims, *, axis, keepdims):
        (x,), (d,) = args, dims
        x = moveaxis_to_front(x, d)
        if axis is None:  # over the flattened example; keepdims keeps all its axes as 1s
            n, nd = x.shape[0], x.ndim - 1
            out = bind(prim, reshape(x, (n, -1)), axis=1, keepdims=False)
            return (reshape(out, (n,) + (1,) * nd) if keepdims else out), 0
        return bind(prim, x, axis=axis + 1, keepdims=keepdims), 0

    return rule


argmax_p = Primitive("argmax", _arg_impl("argmax"), nondiff=True)
argmax_p.batch = _arg_batch(argmax_p)
argmin_p = Primitive("argmin", _arg_impl("argmin"), nondiff=True)
argmin_p.batch = _arg_batch(argmin_p)


def argmax(a, axis=None, keepdims=False):
    """Indices of the maximum values (``numpy.argmax``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> int(fnp.argmax(fnp.array([1.0, 3.0, 2.0])))
    1
    """
    a = _arr(a)
    if axis is not None:
        axis = normalize_axes(axis, a.ndim, "argmax")[0]
    return bind(argmax_p, a, axis=axis, keepdims=bool(keepdims))


def argmin(a, axis=None, keepdims=False):
    """Indices of the minimum values (``numpy.argmin``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> int(fnp.argmin(fnp.array([1.0, 3.0, 0.5])))
    2
    """
    a = _arr(a)
    if axis is not None:
        axis = normalize_axes(axis, a.ndim, "argmin")[0]
    return bind(argmin_p, a, axis=axis, keepdims=bool(keepdims))


def all(a, axis=None, keepdims=False):  # noqa: A001
    """True where all elements are true (``numpy.all``).

    >>> import funcgrad.numpy as fnp
    >>> bool(fnp.all(fnp.array([1.0, 2.0]) > 0))
    True
    """
    return ew.equal(min(ew.not_equal(a, 0).astype(np.int8), axis=axis, keepdims=keepdims), 1)


def any(a, axis=None, keepdims=False):  # noqa: A001
    """True where any element is true (``numpy.any``).

    >>> import funcgrad.numpy as fnp
    >>> bool(fnp.any(fnp.array([0.0, 2.0]) > 1))
    True
    """
    return ew.equal(max(ew.not_equal(a, 0).astype(np.int8), axis=axis, keepdims=keepdims), 1)
