"""Tests for funcgrad_nn.init: shapes, dtypes, determinism, and PyTorch's formulas.

Statistics are checked within loose bounds (several standard errors) of the analytic
values that PyTorch's ``torch.nn.init`` documents; fans and gains are compared exactly with
PyTorch where it is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcgrad as fg
from funcgrad_nn import init

KEY = fg.random.key(0)
LARGE = (256, 128, 3, 3)  # fan_in = 1152, fan_out = 2304, 294912 draws

# name -> factory call producing an initializer
RANDOM_INITS = {
    "normal": lambda: init.normal(0.5, 1.0),
    "uniform": lambda: init.uniform(-0.5, 2.0),
    "truncated_normal": lambda: init.truncated_normal(1.0),
    "xavier_uniform": init.xavier_uniform,
    "xavier_normal": init.xavier_normal,
    "glorot_uniform": init.glorot_uniform,
    "glorot_normal": init.glorot_normal,
    "kaiming_uniform": init.kaiming_uniform,
    "kaiming_normal": init.kaiming_normal,
    "he_uniform": init.he_uniform,
    "he_normal": init.he_normal,
    "lecun_uniform": init.lecun_uniform,
    "lecun_normal": init.lecun_normal,
    "orthogonal": init.orthogonal,
    "variance_scaling": lambda: init.variance_scaling(2.0, "fan_avg", "normal"),
}


@pytest.mark.parametrize("name", sorted(RANDOM_INITS))
@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (8, 3, 2, 2)])
def test_shapes_dtypes_and_determinism(name, shape):
    f = RANDOM_INITS[name]()
    w = f(KEY, shape)
    assert w.shape == shape and w.dtype == np.float32
    assert np.all(np.isfinite(w))
    np.testing.assert_array_equal(f(KEY, shape), w)  # same key, same numbers
    assert not np.array_equal(f(fg.random.key(1), shape), w)
    w64 = f(KEY, shape, np.float64)
    assert w64.dtype == np.float64
    assert f(KEY, list(shape), dtype="float32").shape == shape


@pytest.mark.parametrize("name", sorted(RANDOM_INITS))
def test_zero_size_shapes(name):
    w = RANDOM_INITS[name]()(KEY, (0, 3))
    assert w.shape == (0, 3) and w.dtype == np.float32


def test_constant_initializers():
    np.testing.assert_array_equal(init.zeros(KEY, (2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(init.ones(KEY, 3), np.ones(3, np.float32))
    assert init.ones(KEY, (2,), np.float64).dtype == np.float64
    w = init.constant(0.25)(KEY, (2, 2), np.float64)
    np.testing.assert_array_equal(w, np.full((2, 2), 0.25))
    assert init.zeros(KEY, ()).shape == ()
    with pytest.raises(ValueError, match="floating dtype"):
        init.normal()(KEY, (2,), np.int32)


def test_fans_follow_pytorch_layout():
    assert init.calculate_fan_in_and_fan_out((10, 20)) == (20, 10)
    assert init.calculate_fan_in_and_fan_out((16, 3, 5, 5)) == (75, 400)
    assert init.calculate_fan_in_and_fan_out((4, 2, 3)) == (6, 12)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.calculate_fan_in_and_fan_out((5,))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform()(KEY, (5,))


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == 5.0 / 3.0
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def _check_uniform(w, bound):
    """Within [-bound, bound], reaching close to both ends, with variance bound**2 / 3."""
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound
    assert abs(w.mean()) < 0.01 * bound
    np.testing.assert_allclose(w.var(), bound**2 / 3, rtol=0.02)


def _check_normal(w, std, mean=0.0):
    np.testing.assert_allclose(w.mean(), mean, atol=0.01 * std)
    np.testing.assert_allclose(w.std(), std, rtol=0.02)
    z = (w - mean) / std
    assert 3.0 < np.abs(z).max() < 6.5  # untruncated: a few draws beyond 3 sigma


def test_kaiming_uniform_bound():
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(LARGE)
    w = init.kaiming_uniform(a=math.sqrt(5))(KEY, LARGE)  # torch.nn.Linear / Conv default
    _check_uniform(w, init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3 / fan_in))
    np.testing.assert_allclose(np.abs(w).max(), 1 / math.sqrt(fan_in), rtol=0.01)
    w = init.he_uniform(mode="fan_out", nonlinearity="relu")(KEY, LARGE)
    _check_uniform(w, math.sqrt(2) * math.sqrt(3 / fan_out))


def test_kaiming_normal_std():
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(LARGE)
    _check_normal(init.kaiming_normal()(KEY, LARGE), math.sqrt(2 / (1 + 0.0)) / math.sqrt(fan_in))
    _check_normal(init.he_normal(a=0.1, mode="fan_out")(KEY, LARGE),
                  init.calculate_gain("leaky_relu", 0.1) / math.sqrt(fan_out))
    _check_normal(init.kaiming_normal(nonlinearity="tanh")(KEY, LARGE),
                  5 / 3 / math.sqrt(fan_in))
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal(mode="fan_sum")


def test_xavier():
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(LARGE)
    _check_uniform(init.xavier_uniform(gain=2.0)(KEY, LARGE),
                   2.0 * math.sqrt(6 / (fan_in + fan_out)))
    _check_normal(init.glorot_normal(gain=0.5)(KEY, LARGE), 0.5 * math.sqrt(2 / (fan_in + fan_out)))


def test_lecun_and_variance_scaling():
    fan_in, fan_out = init.calculate_fan_in_and_fan_out(LARGE)
    _check_uniform(init.lecun_uniform()(KEY, LARGE), math.sqrt(3 / fan_in))
    w = init.lecun_normal()(KEY, LARGE)  # truncated at 2 std, rescaled to variance 1/fan_in
    np.testing.assert_allclose(w.std(), 1 / math.sqrt(fan_in), rtol=0.02)
    assert np.abs(w).max() <= 2 / 0.87962566103423978 / math.sqrt(fan_in) * (1 + 1e-6)
    _check_normal(init.variance_scaling(2.0, "fan_avg", "normal")(KEY, LARGE),
                  math.sqrt(4 / (fan_in + fan_out)))
    with pytest.raises(ValueError, match="distribution must be"):
        init.variance_scaling(1.0, distribution="cauchy")


def test_normal_uniform_truncated_normal():
    _check_normal(init.normal(std=0.5, mean=1.0)(KEY, LARGE), 0.5, mean=1.0)
    w = init.uniform(-0.5, 2.0)(KEY, LARGE)
    assert w.min() >= -0.5 and w.max() < 2.0
    np.testing.assert_allclose(w.mean(), 0.75, atol=0.01)
    w = init.truncated_normal(std=1.0)(KEY, LARGE)  # absolute bounds, as PyTorch
    assert w.min() >= -2.0 and w.max() <= 2.0 and w.max() > 1.99
    np.testing.assert_allclose(w.std(), 0.87962566103423978, rtol=0.02)
    w = init.truncated_normal(std=2.0, a=0.0, b=1.0, mean=0.5)(KEY, LARGE)
    assert w.min() >= 0.0 and w.max() <= 1.0
    np.testing.assert_allclose(w.mean(), 0.5, atol=0.01)
    w = init.truncated_normal(std=0.02)(KEY, LARGE)  # bounds 100 std away: plain normal
    _check_normal(w, 0.02)
    with pytest.raises(ValueError, match="need a < b"):
        init.truncated_normal(a=1.0, b=-1.0)


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (8, 3, 2, 2), (3, 4, 5)])
def test_orthogonal(shape):
    w = init.orthogonal(gain=2.0)(KEY, shape, np.float64)
    rows = shape[0]
    flat = w.reshape(rows, -1) / 2.0
    if rows <= flat.shape[1]:
        np.testing.assert_allclose(flat @ flat.T, np.eye(rows), atol=1e-12)
    else:
        np.testing.assert_allclose(flat.T @ flat, np.eye(flat.shape[1]), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal()(KEY, (4,))


def test_initializers_under_vmap_over_keys():
    keys = fg.random.split(KEY, 3)
    ws = fg.vmap(lambda k: init.kaiming_uniform()(k, (4, 5)))(keys)
    assert ws.shape == (3, 4, 5)
    np.testing.assert_array_equal(ws[1], init.kaiming_uniform()(keys[1], (4, 5)))


# --------------------------------------------------------------------------------------------
# PyTorch oracle (skipped when torch is not installed)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(10, 20), (16, 3, 5, 5), (4, 2, 3), (7, 1)])
def test_fans_and_gains_match_torch(shape):
    torch = pytest.importorskip("torch")
    fans = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(shape) == tuple(fans)
    for nl, p in [("linear", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                  ("leaky_relu", 0.3), ("selu", None), ("conv1d", None), ("sigmoid", None)]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))


@pytest.mark.parametrize("name", ["kaiming_uniform", "kaiming_normal", "xavier_uniform",
                                  "xavier_normal", "orthogonal", "trunc_normal"])
def test_statistics_match_torch(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t = torch.empty(LARGE, dtype=torch.float64)
    if name == "kaiming_uniform":
        torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5), mode="fan_out")
        w = init.kaiming_uniform(a=math.sqrt(5), mode="fan_out")(KEY, LARGE)
    elif name == "kaiming_normal":
        torch.nn.init.kaiming_normal_(t, nonlinearity="relu")
        w = init.kaiming_normal(nonlinearity="relu")(KEY, LARGE)
    elif name == "xavier_uniform":
        torch.nn.init.xavier_uniform_(t, gain=1.5)
        w = init.xavier_uniform(gain=1.5)(KEY, LARGE)
    elif name == "xavier_normal":
        torch.nn.init.xavier_normal_(t, gain=1.5)
        w = init.xavier_normal(gain=1.5)(KEY, LARGE)
    elif name == "orthogonal":
        torch.nn.init.orthogonal_(t, gain=3.0)
        w = init.orthogonal(gain=3.0)(KEY, LARGE)
    else:
        torch.nn.init.trunc_normal_(t, mean=0.2, std=0.5, a=-0.3, b=0.9)
        w = init.truncated_normal(std=0.5, a=-0.3, b=0.9, mean=0.2)(KEY, LARGE)
    ref = t.numpy()
    np.testing.assert_allclose(w.std(), ref.std(), rtol=0.02)
    np.testing.assert_allclose(w.mean(), ref.mean(), atol=0.01 * ref.std())
    np.testing.assert_allclose(np.abs(w).max(), np.abs(ref).max(), rtol=0.15)
