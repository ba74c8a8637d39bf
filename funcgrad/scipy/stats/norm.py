"""The normal distribution (``scipy.stats.norm``): densities, CDFs and quantiles.

Every function takes ``loc`` (mean) and ``scale`` (standard deviation), broadcasting
against the input, and is differentiable in all of its arguments. CDFs go through
``erfc``/``log_ndtr`` so that both tails keep their relative precision.

>>> import funcgrad.numpy as fnp
>>> from funcgrad.scipy.stats import norm
>>> norm.logpdf(fnp.array([0.0]), loc=0.0, scale=1.0)
array([-0.9189385], dtype=float32)
"""

from __future__ import annotations

import math

from funcgrad._src import backend
from funcgrad._src.core import Tracer
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops.special import log_ndtr, ndtri
from funcgrad.scipy.special import ndtr

__all__ = ["cdf", "isf", "logcdf", "logpdf", "logsf", "pdf", "ppf", "sf"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _arg(v):
    """Python numbers stay weakly typed (they take the other operand's dtype)."""
    if type(v) in (int, float):
        return float(v)
    if not isinstance(v, Tracer):
        v = backend.canonicalize(v)
    return v if v.dtype.kind in "fc" else v.astype(backend.default_float())


def _x(x):
    x = _arg(x)
    return backend.canonicalize(x) if isinstance(x, float) else x


def _standardize(x, loc, scale):
    return ew.divide(ew.subtract(_x(x), _arg(loc)), _arg(scale))


def logpdf(x, loc=0.0, scale=1.0):
    """Log of the normal density, ``-z**2 / 2 - log(scale) - log(sqrt(2 pi))``.

    Args:
        x: points at which to evaluate.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``log N(x; loc, scale**2)``.

    >>> from funcgrad.scipy.stats import norm
    >>> round(float(norm.logpdf(1.0, loc=1.0, scale=2.0)), 6)
    -1.612086
    """
    z = _standardize(x, loc, scale)
    scale = _arg(scale)
    log_norm = (math.log(scale) + _LOG_SQRT_2PI if isinstance(scale, float)
                else ew.add(ew.log(scale), _LOG_SQRT_2PI))
    return ew.subtract(ew.multiply(-0.5, ew.square(z)), log_norm)


def pdf(x, loc=0.0, scale=1.0):
    """The normal density ``exp(logpdf(x, loc, scale))``.

    Args:
        x: points at which to evaluate.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``N(x; loc, scale**2)``.

    >>> from funcgrad.scipy.stats import norm
    >>> round(float(norm.pdf(0.0)), 6)
    0.398942
    """
    return ew.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    """The normal cumulative distribution function ``P(X <= x)``.

    Args:
        x: points at which to evaluate.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``Phi((x - loc) / scale)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad.scipy.stats import norm
    >>> norm.cdf(fnp.array([1.0]), loc=1.0, scale=3.0)
    array([0.5], dtype=float32)
    """
    return ndtr(_standardize(x, loc, scale))


def logcdf(x, loc=0.0, scale=1.0):
    """Log of the normal CDF, accurate far into the lower tail.

    Args:
        x: points at which to evaluate.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``log Phi((x - loc) / scale)``.

    >>> from funcgrad.scipy.stats import norm
    >>> round(float(norm.logcdf(-40.0)), 2)
    -804.61
    """
    return log_ndtr(_standardize(x, loc, scale))


def sf(x, loc=0.0, scale=1.0):
    """The survival function ``1 - cdf``, accurate in the upper tail.

    Args:
        x: points at which to evaluate.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``P(X > x)``.

    >>> from funcgrad.scipy.stats import norm
    >>> float(norm.sf(0.0))
    0.5
    """
    return ndtr(ew.negative(_standardize(x, loc, scale)))


def logsf(x, loc=0.0, scale=1.0):
    """Log of the survival function, accurate far into the upper tail.

    Args:
        x: points at which to evaluate.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``log P(X > x)``.

    >>> from funcgrad.scipy.stats import norm
    >>> round(float(norm.logsf(40.0)), 2)
    -804.61
    """
    return log_ndtr(ew.negative(_standardize(x, loc, scale)))


def ppf(q, loc=0.0, scale=1.0):
    """The quantile function, the inverse of :func:`cdf`.

    Args:
        q: probabilities in ``[0, 1]``.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``x`` with ``cdf(x, loc, scale) == q``.

    >>> from funcgrad.scipy.stats import norm
    >>> float(norm.ppf(0.5, loc=2.0))
    2.0
    """
    return ew.add(ew.multiply(ndtri(_x(q)), _arg(scale)), _arg(loc))


def isf(q, loc=0.0, scale=1.0):
    """The inverse survival function: ``x`` with ``sf(x, loc, scale) == q``.

    Args:
        q: probabilities in ``[0, 1]``.
        loc: mean.
        scale: standard deviation (positive).

    Returns:
        ``ppf(1 - q, loc, scale)``, computed without the cancellation in ``1 - q``.

    >>> from funcgrad.scipy.stats import norm
    >>> float(norm.isf(0.5, loc=2.0))
    2.0
    """
    return ew.subtract(_arg(loc), ew.multiply(ndtri(_x(q)), _arg(scale)))
