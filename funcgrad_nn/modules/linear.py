"""``Linear``, ``Identity`` and ``Flatten``.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import Linear
>>> fc = Linear(3, 2)
>>> {k: v.shape for k, v in fc.init(fg.random.key(0)).items()}
{'weight': (2, 3), 'bias': (2,)}
"""

from __future__ import annotations

import math

import funcgrad.numpy as fnp
from funcgrad_nn import functional as F
from funcgrad_nn import init
from funcgrad_nn.modules.module import Module

__all__ = ["Flatten", "Identity", "Linear"]


def fan_in_uniform(fan_in: int):
    """PyTorch's default bias initializer: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return init.uniform(-bound, bound)


class Identity(Module):
    """Returns its (first) input unchanged (``torch.nn.Identity``); arguments are ignored.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Identity
    >>> Identity(54, unused="x")(fnp.ones(2))
    array([1., 1.], dtype=float32)
    """

    def __init__(self, *args, **kwargs) -> None:
        pass

    def forward(self, params, x, *args, **kwargs):
        return x


class Linear(Module):
    """``y = x @ weight.T + bias`` (``torch.nn.Linear``).

    Args:
        in_features: size of the input's last dimension.
        out_features: size of the output's last dimension.
        bias: learn an additive bias.

    Parameters ``weight (out, in)`` ~ ``U(-1/sqrt(in), 1/sqrt(in))`` (PyTorch's
    ``kaiming_uniform(a=sqrt(5))``) and ``bias (out,)`` from the same range.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Linear
    >>> fc = Linear(3, 2)
    >>> fc(fc.init(fg.random.key(0)), fnp.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        self.in_features = in_features
        self.out_features = out_features
        self.use_bias = bias
        self.param("weight", (out_features, in_features), init.kaiming_uniform(a=math.sqrt(5)))
        if bias:
            self.param("bias", (out_features,), fan_in_uniform(in_features))

    def forward(self, params, x):
        if getattr(x, "ndim", 0) < 1 or x.shape[-1] != self.in_features:
            raise self._bad_input(f"(*, {self.in_features})", x)
        return F.linear(x, params["weight"], params.get("bias"))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.use_bias}")


class Flatten(Module):
    """Flattens dimensions ``start_dim..end_dim`` into one (``torch.nn.Flatten``).

    Args:
        start_dim: first dimension to flatten (1: keep the batch dimension).
        end_dim: last dimension to flatten.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Flatten
    >>> Flatten()(fnp.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, params, x):
        nd = max(x.ndim, 1)
        s, e = self.start_dim % nd, self.end_dim % nd
        if s > e:
            raise self._bad_input(f"at least {max(self.start_dim, self.end_dim) + 1} "
                                  "dimensions with start_dim <= end_dim", x)
        shape = tuple(x.shape)
        return fnp.reshape(x, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
