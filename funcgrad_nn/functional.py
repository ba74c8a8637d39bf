"""Layers as functions, with ``torch.nn.functional``'s names, arguments and semantics.

Everything is built on funcgrad primitives (``conv_general``, ``max_pool``, ...), so it can
be differentiated to any order and works under ``vmap`` and ``jit``. Inputs are
``(N, C, *spatial)`` or, as in PyTorch, unbatched ``(C, *spatial)``.

Two differences from PyTorch, both because funcgrad arrays are immutable and randomness is
explicit:

* :func:`dropout` takes a PRNG key first: ``dropout(key, x, p, training)``;
* :func:`batch_norm` in training mode *returns* the updated running statistics,
  ``(out, new_running_mean, new_running_var)``, instead of updating them in place.

>>> import funcgrad.numpy as fnp
>>> from funcgrad_nn import functional as F
>>> x = fnp.ones((2, 3, 8, 8))
>>> w = fnp.ones((4, 3, 3, 3))
>>> F.max_pool2d(F.conv2d(x, w, padding=1), 2).shape
(2, 4, 4, 4)
"""

# ruff: noqa: A002  (PyTorch's argument name `input` shadows the builtin on purpose)

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import random as fgr
from funcgrad._src import backend
from funcgrad._src.autodiff import stop_gradient
from funcgrad._src.core import Tracer
from funcgrad._src.ops import conv as _conv

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "dropout",
    "embedding",
    "group_norm",
    "layer_norm",
    "linear",
    "max_pool1d",
    "max_pool2d",
]

Array = Any
IntOrTuple = int | Sequence[int]


def _arr(x):
    if isinstance(x, Tracer):
        return x
    x = backend.canonicalize(x)
    return x


def _float(x):
    x = _arr(x)
    return x if x.dtype.kind in "fc" else x.astype(backend.default_float())


def _batched(name: str, x, nd: int, what: str = "C"):
    """``x`` as ``(N, C, *spatial)`` and whether a batch dim was added."""
    x = _arr(x)
    if x.ndim == nd + 2:
        return x, False
    if x.ndim == nd + 1:
        return fnp.expand_dims(x, 0), True
    sp = ", ".join("HW"[i] if nd == 2 else "L" for i in range(nd))
    raise ValueError(f"{name}: expected a {nd + 1}-D (unbatched, ({what}, {sp})) or {nd + 2}-D "
                     f"(batched, (N, {what}, {sp})) input, got shape {tuple(x.shape)}")


def _unbatch(y, added: bool):
    return y[0] if added else y


def _add_channel_bias(y, bias, nd: int):
    if bias is None:
        return y
    return y + fnp.reshape(_arr(bias), (-1,) + (1,) * nd)


# ---------------------------------------------------------------------------------------
# Linear and convolutions
# ---------------------------------------------------------------------------------------


def linear(input: Array, weight: Array, bias: Array | None = None) -> Array:
    """``input @ weight.T + bias``.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.linear(fnp.ones((2, 3)), fnp.ones((4, 3)), fnp.zeros(4)).shape
    (2, 4)
    """
    x, w = _arr(input), _arr(weight)
    if x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise ValueError(f"linear: input of shape {tuple(x.shape)} does not match weight of "
                         f"shape {tuple(w.shape)} (expected last dimension {w.shape[-1]})")
    y = fnp.matmul(x, fnp.transpose(w))
    return y if bias is None else y + bias


def _conv_nd(name, nd, input, weight, bias, stride, padding, dilation, groups):
    x, added = _batched(name, _float(input), nd, "C_in")
    w = _arr(weight)
    if w.ndim != nd + 2:
        raise ValueError(f"{name}: expected a {nd + 2}-D weight (C_out, C_in / groups, "
                         f"*kernel), got shape {tuple(w.shape)}")
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"{name}: input of shape {tuple(_arr(input).shape)} has "
                         f"{x.shape[1]} channels, but the weight of shape {tuple(w.shape)} "
                         f"with groups={groups} expects {w.shape[1] * groups}")
    b = None if bias is None else _arr(bias)
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ValueError(f"{name}: bias of shape {tuple(b.shape)} does not match the weight "
                         f"of shape {tuple(w.shape)} (expected ({w.shape[0]},))")
    # the bias is added inside the convolution, in the pass that writes its output
    return _unbatch(_conv.conv_general(x, w, stride, padding, dilation, groups, bias=b), added)


