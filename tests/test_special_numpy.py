"""The NumPy implementations of the special functions, used when SciPy is not installed.

Three parts:

(a) Each NumPy implementation against ``scipy.special`` (skipped without SciPy) over wide
    ranges: both tails, zeros, tiny (to 1e-300) and huge arguments, negatives, points close
    to the poles of ``gammaln``/``digamma``/``polygamma`` and close to the zeros of the functions,
    ``erfinv`` near ``+-1``; float64 and float32. A value passes when

        |ours - scipy| <= rtol * |scipy| + ctol * |x * f'(x)|,

    i.e. within ``rtol`` relative, or within what a relative change of ``ctol`` in ``x``
    moves the function (this second term only matters where ``f`` is ill-conditioned:
    near its zeros and poles, and in the tails of ``erfc``/``log_ndtr``, where SciPy itself
    is off by ``~x**2 eps``). float64: ``rtol = 1e-13``, ``ctol = 1e-15``; float32:
    ``rtol = 4e-7`` (3 float32 ulps), ``ctol = 1e-7``. Where the function is well conditioned
    the float64 errors measured are below 4e-15 (a few ulps); the float32 results are the
    float64 ones rounded, within 2 ulps of SciPy's. Infinities, NaN and zeros must agree
    exactly (SciPy's conventions at poles and edges are kept). Subnormal arguments are left
    out where SciPy is inexact or flushes them (``gammaln``, ``erfcinv``/``ndtri``); the
    NumPy versions are checked there against ``math`` or exact values instead.

(b) With SciPy hidden (``sys.modules["scipy"] = None``), the public functions, their
    gradients, ``fg.nn.gelu(x, approximate=False)`` and the ``funcgrad_nn`` GELU module run,
    and match Python's ``math`` module and exact identities.

(c) ``funcgrad.testing.check_grads`` through the NumPy implementations.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.special as fsp
from funcgrad import nn
from funcgrad._src.ops import special as S
from funcgrad.testing import check_grads
from funcgrad_nn.modules import GELU

EULER_GAMMA = 0.57721566490153286061
ZETA3 = 1.2020569031595942854
TOL = {np.float64: (1e-13, 1e-15), np.float32: (4e-7, 1e-7)}
EDGES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])


@pytest.fixture
def no_scipy(monkeypatch):
    """Make ``import scipy`` fail, as on an install without SciPy."""
    missing = S._SCIPY_MISSING
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    assert S._scipy_special() is None
    yield
    assert S._SCIPY_MISSING == missing  # a hidden SciPy is not remembered as missing


def _sym(a):
    a = np.asarray(a, np.float64)
    return np.concatenate([a, -a])


def _not_integer(a):
    a = np.asarray(a, np.float64)
    return a[a != np.round(a)]


def _near(centres, offsets):
    """Points ``c +- d`` for every centre and offset."""
    return np.add.outer(centres, _sym(offsets)).ravel()


# ---------------------------------------------------------------------------------------
# (a) against scipy.special
# ---------------------------------------------------------------------------------------

_WIDE = np.geomspace(1e-300, 1e300, 601)  # normal numbers only (see the notes on subnormals)
_POLES = -np.arange(1.0, 41.0)


def _cases(sc):
    """``name: (ours, scipy's, derivative for the conditioning term, float64 arguments)``."""
    root = 1.4616321449683623  # digamma's positive zero
    lgamma_zeros = np.array([-2.457024738220, -2.747682646727, -3.143580888778,
                             -3.955294284858, -4.039361839740])
    return {
        "erf": (S._erf_numpy, sc.erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-x * x),
                np.concatenate([np.linspace(-8, 8, 3201), _sym(_WIDE[:400]),
                                _sym(np.linspace(0.45, 0.55, 101)), _sym([27.0, 1e10])])),
        "erfc": (S._erfc_numpy, sc.erfc, lambda x: -2 / np.sqrt(np.pi) * np.exp(-x * x),
                 np.concatenate([np.linspace(-10, 27.2, 3721), _sym(_WIDE[:400]),
                                 _sym(np.linspace(0.45, 0.55, 101)), [-1e10, 1e10]])),
        "erfinv": (S._erfinv_numpy, sc.erfinv,
                   lambda y: np.sqrt(np.pi) / 2 * np.exp(sc.erfinv(y) ** 2),
                   np.concatenate([np.linspace(-1, 1, 2001),
                                   _sym(1 - np.geomspace(1e-16, 0.5, 200)),
                                   _sym(np.geomspace(1e-300, 0.5, 200)), [1.5, -3.0]])),
        "ndtri": (S._ndtri_numpy, sc.ndtri,
                  lambda p: np.sqrt(2 * np.pi) * np.exp(sc.ndtri(p) ** 2 / 2),
                  np.concatenate([np.linspace(0, 1, 2001), np.geomspace(1e-300, 0.5, 400),
                                  1 - np.geomspace(1e-16, 0.5, 200), [-0.5, 1.5]])),
        "log_ndtr": (S._log_ndtr_numpy, sc.log_ndtr,
                     lambda x: np.exp(-x * x / 2 - 0.5 * np.log(2 * np.pi) - sc.log_ndtr(x)),
                     np.concatenate([np.linspace(-40, 38, 3121), -np.geomspace(1, 1e150, 300),
                                     _sym(_WIDE[:400])])),
        "gammaln": (S._gammaln_numpy, sc.gammaln, sc.digamma,
                    np.concatenate([_WIDE, np.linspace(0.01, 30, 3000),
                                    _near([1.0, 2.0], np.geomspace(1e-15, 0.3, 60)),
                                    _not_integer(-np.linspace(0.01, 60, 4001)),
                                    _near(_POLES, np.geomspace(1e-13, 0.4, 30)),
                                    _near(lgamma_zeros, np.geomspace(1e-12, 1e-3, 10)),
                                    -_WIDE[:330]])),
        "digamma": (S._digamma_numpy, sc.digamma, lambda x: sc.polygamma(1, x),
                    np.concatenate([_WIDE, np.linspace(0.01, 30, 3000),
                                    _near([root], np.geomspace(1e-15, 0.5, 100)),
                                    _not_integer(-np.linspace(0.01, 60, 4001)),
                                    _near(_POLES, np.geomspace(1e-13, 0.4, 30)),
                                    -_WIDE[:330]])),
        **{f"polygamma{n}": (
            lambda x, n=n: S._polygamma_numpy(n, x), lambda x, n=n: sc.polygamma(n, x),
            lambda x, n=n: sc.polygamma(n + 1, x),
            np.concatenate([np.geomspace(1e-50, 1e50, 601), np.linspace(0.01, 40, 2000),
                            _not_integer(-np.linspace(0.01, 40, 2001)),
                            _near(_POLES[:20], np.geomspace(1e-10, 0.4, 20))]))
           for n in (1, 2, 3, 5)},
        "entr": (S._entr_numpy, sc.entr, lambda x: -(1 + np.log(x)),
                 np.concatenate([np.linspace(-1, 5, 601), _WIDE, [-1e-300, -np.inf]])),
        "logit": (S._logit_numpy, sc.logit, lambda p: 1 / (p * (1 - p)),
                  np.concatenate([np.linspace(0, 1, 2001), np.geomspace(1e-300, 0.5, 300),
                                  1 - np.geomspace(1e-16, 0.5, 200), [-0.1, 1.1]])),
    }


