"""Parameter initializers with PyTorch's formulas, called JAX's way.

Every initializer is a function ``init(key, shape, dtype=None) -> array`` (``dtype`` None
means float32, or float64 in 64-bit mode). :func:`zeros` and :func:`ones` are initializers
themselves; the others are factories that take their parameters and return one::

    w = kaiming_uniform(a=math.sqrt(5))(key, (out_features, in_features))

Random numbers come from :mod:`funcgrad.random`, so the same key always gives the same
array, on every machine. Fans follow PyTorch's ``_calculate_fan_in_and_fan_out`` for its
weight layouts ``(out, in, *kernel)``: ``fan_in = in * prod(kernel)`` and
``fan_out = out * prod(kernel)`` (see :func:`calculate_fan_in_and_fan_out`). NOTE: this is
not JAX's default layout, whose dense kernels are ``(in, out)``.

>>> import funcgrad as fg
>>> from funcgrad_nn import init
>>> w = init.xavier_uniform()(fg.random.key(0), (64, 32))
>>> w.shape, w.dtype
((64, 32), dtype('float32'))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcgrad import random as fgr
from funcgrad._src import backend

__all__ = [
    "Initializer",
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "ones",
    "orthogonal",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Array = Any
Shape = int | Sequence[int]
#: ``init(key, shape, dtype=None) -> array``
Initializer = Callable[..., Array]

# Standard deviation of a standard normal truncated to (-2, 2) (JAX's correction factor).
_TRUNC_STD = 0.87962566103423978


def _shape(shape: Shape) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _float(dtype) -> np.dtype:
    dtype = backend.default_float() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"random initializers need a floating dtype, got {dtype}")
    return dtype


def calculate_fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """Fans of a weight of shape ``(out, in, *kernel)``, as PyTorch computes them.

    Args:
        shape: the weight's shape, with at least two dimensions.

    Returns:
        ``(fan_in, fan_out) = (in * prod(kernel), out * prod(kernel))``.

    Raises:
        ValueError: for shapes with fewer than two dimensions.

    >>> calculate_fan_in_and_fan_out((16, 3, 5, 5))
    (75, 400)
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for a weight with fewer than "
                         f"2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(shape: tuple[int, ...], mode: str, name: str) -> float:
    fan_in, fan_out = calculate_fan_in_and_fan_out(shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    raise ValueError(f"{name}: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    ======================  ===================================
    nonlinearity            gain
    ======================  ===================================
    linear, conv*, sigmoid  1
    tanh                    5/3
    relu                    sqrt(2)
    leaky_relu              sqrt(2 / (1 + negative_slope**2))
    selu                    3/4
    ======================  ===================================

    Args:
        nonlinearity: the name of the function that follows the layer.
        param: the negative slope for ``'leaky_relu'`` (default 0.01).

    Returns:
        The gain, a Python float.

    >>> round(calculate_gain("leaky_relu", 0.0), 6)
    1.414214
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


# ---------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------


def zeros(key: Array, shape: Shape, dtype=None) -> Array:
    """An initializer of zeros (the key is unused).

    Args:
        key: a PRNG key (ignored).
        shape: the array's shape.
        dtype: its dtype (float32 by default).

    Returns:
        ``zeros(shape, dtype)``.

    >>> import funcgrad as fg
    >>> zeros(fg.random.key(0), (2,))
    array([0., 0.], dtype=float32)
    """
    return np.zeros(_shape(shape), backend.default_float() if dtype is None else dtype)


def ones(key: Array, shape: Shape, dtype=None) -> Array:
    """An initializer of ones (the key is unused).

    Args:
        key: a PRNG key (ignored).
        shape: the array's shape.
        dtype: its dtype (float32 by default).

    Returns:
        ``ones(shape, dtype)``.

    >>> import funcgrad as fg
    >>> ones(fg.random.key(0), (2,))
    array([1., 1.], dtype=float32)
    """
    return np.ones(_shape(shape), backend.default_float() if dtype is None else dtype)


def constant(value: float) -> Initializer:
    """An initializer filling the array with ``value``.

    Args:
        value: the fill value.

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> constant(0.5)(fg.random.key(0), (2,))
    array([0.5, 0.5], dtype=float32)
    """

    def init(key: Array, shape: Shape, dtype=None) -> Array:
        return np.full(_shape(shape), value, backend.default_float() if dtype is None else dtype)

    return init


# ---------------------------------------------------------------------------------------
# Plain distributions
# ---------------------------------------------------------------------------------------


def normal(std: float = 1.0, mean: float = 0.0) -> Initializer:
    """An initializer drawing from ``N(mean, std**2)`` (``torch.nn.init.normal_``).

    Args:
        std: standard deviation.
        mean: mean.

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> normal(0.02)(fg.random.key(0), (3, 4)).shape
    (3, 4)
    """

    def init(key: Array, shape: Shape, dtype=None) -> Array:
        dtype = _float(dtype)
        z = fgr.normal(key, _shape(shape), dtype)
        return (z * dtype.type(std) + dtype.type(mean)).astype(dtype)

    return init


def uniform(a: float = 0.0, b: float = 1.0) -> Initializer:
    """An initializer drawing from ``U(a, b)`` (``torch.nn.init.uniform_``).

    Args:
        a: lower bound.
        b: upper bound.

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> w = uniform(-1.0, 1.0)(fg.random.key(0), (100,))
    >>> bool(w.min() >= -1.0 and w.max() < 1.0)
    True
    """

    def init(key: Array, shape: Shape, dtype=None) -> Array:
        return fgr.uniform(key, _shape(shape), _float(dtype), a, b)

    return init


def truncated_normal(std: float = 1.0, a: float = -2.0, b: float = 2.0,
                     mean: float = 0.0) -> Initializer:
    """An initializer drawing from ``N(mean, std**2)`` conditioned on ``a <= x <= b``.

    NOTE: as in ``torch.nn.init.trunc_normal_``, ``a`` and ``b`` are absolute bounds, not
    multiples of ``std`` (JAX's ``truncated_normal`` measures them in standard deviations).
    With a small ``std`` and the default bounds there is effectively no truncation.

    Args:
        std: standard deviation of the untruncated normal.
        a: lower bound.
        b: upper bound.
        mean: mean of the untruncated normal.

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> w = truncated_normal(1.0, a=-0.5, b=0.5)(fg.random.key(0), (1000,))
    >>> bool(abs(w).max() <= 0.5)
    True
    """
    if not a < b:
        raise ValueError(f"truncated_normal: need a < b, got a={a}, b={b}")
    if not std > 0:
        raise ValueError(f"truncated_normal: std must be positive, got {std}")

    def init(key: Array, shape: Shape, dtype=None) -> Array:
        dtype = _float(dtype)
        z = fgr.truncated_normal(key, (a - mean) / std, (b - mean) / std, _shape(shape),
                                 np.float64)
        return np.clip(z * std + mean, a, b).astype(dtype)

    return init


def variance_scaling(scale: float, mode: str = "fan_in",
                     distribution: str = "truncated_normal") -> Initializer:
    """An initializer with variance ``scale / fan`` (``jax.nn.initializers.variance_scaling``,
    with PyTorch's ``(out, in, *kernel)`` fans).

    Args:
        scale: the variance numerator (e.g. 2.0 for He, 1.0 for LeCun).
        mode: ``'fan_in'``, ``'fan_out'`` or ``'fan_avg'``.
        distribution: ``'truncated_normal'`` (at two standard deviations, rescaled to keep
            the variance), ``'normal'`` or ``'uniform'``.

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> w = variance_scaling(1.0, "fan_in", "uniform")(fg.random.key(0), (10, 300))
    >>> bool(abs(w).max() <= (3.0 / 300) ** 0.5)
    True
    """
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError("variance_scaling: distribution must be 'truncated_normal', 'normal' "
                         f"or 'uniform', got {distribution!r}")
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError(f"variance_scaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', "
                         f"got {mode!r}")

    def init(key: Array, shape: Shape, dtype=None) -> Array:
        shape, dtype = _shape(shape), _float(dtype)
        if math.prod(shape) == 0:
            return np.zeros(shape, dtype)
        variance = scale / _fan(shape, mode, "variance_scaling")
        if distribution == "uniform":
            bound = math.sqrt(3.0 * variance)
            return fgr.uniform(key, shape, dtype, -bound, bound)
        if distribution == "normal":
            return (fgr.normal(key, shape, dtype) * dtype.type(math.sqrt(variance))).astype(dtype)
        z = fgr.truncated_normal(key, -2.0, 2.0, shape, dtype)
        return (z * dtype.type(math.sqrt(variance) / _TRUNC_STD)).astype(dtype)

    return init


# ---------------------------------------------------------------------------------------
# Fan-based schemes
# ---------------------------------------------------------------------------------------


def _uniform_bound(bound_of: Callable[[tuple[int, ...]], float]) -> Initializer:
    def init(key: Array, shape: Shape, dtype=None) -> Array:
        shape, dtype = _shape(shape), _float(dtype)
        if math.prod(shape) == 0:
            return np.zeros(shape, dtype)
        bound = bound_of(shape)
        return fgr.uniform(key, shape, dtype, -bound, bound)

    return init


def _normal_std(std_of: Callable[[tuple[int, ...]], float]) -> Initializer:
    def init(key: Array, shape: Shape, dtype=None) -> Array:
        shape, dtype = _shape(shape), _float(dtype)
        if math.prod(shape) == 0:
            return np.zeros(shape, dtype)
        return (fgr.normal(key, shape, dtype) * dtype.type(std_of(shape))).astype(dtype)

    return init


def xavier_uniform(gain: float = 1.0) -> Initializer:
    """Glorot/Xavier uniform: ``U(-bound, bound)``, ``bound = gain * sqrt(6 / (fan_in +
    fan_out))`` (``torch.nn.init.xavier_uniform_``; alias :func:`glorot_uniform`).

    Args:
        gain: scaling factor (see :func:`calculate_gain`).

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> w = xavier_uniform()(fg.random.key(0), (20, 30))
    >>> bool(abs(w).max() <= (6 / 50) ** 0.5)
    True
    """
    return _uniform_bound(
        lambda s: gain * math.sqrt(6.0 / sum(calculate_fan_in_and_fan_out(s))))


def xavier_normal(gain: float = 1.0) -> Initializer:
    """Glorot/Xavier normal: ``N(0, std**2)``, ``std = gain * sqrt(2 / (fan_in + fan_out))``
    (``torch.nn.init.xavier_normal_``; alias :func:`glorot_normal`).

    Args:
        gain: scaling factor (see :func:`calculate_gain`).

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> xavier_normal()(fg.random.key(0), (20, 30)).shape
    (20, 30)
    """
    return _normal_std(lambda s: gain * math.sqrt(2.0 / sum(calculate_fan_in_and_fan_out(s))))


glorot_uniform = xavier_uniform
glorot_normal = xavier_normal


def kaiming_uniform(a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Initializer:
    """He/Kaiming uniform: ``U(-bound, bound)``, ``bound = gain * sqrt(3 / fan)`` with
    ``gain = calculate_gain(nonlinearity, a)`` (``torch.nn.init.kaiming_uniform_``; alias
    :func:`he_uniform`). ``torch.nn.Linear`` and ``Conv*d`` use ``a=math.sqrt(5)``.

    Args:
        a: negative slope of the rectifier that follows (for ``'leaky_relu'``).
        mode: ``'fan_in'`` preserves the forward pass's variance, ``'fan_out'`` the
            backward pass's.
        nonlinearity: ``'relu'`` or ``'leaky_relu'`` (others as :func:`calculate_gain`).

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> w = kaiming_uniform(nonlinearity="relu")(fg.random.key(0), (10, 24))
    >>> bool(abs(w).max() <= 2 ** 0.5 * (3 / 24) ** 0.5)
    True
    """
    gain = calculate_gain(nonlinearity, a)
    _fan((1, 1), mode, "kaiming_uniform")  # validate mode now
    return _uniform_bound(
        lambda s: gain * math.sqrt(3.0 / _fan(s, mode, "kaiming_uniform")))


def kaiming_normal(a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu") -> Initializer:
    """He/Kaiming normal: ``N(0, std**2)``, ``std = gain / sqrt(fan)`` with
    ``gain = calculate_gain(nonlinearity, a)`` (``torch.nn.init.kaiming_normal_``; alias
    :func:`he_normal`).

    Args:
        a: negative slope of the rectifier that follows (for ``'leaky_relu'``).
        mode: ``'fan_in'`` or ``'fan_out'``.
        nonlinearity: ``'relu'`` or ``'leaky_relu'`` (others as :func:`calculate_gain`).

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> kaiming_normal(mode="fan_out")(fg.random.key(0), (8, 4, 3, 3)).shape
    (8, 4, 3, 3)
    """
    gain = calculate_gain(nonlinearity, a)
    _fan((1, 1), mode, "kaiming_normal")
    return _normal_std(lambda s: gain / math.sqrt(_fan(s, mode, "kaiming_normal")))


he_uniform = kaiming_uniform
he_normal = kaiming_normal


def lecun_uniform() -> Initializer:
    """LeCun uniform: ``U(-bound, bound)``, ``bound = sqrt(3 / fan_in)`` (variance
    ``1 / fan_in``; ``jax.nn.initializers.lecun_uniform``).

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> w = lecun_uniform()(fg.random.key(0), (10, 12))
    >>> bool(abs(w).max() <= 0.5)
    True
    """
    return variance_scaling(1.0, "fan_in", "uniform")


def lecun_normal() -> Initializer:
    """LeCun normal: variance ``1 / fan_in`` from a normal truncated at two standard
    deviations (rescaled to keep the variance), as ``jax.nn.initializers.lecun_normal``.

    Returns:
        ``init(key, shape, dtype=None)``.

    >>> import funcgrad as fg
    >>> lecun_normal()(fg.random.key(0), (10, 12)).dtype
    dtype('float32')
    """
    return variance_scaling(1.0, "fan_in", "truncated_normal")


def orthogonal(gain: float = 1.0) -> Initializer:
    """A (semi-)orthogonal matrix, as ``torch.nn.init.orthogonal_`` (Saxe et al., 2013).

    The shape is viewed as ``(shape[0], prod(shape[1:]))``; a standard normal matrix of that
    shape (transposed if wide) is factored as ``QR`` and ``Q``, with the signs of ``diag(R)``
    applied so the result is uniformly distributed, is scaled by ``gain``. Rows are
    orthonormal when ``rows <= cols``, columns otherwise.

    Args:
        gain: scaling factor.

    Returns:
        ``init(key, shape, dtype=None)``; the key must be concrete (not traced).

    >>> import numpy as np, funcgrad as fg
    >>> q = orthogonal()(fg.random.key(0), (3, 5))
    >>> bool(np.allclose(q @ q.T, np.eye(3), atol=1e-5))
    True
    """

    def init(key: Array, shape: Shape, dtype=None) -> Array:
        shape, dtype = _shape(shape), _float(dtype)
        if len(shape) < 2:
            raise ValueError(f"orthogonal: only shapes with 2 or more dimensions are "
                             f"supported, got {shape}")
        if math.prod(shape) == 0:
            return np.zeros(shape, dtype)
        rows = shape[0]
        cols = math.prod(shape) // rows
        flat = np.asarray(fgr.normal(key, (rows, cols), np.float64))
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (gain * q).reshape(shape).astype(dtype)

    return init
