"""``Embedding``: a lookup table of vectors.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import Embedding
>>> emb = Embedding(10, 3)
>>> emb(emb.init(0), fnp.array([[1, 2], [3, 4]])).shape
(2, 2, 3)
"""

from __future__ import annotations

from funcgrad_nn import functional as F
from funcgrad_nn import init
from funcgrad_nn.modules.module import Module

__all__ = ["Embedding"]


class Embedding(Module):
    """A ``(num_embeddings, embedding_dim)`` table indexed by integers
    (``torch.nn.Embedding``).

    Args:
        num_embeddings: table size.
        embedding_dim: vector size.
        padding_idx: this row is initialised to zeros and receives no gradient.

    Parameter: ``weight`` ~ ``N(0, 1)``.

    >>> import funcgrad as fg
    >>> from funcgrad_nn.modules import Embedding
    >>> emb = Embedding(5, 2, padding_idx=0)
    >>> emb.init(fg.random.key(0))["weight"][0]
    array([0., 0.], dtype=float32)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None) -> None:
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError("Embedding: padding_idx must be within num_embeddings")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        pad = self.padding_idx
        normal = init.normal(1.0)

        def weight_init(key, shape, dtype=None):
            w = normal(key, shape, dtype)
            if pad is not None:
                w = w.copy()
                w[pad] = 0.0
            return w

        self.param("weight", (num_embeddings, embedding_dim), weight_init)

    def forward(self, params, x):
        if getattr(getattr(x, "dtype", None), "kind", "") not in "iu":
            raise ValueError(f"{self._short()}: expected integer indices, got "
                             f"{getattr(x, 'dtype', type(x).__name__)}")
        return F.embedding(x, params["weight"], self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