def _scipy_cases():
    sc = pytest.importorskip("scipy.special")
    return sc, _cases(sc)


def _errors(ours, ref, x, dfdx, dtype):
    """Per-element ``|ours - ref| / (rtol |ref| + ctol |x f'(x)|)`` (pass: <= 1), where
    ``ref`` is finite; plus the mask of points where non-finite values or zeros disagree."""
    rtol, ctol = TOL[dtype]
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    finite = np.isfinite(ref) & np.isfinite(ours)
    with np.errstate(all="ignore"):
        diff = np.where(finite, np.abs(ours - ref), 0.0)
        cond = np.nan_to_num(np.abs(x * dfdx), nan=0.0, posinf=np.inf)
        scale = rtol * np.abs(ref) + ctol * cond
        err = np.where(scale > 0, diff / np.where(scale > 0, scale, 1), np.where(diff, np.inf, 0))
    # Below the normal range SciPy rounds some results to 0 (erfc, ...): allow an absolute
    # error of the smallest normal number there.
    tiny = np.finfo(dtype).tiny
    err = np.where((diff <= tiny) & (np.abs(ref) < tiny), 0.0, err)
    mismatch = ~finite & ~((ours == ref) | (np.isnan(ours) & np.isnan(ref)))
    return err, mismatch


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "ndtri", "log_ndtr", "gammaln",
                                  "digamma", "polygamma1", "polygamma2", "polygamma3",
                                  "polygamma5", "entr", "logit"])
