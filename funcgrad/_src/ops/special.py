"""Special functions as elementwise primitives: ``logaddexp``, the error functions, the gamma
family, ``xlogy`` and friends.

Implementations call NumPy where it has the function (``logaddexp``) and otherwise
``scipy.special`` on NumPy arrays or ``cupyx.scipy.special`` on CuPy arrays (imported on
first use, so ``import funcgrad`` does not need SciPy). Derivatives are written with
funcgrad operations, so every function here can be differentiated again.

Conventions at the edges follow JAX and SciPy: ``xlogy(0, y) == 0`` for every ``y``, and the
derivatives are chosen so that ``xlogy(0, 0)`` has a finite gradient (see :func:`xlogy`).
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops.elementwise import _binop, _unop
from funcgrad._src.ops.rules import binary, elementwise_batch, jvp_from_partials, unary

_LN2 = math.log(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _special_module(xp):
    """``scipy.special`` for NumPy, ``cupyx.scipy.special`` for CuPy."""
    if xp is np:
        try:
            import scipy.special as sc
        except ImportError as e:  # pragma: no cover - scipy is installed with funcgrad[dev]
            raise ImportError("funcgrad's special functions (erf, gammaln, xlogy, ...) need "
                              "SciPy: pip install scipy") from e
        return sc
    import cupyx.scipy.special as csc  # type: ignore[import-not-found]

    return csc


def _sc(name: str):
    """Implementation ``f(*arrays)`` calling ``<special module>.<name>``, keeping the dtype."""

    def impl(*xs):
        xp = xp_of(*xs)
        out = getattr(_special_module(xp), name)(*xs)
        dtype = xp.result_type(*xs)
        return out if out.dtype == dtype or dtype.kind not in "fc" else out.astype(dtype)

    impl.__name__ = name
    return impl


from funcgrad._src.ops.creation import as_inexact as _float_operand  # noqa: E402

# ---------------------------------------------------------------------------------------
# logaddexp, logaddexp2
# ---------------------------------------------------------------------------------------

# d/dx log(e^x + e^y) = e^(x - ans): the exponent is <= 0, so nothing overflows.
logaddexp_p = binary("logaddexp", "logaddexp",
                     lambda g, ans, x, y: ew.multiply(g, ew.exp(ew.subtract(x, ans))),
                     lambda g, ans, x, y: ew.multiply(g, ew.exp(ew.subtract(y, ans))))
logaddexp2_p = binary("logaddexp2", "logaddexp2",
                      lambda g, ans, x, y: ew.multiply(g, ew.exp2(ew.subtract(x, ans))),
                      lambda g, ans, x, y: ew.multiply(g, ew.exp2(ew.subtract(y, ans))))


def logaddexp(x1, x2, /):
    """``log(exp(x1) + exp(x2))`` without overflow (``numpy.logaddexp``), broadcasting.

    The gradient ``exp(x1 - out)`` is computed from the output, so it is finite and exact
    at any magnitude: ``logaddexp(x, 0.0)`` is a stable ``softplus``.

    Args:
        x1, x2: arrays or scalars.

    Returns:
        The elementwise ``log(exp(x1) + exp(x2))``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.logaddexp(fnp.array([-1000.0, 1000.0]), 0.0)
    array([   0., 1000.], dtype=float32)
    """
    return _binop(logaddexp_p, x1, x2)


def logaddexp2(x1, x2, /):
    """``log2(2**x1 + 2**x2)`` without overflow (``numpy.logaddexp2``), broadcasting.

    Args:
        x1, x2: arrays or scalars.

    Returns:
        The elementwise ``log2(2**x1 + 2**x2)``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.logaddexp2(fnp.array([1.0]), 1.0)
    array([2.], dtype=float32)
    """
    return _binop(logaddexp2_p, x1, x2)


# ---------------------------------------------------------------------------------------
# Error functions and the normal distribution's quantile
# ---------------------------------------------------------------------------------------

erf_p = unary("erf", _sc("erf"),
              lambda ans, x: ew.multiply(_TWO_OVER_SQRT_PI, ew.exp(ew.negative(ew.square(x)))))
erfc_p = unary("erfc", _sc("erfc"),
               lambda ans, x: ew.multiply(-_TWO_OVER_SQRT_PI, ew.exp(ew.negative(ew.square(x)))))
# d/dx erfinv(x) = sqrt(pi)/2 * exp(erfinv(x)^2)
erfinv_p = unary("erfinv", _sc("erfinv"),
                 lambda ans, x: ew.multiply(_SQRT_PI_OVER_2, ew.exp(ew.square(ans))))
# d/dp ndtri(p) = 1 / pdf(ndtri(p)) = sqrt(2 pi) exp(ans^2 / 2)
ndtri_p = unary("ndtri", _sc("ndtri"),
                lambda ans, x: ew.exp(ew.add(ew.multiply(0.5, ew.square(ans)), _LOG_SQRT_2PI)))
# d/dx log Phi(x) = pdf(x) / Phi(x) = exp(-x^2/2 - log sqrt(2 pi) - ans)
log_ndtr_p = unary("log_ndtr", _sc("log_ndtr"),
                   lambda ans, x: ew.exp(ew.subtract(
                       ew.subtract(ew.multiply(-0.5, ew.square(x)), _LOG_SQRT_2PI), ans)))


def erf(x, /):
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise.

    Args:
        x: array or scalar.

    Returns:
        ``erf(x)``, of ``x``'s float dtype.

    >>> import funcgrad.scipy.special as fsp
    >>> fsp.erf(0.0)
    array(0., dtype=float32)
    """
    return _unop(erf_p, _float_operand(x))


