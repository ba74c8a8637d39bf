"""Loss functions with ``torch.nn.functional``'s names, signatures and semantics.

Every loss takes ``reduction='mean' | 'sum' | 'none'`` (``kl_div`` also ``'batchmean'``),
is built from differentiable funcgrad operations (any order, under ``vmap`` and ``jit``), and
is stable for logits of any magnitude: values and gradients stay finite at ``±1e4`` in
float32. Integer class targets are data and carry no gradient. Shapes are checked eagerly:
a mismatch raises a ``ValueError`` naming the loss, the argument and both shapes.

Float targets that are plain arrays are cast to the input's dtype (so float64 labels do
not silently promote a float32 model's loss).

>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> from funcgrad_nn import losses
>>> logits = fnp.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
>>> round(float(losses.cross_entropy(logits, fnp.array([0, 2]))), 4)
0.6691
>>> fg.grad(losses.cross_entropy)(logits, fnp.array([0, 2])).shape
(2, 3)
"""

# ruff: noqa: A001, A002  (PyTorch's argument name `input` shadows the builtin on purpose)

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._src import backend
from funcgrad._src.core import Tracer
from funcgrad._src.custom import custom_jvp
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops import reductions as red
from funcgrad._src.ops import shape as sh
from funcgrad._src.ops.creation import as_inexact
from funcgrad._src.ops.indexing import take, take_along_axis
from funcgrad._src.ops.special import logaddexp, xlogy
from funcgrad.scipy.special import log_softmax

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]

Array = Any

_REDUCTIONS = ("mean", "sum", "none")

# ---------------------------------------------------------------------------------------
# Argument checking and reduction
# ---------------------------------------------------------------------------------------


def _shape(x) -> tuple[int, ...]:
    return tuple(x.shape)


_inexact = as_inexact


def _float_like(x, ref):
    """A float argument (target, weight): plain arrays take ``ref``'s dtype."""
    if isinstance(x, Tracer):
        return x if x.dtype.kind in "fc" else x.astype(ref.dtype)
    x = backend.canonicalize(x)
    return x if x.dtype == ref.dtype else x.astype(ref.dtype)


def _check_reduction(name: str, reduction: str, allowed=_REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{name}: reduction must be one of {', '.join(map(repr, allowed))}; "
                         f"got {reduction!r}")


def _check_same_shape(name: str, input, other, arg: str = "target") -> None:
    if _shape(input) != _shape(other):
        raise ValueError(f"{name}: '{arg}' must have the same shape as 'input'; got input "
                         f"shape {_shape(input)} and {arg} shape {_shape(other)}")


def _check_broadcasts(name: str, arg: str, x, shape) -> None:
    try:
        ok = np.broadcast_shapes(_shape(x), tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: '{arg}' of shape {_shape(x)} does not broadcast to the "
                         f"input shape {tuple(shape)}")


def _reduce(loss, reduction: str):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return red.sum(loss)
    return red.mean(loss)


def _class_layout(name: str, input) -> tuple[int, tuple[int, ...]]:
    """Class axis (1, or 0 for an unbatched ``(C,)`` input) and the index-target shape."""
    if input.ndim == 0:
        raise ValueError(f"{name}: 'input' must have a class dimension, got a scalar")
    axis = 0 if input.ndim == 1 else 1
    shape = _shape(input)
    return axis, shape[:axis] + shape[axis + 1:]


def _class_weight(name: str, weight, input, axis: int):
    """The ``(C,)`` class weight (checked), and the same reshaped to broadcast along ``axis``."""
    n_classes = input.shape[axis]
    weight = _float_like(weight, input)
    if _shape(weight) != (n_classes,):
        raise ValueError(f"{name}: 'weight' must have shape (C,) = ({n_classes},) for input "
                         f"shape {_shape(input)}; got weight shape {_shape(weight)}")
    bshape = tuple(n_classes if i == axis else 1 for i in range(input.ndim))
    return weight, sh.reshape(weight, bshape)


