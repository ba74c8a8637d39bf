"""Indexing: ``x[idx]`` as two primitives.

* ``slice`` — basic indexing only (ints, slices, None, Ellipsis): a view. Its VJP places
  the cotangent into zeros (``slice_update_add``), where no index repeats.
* ``gather`` — advanced indexing with integer arrays (which may be traced). Its VJP is
  ``scatter_add``, which accumulates repeated indices correctly (``np.add.at``).

The index is split into a static template (hashable, stored as a parameter) and the
integer arrays, passed positionally so that jit and vmap see them as data. Boolean masks
become integer arrays through ``nonzero`` (concrete masks only, as in JAX).
"""

from __future__ import annotations

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops.rules import linear_jvp, moveaxis_to_front


class _Arr:
    """Marker for "the next index array" in a static index template."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<array>"

    def __hash__(self) -> int:
        return 0x5EED

    def __eq__(self, other) -> bool:
        return isinstance(other, _Arr)


ARR = _Arr()


def _freeze(idx):
    return tuple(("slice", i.start, i.stop, i.step) if isinstance(i, slice) else i for i in idx)


def _thaw(template, arrays):
    it = iter(arrays)
    out = []
    for i in template:
        if isinstance(i, tuple):
            out.append(slice(i[1], i[2], i[3]))
        elif isinstance(i, _Arr):
            out.append(next(it))
        else:
            out.append(i)
    return tuple(out)


def _expand_ellipsis(idx, ndim, name="getitem"):
    n_used = sum(1 for i in idx if i is not None and i is not Ellipsis and not (
        hasattr(i, "dtype") and i.dtype == np.bool_))
    n_used += sum(i.ndim for i in idx if hasattr(i, "dtype") and i.dtype == np.bool_)
    if sum(1 for i in idx if i is Ellipsis) > 1:
        raise IndexError(f"{name}: an index can only have a single ellipsis ('...')")
    if n_used > ndim:
        raise IndexError(f"{name}: too many indices for array: array is {ndim}-dimensional, "
                         f"but {n_used} were indexed")
    out = []
    seen = False
    for i in idx:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - n_used))
            seen = True
        else:
            out.append(i)
    if not seen:
        out.extend([slice(None)] * (ndim - n_used))
    return out


def _split_index(x, idx):
    """Normalise ``idx`` into (template, arrays). Raises clear errors for bad indices."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    if len(idx) <= x.ndim and all(type(i) is slice or type(i) is int for i in idx):
        return _basic_template(x.shape, idx), []  # the common case, without the general walk
    norm = []
    for i in idx:
        if isinstance(i, (list,)):
            i = np.asarray(i)
        if isinstance(i, (bool, np.bool_)):
            i = np.asarray(i)
        if hasattr(i, "dtype") and not isinstance(i, np.generic) or isinstance(i, Tracer):
            if i.dtype == np.bool_:
                if isinstance(i, Tracer):
                    from funcgrad._src.core import concrete_value

                    try:
                        i = concrete_value(i)
                    except Exception:
                        raise IndexError(
                            "getitem: boolean mask indexing needs a concrete mask; inside jit or "
                            "vmap use fnp.where(mask, x, 0) instead") from None
                norm.append(i)
                continue
            if i.dtype.kind not in "iu":
                raise IndexError(f"getitem: arrays used as indices must be of integer (or "
                                 f"boolean) type, got {i.dtype}")
            if i.ndim == 0 and not isinstance(i, Tracer):
                i = int(i)
        elif isinstance(i, np.integer):
            i = int(i)
        elif not (i is None or i is Ellipsis or isinstance(i, (int, slice))):
            raise IndexError(f"getitem: only integers, slices (`:`), ellipsis (`...`), None "
                             f"and integer or boolean arrays are valid indices; got "
                             f"{type(i).__name__}")
        norm.append(i)
    full = _expand_ellipsis(norm, x.ndim)
    template, arrays = [], []
    dim = 0
    for i in full:
        if hasattr(i, "dtype") and i.dtype == np.bool_:
            shp = tuple(x.shape[dim:dim + i.ndim])
            if tuple(i.shape) != shp:
                raise IndexError(f"getitem: boolean index of shape {tuple(i.shape)} does not "
                                 f"match indexed dimensions {shp}")
            for nz in np.nonzero(i):
                template.append(ARR)
                arrays.append(nz.astype(np.intp))
            dim += i.ndim
            continue
        if i is None:
            template.append(None)
            continue
        if isinstance(i, (int, slice)):
            template.append(_basic_entry(i, x.shape[dim], dim))
        else:
            template.append(ARR)
            arrays.append(i)
        dim += 1
    return tuple(template), arrays


