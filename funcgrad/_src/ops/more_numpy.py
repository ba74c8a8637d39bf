"""More of NumPy's surface: elementwise extras, reductions, assembly, sorting and searching.

Almost everything here is a composite of existing primitives (so every rule comes for free
and works under ``grad``, ``jvp``, ``vmap`` and ``jit``). New primitives exist only where a
composite would be wrong, unstable or slow:

* ``hypot`` (overflow-safe, finite gradient at the origin), ``sinc`` (smooth derivatives at
  0), ``imag`` (a linear complex part), ``signbit`` (no gradient);
* ``prod`` (one NumPy call forward; its gradient uses exclusive products, exact with zeros);
* ``cumsum`` (linear, its VJP is a reversed ``cumsum``);
* ``argsort``, ``searchsorted`` and ``unique`` with a static ``size`` (no gradient).

``sort`` is ``take_along_axis(a, argsort(a))``, ``cumprod`` a log-depth scan of multiplies
(exact gradients with zeros), quantiles interpolate sorted values.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import ConcretizationTypeError, Primitive, Tracer, bind, concrete_value
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops import misc
from funcgrad._src.ops.complex_ops import real, real_cotangent
from funcgrad._src.ops.elementwise import _binop, _unop
from funcgrad._src.ops.indexing import ARR, getitem, scatter_add, take, take_along_axis
from funcgrad._src.ops.reductions import (
    _expand_back,
    _reduce_batch,
    normalize_axes,
)
from funcgrad._src.ops.reductions import max as _max
from funcgrad._src.ops.reductions import min as _min
from funcgrad._src.ops.reductions import sum as _sum
from funcgrad._src.ops.rules import (
    binary,
    elementwise_batch,
    jvp_from_partials,
    linear_jvp,
    moveaxis_to_front,
    unary,
)
from funcgrad._src.ops.shape import (
    broadcast_arrays,
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    moveaxis,
    ravel,
    reshape,
    transpose,
)


def _arr(x):
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


def _traced(*xs) -> bool:
    return builtins.any(isinstance(x, Tracer) for x in xs)


def _inexact(x):
    """``x`` as an array; integers and bools become the default float type."""
    x = _arr(x)
    if x.dtype.kind not in "fc":
        x = misc.convert_element_type(x, backend.default_float())
    return x


def _norm_axis(axis, ndim: int, name: str) -> int:
    axis = operator.index(axis)
    if not -ndim <= axis < builtins.max(ndim, 1):
        raise ValueError(f"{name}: axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % builtins.max(ndim, 1)


def _stop(x):
    return bind(misc.stop_gradient_p, x) if isinstance(x, Tracer) else x


# =======================================================================================
# Elementwise extras
# =======================================================================================


def _safe_den(ans):
    return ew.where(ew.equal(ans, 0), 1, ans)


# d/dx hypot(x, y) = x / hypot: at the origin x == 0, so x / 1 == 0 (a subgradient).
hypot_p = binary("hypot", "hypot",
                 lambda g, ans, x, y: ew.multiply(g, ew.divide(x, _safe_den(ans))),
                 lambda g, ans, x, y: ew.multiply(g, ew.divide(y, _safe_den(ans))))


def hypot(x1, x2, /):
    """``sqrt(x1**2 + x2**2)`` without overflow (``numpy.hypot``).

    The gradient at the origin is 0 (a subgradient), never NaN.

    >>> import funcgrad.numpy as fnp
    >>> fnp.hypot(fnp.array([3.0]), 4.0)
    array([5.], dtype=float32)
    """
    x1 = x1 if type(x1) in (int, float) else _inexact(x1)
    x2 = x2 if type(x2) in (int, float) else _inexact(x2)
    if type(x1) in (int, float) and type(x2) in (int, float):
        x1 = backend.canonicalize(float(x1))
    return _binop(hypot_p, x1, x2)


# sinc'(x) = (cos(pi x) - sinc(x)) / x, with its Maclaurin series near 0 (no cancellation, and
# every higher derivative at 0 right): sinc'(x) = pi u sum_k (-1)^k 2k u^(2k-2) / (2k+1)!,
# u = pi x.
_SINC_COEFS = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 8)]


def _sinc_deriv(ans, x):
    small = ew.less(ew.absolute(x), 0.1)
    u = ew.multiply(x, math.pi)
    z = ew.square(u)
    poly = _SINC_COEFS[-1]
    for c in reversed(_SINC_COEFS[:-1]):
        poly = ew.add(ew.multiply(poly, z), c)
    near = ew.multiply(ew.multiply(u, math.pi), poly)
    xs = ew.where(small, 1, x)
    far = ew.divide(ew.subtract(ew.cos(ew.multiply(xs, math.pi)), sinc(xs)), xs)
    return ew.where(small, near, far)


sinc_p = unary("sinc", "sinc", _sinc_deriv)


def sinc(x, /):
    """The normalised sinc ``sin(pi x) / (pi x)``, 1 at 0 (``numpy.sinc``).

    Derivatives of every order are smooth at 0 (a series is used near the origin).

    >>> import funcgrad.numpy as fnp
    >>> fnp.sinc(fnp.array([0.0, 0.5]))
    array([1.        , 0.63661975], dtype=float32)
    """
    return _unop(sinc_p, _inexact(x))


def deg2rad(x, /):
    """Degrees to radians (``numpy.deg2rad``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.deg2rad(fnp.array([180.0]))
    array([3.1415927], dtype=float32)
    """
    return ew.multiply(_inexact(x), math.pi / 180.0)


def rad2deg(x, /):
    """Radians to degrees (``numpy.rad2deg``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.rad2deg(fnp.array([fnp.pi]))
    array([180.], dtype=float32)
    """
    return ew.multiply(_inexact(x), 180.0 / math.pi)


radians = deg2rad
degrees = rad2deg


def float_power(x1, x2, /):
    """``x1 ** x2`` computed in float64 (complex128 for complex), as ``numpy.float_power``
    does whatever the 64-bit mode.

    >>> import funcgrad.numpy as fnp
    >>> fnp.float_power(fnp.array([2.0]), 3.0).dtype
    dtype('float64')
    """
    def up(x):
        if type(x) is int:
            return x
        x = _arr(x)
        return misc.convert_element_type(x, np.complex128 if x.dtype.kind == "c" else
                                         np.float64)

    x1, x2 = up(x1), up(x2)
    if type(x1) is int:
        x1 = np.asarray(float(x1))
    return ew.power(x1, x2)


def fmax(x1, x2, /):
    """Elementwise maximum ignoring NaNs (``numpy.fmax``); ties split the gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.fmax(fnp.array([1.0, fnp.nan]), fnp.array([fnp.nan, 2.0]))
    array([1., 2.], dtype=float32)
    """
    return _fminmax(ew.maximum, x1, x2)


def fmin(x1, x2, /):
    """Elementwise minimum ignoring NaNs (``numpy.fmin``); ties split the gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.fmin(fnp.array([1.0, fnp.nan]), fnp.array([fnp.nan, 2.0]))
    array([1., 2.], dtype=float32)
    """
    return _fminmax(ew.minimum, x1, x2)


def _fminmax(op, x1, x2):
    x1 = x1 if type(x1) in (int, float) else _arr(x1)
    x2 = x2 if type(x2) in (int, float) else _arr(x2)
    m = op(x1, x2)
    return ew.where(ew.isnan(x2), x1, ew.where(ew.isnan(x1), x2, m))


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities by finite numbers (``numpy.nan_to_num``).

    The gradient is 1 at finite entries and 0 at replaced ones.

    >>> import funcgrad.numpy as fnp
    >>> fnp.nan_to_num(fnp.array([fnp.nan, fnp.inf, 1.0]), posinf=9.0)
    array([0., 9., 1.], dtype=float32)
    """
    x = _arr(x)
    kind = x.dtype.kind
    if kind not in "fc":
        return x
    if kind == "c":
        re = nan_to_num(real(x), nan=nan, posinf=posinf, neginf=neginf)
        im = nan_to_num(imag(x), nan=nan, posinf=posinf, neginf=neginf)
        return ew.add(re, ew.multiply(im, 1j)).astype(x.dtype)
    info = np.finfo(x.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    dt = x.dtype.type
    out = ew.where(ew.isnan(x), dt(nan), x)
    out = ew.where(ew.equal(x, np.inf), dt(posinf), out)
    return ew.where(ew.equal(x, -np.inf), dt(neginf), out)


imag_p = Primitive("imag", lambda x: xp_of(x).imag(x), jit_impl=lambda xp: xp.imag)
# JAX's convention (cotangents are not conjugated): the transpose of Im is t -> -i t.
# (g is cast to complex first, so a second reverse pass takes the real part back.)
imag_p.vjp = (lambda g, ans, x: ew.multiply(
    misc.convert_element_type(real_cotangent(g), x.dtype), -1j),)
imag_p.jvp = linear_jvp(imag_p)
imag_p.batch = elementwise_batch(imag_p)


def imag(val):
    """Imaginary part (``numpy.imag``); zeros for real input.

    >>> import funcgrad.numpy as fnp
    >>> fnp.imag(fnp.array([1 + 2j]))
    array([2.], dtype=float32)
    """
    val = _arr(val)
    if val.dtype.kind != "c":
        from funcgrad._src.ops.creation import zeros_like

        return zeros_like(val)
    return bind(imag_p, val)


def angle(z, deg=False):
    """Argument of complex numbers (``numpy.angle``); for real input 0 or pi, no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.angle(fnp.array([1j]))
    array([1.5707964], dtype=float32)
    """
    z = _arr(z)
    if z.dtype.kind == "c":
        out = ew.arctan2(imag(z), real(z))
    else:
        z = _inexact(z)
        out = ew.arctan2(np.zeros((), z.dtype), _stop(z))
    return ew.multiply(out, 180.0 / math.pi) if deg else out


def round(a, decimals=0, out=None):  # noqa: A001
    """Round to the given number of decimals, halves to even (``numpy.round``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.round(fnp.array([1.234, 2.5]), 1)
    array([1.2, 2.5], dtype=float32)
    """
    if out is not None:
        raise NotImplementedError("round: 'out' is not supported (funcgrad arrays are "
                                  "immutable)")
    a = _arr(a)
    decimals = operator.index(decimals)
    kind = a.dtype.kind
    if kind in "iub":
        if decimals >= 0:
            return a
        f = a.astype(np.float64)
        return round(f, decimals).astype(a.dtype)
    if decimals == 0:
        return ew.rint(a)
    if decimals > 0:
        scale = 10.0 ** decimals
        return ew.divide(ew.rint(ew.multiply(a, scale)), scale)
    scale = 10.0 ** -decimals
    return ew.multiply(ew.rint(ew.divide(a, scale)), scale)


around = round
round_ = round


def heaviside(x1, x2, /):
    """Heaviside step: 0 for ``x1 < 0``, ``x2`` at 0, 1 for ``x1 > 0`` (``numpy.heaviside``);
    the gradient flows to ``x2`` where ``x1 == 0``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.heaviside(fnp.array([-1.0, 0.0, 2.0]), 0.5)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    x1 = _inexact(x1)
    x2 = x2 if type(x2) in (int, float) else _arr(x2)
    dt = x1.dtype.type
    out = ew.where(ew.less(x1, 0), dt(0), ew.where(ew.greater(x1, 0), dt(1), x2))
    return ew.where(ew.isnan(x1), dt(np.nan), out)


signbit_p = unary("signbit", "signbit", None)


def signbit(x, /):
    """True where the sign bit is set, including ``-0.0`` (``numpy.signbit``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.signbit(fnp.array([-0.0, 1.0]))
    array([ True, False])
    """
    return _unop(signbit_p, _arr(x))


def copysign(x1, x2, /):
    """``|x1|`` with the sign of ``x2`` (``numpy.copysign``); no gradient for ``x2``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.copysign(fnp.array([2.0]), -1.0)
    array([-2.], dtype=float32)
    """
    x1 = _inexact(x1)
    x2 = x2 if type(x2) in (int, float) else _arr(x2)
    mag = ew.absolute(x1)
    return ew.where(signbit(x2), ew.negative(mag), mag)


# =======================================================================================
# Reductions
# =======================================================================================

# --- cumsum: a linear primitive --------------------------------------------------------


def _cumsum_impl(x, *, axis):
    return xp_of(x).cumsum(x, axis=axis)


def _rev_cumsum(g, axis):
    return flip(bind(cumsum_p, flip(g, axis), axis=axis), axis)


def _cumsum_batch(axis_size, args, dims, *, axis):
    (x,), (d,) = args, dims
    return bind(cumsum_p, moveaxis_to_front(x, d), axis=axis + 1), 0


cumsum_p = Primitive("cumsum", _cumsum_impl, batch=_cumsum_batch)
cumsum_p.vjp = (lambda g, ans, x, *, axis: _rev_cumsum(g, axis),)
cumsum_p.jvp = linear_jvp(cumsum_p)


def _accum_dtype(a, dtype):
    if dtype is not None:
        return a.astype(dtype)
    if a.dtype.kind == "b" or (a.dtype.kind in "iu" and a.dtype.itemsize < 4):
        return a.astype(backend.default_int())
    return a


def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along an axis, of the flattened array for ``axis=None``
    (``numpy.cumsum``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.cumsum(fnp.array([1.0, 2.0, 3.0]))
    array([1., 3., 6.], dtype=float32)
    """
    _no_out("cumsum", out)
    a = _accum_dtype(_arr(a), dtype)
    if axis is None:
        a, axis = ravel(a), 0
    axis = _norm_axis(axis, a.ndim, "cumsum")
    if a.ndim == 0:
        return reshape(a, (1,))
    return bind(cumsum_p, a, axis=axis)


def _no_out(name, out):
    if out is not None:
        raise NotImplementedError(f"{name}: 'out' is not supported (funcgrad arrays are "
                                  "immutable)")


def _ones_block(x, n):
    """Ones of ``x``'s dtype with ``x``'s leading shape and ``n`` in the last axis."""
    return np.ones(tuple(x.shape[:-1]) + (n,), x.dtype)


def _scan_multiply(x):
    """Inclusive cumulative product along the last axis by a log-depth scan (Hillis-Steele)
    of multiplies: differentiable to any order and exact with zeros."""
    n = x.shape[-1]
    k = 1
    while k < n:
        shifted = concatenate([_ones_block(x, k), x[..., :n - k]], axis=-1)
        x = ew.multiply(x, shifted)
        k *= 2
    return x


def _exclusive_cumprod(x):
    n = x.shape[-1]
    if n <= 1:
        return _ones_block(x, n)
    return concatenate([_ones_block(x, 1), _scan_multiply(x[..., :n - 1])], axis=-1)


def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along an axis (``numpy.cumprod``). Gradients are exact when
    entries are zero.

    >>> import funcgrad.numpy as fnp
    >>> fnp.cumprod(fnp.array([1.0, 2.0, 3.0]))
    array([1., 2., 6.], dtype=float32)
    """
    _no_out("cumprod", out)
    a = _accum_dtype(_arr(a), dtype)
    if axis is None:
        a, axis = ravel(a), 0
    if a.ndim == 0:
        return reshape(a, (1,))
    axis = _norm_axis(axis, a.ndim, "cumprod")
    if not isinstance(a, Tracer):
        return xp_of(a).cumprod(a, axis=axis)
    return moveaxis(_scan_multiply(moveaxis(a, axis, -1)), -1, axis)


# --- prod ------------------------------------------------------------------------------


def _prod_others(x, axes):
    """For each element, the product of the other elements of its reduction group."""
    nd = x.ndim
    rest = [i for i in range(nd) if i not in axes]
    perm = tuple(rest + list(axes))
    xt = transpose(x, perm)
    lead = tuple(xt.shape[:len(rest)])
    n = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
    xf = reshape(xt, lead + (n,))
    left = _exclusive_cumprod(xf)
    right = flip(_exclusive_cumprod(flip(xf, -1)), -1)
    o = reshape(ew.multiply(left, right), tuple(xt.shape))
    return transpose(o, tuple(np.argsort(perm)))


def _prod_impl(x, *, axis, keepdims):
    return xp_of(x).prod(x, axis=axis, keepdims=keepdims)


def _prod_vjp(g, ans, x, *, axis, keepdims):
    return ew.multiply(_expand_back(g, x, axis, keepdims), _prod_others(x, axis))


def _prod_jvp_part(t, ans, x, *, axis, keepdims):
    return _sum(ew.multiply(t, _prod_others(x, axis)), axis=axis, keepdims=keepdims)


prod_p = Primitive("prod", _prod_impl)
prod_p.vjp = (_prod_vjp,)
prod_p.jvp = jvp_from_partials(prod_p, (_prod_jvp_part,))
prod_p.batch = _reduce_batch(prod_p)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product of elements over the given axes (``numpy.prod``).

    The gradient of each element is the product of the others (computed with exclusive
    products, not ``prod / x``), so it is exact when some entries are zero.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.grad(fnp.prod)(fnp.array([0.0, 2.0, 3.0]))
    array([6., 0., 0.], dtype=float32)
    """
    _no_out("prod", out)
    if initial is not None or where is not None:
        raise NotImplementedError("prod: 'initial' and 'where' are not supported")
    a = _accum_dtype(_arr(a), dtype)
    axes = normalize_axes(axis, a.ndim, "prod")
    return bind(prod_p, a, axis=axes, keepdims=bool(keepdims))


product = prod


def ptp(a, axis=None, out=None, keepdims=False):
    """Range ``max - min`` over the given axes (``numpy.ptp``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.ptp(fnp.array([3.0, -1.0, 2.0]))
    array(4., dtype=float32)
    """
    _no_out("ptp", out)
    return ew.subtract(_max(a, axis=axis, keepdims=keepdims),
                       _min(a, axis=axis, keepdims=keepdims))


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted average over the given axes (``numpy.average``), differentiable in ``a``
    and ``weights``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.average(fnp.array([1.0, 3.0]), weights=fnp.array([3.0, 1.0]))
    array(1.5, dtype=float32)
    """
    from funcgrad._src.ops.reductions import mean

    a = _inexact(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        if not returned:
            return avg
        axes = normalize_axes(axis, a.ndim, "average")
        n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
        return avg, broadcast_to(np.asarray(n, avg.dtype), tuple(avg.shape))
    w = _arr(weights)
    if w.dtype.kind not in "fc":
        w = w.astype(a.dtype)
    axes = normalize_axes(axis, a.ndim, "average")
    if tuple(w.shape) != tuple(a.shape):
        if axis is None:
            raise TypeError("average: axis must be specified when shapes of a and weights "
                            "differ.")
        if w.ndim != len(axes) or tuple(w.shape) != tuple(a.shape[i] for i in axes):
            raise ValueError("average: shape of weights must be consistent with shape of a "
                             "along specified axis.")
        shape = [1] * a.ndim
        for k, i in enumerate(axes):
            shape[i] = w.shape[k]
        w = reshape(w, tuple(shape))
    scl = _sum(broadcast_to(w, tuple(a.shape)) if tuple(w.shape) != tuple(a.shape) else w,
               axis=axes, keepdims=keepdims)
    avg = ew.divide(_sum(ew.multiply(a, w), axis=axes, keepdims=keepdims), scl)
    if returned:
        return avg, scl
    return avg


def count_nonzero(a, axis=None, *, keepdims=False):
    """Number of non-zero values over the given axes (``numpy.count_nonzero``).

    >>> import funcgrad.numpy as fnp
    >>> int(fnp.count_nonzero(fnp.array([0.0, 1.0, 2.0])))
    2
    """
    return _sum(ew.not_equal(_arr(a), 0), axis=axis, keepdims=keepdims)


def _nan_fill(a, value):
    a = _arr(a)
    if a.dtype.kind not in "fc":
        return a
    return ew.where(ew.isnan(a), a.dtype.type(value), a)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False):
    """Sum treating NaN as zero (``numpy.nansum``); no gradient reaches NaN entries.

    >>> import funcgrad.numpy as fnp
    >>> fnp.nansum(fnp.array([1.0, fnp.nan, 2.0]))
    array(3., dtype=float32)
    """
    _no_out("nansum", out)
    return _sum(_nan_fill(a, 0), axis=axis, dtype=dtype, keepdims=keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Mean ignoring NaN (``numpy.nanmean``); NaN for an all-NaN slice.

    >>> import funcgrad.numpy as fnp
    >>> fnp.nanmean(fnp.array([1.0, fnp.nan, 2.0]))
    array(1.5, dtype=float32)
    """
    _no_out("nanmean", out)
    a = _inexact(a)
    if dtype is not None:
        a = a.astype(dtype)
    cnt = _sum(ew.logical_not(ew.isnan(a)), axis=axis, keepdims=keepdims).astype(a.dtype)
    s = nansum(a, axis=axis, keepdims=keepdims)
    zero = ew.equal(cnt, 0)
    return ew.where(zero, a.dtype.type(np.nan), ew.divide(s, ew.where(zero, 1, cnt)))


def _nanchoose(op, fill, name):
    def f(a, axis=None, out=None, keepdims=False):
        _no_out(name, out)
        a = _arr(a)
        if a.dtype.kind not in "fc":
            return op(a, axis=axis, keepdims=keepdims)
        nan = ew.isnan(a)
        m = op(ew.where(nan, a.dtype.type(fill), a), axis=axis, keepdims=keepdims)
        all_nan = ew.equal(_min(nan.astype(np.int8), axis=axis, keepdims=keepdims), 1)
        return ew.where(all_nan, a.dtype.type(np.nan), m)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"{name[3:].capitalize()} ignoring NaN (``numpy.{name}``); NaN for an "
                 f"all-NaN slice.\n\n>>> import funcgrad.numpy as fnp\n"
                 f">>> fnp.{name}(fnp.array([1.0, fnp.nan, 2.0])).shape\n()\n")
    return f


nanmax = _nanchoose(_max, -np.inf, "nanmax")
nanmin = _nanchoose(_min, np.inf, "nanmin")


# --- sorting, quantiles ----------------------------------------------------------------


def _argsort_impl(x, *, axis):
    return xp_of(x).argsort(x, axis=axis, kind="stable")


def _argsort_batch(axis_size, args, dims, *, axis):
    (x,), (d,) = args, dims
    return bind(argsort_p, moveaxis_to_front(x, d), axis=axis + 1), 0


argsort_p = Primitive("argsort", _argsort_impl, nondiff=True, batch=_argsort_batch)


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Indices that sort ``a`` along an axis (``numpy.argsort``); always stable, no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.argsort(fnp.array([3.0, 1.0, 2.0]))
    array([1, 2, 0])
    """
    if order is not None:
        raise NotImplementedError("argsort: 'order' (structured arrays) is not supported")
    a = _arr(a)
    if axis is None:
        a, axis = ravel(a), 0
    if a.ndim == 0:
        return np.zeros((), np.intp)
    return bind(argsort_p, a, axis=_norm_axis(axis, a.ndim, "argsort"))


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted copy along an axis (``numpy.sort``). The gradient is routed back through the
    sorting permutation (ties: to the element placed there by a stable sort).

    >>> import funcgrad.numpy as fnp
    >>> fnp.sort(fnp.array([3.0, 1.0, 2.0]))
    array([1., 2., 3.], dtype=float32)
    """
    if order is not None:
        raise NotImplementedError("sort: 'order' (structured arrays) is not supported")
    a = _arr(a)
    if axis is None:
        a, axis = ravel(a), 0
    if a.ndim == 0:
        return a
    axis = _norm_axis(axis, a.ndim, "sort")
    if not isinstance(a, Tracer):
        return xp_of(a).sort(a, axis=axis, kind="stable")
    return take_along_axis(a, argsort(a, axis=axis), axis)


def top_k(operand, k: int):
    """The ``k`` largest entries along the last axis and their indices (``jax.lax.top_k``),
    by sorting; differentiable in the values, ties keep the lower index first.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad._src.ops.more_numpy import top_k
    >>> top_k(fnp.array([1.0, 3.0, 2.0]), 2)
    (array([3., 2.], dtype=float32), array([1, 2]))
    """
    x = _arr(operand)
    k = operator.index(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [0, {x.shape[-1] if x.ndim else 0}] and the "
                         "operand at least 1-D")
    order = argsort(ew.negative(_stop(x)), axis=-1)
    idx = getitem(order, (Ellipsis, slice(0, k)))
    return take_along_axis(x, idx, -1), idx


def _quantile_prep(a, axis, name):
    """``a`` with the reduced axes flattened into the first axis, the reduced axes and
    the number of reduced elements."""
    a = _inexact(a)
    axes = normalize_axes(axis, a.ndim, name)
    rest = [i for i in range(a.ndim) if i not in axes]
    x = transpose(a, tuple(list(axes) + rest))
    n = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    x = reshape(x, (n,) + tuple(a.shape[i] for i in rest))
    if n == 0:
        raise ValueError(f"{name}: cannot compute the quantile of an empty slice")
    return a, x, axes, n


def _keepdims_shape(a, axes, q_shape, keepdims):
    if not keepdims:
        return None
    return tuple(q_shape) + tuple(1 if i in axes else s for i, s in enumerate(a.shape))


_Q_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None):
    """Quantiles of ``a`` over the given axes (``numpy.quantile``), by sorting.

    ``method`` is one of ``"linear"`` (default), ``"lower"``, ``"higher"``, ``"midpoint"``,
    ``"nearest"``. Differentiable in ``a`` and (for ``"linear"``) in ``q``; ``q`` may be
    traced. The output has ``q``'s shape in front, as in NumPy.

    >>> import funcgrad.numpy as fnp
    >>> fnp.quantile(fnp.array([1.0, 2.0, 3.0, 4.0]), 0.5)
    array(2.5, dtype=float32)
    """
    _no_out("quantile", out)
    if weights is not None or interpolation is not None:
        raise NotImplementedError("quantile: 'weights' and 'interpolation' are not supported")
    if method not in _Q_METHODS:
        raise NotImplementedError(f"quantile: method {method!r} is not supported; use one of "
                                  f"{_Q_METHODS}")
    a, x, axes, n = _quantile_prep(a, axis, "quantile")
    weak = type(q) in (int, float)  # Python scalars take the data's precision
    q = np.asarray(q, a.dtype) if weak else (q if isinstance(q, Tracer) else
                                             backend.canonicalize(q))
    if not isinstance(q, Tracer) and (np.any(q < 0) or np.any(q > 1)):
        raise ValueError("quantile: quantiles must be in the range [0, 1]")
    dt = a.dtype
    if method in ("linear", "midpoint") and not weak and q.dtype.kind in "fc":
        dt = np.result_type(a.dtype, q.dtype)  # as NumPy: a float64 q array promotes
    if dt != a.dtype:
        a, x = misc.convert_element_type(a, dt), misc.convert_element_type(x, dt)
    if q.dtype != dt:
        q = misc.convert_element_type(q, dt)
    srt = sort(x, axis=0)
    virtual = ew.multiply(q, n - 1)
    if method == "nearest":
        res = getitem(srt, ew.rint(virtual).astype(np.intp))
    elif method == "higher":
        res = getitem(srt, ew.ceil(virtual).astype(np.intp))
    else:
        lo_f = ew.floor(virtual)
        lo = ew.clip(lo_f, 0, n - 1).astype(np.intp)
        lo_v = getitem(srt, lo)
        if method == "lower":
            res = lo_v
        else:
            hi = ew.clip(ew.add(lo_f, 1), 0, n - 1).astype(np.intp)
            hi_v = getitem(srt, hi)
            if method == "midpoint":  # NumPy: gamma 1/2, or 0 at an integer virtual index
                gamma = ew.where(ew.equal(virtual, lo_f), np.zeros((), dt), dt.type(0.5))
            else:
                gamma = ew.subtract(virtual, lo_f)
            gamma = reshape(gamma, tuple(gamma.shape) + (1,) * (srt.ndim - 1))
            diff = ew.subtract(hi_v, lo_v)
            # NumPy's _lerp, exact at both ends.
            res = ew.where(ew.greater_equal(gamma, 0.5),
                           ew.subtract(hi_v, ew.multiply(diff, ew.subtract(1, gamma))),
                           ew.add(lo_v, ew.multiply(diff, gamma)))
    last = getitem(srt, n - 1)
    res = ew.where(ew.isnan(last), dt.type(np.nan), res)
    shape = _keepdims_shape(a, axes, q.shape, keepdims)
    return res if shape is None else reshape(res, shape)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
    """Percentiles (``numpy.percentile``): :func:`quantile` of ``q / 100``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.percentile(fnp.array([1.0, 2.0, 3.0]), 50)
    array(2., dtype=float32)
    """
    if type(q) in (int, float):
        q = q / 100
    else:
        if not isinstance(q, Tracer):
            q = backend.canonicalize(q)
            if np.any(q < 0) or np.any(q > 100):
                raise ValueError("percentile: percentiles must be in the range [0, 100]")
            if q.dtype.kind not in "fc":
                q = q.astype(_inexact(a).dtype)
        q = ew.divide(q, 100)
    return quantile(a, q, axis=axis, out=out, method=method,
                    keepdims=keepdims, weights=weights, interpolation=interpolation)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median over the given axes (``numpy.median``): the mean of the two middle values
    for an even count; the gradient is shared between them.

    >>> import funcgrad.numpy as fnp
    >>> fnp.median(fnp.array([3.0, 1.0, 4.0, 2.0]))
    array(2.5, dtype=float32)
    """
    _no_out("median", out)
    a, x, axes, n = _quantile_prep(a, axis, "median")
    srt = sort(x, axis=0)
    k = n // 2
    if n % 2:
        res = getitem(srt, k)
    else:
        from funcgrad._src.ops.reductions import mean

        res = mean(getitem(srt, slice(k - 1, k + 1)), axis=0)
    res = ew.where(ew.isnan(getitem(srt, n - 1)), a.dtype.type(np.nan), res)
    shape = _keepdims_shape(a, axes, (), keepdims)
    return res if shape is None else reshape(res, shape)


# --- searchsorted, unique (no gradient) -------------------------------------------------


def _searchsorted_impl(a, v, *, side, nbatch):
    xp = xp_of(a, v)
    if nbatch == 0:
        return xp.searchsorted(a, v, side=side)
    bshape = tuple(a.shape[:nbatch])
    a2 = a.reshape((-1, a.shape[-1]))
    v2 = v.reshape((a2.shape[0], -1))
    out = xp.stack([xp.searchsorted(a2[i], v2[i], side=side) for i in range(a2.shape[0])])
    return out.reshape(bshape + tuple(v.shape[nbatch:]))


def _searchsorted_batch(axis_size, args, dims, *, side, nbatch):
    from funcgrad._src.batching import move_bdim

    (a, v), (da, dv) = args, dims
    if da is None and nbatch == 0:
        return bind(searchsorted_p, a, v, side=side, nbatch=0), dv
    a = move_bdim(a, da, 0, axis_size)
    v = move_bdim(v, dv, 0, axis_size)
    return bind(searchsorted_p, a, v, side=side, nbatch=nbatch + 1), 0


searchsorted_p = Primitive("searchsorted", _searchsorted_impl, nondiff=True,
                           batch=_searchsorted_batch)


def searchsorted(a, v, side="left", sorter=None):
    """Insertion indices keeping ``a`` sorted (``numpy.searchsorted``); no gradient.

    >>> import funcgrad.numpy as fnp
    >>> fnp.searchsorted(fnp.array([1.0, 2.0, 3.0]), fnp.array([2.5, 0.0]))
    array([2, 0])
    """
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    a, v = _arr(a), _arr(v)
    if a.ndim != 1:
        raise ValueError("searchsorted: a must be 1-D")
    if sorter is not None:
        a = take(a, sorter)
    return bind(searchsorted_p, a, v, side=side, nbatch=0)


def _unique_sized_impl(x, *, size, fill_value, outs, equal_nan, nbatch):
    xp = xp_of(x)
    if nbatch:
        flat = x.reshape((-1,) + tuple(x.shape[nbatch:]))
        rows = [_unique_sized_impl(r, size=size, fill_value=fill_value, outs=outs,
                                   equal_nan=equal_nan, nbatch=0) for r in flat]
        return tuple(xp.stack([r[k] for r in rows]).reshape(
            tuple(x.shape[:nbatch]) + tuple(rows[0][k].shape)) for k in range(len(rows[0])))
    flat = x.reshape(-1)
    res = np.unique(flat, return_index=True, return_inverse=True, return_counts=True,
                    equal_nan=equal_nan)
    vals, index, inverse, counts = res
    m = vals.shape[0]
    fv = vals.min() if (fill_value is None and m) else (0 if fill_value is None else
                                                         fill_value)
    if m >= size:
        vals, index, counts = vals[:size], index[:size], counts[:size]
    else:
        pad = size - m
        vals = np.concatenate([vals, np.full(pad, fv, vals.dtype)])
        index = np.concatenate([index, np.zeros(pad, index.dtype)])
        counts = np.concatenate([counts, np.zeros(pad, counts.dtype)])
    got = {"values": vals, "index": index, "inverse": inverse.reshape(x.shape),
           "counts": counts}
    return tuple(got[o] for o in outs)


def _unique_sized_batch(axis_size, args, dims, **params):
    (x,), (d,) = args, dims
    nb = params.pop("nbatch")
    out = bind(unique_sized_p, moveaxis_to_front(x, d), nbatch=nb + 1, **params)
    return out, [0] * len(out)


unique_sized_p = Primitive("unique_sized", _unique_sized_impl, nondiff=True,
                           multiple_results=True, batch=_unique_sized_batch)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True, size=None, fill_value=None):  # noqa: A002
    """Sorted unique values (``numpy.unique``); no gradient.

    The number of unique values depends on the data, so without ``size`` the input must be
    concrete (not inside ``jit`` or ``vmap``). As in JAX, a static ``size`` pads the result
    with ``fill_value`` (default: the smallest value) or truncates it, and then works under
    ``jit`` and ``vmap`` (flattened input only).

    >>> import funcgrad.numpy as fnp
    >>> fnp.unique(fnp.array([3.0, 1.0, 3.0]))
    array([1., 3.], dtype=float32)
    """
    if size is None:
        try:
            x = concrete_value(ar)
        except ConcretizationTypeError as e:
            raise ConcretizationTypeError(
                "unique: the number of unique values depends on the data; inside jit or vmap "
                "pass a static size=... (and optionally fill_value=...)") from e
        x = backend.canonicalize(x)
        out = np.unique(x, return_index=return_index, return_inverse=return_inverse,
                        return_counts=return_counts, axis=axis, equal_nan=equal_nan)
        return tuple(out) if isinstance(out, tuple) else out
    if axis is not None:
        raise NotImplementedError("unique: 'axis' is not supported together with size=")
    x = _arr(ar)
    outs = ("values",) + tuple(n for n, f in (("index", return_index),
                                             ("inverse", return_inverse),
                                             ("counts", return_counts)) if f)
    res = bind(unique_sized_p, x, size=operator.index(size), fill_value=fill_value, outs=outs,
               equal_nan=bool(equal_nan), nbatch=0)
    return res[0] if len(res) == 1 else tuple(res)


# =======================================================================================
# Shape and assembly
# =======================================================================================


def _atleast(n, arys):
    res = []
    for a in arys:
        a = _arr(a)
        if a.ndim < n:
            if n == 3:
                shape = {0: (1, 1, 1), 1: (1,) + tuple(a.shape) + (1,),
                         2: tuple(a.shape) + (1,)}[a.ndim]
            else:
                shape = (1,) * (n - a.ndim) + tuple(a.shape)
            a = reshape(a, shape)
        res.append(a)
    return res[0] if len(res) == 1 else tuple(res)


def atleast_1d(*arys):
    """View inputs as arrays with at least one dimension (``numpy.atleast_1d``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.atleast_1d(1.0).shape
    (1,)
    """
    return _atleast(1, arys)


def atleast_2d(*arys):
    """View inputs as arrays with at least two dimensions (``numpy.atleast_2d``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.atleast_2d(fnp.ones(3)).shape
    (1, 3)
    """
    return _atleast(2, arys)


def atleast_3d(*arys):
    """View inputs as arrays with at least three dimensions (``numpy.atleast_3d``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.atleast_3d(fnp.ones(3)).shape
    (1, 3, 1)
    """
    return _atleast(3, arys)


def dstack(tup):
    """Stack arrays along the third axis (``numpy.dstack``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.dstack([fnp.ones(2), fnp.zeros(2)]).shape
    (1, 2, 2)
    """
    arrs = [atleast_3d(a) for a in tup]
    return concatenate(arrs, axis=2)


def column_stack(tup):
    """Stack 1-D arrays as columns of a 2-D array (``numpy.column_stack``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.column_stack([fnp.ones(3), fnp.zeros(3)]).shape
    (3, 2)
    """
    arrs = []
    for a in tup:
        a = _arr(a)
        if a.ndim < 2:
            a = reshape(a, (-1, 1))
        arrs.append(a)
    return concatenate(arrs, axis=1)


def array_split(ary, indices_or_sections, axis=0):
    """Split into sub-arrays, allowing unequal sections (``numpy.array_split``).

    >>> import funcgrad.numpy as fnp
    >>> [p.shape for p in fnp.array_split(fnp.arange(5.0), 2)]
    [(3,), (2,)]
    """
    x = _arr(ary)
    axis = _norm_axis(axis, x.ndim, "array_split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError("array_split: number sections must be larger than 0.")
        each, extra = divmod(n, k)
        sizes = [0] + extra * [each + 1] + (k - extra) * [each]
        points = np.cumsum(sizes).tolist()
    else:
        points = [0] + [operator.index(i) for i in indices_or_sections] + [n]
    if all(0 <= a <= b <= n for a, b in zip(points, points[1:])):  # contiguous pieces
        from funcgrad._src.ops.shape import split_at

        return split_at(x, points, axis)
    pre = (slice(None),) * axis  # unsorted or out-of-range indices: NumPy's slicing rules
    return [getitem(x, pre + (slice(points[i], points[i + 1]),))
            for i in range(len(points) - 1)]


def split(ary, indices_or_sections, axis=0):
    """Split into equal sections or at the given indices (``numpy.split``).

    >>> import funcgrad.numpy as fnp
    >>> [p.shape for p in fnp.split(fnp.arange(6.0), 3)]
    [(2,), (2,), (2,)]
    """
    x = _arr(ary)
    if isinstance(indices_or_sections, (int, np.integer)):
        n = x.shape[_norm_axis(axis, x.ndim, "split")]
        if n % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(x, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """Split horizontally (``numpy.hsplit``).

    >>> import funcgrad.numpy as fnp
    >>> len(fnp.hsplit(fnp.ones((2, 4)), 2))
    2
    """
    x = _arr(ary)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    """Split vertically (``numpy.vsplit``).

    >>> import funcgrad.numpy as fnp
    >>> len(fnp.vsplit(fnp.ones((4, 2)), 2))
    2
    """
    return split(ary, indices_or_sections, axis=0)


def tile(A, reps):
    """Repeat a whole array ``reps`` times along each axis (``numpy.tile``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.tile(fnp.array([1.0, 2.0]), 2)
    array([1., 2., 1., 2.], dtype=float32)
    """
    x = _arr(A)
    reps = (operator.index(reps),) if not isinstance(reps, (tuple, list)) else tuple(
        operator.index(r) for r in reps)
    d = builtins.max(len(reps), x.ndim)
    reps = (1,) * (d - len(reps)) + reps
    shape = (1,) * (d - x.ndim) + tuple(x.shape)
    inter = []
    target = []
    for r, s in zip(reps, shape):
        inter += [1, s]
        target += [r, s]
    out = broadcast_to(reshape(x, tuple(inter)), tuple(target))
    return reshape(out, tuple(r * s for r, s in zip(reps, shape)))


def repeat(a, repeats, axis=None):
    """Repeat each element (``numpy.repeat``); ``repeats`` must be static.

    >>> import funcgrad.numpy as fnp
    >>> fnp.repeat(fnp.array([1.0, 2.0]), 2)
    array([1., 1., 2., 2.], dtype=float32)
    """
    x = _arr(a)
    if isinstance(repeats, Tracer):
        raise ConcretizationTypeError("repeat: 'repeats' determines the output shape and must "
                                      "be static (a Python int or a NumPy array)")
    if axis is None:
        x, axis = ravel(x), 0
    axis = _norm_axis(axis, x.ndim, "repeat")
    reps = np.asarray(repeats)
    n = x.shape[axis]
    if reps.ndim == 0 or reps.size == 1:
        r = int(reps.reshape(()))
        if r < 0:
            raise ValueError("repeat: negative dimensions are not allowed")
        shape = tuple(x.shape)
        y = broadcast_to(expand_dims(x, axis + 1), shape[:axis + 1] + (r,) + shape[axis + 1:])
        return reshape(y, shape[:axis] + (n * r,) + shape[axis + 1:])
    if reps.shape != (n,):
        raise ValueError(f"repeat: operands could not be broadcast together with shape "
                         f"({n},) {reps.shape}")
    return take(x, np.repeat(np.arange(n), reps), axis=axis)


def fliplr(m):
    """Reverse the order along axis 1 (``numpy.fliplr``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.fliplr(fnp.array([[1.0, 2.0]]))
    array([[2., 1.]], dtype=float32)
    """
    m = _arr(m)
    if m.ndim < 2:
        raise ValueError("fliplr: Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m):
    """Reverse the order along axis 0 (``numpy.flipud``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.flipud(fnp.array([1.0, 2.0]))
    array([2., 1.], dtype=float32)
    """
    m = _arr(m)
    if m.ndim < 1:
        raise ValueError("flipud: Input must be >= 1-d.")
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Roll elements along axes (``numpy.roll``). A traced integer ``shift`` is supported
    (the roll becomes a gather).

    >>> import funcgrad.numpy as fnp
    >>> fnp.roll(fnp.arange(4.0), 1)
    array([3., 0., 1., 2.], dtype=float32)
    """
    x = _arr(a)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), tuple(x.shape))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    shifts = (shift,) if not isinstance(shift, (tuple, list)) else tuple(shift)
    if isinstance(shift, Tracer) or (not isinstance(shift, (tuple, list))
                                     and np.ndim(shift) == 0):
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        shifts, axes = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
        shifts, axes = tuple(shifts.tolist()), tuple(axes.tolist())
    total: dict[int, object] = {}
    for s, ax in zip(shifts, axes):
        ax = _norm_axis(ax, x.ndim, "roll")
        total[ax] = s if ax not in total else ew.add(total[ax], s)
    for ax, s in total.items():
        n = x.shape[ax]
        if n == 0:
            continue
        if isinstance(s, Tracer):
            idx = ew.remainder(ew.subtract(np.arange(n), s.astype(np.intp)), n)
            x = take(x, idx, axis=ax)
            continue
        s = operator.index(s) % n
        if s:
            pre = (slice(None),) * ax
            x = concatenate([getitem(x, pre + (slice(n - s, n),)),
                             getitem(x, pre + (slice(0, n - s),))], axis=ax)
    return x


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees in the plane of ``axes`` (``numpy.rot90``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.rot90(fnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[2., 4.],
           [1., 3.]], dtype=float32)
    """
    m = _arr(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2.")
    if m.ndim < 2:
        raise ValueError("rot90: Axes must be different and the array at least 2-D.")
    a0, a1 = (_norm_axis(ax, m.ndim, "rot90") for ax in axes)
    if a0 == a1:
        raise ValueError("rot90: Axes must be different.")
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(m.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return transpose(flip(m, a1), tuple(perm))
    return flip(transpose(m, tuple(perm)), a1)


def _pad_index(mode, n, before, after):
    i = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(i, 0, n - 1)
    if mode == "wrap":
        return np.mod(i, n)
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(i)
        p = np.mod(i, 2 * n - 2)
        return np.where(p < n, p, 2 * n - 2 - p)
    p = np.mod(i, 2 * n)  # symmetric
    return np.where(p < n, p, 2 * n - 1 - p)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "empty")


def pad(array, pad_width, mode="constant", **kwargs):
    """Pad an array (``numpy.pad``) with modes ``"constant"`` (``constant_values``, which may
    be traced), ``"edge"``, ``"reflect"``, ``"symmetric"``, ``"wrap"`` and ``"empty"``
    (zeros). ``pad_width`` must be static.

    >>> import funcgrad.numpy as fnp
    >>> fnp.pad(fnp.array([1.0, 2.0]), (1, 2), mode="edge")
    array([1., 1., 2., 2., 2.], dtype=float32)
    """
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; supported modes: "
                                  f"{_PAD_MODES}")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}}.get(mode, set())
    bad = set(kwargs) - allowed
    if bad:
        raise ValueError(f"pad: unsupported keyword arguments for mode {mode!r}: {sorted(bad)}")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("pad: only reflect_type='even' is supported")
    x = _arr(array)
    if isinstance(pad_width, Tracer):
        raise ConcretizationTypeError("pad: pad_width must be static")
    pw = np.asarray(pad_width)
    if pw.dtype.kind not in "iu":
        raise TypeError("pad: `pad_width` must be of integral type.")
    pw = np.broadcast_to(pw, (x.ndim, 2)).astype(np.int64)
    if np.any(pw < 0):
        raise ValueError("pad: index can't contain negative values")
    if mode in ("constant", "empty"):
        cv = kwargs.get("constant_values", 0) if mode == "constant" else 0
        if isinstance(cv, Tracer):
            if cv.ndim:
                raise NotImplementedError("pad: traced constant_values must be a scalar")
            get = lambda ax, side: cv  # noqa: E731
        else:
            cva = np.broadcast_to(np.asarray(cv), (x.ndim, 2))
            get = lambda ax, side: cva[ax, side]  # noqa: E731
        for ax in range(x.ndim):
            b, e = int(pw[ax, 0]), int(pw[ax, 1])
            if not b and not e:
                continue
            parts = []
            for side, w in ((0, b), (1, e)):
                shape = tuple(x.shape[:ax]) + (w,) + tuple(x.shape[ax + 1:])
                v = get(ax, side)
                v = v.astype(x.dtype) if isinstance(v, Tracer) else np.asarray(v).astype(
                    x.dtype)
                parts.append(broadcast_to(v, shape))
            x = concatenate([parts[0], x, parts[1]], axis=ax)
        return x
    for ax in range(x.ndim):
        b, e = int(pw[ax, 0]), int(pw[ax, 1])
        if not b and not e:
            continue
        n = x.shape[ax]
        if n == 0:
            raise ValueError(f"pad: can't extend empty axis {ax} using modes other than "
                             "'constant' or 'empty'")
        x = take(x, _pad_index(mode, n, b, e), axis=ax)
    return x


def diagonal(a, offset=0, axis1=0, axis2=1):
    """Diagonal of the plane ``(axis1, axis2)``, appended as the last axis
    (``numpy.diagonal``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.diagonal(fnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array([1., 4.], dtype=float32)
    """
    x = _arr(a)
    if x.ndim < 2:
        raise ValueError("diagonal: diag requires an array of at least two dimensions")
    a1, a2 = _norm_axis(axis1, x.ndim, "diagonal"), _norm_axis(axis2, x.ndim, "diagonal")
    if a1 == a2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    x = moveaxis(x, (a1, a2), (-2, -1))
    n, m = x.shape[-2:]
    offset = operator.index(offset)
    if offset >= 0:
        k = builtins.max(0, builtins.min(n, m - offset))
        rows, cols = np.arange(k), np.arange(k) + offset
    else:
        k = builtins.max(0, builtins.min(n + offset, m))
        rows, cols = np.arange(k) - offset, np.arange(k)
    return getitem(x, (Ellipsis, rows, cols))


def diag(v, k=0):
    """Diagonal of a 2-D array, or a 2-D array with ``v`` on a diagonal (``numpy.diag``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.diag(fnp.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]], dtype=float32)
    """
    v = _arr(v)
    k = operator.index(k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("diag: Input must be 1- or 2-d.")
    if not isinstance(v, Tracer):
        return xp_of(v).diag(v, k)
    n = v.shape[0] + builtins.abs(k)
    rows = np.arange(v.shape[0]) + builtins.max(0, -k)
    cols = np.arange(v.shape[0]) + builtins.max(0, k)
    return scatter_add(v, (rows, cols), shape=(n, n), idx=(ARR, ARR))


def diagflat(v, k=0):
    """2-D array with the flattened input on a diagonal (``numpy.diagflat``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.diagflat(fnp.ones((1, 2))).shape
    (2, 2)
    """
    return diag(ravel(_arr(v)), k)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along a diagonal (``numpy.trace``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.trace(fnp.array([[1.0, 2.0], [3.0, 4.0]]))
    array(5., dtype=float32)
    """
    _no_out("trace", out)
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _tri_mask(x, k, lower):
    shape = tuple(x.shape[-2:])
    mask = np.tri(*shape, k=k, dtype=bool)
    return mask if lower else ~mask


def tril(m, k=0):
    """Lower triangle of the last two axes (``numpy.tril``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.tril(fnp.ones((2, 2)))
    array([[1., 0.],
           [1., 1.]], dtype=float32)
    """
    x = _arr(m)
    return ew.where(_tri_mask(x, operator.index(k), True), x, np.zeros((), x.dtype))


def triu(m, k=0):
    """Upper triangle of the last two axes (``numpy.triu``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.triu(fnp.ones((2, 2)))
    array([[1., 1.],
           [0., 1.]], dtype=float32)
    """
    x = _arr(m)
    k = operator.index(k)
    return ew.where(_tri_mask(x, k - 1, False), x, np.zeros((), x.dtype))


def kron(a, b):
    """Kronecker product (``numpy.kron``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.kron(fnp.eye(2), fnp.ones((1, 2)))
    array([[1., 1., 0., 0.],
           [0., 0., 1., 1.]], dtype=float32)
    """
    a, b = _arr(a), _arr(b)
    nd = builtins.max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    ra = tuple(d for s in sa for d in (s, 1))
    rb = tuple(d for s in sb for d in (1, s))
    out = ew.multiply(reshape(a, ra), reshape(b, rb))
    return reshape(out, tuple(x * y for x, y in zip(sa, sb)))


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from coordinate vectors (``numpy.meshgrid``).

    >>> import funcgrad.numpy as fnp
    >>> [g.shape for g in fnp.meshgrid(fnp.ones(2), fnp.ones(3))]
    [(3, 2), (3, 2)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: Valid values for `indexing` are 'xy' and 'ij'.")
    nd = len(xi)
    s0 = (1,) * nd
    out = [reshape(_arr(x), s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and nd > 1:
        out[0] = reshape(out[0], (1, -1) + s0[2:])
        out[1] = reshape(out[1], (-1, 1) + s0[2:])
    if not sparse:
        out = broadcast_arrays(*out)
    return tuple(out)


def select(condlist, choicelist, default=0):
    """Elements from ``choicelist`` by the first true condition (``numpy.select``).

    >>> import funcgrad.numpy as fnp
    >>> x = fnp.array([-1.0, 0.5, 2.0])
    >>> fnp.select([x < 0, x > 1], [-x, x * 10.0], default=0.0)
    array([ 1.,  0., 20.], dtype=float32)
    """
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    if not _traced(*condlist, *choicelist, default):
        return np.select([np.asarray(c) for c in condlist],
                         [backend.canonicalize(c) for c in choicelist],
                         backend.canonicalize(default) if type(default) is not int else
                         default)
    out = default
    for c, v in zip(reversed(condlist), reversed(choicelist)):
        c = _arr(c)
        if c.dtype != np.bool_:
            raise TypeError(f"select: invalid entry in condlist: should be boolean ndarray, "
                            f"got {c.dtype}")
        out = ew.where(c, v, out)
    return out


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """Numbers spaced evenly on a log scale (``numpy.logspace``); float32 by default.

    Differentiable in ``start``, ``stop`` and ``base`` when they are traced.

    >>> import funcgrad.numpy as fnp
    >>> fnp.logspace(0.0, 2.0, 3)
    array([  1.,  10., 100.], dtype=float32)
    """
    if dtype is None:
        dt = np.result_type(*[v.dtype if isinstance(v, Tracer) else
                              backend.canonicalize(v).dtype for v in (start, stop)])
        dt = dt if dt.kind in "fc" else backend.default_float()
    else:
        dt = np.dtype(dtype)
    if not _traced(start, stop, base):
        return np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dt,
                           axis=axis)
    if axis != 0:
        raise NotImplementedError("logspace: traced arguments need axis=0")
    div = (num - 1) if endpoint else num
    t = np.arange(num, dtype=dt) / (div if div > 0 else 1)
    start = misc.convert_element_type(_arr(start), dt)
    stop = misc.convert_element_type(_arr(stop), dt)
    s = reshape(start, (1,) + tuple(start.shape)) if start.ndim else start
    e = reshape(stop, (1,) + tuple(stop.shape)) if stop.ndim else stop
    tt = reshape(t, (num,) + (1,) * builtins.max(np.ndim(start), np.ndim(stop)))
    y = ew.add(s, ew.multiply(tt, ew.subtract(e, s)))
    base = np.asarray(base, dt) if isinstance(base, (int, float)) else base
    return ew.power(base, y).astype(dt)


# =======================================================================================
# Array methods of traced values
# =======================================================================================


def _install_methods() -> None:
    methods = {
        "prod": prod,
        "cumsum": cumsum,
        "cumprod": cumprod,
        "sort": lambda self, axis=-1, kind=None, order=None: sort(self, axis, kind, order),
        "argsort": lambda self, axis=-1, kind=None, order=None: argsort(self, axis, kind,
                                                                        order),
        "trace": trace,
        "diagonal": diagonal,
        "round": lambda self, decimals=0, out=None: round(self, decimals, out),
        "repeat": lambda self, repeats, axis=None: repeat(self, repeats, axis),
        "searchsorted": lambda self, v, side="left", sorter=None: searchsorted(
            self, v, side, sorter),
        "imag": property(lambda self: imag(self)),
    }
    for name, fn in methods.items():
        if name not in Tracer.__dict__:
            setattr(Tracer, name, fn)


_install_methods()

__all__ = [
    "angle", "argsort", "around", "array_split", "atleast_1d", "atleast_2d", "atleast_3d",
    "average", "column_stack", "copysign", "count_nonzero", "cumprod", "cumsum", "deg2rad",
    "degrees", "diag", "diagflat", "diagonal", "dstack", "float_power", "fliplr", "flipud",
    "fmax", "fmin", "heaviside", "hsplit", "hypot", "imag", "kron", "logspace", "median",
    "meshgrid", "nan_to_num", "nanmax", "nanmean", "nanmin", "nansum", "pad", "percentile",
    "prod", "ptp", "quantile", "rad2deg", "radians", "repeat", "roll", "rot90", "round",
    "searchsorted", "select", "signbit", "sinc", "sort", "split", "tile",
    "top_k", "trace", "tril", "triu", "unique", "vsplit",
]
