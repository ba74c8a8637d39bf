"""``funcgrad.nn``: activation functions and friends, with ``jax.nn``'s names and semantics.

Everything here is built from funcgrad operations, so it can be differentiated to any order,
batched with ``vmap`` and compiled with ``jit``. The log-domain functions (:func:`softplus`,
:func:`log_sigmoid`, :func:`log_softmax`, :func:`logsumexp`) are stable: neither their
values nor their gradients overflow or become NaN for inputs of any magnitude.

Conventions at the kinks follow JAX: ``relu`` has gradient 0 at 0, ``relu6`` gradient 0 at
0 and 6, ``leaky_relu`` and ``hard_tanh`` gradient 1 at their kinks.

>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> from funcgrad import nn
>>> nn.relu(fnp.array([-1.0, 0.0, 2.0]))
array([0., 0., 2.], dtype=float32)
>>> fg.grad(lambda x: fnp.sum(nn.relu(x)))(fnp.array([-1.0, 0.0, 2.0]))
array([0., 0., 1.], dtype=float32)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from funcgrad._src import backend
from funcgrad._src.core import Tracer
from funcgrad._src.custom import custom_jvp
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops import reductions as red
from funcgrad._src.ops import shape as sh
from funcgrad._src.ops.creation import as_inexact
from funcgrad._src.ops.elementwise import logistic
from funcgrad._src.ops.special import erf, logaddexp
from funcgrad.scipy.special import log_softmax, logsumexp, softmax

__all__ = [
    "celu",
    "elu",
    "gelu",
    "glu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "mish",
    "one_hot",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_sign",
    "softmax",
    "softplus",
    "standardize",
    "swish",
]

Array = Any  # an array, a Python scalar or a traced value

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)


_inexact = as_inexact


# ---------------------------------------------------------------------------------------
# Rectifiers
# ---------------------------------------------------------------------------------------


def _relu(x):
    return ew._unop(ew.relu_p, x)


@custom_jvp
def _relu6(x):
    return ew.minimum(ew.maximum(x, 0), 6)


_relu6.defjvps(lambda t, ans, x: ew.where(
    ew.logical_and(ew.greater(x, 0), ew.less(x, 6)), t, 0))


def relu(x: Array) -> Array:
    """The rectified linear unit ``max(x, 0)``; its gradient at 0 is 0 (as JAX).

    Args:
        x: input array.

    Returns:
        ``max(x, 0)`` (NaN stays NaN).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.relu(fnp.array([-2.0, 3.0]))
    array([0., 3.], dtype=float32)
    """
    return _relu(_inexact(x))


def relu6(x: Array) -> Array:
    """``min(max(x, 0), 6)``; its gradient is 0 at 0 and at 6 (as JAX).

    Args:
        x: input array.

    Returns:
        ``x`` clipped to ``[0, 6]``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.relu6(fnp.array([-1.0, 3.0, 7.0]))
    array([0., 3., 6.], dtype=float32)
    """
    return _relu6(_inexact(x))


def leaky_relu(x: Array, negative_slope: float = 0.01) -> Array:
    """``x`` where ``x >= 0``, else ``negative_slope * x`` (gradient 1 at 0, as JAX).

    Args:
        x: input array.
        negative_slope: slope for negative inputs.

    Returns:
        The leaky rectified input.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.leaky_relu(fnp.array([-2.0, 3.0]), negative_slope=0.5)
    array([-1.,  3.], dtype=float32)
    """
    x = _inexact(x)
    return ew.where(ew.greater_equal(x, 0), x, ew.multiply(x, negative_slope))


def elu(x: Array, alpha: float = 1.0) -> Array:
    """The exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Args:
        x: input array.
        alpha: saturation value for large negative inputs is ``-alpha``.

    Returns:
        ``elu(x)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.elu(fnp.array([0.0, 2.0]))
    array([0., 2.], dtype=float32)
    """
    x = _inexact(x)
    positive = ew.greater(x, 0)
    safe_x = ew.where(positive, 0, x)  # no overflow in the branch not taken
    return ew.where(positive, x, ew.multiply(alpha, ew.expm1(safe_x)))


def selu(x: Array) -> Array:
    """The scaled exponential linear unit ``scale * elu(x, alpha)`` with the self-normalising
    constants ``alpha ~ 1.6733`` and ``scale ~ 1.0507`` (Klambauer et al., 2017).

    Args:
        x: input array.

    Returns:
        ``selu(x)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.selu(fnp.array([0.0, 1.0]))
    array([0.      , 1.050701], dtype=float32)
    """
    return ew.multiply(_SELU_SCALE, elu(x, _SELU_ALPHA))


def celu(x: Array, alpha: float = 1.0) -> Array:
    """The continuously differentiable ELU ``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``.

    Args:
        x: input array.
        alpha: saturation value for large negative inputs is ``-alpha``.

    Returns:
        ``celu(x)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.celu(fnp.array([0.0, 2.0]))
    array([0., 2.], dtype=float32)
    """
    x = _inexact(x)
    neg = ew.expm1(ew.divide(ew.minimum(x, 0), alpha))
    return ew.add(ew.maximum(x, 0), ew.multiply(alpha, neg))


# ---------------------------------------------------------------------------------------
# Smooth activations
# ---------------------------------------------------------------------------------------


def sigmoid(x: Array) -> Array:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, stable for any ``x``.

    Args:
        x: input array.

    Returns:
        Values in ``[0, 1]``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.sigmoid(fnp.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    return logistic(_inexact(x))


def softplus(x: Array) -> Array:
    """``log(1 + exp(x))``, computed as ``logaddexp(x, 0)``: no overflow at any magnitude,
    and the gradient ``sigmoid(x)`` is exact.

    Args:
        x: input array.

    Returns:
        ``softplus(x) > 0``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.softplus(fnp.array([-1e4, 1e4]))
    array([    0., 10000.], dtype=float32)
    """
    return logaddexp(_inexact(x), 0)


def log_sigmoid(x: Array) -> Array:
    """``log(sigmoid(x)) = -softplus(-x)``, stable at any magnitude.

    Args:
        x: input array.

    Returns:
        Values ``<= 0``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.log_sigmoid(fnp.array([-1e4, 1e4]))
    array([-10000.,     -0.], dtype=float32)
    """
    return ew.negative(softplus(ew.negative(_inexact(x))))


def silu(x: Array) -> Array:
    """The sigmoid linear unit ``x * sigmoid(x)`` (alias :func:`swish`).

    Args:
        x: input array.

    Returns:
        ``x * sigmoid(x)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.silu(fnp.array([0.0, 1e4]))
    array([    0., 10000.], dtype=float32)
    """
    x = _inexact(x)
    return ew.multiply(x, logistic(x))


swish = silu


def gelu(x: Array, approximate: bool = True) -> Array:
    """The Gaussian error linear unit ``x * Phi(x)`` (Hendrycks and Gimpel, 2016).

    NOTE: like ``jax.nn.gelu``, the default is the tanh approximation
    ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``; PyTorch's default is the exact
    ``approximate='none'``. Pass ``approximate=False`` for the exact ``x/2 (1 + erf(x/sqrt 2))``.

    Args:
        x: input array.
        approximate: use the tanh approximation.

    Returns:
        ``gelu(x)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.gelu(fnp.array([0.0, 10.0]), approximate=False)
    array([ 0., 10.], dtype=float32)
    """
    x = _inexact(x)
    if approximate:
        inner = ew.multiply(_SQRT_2_OVER_PI, ew.add(x, ew.multiply(0.044715, ew.power(x, 3))))
        cdf = ew.multiply(0.5, ew.add(ew.tanh(inner), 1))
    else:
        cdf = ew.multiply(0.5, ew.add(erf(ew.multiply(x, _SQRT_HALF)), 1))
    return ew.multiply(x, cdf)


def mish(x: Array) -> Array:
    """``x * tanh(softplus(x))`` (Misra, 2019).

    Args:
        x: input array.

    Returns:
        ``mish(x)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.mish(fnp.array([0.0, 1e4]))
    array([    0., 10000.], dtype=float32)
    """
    x = _inexact(x)
    return ew.multiply(x, ew.tanh(softplus(x)))


def soft_sign(x: Array) -> Array:
    """``x / (|x| + 1)``.

    Args:
        x: input array.

    Returns:
        Values in ``(-1, 1)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.soft_sign(fnp.array([-1.0, 3.0]))
    array([-0.5 ,  0.75], dtype=float32)
    """
    x = _inexact(x)
    return ew.divide(x, ew.add(ew.absolute(x), 1))


# ---------------------------------------------------------------------------------------
# Piecewise linear
# ---------------------------------------------------------------------------------------


def hard_tanh(x: Array) -> Array:
    """``x`` clipped to ``[-1, 1]``; the gradient is 1 on the closed interval (as JAX).

    Args:
        x: input array.

    Returns:
        ``clip(x, -1, 1)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.hard_tanh(fnp.array([-2.0, 0.5, 2.0]))
    array([-1. ,  0.5,  1. ], dtype=float32)
    """
    x = _inexact(x)
    return ew.where(ew.greater(x, 1), 1, ew.where(ew.less(x, -1), -1, x))


def hard_sigmoid(x: Array) -> Array:
    """``relu6(x + 3) / 6``, a piecewise linear sigmoid.

    Args:
        x: input array.

    Returns:
        Values in ``[0, 1]``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.hard_sigmoid(fnp.array([-4.0, 0.0, 4.0]))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    return ew.divide(relu6(ew.add(_inexact(x), 3)), 6)


