"""Special functions as elementwise primitives: ``logaddexp``, the error functions, the gamma
family, ``xlogy`` and friends.

On NumPy arrays, the error functions and the gamma family (``erf``, ``erfc``, ``erfinv``,
``ndtri``, ``log_ndtr``, ``gammaln``, ``digamma``, ``polygamma``) call ``scipy.special`` when
SciPy can be imported (it is imported on first use, so ``import funcgrad`` never needs it),
and otherwise pure-NumPy implementations defined here and in :mod:`funcgrad._src.prng` (which
holds ``erf``, ``erfc``, ``erfcx`` and their inverses for its samplers): SciPy is only an
optional speed-up. The NumPy versions work in float64 and agree with SciPy to a few units in
the last place where the functions are well conditioned (see ``tests/test_special_numpy.py``
for the measured bounds); they do not take complex arguments. ``xlogy``, ``xlog1py``,
``entr`` and ``logit`` are short NumPy expressions and never use SciPy; ``logaddexp`` is
NumPy's. On CuPy arrays everything calls ``cupyx.scipy.special``. Derivatives are written
with funcgrad operations, so every function here can be differentiated again.

Conventions at the edges follow JAX and SciPy: ``xlogy(0, y) == 0`` for every ``y`` but NaN,
and the derivatives are chosen so that ``xlogy(0, 0)`` has a finite gradient (see
:func:`xlogy`). The NumPy implementations return what SciPy returns at zeros, poles,
infinities and NaN.
"""

from __future__ import annotations

import functools
import math
import sys
from fractions import Fraction

import numpy as np

from funcgrad._src import backend, prng
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops.elementwise import _binop, _unop
from funcgrad._src.ops.rules import binary, elementwise_batch, jvp_from_partials, unary