def _basic_entry(i, size: int, dim: int):
    """The template entry of a Python int or slice indexing an axis of ``size``."""
    if isinstance(i, slice):
        start, stop, step = i.indices(size)
        if stop < 0:  # a reversed slice through index 0: -1 would mean the last element
            stop = None
        return ("slice", start, stop, step)
    if not -size <= i < size:
        raise IndexError(f"getitem: index {i} is out of bounds for axis {dim} with "
                         f"size {size}")
    return i % size


def _basic_template(shape, idx) -> tuple:
    """The template of an index made of Python ints and slices only (no more than ndim)."""
    return tuple([_basic_entry(i, shape[d], d) for d, i in enumerate(idx)] +
                 [("slice", 0, shape[d], 1) for d in range(len(idx), len(shape))])


def _advanced_positions(template):
    """Positions (among non-None entries) of advanced entries, and adjacency."""
    has_arr = any(isinstance(t, _Arr) for t in template)
    pos = [k for k, t in enumerate(template)
           if isinstance(t, _Arr) or (has_arr and isinstance(t, int))]
    adjacent = bool(pos) and pos == list(range(pos[0], pos[-1] + 1))
    return pos, adjacent


# --- slice (basic indexing) --------------------------------------------------------------


def _slice_impl(x, *, idx):
    return x[_thaw(idx, ())]


def _slice_vjp(g, ans, x, *, idx):
    return bind(slice_add_p, g, shape=tuple(x.shape), idx=idx)


def _slice_batch(axis_size, args, dims, *, idx):
    (x,), (d,) = args, dims
    x = moveaxis_to_front(x, d)
    return bind(slice_p, x, idx=(("slice", 0, axis_size, 1),) + idx), 0


slice_p = Primitive("slice", _slice_impl, vjp=(_slice_vjp,), batch=_slice_batch)
slice_p.jvp = linear_jvp(slice_p)


def _slice_add_impl(g, *, shape, idx):
    out = xp_of(g).zeros(shape, g.dtype)
    out[_thaw(idx, ())] = g
    return out


def _slice_add_batch(axis_size, args, dims, *, shape, idx):
    (g,), (d,) = args, dims
    g = moveaxis_to_front(g, d)
    return bind(slice_add_p, g, shape=(axis_size,) + shape,
                idx=(("slice", 0, axis_size, 1),) + idx), 0


slice_add_p = Primitive("slice_add", _slice_add_impl, batch=_slice_add_batch)
slice_add_p.vjp = (lambda g, ans, t, *, shape, idx: bind(slice_p, g, idx=idx),)
slice_add_p.jvp = linear_jvp(slice_add_p)


# --- gather / scatter_add (advanced indexing) --------------------------------------------


def _gather_impl(x, *arrays, idx):
    return x[_thaw(idx, arrays)]


def _gather_vjp(g, ans, x, *arrays, idx, needs):
    return (scatter_add(g, arrays, shape=tuple(x.shape), idx=idx),) + (None,) * len(arrays)


