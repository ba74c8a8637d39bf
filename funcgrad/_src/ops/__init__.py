"""Primitive declarations, grouped by family. Importing this package registers them all
and gives :class:`~funcgrad._src.core.Tracer` its array methods and operators."""

from __future__ import annotations

from funcgrad._src.core import Tracer
from funcgrad._src.ops import (  # noqa: F401
    at,
    complex_ops,
    conv,
    creation,
    elementwise,
    indexing,
    linalg,
    linalg_decomp,
    misc,
    more_numpy,
    reductions,
    shape,
    special,
)
from funcgrad._src.ops import elementwise as _ew
from funcgrad._src.ops import reductions as _red
from funcgrad._src.ops import shape as _sh


def _swap(f):
    return lambda self, other: f(other, self)


def _round(x, ndigits):
    if ndigits not in (None, 0):
        raise NotImplementedError("round(traced value, ndigits) is not supported; use "
                                  "fnp.round(x * 10 ** n) / 10 ** n")
    return _ew.rint(x)


def _install_methods() -> None:
    T = Tracer
    T.__add__ = _ew.add
    T.__radd__ = _swap(_ew.add)
    T.__sub__ = _ew.subtract
    T.__rsub__ = _swap(_ew.subtract)
    T.__mul__ = _ew.multiply
    T.__rmul__ = _swap(_ew.multiply)
    T.__truediv__ = _ew.divide
    T.__rtruediv__ = _swap(_ew.divide)
    T.__floordiv__ = _ew.floor_divide
    T.__rfloordiv__ = _swap(_ew.floor_divide)
    T.__mod__ = _ew.remainder
    T.__rmod__ = _swap(_ew.remainder)
    T.__pow__ = _ew.power
    T.__rpow__ = _swap(_ew.power)
    T.__matmul__ = linalg.matmul
    T.__rmatmul__ = _swap(linalg.matmul)
    T.__neg__ = _ew.negative
    T.__pos__ = _ew.positive
    T.__abs__ = _ew.absolute
    T.__eq__ = _ew.equal
    T.__ne__ = _ew.not_equal
    T.__lt__ = _ew.less
    T.__le__ = _ew.less_equal
    T.__gt__ = _ew.greater
    T.__ge__ = _ew.greater_equal
    T.__and__ = _ew.logical_and
    T.__or__ = _ew.logical_or
    T.__xor__ = _ew.logical_xor
    T.__rand__ = _swap(_ew.logical_and)
    T.__ror__ = _swap(_ew.logical_or)
    T.__rxor__ = _swap(_ew.logical_xor)
    T.__invert__ = _ew.logical_not
    T.__divmod__ = lambda self, other: (_ew.floor_divide(self, other),
                                        _ew.remainder(self, other))
    T.__rdivmod__ = lambda self, other: (_ew.floor_divide(other, self),
                                         _ew.remainder(other, self))
    T.__round__ = lambda self, ndigits=None: _round(self, ndigits)
    T.__getitem__ = indexing.getitem
    T.T = property(lambda self: _sh.transpose(self))
    T.mT = property(lambda self: _sh.swapaxes(self, -1, -2))
    T.real = property(lambda self: complex_ops.real(self))
    T.sum = _red.sum
    T.mean = _red.mean
    T.var = _red.var
    T.std = _red.std
    T.max = _red.max
    T.min = _red.min
    T.argmax = _red.argmax
    T.argmin = _red.argmin
    T.all = _red.all
    T.any = _red.any
    T.transpose = lambda self, *axes: _sh.transpose(
        self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))
    T.reshape = lambda self, *dims, order="C": _sh.reshape(
        self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims, order)
    T.ravel = _sh.ravel
    T.flatten = _sh.ravel
    T.squeeze = _sh.squeeze
    T.swapaxes = _sh.swapaxes
    T.astype = lambda self, dtype: misc.convert_element_type(self, dtype)
    T.dot = linalg.dot
    T.clip = _ew.clip
    T.conj = complex_ops.conj
    T.conjugate = complex_ops.conj


_install_methods()