def _check_index_target(name: str, target, expected: tuple[int, ...], input,
                        n_classes: int, ignore_index: int) -> None:
    if target.dtype.kind not in "iu":
        raise ValueError(f"{name}: 'target' must hold integer class indices of shape "
                         f"{expected} (or, for cross_entropy, class probabilities of the input "
                         f"shape {_shape(input)}); got dtype {target.dtype} and shape "
                         f"{_shape(target)}")
    if _shape(target) != expected:
        raise ValueError(f"{name}: 'target' of class indices must have shape {expected} for "
                         f"input shape {_shape(input)}; got target shape {_shape(target)}")
    if not isinstance(target, Tracer) and target.size:
        t = np.asarray(target)
        bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise ValueError(f"{name}: 'target' values must be in [0, {n_classes}) or equal "
                             f"ignore_index={ignore_index}; got {t[bad].ravel()[0]}")


# ---------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------


def _nll(name, input, target, weight, ignore_index, reduction):
    """``nll_loss`` on checked arguments; returns the reduced loss and its denominator."""
    axis, expected = _class_layout(name, input)
    n_classes = input.shape[axis]
    if not isinstance(target, Tracer):
        target = np.asarray(target)
    _check_index_target(name, target, expected, input, n_classes, ignore_index)
    if weight is None and not isinstance(target, Tracer) and target.size and \
            not (target == ignore_index).any():
        # Concrete targets with nothing ignored (the common case in eager training): no
        # masking ops on the tape; the same values as the general path below.
        if input.size <= 1 << 20:  # a constant one-hot mask: no gather/scatter on the tape
            mask = np.moveaxis(np.eye(n_classes, dtype=input.dtype)[target], -1, axis)
            picked = red.sum(ew.multiply(input, mask), axis=axis)
        else:
            picked = sh.squeeze(take_along_axis(input, sh.expand_dims(target, axis), axis),
                                axis)
        loss = ew.negative(picked)
        w = np.ones(target.shape, input.dtype)
        if reduction == "none":
            return loss, w
        total = red.sum(loss)
        return (total if reduction == "sum" else ew.divide(total, target.size)), w
    valid = ew.not_equal(target, ignore_index)
    safe = ew.where(valid, target, 0)
    picked = sh.squeeze(take_along_axis(input, sh.expand_dims(safe, axis), axis), axis)
    if weight is None:
        w = valid.astype(input.dtype)
        loss = ew.where(valid, ew.negative(picked), 0)
    else:
        w_all = take(weight, safe)
        w = ew.where(valid, w_all, 0)
        loss = ew.where(valid, ew.negative(ew.multiply(w_all, picked)), 0)
    if reduction == "none":
        return loss, w
    total = red.sum(loss)
    if reduction == "sum":
        return total, w
    return ew.divide(total, red.sum(w)), w