def test_numpy_implementation_matches_scipy(name, dtype):
    sc, cases = _scipy_cases()
    ours_f, ref_f, deriv, x = cases[name]
    with np.errstate(over="ignore"):  # float32: huge arguments become inf
        x = np.concatenate([x, EDGES]).astype(dtype)
    if dtype == np.float32:  # drop what float32 turned into subnormals (SciPy flushes them)
        x = x[~((x != 0) & (np.abs(x) < np.finfo(np.float32).tiny))]
    with np.errstate(all="ignore"):
        ref = np.asarray(ref_f(x)).astype(dtype)  # (SciPy's polygamma returns float64)
        dfdx = deriv(x.astype(np.float64))
    ours = ours_f(x)
    assert ours.dtype == dtype and ours.shape == x.shape
    err, mismatch = _errors(ours, ref, x.astype(np.float64), dfdx, dtype)
    assert not mismatch.any(), list(zip(x[mismatch], ours[mismatch], ref[mismatch]))
    worst = np.argmax(err)
    assert err[worst] <= 1, (x[worst], ours[worst], ref[worst], err[worst])


def test_numpy_implementation_signs_of_zero_and_nan():
    np.testing.assert_array_equal(np.signbit(S._erf_numpy(np.array([0.0, -0.0]))), [False, True])
    np.testing.assert_array_equal(np.signbit(S._erfinv_numpy(np.array([0.0, -0.0]))),
                                  [False, True])
    assert not np.signbit(S._ndtri_numpy(np.array(0.5)))
    np.testing.assert_array_equal(S._digamma_numpy(np.array([0.0, -0.0, -3.0, -np.inf])),
                                  [-np.inf, np.inf, np.nan, np.nan])
    np.testing.assert_array_equal(S._gammaln_numpy(np.array([0.0, -0.0, -3.0, np.inf])),
                                  [np.inf] * 4)
    np.testing.assert_array_equal(S._polygamma_numpy(2, np.array([0.0, -4.0, np.inf])),
                                  [-np.inf, -np.inf, -0.0])
    # Subnormal arguments: gammaln(x) = -log(x) there (SciPy overflows to inf), and ndtri
    # inverts log_ndtr down to the smallest double (SciPy's ndtri is off by ~1e-7 there).
    assert S._gammaln_numpy(np.array(1e-320)) == pytest.approx(-math.log(1e-320), rel=1e-15)
    p = np.array([1e-310, 5e-321, 5e-324])
    np.testing.assert_allclose(S._log_ndtr_numpy(S._ndtri_numpy(p)), np.log(p), rtol=1e-14)


