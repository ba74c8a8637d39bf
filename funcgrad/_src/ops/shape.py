"""Shape primitives: reshape, transpose, broadcast_to, concatenate, flip.

All are linear, so their JVP is the op applied to the tangent and their VJP is the
adjoint shape op. ``broadcast_to``'s VJP is the one un-broadcasting sum in funcgrad.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops.rules import broadcast_shapes, linear_jvp, moveaxis_to_front


def _arr(x):
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


def _norm_axis(axis: int, ndim: int, name: str) -> int:
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim


# --- reshape ---------------------------------------------------------------------------


def _reshape_impl(x, *, shape):
    return xp_of(x).reshape(x, shape)


def _reshape_batch(axis_size, args, dims, *, shape):
    (x,), (d,) = args, dims
    return reshape(moveaxis_to_front(x, d), (x.shape[d],) + shape), 0


reshape_p = Primitive("reshape", _reshape_impl, batch=_reshape_batch)
reshape_p.vjp = (lambda g, ans, x, *, shape: reshape(g, x.shape),)
reshape_p.jvp = linear_jvp(reshape_p)


def reshape(a, newshape=None, order="C", *, shape=None):
    """Gives a new shape to an array (``numpy.reshape``); one dimension may be -1.

    >>> import funcgrad.numpy as fnp
    >>> fnp.reshape(fnp.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    if order != "C":
        raise NotImplementedError("reshape: only order='C' is supported")
    shape = newshape if shape is None else shape
    a = _arr(a)
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    size = math.prod(a.shape)
    if -1 in shape:
        known = math.prod([s for s in shape if s != -1])
        if shape.count(-1) > 1 or known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape array of shape {tuple(a.shape)} "
                             f"into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise ValueError(f"reshape: cannot reshape array of size {size} (shape "
                         f"{tuple(a.shape)}) into shape {shape}")
    if shape == tuple(a.shape):
        return a
    return bind(reshape_p, a, shape=shape)


def ravel(a, order="C"):
    """Flattened array (``numpy.ravel``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.ravel(fnp.ones((2, 3))).shape
    (6,)
    """
    return reshape(a, (-1,), order)


def expand_dims(a, axis):
    """Insert axes of length one (``numpy.expand_dims``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.expand_dims(fnp.ones(3), 0).shape
    (1, 3)
    """
    a = _arr(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    nd = a.ndim + len(axes)
    axes = sorted(_norm_axis(ax, nd, "expand_dims") for ax in axes)
    shape = list(a.shape)
    for ax in axes:
        shape.insert(ax, 1)
    return reshape(a, tuple(shape))


def squeeze(a, axis=None):
    """Remove axes of length one (``numpy.squeeze``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.squeeze(fnp.ones((1, 3, 1))).shape
    (3,)
    """
    a = _arr(a)
    if axis is None:
        axes = [i for i, s in enumerate(a.shape) if s == 1]
    else:
        axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
        axes = [_norm_axis(ax, a.ndim, "squeeze") for ax in axes]
        for ax in axes:
            if a.shape[ax] != 1:
                raise ValueError(f"squeeze: cannot select an axis to squeeze out which has "
                                 f"size not equal to one (axis {ax} of shape {tuple(a.shape)})")
    return reshape(a, tuple(s for i, s in enumerate(a.shape) if i not in axes))


# --- transpose -------------------------------------------------------------------------


def _transpose_impl(x, *, axes):
    return xp_of(x).transpose(x, axes)


def _transpose_batch(axis_size, args, dims, *, axes):
    (x,), (d,) = args, dims
    x = moveaxis_to_front(x, d)
    return transpose(x, (0,) + tuple(a + 1 for a in axes)), 0


transpose_p = Primitive("transpose", _transpose_impl, batch=_transpose_batch)
transpose_p.vjp = (lambda g, ans, x, *, axes: transpose(g, tuple(np.argsort(axes))),)
transpose_p.jvp = linear_jvp(transpose_p)


def transpose(a, axes=None):
    """Permute the dimensions of an array (``numpy.transpose``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.transpose(fnp.ones((2, 3))).shape
    (3, 2)
    """
    a = _arr(a)
    nd = a.ndim
    if axes is None:
        axes = tuple(range(nd - 1, -1, -1))
    else:
        axes = tuple(_norm_axis(ax, nd, "transpose") for ax in axes)
        if sorted(axes) != list(range(nd)):
            raise ValueError(f"transpose: axes {axes} don't match array of shape "
                             f"{tuple(a.shape)}")
    if axes == tuple(range(nd)):
        return a
    return bind(transpose_p, a, axes=axes)


def moveaxis(a, source, destination):
    """Move axes to new positions (``numpy.moveaxis``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.moveaxis(fnp.ones((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    a = _arr(a)
    nd = a.ndim
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    src = [_norm_axis(s, nd, "moveaxis") for s in src]
    dst = [_norm_axis(s, nd, "moveaxis") for s in dst]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, tuple(order))


def swapaxes(a, axis1, axis2):
    """Interchange two axes (``numpy.swapaxes``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.swapaxes(fnp.ones((2, 3)), 0, 1).shape
    (3, 2)
    """
    a = _arr(a)
    perm = list(range(a.ndim))
    i, j = _norm_axis(axis1, a.ndim, "swapaxes"), _norm_axis(axis2, a.ndim, "swapaxes")
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, tuple(perm))


# --- broadcast_to ----------------------------------------------------------------------


def _broadcast_impl(x, *, shape):
    return xp_of(x).broadcast_to(x, shape)


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting ``shape`` to ``g.shape``."""
    from funcgrad._src.ops.reductions import sum as _sum

    shape = tuple(shape)
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and gshape[i + lead] != 1)
    g = _sum(g, axis=axes)
    return reshape(g, shape)


def _broadcast_batch(axis_size, args, dims, *, shape):
    (x,), (d,) = args, dims
    x = moveaxis_to_front(x, d)
    lead = len(shape) - (x.ndim - 1)
    x = reshape(x, (x.shape[0],) + (1,) * lead + tuple(x.shape[1:]))
    return broadcast_to(x, (x.shape[0],) + tuple(shape)), 0


broadcast_to_p = Primitive("broadcast_to", _broadcast_impl, batch=_broadcast_batch)
broadcast_to_p.vjp = (lambda g, ans, x, *, shape: unbroadcast(g, x.shape),)
broadcast_to_p.jvp = linear_jvp(broadcast_to_p)


def broadcast_to(array, shape):
    """Broadcast an array to a new shape (``numpy.broadcast_to``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.broadcast_to(fnp.ones(3), (2, 3)).shape
    (2, 3)
    """
    array = _arr(array)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if tuple(array.shape) == shape:
        return array
    try:
        if len(shape) < array.ndim or broadcast_shapes(tuple(array.shape), shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast array of shape {tuple(array.shape)} "
                         f"to shape {shape}") from None
    return bind(broadcast_to_p, array, shape=shape)


def broadcast_arrays(*args):
    """Broadcast arrays against each other (``numpy.broadcast_arrays``).

    >>> import funcgrad.numpy as fnp
    >>> [a.shape for a in fnp.broadcast_arrays(fnp.ones(3), fnp.ones((2, 1)))]
    [(2, 3), (2, 3)]
    """
    args = [_arr(a) for a in args]
    shape = broadcast_shapes(*[tuple(a.shape) for a in args])
    return [broadcast_to(a, shape) for a in args]


# --- concatenate -----------------------------------------------------------------------


def _concat_impl(*xs, axis):
    return xp_of(*xs).concatenate(xs, axis=axis)


def _concat_vjp(g, ans, *xs, axis, needs):
    out = [None] * len(xs)
    start = 0
    for i, x in enumerate(xs):
        stop = start + x.shape[axis]
        if i in needs:
            from funcgrad._src.ops.indexing import getitem

            idx = (slice(None),) * axis + (slice(start, stop),)
            out[i] = getitem(g, idx)
        start = stop
    return out


def _concat_batch(axis_size, args, dims, *, axis):
    moved = []
    for x, d in zip(args, dims):
        if d is None:
            x = broadcast_to(expand_dims(x, 0), (axis_size,) + tuple(x.shape))
        else:
            x = moveaxis_to_front(x, d)
        moved.append(x)
    return bind(concatenate_p, *moved, axis=axis + 1), 0


concatenate_p = Primitive("concatenate", _concat_impl, vjp=_concat_vjp, batch=_concat_batch)
concatenate_p.jvp = linear_jvp(concatenate_p)


def concatenate(arrays, axis=0):
    """Join arrays along an existing axis (``numpy.concatenate``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.concatenate([fnp.ones(2), fnp.zeros(3)]).shape
    (5,)
    """
    arrays = [_arr(a) for a in arrays]
    if not arrays:
        raise ValueError("concatenate: need at least one array to concatenate")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    nd = arrays[0].ndim
    if nd == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    axis = _norm_axis(axis, nd, "concatenate")
    for a in arrays[1:]:
        if a.ndim != nd or any(s != t for i, (s, t) in enumerate(zip(a.shape, arrays[0].shape))
                               if i != axis):
            raise ValueError(
                "concatenate: all the input array dimensions except for the concatenation axis "
                f"must match exactly; got shapes {[tuple(x.shape) for x in arrays]} "
                f"(axis={axis})")
    if len(arrays) == 1:
        return arrays[0]
    if not any(isinstance(a, Tracer) for a in arrays):
        return _concat_impl(*arrays, axis=axis)
    return bind(concatenate_p, *arrays, axis=axis)


def stack(arrays, axis=0):
    """Join arrays along a new axis (``numpy.stack``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.stack([fnp.ones(2), fnp.zeros(2)], axis=1).shape
    (2, 2)
    """
    arrays = [_arr(a) for a in arrays]
    if not arrays:
        raise ValueError("stack: need at least one array to stack")
    shape0 = tuple(arrays[0].shape)
    for a in arrays:
        if tuple(a.shape) != shape0:
            raise ValueError(f"stack: all input arrays must have the same shape; got "
                             f"{[tuple(x.shape) for x in arrays]}")
    axis = _norm_axis(axis, len(shape0) + 1, "stack")
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


# --- unstack (the inverse of stack; a multiple-result primitive) -----------------------


def _unstack_impl(x, *, axis):
    m = xp_of(x).moveaxis(x, axis, 0)
    return tuple(m[i, ...] for i in range(m.shape[0]))  # views (0-d arrays, not scalars)


def _unstack_vjp(gs, ans, x, *, axis):
    return stack(gs, axis=axis)  # one copy, where slicing would scatter each piece


def _pieces_batch(prim):
    """Batching rule of ``unstack``/``split``: the batch dimension to the front, the axis
    one further on; every piece is batched along 0."""

    def rule(axis_size, args, dims, *, axis, **params):
        (x,), (d,) = args, dims
        outs = bind(prim, moveaxis_to_front(x, d), axis=axis + 1, **params)
        return outs, [0] * len(outs)

    return rule


unstack_p = Primitive("unstack", _unstack_impl, vjp=(_unstack_vjp,), multiple_results=True)
unstack_p.jvp = linear_jvp(unstack_p)
unstack_p.batch = _pieces_batch(unstack_p)


def unstack(x, /, *, axis=0):
    """Split an array into a tuple of arrays along ``axis``, removing it
    (``numpy.unstack``, NumPy 2.1). One primitive: its VJP is a single ``stack``, where
    indexing each piece would add up one zero-padded array per piece.

    >>> import funcgrad.numpy as fnp
    >>> [a.tolist() for a in fnp.unstack(fnp.array([[1, 2], [3, 4]]), axis=1)]
    [[1, 3], [2, 4]]
    """
    x = _arr(x)
    if x.ndim == 0:
        raise ValueError("unstack: input must be at least 1-d, got a 0-d array")
    axis = _norm_axis(axis, x.ndim, "unstack")
    if x.shape[axis] == 0:
        return ()
    if not isinstance(x, Tracer):
        return tuple(_unstack_impl(x, axis=axis))
    return tuple(bind(unstack_p, x, axis=axis))


# --- split_at (contiguous pieces along an axis; a multiple-result primitive) ----------


def _split_impl(x, *, points, axis):
    pre = (slice(None),) * axis
    return tuple(x[pre + (slice(points[i], points[i + 1]),)] for i in range(len(points) - 1))


split_p = Primitive("split", _split_impl, multiple_results=True)
split_p.jvp = linear_jvp(split_p)
split_p.batch = _pieces_batch(split_p)
split_p.vjp = (lambda gs, ans, x, *, points, axis: concatenate(gs, axis=axis),)


def split_at(x, points, axis: int):
    """The pieces ``x[..., points[i]:points[i + 1], ...]`` along ``axis``, for
    non-decreasing ``points`` from 0 to ``x.shape[axis]`` (what ``numpy.split`` and
    ``array_split`` make): one primitive whose VJP is one ``concatenate``, where slicing each
    piece would add up one zero-padded array per piece."""
    points = tuple(int(p) for p in points)
    if not isinstance(x, Tracer):
        return list(_split_impl(x, points=points, axis=axis))
    return list(bind(split_p, x, points=points, axis=axis))


def hstack(tup):
    """Stack arrays horizontally (``numpy.hstack``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.hstack([fnp.ones(2), fnp.ones(1)]).shape
    (3,)
    """
    arrs = [_arr(a) for a in tup]
    return concatenate(arrs, axis=0 if arrs[0].ndim == 1 else 1)


def vstack(tup):
    """Stack arrays vertically (``numpy.vstack``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.vstack([fnp.ones(2), fnp.ones(2)]).shape
    (2, 2)
    """
    arrs = [_arr(a) for a in tup]
    arrs = [reshape(a, (1, -1)) if a.ndim < 2 else a for a in arrs]
    return concatenate(arrs, axis=0)


# --- flip ------------------------------------------------------------------------------


def _flip_impl(x, *, axes):
    return xp_of(x).flip(x, axes)


def _flip_batch(axis_size, args, dims, *, axes):
    (x,), (d,) = args, dims
    x = moveaxis_to_front(x, d)
    return flip(x, tuple(a + 1 for a in axes)), 0


flip_p = Primitive("flip", _flip_impl, batch=_flip_batch)
flip_p.vjp = (lambda g, ans, x, *, axes: flip(g, axes),)
flip_p.jvp = linear_jvp(flip_p)


def flip(m, axis=None):
    """Reverse the order of elements along axes (``numpy.flip``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.flip(fnp.arange(3.0))
    array([2., 1., 0.], dtype=float32)
    """
    m = _arr(m)
    if axis is None:
        axes = tuple(range(m.ndim))
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(_norm_axis(a, m.ndim, "flip") for a in axes)
    return bind(flip_p, m, axes=axes)
