"""Normalisation layers: ``BatchNorm1d/2d`` (running statistics in the state),
``LayerNorm``, ``GroupNorm``.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import BatchNorm1d
>>> bn = BatchNorm1d(3)
>>> params, state = bn.init(fg.random.key(0)), bn.init_state()
>>> sorted(state)
['num_batches_tracked', 'running_mean', 'running_var']
>>> y, state = bn(params, fnp.arange(12.0).reshape(4, 3), state=state, train=True)
>>> state["running_mean"].round(4), int(state["num_batches_tracked"])
(array([0.45, 0.55, 0.65], dtype=float32), 1)
"""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from funcgrad_nn import functional as F
from funcgrad_nn import init
from funcgrad_nn.modules.module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"]


def _int64_zero(key, shape, dtype=None):
    return np.zeros(shape, np.int64)


class _BatchNorm(Module):
    """Shared by ``BatchNorm1d`` and ``BatchNorm2d``."""

    ranks: tuple[int, ...] = ()
    layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.param("weight", (num_features,), init.ones)
            self.param("bias", (num_features,), init.zeros)
        if track_running_stats:
            self.buffer("running_mean", (num_features,), init.zeros)
            self.buffer("running_var", (num_features,), init.ones)
            self.buffer("num_batches_tracked", (), _int64_zero)

    def forward(self, params, x):
        if getattr(x, "ndim", 0) not in self.ranks or x.shape[1] != self.num_features:
            raise self._bad_input(self.layout.format(C=self.num_features), x)
        w, b = params.get("weight"), params.get("bias")
        if not self.track_running_stats:
            return F.batch_norm(x, None, None, w, b, True, 0.0, self.eps)
        st = self.get_state()
        if not self.training:
            return F.batch_norm(x, st["running_mean"], st["running_var"], w, b, False, 0.0,
                                self.eps)
        count = st["num_batches_tracked"] + 1
        momentum = self.momentum
        if momentum is None:  # cumulative moving average
            momentum = 1.0 / count.astype(fnp.float32)
        out, mean, var = F.batch_norm(x, st["running_mean"], st["running_var"], w, b, True,
                                      momentum, self.eps)
        self.put_state({"running_mean": mean, "running_var": var,
                        "num_batches_tracked": count})
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` inputs
    (``torch.nn.BatchNorm1d``).

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: running-statistics update rate (None: cumulative average).
        affine: learn ``weight`` (ones) and ``bias`` (zeros).
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` in the state (the running variance is updated with the
            unbiased batch variance, as PyTorch); otherwise always use batch statistics.

    In training mode (``train=True``) the batch statistics normalise and the state is
    updated; in evaluation mode the running statistics normalise. Pass ``state``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import BatchNorm1d
    >>> bn = BatchNorm1d(2)
    >>> y, _ = bn(bn.init(0), fnp.ones((3, 2)), state=bn.init_state())
    >>> y.shape
    (3, 2)
    """

    ranks = (2, 3)
    layout = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over ``(N, C, H, W)`` inputs (``torch.nn.BatchNorm2d``).

    Args:
        num_features: ``C``.
        eps: added to the variance.
        momentum: running-statistics update rate (None: cumulative average).
        affine: learn ``weight`` (ones) and ``bias`` (zeros).
        track_running_stats: keep running statistics in the state (as ``BatchNorm1d``).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import BatchNorm2d
    >>> bn = BatchNorm2d(4)
    >>> y, st = bn(bn.init(0), fnp.ones((2, 4, 3, 3)), state=bn.init_state(), train=True)
    >>> y.shape, st["running_var"].shape
    ((2, 4, 3, 3), (4,))
    """

    ranks = (4,)
    layout = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` (``torch.nn.LayerNorm``).

    Args:
        normalized_shape: int or tuple, the trailing shape normalised over.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        bias: learn the bias (with ``elementwise_affine``).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import LayerNorm
    >>> ln = LayerNorm(4)
    >>> ln(ln.init(0), fnp.arange(8.0).reshape(2, 4)).round(3)
    array([[-1.342, -0.447,  0.447,  1.342],
           [-1.342, -0.447,  0.447,  1.342]], dtype=float32)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True) -> None:
        shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(int(s) for s in normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.param("weight", shape, init.ones)
            if bias:
                self.param("bias", shape, init.zeros)

    def forward(self, params, x):
        k = len(self.normalized_shape)
        if getattr(x, "ndim", 0) < k or tuple(x.shape[x.ndim - k:]) != self.normalized_shape:
            raise self._bad_input(f"(*, {', '.join(map(str, self.normalized_shape))})", x)
        return F.layer_norm(x, self.normalized_shape, params.get("weight"), params.get("bias"),
                            self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group normalisation (``torch.nn.GroupNorm``).

    Args:
        num_groups: groups the channels are split into.
        num_channels: ``C`` (divisible by ``num_groups``).
        eps: added to the variance.
        affine: learn per-channel ``weight`` (ones) and ``bias`` (zeros).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import GroupNorm
    >>> gn = GroupNorm(2, 4)
    >>> gn(gn.init(0), fnp.ones((3, 4, 5))).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True) -> None:
        if num_channels % num_groups:
            raise ValueError("GroupNorm: num_channels must be divisible by num_groups")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.param("weight", (num_channels,), init.ones)
            self.param("bias", (num_channels,), init.zeros)

    def forward(self, params, x):
        if getattr(x, "ndim", 0) < 2 or x.shape[1] != self.num_channels:
            raise self._bad_input(f"(N, {self.num_channels}, *)", x)
        return F.group_norm(x, self.num_groups, params.get("weight"), params.get("bias"),
                            self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