def hard_silu(x: Array) -> Array:
    """``x * hard_sigmoid(x)`` (alias :func:`hard_swish`).

    Args:
        x: input array.

    Returns:
        ``hard_silu(x)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.hard_silu(fnp.array([-4.0, 0.0, 4.0]))
    array([-0.,  0.,  4.], dtype=float32)
    """
    x = _inexact(x)
    return ew.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def glu(x: Array, axis: int = -1) -> Array:
    """The gated linear unit: split ``x`` in halves ``a, b`` along ``axis``; ``a * sigmoid(b)``.

    Args:
        x: input array; ``x.shape[axis]`` must be even.
        axis: the axis to split.

    Returns:
        An array with ``x.shape[axis] // 2`` along ``axis``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.glu(fnp.array([[2.0, 0.0]]))
    array([[1.]], dtype=float32)
    """
    x = _inexact(x)
    ax = axis % x.ndim if x.ndim else 0
    n = x.shape[ax] if x.ndim else 0
    if n % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even, got shape {tuple(x.shape)}")
    first = (slice(None),) * ax + (slice(0, n // 2),)
    second = (slice(None),) * ax + (slice(n // 2, n),)
    return ew.multiply(x[first], logistic(x[second]))


# ---------------------------------------------------------------------------------------
# Encodings and normalisation
# ---------------------------------------------------------------------------------------


def one_hot(x: Array, num_classes: int, dtype=None, axis: int = -1) -> Array:
    """One-hot encode integer labels: ``out[..., c] = (x[...] == c)``.

    Labels outside ``[0, num_classes)`` give rows of zeros (as JAX). The result is data: it
    carries no gradient.

    Args:
        x: integer labels (any shape).
        num_classes: a static Python integer, the length of the new axis.
        dtype: the result's dtype; float32 by default (float64 in 64-bit mode), as JAX.
        axis: where to put the new class axis in the result.

    Returns:
        An array of shape ``x.shape`` with ``num_classes`` inserted at ``axis``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.one_hot(fnp.array([0, 2, 5]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.]], dtype=float32)
    """
    if isinstance(num_classes, Tracer):
        raise TypeError("one_hot: num_classes must be a static Python integer, got a traced "
                        "value")
    num_classes = int(num_classes)
    if not isinstance(x, Tracer):
        x = backend.canonicalize(x)
    out_ndim = x.ndim + 1
    if not -out_ndim <= axis < out_ndim:
        raise ValueError(f"one_hot: axis {axis} is out of bounds for a result of dimension "
                         f"{out_ndim}")
    axis = axis % out_ndim
    classes = np.arange(num_classes).reshape(
        tuple(num_classes if i == axis else 1 for i in range(out_ndim)))
    hot = ew.equal(sh.expand_dims(x, axis), classes)
    return hot.astype(backend.default_float() if dtype is None else np.dtype(dtype))


def standardize(x: Array, axis: int | tuple[int, ...] | None = -1, mean: Array | None = None,
                variance: Array | None = None, epsilon: float = 1e-5) -> Array:
    """Normalise ``x`` to mean 0 and variance 1 over ``axis``: ``(x - mean) / sqrt(var + eps)``.

    Statistics not given are computed from ``x`` over ``axis`` (kept dims), the variance as
    ``mean((x - mean(x))**2)`` (JAX uses ``mean(x**2) - mean(x)**2``, which can cancel
    catastrophically in float32; when only ``mean`` is given the two also differ).

    Args:
        x: input array.
        axis: axis or axes holding the features to normalise over.
        mean: optional mean, broadcasting against ``x``.
        variance: optional variance, broadcasting against ``x``.
        epsilon: added to the variance for stability.

    Returns:
        The standardised array, of ``x``'s shape.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad import nn
    >>> nn.standardize(fnp.array([1.0, 3.0]), epsilon=0.0)
    array([-1.,  1.], dtype=float32)
    """
    x = _inexact(x)
    if mean is None:
        mean = red.mean(x, axis=axis, keepdims=True)
    if variance is None:
        variance = red.var(x, axis=axis, keepdims=True)
    return ew.divide(ew.subtract(x, mean), ew.sqrt(ew.add(variance, epsilon)))

