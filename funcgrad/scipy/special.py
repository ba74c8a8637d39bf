"""``funcgrad.scipy.special``: SciPy's special functions, differentiable (``jax.scipy.special``).

Every function accepts arrays, Python scalars and traced values, keeps float32 inputs in
float32, and can be differentiated to any order. Stability matters more here than in most
places: :func:`logsumexp`, :func:`log_softmax` and :func:`softmax` subtract the maximum
(held constant with ``stop_gradient``, which is exact because the result does not depend on
the shift), so they neither overflow nor produce NaN gradients for inputs of any size.

>>> import funcgrad.numpy as fnp
>>> import funcgrad.scipy.special as fsp
>>> round(float(fsp.logsumexp(fnp.array([1000.0, 1000.0]))), 3)
1000.693
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad._src import backend
from funcgrad._src.autodiff import stop_gradient
from funcgrad._src.core import Tracer
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops import reductions as red
from funcgrad._src.ops import shape as sh
from funcgrad._src.ops.creation import as_inexact
from funcgrad._src.ops.elementwise import logistic
from funcgrad._src.ops.special import (
    digamma,
    entr,
    erf,
    erfc,
    erfinv,
    gammaln,
    log_ndtr,
    logit,
    ndtri,
    polygamma,
    xlog1py,
    xlogy,
)

__all__ = [
    "betaln",
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfinv",
    "expit",
    "gammaln",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "ndtr",
    "ndtri",
    "polygamma",
    "softmax",
    "xlog1py",
    "xlogy",
]

_SQRT_HALF = math.sqrt(0.5)


_inexact = as_inexact


def _shift(x, axis):
    """The maximum over ``axis`` (kept dims), constant for autodiff, 0 where not finite."""
    m = red.max(x, axis=axis, keepdims=True)
    return stop_gradient(ew.where(ew.isfinite(m), m, 0))


def _safe_log(s):
    """``log(s)`` for ``s >= 0``: ``-inf`` at 0 without a warning or a NaN gradient."""
    zero = ew.equal(s, 0)
    return ew.where(zero, -np.inf, ew.log(ew.where(zero, 1, s)))


def expit(x, /):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, stable for any ``x``.

    Args:
        x: array or scalar.

    Returns:
        ``1 / (1 + exp(-x))``, in ``[0, 1]``.

    >>> import funcgrad.numpy as fnp
    >>> import funcgrad.scipy.special as fsp
    >>> fsp.expit(fnp.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    return logistic(_inexact(x))


def ndtr(x, /):
    """The standard normal CDF ``Phi(x) = erfc(-x / sqrt(2)) / 2`` (accurate in both tails).

    Args:
        x: array or scalar.

    Returns:
        ``Phi(x)``.

    >>> import funcgrad.numpy as fnp
    >>> import funcgrad.scipy.special as fsp
    >>> fsp.ndtr(fnp.array([0.0]))
    array([0.5], dtype=float32)
    """
    x = _inexact(x)
    return ew.multiply(0.5, erfc(ew.multiply(x, -_SQRT_HALF)))


def betaln(a, b, /):
    """``log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)``.

    Args:
        a, b: arrays or scalars, broadcasting.

    Returns:
        The log of the absolute value of the beta function.

    >>> import funcgrad.numpy as fnp
    >>> import funcgrad.scipy.special as fsp
    >>> fsp.betaln(fnp.array([1.0]), 1.0)
    array([0.], dtype=float32)
    """
    a, b = _inexact(a), _inexact(b)
    return ew.subtract(ew.add(gammaln(a), gammaln(b)), gammaln(ew.add(a, b)))


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False):
    """``log(sum(b * exp(a)))`` over ``axis`` without overflow (``scipy.special.logsumexp``).

    The maximum is subtracted before exponentiating and added back afterwards; it is held
    constant under differentiation (exact, as the result does not depend on it), so the
    gradient is ``softmax(a)`` and finite for inputs of any magnitude.

    Args:
        a: input array.
        axis: axis or axes to reduce; ``None`` reduces all.
        b: optional scale factors, broadcasting against ``a`` (may be negative).
        keepdims: keep the reduced axes with length one.
        return_sign: also return the sign of the sum; the result is then ``log|sum|``.

    Returns:
        ``log(sum(b * exp(a)))`` (NaN where the sum is negative, ``-inf`` where it is 0);
        with ``return_sign``, the pair ``(log|sum|, sign)``.

    >>> import funcgrad.numpy as fnp
    >>> import funcgrad.scipy.special as fsp
    >>> fsp.logsumexp(fnp.array([[0.0, -1e4], [1e4, -1e4]]), axis=1)
    array([    0., 10000.], dtype=float32)
    >>> fsp.logsumexp(fnp.array([0.0, 0.0]), b=fnp.array([1.0, -2.0]), return_sign=True)
    (array(0., dtype=float32), array(-1., dtype=float32))
    """
    a = _inexact(a)
    if b is not None:
        b = b if isinstance(b, Tracer) else backend.canonicalize(b)
        shape = np.broadcast_shapes(a.shape, b.shape)
        if a.shape != shape:
            a = sh.broadcast_to(a, shape)
        if b.shape != shape:
            b = sh.broadcast_to(b, shape)
    axes = red.normalize_axes(axis, a.ndim, "logsumexp")
    amax = _shift(a, axes)
    e = ew.exp(ew.subtract(a, amax))
    if b is not None:
        e = ew.multiply(b, e)
    s = red.sum(e, axis=axes, keepdims=keepdims)
    amax = amax if keepdims else sh.reshape(amax, s.shape)
    sign = stop_gradient(ew.sign(s))
    out = ew.add(_safe_log(ew.absolute(s) if b is not None else s), amax)
    if return_sign:
        return out, sign.astype(out.dtype)
    return out if b is None else ew.where(ew.less(sign, 0), np.nan, out)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` over ``axis``, stable for inputs of any magnitude.

    Args:
        x: input array.
        axis: axis or axes to normalise over.

    Returns:
        Non-negative values summing to one over ``axis``.

    >>> import funcgrad.numpy as fnp
    >>> import funcgrad.scipy.special as fsp
    >>> fsp.softmax(fnp.array([0.0, 1e4]))
    array([0., 1.], dtype=float32)
    """
    x = _inexact(x)
    unnormalized = ew.exp(ew.subtract(x, _shift(x, axis)))
    return ew.divide(unnormalized, red.sum(unnormalized, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` over ``axis``, stable for inputs of any magnitude.

    Args:
        x: input array.
        axis: axis or axes to normalise over.

    Returns:
        Log-probabilities: ``exp`` of the result sums to one over ``axis``.

    >>> import funcgrad.numpy as fnp
    >>> import funcgrad.scipy.special as fsp
    >>> fsp.log_softmax(fnp.array([0.0, 1e4]))
    array([-10000.,      0.], dtype=float32)
    """
    x = _inexact(x)
    shifted = ew.subtract(x, _shift(x, axis))
    return ew.subtract(shifted, _safe_log(red.sum(ew.exp(shifted), axis=axis, keepdims=True)))
