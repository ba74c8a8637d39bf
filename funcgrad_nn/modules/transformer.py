"""``TransformerEncoderLayer`` with PyTorch's defaults and parameter names.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import TransformerEncoderLayer
>>> layer = TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
>>> layer(layer.init(0), fnp.ones((2, 5, 16))).shape
(2, 5, 16)
"""

from __future__ import annotations

from collections.abc import Callable

from funcgrad import nn
from funcgrad_nn.modules.activation import MultiheadAttention
from funcgrad_nn.modules.dropout import Dropout
from funcgrad_nn.modules.linear import Linear
from funcgrad_nn.modules.module import Module
from funcgrad_nn.modules.normalization import LayerNorm

__all__ = ["TransformerEncoderLayer"]

_ACTIVATIONS = {"relu": nn.relu, "gelu": lambda x: nn.gelu(x, approximate=False)}


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and layer
    normalisation (``torch.nn.TransformerEncoderLayer``).

    Args:
        d_model: model width.
        nhead: attention heads.
        dim_feedforward: hidden width of the feed-forward block.
        dropout: dropout rate (attention weights, feed-forward, residual branches).
        activation: ``'relu'``, ``'gelu'`` or a function.
        layer_norm_eps: the layer norms' epsilon.
        batch_first: ``(N, L, E)`` instead of ``(L, N, E)``.
        norm_first: normalise before each block (pre-norm) instead of after.
        bias: learn the linear and layer-norm biases.

    Children (and parameter prefixes): ``self_attn``, ``linear1``, ``dropout``,
    ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``.

    Call ``layer(params, src, src_mask=None, src_key_padding_mask=None, is_causal=False)``.

    >>> from funcgrad_nn.modules import TransformerEncoderLayer
    >>> sorted(TransformerEncoderLayer(8, 2).param_shapes())
    ['linear1', 'linear2', 'norm1', 'norm2', 'self_attn']
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True) -> None:
        if isinstance(activation, str) and activation not in _ACTIVATIONS:
            raise ValueError(f"TransformerEncoderLayer: activation should be relu/gelu, not "
                             f"{activation!r}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation
        self.batch_first = batch_first

    def _act(self, x):
        a = self.activation
        return _ACTIVATIONS[a](x) if isinstance(a, str) else a(x)

    def _sa_block(self, params, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(params["self_attn"], x, x, x, attn_mask=attn_mask,
                           key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, params, x):
        x = self.linear2(params["linear2"],
                         self.dropout(self._act(self.linear1(params["linear1"], x))))
        return self.dropout2(x)

    def forward(self, params, src, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(params, self.norm1(params["norm1"], x), src_mask,
                                   src_key_padding_mask, is_causal)
            x = x + self._ff_block(params, self.norm2(params["norm2"], x))
        else:
            x = self.norm1(params["norm1"],
                           x + self._sa_block(params, x, src_mask, src_key_padding_mask,
                                              is_causal))
            x = self.norm2(params["norm2"], x + self._ff_block(params, x))
        return x

    def extra_repr(self) -> str:
        return f"batch_first={self.batch_first}, norm_first={self.norm_first}"
