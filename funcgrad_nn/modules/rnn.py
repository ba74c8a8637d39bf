"""Recurrent layers ``RNN``, ``LSTM`` and ``GRU`` with PyTorch's arguments, gate order
(LSTM ``i, f, g, o``; GRU ``r, z, n``), parameter names (``weight_ih_l0``,
``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``) and initialisation
(``U(-1/sqrt(hidden), 1/sqrt(hidden))``).

The time loop is a Python loop over per-step arrays. What does not depend on the previous
step is done for the whole sequence at once: each layer and direction projects all its
inputs with one GEMM (``(L * N, features) @ W_ih^T``, plus the biases that can be folded
in), and ``unstack`` splits the result into steps (its gradient is one ``stack``, not one
zero-padded array per step). Only the hidden-to-hidden product runs per step.

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import GRU
>>> gru = GRU(4, 8, num_layers=2, batch_first=True)
>>> out, h_n = gru(gru.init(0), fnp.ones((3, 5, 4)))
>>> out.shape, h_n.shape
((3, 5, 8), (2, 3, 8))
"""

from __future__ import annotations

import math

import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad._src.ops.shape import split_at
from funcgrad_nn import functional as F
from funcgrad_nn import init
from funcgrad_nn.modules.module import Module

__all__ = ["GRU", "LSTM", "RNN"]


