"""Activation modules (``ReLU``, ``GELU``, ``Softmax``, ...) and ``MultiheadAttention``.

The activations wrap :mod:`funcgrad.nn`; they have no parameters, so they are called on
their input alone: ``ReLU()(x)``.

>>> import funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import ReLU, Softmax
>>> ReLU()(fnp.array([-1.0, 2.0]))
array([0., 2.], dtype=float32)
>>> Softmax(dim=-1)(fnp.zeros((1, 4)))
array([[0.25, 0.25, 0.25, 0.25]], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad_nn import functional as F
from funcgrad_nn import init
from funcgrad_nn.modules.linear import Linear
from funcgrad_nn.modules.module import Module

__all__ = ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "MultiheadAttention", "ReLU", "SiLU",
           "Sigmoid", "Softmax", "Softplus", "Tanh"]


class ReLU(Module):
    """``max(x, 0)`` (``torch.nn.ReLU``); gradient 0 at 0.

    Args:
        inplace: accepted for compatibility.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import ReLU
    >>> ReLU()(fnp.array([-3.0, 3.0]))
    array([0., 3.], dtype=float32)
    """

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace

    def forward(self, params, x):
        return nn.relu(x)


class LeakyReLU(Module):
    """``x`` for ``x >= 0``, else ``negative_slope * x`` (``torch.nn.LeakyReLU``).

    Args:
        negative_slope: slope for negative inputs.
        inplace: accepted for compatibility.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import LeakyReLU
    >>> LeakyReLU(0.1)(fnp.array([-2.0, 2.0]))
    array([-0.2,  2. ], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, params, x):
        return nn.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """The logistic function (``torch.nn.Sigmoid``).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Sigmoid
    >>> Sigmoid()(fnp.zeros(1))
    array([0.5], dtype=float32)
    """

    def forward(self, params, x):
        return nn.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent (``torch.nn.Tanh``).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Tanh
    >>> Tanh()(fnp.zeros(1))
    array([0.], dtype=float32)
    """

    def forward(self, params, x):
        return fnp.tanh(x)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta`` (``torch.nn.Softplus``), computed stably for any
    input (so ``threshold``, PyTorch's switch to the identity, changes nothing visible).

    Args:
        beta: sharpness.
        threshold: accepted for compatibility.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Softplus
    >>> Softplus(beta=2.0)(fnp.zeros(1))
    array([0.3465736], dtype=float32)
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        self.beta = beta
        self.threshold = threshold

    def forward(self, params, x):
        if self.beta == 1.0:
            return nn.softplus(x)
        return nn.softplus(x * self.beta) * (1.0 / self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    """Gaussian error linear unit (``torch.nn.GELU``).

    Args:
        approximate: ``'none'`` (exact, with ``erf``) or ``'tanh'``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import GELU
    >>> GELU()(fnp.array([0.0, 1.0]))
    array([0.       , 0.8413447], dtype=float32)
    """

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, params, x):
        return nn.gelu(x, approximate=self.approximate == "tanh")

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)`` (``torch.nn.ELU``).

    Args:
        alpha: scale of the negative part.
        inplace: accepted for compatibility.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import ELU
    >>> ELU()(fnp.array([1.0]))
    array([1.], dtype=float32)
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, params, x):
        return nn.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SiLU(Module):
    """``x * sigmoid(x)`` (``torch.nn.SiLU``).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import SiLU
    >>> SiLU()(fnp.zeros(1))
    array([0.], dtype=float32)
    """

    def __init__(self, inplace: bool = False) -> None:
        self.inplace = inplace

    def forward(self, params, x):
        return nn.silu(x)


def _softmax_dim(dim: int | None, ndim: int) -> int:
    # PyTorch's legacy choice when no dim is given.
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """Softmax over ``dim`` (``torch.nn.Softmax``).

    Args:
        dim: the dimension to normalise (None: PyTorch's legacy choice, 0 for 0-, 1- and
            3-D inputs, else 1).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Softmax
    >>> Softmax(dim=0)(fnp.zeros(2))
    array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def forward(self, params, x):
        return nn.softmax(x, axis=_softmax_dim(self.dim, x.ndim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax over ``dim`` (``torch.nn.LogSoftmax``).

    Args:
        dim: the dimension to normalise (None: PyTorch's legacy choice).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import LogSoftmax
    >>> LogSoftmax(dim=0)(fnp.zeros(2))
    array([-0.6931472, -0.6931472], dtype=float32)
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim

    def forward(self, params, x):
        return nn.log_softmax(x, axis=_softmax_dim(self.dim, x.ndim))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# ---------------------------------------------------------------------------------------
# Multi-head attention
# ---------------------------------------------------------------------------------------


def _additive_mask(mask, dtype):
    """A boolean mask (True: not allowed) as ``-inf``/0, a float mask as it is."""
    if mask is None:
        return None
    m = mask if hasattr(mask, "dtype") else np.asarray(mask)
    if m.dtype == np.bool_:
        return fnp.where(m, -np.inf, 0.0).astype(dtype)
    return m.astype(dtype)


class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention (``torch.nn.MultiheadAttention``).

    Args:
        embed_dim: model width ``E``.
        num_heads: heads (``E`` divisible by it).
        dropout: dropout on the attention weights in training mode.
        bias: learn the input and output projection biases.
        add_bias_kv, add_zero_attn, kdim, vdim: only PyTorch's defaults are supported.
        batch_first: inputs ``(N, L, E)`` instead of ``(L, N, E)``.

    Parameters (PyTorch's layout): ``in_proj_weight (3E, E)`` (query, key and value
    projections stacked; Xavier-uniform), ``in_proj_bias (3E,)`` (zeros),
    ``out_proj.weight (E, E)``, ``out_proj.bias (E,)`` (zeros).

    Call with the query, key and value *positionally* (``key=`` is the PRNG key):
    ``mha(params, q, k, v, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import MultiheadAttention
    >>> mha = MultiheadAttention(8, 2, batch_first=True)
    >>> x = fnp.ones((3, 5, 8))
    >>> out, w = mha(mha.init(0), x, x, x)
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False) -> None:
        if embed_dim % num_heads:
            raise ValueError("MultiheadAttention: embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn or kdim not in (None, embed_dim) or \
                vdim not in (None, embed_dim):
            raise NotImplementedError("MultiheadAttention: add_bias_kv, add_zero_attn and "
                                      "kdim/vdim different from embed_dim are not supported")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.use_bias = bias
        self.param("in_proj_weight", (3 * embed_dim, embed_dim), init.xavier_uniform())
        if bias:
            self.param("in_proj_bias", (3 * embed_dim,), init.zeros)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)

    def init(self, key):
        params = super().init(key)
        if self.use_bias:  # PyTorch zeroes the output projection's bias
            params["out_proj"]["bias"] = np.zeros_like(params["out_proj"]["bias"])
        return params

    def _check(self, name, x, batched):
        e = self.embed_dim
        lay = "(N, L, {e})" if self.batch_first else "(L, N, {e})"
        if getattr(x, "ndim", 0) not in (2, 3) or x.shape[-1] != e or \
                (batched is not None and (x.ndim == 3) != batched):
            raise ValueError(f"{self._short()}: expected {name} of shape "
                             f"{lay.format(e=e)} or (L, {e}), got "
                             f"{tuple(getattr(x, 'shape', ()))}")
        return x.ndim == 3

    def forward(self, params, query, key, value, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        batched = self._check("query", query, None)
        self._check("key", key, batched)
        self._check("value", value, batched)
        if not batched:
            query, key, value = (fnp.expand_dims(t, 1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = fnp.expand_dims(fnp.asarray(key_padding_mask), 0)
        elif self.batch_first:
            query, key, value = (fnp.swapaxes(t, 0, 1) for t in (query, key, value))
        # now (L, N, E)
        tgt, n, e = query.shape
        src = key.shape[0]
        h, hd = self.num_heads, self.head_dim
        w = params["in_proj_weight"]
        b = params.get("in_proj_bias")
        if query is key and key is value:  # self-attention: one projection
            qkv = F.linear(query, w, b)
            q, k, v = qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]
        else:
            bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
            q = F.linear(query, w[:e], bq)
            k = F.linear(key, w[e:2 * e], bk)
            v = F.linear(value, w[2 * e:], bv)

        def heads(t, length):  # (len, N, E) -> (N, h, len, hd)
            return fnp.transpose(fnp.reshape(t, (length, n, h, hd)), (1, 2, 0, 3))

        q, k, v = heads(q, tgt), heads(k, src), heads(v, src)
        scores = fnp.matmul(q * (1.0 / math.sqrt(hd)), fnp.swapaxes(k, -1, -2))
        if is_causal and attn_mask is None:
            attn_mask = np.triu(np.ones((tgt, src), bool), 1)
        mask = _additive_mask(attn_mask, scores.dtype)
        if mask is not None:
            if mask.ndim == 3:
                mask = fnp.reshape(mask, (n, h, tgt, src))
            scores = scores + mask
        kpm = _additive_mask(key_padding_mask, scores.dtype)
        if kpm is not None:
            scores = scores + fnp.reshape(kpm, (n, 1, 1, src))
        attn = nn.softmax(scores, axis=-1)
        if self.dropout > 0.0 and self.training:
            attn = F.dropout(self.make_rng(), attn, self.dropout, True)
        out = fnp.matmul(attn, v)  # (N, h, L, hd)
        out = fnp.reshape(fnp.transpose(out, (2, 0, 1, 3)), (tgt, n, e))
        out = self.out_proj(params["out_proj"], out)
        if self.batch_first and batched:
            out = fnp.swapaxes(out, 0, 1)
        if not batched:
            out = out[:, 0]
        weights = None
        if need_weights:
            weights = fnp.mean(attn, axis=1) if average_attn_weights else attn
            if not batched:
                weights = weights[0]
        return out, weights

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