def _gather_batch(axis_size, args, dims, *, idx):
    x, arrays = args[0], args[1:]
    dx, darr = dims[0], dims[1:]
    pos, adjacent = _advanced_positions(idx)
    if all(d is None for d in darr):
        x = moveaxis_to_front(x, dx)
        new_idx = (("slice", 0, axis_size, 1),) + idx
        out = bind(gather_p, x, *arrays, idx=new_idx)
        if adjacent:
            return out, 0
        bshape = np.broadcast_shapes(*[tuple(a.shape) for a in arrays])
        return out, len(bshape)
    if dx is not None:
        x = moveaxis_to_front(x, dx)
    xshape = tuple(x.shape[1:]) if dx is not None else tuple(x.shape)
    comps, template = _all_advanced(idx, arrays, darr, axis_size, xshape, dx is not None)
    return bind(gather_p, x, *comps, idx=template), 0


def _all_advanced(idx, arrays, darr, axis_size, xshape, iota):
    """Rewrite a per-example index with batched pieces as one index on the batched operand
    (batch axis first when ``iota``) in which every entry is advanced: the batch becomes an
    ``arange`` index, slices become ``arange`` indices, ``None`` an axis no index spans. The
    pieces are shaped so that they broadcast to ``(axis_size,) + per-example result shape``
    in NumPy's layout for the per-example index (the advanced block in place of the first
    advanced entry when the advanced entries are adjacent, else first), so the result has
    the batch axis first. Returns ``(index arrays, template)``."""
    from funcgrad._src.ops.shape import reshape

    pos, adjacent = _advanced_positions(idx)
    shapes = [tuple(a.shape[:d]) + tuple(a.shape[d + 1:]) if d is not None else tuple(a.shape)
              for a, d in zip(arrays, darr)]
    nb = len(np.broadcast_shapes(*shapes)) if shapes else 0
    n_basic = sum(1 for k, t in enumerate(idx) if k not in pos)
    p = pos[0] if adjacent and pos else 0  # output axes before the advanced block
    rank = n_basic + nb
    comps = [np.arange(axis_size).reshape((axis_size,) + (1,) * rank)] if iota else []
    template = [ARR] if iota else []
    it = iter(zip(arrays, darr, shapes))
    dim = j = 0
    for k, t in enumerate(idx):
        if k in pos and not isinstance(t, _Arr):  # an integer among advanced indices
            template.append(t)
            dim += 1
            continue
        if isinstance(t, _Arr):
            a, d, s = next(it)
            lead = axis_size if d is not None else 1
            if d is not None:
                a = moveaxis_to_front(a, d)
            comps.append(reshape(a, (lead,) + (1,) * (p + nb - len(s)) + s +
                                 (1,) * (rank - p - nb)))
            template.append(ARR)
            dim += 1
            continue
        q = j if j < p else j + nb  # this basic entry's output axis
        j += 1
        if t is None:
            continue
        r = np.arange(xshape[dim])[slice(t[1], t[2], t[3])]
        comps.append(r.reshape((1,) * (1 + q) + (len(r),) + (1,) * (rank - q - 1)))
        template.append(ARR)
        dim += 1
    return comps, tuple(template)


def _gather_jvp(primals, tangents, *, idx):
    ans = bind(gather_p, *primals, idx=idx)
    t = tangents[0]
    return ans, (None if t is None else bind(gather_p, t, *primals[1:], idx=idx))


gather_p = Primitive("gather", _gather_impl, vjp=_gather_vjp, jvp=_gather_jvp,
                     batch=_gather_batch)


def _scatter_add_impl(g, *arrays, shape, idx):
    xp = xp_of(g)
    out = xp.zeros(shape, g.dtype)
    xp.add.at(out, _thaw(idx, arrays), g) if xp is np else out.scatter_add(  # pragma: no cover
        _thaw(idx, arrays), g)
    return out


def _scatter_add_vjp(gc, ans, g, *arrays, shape, idx, needs):
    return (bind(gather_p, gc, *arrays, idx=idx),) + (None,) * len(arrays)