def test_erfc_tail_keeps_full_precision():
    # erfc(x) = exp(-x^2) erfcx(x) with x^2 split exactly: no ~x^2 eps loss (SciPy's is
    # ~6e-14 at x = 26). Values by the asymptotic series, summed far past double precision.
    for x in (10.0, 20.0, 26.0):
        s, term = 1.0, 1.0
        for k in range(1, 60):
            term *= -(2 * k - 1) / (2 * x * x)
            s += term
            if abs(term) < 1e-25:
                break
        exact = math.exp(-x * x) / (x * math.sqrt(math.pi)) * s
        assert S._erfc_numpy(np.array(x)) == pytest.approx(exact, rel=2e-15)
        assert math.erfc(x) == pytest.approx(exact, rel=2e-15)


def test_complex_xlogy_xlog1py_match_scipy():
    sc = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(0)
    x = rng.normal(size=200) + 1j * rng.normal(size=200)
    y = np.concatenate([rng.normal(size=100) + 1j * rng.normal(size=100),
                        1e-8 * (rng.normal(size=100) + 1j * rng.normal(size=100))])
    np.testing.assert_allclose(S._xlogy_numpy(x, y), sc.xlogy(x, y), rtol=1e-14)
    np.testing.assert_allclose(S._xlog1py_numpy(x, y), sc.xlog1py(x, y), rtol=1e-13)
    assert S._xlogy_numpy(np.complex128(0), np.complex128(0)) == 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_xlogy_xlog1py_match_scipy(dtype):
    sc = pytest.importorskip("scipy.special")
    tiny, big = np.finfo(dtype).tiny, np.finfo(dtype).max
    xs = np.array([0.0, -0.0, 1.5, -2.0, tiny, big, np.inf, -np.inf, np.nan], dtype)
    ys = np.array([0.0, -0.0, tiny, 1e-20, 0.5, 1.0, 2.0, big, np.inf, -np.inf, -1.0,
                   -0.5, -1e-20, -2.0, np.nan], dtype)
    x, y = np.meshgrid(xs, ys)
    rtol = 1e-15 if dtype == np.float64 else 1e-7
    for ours, ref in [(S._xlogy_numpy, sc.xlogy), (S._xlog1py_numpy, sc.xlog1py)]:
        with np.errstate(all="ignore"):
            want = ref(x, y)
        got = ours(x, y)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
        np.testing.assert_array_equal(np.signbit(got[got == 0]), np.signbit(want[want == 0]))


# ---------------------------------------------------------------------------------------
# (b) the public functions without SciPy
# ---------------------------------------------------------------------------------------

X64 = np.array([-4.5, -2.0, -0.7, -0.1, 0.0, 0.25, 0.5, 1.0, 1.7, 3.0, 6.0])


