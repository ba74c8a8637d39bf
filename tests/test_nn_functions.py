"""Tests for funcgrad.nn (activations) and funcgrad.scipy (special functions, stats.norm).

Forward values are compared with NumPy/SciPy references, derivatives with
``check_grads(order=2)`` in float64 over hypothesis-drawn arrays, extreme inputs (±1e4 in
float32) must give finite values and gradients, and where PyTorch is installed values and
gradients are compared with ``torch.nn.functional`` / ``torch.special``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special as sc
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.special as fsp
from funcgrad import nn
from funcgrad.scipy.stats import norm
from funcgrad.testing import check_grads
from funcgrad.testing import strategies as fst

# --------------------------------------------------------------------------------------------
# Reference implementations (float64 NumPy/SciPy)
# --------------------------------------------------------------------------------------------

_ALPHA, _SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _np_relu6(x):
    return np.clip(x, 0, 6)


# name -> (funcgrad function, reference, kinks to keep away from, value range)
ACTIVATIONS = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0), (0.0,), 3.0),
    "relu6": (nn.relu6, _np_relu6, (0.0, 6.0), 8.0),
    "leaky_relu": (nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x), (0.0,), 3.0),
    "leaky_relu_0.2": (lambda x: nn.leaky_relu(x, 0.2), lambda x: np.where(x >= 0, x, 0.2 * x),
                       (0.0,), 3.0),
    "elu": (nn.elu, _np_elu, (0.0,), 3.0),
    "elu_alpha": (lambda x: nn.elu(x, 0.5), lambda x: _np_elu(x, 0.5), (0.0,), 3.0),
    "selu": (nn.selu, lambda x: _SCALE * _np_elu(x, _ALPHA), (0.0,), 3.0),
    "celu": (lambda x: nn.celu(x, 1.5),
             lambda x: np.maximum(x, 0) + 1.5 * np.expm1(np.minimum(x, 0) / 1.5), (0.0,), 3.0),
    "gelu_tanh": (nn.gelu, _np_gelu_tanh, (), 4.0),
    "gelu_exact": (lambda x: nn.gelu(x, approximate=False), lambda x: x * sc.ndtr(x), (), 4.0),
    "silu": (nn.silu, lambda x: x * sc.expit(x), (), 4.0),
    "swish": (nn.swish, lambda x: x * sc.expit(x), (), 4.0),
    "sigmoid": (nn.sigmoid, sc.expit, (), 6.0),
    "log_sigmoid": (nn.log_sigmoid, lambda x: -np.logaddexp(0, -x), (), 6.0),
    "softplus": (nn.softplus, lambda x: np.logaddexp(x, 0), (), 6.0),
    "soft_sign": (nn.soft_sign, lambda x: x / (1 + np.abs(x)), (0.0,), 3.0),
    "hard_tanh": (nn.hard_tanh, lambda x: np.clip(x, -1, 1), (-1.0, 1.0), 3.0),
    "hard_sigmoid": (nn.hard_sigmoid, lambda x: _np_relu6(x + 3) / 6, (-3.0, 3.0), 5.0),
    "hard_silu": (nn.hard_silu, lambda x: x * _np_relu6(x + 3) / 6, (-3.0, 3.0), 5.0),
    "mish": (nn.mish, lambda x: x * np.tanh(np.logaddexp(x, 0)), (), 4.0),
}


def _away_from(kinks, dist=1e-2):
    def ok(v):
        return all(abs(v - k) >= dist for k in kinks)

    return ok


def _arrays(kinks, width, max_dims=2, max_side=3):
    elems = st.floats(-width, width, allow_nan=False, allow_infinity=False).filter(
        _away_from(kinks))
    shape = fst.shapes(min_dims=0, max_dims=max_dims, max_side=max_side)
    return shape.flatmap(lambda s: st.lists(elems, min_size=int(np.prod(s)),
                                            max_size=int(np.prod(s))).map(
        lambda v, s=s: np.asarray(v, np.float64).reshape(s)))


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=8)
@given(data=st.data())
def test_activation_matches_reference_and_grads(name, data):
    f, ref, kinks, width = ACTIVATIONS[name]
    x = data.draw(_arrays(kinks, width))
    out = f(x)
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(out, ref(x), rtol=1e-12, atol=1e-12)
    check_grads(f, (x,), order=2)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_float32_and_python_scalars(name):
    f, ref, _, _ = ACTIVATIONS[name]
    x = np.array([-2.5, -0.5, 0.25, 1.5, 4.0], np.float32)
    out = f(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref(x.astype(np.float64)), rtol=1e-5, atol=1e-6)
    assert np.asarray(f(0.5)).dtype == np.float32  # Python scalars follow the float32 policy
    assert np.asarray(f(np.arange(3))).dtype == np.float32  # integers are promoted


EXTREME = np.array([-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4], np.float32)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_extreme_inputs_are_finite(name):
    f = ACTIVATIONS[name][0]
    out = f(EXTREME)
    g = fg.grad(lambda x: fnp.sum(f(x)))(EXTREME)
    assert np.all(np.isfinite(out)), out
    assert np.all(np.isfinite(g)), g
    h = fg.grad(lambda x: fnp.sum(fg.grad(lambda y: fnp.sum(f(y)))(x)))(EXTREME)
    assert np.all(np.isfinite(h)), h


def test_log_domain_functions_are_exact_at_extremes():
    x = np.array([-1e4, 1e4], np.float32)
    np.testing.assert_array_equal(nn.softplus(x), [0.0, 1e4])
    np.testing.assert_array_equal(nn.log_sigmoid(x), [-1e4, 0.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(nn.softplus(v)))(x), [0.0, 1.0])
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(nn.log_sigmoid(v)))(x), [1.0, 0.0])
    np.testing.assert_array_equal(nn.sigmoid(x), [0.0, 1.0])
    np.testing.assert_allclose(nn.softplus(np.float32(-50.0)), np.exp(-50.0), rtol=1e-5)


def test_kink_conventions_follow_jax():
    def g(f, v):
        return float(fg.grad(f)(np.float64(v)))

    assert g(nn.relu, 0.0) == 0.0 and g(nn.relu, 1.0) == 1.0
    assert g(nn.relu6, 0.0) == 0.0 and g(nn.relu6, 6.0) == 0.0 and g(nn.relu6, 3.0) == 1.0
    assert g(nn.leaky_relu, 0.0) == 1.0 and g(nn.leaky_relu, -1.0) == 0.01
    assert g(nn.hard_tanh, 1.0) == 1.0 and g(nn.hard_tanh, -1.0) == 1.0
    assert g(nn.hard_tanh, 1.5) == 0.0
    assert g(nn.elu, 0.0) == 1.0  # expm1'(0) = 1 from the left as well
    assert np.isnan(nn.relu(np.float64(np.nan)))  # NaN propagates, not hidden by a select


def test_gelu_approximations_differ_slightly():
    x = np.linspace(-4, 4, 81)
    exact, approx = nn.gelu(x, approximate=False), nn.gelu(x)
    assert 0 < np.max(np.abs(exact - approx)) < 1e-3


def test_glu():
    x = np.arange(12.0).reshape(3, 4) / 6 - 1
    np.testing.assert_allclose(nn.glu(x), x[:, :2] * sc.expit(x[:, 2:]))
    np.testing.assert_allclose(nn.glu(x.T, axis=0), (x[:, :2] * sc.expit(x[:, 2:])).T)
    check_grads(nn.glu, (x,), order=2)
    with pytest.raises(ValueError, match="glu: the size of axis 0 must be even"):
        nn.glu(x, axis=0)


# --------------------------------------------------------------------------------------------
# softmax, log_softmax, logsumexp
# --------------------------------------------------------------------------------------------


@st.composite
def _array_and_axis(draw, max_dims=3, min_side=1):
    shape = fst.shapes(min_dims=1, max_dims=max_dims, min_side=min_side, max_side=3)
    x = draw(fst.arrays(np.float64, shape=shape, low=-5.0, high=5.0))
    axis = draw(fst.axes(x.ndim, allow_none=False))
    return x, axis


@settings(max_examples=10)
@given(_array_and_axis())
def test_softmax_family_matches_scipy(xa):
    x, axis = xa
    np.testing.assert_allclose(nn.softmax(x, axis=axis), sc.softmax(x, axis=axis), rtol=1e-12)
    np.testing.assert_allclose(nn.log_softmax(x, axis=axis), sc.log_softmax(x, axis=axis),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nn.logsumexp(x, axis=axis), sc.logsumexp(x, axis=axis),
                               rtol=1e-12)
    check_grads(lambda v: nn.softmax(v, axis=axis), (x,), order=2)
    check_grads(lambda v: nn.log_softmax(v, axis=axis), (x,), order=2)
    check_grads(lambda v: nn.logsumexp(v, axis=axis), (x,), order=2)


@settings(max_examples=10)
@given(_array_and_axis(max_dims=2), st.booleans(), st.data())
def test_logsumexp_with_b_and_sign(xa, keepdims, data):
    x, axis = xa
    b = data.draw(fst.arrays(np.float64, shape=x.shape, low=-2.0, high=2.0))
    b = np.where(np.abs(b) < 0.1, 0.5, b)
    out, sign = fsp.logsumexp(x, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    ref, ref_sign = sc.logsumexp(x, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(sign, ref_sign)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SciPy warns on negative sums
        expect = sc.logsumexp(x, axis=axis, b=b, keepdims=keepdims)
    np.testing.assert_allclose(fsp.logsumexp(x, axis=axis, b=b, keepdims=keepdims), expect,
                               rtol=1e-10, atol=1e-10)
    bpos = np.abs(b)
    check_grads(lambda v, w: fsp.logsumexp(v, axis=axis, b=w, keepdims=keepdims), (x, bpos),
                order=2)


def test_logsumexp_axis_none_keepdims_and_edge_cases():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(fsp.logsumexp(x), sc.logsumexp(x))
    assert fsp.logsumexp(x, axis=(0, 1), keepdims=True).shape == (1, 1)
    neg_inf = np.full(3, -np.inf)
    assert fsp.logsumexp(neg_inf) == -np.inf  # no warning, no NaN
    assert np.isinf(fsp.logsumexp(np.array([1.0, np.inf])))
    assert fsp.logsumexp(np.zeros(2), b=np.array([1.0, -1.0])) == -np.inf
    assert np.isnan(fsp.logsumexp(np.zeros(2), b=np.array([1.0, -2.0])))
    g = fg.grad(lambda v: fsp.logsumexp(v))(np.array([0.0, -np.inf]))
    np.testing.assert_array_equal(g, [1.0, 0.0])


@pytest.mark.parametrize("f", [nn.softmax, nn.log_softmax, nn.logsumexp, fsp.softmax,
                               fsp.log_softmax])
def test_softmax_family_extremes_float32(f):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 9999.0]], np.float32)
    out = f(x, axis=-1)
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))
    g = fg.grad(lambda v: fnp.sum(f(v, axis=-1) * np.array([1.0, 2.0, 3.0], np.float32)))(x)
    assert np.all(np.isfinite(g))
    h = fg.jacfwd(fg.grad(lambda v: fnp.sum(f(v, axis=-1) ** 2)))(x[0])
    assert np.all(np.isfinite(h))


def test_softmax_extreme_values():
    x = np.array([1e4, -1e4, 0.0], np.float32)
    np.testing.assert_array_equal(nn.softmax(x), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(nn.log_softmax(x), [0.0, -2e4, -1e4])
    np.testing.assert_allclose(nn.logsumexp(x), 1e4)
    np.testing.assert_allclose(fg.grad(nn.logsumexp)(x), [1.0, 0.0, 0.0])


def test_softmax_family_under_vmap_and_jit():
    x = np.random.default_rng(0).standard_normal((4, 5))
    np.testing.assert_allclose(fg.vmap(nn.softmax)(x), sc.softmax(x, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(fg.vmap(nn.logsumexp)(x), sc.logsumexp(x, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(fg.jit(nn.log_softmax)(x), sc.log_softmax(x, axis=-1),
                               rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.grad(lambda v: nn.logsumexp(v)))(x),
                               sc.softmax(x.ravel()).reshape(x.shape), rtol=1e-12)


# --------------------------------------------------------------------------------------------
# one_hot and standardize
# --------------------------------------------------------------------------------------------


def test_one_hot():
    x = np.array([[0, 2], [1, 5]])
    out = nn.one_hot(x, 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], np.eye(3)[[0, 2]])
    np.testing.assert_array_equal(out[1, 1], np.zeros(3))  # out of range: all zeros
    np.testing.assert_array_equal(nn.one_hot(np.array([-1]), 2), [[0.0, 0.0]])
    np.testing.assert_array_equal(nn.one_hot(x, 3, axis=0), np.moveaxis(out, -1, 0))
    np.testing.assert_array_equal(nn.one_hot(x, 3, axis=1), np.moveaxis(out, -1, 1))
    assert nn.one_hot(x, 3, dtype=np.int32).dtype == np.int32
    assert nn.one_hot(np.int32(1), 4).shape == (4,)
    np.testing.assert_array_equal(fg.vmap(lambda v: nn.one_hot(v, 3))(x), out)
    np.testing.assert_array_equal(fg.jit(lambda v: nn.one_hot(v, 3))(x), out)
    with pytest.raises(ValueError, match="one_hot: axis 3"):
        nn.one_hot(x, 3, axis=3)


@settings(max_examples=10)
@given(_array_and_axis(min_side=2))
def test_standardize(xa):
    x, axis = xa
    x = x + np.linspace(0, 1, x.size).reshape(x.shape)  # not constant along any axis
    out = nn.standardize(x, axis=axis, epsilon=0.0)
    mean = x.mean(axis=axis, keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / x.std(axis=axis, keepdims=True), rtol=1e-9,
                               atol=1e-9)
    check_grads(lambda v: nn.standardize(v, axis=axis), (x,), order=2)


def test_standardize_given_statistics_and_float32_stability():
    x = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(nn.standardize(x, mean=1.0, variance=4.0, epsilon=0.0),
                               [[0.0, 0.5, 1.0]])
    big = (1e4 + np.array([0.0, 1e-2, 2e-2, 3e-2])).astype(np.float32)
    out = nn.standardize(big, epsilon=1e-12)  # mean(x^2) - mean(x)^2 would cancel to <= 0
    assert np.all(np.isfinite(out)) and abs(float(out.std()) - 1) < 0.2


# --------------------------------------------------------------------------------------------
# funcgrad.scipy.special
# --------------------------------------------------------------------------------------------

# name -> (funcgrad function, scipy reference, domain low, high)
SPECIAL_UNARY = {
    "erf": (fsp.erf, sc.erf, -3.0, 3.0),
    "erfc": (fsp.erfc, sc.erfc, -3.0, 3.0),
    "erfinv": (fsp.erfinv, sc.erfinv, -0.9, 0.9),
    "gammaln": (fsp.gammaln, sc.gammaln, 0.2, 6.0),
    "digamma": (fsp.digamma, sc.digamma, 0.2, 6.0),
    "polygamma2": (lambda x: fsp.polygamma(2, x), lambda x: sc.polygamma(2, x), 0.5, 6.0),
    "expit": (fsp.expit, sc.expit, -6.0, 6.0),
    "logit": (fsp.logit, sc.logit, 0.05, 0.95),
    "ndtr": (fsp.ndtr, sc.ndtr, -4.0, 4.0),
    "ndtri": (fsp.ndtri, sc.ndtri, 0.05, 0.95),
    "log_ndtr": (fsp.log_ndtr, sc.log_ndtr, -6.0, 4.0),
    "entr": (fsp.entr, sc.entr, 0.05, 3.0),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_UNARY))
@settings(max_examples=6)
@given(data=st.data())
def test_special_unary(name, data):
    f, ref, lo, hi = SPECIAL_UNARY[name]
    x = data.draw(fst.arrays(np.float64, low=lo, high=hi, max_dims=2, max_side=3))
    np.testing.assert_allclose(f(x), ref(x), rtol=1e-10, atol=1e-12)
    check_grads(f, (x,), order=2)
    x32 = np.asarray(x, np.float32)
    assert np.asarray(f(x32)).dtype == np.float32


SPECIAL_BINARY = {
    "xlogy": (fsp.xlogy, sc.xlogy, (-2.0, 2.0), (0.1, 3.0)),
    "xlog1py": (fsp.xlog1py, sc.xlog1py, (-2.0, 2.0), (-0.9, 3.0)),
    "betaln": (fsp.betaln, sc.betaln, (0.3, 4.0), (0.3, 4.0)),
    "logaddexp": (fnp.logaddexp, np.logaddexp, (-5.0, 5.0), (-5.0, 5.0)),
    "logaddexp2": (fnp.logaddexp2, np.logaddexp2, (-5.0, 5.0), (-5.0, 5.0)),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_BINARY))
@settings(max_examples=6)
@given(data=st.data())
def test_special_binary_broadcasting(name, data):
    f, ref, (xlo, xhi), (ylo, yhi) = SPECIAL_BINARY[name]
    (sx, sy), _ = data.draw(fst.broadcastable_shapes(max_dims=2, max_side=3))
    x = data.draw(fst.arrays(np.float64, shape=sx, low=xlo, high=xhi))
    y = data.draw(fst.arrays(np.float64, shape=sy, low=ylo, high=yhi))
    np.testing.assert_allclose(f(x, y), ref(x, y), rtol=1e-10, atol=1e-12)
    check_grads(f, (x, y), order=2)


def test_xlogy_conventions_at_zero():
    zero = np.zeros(3)
    y = np.array([0.0, 0.5, 2.0])
    np.testing.assert_array_equal(fsp.xlogy(zero, y), 0.0)
    gx, gy = fg.grad(lambda a, b: fnp.sum(fsp.xlogy(a, b)), argnums=(0, 1))(zero, y)
    np.testing.assert_allclose(gx, [0.0, np.log(0.5), np.log(2.0)])  # finite at (0, 0)
    np.testing.assert_array_equal(gy, 0.0)
    h = fg.hessian(lambda a: fsp.xlogy(a[0], a[1]))(np.zeros(2))
    assert np.all(np.isfinite(h))
    gx, gy = fg.grad(lambda a, b: fsp.xlog1py(a, b), argnums=(0, 1))(0.0, -1.0)
    assert float(gx) == 0.0 and float(gy) == 0.0
    # xlogy(p, p) (an entropy term) has a finite gradient at p == 0.
    g = fg.grad(lambda p: fnp.sum(fsp.xlogy(p, p)))(np.array([0.0, 0.5]))
    np.testing.assert_allclose(g, [0.0, np.log(0.5) + 1])
    assert fsp.xlogy(2.0, 0.0) == -np.inf


def test_entr_edges():
    x = np.array([-1.0, 0.0, 0.5])
    np.testing.assert_array_equal(fsp.entr(x), sc.entr(x))
    g = fg.grad(lambda v: fnp.sum(fsp.entr(v)))(x)
    assert g[0] == 0.0 and g[1] == np.inf  # as JAX and PyTorch
    np.testing.assert_allclose(g[2], -(np.log(0.5) + 1))


def test_polygamma_order_checks_and_digamma_alias():
    np.testing.assert_allclose(fsp.polygamma(0, np.array([1.5])), sc.digamma([1.5]))
    with pytest.raises(ValueError, match="polygamma"):
        fsp.polygamma(-1, 1.0)
    with pytest.raises(ValueError, match="polygamma"):
        fsp.polygamma(1.0, 1.0)


def test_special_python_scalars_and_ints():
    assert np.asarray(fsp.erf(1)).dtype == np.float32
    assert np.asarray(fsp.gammaln(np.arange(1, 4))).dtype == np.float32
    np.testing.assert_allclose(fsp.xlogy(2, 3), 2 * np.log(3), rtol=1e-6)


# --------------------------------------------------------------------------------------------
# funcgrad.scipy.stats.norm
# --------------------------------------------------------------------------------------------

NORM = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]


@pytest.mark.parametrize("name", NORM)
@settings(max_examples=6)
@given(data=st.data())
def test_norm(name, data):
    x = data.draw(fst.arrays(np.float64, low=-4.0, high=4.0, max_dims=1, max_side=4))
    loc = data.draw(st.floats(-1.0, 1.0))
    scale = data.draw(st.floats(0.5, 2.0))
    f = getattr(norm, name)
    np.testing.assert_allclose(f(x, loc, scale), getattr(ss.norm, name)(x, loc, scale),
                               rtol=1e-10, atol=1e-14)
    check_grads(lambda v, m, s: f(v, m, s), (x, np.float64(loc), np.float64(scale)), order=2)


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_norm_quantiles(name):
    q = np.array([1e-10, 0.1, 0.5, 0.9, 0.999])
    f = getattr(norm, name)
    np.testing.assert_allclose(f(q, 1.0, 2.0), getattr(ss.norm, name)(q, 1.0, 2.0), rtol=1e-10)
    check_grads(lambda p, s: f(p, 1.0, s), (q[1:4], np.float64(2.0)), order=2)


def test_norm_defaults_tails_and_dtypes():
    assert np.asarray(norm.pdf(np.float32(0.0))).dtype == np.float32
    assert np.asarray(norm.cdf(np.zeros(2, np.float32), 0.0, 1.0)).dtype == np.float32
    np.testing.assert_allclose(norm.logcdf(-40.0), ss.norm.logcdf(-40.0), rtol=1e-5)
    np.testing.assert_allclose(norm.sf(10.0, 0.0, 1.0), ss.norm.sf(10.0), rtol=1e-5)
    g = fg.grad(norm.logcdf)(np.float32(-1e4))
    assert np.isfinite(g) and g > 0
    loc = np.array([0.0, 1.0])
    np.testing.assert_allclose(norm.pdf(0.5, loc, np.array([1.0, 2.0])),
                               ss.norm.pdf(0.5, loc, [1.0, 2.0]))


# --------------------------------------------------------------------------------------------
# PyTorch oracle (skipped when torch is not installed)
# --------------------------------------------------------------------------------------------


def _torch_activations():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return torch, {
        "relu": F.relu, "relu6": F.relu6, "leaky_relu": F.leaky_relu,
        "leaky_relu_0.2": lambda x: F.leaky_relu(x, 0.2), "elu": F.elu,
        "elu_alpha": lambda x: F.elu(x, 0.5), "selu": F.selu,
        "celu": lambda x: F.celu(x, 1.5), "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_exact": F.gelu, "silu": F.silu, "swish": F.silu, "sigmoid": torch.sigmoid,
        "log_sigmoid": F.logsigmoid, "softplus": lambda x: F.softplus(x, threshold=1e9),
        "soft_sign": F.softsign, "hard_tanh": F.hardtanh, "hard_sigmoid": F.hardsigmoid,
        "hard_silu": F.hardswish, "mish": F.mish,
    }


def _torch_value_and_grad(torch, f, x):
    t = torch.tensor(x, requires_grad=True)
    out = f(t)
    (g,) = torch.autograd.grad(out.sum(), t)
    return out.detach().numpy(), g.numpy()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_match_torch(name):
    torch, table = _torch_activations()
    f, _, kinks, width = ACTIVATIONS[name]
    x = np.random.default_rng(0).uniform(-width, width, 64)
    x = x[np.array([_away_from(kinks)(v) for v in x])]
    out_t, g_t = _torch_value_and_grad(torch, table[name], x)
    np.testing.assert_allclose(f(x), out_t, rtol=1e-10, atol=1e-12)
    # rtol 1e-7: some PyTorch kernels use float32 constants (hardsigmoid's 1/6) in float64
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(f(v)))(x), g_t, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_matches_torch(name):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 4, 5)) * 3
    tf = {"softmax": lambda t: torch.softmax(t, 1), "log_softmax": lambda t: torch.log_softmax(
        t, 1), "logsumexp": lambda t: torch.logsumexp(t, 1)}[name]
    f = getattr(nn, name)
    w = np.random.default_rng(2).standard_normal(tf(torch.tensor(x)).shape)
    t = torch.tensor(x, requires_grad=True)
    (g_t,) = torch.autograd.grad((tf(t) * torch.tensor(w)).sum(), t)
    np.testing.assert_allclose(f(x, axis=1), tf(torch.tensor(x)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(f(v, axis=1) * w))(x), g_t.numpy(),
                               rtol=1e-10, atol=1e-12)


SPECIAL_TORCH = {
    "erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "gammaln": "gammaln",
    "digamma": "digamma", "expit": "expit", "logit": "logit", "ndtr": "ndtr", "ndtri": "ndtri",
    "log_ndtr": "log_ndtr", "entr": "entr",
}


@pytest.mark.parametrize("name", sorted(SPECIAL_TORCH))
def test_special_matches_torch(name):
    torch = pytest.importorskip("torch")
    f, _, lo, hi = SPECIAL_UNARY[name]
    x = np.random.default_rng(3).uniform(lo, hi, 32)
    out_t, g_t = _torch_value_and_grad(torch, getattr(torch.special, SPECIAL_TORCH[name]), x)
    np.testing.assert_allclose(f(x), out_t, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda v: fnp.sum(f(v)))(x), g_t, rtol=1e-8, atol=1e-12)


def test_xlogy_matches_torch_away_from_zero():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-2, 2, 16), rng.uniform(0.1, 3, 16)
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    gx_t, gy_t = torch.autograd.grad(torch.special.xlogy(tx, ty).sum(), (tx, ty))
    gx, gy = fg.grad(lambda a, b: fnp.sum(fsp.xlogy(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, gx_t.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gy, gy_t.numpy(), rtol=1e-10)
