"""Functional index updates, as JAX: ``x.at[idx].set(v)``, ``.add``, ``.multiply``, ...

Design. An update is reduced to a *flat* problem: the positions of the indexed elements in
``x.ravel()`` are ``arange(x.size).reshape(x.shape)[idx]`` (computed by NumPy when the index
is static, by a traced gather when it holds traced integer arrays), the updates are
broadcast to that shape, and one primitive updates the flattened ``x``:

* ``scatter_set`` (``.set``; with repeated positions the last update wins, as in NumPy);
* ``scatter_mul`` (``.multiply`` and ``.divide``: repeated positions multiply together; the
  gradient of one factor is the product of the others at its position, computed by a
  segmented scan over the sorted positions, exact with zeros);
* ``scatter_min`` / ``scatter_max`` (repeated positions reduce together);
* ``.add`` uses the existing ``scatter_add`` (repeated positions accumulate).

The batching rule is therefore the same for every index form: batch elements are offset
into one longer flat array. Every update is differentiable in both ``x`` and the values;
``.set`` sends the gradient only to the update that won a repeated position, ``.min`` and
``.max`` split it between tied candidates (as ``fnp.max``), and ``.multiply`` uses products
of the other factors (exact when some are zero).

Usage. Traced values (inside ``grad``/``jvp``/``vmap``/``jit``) have the ``.at`` property.
NumPy arrays cannot be given new attributes, so for code that must also run on plain NumPy
arrays use the function form ``fnp.at(x)[idx].set(v)``, which accepts any array-like and
is the same object as ``x.at`` for traced values.
"""

from __future__ import annotations

import numpy as np

from funcgrad._src import backend
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind
from funcgrad._src.ops import elementwise as ew
from funcgrad._src.ops import misc
from funcgrad._src.ops.creation import zeros_like
from funcgrad._src.ops.indexing import ARR, getitem, scatter_add
from funcgrad._src.ops.shape import broadcast_to, concatenate, flip, reshape

__all__ = ["at"]


def _arr(x):
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


# ---------------------------------------------------------------------------------------
# Flat scatter primitives: (x (N,), v (P...), pos (P...) int) -> (N,)
# ---------------------------------------------------------------------------------------


def _impl(kind):
    def impl(x, v, pos):
        xp = xp_of(x, v)
        out = xp.array(x, copy=True)
        if kind == "set":
            out[pos] = v
        else:
            getattr(xp, kind).at(out, pos, v)
        return out

    impl.__name__ = f"scatter_{kind}"
    return impl


def _flat_batch(prim):
    def rule(axis_size, args, dims):
        from funcgrad._src.batching import move_bdim

        x, v, pos = (move_bdim(a, d, 0, axis_size) for a, d in zip(args, dims))
        n = x.shape[1]
        offs = (np.arange(axis_size, dtype=np.intp) * n).reshape(
            (axis_size,) + (1,) * (pos.ndim - 1))
        out = bind(prim, reshape(x, (-1,)), v, ew.add(pos, offs))
        return reshape(out, (axis_size, n)), 0

    return rule


def _flat_jvp(prim):
    """JVP of an update that is linear in ``(x, v)`` jointly (``scatter_set``)."""

    def rule(primals, tangents):
        x, v, pos = primals
        tx, tv, _ = tangents
        ans = bind(prim, x, v, pos)
        if tx is None and tv is None:
            return ans, None
        tx = zeros_like(x) if tx is None else tx
        tv = zeros_like(v, dtype=x.dtype) if tv is None else tv
        return ans, bind(prim, tx, tv, pos)

    return rule


def _scatter_sum(v, pos, n):
    return scatter_add(v, (pos,), shape=(n,), idx=(ARR,))


def _winners(n, pos):
    """True for the update that ``scatter_set`` keeps at each position (the last one)."""
    ids = np.arange(int(np.prod(pos.shape, dtype=np.int64)), dtype=np.intp).reshape(pos.shape)
    filled = bind(scatter_set_p, np.full((n,), -1, np.intp), ids, pos)
    return ew.equal(getitem(filled, pos), ids)


