"""Array creation (NumPy names). Created arrays are constants: they carry no gradient."""

from __future__ import annotations

import math

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Tracer


def _float(dtype):
    return backend.default_float() if dtype is None else np.dtype(dtype)


def _shape_of(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _xp_like(a):
    while isinstance(a, Tracer):
        from funcgrad._src.core import concrete_value

        try:
            a = concrete_value(a)
        except Exception:
            return np
    return xp_of(a)


def zeros(shape, dtype=None):
    """Array of zeros (``numpy.zeros``), float32 by default.

    >>> import funcgrad.numpy as fnp
    >>> fnp.zeros((2,))
    array([0., 0.], dtype=float32)
    """
    return np.zeros(_shape_of(shape), _float(dtype))


def ones(shape, dtype=None):
    """Array of ones (``numpy.ones``), float32 by default.

    >>> import funcgrad.numpy as fnp
    >>> fnp.ones((2,))
    array([1., 1.], dtype=float32)
    """
    return np.ones(_shape_of(shape), _float(dtype))


def full(shape, fill_value, dtype=None):
    """Array filled with ``fill_value`` (``numpy.full``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.full((2,), 7.0)
    array([7., 7.], dtype=float32)
    """
    if dtype is None:
        dtype = backend.canonicalize(fill_value).dtype
    return np.full(_shape_of(shape), fill_value, dtype)


def empty(shape, dtype=None):
    """Uninitialised array (``numpy.empty``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.empty((2, 3)).shape
    (2, 3)
    """
    return np.empty(_shape_of(shape), _float(dtype))


def _like(fill):
    def f(a, dtype=None, shape=None):
        dt = np.dtype(dtype) if dtype is not None else (
            a.dtype if hasattr(a, "dtype") else backend.canonicalize(a).dtype)
        shp = _shape_of(shape) if shape is not None else tuple(np.shape(a) if not isinstance(
            a, Tracer) else a.shape)
        xp = _xp_like(a)
        if fill is None:
            return xp.empty(shp, dt)
        return xp.full(shp, fill, dt)

    return f


zeros_like = _like(0)
zeros_like.__name__ = "zeros_like"
zeros_like.__doc__ = """Zeros with the shape and dtype of ``a`` (``numpy.zeros_like``).

>>> import funcgrad.numpy as fnp
>>> fnp.zeros_like(fnp.ones(2))
array([0., 0.], dtype=float32)
"""
ones_like = _like(1)
ones_like.__name__ = "ones_like"
ones_like.__doc__ = """Ones with the shape and dtype of ``a`` (``numpy.ones_like``).

>>> import funcgrad.numpy as fnp
>>> fnp.ones_like(fnp.zeros(2))
array([1., 1.], dtype=float32)
"""
empty_like = _like(None)
empty_like.__name__ = "empty_like"
empty_like.__doc__ = """Uninitialised array like ``a`` (``numpy.empty_like``).

>>> import funcgrad.numpy as fnp
>>> fnp.empty_like(fnp.zeros(2)).shape
(2,)
"""


def full_like(a, fill_value, dtype=None, shape=None):
    """Array like ``a`` filled with ``fill_value`` (``numpy.full_like``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.full_like(fnp.zeros(2), 3.0)
    array([3., 3.], dtype=float32)
    """
    dt = np.dtype(dtype) if dtype is not None else a.dtype
    shp = _shape_of(shape) if shape is not None else tuple(a.shape)
    return _xp_like(a).full(shp, fill_value, dt)


def array(object, dtype=None, copy=True, ndmin=0):  # noqa: A002
    """Create an array (``numpy.array``) following the dtype policy: Python floats become
    float32 unless 64-bit mode is on; NumPy arrays keep their dtype. Traced values (and
    lists containing them) stay traced.

    >>> import funcgrad.numpy as fnp
    >>> fnp.array([1.0, 2.0]).dtype
    dtype('float32')
    """
    if isinstance(object, Tracer):
        out = object if dtype is None else object.astype(dtype)
    elif isinstance(object, (list, tuple)) and _has_tracer(object):
        from funcgrad._src.ops.shape import stack

        out = stack([array(o) for o in object])
        if dtype is not None:
            out = out.astype(dtype)
    else:
        if dtype is not None:
            xp = xp_of(object)  # NOTE: NumPy 2's copy=False forbids copies; asarray allows them
            out = xp.array(object, dtype=dtype) if copy else xp.asarray(object, dtype=dtype)
        elif isinstance(object, (list, tuple)) and _has_array(object):
            # NumPy arrays in a list keep their dtype; Python scalars beside them are weak.
            out = np.asarray(object, dtype=np.result_type(*_leaves(object)))
        else:
            out = backend.canonicalize(object)
            if copy and out is object:
                out = out.copy()
    if ndmin and out.ndim < ndmin:
        from funcgrad._src.ops.shape import reshape

        out = reshape(out, (1,) * (ndmin - out.ndim) + tuple(out.shape))
    return out


def _leaves(seq):
    for o in seq:
        if isinstance(o, (list, tuple)):
            yield from _leaves(o)
        else:
            yield o


def _has_array(seq) -> bool:
    return any(isinstance(o, (np.ndarray, np.generic)) for o in _leaves(seq))


def _has_tracer(seq) -> bool:
    for o in seq:
        if isinstance(o, Tracer) or (isinstance(o, (list, tuple)) and _has_tracer(o)):
            return True
    return False


def asarray(a, dtype=None):
    """Convert to an array without copying when possible (``numpy.asarray``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.asarray(3.0).dtype
    dtype('float32')
    """
    return array(a, dtype=dtype, copy=False)


def eye(N, M=None, k=0, dtype=None):
    """Identity-like 2-D array (``numpy.eye``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.eye(2)
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    return np.eye(N, M, k, dtype=_float(dtype))


def identity(n, dtype=None):
    """Square identity matrix (``numpy.identity``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.identity(2).shape
    (2, 2)
    """
    return eye(n, dtype=dtype)


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values (``numpy.arange``); integers become int32 unless x64 is on.

    >>> import funcgrad.numpy as fnp
    >>> fnp.arange(3)
    array([0, 1, 2], dtype=int32)
    """
    args = [a for a in (start, stop, step) if a is not None]
    out = np.arange(*args, dtype=dtype)
    return out if dtype is not None else backend.canonicalize(out.tolist()) if out.size else \
        backend._weak_to_default(out)


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    """Evenly spaced numbers over an interval (``numpy.linspace``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.linspace(0.0, 1.0, 3)
    array([0. , 0.5, 1. ], dtype=float32)
    """
    return np.linspace(start, stop, num, endpoint=endpoint, dtype=_float(dtype))


def tri(N, M=None, k=0, dtype=None):
    """Lower-triangular ones (``numpy.tri``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.tri(2).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    return np.tri(N, M, k, dtype=_float(dtype))


def shape(a) -> tuple[int, ...]:
    """Shape of an array or traced value (``numpy.shape``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.shape(fnp.ones((2, 3)))
    (2, 3)
    """
    return tuple(a.shape) if hasattr(a, "shape") else np.shape(a)


def ndim(a) -> int:
    """Number of dimensions (``numpy.ndim``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.ndim(fnp.ones((2, 3)))
    2
    """
    return len(shape(a))


def size(a, axis=None) -> int:
    """Number of elements (``numpy.size``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.size(fnp.ones((2, 3)))
    6
    """
    s = shape(a)
    return math.prod(s) if axis is None else s[axis]


def as_inexact(x):
    """``x`` as an array (or traced value) of a floating or complex dtype: integers and
    bools become the default float type (the inputs of special functions, activations and
    losses).

    >>> as_inexact(3).dtype
    dtype('float32')
    """
    if not isinstance(x, Tracer):
        x = backend.canonicalize(x)
    if x.dtype.kind not in "fc":
        x = x.astype(backend.default_float())
    return x