def erfc(x, /):
    """The complementary error function ``1 - erf(x)``, accurate for large ``x``.

    Args:
        x: array or scalar.

    Returns:
        ``erfc(x)``, of ``x``'s float dtype.

    >>> import funcgrad.scipy.special as fsp
    >>> fsp.erfc(0.0)
    array(1., dtype=float32)
    """
    return _unop(erfc_p, _float_operand(x))


def erfinv(x, /):
    """The inverse error function on ``[-1, 1]`` (``±inf`` at ``±1``).

    Args:
        x: array or scalar in ``[-1, 1]``.

    Returns:
        ``y`` with ``erf(y) == x``.

    >>> import funcgrad.scipy.special as fsp
    >>> fsp.erfinv(0.0)
    array(0., dtype=float32)
    """
    return _unop(erfinv_p, _float_operand(x))


def ndtri(p, /):
    """The standard normal quantile function, the inverse of :func:`ndtr`.

    Args:
        p: probabilities in ``[0, 1]``.

    Returns:
        ``x`` with ``ndtr(x) == p`` (``±inf`` at 0 and 1).

    >>> import funcgrad.scipy.special as fsp
    >>> fsp.ndtri(0.5)
    array(0., dtype=float32)
    """
    return _unop(ndtri_p, _float_operand(p))


def log_ndtr(x, /):
    """Log of the standard normal CDF, accurate far into the lower tail.

    Args:
        x: array or scalar.

    Returns:
        ``log(ndtr(x))``.

    >>> import funcgrad.scipy.special as fsp
    >>> round(float(fsp.log_ndtr(0.0)), 4)
    -0.6931
    """
    return _unop(log_ndtr_p, _float_operand(x))


# ---------------------------------------------------------------------------------------
# The gamma family
# ---------------------------------------------------------------------------------------


def _polygamma_impl(x, *, n):
    xp = xp_of(x)
    out = _special_module(xp).polygamma(n, x)
    return out.astype(x.dtype) if out.dtype != x.dtype else out


def _polygamma_d(g, ans, x, *, n):
    return ew.multiply(g, polygamma(n + 1, x))


polygamma_p = Primitive("polygamma", _polygamma_impl)
polygamma_p.vjp = (_polygamma_d,)
polygamma_p.jvp = jvp_from_partials(polygamma_p, (_polygamma_d,))
polygamma_p.batch = elementwise_batch(polygamma_p)

lgamma_p = unary("lgamma", _sc("gammaln"), lambda ans, x: digamma(x))
digamma_p = unary("digamma", _sc("digamma"), lambda ans, x: polygamma(1, x))


def gammaln(x, /):
    """``log|Gamma(x)|``, elementwise; its derivative is :func:`digamma`.

    Args:
        x: array or scalar.

    Returns:
        ``log|Gamma(x)|``.

    >>> import funcgrad.scipy.special as fsp
    >>> fsp.gammaln(1.0)
    array(0., dtype=float32)
    """
    return _unop(lgamma_p, _float_operand(x))


def digamma(x, /):
    """The digamma function ``d/dx log Gamma(x)``; its derivative is ``polygamma(1, x)``.

    Args:
        x: array or scalar.

    Returns:
        ``psi(x)``.

    >>> import funcgrad.scipy.special as fsp
    >>> round(float(fsp.digamma(1.0)), 6)  # minus the Euler-Mascheroni constant
    -0.577216
    """
    return _unop(digamma_p, _float_operand(x))


def polygamma(n: int, x, /):
    """The ``n``-th derivative of :func:`digamma` (``polygamma(0, x) == digamma(x)``).

    Args:
        n: a static, non-negative Python integer order.
        x: array or scalar.

    Returns:
        ``psi^(n)(x)``.

    >>> import funcgrad.scipy.special as fsp
    >>> round(float(fsp.polygamma(1, 1.0)), 6)  # pi**2 / 6
    1.644934
    """
    if isinstance(n, Tracer) or isinstance(n, (float, np.floating)) or int(n) < 0:
        raise ValueError(f"polygamma: the order n must be a static non-negative integer, got {n!r}")
    n = int(n)
    x = _float_operand(x)
    if n == 0:
        return digamma(x)
    return bind(polygamma_p, x, n=n)


# ---------------------------------------------------------------------------------------
# x log y, x log(1 + y), entropy, logit
# ---------------------------------------------------------------------------------------


def _zero_where_both_zero(x, y, y0):
    """1 where ``x != 0`` or ``y != y0``, else 0 (a constant mask of ``x``'s dtype)."""
    keep = ew.logical_or(ew.not_equal(x, 0), ew.not_equal(y, y0))
    return keep.astype(_dtype(x, y))