def _scatter_add_jvp(primals, tangents, *, shape, idx):
    ans = bind(scatter_add_p, *primals, shape=shape, idx=idx)
    t = tangents[0]
    return ans, (None if t is None else bind(scatter_add_p, t, *primals[1:], shape=shape,
                                                idx=idx))


def _scatter_add_batch(axis_size, args, dims, *, shape, idx):
    g, arrays = args[0], args[1:]
    dg, darr = dims[0], dims[1:]
    pos, adjacent = _advanced_positions(idx)
    if all(d is None for d in darr) and adjacent:
        g = moveaxis_to_front(g, dg)
        new_idx = (("slice", 0, axis_size, 1),) + idx
        return bind(scatter_add_p, g, *arrays, shape=(axis_size,) + shape, idx=new_idx), 0
    from funcgrad._src.ops.shape import broadcast_to

    comps, template = _all_advanced(idx, arrays, darr, axis_size, shape, True)
    out_shape = np.broadcast_shapes(*[tuple(c.shape) for c in comps])
    g = moveaxis_to_front(g, dg) if dg is not None else g
    return bind(scatter_add_p, broadcast_to(g, out_shape), *comps,
                shape=(axis_size,) + tuple(shape), idx=template), 0


scatter_add_p = Primitive("scatter_add", _scatter_add_impl, vjp=_scatter_add_vjp,
                          jvp=_scatter_add_jvp, batch=_scatter_add_batch)


def scatter_add(g, arrays, *, shape, idx):
    return bind(scatter_add_p, g, *arrays, shape=shape, idx=idx)


# --- public ----------------------------------------------------------------------------


def getitem(x, idx):
    """``x[idx]``: basic and advanced NumPy indexing, differentiable in ``x``.

    >>> import funcgrad.numpy as fnp
    >>> x = fnp.arange(6.0).reshape(2, 3)
    >>> x[:, [0, 0, 2]].shape
    (2, 3)
    """
    if not isinstance(x, Tracer):
        x = backend.canonicalize(x)
    template, arrays = _split_index(x, idx)
    if not arrays:
        return bind(slice_p, x, idx=template)
    return bind(gather_p, x, *arrays, idx=template)


def nonzero(a):
    """Indices of non-zero elements (``numpy.nonzero``); needs a concrete array.

    >>> import funcgrad.numpy as fnp
    >>> fnp.nonzero(fnp.array([0.0, 2.0, 3.0]))
    (array([1, 2]),)
    """
    from funcgrad._src.core import concrete_value

    return xp_of(a).nonzero(concrete_value(a))


def take(a, indices, axis=None):
    """Take elements along an axis (``numpy.take``, mode 'raise').

    >>> import funcgrad.numpy as fnp
    >>> fnp.take(fnp.array([1.0, 2.0, 3.0]), [2, 0])
    array([3., 1.], dtype=float32)
    """
    from funcgrad._src.ops.shape import reshape

    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    a = a if isinstance(a, Tracer) else backend.canonicalize(a)
    axis = axis % a.ndim
    if not isinstance(indices, Tracer):
        indices = np.asarray(indices)
    return getitem(a, (slice(None),) * axis + (indices,))


def take_along_axis(arr, indices, axis):
    """Take values along an axis by matching index arrays (``numpy.take_along_axis``).

    >>> import funcgrad.numpy as fnp
    >>> x = fnp.array([[1.0, 2.0], [4.0, 3.0]])
    >>> fnp.take_along_axis(x, fnp.array([[1], [0]]), axis=1)
    array([[2.],
           [4.]], dtype=float32)
    """
    arr = arr if isinstance(arr, Tracer) else backend.canonicalize(arr)
    axis = axis % arr.ndim
    idx = []
    for k in range(arr.ndim):
        if k == axis:
            idx.append(indices)
        else:
            shp = [1] * arr.ndim
            shp[k] = arr.shape[k]
            idx.append(np.arange(arr.shape[k]).reshape(shp))
    return getitem(arr, tuple(idx))

