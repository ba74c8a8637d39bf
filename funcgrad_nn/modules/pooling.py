"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool2d``.

>>> import funcgrad.numpy as fnp
>>> from funcgrad_nn.modules import MaxPool2d
>>> MaxPool2d(2)(fnp.ones((1, 3, 8, 8))).shape
(1, 3, 4, 4)
"""

from __future__ import annotations

from funcgrad_nn import functional as F
from funcgrad_nn.modules.module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d"]


class _Pool(Module):
    nd = 2

    def _check_input(self, x) -> None:
        nd = self.nd
        if getattr(x, "ndim", 0) not in (nd + 1, nd + 2):
            sp = "L" if nd == 1 else "H, W"
            raise self._bad_input(f"(N, C, {sp}) or (C, {sp})", x)


class _MaxPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        if return_indices or ceil_mode:
            raise NotImplementedError(f"{type(self).__name__}: return_indices and ceil_mode "
                                      "are not supported")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode=False")


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling (``torch.nn.MaxPool1d``); the gradient goes to the first maximum.

    Args:
        kernel_size: window size.
        stride: step (default ``kernel_size``).
        padding: implicit ``-inf`` padding, at most half the window.
        dilation: spacing of the window's elements.
        return_indices, ceil_mode: only False is supported.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import MaxPool1d
    >>> MaxPool1d(2)(fnp.array([[1.0, 5.0, 2.0, 3.0]]))
    array([[5., 3.]], dtype=float32)
    """

    nd = 1

    def forward(self, params, x):
        self._check_input(x)
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (``torch.nn.MaxPool2d``); the gradient goes to the first maximum.

    Args:
        kernel_size: window size, int or pair.
        stride: step (default ``kernel_size``).
        padding: implicit ``-inf`` padding, at most half the window.
        dilation: spacing of the window's elements.
        return_indices, ceil_mode: only False is supported.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import MaxPool2d
    >>> MaxPool2d(3, stride=1, padding=1)(fnp.ones((2, 5, 5))).shape
    (2, 5, 5)
    """

    nd = 2

    def forward(self, params, x):
        self._check_input(x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)


class _AvgPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        if ceil_mode:
            raise NotImplementedError(f"{type(self).__name__}: ceil_mode is not supported")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling (``torch.nn.AvgPool1d``).

    Args:
        kernel_size: window size.
        stride: step (default ``kernel_size``).
        padding: implicit zero padding, at most half the window.
        ceil_mode: only False is supported.
        count_include_pad: count the padding zeros in the divisor.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import AvgPool1d
    >>> AvgPool1d(2)(fnp.array([[1.0, 5.0, 2.0, 3.0]]))
    array([[3. , 2.5]], dtype=float32)
    """

    nd = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, params, x):
        self._check_input(x)
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling (``torch.nn.AvgPool2d``).

    Args:
        kernel_size: window size, int or pair.
        stride: step (default ``kernel_size``).
        padding: implicit zero padding, at most half the window.
        ceil_mode: only False is supported.
        count_include_pad: count the padding zeros in the divisor.
        divisor_override: divide every window sum by this instead.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import AvgPool2d
    >>> AvgPool2d(2)(fnp.ones((1, 1, 4, 4))).shape
    (1, 1, 2, 2)
    """

    nd = 2

    def forward(self, params, x):
        self._check_input(x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad,
                            divisor_override=self.divisor_override)


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed output size with PyTorch's bins
    (``torch.nn.AdaptiveAvgPool2d``).

    Args:
        output_size: ``(H_out, W_out)`` or an int; ``None`` keeps the input's size.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad_nn.modules import AdaptiveAvgPool2d
    >>> AdaptiveAvgPool2d((1, 1))(fnp.ones((2, 8, 5, 7))).shape
    (2, 8, 1, 1)
    """

    nd = 2

    def __init__(self, output_size) -> None:
        self.output_size = output_size

    def forward(self, params, x):
        self._check_input(x)
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