class _RNNBase(Module):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0) -> None:
        if proj_size:
            raise NotImplementedError(f"{type(self).__name__}: proj_size is not supported")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1]")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.use_bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        dirs = 2 if bidirectional else 1
        bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
        u = init.uniform(-bound, bound)
        gh = self.gates * hidden_size
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                self.param("weight_ih" + sfx, (gh, n_in), u)
                self.param("weight_hh" + sfx, (gh, hidden_size), u)
                if bias:
                    self.param("bias_ih" + sfx, (gh,), u)
                    self.param("bias_hh" + sfx, (gh,), u)

    # --- shapes ---------------------------------------------------------------------
    def _layout(self) -> str:
        return "(N, L, {})" if self.batch_first else "(L, N, {})"

    def _steps(self, x):
        """The input as one time-major ``(L, N, input_size)`` array; whether it was
        batched."""
        nd = getattr(x, "ndim", 0)
        if nd not in (2, 3) or x.shape[-1] != self.input_size:
            raise self._bad_input(f"{self._layout().format(self.input_size)} or "
                                  f"(L, {self.input_size})", x)
        if nd == 2:
            return fnp.expand_dims(x, 1), False
        if self.batch_first:
            return fnp.swapaxes(x, 0, 1), True
        return x, True

    def _initial(self, hx, n: int, batched: bool, dtype, what: str = "hx"):
        dirs = 2 if self.bidirectional else 1
        shape = (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            z = fnp.zeros((n, self.hidden_size), dtype)
            return [z] * shape[0]
        want = shape if batched else (shape[0], shape[2])
        if tuple(getattr(hx, "shape", ())) != want:
            raise ValueError(f"{self._short()}: expected {what} of shape {want}, got "
                             f"{tuple(getattr(hx, 'shape', ()))}")
        return [hx[i] if batched else fnp.expand_dims(hx[i], 0) for i in range(shape[0])]

    def _finish(self, ys, batched: bool):
        """The last layer's time-major ``(L, N, H * directions)`` output in the input's
        layout."""
        if not batched:
            return ys[:, 0]
        return fnp.swapaxes(ys, 0, 1) if self.batch_first else ys

    @staticmethod
    def _stack_state(hs, batched: bool):
        return fnp.stack(hs if batched else [h[0] for h in hs], axis=0)

    # --- the recurrence -------------------------------------------------------------
    @staticmethod
    def _proj(w, b, n: int):
        """The step function ``h @ w.T + b``; the transpose and the bias's broadcast to
        ``(n, out)`` happen once per sequence, not per step."""
        wt = fnp.transpose(w)
        if b is None:
            return lambda h: fnp.matmul(h, wt)
        b = fnp.broadcast_to(b, (n, w.shape[0]))
        return lambda h: fnp.matmul(h, wt) + b

    def _prepare(self, n: int, w_hh, b_ih, b_hh):
        """``(bias, step)`` of one layer and direction: the bias to add to the whole
        sequence's input projection (or None), and ``step(gi_t, h, c) -> (h, c)`` given
        that projection at step t, with its per-sequence preparation done once."""
        raise NotImplementedError

    def _run(self, params, xs, h0s, c0s=None):
        """Run every layer and direction on the time-major input ``xs`` ``(L, N, F)``;
        returns the last layer's time-major output and the final h (and c) of each."""
        dirs = 2 if self.bidirectional else 1
        n = xs.shape[1]
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs_dir = []
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                bias, step = self._prepare(n, params["weight_hh" + sfx],
                                           params.get("bias_ih" + sfx),
                                           params.get("bias_hh" + sfx))
                gi = fnp.matmul(xs, fnp.transpose(params["weight_ih" + sfx]))  # one GEMM
                if bias is not None:
                    gi = gi + bias
                gis = fnp.unstack(gi, axis=0)
                i = layer * dirs + d
                h = h0s[i]
                c = None if c0s is None else c0s[i]
                hs = []
                for gi_t in (gis if d == 0 else gis[::-1]):
                    h, c = step(gi_t, h, c)
                    hs.append(h)
                if d == 1:
                    hs.reverse()
                outs_dir.append(fnp.stack(hs, axis=0))
                h_n.append(h)
                c_n.append(c)
            xs = outs_dir[0] if dirs == 1 else fnp.concatenate(outs_dir, axis=-1)
            if self.dropout > 0.0 and self.training and layer < self.num_layers - 1:
                xs = F.dropout(self.make_rng(), xs, self.dropout, True)
        return xs, h_n, c_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.use_bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(_RNNBase):
    """Elman RNN, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
    (``torch.nn.RNN``).

    Args:
        input_size, hidden_size: feature sizes.
        num_layers: stacked layers.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        bias: learn the biases.
        batch_first: inputs and outputs ``(N, L, *)`` instead of ``(L, N, *)``.
        dropout: dropout on each layer's outputs except the last (training mode).
        bidirectional: also run the sequence backwards (outputs concatenated).

    Call ``rnn(params, input, hx=None)``; returns ``(output, h_n)`` with ``h_n`` of shape
    ``(num_layers * directions, N, hidden_size)``. Unbatched ``(L, input_size)`` inputs
    are accepted.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import RNN
    >>> rnn = RNN(3, 5, bidirectional=True)
    >>> out, h = rnn(rnn.init(0), fnp.ones((7, 2, 3)))
    >>> out.shape, h.shape
    ((7, 2, 10), (2, 2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)

    def _prepare(self, n, w_hh, b_ih, b_hh):
        proj_h = self._proj(w_hh, None, 0)
        act = fnp.tanh if self.nonlinearity == "tanh" else nn.relu

        def step(gi_t, h, c):
            return act(gi_t + proj_h(h)), None

        # both biases join the input projection: added once for the whole sequence
        return (None if b_ih is None else b_ih + b_hh), step

    def forward(self, params, input, hx=None):  # noqa: A002
        xs, batched = self._steps(input)
        h0 = self._initial(hx, xs.shape[1], batched, xs.dtype)
        ys, h_n, _ = self._run(params, xs, h0)
        return self._finish(ys, batched), self._stack_state(h_n, batched)


class GRU(_RNNBase):
    """Gated recurrent unit (``torch.nn.GRU``), PyTorch's equations and gate order::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional:
            as :class:`RNN`.

    Call ``gru(params, input, hx=None)``; returns ``(output, h_n)``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import GRU
    >>> gru = GRU(3, 4)
    >>> sorted(gru.param_shapes().items())
    [('bias_hh_l0', (12,)), ('bias_ih_l0', (12,)), ('weight_hh_l0', (12, 4)), \
('weight_ih_l0', (12, 3))]
    """

    gates = 3

    def _prepare(self, n, w_hh, b_ih, b_hh):
        hs = self.hidden_size
        proj_h = self._proj(w_hh, b_hh, n)  # b_hn sits inside r * (...): stays per step
        k = 2 * hs

        rz_n, r_z = (0, k, 3 * hs), (0, hs, k)

        def step(gi, h, c):  # split, not sliced: the gradient is one concatenate each
            gi_rz, gi_n = split_at(gi, rz_n, 1)
            gh_rz, gh_n = split_at(proj_h(h), rz_n, 1)
            r, z = split_at(nn.sigmoid(gi_rz + gh_rz), r_z, 1)
            n = fnp.tanh(gi_n + r * gh_n)
            return n + z * (h - n), None

        return b_ih, step

    def forward(self, params, input, hx=None):  # noqa: A002
        xs, batched = self._steps(input)
        h0 = self._initial(hx, xs.shape[1], batched, xs.dtype)
        ys, h_n, _ = self._run(params, xs, h0)
        return self._finish(ys, batched), self._stack_state(h_n, batched)


class LSTM(_RNNBase):
    """Long short-term memory (``torch.nn.LSTM``), gate order ``i, f, g, o``::

        i, f, o = sigmoid(...), g = tanh(...)
        c' = f * c + i * g
        h' = o * tanh(c')

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional:
            as :class:`RNN`.
        proj_size: only 0.

    Call ``lstm(params, input, (h_0, c_0)=None)``; returns ``(output, (h_n, c_n))``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import LSTM
    >>> lstm = LSTM(3, 4, batch_first=True)
    >>> out, (h, c) = lstm(lstm.init(0), fnp.ones((2, 6, 3)))
    >>> out.shape, h.shape, c.shape
    ((2, 6, 4), (1, 2, 4), (1, 2, 4))
    """

    gates = 4

    def _prepare(self, n, w_hh, b_ih, b_hh):
        proj_h = self._proj(w_hh, None, 0)
        hs = self.hidden_size

        quarters = (0, hs, 2 * hs, 3 * hs, 4 * hs)

        def step(gi, h, c):  # split, not sliced: the gradient is one concatenate each
            g = gi + proj_h(h)
            i, f, _, o = split_at(nn.sigmoid(g), quarters, 1)
            c = f * c + i * fnp.tanh(split_at(g, quarters, 1)[2])
            return o * fnp.tanh(c), c

        # both biases join the input projection: added once for the whole sequence
        return (None if b_ih is None else b_ih + b_hh), step

    def forward(self, params, input, hx=None):  # noqa: A002
        xs, batched = self._steps(input)
        n = xs.shape[1]
        if hx is None:
            h0 = self._initial(None, n, batched, xs.dtype)
            c0 = h0
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError(f"{self._short()}: hx must be a pair (h_0, c_0)")
            h0 = self._initial(hx[0], n, batched, xs.dtype, "h_0")
            c0 = self._initial(hx[1], n, batched, xs.dtype, "c_0")
        ys, h_n, c_n = self._run(params, xs, h0, c0)
        return self._finish(ys, batched), (self._stack_state(h_n, batched),
                                             self._stack_state(c_n, batched))