def conv1d(input: Array, weight: Array, bias: Array | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Array:
    """1-D convolution (cross-correlation) of ``(N, C_in, L)`` or ``(C_in, L)`` inputs.

    Args:
        input: ``(N, C_in, L)`` or ``(C_in, L)``.
        weight: ``(C_out, C_in / groups, K)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation, groups: as ``torch.nn.functional.conv1d`` (padding may
            be ``'same'`` or ``'valid'``).

    Returns:
        ``(N, C_out, L_out)`` (or ``(C_out, L_out)``).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.conv1d(fnp.ones((1, 2, 5)), fnp.ones((3, 2, 3))).shape
    (1, 3, 3)
    """
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Array, weight: Array, bias: Array | None = None, stride: IntOrTuple = 1,
           padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1) -> Array:
    """2-D convolution (cross-correlation) of ``(N, C_in, H, W)`` or ``(C_in, H, W)`` inputs.

    Args:
        input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, dilation, groups: as ``torch.nn.functional.conv2d`` (padding may
            be ``'same'`` or ``'valid'``).

    Returns:
        ``(N, C_out, H_out, W_out)`` (or without ``N``).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.conv2d(fnp.ones((1, 1, 5, 5)), fnp.ones((2, 1, 3, 3)), stride=2).shape
    (1, 2, 2, 2)
    """
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(name, nd, input, weight, bias, stride, padding, output_padding, groups,
                       dilation):
    x, added = _batched(name, _float(input), nd, "C_in")
    w = _arr(weight)
    if w.ndim != nd + 2 or w.shape[0] != x.shape[1]:
        raise ValueError(f"{name}: expected a weight of shape (C_in={x.shape[1]}, "
                         f"C_out / groups, *kernel) for an input of shape "
                         f"{tuple(_arr(input).shape)}, got {tuple(w.shape)}")
    y = _conv.conv_transpose(x, w, stride, padding, output_padding, dilation, groups)
    return _unbatch(_add_channel_bias(y, bias, nd), added)