def _dtype(*xs):
    for v in xs:
        if hasattr(v, "dtype") and v.dtype.kind in "fc":
            return v.dtype
    return backend.default_float()


def _xlogy_dx(g, ans, x, y):
    # d/dx x log y = log y; at x == y == 0 we use 0, so xlogy(0, 0) has a finite gradient.
    return ew.multiply(g, xlogy(_zero_where_both_zero(x, y, 0), y))


def _xlogy_dy(g, ans, x, y):
    # d/dy x log y = x / y, which is 0 wherever x == 0; y is replaced by 1 only at
    # x == y == 0 (no 0/0), keeping d/dx (x / y) = 1 / y exact at x == 0, y != 0.
    safe_y = ew.where(ew.logical_and(ew.equal(x, 0), ew.equal(y, 0)), 1, y)
    return ew.multiply(g, ew.divide(x, safe_y))


def _xlog1py_dx(g, ans, x, y):
    return ew.multiply(g, xlog1py(_zero_where_both_zero(x, y, -1), y))


def _xlog1py_dy(g, ans, x, y):
    safe_y = ew.where(ew.logical_and(ew.equal(x, 0), ew.equal(y, -1)), 0, y)
    return ew.multiply(g, ew.divide(x, ew.add(safe_y, 1)))


xlogy_p = binary("xlogy", _sc("xlogy"), _xlogy_dx, _xlogy_dy)
xlog1py_p = binary("xlog1py", _sc("xlog1py"), _xlog1py_dx, _xlog1py_dy)


def _entr_d(ans, x):
    # -(1 + log x) for x >= 0 (+inf at 0, as JAX and PyTorch); 0 where entr is -inf.
    log_x = xlogy(ew.where(ew.less(x, 0), 0, 1).astype(x.dtype), x)
    return ew.where(ew.less(x, 0), 0, ew.negative(ew.add(log_x, 1)))


entr_p = unary("entr", _sc("entr"), _entr_d)
logit_p = unary("logit", _sc("logit"),
                lambda ans, x: ew.reciprocal(ew.multiply(x, ew.subtract(1, x))))


def _binary_float(prim, x, y):
    x = x if type(x) in (int, float) else _float_operand(x)
    y = y if type(y) in (int, float) else _float_operand(y)
    if type(x) in (int, float) and type(y) in (int, float):
        x = backend.canonicalize(float(x))
    return _binop(prim, x, y)


def xlogy(x, y, /):
    """``x * log(y)``, defined as 0 wherever ``x == 0`` (even at ``y == 0``).

    Gradients: ``log(y)`` for ``x`` and ``x / y`` for ``y``, except that both are 0 at
    ``x == y == 0`` (and the ``y`` gradient is 0 wherever ``x == 0``), so expressions such as
    ``xlogy(p, p)`` stay finite at ``p == 0``.

    Args:
        x, y: arrays or scalars, broadcasting.

    Returns:
        ``x * log(y)`` with the convention above.

    >>> import funcgrad.scipy.special as fsp
    >>> import funcgrad.numpy as fnp
    >>> fsp.xlogy(fnp.array([0.0, 2.0]), fnp.array([0.0, 1.0]))
    array([0., 0.], dtype=float32)
    """
    return _binary_float(xlogy_p, x, y)


def xlog1py(x, y, /):
    """``x * log1p(y)``, defined as 0 wherever ``x == 0`` (even at ``y == -1``).

    Args:
        x, y: arrays or scalars, broadcasting.

    Returns:
        ``x * log(1 + y)``; gradients are finite at ``x == 0, y == -1`` as for :func:`xlogy`.

    >>> import funcgrad.scipy.special as fsp
    >>> import funcgrad.numpy as fnp
    >>> fsp.xlog1py(fnp.array([0.0, 1.0]), fnp.array([-1.0, 0.0]))
    array([0., 0.], dtype=float32)
    """
    return _binary_float(xlog1py_p, x, y)


def entr(x, /):
    """Elementwise entropy ``-x log x`` for ``x > 0``, 0 at 0 and ``-inf`` for ``x < 0``.

    The derivative ``-(1 + log x)`` is ``+inf`` at 0 (as JAX and PyTorch) and 0 for ``x < 0``.

    Args:
        x: array or scalar.

    Returns:
        ``-x log x``.

    >>> import funcgrad.scipy.special as fsp
    >>> import funcgrad.numpy as fnp
    >>> fsp.entr(fnp.array([0.0, -1.0]))
    array([  0., -inf], dtype=float32)
    """
    return _unop(entr_p, _float_operand(x))


def logit(p, /):
    """The log-odds ``log(p / (1 - p))``, the inverse of the logistic sigmoid.

    Args:
        p: probabilities in ``[0, 1]`` (``±inf`` at 1 and 0).

    Returns:
        ``log(p / (1 - p))``; its derivative is ``1 / (p (1 - p))``.

    >>> import funcgrad.scipy.special as fsp
    >>> fsp.logit(0.5)
    array(0., dtype=float32)
    """
    return _unop(logit_p, _float_operand(p))