def _set_vjp(g, ans, x, v, pos, *, needs):
    gx = gv = None
    if 0 in needs:
        gx = bind(scatter_set_p, g, zeros_like(v, dtype=g.dtype), pos)
    if 1 in needs:
        gv = ew.where(_winners(x.shape[0], pos), getitem(g, pos), np.zeros((), g.dtype))
    return gx, gv, None


scatter_set_p = Primitive("scatter_set", _impl("set"), vjp=_set_vjp)
scatter_set_p.jvp = _flat_jvp(scatter_set_p)
scatter_set_p.batch = _flat_batch(scatter_set_p)


def _ones(x):
    return np.ones(tuple(x.shape), x.dtype)


def _seg_inclusive_products(val, start):
    """Inclusive products within segments (``start`` marks each segment's first element)
    along a 1-D array, by a log-depth segmented scan: differentiable, exact with zeros."""
    n = val.shape[0]
    k = 1
    while k < n:
        prev = concatenate([np.ones((k,), val.dtype), getitem(val, slice(0, n - k))])
        prev_start = concatenate([np.ones((k,), np.bool_), getitem(start, slice(0, n - k))])
        val = ew.where(start, val, ew.multiply(val, prev))
        start = ew.logical_or(start, prev_start)
        k *= 2
    return val


def _seg_exclusive_products(val, start):
    n = val.shape[0]
    inc = _seg_inclusive_products(val, start)
    shifted = concatenate([np.ones((1,), val.dtype), getitem(inc, slice(0, n - 1))])
    return ew.where(start, np.ones((), val.dtype), shifted)


def _others(v, pos, n):
    """For each update, the product of the other updates at its position: exclusive
    products within groups of equal positions (sorted), so every order of derivative is
    exact, also when some updates are zero."""
    from funcgrad._src.ops.more_numpy import argsort

    shape = tuple(pos.shape)
    vf, pf = reshape(v, (-1,)), reshape(pos, (-1,))
    m = vf.shape[0]
    if m <= 1:
        return np.ones(shape, v.dtype)
    order = argsort(pf)
    sp, sv = getitem(pf, order), getitem(vf, order)
    differs = ew.not_equal(getitem(sp, slice(1, m)), getitem(sp, slice(0, m - 1)))
    true = np.ones((1,), np.bool_)
    start = concatenate([true, differs])
    end = concatenate([differs, true])
    left = _seg_exclusive_products(sv, start)
    right = flip(_seg_exclusive_products(flip(sv, 0), flip(end, 0)), 0)
    return reshape(getitem(ew.multiply(left, right), argsort(order)), shape)


def _mul_vjp(g, ans, x, v, pos, *, needs):
    gx = gv = None
    if 0 in needs:
        gx = ew.multiply(g, bind(scatter_mul_p, _ones(x), v, pos))
    if 1 in needs:
        gv = ew.multiply(getitem(ew.multiply(g, x), pos), _others(v, pos, x.shape[0]))
    return gx, gv, None


def _mul_jvp(primals, tangents):
    x, v, pos = primals
    tx, tv, _ = tangents
    ans = bind(scatter_mul_p, x, v, pos)
    out = None
    if tx is not None:
        out = ew.multiply(tx, bind(scatter_mul_p, _ones(x), v, pos))
    if tv is not None:
        n = x.shape[0]
        t = ew.multiply(x, _scatter_sum(ew.multiply(tv, _others(v, pos, n)), pos, n))
        out = t if out is None else ew.add(out, t)
    return ans, out


scatter_mul_p = Primitive("scatter_mul", _impl("multiply"), vjp=_mul_vjp, jvp=_mul_jvp)
scatter_mul_p.batch = _flat_batch(scatter_mul_p)


def _choice_masks(ans, x, v, pos):
    dt = ans.dtype
    mx = ew.equal(x, ans).astype(dt)
    mv = ew.equal(v, getitem(ans, pos)).astype(dt)
    cnt = ew.add(mx, _scatter_sum(mv, pos, x.shape[0]))
    return mx, mv, ew.where(ew.equal(cnt, 0), np.ones((), dt), cnt)


