"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d`` (PyTorch's arguments,
parameter layouts and default initialisation).

>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import Conv2d
>>> conv = Conv2d(3, 8, 3, padding=1)
>>> conv
Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
>>> conv(conv.init(fg.random.key(0)), fnp.ones((2, 3, 16, 16))).shape
(2, 8, 16, 16)
"""

from __future__ import annotations

import math

from funcgrad_nn import functional as F
from funcgrad_nn import init
from funcgrad_nn.modules.linear import fan_in_uniform
from funcgrad_nn.modules.module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


def _ntuple(v, n: int) -> tuple[int, ...]:
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(a) for a in v)
    return v * n if len(v) == 1 else v


class _ConvNd(Module):
    """Shared by the convolutions: hyperparameters, parameters, input checks."""

    nd = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding=0) -> None:
        nd = self.nd
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and "
                             f"out_channels ({out_channels}) must be divisible by groups "
                             f"({groups})")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{type(self).__name__}: padding_mode={padding_mode!r} "
                                      "is not supported (only 'zeros')")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, nd)
        self.stride = _ntuple(stride, nd)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, nd)
        self.dilation = _ntuple(dilation, nd)
        self.output_padding = _ntuple(output_padding, nd)
        self.groups = groups
        self.use_bias = bias
        if self.transposed:
            wshape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            wshape = (out_channels, in_channels // groups) + self.kernel_size
        fan_in = wshape[1] * math.prod(self.kernel_size)  # PyTorch's fan: dim 1 x kernel
        self.param("weight", wshape, init.kaiming_uniform(a=math.sqrt(5)))
        if bias:
            self.param("bias", (out_channels,), fan_in_uniform(fan_in))

    def _check_input(self, x) -> None:
        nd = self.nd
        sp = ("L",) if nd == 1 else ("H", "W")
        ok = getattr(x, "ndim", 0) in (nd + 1, nd + 2) and x.shape[-nd - 1] == self.in_channels
        if not ok:
            dims = ", ".join(sp)
            raise self._bad_input(f"(N, {self.in_channels}, {dims}) or "
                                  f"({self.in_channels}, {dims})", x)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        zero = (0,) * self.nd
        if self.padding != zero:
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else \
                f", padding={self.padding}"
        if self.dilation != (1,) * self.nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != zero:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if not self.use_bias:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` or ``(C_in, L)`` inputs (``torch.nn.Conv1d``).

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, padding, dilation: int or 1-tuple; ``padding`` may be
            ``'same'`` or ``'valid'``.
        groups: channel groups.
        bias: learn a bias.
        padding_mode: only ``'zeros'``.

    Parameters: ``weight (C_out, C_in / groups, K)``, ``bias (C_out,)``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Conv1d
    >>> m = Conv1d(2, 4, 3, padding="same")
    >>> m(m.init(fg.random.key(0)), fnp.ones((2, 10))).shape
    (4, 10)
    """

    nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode)

    def forward(self, params, x):
        self._check_input(x)
        return F.conv1d(x, params["weight"], params.get("bias"), self.stride, self.padding,
                        self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)`` inputs
    (``torch.nn.Conv2d``).

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, padding, dilation: int or pair; ``padding`` may be
            ``'same'`` or ``'valid'``.
        groups: channel groups.
        bias: learn a bias.
        padding_mode: only ``'zeros'``.

    Parameters: ``weight (C_out, C_in / groups, kH, kW)`` ~ ``U(-b, b)`` with
    ``b = 1 / sqrt(C_in / groups * kH * kW)`` (PyTorch's ``kaiming_uniform(a=sqrt(5))``),
    ``bias (C_out,)`` from the same range.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import Conv2d
    >>> m = Conv2d(1, 2, 3, stride=2)
    >>> m(m.init(fg.random.key(0)), fnp.ones((4, 1, 9, 9))).shape
    (4, 2, 4, 4)
    """

    nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros") -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode)

    def forward(self, params, x):
        self._check_input(x)
        return F.conv2d(x, params["weight"], params.get("bias"), self.stride, self.padding,
                        self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros") -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (``torch.nn.ConvTranspose1d``): the input-gradient of a
    ``Conv1d(out_channels, in_channels, ...)``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, output_padding, groups,
        bias, dilation, padding_mode: as PyTorch.

    Parameters: ``weight (C_in, C_out / groups, K)``, ``bias (C_out,)``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import ConvTranspose1d
    >>> m = ConvTranspose1d(2, 3, 3, stride=2)
    >>> m(m.init(fg.random.key(0)), fnp.ones((1, 2, 4))).shape
    (1, 3, 9)
    """

    nd = 1

    def forward(self, params, x):
        self._check_input(x)
        return F.conv_transpose1d(x, params["weight"], params.get("bias"), self.stride,
                                  self.padding, self.output_padding, self.groups,
                                  self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (``torch.nn.ConvTranspose2d``): the input-gradient of a
    ``Conv2d(out_channels, in_channels, ...)``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, output_padding, groups,
        bias, dilation, padding_mode: as PyTorch.

    Parameters: ``weight (C_in, C_out / groups, kH, kW)`` (PyTorch's layout and
    initialisation, fan-in ``C_out / groups * kH * kW``), ``bias (C_out,)``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import ConvTranspose2d
    >>> m = ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    >>> m(m.init(fg.random.key(0)), fnp.ones((1, 4, 5, 5))).shape
    (1, 2, 10, 10)
    """

    nd = 2

    def forward(self, params, x):
        self._check_input(x)
        return F.conv_transpose2d(x, params["weight"], params.get("bias"), self.stride,
                                  self.padding, self.output_padding, self.groups,
                                  self.dilation)