@pytest.mark.usefixtures("no_scipy")
def test_error_functions_match_math_module():
    x = np.concatenate([X64, [-27.0, 9.0, 15.0, 26.5]])
    np.testing.assert_allclose(fsp.erf(x), [math.erf(v) for v in x], rtol=2e-16 * 4, atol=0)
    np.testing.assert_allclose(fsp.erfc(x), [math.erfc(v) for v in x], rtol=2e-15, atol=0)
    y = np.array([-0.999999, -0.9, -0.3, 1e-10, 0.5, 0.99, 1 - 1e-12])
    np.testing.assert_allclose([math.erf(v) for v in fsp.erfinv(y)], y, rtol=1e-15, atol=0)
    log_phi = [math.log(0.5 * math.erfc(-v / math.sqrt(2))) if v < 0
               else math.log1p(-0.5 * math.erfc(v / math.sqrt(2))) for v in X64]
    np.testing.assert_allclose(fsp.log_ndtr(X64), log_phi, rtol=1e-14)
    x = X64[X64 > -2]  # ndtri(p) for p near 1 amplifies the rounding of p
    q = np.array([0.5 * math.erfc(v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(fsp.ndtri(q), -x, rtol=1e-14, atol=1e-15)
    # far in the lower tail log Phi(x) = -x^2/2 - log(-x sqrt(2 pi)) - 1/x^2 + ...
    x = -1e4
    assert fsp.log_ndtr(np.array(x)) == pytest.approx(
        -x * x / 2 - math.log(-x * math.sqrt(2 * math.pi)) - 1 / x**2 + 2.5 / x**4, rel=1e-15)
    assert fsp.erf(np.float32(0.5)).dtype == np.float32
    assert fsp.erf(0.5) == pytest.approx(math.erf(0.5), rel=1e-7)  # default float32


@pytest.mark.usefixtures("no_scipy")
def test_gammaln_matches_math_lgamma():
    x = np.concatenate([X64[X64 != np.round(X64)], [1e-8, 2.0, 7.5, 12.0, 170.5, 1e5, 1e250,
                                                      -10.2, -100.5]])
    want = [math.lgamma(v) for v in x]
    np.testing.assert_allclose(fsp.gammaln(x), want, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(fsp.gammaln(np.array([1.0, 2.0])), [0.0, 0.0])
    assert fsp.gammaln(np.array(-3.0)) == np.inf
    assert fsp.betaln(np.array(2.0), np.array(3.0)) == pytest.approx(math.log(1 / 12), rel=1e-15)


@pytest.mark.usefixtures("no_scipy")
def test_digamma_and_polygamma_identities():
    assert fsp.digamma(np.array(1.0)) == pytest.approx(-EULER_GAMMA, rel=1e-15)
    assert fsp.digamma(np.array(0.5)) == pytest.approx(-EULER_GAMMA - 2 * math.log(2), rel=1e-15)
    x = np.array([-7.3, -2.5, -0.6, -0.2, 0.1, 0.9, 1.46, 2.5, 9.7, 10.5, 123.4])
    np.testing.assert_allclose(fsp.digamma(x + 1), fsp.digamma(x) + 1 / x, rtol=1e-13, atol=1e-14)
    # reflection: psi(1 - x) - psi(x) = pi cot(pi x)
    np.testing.assert_allclose(fsp.digamma(1 - x) - fsp.digamma(x), np.pi / np.tan(np.pi * x),
                               rtol=1e-12, atol=1e-13)
    assert fsp.polygamma(1, np.array(1.0)) == pytest.approx(math.pi**2 / 6, rel=1e-15)
    assert fsp.polygamma(1, np.array(0.5)) == pytest.approx(math.pi**2 / 2, rel=1e-15)
    assert fsp.polygamma(2, np.array(1.0)) == pytest.approx(-2 * ZETA3, rel=1e-15)
    assert fsp.polygamma(3, np.array(1.0)) == pytest.approx(math.pi**4 / 15, rel=1e-15)
    for n in (1, 2, 3, 4):  # psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1)
        step = (-1) ** n * math.factorial(n) / x ** (n + 1)
        np.testing.assert_allclose(fsp.polygamma(n, x + 1) - step, fsp.polygamma(n, x),
                                   rtol=1e-13)
    np.testing.assert_array_equal(fsp.polygamma(0, x), fsp.digamma(x))


@pytest.mark.usefixtures("no_scipy")
def test_gradients_without_scipy():
    x = np.array([-2.3, -0.4, 0.3, 1.0, 2.2])
    g = fg.grad(lambda v: fnp.sum(fsp.erf(v)))(x)
    np.testing.assert_allclose(g, [2 / math.sqrt(math.pi) * math.exp(-v * v) for v in x],
                               rtol=1e-15)
    g = fg.grad(lambda v: fsp.gammaln(v))(np.float64(1.0))
    assert g == pytest.approx(-EULER_GAMMA, rel=1e-15)
    g2 = fg.grad(fg.grad(lambda v: fsp.gammaln(v)))(np.float64(1.0))
    assert g2 == pytest.approx(math.pi**2 / 6, rel=1e-15)
    g = fg.grad(lambda v: fsp.digamma(v))(np.float64(0.5))
    assert g == pytest.approx(math.pi**2 / 2, rel=1e-15)
    a, b = np.array([0.0, 2.0, -1.5]), np.array([0.0, 3.0, 0.5])
    gx, gy = fg.grad(lambda p, q: fnp.sum(fsp.xlogy(p, q)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(gx, [0.0, math.log(3), math.log(0.5)], rtol=1e-15)
    np.testing.assert_allclose(gy, [0.0, 2 / 3, -3.0], rtol=1e-15)
    assert fsp.xlogy(0.0, 0.0) == 0 and fsp.xlog1py(0.0, -1.0) == 0
    gl = fg.grad(lambda v: fsp.log_ndtr(v))(np.float64(-30.0))
    assert gl == pytest.approx(30.0 + 1 / 30, rel=1e-4)  # ~ -x - 1/x in the lower tail


def _gelu_exact(v):
    return 0.5 * v * (1 + math.erf(v / math.sqrt(2)))


@pytest.mark.usefixtures("no_scipy")
def test_gelu_without_scipy():
    x = np.linspace(-6, 6, 25)
    np.testing.assert_allclose(nn.gelu(x, approximate=False), [_gelu_exact(v) for v in x],
                               rtol=1e-14, atol=1e-300)
    g = fg.grad(lambda v: fnp.sum(nn.gelu(v, approximate=False)))(x)
    phi = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(g, phi + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi),
                               rtol=1e-13, atol=1e-15)
    x32 = x.astype(np.float32)
    out = GELU()(x32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [_gelu_exact(float(v)) for v in x32], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(GELU(approximate="none")(x), [_gelu_exact(v) for v in x],
                               rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(fg.jit(lambda v: nn.gelu(v, approximate=False))(x),
                               [_gelu_exact(v) for v in x], rtol=1e-14, atol=1e-300)


@pytest.mark.usefixtures("no_scipy")
def test_other_functions_without_scipy():
    np.testing.assert_array_equal(fsp.entr(np.array([0.0, -1.0, 1.0])), [0.0, -np.inf, -0.0])
    assert fsp.entr(np.array(0.5)) == pytest.approx(0.5 * math.log(2), rel=1e-15)
    np.testing.assert_allclose(fsp.logit(np.array([0.1, 0.5, 0.75])),
                               [math.log(1 / 9), 0.0, math.log(3)], rtol=1e-15, atol=0)
    assert fsp.expit(fsp.logit(np.array(0.3))) == pytest.approx(0.3, rel=1e-15)
    assert fsp.xlog1py(np.array(2.0), np.array(1e-20)) == 2e-20
    with pytest.raises(TypeError, match="SciPy"):
        fsp.erf(np.array([1j]))


def test_use_scipy_switch(monkeypatch):
    monkeypatch.setattr(S, "_USE_SCIPY", False)
    assert S._scipy_special() is None
    assert fsp.gammaln(np.array(4.5)) == pytest.approx(math.lgamma(4.5), rel=1e-15)


# ---------------------------------------------------------------------------------------
# (c) check_grads through the NumPy implementations
# ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_scipy")
@pytest.mark.parametrize("f, x", [
    (fsp.erf, np.array([-1.2, 0.1, 0.8])),
    (fsp.erfinv, np.array([-0.7, 0.2, 0.6])),
    (fsp.log_ndtr, np.array([-8.0, -0.5, 2.0])),
    (fsp.gammaln, np.array([-1.5, 0.4, 2.7])),
    (fsp.digamma, np.array([-0.3, 1.3, 4.0])),
    (lambda v: fsp.xlogy(v, v + 2.0), np.array([0.5, 1.0, 3.0])),
])
def test_check_grads_without_scipy(f, x):
    check_grads(f, (x,), order=2)