def _mk_chooser(kind):
    def vjp(g, ans, x, v, pos, *, needs):
        mx, mv, cnt = _choice_masks(ans, x, v, pos)
        gc = ew.divide(g, cnt)
        return (ew.multiply(gc, mx) if 0 in needs else None,
                ew.multiply(getitem(gc, pos), mv) if 1 in needs else None, None)

    def jvp(primals, tangents):
        x, v, pos = primals
        tx, tv, _ = tangents
        ans = bind(prim, x, v, pos)
        if tx is None and tv is None:
            return ans, None
        mx, mv, cnt = _choice_masks(ans, x, v, pos)
        num = None
        if tx is not None:
            num = ew.multiply(tx, mx)
        if tv is not None:
            t = _scatter_sum(ew.multiply(tv, mv), pos, x.shape[0])
            num = t if num is None else ew.add(num, t)
        return ans, ew.divide(num, cnt)

    prim = Primitive(f"scatter_{kind}", _impl("maximum" if kind == "max" else "minimum"),
                     vjp=vjp, jvp=jvp)
    prim.batch = _flat_batch(prim)
    return prim


scatter_max_p = _mk_chooser("max")
scatter_min_p = _mk_chooser("min")


# ---------------------------------------------------------------------------------------
# The .at interface
# ---------------------------------------------------------------------------------------

_MODES = (None, "promise_in_bounds")


def _check_mode(mode):
    if mode not in _MODES:
        raise NotImplementedError(
            f"at[...]: mode={mode!r} is not supported; indices must be in bounds (as in NumPy, "
            "out-of-bound indices raise IndexError and negative indices count from the end)")


class _IndexUpdateRef:
    """``x.at[idx]``: the pure equivalents of ``x[idx] = v``, ``x[idx] += v``, ..."""

    __slots__ = ("array", "index")

    def __init__(self, array, index) -> None:
        self.array = array
        self.index = index

    def __repr__(self) -> str:
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    # -- helpers ---------------------------------------------------------------------
    def _prep(self, values):
        x = _arr(self.array)
        pos = getitem(np.arange(x.size, dtype=np.intp).reshape(tuple(x.shape)), self.index)
        v = _arr(values)
        if v.dtype != x.dtype:
            v = misc.convert_element_type(v, x.dtype)
        try:
            v = broadcast_to(v, tuple(pos.shape))
        except ValueError:
            raise ValueError(f"at[...]: values of shape {tuple(v.shape)} cannot be broadcast "
                             f"to the indexed shape {tuple(pos.shape)}") from None
        return x, reshape(x, (-1,)), v, pos

    def _scatter(self, prim, values, mode):
        _check_mode(mode)
        x, xf, v, pos = self._prep(values)
        return reshape(bind(prim, xf, v, pos), tuple(x.shape))

    # -- the updates -----------------------------------------------------------------
    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None,
            fill_value=None):
        """``x[idx]``.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.arange(4.0))[1:3].get()
        array([1., 2.], dtype=float32)
        """
        _check_mode(mode)
        return getitem(_arr(self.array), self.index)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] = values``, out of place. With repeated indices the last update wins
        (as NumPy) and only it receives a gradient.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.zeros(3))[1].set(5.0)
        array([0., 5., 0.], dtype=float32)
        """
        return self._scatter(scatter_set_p, values, mode)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] += values``, out of place; repeated indices accumulate.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.zeros(3))[[0, 0, 2]].add(1.0)
        array([2., 0., 1.], dtype=float32)
        """
        _check_mode(mode)
        x, xf, v, pos = self._prep(values)
        return reshape(ew.add(xf, _scatter_sum(v, pos, xf.shape[0])), tuple(x.shape))

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] -= values``, out of place; repeated indices accumulate.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.zeros(2))[0].subtract(1.0)
        array([-1.,  0.], dtype=float32)
        """
        return self.add(ew.negative(_arr(values)), mode=mode)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] *= values``, out of place; repeated indices multiply together.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.ones(3))[[1, 1]].multiply(3.0)
        array([1., 9., 1.], dtype=float32)
        """
        return self._scatter(scatter_mul_p, values, mode)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] /= values``, out of place (a multiplication by ``1 / values``, as JAX);
        repeated indices divide repeatedly. Floating-point ``x`` only.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.ones(2))[0].divide(4.0)
        array([0.25, 1.  ], dtype=float32)
        """
        x = _arr(self.array)
        if x.dtype.kind not in "fc":
            raise TypeError("at[...].divide: needs a floating-point array; use "
                            "set(x[idx] // v) for integer division")
        v = _arr(values)
        if v.dtype != x.dtype:
            v = misc.convert_element_type(v, x.dtype)
        return self._scatter(scatter_mul_p, ew.reciprocal(v), mode)

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] **= values``, out of place. Like :meth:`set`, with repeated indices one
        update wins (``x ** v_last``) rather than the powers compounding.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.full(2, 3.0))[1].power(2.0)
        array([3., 9.], dtype=float32)
        """
        return self.set(ew.power(self.get(mode=mode), _arr(values)), mode=mode)

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] = minimum(x[idx], values)``, out of place; repeated indices reduce
        together, ties share the gradient.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.ones(2))[[0, 0]].min(fnp.array([3.0, -1.0]))
        array([-1.,  1.], dtype=float32)
        """
        return self._scatter(scatter_min_p, values, mode)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] = maximum(x[idx], values)``, out of place; repeated indices reduce
        together, ties share the gradient.

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.zeros(2))[[1, 1]].max(fnp.array([3.0, 5.0]))
        array([0., 5.], dtype=float32)
        """
        return self._scatter(scatter_max_p, values, mode)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """``x[idx] = func(x[idx])``, out of place (a repeated index is applied once).

        >>> import funcgrad.numpy as fnp
        >>> fnp.at(fnp.ones(2))[0].apply(lambda v: v * 7.0)
        array([7., 1.], dtype=float32)
        """
        return self.set(func(self.get(mode=mode)), mode=mode)