def conv_transpose1d(input: Array, weight: Array, bias: Array | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Array:
    """1-D transposed convolution (the gradient of :func:`conv1d` for its input).

    Args:
        input: ``(N, C_in, L)`` or ``(C_in, L)``.
        weight: ``(C_in, C_out / groups, K)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, groups, dilation: as
            ``torch.nn.functional.conv_transpose1d``.

    Returns:
        ``(N, C_out, L_out)``, ``L_out = (L - 1) * stride - 2 * padding
        + dilation * (K - 1) + output_padding + 1``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.conv_transpose1d(fnp.ones((1, 2, 4)), fnp.ones((2, 3, 3)), stride=2).shape
    (1, 3, 9)
    """
    return _conv_transpose_nd("conv_transpose1d", 1, input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


def conv_transpose2d(input: Array, weight: Array, bias: Array | None = None,
                     stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1) -> Array:
    """2-D transposed convolution (the gradient of :func:`conv2d` for its input).

    Args:
        input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, padding, output_padding, groups, dilation: as
            ``torch.nn.functional.conv_transpose2d``.

    Returns:
        ``(N, C_out, H_out, W_out)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.conv_transpose2d(fnp.ones((1, 2, 4, 4)), fnp.ones((2, 3, 3, 3)), stride=2,
    ...                    padding=1, output_padding=1).shape
    (1, 3, 8, 8)
    """
    return _conv_transpose_nd("conv_transpose2d", 2, input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------


def _no_ceil(name, ceil_mode):
    if ceil_mode:
        raise NotImplementedError(f"{name}: ceil_mode=True is not supported")


def _max_pool_nd(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
                 return_indices):
    _no_ceil(name, ceil_mode)
    if return_indices:
        raise NotImplementedError(f"{name}: return_indices=True is not supported")
    x, added = _batched(name, input, nd)
    stride = None if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else stride
    return _unbatch(_conv.max_pool(x, kernel_size, stride, padding, dilation), added)


def max_pool1d(input: Array, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Array:
    """1-D max pooling; the gradient goes to the first maximum of each window.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size: window size.
        stride: step (default ``kernel_size``).
        padding: implicit ``-inf`` padding, at most half the window.
        dilation: spacing of the window's elements.
        ceil_mode, return_indices: only False is supported.

    Returns:
        ``(N, C, L_out)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.max_pool1d(fnp.array([[1.0, 3.0, 2.0, 0.0]]), 2)
    array([[3., 2.]], dtype=float32)
    """
    return _max_pool_nd("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


def max_pool2d(input: Array, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, dilation: IntOrTuple = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Array:
    """2-D max pooling; the gradient goes to the first maximum of each window.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size: window size, int or pair.
        stride: step (default ``kernel_size``).
        padding: implicit ``-inf`` padding, at most half the window.
        dilation: spacing of the window's elements.
        ceil_mode, return_indices: only False is supported.

    Returns:
        ``(N, C, H_out, W_out)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.max_pool2d(fnp.ones((1, 1, 4, 4)), 2).shape
    (1, 1, 2, 2)
    """
    return _max_pool_nd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                        ceil_mode, return_indices)


def _avg_pool_nd(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                 divisor_override):
    _no_ceil(name, ceil_mode)
    x, added = _batched(name, _float(input), nd)
    stride = None if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else stride
    y = _conv.avg_pool(x, kernel_size, stride, padding, count_include_pad, divisor_override)
    return _unbatch(y, added)


def avg_pool1d(input: Array, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Array:
    """1-D average pooling.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size: window size.
        stride: step (default ``kernel_size``).
        padding: implicit zero padding, at most half the window.
        ceil_mode: only False is supported.
        count_include_pad: whether the padding zeros count in the average's divisor.

    Returns:
        ``(N, C, L_out)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.avg_pool1d(fnp.array([[1.0, 3.0, 2.0, 0.0]]), 2)
    array([[2., 1.]], dtype=float32)
    """
    return _avg_pool_nd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, None)


def avg_pool2d(input: Array, kernel_size: IntOrTuple, stride: IntOrTuple | None = None,
               padding: IntOrTuple = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Array:
    """2-D average pooling.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size: window size, int or pair.
        stride: step (default ``kernel_size``).
        padding: implicit zero padding, at most half the window.
        ceil_mode: only False is supported.
        count_include_pad: whether the padding zeros count in the average's divisor.
        divisor_override: divide every window sum by this instead.

    Returns:
        ``(N, C, H_out, W_out)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.avg_pool2d(fnp.ones((1, 1, 4, 4)), 2, padding=1).shape
    (1, 1, 3, 3)
    """
    return _avg_pool_nd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                        count_include_pad, divisor_override)


def _adaptive_matrix(n_in: int, n_out: int, dtype) -> np.ndarray:
    """``(n_out, n_in)`` averaging matrix of PyTorch's adaptive bins
    ``[floor(i * n_in / n_out), ceil((i + 1) * n_in / n_out))``."""
    m = np.zeros((n_out, n_in), dtype)
    for i in range(n_out):
        lo = (i * n_in) // n_out
        hi = -((-(i + 1) * n_in) // n_out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def adaptive_avg_pool2d(input: Array, output_size: int | None | Sequence[int | None]) -> Array:
    """2-D adaptive average pooling to a fixed output size (PyTorch's bins).

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        output_size: ``(H_out, W_out)``, an int for both, ``None`` entries keep the input's.

    Returns:
        ``(N, C, H_out, W_out)``. When the sizes divide evenly this is an average pool;
        otherwise two small matrix products with the (overlapping) bins.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.adaptive_avg_pool2d(fnp.ones((2, 3, 7, 5)), (2, 1)).shape
    (2, 3, 2, 1)
    """
    x, added = _batched("adaptive_avg_pool2d", _float(input), 2)
    h, w = x.shape[2:]
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    oh, ow = (h if o is None else int(o) for o in output_size)
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got "
                         f"{output_size}")
    if h % oh == 0 and w % ow == 0:
        y = _conv.avg_pool(x, (h // oh, w // ow)) if (oh, ow) != (h, w) else x
    else:
        y = fnp.matmul(_adaptive_matrix(h, oh, x.dtype), x)
        y = fnp.matmul(y, _adaptive_matrix(w, ow, x.dtype).T)
    return _unbatch(y, added)


# ---------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------


def dropout(key: Array | None, input: Array, p: float = 0.5, training: bool = True) -> Array:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Args:
        key: a PRNG key (``fg.random.key``); required when ``training`` and ``p > 0``.
        input: any shape.
        p: drop probability in ``[0, 1]``.
        training: apply dropout (otherwise the identity).

    Returns:
        The input with dropout applied. Under ``vmap`` with an unbatched key every
        example gets the same mask; map over split keys for independent masks.

    Raises:
        ValueError: ``p`` outside ``[0, 1]``, or no key in training mode.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> y = F.dropout(fg.random.key(0), fnp.ones(1000), 0.5)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    x = _float(input)
    if not training or p == 0.0:
        return x
    if key is None:
        raise ValueError("dropout: training mode needs a PRNG key, e.g. "
                         "dropout(fg.random.key(0), x, p) (modules: apply(..., key=key, "
                         "train=True)); pass training=False for evaluation")
    if p == 1.0:
        return x * 0.0
    keep = fgr.bernoulli(key, 1.0 - p, tuple(x.shape))
    return x * (keep.astype(x.dtype) * (1.0 / (1.0 - p)))


# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------


def _channel_shape(x, c_axis: int = 1) -> tuple[int, ...]:
    return tuple(-1 if i == c_axis else 1 for i in range(x.ndim))


def batch_norm(input: Array, running_mean: Array | None, running_var: Array | None,
               weight: Array | None = None, bias: Array | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """Batch normalisation over ``(N, C, *)`` inputs, per channel ``C``.

    In training mode (or without running statistics) the batch's mean and biased variance
    normalise the input; otherwise the running statistics do.

    Args:
        input: ``(N, C)`` or ``(N, C, *spatial)``.
        running_mean, running_var: ``(C,)`` or None.
        weight, bias: the affine ``(C,)`` scale and shift, or None.
        training: use (and update) the batch statistics.
        momentum: the running statistics move this fraction toward the batch's.
        eps: added to the variance.

    Returns:
        ``out`` in evaluation mode (or without running statistics); in training mode with
        running statistics ``(out, new_running_mean, new_running_var)``, updated as PyTorch
        (the running variance with the unbiased batch variance); they carry no gradient.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> x = fnp.array([[1.0, 2.0], [3.0, 6.0]])
    >>> out, m, v = F.batch_norm(x, fnp.zeros(2), fnp.ones(2), training=True)
    >>> out.round(4)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> m, v
    (array([0.2, 0.4], dtype=float32), array([1.1, 1.7], dtype=float32))
    """
    x = _float(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, *), got shape "
                         f"{tuple(x.shape)}")
    axes = (0,) + tuple(range(2, x.ndim))
    cshape = _channel_shape(x)
    track = running_mean is not None and running_var is not None
    if training or not track:
        n = math.prod(x.shape[i] for i in axes)
        if training and n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(x.shape)}")
        mean = fnp.mean(x, axis=axes, keepdims=True)
        xc = x - mean
        var = fnp.mean(fnp.square(xc), axis=axes, keepdims=True)
    else:
        mean = fnp.reshape(running_mean, cshape)
        xc = x - mean
        var = fnp.reshape(running_var, cshape)
    out = xc * (1.0 / fnp.sqrt(var + eps))
    if weight is not None:
        out = out * fnp.reshape(weight, cshape)
    if bias is not None:
        out = out + fnp.reshape(bias, cshape)
    if not (training and track):
        return out
    bm = stop_gradient(fnp.reshape(mean, (-1,)))
    bv = stop_gradient(fnp.reshape(var, (-1,))) * (n / (n - 1))
    rm, rv = _arr(running_mean), _arr(running_var)
    new_mean = (1.0 - momentum) * rm + momentum * bm.astype(rm.dtype)
    new_var = (1.0 - momentum) * rv + momentum * bv.astype(rv.dtype)
    return out, new_mean, new_var


def layer_norm(input: Array, normalized_shape: int | Sequence[int], weight: Array | None = None,
               bias: Array | None = None, eps: float = 1e-5) -> Array:
    """Layer normalisation over the trailing ``normalized_shape`` dimensions.

    Args:
        input: ``(*, *normalized_shape)``.
        normalized_shape: the trailing shape to normalise over.
        weight, bias: elementwise affine parameters of shape ``normalized_shape``, or None.
        eps: added to the (biased) variance.

    Returns:
        Same shape as ``input``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.layer_norm(fnp.array([[1.0, 3.0]]), (2,)).round(4)
    array([[-1.,  1.]], dtype=float32)
    """
    x = _float(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(normalized_shape)
    k = len(shape)
    if tuple(x.shape[x.ndim - k:]) != shape or x.ndim < k:
        raise ValueError(f"layer_norm: expected input with trailing shape {shape}, got "
                         f"shape {tuple(x.shape)}")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = fnp.mean(x, axis=axes, keepdims=True)
    xc = x - mean
    var = fnp.mean(fnp.square(xc), axis=axes, keepdims=True)
    out = xc * (1.0 / fnp.sqrt(var + eps))
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input: Array, num_groups: int, weight: Array | None = None,
               bias: Array | None = None, eps: float = 1e-5) -> Array:
    """Group normalisation: channels split into ``num_groups`` groups, each normalised
    over its channels and the spatial dimensions.

    Args:
        input: ``(N, C, *)`` with ``C`` divisible by ``num_groups``.
        num_groups: number of groups.
        weight, bias: per-channel ``(C,)`` affine parameters, or None.
        eps: added to the (biased) variance.

    Returns:
        Same shape as ``input``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.group_norm(fnp.array([[1.0, 3.0, 0.0, 0.0]]), 2).round(4)
    array([[-1.,  1.,  0.,  0.]], dtype=float32)
    """
    x = _float(input)
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected an input (N, C, *) with C divisible by "
                         f"num_groups={num_groups}, got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    xg = fnp.reshape(x, (n, num_groups, -1))
    mean = fnp.mean(xg, axis=2, keepdims=True)
    xc = xg - mean
    var = fnp.mean(fnp.square(xc), axis=2, keepdims=True)
    out = fnp.reshape(xc * (1.0 / fnp.sqrt(var + eps)), tuple(x.shape))
    cshape = _channel_shape(x)
    if weight is not None:
        out = out * fnp.reshape(weight, cshape)
    if bias is not None:
        out = out + fnp.reshape(bias, cshape)
    return out


# ---------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------


def embedding(input: Array, weight: Array, padding_idx: int | None = None) -> Array:
    """Rows of ``weight`` looked up by integer indices.

    Args:
        input: integer array of any shape, values in ``[0, num_embeddings)``.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: entries equal to it get no gradient (negative counts from the end).

    Returns:
        ``input.shape + (embedding_dim,)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn import functional as F
    >>> F.embedding(fnp.array([[0, 2]]), fnp.arange(6.0).reshape(3, 2))
    array([[[0., 1.],
            [4., 5.]]], dtype=float32)
    """
    idx = _arr(input)
    w = _arr(weight)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"embedding: expected integer indices, got dtype {idx.dtype}")
    if w.ndim != 2:
        raise ValueError(f"embedding: expected a 2-D weight (num_embeddings, embedding_dim), "
                         f"got shape {tuple(w.shape)}")
    out = fnp.take(w, idx, axis=0)
    if padding_idx is None:
        return out
    pad = padding_idx % w.shape[0]
    live = fnp.expand_dims(idx != pad, -1)
    return fnp.where(live, out, stop_gradient(out))