_LN2 = math.log(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT2 = math.sqrt(2.0)
_SQRT_HALF = math.sqrt(0.5)
_LOG_PI = math.log(math.pi)
_EULER_GAMMA = 0.57721566490153286061

# Whether NumPy arrays may go to scipy.special; the NumPy implementations are used when this
# is False or SciPy cannot be imported (the tests switch it off to exercise them).
_USE_SCIPY = True
_SCIPY_MISSING = False  # set once importing SciPy has failed (then it is not retried)


def _scipy_special():
    """``scipy.special``, or ``None`` if SciPy cannot be imported (or ``_USE_SCIPY`` is off).

    A successful import is not cached (importing an imported module is a dictionary
    look-up); a failed one is, since a failed import searches the path again each time,
    unless the failure comes from a ``None`` placed in ``sys.modules`` (how tests hide
    SciPy for a while).
    """
    global _SCIPY_MISSING
    if not _USE_SCIPY or _SCIPY_MISSING:
        return None
    try:
        import scipy.special as sc
    except ImportError:
        if all(sys.modules.get(m, 0) is not None for m in ("scipy", "scipy.special")):
            _SCIPY_MISSING = True
        return None
    return sc


def _cupy_special():
    import cupyx.scipy.special as csc  # type: ignore[import-not-found]

    return csc


def _special(name: str, numpy_impl, *, use_scipy: bool = True):
    """Implementation ``f(*arrays)``: ``cupyx.scipy.special.<name>`` on CuPy arrays; on NumPy
    arrays ``scipy.special.<name>`` if ``use_scipy`` and SciPy is available, else ``numpy_impl``.
    The result keeps the arguments' float dtype."""

    def impl(*xs):
        xp = xp_of(*xs)
        if xp is np:
            sc = _scipy_special() if use_scipy else None
            out = numpy_impl(*xs) if sc is None else getattr(sc, name)(*xs)
        else:
            out = getattr(_cupy_special(), name)(*xs)
        dtype = xp.result_type(*xs)
        if out.dtype == dtype or dtype.kind not in "fc":
            return out
        with np.errstate(over="ignore"):  # float64 results beyond float32's range: inf
            return out.astype(dtype)

    impl.__name__ = name
    return impl


from funcgrad._src.ops.creation import as_inexact as _float_operand  # noqa: E402

# ---------------------------------------------------------------------------------------
# NumPy implementations (float64 inside; used without SciPy)
# ---------------------------------------------------------------------------------------
# Written for this module from the series and identities quoted in the comments; the
# constants that are not exact rationals were computed with mpmath at 50 digits.


def _check_real(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind == "c":
        raise TypeError(f"{name} of complex arguments needs SciPy (pip install scipy)")
    return x


def _real_float64(x, name: str) -> tuple[np.ndarray, tuple, np.dtype]:
    """``x`` as a flat float64 copy, with its shape and the float dtype of the result."""
    x = _check_real(x, name)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return x.astype(np.float64).ravel(), x.shape, dtype


def _to_dtype(out: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """``out`` reshaped and cast (to float32, values beyond its range become ``inf``)."""
    with np.errstate(over="ignore"):
        return out.reshape(shape).astype(dtype)


def _bernoulli(m: int) -> list[Fraction]:
    """The Bernoulli numbers ``B_0 .. B_m`` (``B_1 = -1/2``), exactly, from
    ``sum_{k <= j} C(j + 1, k) B_k = 0`` for ``j >= 1``."""
    b = [Fraction(1)]
    for j in range(1, m + 1):
        b.append(-sum(math.comb(j + 1, k) * b[k] for k in range(j)) / (j + 1))
    return b


_B = _bernoulli(24)

# Stirling's series, for x >= 10 (the first omitted terms are below 4e-18 there):
#   log Gamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + sum_k B_2k / (2k (2k - 1) x^(2k-1)),
#   psi(x) = log x - 1/(2x) - sum_k B_2k / (2k x^2k).
# Coefficients highest first, for np.polyval in 1/x**2.
_ASYMPTOTIC = 10.0
_STIRLING = tuple(float(_B[2 * k] / (2 * k * (2 * k - 1))) for k in range(8, 0, -1))
_DIGAMMA_ASYMPTOTIC = tuple(float(_B[2 * k] / (2 * k)) for k in range(8, 0, -1))

# log Gamma(2 + z) = (1 - euler_gamma) z + sum_{k>=2} (-1)^k (zeta(k) - 1) / k z^k, the
# Taylor series about 2 (radius 2). For |z| <= 1/2 the terms fall like 4^-k / k. These are
# (-1)^k (zeta(k) - 1) / k for k = 28 .. 2 (mpmath), then the linear coefficient.
_LGAMMA2_TAYLOR = (
    1.330476437424449e-10, -2.7595228851242334e-10, 5.731367241678862e-10,
    -1.1921401405860912e-09, 2.4836745438024785e-09, -5.183475041970047e-09,
    1.0838659214896955e-08, -2.2711094608943164e-08, 4.7698101693639804e-08,
    -1.0043224823968099e-07, 2.1207184805554665e-07, -4.492469198764566e-07,
    9.55141213040742e-07, -2.039215753801366e-06, 4.374866789907488e-06,
    -9.439488275268397e-06, 2.050721277567069e-05, -4.492623673813314e-05,
    9.945751278180853e-05, -0.00022315475845357939, 0.0005096695247430425,
    -0.001192753911703261, 0.0028905103307415234, -0.007385551028673986,
    0.020580808427784546, -0.0673523010531981, 0.3224670334241132,
    1 - _EULER_GAMMA,
)

# psi has its only positive zero at x0 = 1.4616321449683623412626595423257213284681962...
# (x0 = hi + lo in two doubles). Near it, psi(x) = sum_k psi^(k)(x0) / k! (x - x0)^k, a
# Taylor series of radius x0; these are psi^(k)(x0) / k! for k = 17 .. 1 (mpmath). Used for
# |x - x0| < 0.125, where the terms fall faster than 0.09^k.
_DIGAMMA_ROOT_HI = 1.4616321449683622
_DIGAMMA_ROOT_LO = 9.549995429965697e-17
_DIGAMMA_ROOT_RADIUS = 0.125
_DIGAMMA_ROOT_TAYLOR = (
    0.0010788252019162967, -0.0015769367714301972, 0.002305126326734928,
    -0.003369801655439328, 0.004926781395729853, -0.007204534386356869,
    0.010538791616612175, -0.01542476590494896, 0.022597648232218104,
    -0.03316112647484736, 0.04880428816414311, -0.07219956125645471,
    0.10782405069126237, -0.16394270544240652, 0.258499760955651,
    -0.4427631689835921, 0.9676722454476212,
)


def _apply(out: np.ndarray, mask: np.ndarray, fn, v: np.ndarray) -> None:
    """``out[mask] = fn(v[mask])``, skipping empty subsets (cheap on small arrays)."""
    if mask.any():
        out[mask] = fn(v[mask])


def _lgamma_stirling(a: np.ndarray) -> np.ndarray:
    inv = 1 / a
    out = (a - 0.5) * np.log(a) - a + _LOG_SQRT_2PI + inv * np.polyval(_STIRLING, inv * inv)
    return np.where(a == np.inf, np.inf, out)


def _lgamma2(z: np.ndarray) -> np.ndarray:
    """``log Gamma(2 + z)`` for ``|z| <= 1/2``."""
    return z * np.polyval(_LGAMMA2_TAYLOR, z)


def _lgamma_shifted(z: np.ndarray) -> np.ndarray:
    """``log Gamma(z)`` for ``1.5 <= z < 10``: ``Gamma(z) = (z - 1) Gamma(z - 1)`` down to
    ``[1.5, 2.5)`` (each ``z - 1`` is exact), then the series about 2."""
    prod = np.ones_like(z)
    for _ in range(8):
        down = z >= 2.5
        prod = np.where(down, prod * (z - 1), prod)
        z = np.where(down, z - 1, z)
    return _lgamma2(z - 2) + np.log(prod)


def _lgamma_right(v: np.ndarray) -> np.ndarray:
    """``log|Gamma(v)|`` for ``v > -1/2`` (1-d float64; NaN elsewhere)."""
    out = np.full_like(v, np.nan)
    _apply(out, v >= _ASYMPTOTIC, _lgamma_stirling, v)
    _apply(out, (v >= 1.5) & (v < _ASYMPTOTIC), _lgamma_shifted, v)
    # log Gamma(1 + z) = log Gamma(2 + z) - log1p(z), with z = v - 1 exact on [0.5, 1.5)
    _apply(out, (v >= 0.5) & (v < 1.5), lambda w: _lgamma2(w - 1) - np.log1p(w - 1), v)
    # log|Gamma(z)| = log Gamma(1 + z) - log|z|
    _apply(out, (v > -0.5) & (v < 0.5),
           lambda z: _lgamma2(z) - np.log1p(z) - np.log(np.abs(z)), v)
    return out


def _sinpi_cotpi_arg(w: np.ndarray) -> np.ndarray:
    """``w - round(w)`` (exact): ``sin(pi w)`` and ``cot(pi w)`` depend only on it, up to sign."""
    return w - np.round(w)


def _cotpi(r: np.ndarray) -> np.ndarray:
    """``cot(pi r)`` for ``|r| <= 1/2``. Near ``|r| = 1/2`` it is ``tan(pi (1/2 - |r|))``, whose
    argument is exact: ``1 / tan(pi r)`` would turn the rounding of ``pi r`` into a large
    relative error there, where the cotangent is small."""
    a = np.abs(r)
    return np.copysign(np.where(a <= 0.25, 1 / np.tan(np.pi * a), np.tan(np.pi * (0.5 - a))), r)


def _lgamma_reflected(w: np.ndarray) -> np.ndarray:
    """``log|Gamma(w)|`` for ``w <= -1/2`` from ``Gamma(w) Gamma(1 - w) = pi / sin(pi w)``:
    ``+inf`` at the poles, and ``-inf`` at ``-inf`` as SciPy."""
    r = _sinpi_cotpi_arg(w)
    out = _LOG_PI - np.log(np.abs(np.sin(np.pi * r))) - _lgamma_right(1 - w)
    return np.where(w == -np.inf, -np.inf, np.where(r == 0, np.inf, out))


def _gammaln_numpy(x) -> np.ndarray:
    """``log|Gamma(x)|``; ``+inf`` at the poles ``0, -1, -2, ...``."""
    v, shape, dtype = _real_float64(x, "gammaln")
    with np.errstate(all="ignore"):
        out = _lgamma_right(v)
        _apply(out, v <= -0.5, _lgamma_reflected, v)
    return _to_dtype(out, shape, dtype)


def _digamma_asymptotic(a: np.ndarray) -> np.ndarray:
    inv2 = 1 / (a * a)
    return np.log(a) - 0.5 / a - inv2 * np.polyval(_DIGAMMA_ASYMPTOTIC, inv2)


def _digamma_root(v: np.ndarray) -> np.ndarray:
    dx = (v - _DIGAMMA_ROOT_HI) - _DIGAMMA_ROOT_LO
    return dx * np.polyval(_DIGAMMA_ROOT_TAYLOR, dx)


def _digamma_shifted(w: np.ndarray) -> np.ndarray:
    """``psi(w) = psi(w + n) - sum_{k<n} 1 / (w + k)`` with ``w + n >= 10`` (``-1/2 < w < 10``).
    ``1 / w`` keeps the sign of zero: ``-inf`` at ``+0``, ``+inf`` at ``-0``."""
    total, n = 1 / w, np.ones_like(w)
    for k in range(1, 11):
        up = w + k < _ASYMPTOTIC
        total += np.where(up, 1 / (w + k), 0)
        n += up
    return _digamma_asymptotic(w + n) - total


def _digamma_right(v: np.ndarray) -> np.ndarray:
    """``psi(v)`` for ``v > -1/2`` (1-d float64; NaN elsewhere)."""
    out = np.full_like(v, np.nan)
    big = v >= _ASYMPTOTIC
    near = np.abs(v - _DIGAMMA_ROOT_HI) < _DIGAMMA_ROOT_RADIUS
    _apply(out, big, _digamma_asymptotic, v)
    _apply(out, near, _digamma_root, v)
    _apply(out, ~big & ~near & (v > -0.5), _digamma_shifted, v)
    return out


def _digamma_reflected(w: np.ndarray) -> np.ndarray:
    """``psi(w) = psi(1 - w) - pi cot(pi w)`` for ``w <= -1/2``; NaN at the poles and ``-inf``."""
    r = _sinpi_cotpi_arg(w)
    return np.where(r == 0, np.nan, _digamma_right(1 - w) - np.pi * _cotpi(r))


def _digamma_numpy(x) -> np.ndarray:
    """``psi(x)``, with SciPy's values at the poles: ``-inf`` at ``+0``, ``+inf`` at ``-0``, NaN
    at the negative integers."""
    v, shape, dtype = _real_float64(x, "digamma")
    with np.errstate(all="ignore"):
        out = _digamma_right(v)
        _apply(out, v <= -0.5, _digamma_reflected, v)
    return _to_dtype(out, shape, dtype)


@functools.lru_cache(maxsize=64)
def _hurwitz_plan(s: int) -> tuple[float, tuple[float, ...]]:
    """``(A, coefficients)`` for the Euler-Maclaurin tail of ``zeta(s, a) = sum_k (a + k)^-s``
    at ``a >= A``: ``zeta(s, a) = a^(1-s) (1/(s-1) + (1/2 + sum_j c_j a^(1-2j)) / a)`` with
    ``c_j = B_2j / (2j)! * s (s+1) ... (s+2j-2)``, ``j = 1 .. 10`` (highest first). ``A >= 10``
    is chosen so that the first omitted term is below ``1e-17`` of the leading one."""
    terms = 10
    c, rising = [], Fraction(s)
    for j in range(1, terms + 2):
        c.append(_B[2 * j] / math.factorial(2 * j) * rising)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    bound = abs(float(c[terms] * (s - 1)))
    start = max(_ASYMPTOTIC, math.ceil((bound / 1e-17) ** (1 / (2 * terms + 2))))
    return float(start), tuple(float(v) for v in reversed(c[:terms]))


def _hurwitz_zeta(s: int, v: np.ndarray) -> np.ndarray:
    """``zeta(s, v) = sum_{k>=0} (v + k)^-s`` for an integer ``s >= 2`` and ``v > -1/2`` (also
    negative non-integers): the first terms directly, until ``v + n >= A``, then the tail."""
    start, coeffs = _hurwitz_plan(s)
    total, n = np.zeros_like(v), np.zeros_like(v)
    for k in range(math.ceil(start + 0.5)):
        a = v + k
        up = a < start
        if not up.any():
            break
        total += np.where(up, a ** -s, 0)
        n += up
    a = v + n
    inv = 1 / a
    tail = a ** (1 - s) * (1 / (s - 1) + inv * (0.5 + inv * np.polyval(coeffs, inv * inv)))
    return total + tail


@functools.lru_cache(maxsize=64)
def _cot_derivative(n: int) -> tuple[float, ...]:
    """``P_n`` with ``d^n/dy^n cot(y) = P_n(cot y)`` (highest coefficient first), from
    ``P_0(c) = c`` and ``P_{k+1}(c) = -(1 + c^2) P_k'(c)``; integer coefficients."""
    p = [0, 1]  # lowest first
    for _ in range(n):
        dp = [i * p[i] for i in range(1, len(p))] + [0, 0]
        p = [-(dp[i] + (dp[i - 2] if i >= 2 else 0)) for i in range(len(dp))]
    while len(p) > 1 and p[-1] == 0:
        p.pop()
    return tuple(float(v) for v in reversed(p))


def _polygamma_numpy(n: int, x) -> np.ndarray:
    """``psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x)`` for ``n >= 1``; for ``x <= -1/2`` by
    ``psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x))`` (the reflection
    formula differentiated ``n`` times). ``(-1)^(n+1) inf`` at the poles, as SciPy."""
    v, shape, dtype = _real_float64(x, "polygamma")
    sign = 1.0 if n % 2 else -1.0  # (-1)^(n+1)
    scale = sign * (float(math.factorial(n)) if n <= 170 else math.inf)

    def reflected(w):
        r = _sinpi_cotpi_arg(w)
        out = (-sign * scale * _hurwitz_zeta(n + 1, 1 - w)
               - np.pi ** (n + 1) * np.polyval(_cot_derivative(n), _cotpi(r)))
        return np.where((r == 0) | np.isnan(r), sign * np.inf, out)

    with np.errstate(all="ignore"):
        out = np.full_like(v, np.nan)
        _apply(out, v > -0.5, lambda w: scale * _hurwitz_zeta(n + 1, w), v)
        _apply(out, v <= -0.5, reflected, v)
        out[v == 0] = sign * np.inf
    return _to_dtype(out, shape, dtype)


def _ndtri_numpy(p) -> np.ndarray:
    """``ndtri(p) = -sqrt(2) erfcinv(2 p)`` (``2 p`` is exact)."""
    v, shape, dtype = _real_float64(p, "ndtri")
    out = -_SQRT2 * prng.erfcinv(2 * v) + 0.0  # + 0.0: no -0.0 at p = 1/2
    return _to_dtype(out, shape, dtype)


def _log_ndtr_numpy(x) -> np.ndarray:
    """``log Phi(x)``: ``log(erfcx(-x/sqrt 2) / 2) - x^2/2`` below 0, which neither underflows
    nor loses digits however negative ``x`` is, and ``log1p(-erfc(x/sqrt 2) / 2)`` above."""
    v, shape, dtype = _real_float64(x, "log_ndtr")
    out = np.empty_like(v)
    with np.errstate(all="ignore"):
        neg = v < 0
        _apply(out, neg, lambda w: np.log(0.5 * prng.erfcx(-_SQRT_HALF * w)) - 0.5 * w * w, v)
        _apply(out, ~neg, lambda w: np.log1p(-0.5 * prng.erfc(_SQRT_HALF * w)), v)
    return _to_dtype(out, shape, dtype)


def _erf_numpy(x) -> np.ndarray:
    return prng.erf(_check_real(x, "erf"))


def _erfc_numpy(x) -> np.ndarray:
    return prng.erfc(_check_real(x, "erfc"))


def _erfinv_numpy(x) -> np.ndarray:
    return prng.erfinv(_check_real(x, "erfinv"))


def _complex_log1p(y: np.ndarray) -> np.ndarray:
    """``log(1 + y)`` for complex ``y``, keeping the real part's digits for small ``|y|``."""
    a, b = y.real, y.imag
    small = np.abs(y) < 1
    re = np.where(small, 0.5 * np.log1p(a * (2 + a) + b * b), np.log(np.abs(1 + y)))
    return re + 1j * np.arctan2(b, 1 + a)


def _xlogy_numpy(x, y) -> np.ndarray:
    """``x * log(y)``, exactly 0 where ``x == 0`` unless ``y`` is NaN (as SciPy)."""
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(all="ignore"):
        out = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), 0, out)


def _xlog1py_numpy(x, y) -> np.ndarray:
    """``x * log1p(y)``, exactly 0 where ``x == 0`` unless ``y`` is NaN (as SciPy)."""
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(all="ignore"):
        out = x * (_complex_log1p(y) if y.dtype.kind == "c" else np.log1p(y))
    return np.where((x == 0) & ~np.isnan(y), 0, out)


def _entr_numpy(x) -> np.ndarray:
    """``-x log x`` for ``x > 0``, 0 at 0, ``-inf`` below 0, NaN at NaN (as SciPy)."""
    x = np.asarray(x)
    if x.dtype.kind == "c":
        raise TypeError("entr is defined for real arguments only")
    with np.errstate(all="ignore"):
        out = -x * np.log(x)
    return np.where(x == 0, 0, np.where(x < 0, -np.inf, out))


def _logit_numpy(p) -> np.ndarray:
    """``log(p / (1 - p))``; ``2 atanh(2p - 1)`` (with ``2p - 1`` exact) on (1/4, 3/4),
    where the quotient's logarithm would be small. NaN outside ``[0, 1]``."""
    p = np.asarray(p)
    if p.dtype.kind == "c":
        raise TypeError("logit is defined for real arguments only")
    with np.errstate(all="ignore"):
        mid = (p > 0.25) & (p < 0.75)
        return np.where(mid, 2 * np.arctanh(2 * p - 1), np.log(p / (1 - p)))


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

erf_p = unary("erf", _special("erf", _erf_numpy),
              lambda ans, x: ew.multiply(_TWO_OVER_SQRT_PI, ew.exp(ew.negative(ew.square(x)))))
erfc_p = unary("erfc", _special("erfc", _erfc_numpy),
               lambda ans, x: ew.multiply(-_TWO_OVER_SQRT_PI, ew.exp(ew.negative(ew.square(x)))))
# d/dx erfinv(x) = sqrt(pi)/2 * exp(erfinv(x)^2)
erfinv_p = unary("erfinv", _special("erfinv", _erfinv_numpy),
                 lambda ans, x: ew.multiply(_SQRT_PI_OVER_2, ew.exp(ew.square(ans))))
# d/dp ndtri(p) = 1 / pdf(ndtri(p)) = sqrt(2 pi) exp(ans^2 / 2)
ndtri_p = unary("ndtri", _special("ndtri", _ndtri_numpy),
                lambda ans, x: ew.exp(ew.add(ew.multiply(0.5, ew.square(ans)), _LOG_SQRT_2PI)))
# d/dx log Phi(x) = pdf(x) / Phi(x) = exp(-x^2/2 - log sqrt(2 pi) - ans)
log_ndtr_p = unary("log_ndtr", _special("log_ndtr", _log_ndtr_numpy),
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
    if xp is np:
        sc = _scipy_special()
        out = _polygamma_numpy(n, x) if sc is None else sc.polygamma(n, x)
    else:
        out = _cupy_special().polygamma(n, x)
    if out.dtype == x.dtype:
        return out
    with np.errstate(over="ignore"):
        return out.astype(x.dtype)


def _polygamma_d(g, ans, x, *, n):
    return ew.multiply(g, polygamma(n + 1, x))


polygamma_p = Primitive("polygamma", _polygamma_impl)
polygamma_p.vjp = (_polygamma_d,)
polygamma_p.jvp = jvp_from_partials(polygamma_p, (_polygamma_d,))
polygamma_p.batch = elementwise_batch(polygamma_p)

lgamma_p = unary("lgamma", _special("gammaln", _gammaln_numpy), lambda ans, x: digamma(x))
digamma_p = unary("digamma", _special("digamma", _digamma_numpy), lambda ans, x: polygamma(1, x))


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


xlogy_p = binary("xlogy", _special("xlogy", _xlogy_numpy, use_scipy=False), _xlogy_dx, _xlogy_dy)
xlog1py_p = binary("xlog1py", _special("xlog1py", _xlog1py_numpy, use_scipy=False),
                   _xlog1py_dx, _xlog1py_dy)


def _entr_d(ans, x):
    # -(1 + log x) for x >= 0 (+inf at 0, as JAX and PyTorch); 0 where entr is -inf.
    log_x = xlogy(ew.where(ew.less(x, 0), 0, 1).astype(x.dtype), x)
    return ew.where(ew.less(x, 0), 0, ew.negative(ew.add(log_x, 1)))


entr_p = unary("entr", _special("entr", _entr_numpy, use_scipy=False), _entr_d)
logit_p = unary("logit", _special("logit", _logit_numpy, use_scipy=False),
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