class _IndexUpdateHelper:
    """The object returned by ``x.at``; index it to choose the elements to update."""

    __slots__ = ("array",)

    def __init__(self, array) -> None:
        self.array = array

    def __getitem__(self, index) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.array, index)

    def __repr__(self) -> str:
        return f"_IndexUpdateHelper({self.array!r})"


def at(x) -> _IndexUpdateHelper:
    """Functional index updates for any array, as JAX's ``x.at``: ``fnp.at(x)[idx].set(v)``
    (also ``.get``, ``.add``, ``.subtract``, ``.multiply``, ``.divide``, ``.power``,
    ``.min``, ``.max``, ``.apply``). The input is never modified.

    Traced values (inside ``grad``, ``jvp``, ``vmap``, ``jit``) also have the property
    ``x.at[idx]``, as in JAX; NumPy arrays cannot be given one, hence this function form
    for code that also runs on plain arrays. Updates are differentiable in ``x`` and in the
    values; ``.add`` accumulates repeated indices; ``.set`` keeps the last of repeated
    updates (only it gets a gradient). Indices follow NumPy (basic, integer-array and
    boolean-mask indexing; integer arrays may be traced).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fnp.at(fnp.zeros(3))[[0, 0, 2]].add(fnp.array([1.0, 2.0, 3.0]))
    array([3., 0., 3.], dtype=float32)
    >>> fg.grad(lambda v: fnp.sum(fnp.zeros(3).at[1].set(v) ** 2))(2.0)
    Traceback (most recent call last):
    AttributeError: 'numpy.ndarray' object has no attribute 'at'
    >>> fg.grad(lambda v: fnp.sum(fnp.at(fnp.zeros(3))[1].set(v) ** 2))(2.0)
    array(4., dtype=float32)
    """
    return _IndexUpdateHelper(_arr(x))


Tracer.at = property(lambda self: _IndexUpdateHelper(self))  # type: ignore[attr-defined]