def nll_loss(input: Array, target: Array, weight: Array | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Array:
    """The negative log-likelihood loss on log-probabilities (``torch.nn.functional.nll_loss``).

    ``loss[n] = -weight[target[n]] * input[n, target[n]]``, 0 where ``target == ignore_index``.
    ``'mean'`` divides the sum by the total weight of the non-ignored targets (NaN if every
    target is ignored, as PyTorch).

    Args:
        input: log-probabilities of shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: integer class indices of shape ``(N,)``, ``(N, d1, ...)`` or ``()``.
        weight: optional per-class weights of shape ``(C,)``.
        ignore_index: target value that contributes nothing (to the loss or the mean).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        The reduced loss, or with ``'none'`` one value per target.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import nll_loss
    >>> logp = fnp.array([[-1.0, -2.0], [-3.0, -4.0]])
    >>> nll_loss(logp, fnp.array([0, 1]), reduction="none")
    array([1., 4.], dtype=float32)
    >>> nll_loss(logp, fnp.array([0, -100]))  # the ignored target is left out of the mean
    array(1., dtype=float32)
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    input = _inexact(input)
    if weight is not None:
        weight, _ = _class_weight(name, weight, input, _class_layout(name, input)[0])
    return _nll(name, input, target, weight, ignore_index, reduction)[0]


def cross_entropy(input: Array, target: Array, weight: Array | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Array:
    """Cross-entropy between logits and targets (``torch.nn.functional.cross_entropy``).

    Computed as ``nll_loss(log_softmax(input, axis=1), ...)`` with a max-shifted, stable
    ``log_softmax``, so any logits give finite values and gradients. Two kinds of target:

    * integer class indices of shape ``(N,)`` / ``(N, d1, ...)`` / ``()``, with ``weight``,
      ``ignore_index`` and ``'mean'`` dividing by the total weight of non-ignored targets;
      with ``label_smoothing = e``, the loss is ``(1 - e) * nll + e / C * smooth`` where
      ``smooth = -sum_c weight[c] * log_softmax(input)[c]`` (PyTorch's formula);
    * class probabilities of the input's shape (float), with the target mixed as
      ``target * (1 - e) + e / C``; ``'mean'`` divides by ``N * d1 * ...`` and
      ``ignore_index`` does not apply.

    Args:
        input: logits of shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices or class probabilities, as above.
        weight: optional per-class weights of shape ``(C,)``.
        ignore_index: class-index target value that contributes nothing.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: ``e`` in ``[0, 1]``.

    Returns:
        The reduced loss, or with ``'none'`` one value per target position.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import cross_entropy
    >>> cross_entropy(fnp.array([[1e4, -1e4]]), fnp.array([1]))
    array(20000., dtype=float32)
    >>> cross_entropy(fnp.array([[0.0, 0.0]]), fnp.array([[0.5, 0.5]]))
    array(0.6931472, dtype=float32)
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = _inexact(input)
    axis, _ = _class_layout(name, input)
    n_classes = input.shape[axis]
    w, w_b = (None, None) if weight is None else _class_weight(name, weight, input, axis)
    logp = log_softmax(input, axis=axis)
    if not isinstance(target, Tracer):
        target = np.asarray(target)
    if target.dtype.kind in "fc":  # class probabilities
        _check_same_shape(name, input, target)
        target = _float_like(target, input)
        if label_smoothing > 0:
            target = ew.add(ew.multiply(target, 1.0 - label_smoothing),
                            label_smoothing / n_classes)
        prod = ew.multiply(logp, target)
        if w_b is not None:
            prod = ew.multiply(prod, w_b)
        if reduction == "none":
            return ew.negative(red.sum(prod, axis=axis))
        total = ew.negative(red.sum(prod))
        if reduction == "sum":
            return total
        return ew.divide(total, max(input.size // n_classes, 1) if input.size else 0)
    nll, w_picked = _nll(name, logp, target, w, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    valid = ew.not_equal(target, ignore_index)
    per_class = logp if w_b is None else ew.multiply(logp, w_b)
    smooth = ew.where(valid, ew.negative(red.sum(per_class, axis=axis)), 0)
    if reduction == "sum":
        smooth = red.sum(smooth)
    elif reduction == "mean":
        smooth = ew.divide(red.sum(smooth), red.sum(w_picked))
    return ew.add(ew.multiply(1.0 - label_smoothing, nll),
                  ew.multiply(label_smoothing / n_classes, smooth))


def _positive_log(x):
    """``log(x)`` clamped below at -100, as PyTorch's BCE: no warning, no NaN, at ``x <= 0``."""
    pos = ew.greater(x, 0)
    return ew.maximum(ew.where(pos, ew.log(ew.where(pos, x, 1)), -100.0), -100.0)


@custom_jvp
def _bce(x, t):
    return ew.negative(ew.add(ew.multiply(t, _positive_log(x)),
                              ew.multiply(ew.subtract(1, t), _positive_log(ew.subtract(1, x)))))


def _bce_jvp(primals, tangents):
    # PyTorch's derivatives: (x - t) / max(x (1 - x), 1e-12) for the input, finite at 0 and
    # 1; log(1 - x) - log(x), both clamped at -100, for the target.
    x, t = primals
    tx, tt = tangents
    dx = ew.divide(ew.subtract(x, t), ew.maximum(ew.multiply(x, ew.subtract(1, x)), 1e-12))
    dt = ew.subtract(_positive_log(ew.subtract(1, x)), _positive_log(x))
    return _bce(x, t), ew.add(ew.multiply(tx, dx), ew.multiply(tt, dt))


_bce.defjvp(_bce_jvp)


def binary_cross_entropy(input: Array, target: Array, weight: Array | None = None,
                         reduction: str = "mean") -> Array:
    """Binary cross-entropy between probabilities and targets
    (``torch.nn.functional.binary_cross_entropy``).

    ``loss = -weight * (target * log(input) + (1 - target) * log(1 - input))`` with both logs
    clamped at -100, and PyTorch's gradient ``(input - target) / max(input (1 - input),
    1e-12)``, so inputs of exactly 0 or 1 give finite values and gradients. Prefer
    :func:`binary_cross_entropy_with_logits`, which is exact for any logit.

    Args:
        input: probabilities in ``[0, 1]``, any shape.
        target: targets of the same shape (usually 0 or 1).
        weight: optional rescaling weights broadcasting to the input's shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        The reduced loss, or with ``'none'`` one value per element.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import binary_cross_entropy
    >>> binary_cross_entropy(fnp.array([0.0, 1.0]), fnp.array([1.0, 0.0]), reduction="none")
    array([100., 100.], dtype=float32)
    """
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    input = _inexact(input)
    _check_same_shape(name, input, target)
    loss = _bce(input, _float_like(target, input))
    if weight is not None:
        weight = _float_like(weight, input)
        _check_broadcasts(name, "weight", weight, input.shape)
        loss = ew.multiply(loss, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Array, target: Array, weight: Array | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Array | None = None) -> Array:
    """Binary cross-entropy on logits (``torch.nn.functional.binary_cross_entropy_with_logits``).

    ``loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus(-input)``,
    times ``weight``; ``softplus`` is ``logaddexp(., 0)``, exact and finite for any logit.

    Args:
        input: logits, any shape.
        target: targets in ``[0, 1]`` of the same shape.
        weight: optional rescaling weights broadcasting to the input's shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: optional weight of positive examples, broadcasting to the input's shape
            (usually one per class, along the last axis).

    Returns:
        The reduced loss, or with ``'none'`` one value per element.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import binary_cross_entropy_with_logits
    >>> binary_cross_entropy_with_logits(fnp.array([-1e4, 1e4]), fnp.array([1.0, 0.0]),
    ...                                  reduction="none")
    array([10000., 10000.], dtype=float32)
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    input = _inexact(input)
    _check_same_shape(name, input, target)
    target = _float_like(target, input)
    softplus_neg = logaddexp(ew.negative(input), 0)
    if pos_weight is not None:
        pos_weight = _float_like(pos_weight, input)
        _check_broadcasts(name, "pos_weight", pos_weight, input.shape)
        softplus_neg = ew.multiply(
            ew.add(1, ew.multiply(ew.subtract(pos_weight, 1), target)), softplus_neg)
    loss = ew.add(ew.multiply(ew.subtract(1, target), input), softplus_neg)
    if weight is not None:
        weight = _float_like(weight, input)
        _check_broadcasts(name, "weight", weight, input.shape)
        loss = ew.multiply(loss, weight)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------------


def _pointwise(name, input, target, weight, reduction):
    """Check a regression loss's arguments; return ``input, target, weight``."""
    _check_reduction(name, reduction)
    input = _inexact(input)
    _check_same_shape(name, input, target)
    target = _float_like(target, input)
    if weight is not None:
        weight = _float_like(weight, input)
        _check_same_shape(name, input, weight, "weight")
    return input, target, weight


def _weighted_sum_over_weight(loss, weight, reduction):
    if weight is None:
        return _reduce(loss, reduction)
    loss = ew.multiply(loss, weight)
    if reduction == "mean":
        return ew.divide(red.sum(loss), red.sum(weight))
    return _reduce(loss, reduction)


def mse_loss(input: Array, target: Array, reduction: str = "mean",
             weight: Array | None = None) -> Array:
    """Mean squared error ``(input - target)**2`` (``torch.nn.functional.mse_loss``).

    Args:
        input: predictions, any shape.
        target: targets of the same shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        weight: optional weights of the input's shape; ``'mean'`` is then
            ``sum(weight * loss) / sum(weight)`` (as PyTorch).

    Returns:
        The reduced loss, or with ``'none'`` one value per element.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import mse_loss
    >>> mse_loss(fnp.array([1.0, 2.0]), fnp.array([1.0, 4.0]))
    array(2., dtype=float32)
    """
    input, target, weight = _pointwise("mse_loss", input, target, weight, reduction)
    return _weighted_sum_over_weight(ew.square(ew.subtract(input, target)), weight, reduction)


def l1_loss(input: Array, target: Array, reduction: str = "mean",
            weight: Array | None = None) -> Array:
    """Mean absolute error ``|input - target|`` (``torch.nn.functional.l1_loss``); the
    gradient at ``input == target`` is 0.

    Args:
        input: predictions, any shape.
        target: targets of the same shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        weight: optional weights of the input's shape; ``'mean'`` is then
            ``sum(weight * loss) / sum(weight)`` (as PyTorch).

    Returns:
        The reduced loss, or with ``'none'`` one value per element.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import l1_loss
    >>> l1_loss(fnp.array([1.0, 2.0]), fnp.array([1.0, 4.0]), reduction="sum")
    array(2., dtype=float32)
    """
    input, target, weight = _pointwise("l1_loss", input, target, weight, reduction)
    return _weighted_sum_over_weight(ew.absolute(ew.subtract(input, target)), weight, reduction)


def huber_loss(input: Array, target: Array, reduction: str = "mean", delta: float = 1.0,
               weight: Array | None = None) -> Array:
    """The Huber loss (``torch.nn.functional.huber_loss``): with ``d = |input - target|``,
    ``0.5 d**2`` where ``d < delta``, else ``delta * (d - 0.5 delta)``.

    Args:
        input: predictions, any shape.
        target: targets of the same shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        delta: where the loss changes from quadratic to linear (positive).
        weight: optional weights of the input's shape; ``'mean'`` is then
            ``mean(weight * loss)`` (as PyTorch, unlike its ``mse_loss``).

    Returns:
        The reduced loss, or with ``'none'`` one value per element.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import huber_loss
    >>> huber_loss(fnp.array([0.5, 3.0]), fnp.array([0.0, 0.0]), reduction="none")
    array([0.125, 2.5  ], dtype=float32)
    """
    name = "huber_loss"
    if not delta > 0:
        raise ValueError(f"{name}: delta must be positive, got {delta}")
    input, target, weight = _pointwise(name, input, target, weight, reduction)
    d = ew.absolute(ew.subtract(input, target))
    loss = ew.where(ew.less(d, delta), ew.multiply(0.5, ew.square(d)),
                    ew.multiply(delta, ew.subtract(d, 0.5 * delta)))
    if weight is not None:
        loss = ew.multiply(loss, weight)
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Array, target: Array, reduction: str = "mean",
                   beta: float = 1.0) -> Array:
    """The smooth L1 loss (``torch.nn.functional.smooth_l1_loss``): with
    ``d = |input - target|``, ``0.5 d**2 / beta`` where ``d < beta``, else ``d - 0.5 beta``;
    ``beta = 0`` is the L1 loss. It equals ``huber_loss(delta=beta) / beta``.

    Args:
        input: predictions, any shape.
        target: targets of the same shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        beta: where the loss changes from quadratic to linear (non-negative).

    Returns:
        The reduced loss, or with ``'none'`` one value per element.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import smooth_l1_loss
    >>> smooth_l1_loss(fnp.array([0.5, 3.0]), fnp.array([0.0, 0.0]), reduction="none")
    array([0.125, 2.5  ], dtype=float32)
    """
    name = "smooth_l1_loss"
    if beta < 0:
        raise ValueError(f"{name}: beta must be non-negative, got {beta}")
    input, target, _ = _pointwise(name, input, target, None, reduction)
    d = ew.absolute(ew.subtract(input, target))
    if beta == 0:
        return _reduce(d, reduction)
    loss = ew.where(ew.less(d, beta), ew.divide(ew.multiply(0.5, ew.square(d)), beta),
                    ew.subtract(d, 0.5 * beta))
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------
# Distributions and embeddings
# ---------------------------------------------------------------------------------------


def kl_div(input: Array, target: Array, reduction: str = "mean",
           log_target: bool = False) -> Array:
    """The KL divergence ``KL(target || q)`` with ``input = log q``
    (``torch.nn.functional.kl_div``; note the argument order).

    Pointwise ``target * (log(target) - input)`` (``xlogy``, so 0 where ``target == 0``), or
    ``exp(target) * (target - input)`` with ``log_target=True``.

    NOTE: ``'mean'`` averages over *all* elements, as PyTorch; the KL divergence of a batch
    of distributions is ``reduction='batchmean'`` (sum divided by ``input.shape[0]``).

    Args:
        input: log-probabilities, any shape.
        target: probabilities (or log-probabilities with ``log_target``) of the same shape.
        reduction: ``'mean'``, ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target: whether ``target`` is given in log space.

    Returns:
        The reduced loss, or with ``'none'`` one value per element.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import kl_div
    >>> p = fnp.array([[0.5, 0.5]])
    >>> kl_div(fnp.log(p), p, reduction="batchmean")
    array(0., dtype=float32)
    """
    name = "kl_div"
    _check_reduction(name, reduction, ("mean", "batchmean", "sum", "none"))
    input = _inexact(input)
    _check_same_shape(name, input, target)
    target = _float_like(target, input)
    if log_target:
        loss = ew.multiply(ew.exp(target), ew.subtract(target, input))
    else:
        loss = ew.subtract(xlogy(target, target), ew.multiply(target, input))
    if reduction == "batchmean":
        total = red.sum(loss)
        return ew.divide(total, input.shape[0]) if input.ndim else total
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1: Array, input2: Array, target: Array, margin: float = 0.0,
                          reduction: str = "mean") -> Array:
    """The cosine embedding loss (``torch.nn.functional.cosine_embedding_loss``):
    ``1 - cos(x1, x2)`` where ``target == 1`` and ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1``; the cosine is ``x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))``.

    Args:
        input1: embeddings of shape ``(N, D)`` or ``(D,)``.
        input2: embeddings of the same shape.
        target: labels of shape ``(N,)`` or ``()``, each 1 or -1.
        margin: in ``[-1, 1]``.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        The reduced loss, or with ``'none'`` one value per pair.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.losses import cosine_embedding_loss
    >>> x = fnp.array([[1.0, 0.0], [1.0, 0.0]])
    >>> y = fnp.array([[0.0, 1.0], [1.0, 0.0]])
    >>> cosine_embedding_loss(x, y, fnp.array([1, -1]), reduction="none")
    array([1., 1.], dtype=float32)
    """
    name = "cosine_embedding_loss"
    _check_reduction(name, reduction)
    input1 = _inexact(input1)
    _check_same_shape(name, input1, input2, "input2")
    if input1.ndim not in (1, 2):
        raise ValueError(f"{name}: inputs must have shape (N, D) or (D,); got input1 shape "
                         f"{_shape(input1)}")
    input2 = _float_like(input2, input1)
    if not isinstance(target, Tracer):
        target = backend.canonicalize(target)
    if _shape(target) != _shape(input1)[:-1]:
        raise ValueError(f"{name}: 'target' must have shape {_shape(input1)[:-1]} for input "
                         f"shape {_shape(input1)}; got target shape {_shape(target)}")
    eps = 1e-12
    dot = red.sum(ew.multiply(input1, input2), axis=-1)
    sq1 = ew.add(red.sum(ew.square(input1), axis=-1), eps)
    sq2 = ew.add(red.sum(ew.square(input2), axis=-1), eps)
    cos = ew.divide(dot, ew.sqrt(ew.multiply(sq1, sq2)))
    excess = ew.subtract(cos, margin)
    pos = ew.where(ew.equal(target, 1), ew.subtract(1, cos), 0)
    neg = ew.where(ew.equal(target, -1), ew.where(ew.greater(excess, 0), excess, 0), 0)
    return _reduce(ew.add(pos, neg), reduction)
