"""``Dropout``: random zeroing in training mode, identity in evaluation mode.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import Dropout
>>> drop = Dropout(0.5)
>>> drop(fnp.ones(4))                                   # evaluation mode: identity
array([1., 1., 1., 1.], dtype=float32)
>>> sorted(set(drop(fnp.ones(100), train=True, key=fg.random.key(0)).tolist()))
[0.0, 2.0]
"""

from __future__ import annotations

from funcgrad_nn import functional as F
from funcgrad_nn.modules.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zeroes each element with probability ``p`` in training mode and scales the others by
    ``1 / (1 - p)`` (``torch.nn.Dropout``). Training mode needs a PRNG key: pass
    ``key=`` to the top-level ``apply``; each call gets its own stream.

    Args:
        p: drop probability.
        inplace: accepted for compatibility (funcgrad never writes in place).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Dropout
    >>> Dropout(0.2)
    Dropout(p=0.2, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, params, x):
        if not self.training or self.p == 0.0:
            return x
        return F.dropout(self.make_rng(), x, self.p, True)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
