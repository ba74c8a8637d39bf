"""Convolution and pooling primitives on ``(N, C, *spatial)`` arrays, for any number of
spatial dimensions.

Convolution is one trilinear form ``T(x, w, g) = <g, conv(x, w)>`` seen from its three
arguments, and each view is a primitive:

* ``conv_general(x, w)``      = dT/dg, the convolution itself (``(N, C, *S)`` by
  ``(O, C // groups, *K)`` gives ``(N, O, *S_out)``);
* ``conv_transpose(g, w)``    = dT/dx, the transposed convolution (the input gradient);
* ``conv_weight_grad(x, g)``  = dT/dw, the weight gradient.

The VJP of each is made of the other two (for instance the VJP of ``conv_transpose`` is a
``conv_general`` for ``g`` and a ``conv_weight_grad`` for ``w``), so derivatives of any
order stay convolutions. All three are linear in each argument, so their JVPs are the
primitive applied to one tangent at a time.

Implementation: im2col on a strided view. The padded input is one contiguous buffer; an
``as_strided`` view presents it as ``(N, C, *K, *Q)`` windows, one copy makes that
contiguous and ONE batched GEMM (``numpy.matmul``) contracts it with the weights. The
im2col copy and the other large temporaries go to per-thread scratch buffers reused from
call to call (fresh multi-megabyte arrays would page-fault on every call). For
stride-1 convolutions ``Q`` is the "wide" flat output: positions ``q`` of the flattened
padded image, with the last ``K - 1`` columns of each row computed and dropped, which makes
every copy a run of whole rows instead of short pieces (a few percent of extra GEMM work
for a much cheaper copy). The transposed convolution is the same GEMM backwards followed by
``prod(K)`` vectorised strided additions (col2im); nothing loops over the batch or over
output positions.

Pooling: ``max_pool`` / ``avg_pool`` reduce the ``prod(K)`` strided views of the padded
input with ``maximum`` / ``add``. The max-pool gradient goes to the first maximum of each
window in row-major order (PyTorch's choice) via ``max_pool_grad(g, x, y)`` (scatter, linear
in ``g``), whose VJP is ``max_pool_gather(t, x, y)`` (linear in ``t``), and back. When the
windows do not overlap the scatter writes each view directly instead of accumulating (on
strided views, which is faster than a reshape to ``(..., kh, kw)`` windows and an argmax over
them). A window whose maximum is NaN passes no gradient.

Batching (``vmap``) folds the mapped dimension into ``N``; batched weights use the
``groups`` trick (``B`` models side by side as ``B * groups`` groups), so no loop either.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading

import numpy as np

from funcgrad._src import backend, buffers
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, bind

__all__ = [
    "avg_pool",
    "conv_general",
    "conv_transpose",
    "conv_weight_grad",
    "max_pool",
]

IntTuple = tuple[int, ...]
Padding = tuple[tuple[int, int], ...]


# ---------------------------------------------------------------------------------------
# Geometry (pure Python on static shapes, cached)
# ---------------------------------------------------------------------------------------


def _c_strides(shape: IntTuple) -> IntTuple:
    """Element strides of a C-contiguous array of ``shape``."""
    st = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        st[i] = st[i + 1] * shape[i + 1]
    return tuple(st)


class _Plan:
    """Where the windows of one op lie in its padded, flattened ``(N, C, L)`` buffer.

    ``koffsets[k]``: flat offset of kernel tap ``k`` (row-major over the kernel);
    ``kstrides``: flat strides of the kernel axes; ``q_shape``/``q_strides``: the output
    positions, either the exact output (``out``) or the wide flat range ``(P,)``.
    """

    def __init__(self, spatial: IntTuple, kernel: IntTuple, strides: IntTuple,
                 padding: Padding, dilation: IntTuple, allow_wide: bool,
                 out: IntTuple | None) -> None:
        self.spatial = spatial
        self.kernel = kernel
        self.padding = padding
        self.padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding))
        # ``out`` may be given smaller than what fits: a transposed convolution whose
        # output_padding reaches past the stride (up to the dilation) leaves the last rows
        # of its output outside every window.
        self.out = out if out is not None else tuple(
            (n - d * (k - 1) - 1) // s + 1
            for n, k, s, d in zip(self.padded, kernel, strides, dilation))
        self.L = math.prod(self.padded)
        st = _c_strides(self.padded)
        self.st = st
        self.kstrides = tuple(d * s for d, s in zip(dilation, st))
        self.koffsets = tuple(sum(i * ks for i, ks in zip(idx, self.kstrides))
                              for idx in itertools.product(*[range(k) for k in kernel]))
        wide = allow_wide and len(spatial) > 1 and all(s == 1 for s in strides)
        if wide:
            p = sum((o - 1) * s for o, s in zip(self.out, st)) + 1
            wide = p <= 2 * math.prod(self.out)
        self.wide = wide
        if wide:
            self.q_shape: IntTuple = (p,)
            self.q_strides: IntTuple = (1,)
        else:
            self.q_shape = self.out
            self.q_strides = tuple(s * t for s, t in zip(strides, st))
        self.nq = math.prod(self.q_shape)
        # Windows are disjoint: a scatter may assign instead of accumulate.
        self.disjoint = all(s >= d * (k - 1) + 1
                            for s, d, k in zip(strides, dilation, kernel))

    @property
    def crop(self) -> tuple:
        return (slice(None), slice(None)) + tuple(
            slice(lo, lo + n) for n, (lo, _) in zip(self.spatial, self.padding))


@functools.lru_cache(maxsize=512)
def _plan(spatial, kernel, strides, padding, dilation, allow_wide=True, out=None) -> _Plan:
    return _Plan(spatial, kernel, strides, padding, dilation, allow_wide, out)


# ---------------------------------------------------------------------------------------
# Raw array helpers (NumPy or CuPy), used only inside ``impl``
# ---------------------------------------------------------------------------------------


_scratch = threading.local()


def _scratch_array(xp, slot: str, shape, dtype, zero: bool = False):
    """A temporary that lives only inside one ``impl`` call, from a per-thread buffer
    reused across calls. Large fresh NumPy arrays are new ``mmap`` pages, and touching them
    costs page faults on every call (several milliseconds per training step once a tape
    holds many arrays); im2col buffers are the largest temporaries here. Never returned."""
    if xp is not np:
        return xp.zeros(shape, dtype) if zero else xp.empty(shape, dtype)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    bufs = getattr(_scratch, "bufs", None)
    if bufs is None:
        bufs = _scratch.bufs = {}
    b = bufs.get(slot)
    if b is None or b.nbytes < nbytes:
        b = bufs[slot] = np.empty(max(nbytes, 64), np.uint8)
    out = b[:nbytes].view(dtype).reshape(shape)
    if zero:
        out.fill(0)
    return out


def _new(xp, shape, dtype, zero: bool = False):
    """A new result array: from the recycled large-buffer pool on NumPy."""
    if xp is np:
        return buffers.zeros(shape, dtype) if zero else buffers.empty(shape, dtype)
    return xp.zeros(shape, dtype) if zero else xp.empty(shape, dtype)


def _copy(xp, a):
    """A C-contiguous copy of ``a`` in a new result array."""
    out = _new(xp, a.shape, a.dtype)
    xp.copyto(out, a)
    return out


def _view(xp, buf, shape, estrides, offset=0):
    """``as_strided`` view of contiguous ``buf`` in element strides, from ``offset``."""
    it = buf.itemsize
    strides = tuple(s * it for s in estrides)
    if xp is np and buf.flags.c_contiguous:
        # The ndarray constructor makes the same view in C; as_strided costs ~10 us a call.
        return np.ndarray(shape, buf.dtype, buffer=buf, offset=offset * it, strides=strides)
    flat = buf.reshape(-1)
    if offset:
        flat = flat[offset:]
    return xp.lib.stride_tricks.as_strided(flat, shape, strides)


def _pad(xp, x, plan: _Plan, value=0, slot: str = "pad"):
    """``x`` padded as the plan says: ``x`` itself (made C-contiguous) or a scratch
    buffer."""
    if plan.padded == plan.spatial:
        return xp.ascontiguousarray(x)
    buf = _scratch_array(xp, slot, x.shape[:2] + plan.padded, x.dtype)
    buf.fill(value)
    buf[plan.crop] = x
    return buf


def _tap_views(xp, buf, plan: _Plan, n: int, c: int):
    """The ``prod(K)`` views ``(N, C, *Q)`` of ``buf``, one per kernel tap."""
    # one view with the kernel axes in front, split tap by tap by iterating over them
    # (NumPy makes those sub-views in C: cheaper than one ``_view`` per tap)
    views = [_view(xp, buf, plan.kernel + (n, c) + plan.q_shape,
                   plan.kstrides + (c * plan.L, plan.L) + plan.q_strides)]
    for _ in plan.kernel:
        views = [t for v in views for t in v]
    return views


def _cols(xp, xpad, plan: _Plan, ones_row: bool = False):
    """im2col: the windows of the padded input, copied to a contiguous scratch
    ``(N, C, *K, *Q)``. With ``ones_row``, the scratch is ``(N, C * prod(K) + 1, nq)``
    with the windows in the first rows and ones in the last, so that one GEMM with the
    bias appended to the weights also adds the bias (returned in that flat form)."""
    n, c = xpad.shape[:2]
    shape = (n, c) + plan.kernel + plan.q_shape
    v = _view(xp, xpad, shape, (c * plan.L, plan.L) + plan.kstrides + plan.q_strides)
    if not ones_row:
        out = _scratch_array(xp, "cols", shape, xpad.dtype)
        xp.copyto(out, v)
        return out
    ckk = c * len(plan.koffsets)
    aug = _scratch_array(xp, "cols", (n, ckk + 1, plan.nq), xpad.dtype)
    xp.copyto(aug[:, :ckk].reshape(shape), v)
    aug[:, ckk].fill(1)
    return aug


def _q_to_out(xp, yq, plan: _Plan):
    """``(N, O, *Q)`` (contiguous) to the output ``(N, O, *out)``."""
    if not plan.wide:
        return yq.reshape(yq.shape[:2] + plan.out)
    n, o = yq.shape[:2]
    p = plan.q_shape[0]
    # always a copy: ``yq`` may be a scratch buffer (ascontiguousarray could return it)
    return _copy(xp, _view(xp, yq, (n, o) + plan.out, (o * p, p) + plan.st))


def _out_to_q(xp, g, plan: _Plan):
    """An output-shaped ``(N, O, *out)`` array as contiguous ``(N, O, *Q)`` (zeros in the
    wide layout's dropped columns; then a scratch buffer)."""
    if not plan.wide:
        return xp.ascontiguousarray(g).reshape(g.shape[:2] + plan.q_shape)
    n, o = g.shape[:2]
    p = plan.q_shape[0]
    buf = _scratch_array(xp, "q", (n, o, p), g.dtype, zero=True)
    _view(xp, buf, (n, o) + plan.out, (o * p, p) + plan.st)[...] = g
    return buf


def _col2im(xp, cols, plan: _Plan, dtype):
    """Sum ``cols`` ``(N, prod(K), C, *Q)`` (tap-major: each tap's slice is one block per
    sample, the fastest layout to add from) back into the (cropped) input ``(N, C, *S)``."""
    n, c = cols.shape[0], cols.shape[2]
    buf = _new(xp, (n, c) + plan.padded, dtype, zero=True)
    for k, view in enumerate(_tap_views(xp, buf, plan, n, c)):
        view += cols[:, k]
    if plan.padded == plan.spatial:
        return buf
    return _copy(xp, buf[plan.crop])


def _common(xp, a, b):
    dt = np.result_type(a.dtype, b.dtype)
    return a.astype(dt, copy=False), b.astype(dt, copy=False), dt


# ---------------------------------------------------------------------------------------
# The three convolution primitives
# ---------------------------------------------------------------------------------------


def _conv_impl(x, w, b=None, *, strides, padding, dilation, groups):
    xp = xp_of(x, w)
    x, w, dt = _common(xp, x, w)
    if b is not None:  # the optional bias joins the dtype promotion, as ``y + b`` would
        dt = np.result_type(dt, b.dtype)
        x, w, b = x.astype(dt, copy=False), w.astype(dt, copy=False), b.astype(dt, copy=False)
    n, c = x.shape[:2]
    o, kernel = w.shape[0], tuple(w.shape[2:])
    plan = _plan(tuple(x.shape[2:]), kernel, strides, padding, dilation)
    # the wide GEMM output is copied out by _q_to_out, so it may live in scratch
    yshape = (n, groups, o // groups, plan.nq)
    y = _scratch_array(xp, "q", yshape, dt) if plan.wide else _new(xp, yshape, dt)
    if groups == 1:
        # with a bias: one more GEMM row of ones, and the bias as one more weight column
        fused = b is not None
        cols = _cols(xp, _pad(xp, x, plan), plan, ones_row=fused)
        w2 = w.reshape(o, -1)
        if fused:
            w2 = xp.concatenate([w2, b.reshape(o, 1)], axis=1)
        y = xp.matmul(w2, cols.reshape(n, -1, plan.nq), out=y.reshape(n, o, plan.nq))
    else:
        cols = _cols(xp, _pad(xp, x, plan), plan)
        y = xp.matmul(w.reshape(groups, o // groups, -1),
                      cols.reshape(n, groups, -1, plan.nq), out=y)
        if b is not None:
            y += b.reshape(groups, o // groups, 1)
    return _q_to_out(xp, y.reshape((n, o) + plan.q_shape), plan)


def _conv_transpose_impl(g, w, *, strides, padding, dilation, groups, in_spatial):
    xp = xp_of(g, w)
    g, w, dt = _common(xp, g, w)
    n, o = g.shape[:2]
    kernel = tuple(w.shape[2:])
    c = w.shape[1] * groups
    plan = _plan(in_spatial, kernel, strides, padding, dilation, out=tuple(g.shape[2:]))
    gq = _out_to_q(xp, g, plan)
    ntap = len(plan.koffsets)
    ckk = c // groups * ntap
    cols = _scratch_array(xp, "cols", (n, groups, ckk, plan.nq), dt)
    if groups == 1:  # weight rows in (tap, channel) order: the GEMM writes tap-major cols
        wt = xp.ascontiguousarray(w.reshape(o, c, ntap).transpose(2, 1, 0)).reshape(-1, o)
        xp.matmul(wt, gq.reshape(n, o, plan.nq), out=cols.reshape(n, ckk, -1))
        cols = cols.reshape((n, ntap, c) + plan.q_shape)
    else:
        wt = w.reshape(groups, o // groups, -1).swapaxes(-1, -2)
        xp.matmul(wt, gq.reshape(n, groups, o // groups, plan.nq), out=cols)
        cols = cols.reshape((n, c, ntap) + plan.q_shape).swapaxes(1, 2)
    return _col2im(xp, cols, plan, dt)


def _conv_weight_grad_impl(x, g, *, strides, padding, dilation, groups, kernel):
    xp = xp_of(x, g)
    x, g, dt = _common(xp, x, g)
    n, c = x.shape[:2]
    o = g.shape[1]
    plan = _plan(tuple(x.shape[2:]), kernel, strides, padding, dilation,
                 out=tuple(g.shape[2:]))
    cols = _cols(xp, _pad(xp, x, plan), plan).reshape(n, groups, -1, plan.nq)
    gq = _out_to_q(xp, g, plan).reshape(n, groups, o // groups, plan.nq)
    # (C*K, Q) @ (Q, O) per sample, then summed: BLAS is much faster this way round than
    # (O, Q) @ (Q, C*K) for the usual few-output-channel shapes.
    prod = _scratch_array(xp, "gemm", cols.shape[:3] + (o // groups,), dt)
    dw = xp.matmul(cols, gq.swapaxes(-1, -2), out=prod).sum(axis=0).swapaxes(-1, -2)
    return xp.ascontiguousarray(dw).reshape((o, c // groups) + kernel)


def _conv_dx(g, ans, x, w, b=None, **p):
    return conv_transpose_p.bind(g, w, in_spatial=tuple(x.shape[2:]), **p)


def _conv_dw(g, ans, x, w, b=None, **p):
    return conv_weight_grad_p.bind(x, g, kernel=tuple(w.shape[2:]), **p)


def _conv_db(g, ans, x, w, b, **p):
    from funcgrad._src.ops.reductions import sum as _sum

    return _sum(g, axis=(0,) + tuple(range(2, g.ndim)))


def _conv_jvp(primals, tangents, **params):
    """Bilinear in ``(x, w)``, plus the bias (linear) when there is one."""
    ans = bind(conv_general_p, *primals, **params)
    out = _bilinear_tangent(conv_general_p, primals[:2], tangents[:2], params)
    if len(primals) == 3 and tangents[2] is not None:
        from funcgrad._src.ops.shape import broadcast_to

        t = broadcast_to(_reshape(tangents[2], (-1,) + (1,) * (ans.ndim - 2)), ans.shape)
        out = t if out is None else out + t
    return ans, out


def _conv_to(x, w, out_spatial, **p):
    """``conv_general`` cropped to ``out_spatial`` (the cotangent of a transposed
    convolution whose output_padding leaves positions outside every window)."""
    y = conv_general_p.bind(x, w, **p)
    if tuple(y.shape[2:]) != tuple(out_spatial):
        from funcgrad._src.ops.indexing import getitem

        y = getitem(y, (slice(None), slice(None)) + tuple(slice(0, n) for n in out_spatial))
    return y


def _convt_dg(c, ans, g, w, *, in_spatial, **p):
    return _conv_to(c, w, tuple(g.shape[2:]), **p)


def _convt_dw(c, ans, g, w, *, in_spatial, **p):
    return conv_weight_grad_p.bind(c, g, kernel=tuple(w.shape[2:]), **p)


def _convw_dx(c, ans, x, g, *, kernel, **p):
    return conv_transpose_p.bind(g, c, in_spatial=tuple(x.shape[2:]), **p)


def _convw_dg(c, ans, x, g, *, kernel, **p):
    return _conv_to(x, c, tuple(g.shape[2:]), **p)


def _bilinear_tangent(prim, primals, tangents, params):
    """The tangent of ``prim(a, b)``, linear in each argument: ``prim(ta, b) + prim(a, tb)``
    (None when neither argument has a tangent)."""
    (a, b), (ta, tb) = primals, tangents
    out = None
    if ta is not None:
        out = bind(prim, ta, b, **params)
    if tb is not None:
        t = bind(prim, a, tb, **params)
        out = t if out is None else out + t
    return out


def _bilinear_jvp(prim_ref):
    """JVP of a primitive linear in each of its two arguments."""

    def rule(primals, tangents, **params):
        prim = prim_ref()
        return (bind(prim, *primals, **params),
                _bilinear_tangent(prim, primals, tangents, params))

    return rule


# --- batching --------------------------------------------------------------------------


def _reshape(x, shape):
    from funcgrad._src.ops.shape import reshape

    return reshape(x, tuple(shape))


def _to_front(x, d, size):
    """Raw batched value with its batch dim first (broadcast when unbatched)."""
    from funcgrad._src.batching import move_bdim

    return move_bdim(x, d, 0, size)


def _fold(x, d, size):
    """Batch dim folded into the leading (``N``) dimension: ``(B * N, ...)``."""
    x = _to_front(x, d, size)
    return _reshape(x, (size * x.shape[1],) + tuple(x.shape[2:]))


def _fold_channels(x, d, size):
    """Batch dim folded into the channel dimension: ``(N, B * C, ...)``."""
    from funcgrad._src.batching import move_bdim

    x = move_bdim(x, d, 1, size)
    return _reshape(x, (x.shape[0], size * x.shape[2]) + tuple(x.shape[3:]))


def _unfold_channels(y, size):
    """``(N, B * C, ...)`` to ``(N, B, C, ...)``; the batch dim is 1."""
    return _reshape(y, (y.shape[0], size, y.shape[1] // size) + tuple(y.shape[2:]))


def _conv_batch(size, args, dims, *, strides, padding, dilation, groups):
    if len(args) == 3:  # the convolution's own rule, then the (maybe batched) bias added
        from funcgrad._src.ops.elementwise import add

        y, d = _conv_batch(size, args[:2], dims[:2], strides=strides, padding=padding,
                           dilation=dilation, groups=groups)
        y = _to_front(y, d, size)
        b = _to_front(args[2], dims[2], size)
        return add(y, _reshape(b, (size, 1, -1) + (1,) * (y.ndim - 3))), 0
    (x, w), (dx, dw) = args, dims
    geo = dict(strides=strides, padding=padding, dilation=dilation)
    if dw is None:
        y = conv_general_p.bind(_fold(x, dx, size), w, groups=groups, **geo)
        return _reshape(y, (size, y.shape[0] // size) + tuple(y.shape[1:])), 0
    w = _to_front(w, dw, size)
    wf = _reshape(w, (size * w.shape[1],) + tuple(w.shape[2:]))
    if dx is None and groups == 1:  # one input, B filter banks side by side
        return _unfold_channels(conv_general_p.bind(x, wf, groups=1, **geo), size), 1
    y = conv_general_p.bind(_fold_channels(x, dx, size), wf, groups=size * groups, **geo)
    return _unfold_channels(y, size), 1


def _convt_batch(size, args, dims, *, strides, padding, dilation, groups, in_spatial):
    (g, w), (dg, dw) = args, dims
    geo = dict(strides=strides, padding=padding, dilation=dilation, in_spatial=in_spatial)
    if dw is None:
        y = conv_transpose_p.bind(_fold(g, dg, size), w, groups=groups, **geo)
        return _reshape(y, (size, y.shape[0] // size) + tuple(y.shape[1:])), 0
    w = _to_front(w, dw, size)
    wf = _reshape(w, (size * w.shape[1],) + tuple(w.shape[2:]))
    y = conv_transpose_p.bind(_fold_channels(g, dg, size), wf, groups=size * groups, **geo)
    return _unfold_channels(y, size), 1


def _convw_batch(size, args, dims, *, strides, padding, dilation, groups, kernel):
    (x, g), (dx, dg) = args, dims
    dw = conv_weight_grad_p.bind(_fold_channels(x, dx, size), _fold_channels(g, dg, size),
                                 strides=strides, padding=padding, dilation=dilation,
                                 groups=size * groups, kernel=kernel)
    return _reshape(dw, (size, dw.shape[0] // size) + tuple(dw.shape[1:])), 0


conv_general_p = Primitive("conv_general", _conv_impl, vjp=(_conv_dx, _conv_dw, _conv_db),
                           batch=_conv_batch)
conv_transpose_p = Primitive("conv_transpose", _conv_transpose_impl,
                             vjp=(_convt_dg, _convt_dw), batch=_convt_batch)
conv_weight_grad_p = Primitive("conv_weight_grad", _conv_weight_grad_impl,
                               vjp=(_convw_dx, _convw_dg), batch=_convw_batch)
conv_general_p.jvp = _conv_jvp
conv_transpose_p.jvp = _bilinear_jvp(lambda: conv_transpose_p)
conv_weight_grad_p.jvp = _bilinear_jvp(lambda: conv_weight_grad_p)


# ---------------------------------------------------------------------------------------
# Pooling primitives
# ---------------------------------------------------------------------------------------


def _lowest(dtype):
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind in "fc" else np.iinfo(dtype).min


def _max_pool_impl(x, *, kernel, strides, padding, dilation):
    xp = xp_of(x)
    plan = _plan(tuple(x.shape[2:]), kernel, strides, padding, dilation, False)
    views = _tap_views(xp, _pad(xp, x, plan, _lowest(x.dtype)), plan, *x.shape[:2])
    out = _copy(xp, views[0])
    for v in views[1:]:
        xp.maximum(out, v, out=out)
    return out


def _first_hits(xp, x, y, plan):
    """For each kernel tap, a bool mask of the windows whose first maximum it is."""
    views = _tap_views(xp, _pad(xp, x, plan, _lowest(x.dtype)), plan, *x.shape[:2])
    taken = None
    for k, v in enumerate(views):
        hit = v == y
        if taken is None:
            taken = hit  # updated in place only after the caller has used this tap
        else:
            hit = xp.greater(hit, taken)  # hit and not yet taken
            if k < len(views) - 1:
                taken |= hit
        yield k, hit


def _max_pool_grad_impl(g, x, y, *, kernel, strides, padding, dilation):
    """Scatter ``g`` (output-shaped) to the first argmax of each window of ``x``."""
    xp = xp_of(g, x)
    plan = _plan(tuple(x.shape[2:]), kernel, strides, padding, dilation, False)
    g = g.astype(x.dtype, copy=False)
    # windows that tile the input exactly write every element once: no zero fill needed
    tiled = plan.disjoint and all(
        s == k and p == o * s for s, k, p, o in zip(strides, kernel, plan.padded, plan.out)
    ) and all(d == 1 for d in dilation)
    buf = _new(xp, x.shape[:2] + plan.padded, x.dtype, zero=not tiled)
    dviews = _tap_views(xp, buf, plan, *x.shape[:2])
    for k, hit in _first_hits(xp, x, y, plan):
        if plan.disjoint:
            xp.multiply(g, hit, out=dviews[k])
        else:
            dviews[k] += g * hit
    if plan.padded == plan.spatial:
        return buf
    return _copy(xp, buf[plan.crop])


def _max_pool_gather_impl(t, x, y, *, kernel, strides, padding, dilation):
    """``t`` (input-shaped) read at the first argmax of each window of ``x``."""
    xp = xp_of(t, x)
    plan = _plan(tuple(x.shape[2:]), kernel, strides, padding, dilation, False)
    tviews = _tap_views(xp, _pad(xp, t, plan, 0, "pad_t"), plan, *x.shape[:2])
    out = xp.zeros(y.shape, dtype=t.dtype)
    for k, hit in _first_hits(xp, x, y, plan):
        xp.copyto(out, tviews[k], where=hit)
    return out


def _max_pool_jvp(primals, tangents, **p):
    (x,), (t,) = primals, tangents
    y = max_pool_p.bind(x, **p)
    return y, (None if t is None else max_pool_gather_p.bind(t, x, y, **p))


def _routed_jvp(prim_ref):
    """JVP of an op linear in its first argument and piecewise constant in the others."""

    def rule(primals, tangents, **p):
        prim = prim_ref()
        ans = prim.bind(*primals, **p)
        t = tangents[0]
        return ans, (None if t is None else prim.bind(t, *primals[1:], **p))

    return rule


def _no_grad(*_, **__):
    return None  # the routing arguments: derivative zero almost everywhere


def _pool_batch(prim_ref):
    """Fold the batch into ``N`` for every argument (all are ``(N, C, ...)``)."""

    def rule(size, args, dims, **p):
        folded = [_fold(a, d, size) for a, d in zip(args, dims)]
        y = prim_ref().bind(*folded, **p)
        return _reshape(y, (size, y.shape[0] // size) + tuple(y.shape[1:])), 0

    return rule


max_pool_p = Primitive("max_pool", _max_pool_impl)
max_pool_grad_p = Primitive("max_pool_grad", _max_pool_grad_impl)
# new arrays, never scratch buffers: jit may reuse their buffers
conv_general_p.fresh_result = max_pool_grad_p.fresh_result = True
max_pool_gather_p = Primitive("max_pool_gather", _max_pool_gather_impl)
max_pool_p.vjp = (lambda g, y, x, **p: max_pool_grad_p.bind(g, x, y, **p),)
max_pool_p.jvp = _max_pool_jvp
max_pool_grad_p.vjp = (lambda c, ans, g, x, y, **p: max_pool_gather_p.bind(c, x, y, **p),
                       _no_grad, _no_grad)
max_pool_gather_p.vjp = (lambda c, ans, t, x, y, **p: max_pool_grad_p.bind(c, x, y, **p),
                         _no_grad, _no_grad)
max_pool_grad_p.jvp = _routed_jvp(lambda: max_pool_grad_p)
max_pool_gather_p.jvp = _routed_jvp(lambda: max_pool_gather_p)
for _p in (max_pool_p, max_pool_grad_p, max_pool_gather_p):
    _p.batch = _pool_batch(lambda _p=_p: _p)


def _divisor(xp, plan: _Plan, count_include_pad: bool, divisor_override, dtype):
    """What each window sum is divided by: a number, or an ``(1, 1, *out)`` array."""
    if divisor_override:
        return divisor_override
    if count_include_pad or plan.padded == plan.spatial:
        return math.prod(plan.kernel)
    ones = _pad(xp, xp.ones((1, 1) + plan.spatial, dtype=dtype), plan, 0, "ones")
    views = _tap_views(xp, ones, plan, 1, 1)
    counts = views[0].copy()
    for v in views[1:]:
        counts += v
    return counts


def _avg_pool_impl(x, *, kernel, strides, padding, count_include_pad, divisor_override):
    xp = xp_of(x)
    dil = (1,) * len(kernel)
    plan = _plan(tuple(x.shape[2:]), kernel, strides, padding, dil, False)
    views = _tap_views(xp, _pad(xp, x, plan), plan, *x.shape[:2])
    out = views[0].copy()
    for v in views[1:]:
        out += v
    return out / xp.asarray(_divisor(xp, plan, count_include_pad, divisor_override, x.dtype),
                            dtype=x.dtype)


def _avg_pool_grad_impl(g, *, kernel, strides, padding, count_include_pad, divisor_override,
                        in_spatial):
    xp = xp_of(g)
    dil = (1,) * len(kernel)
    plan = _plan(in_spatial, kernel, strides, padding, dil, False)
    g = g / xp.asarray(_divisor(xp, plan, count_include_pad, divisor_override, g.dtype),
                       dtype=g.dtype)
    cols = xp.broadcast_to(g[:, None], g.shape[:1] + (len(plan.koffsets),) + g.shape[1:])
    return _col2im(xp, cols, plan, g.dtype)


avg_pool_p = Primitive("avg_pool", _avg_pool_impl)
avg_pool_grad_p = Primitive("avg_pool_grad", _avg_pool_grad_impl)
avg_pool_p.vjp = (lambda g, ans, x, **p: avg_pool_grad_p.bind(
    g, in_spatial=tuple(x.shape[2:]), **p),)
avg_pool_grad_p.vjp = (lambda c, ans, g, *, in_spatial, **p: avg_pool_p.bind(c, **p),)
for _p in (avg_pool_p, avg_pool_grad_p):
    _p.jvp = _routed_jvp(lambda _p=_p: _p)
    _p.batch = _pool_batch(lambda _p=_p: _p)


# ---------------------------------------------------------------------------------------
# Wrappers: argument normalisation and shape checks
# ---------------------------------------------------------------------------------------


def _arr(x):
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


def _tuple(v, nd: int, name: str, what: str) -> IntTuple:
    if isinstance(v, (int, np.integer)):
        return (int(v),) * nd
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * nd
    if len(v) != nd:
        raise ValueError(f"{name}: {what} must be an int or a tuple of {nd} ints, got {v}")
    return v


def normalize_padding(padding, nd: int, name: str, kernel: IntTuple = (),
                      dilation: IntTuple = ()) -> Padding:
    """``padding`` as ``((lo, hi), ...)``: an int, a tuple of ints (symmetric), pairs, or
    ``'valid'`` / ``'same'`` (stride 1; the odd extra goes to the end, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            tot = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in tot)
        raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same'; "
                         f"got {padding!r}")
    if isinstance(padding, (int, np.integer)):
        return ((int(padding), int(padding)),) * nd
    padding = tuple(padding)
    if len(padding) == nd and all(isinstance(p, (tuple, list)) for p in padding):
        return tuple((int(lo), int(hi)) for lo, hi in padding)
    return tuple((p, p) for p in _tuple(padding, nd, name, "padding"))


def conv_general(x, w, strides=1, padding=0, dilation=1, groups: int = 1, bias=None):
    """N-d convolution (cross-correlation, as every deep-learning library) of
    ``(N, C, *S)`` inputs with ``(O, C // groups, *K)`` weights.

    Args:
        x: input, ``(N, C, *spatial)``.
        w: weights, ``(O, C // groups, *kernel)``.
        strides: int or tuple, one per spatial dimension.
        padding: int, tuple (symmetric), tuple of ``(lo, hi)`` pairs, ``'valid'`` or
            ``'same'`` (stride 1 only).
        dilation: int or tuple.
        groups: input and output channels split into this many independent groups.
        bias: optional ``(O,)``, added to every output position of its channel (in the
            same pass that writes the output).

    Returns:
        ``(N, O, *out)`` with ``out = (S + lo + hi - dilation * (K - 1) - 1) // stride + 1``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad._src.ops.conv import conv_general
    >>> conv_general(fnp.ones((1, 1, 4, 4)), fnp.ones((2, 1, 3, 3)), padding=1)[0, 0]
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]], dtype=float32)
    """
    x, w = _arr(x), _arr(w)
    name = "conv_general"
    nd = x.ndim - 2
    if nd < 1 or w.ndim != x.ndim:
        raise ValueError(f"{name}: expected input (N, C, *spatial) and weight "
                         f"(O, C // groups, *kernel) of the same rank >= 3; got shapes "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    strides = _tuple(strides, nd, name, "stride")
    dilation = _tuple(dilation, nd, name, "dilation")
    kernel = tuple(w.shape[2:])
    if isinstance(padding, str) and padding == "same" and any(s != 1 for s in strides):
        raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
    padding = normalize_padding(padding, nd, name, kernel, dilation)
    _check_geometry(name, x.shape, w.shape, strides, padding, dilation, groups)
    args = (x, w)
    if bias is not None:
        bias = _arr(bias)
        if tuple(bias.shape) != (w.shape[0],):
            raise ValueError(f"{name}: bias of shape {tuple(bias.shape)} does not match the "
                             f"{w.shape[0]} output channels of the weight {tuple(w.shape)}")
        args = (x, w, bias)
    return conv_general_p.bind(*args, strides=strides, padding=padding, dilation=dilation,
                               groups=int(groups))


def _check_geometry(name, xshape, wshape, strides, padding, dilation, groups):
    c, o = xshape[1], wshape[0]
    if groups < 1 or c % groups or o % groups:
        raise ValueError(f"{name}: in_channels ({c}) and out_channels ({o}) must be divisible "
                         f"by groups ({groups})")
    if wshape[1] * groups != c:
        raise ValueError(f"{name}: weight of shape {tuple(wshape)} expects "
                         f"{wshape[1] * groups} input channels (groups={groups}), but the "
                         f"input of shape {tuple(xshape)} has {c}")
    if any(s < 1 for s in strides) or any(d < 1 for d in dilation):
        raise ValueError(f"{name}: strides and dilation must be positive, got {strides} and "
                         f"{dilation}")
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        raise ValueError(f"{name}: padding must be non-negative, got {padding}")
    for n, k, (lo, hi), d in zip(xshape[2:], wshape[2:], padding, dilation):
        if n + lo + hi < d * (k - 1) + 1:
            raise ValueError(f"{name}: the (padded) input of spatial size "
                             f"{tuple(xshape[2:])} is smaller than the (dilated) kernel "
                             f"{tuple(wshape[2:])}")


def conv_transpose(x, w, strides=1, padding=0, output_padding=0, dilation=1,
                   groups: int = 1):
    """Transposed convolution (PyTorch's ``conv_transpose*d``): the gradient of
    :func:`conv_general` with respect to its input.

    Args:
        x: input, ``(N, C_in, *spatial)``.
        w: weights, ``(C_in, C_out // groups, *kernel)`` (PyTorch's layout).
        strides, padding, dilation, groups: those of the convolution it transposes
            (``padding`` an int or tuple, symmetric).
        output_padding: extra size added to one side of each output dimension
            (smaller than the stride or the dilation).

    Returns:
        ``(N, C_out, *out)`` with
        ``out = (S - 1) * stride - 2 * padding + dilation * (K - 1) + output_padding + 1``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad._src.ops.conv import conv_transpose
    >>> conv_transpose(fnp.ones((1, 1, 2, 2)), fnp.ones((1, 3, 2, 2)), strides=2).shape
    (1, 3, 4, 4)
    """
    x, w = _arr(x), _arr(w)
    name = "conv_transpose"
    nd = x.ndim - 2
    if nd < 1 or w.ndim != x.ndim:
        raise ValueError(f"{name}: expected input (N, C_in, *spatial) and weight "
                         f"(C_in, C_out // groups, *kernel) of the same rank >= 3; got shapes "
                         f"{tuple(x.shape)} and {tuple(w.shape)}")
    strides = _tuple(strides, nd, name, "stride")
    dilation = _tuple(dilation, nd, name, "dilation")
    output_padding = _tuple(output_padding, nd, name, "output_padding")
    padding = normalize_padding(padding, nd, name)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{name}: weight of shape {tuple(w.shape)} expects {w.shape[0]} input "
                         f"channels, but the input of shape {tuple(x.shape)} has {x.shape[1]}")
    if groups < 1 or w.shape[0] % groups:
        raise ValueError(f"{name}: in_channels ({w.shape[0]}) must be divisible by groups "
                         f"({groups})")
    for op, s, d in zip(output_padding, strides, dilation):
        if not 0 <= op < max(s, d):
            raise ValueError(f"{name}: output_padding must be smaller than either stride or "
                             f"dilation, got output_padding={output_padding}, "
                             f"stride={strides}, dilation={dilation}")
    in_spatial = tuple((n - 1) * s - lo - hi + d * (k - 1) + op + 1
                       for n, s, (lo, hi), d, k, op in zip(x.shape[2:], strides, padding,
                                                           dilation, w.shape[2:],
                                                           output_padding))
    if any(n < 1 for n in in_spatial):
        raise ValueError(f"{name}: non-positive output size {in_spatial}")
    return conv_transpose_p.bind(x, w, strides=strides, padding=padding, dilation=dilation,
                                 groups=int(groups), in_spatial=in_spatial)


def conv_weight_grad(x, g, kernel, strides=1, padding=0, dilation=1, groups: int = 1):
    """Gradient of :func:`conv_general` with respect to its weights, for input ``x`` and
    output cotangent ``g``.

    Args:
        x: input, ``(N, C, *spatial)``.
        g: cotangent of the output, ``(N, O, *out)``.
        kernel: the kernel's spatial shape.
        strides, padding, dilation, groups: as :func:`conv_general`.

    Returns:
        ``(O, C // groups, *kernel)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad._src.ops.conv import conv_weight_grad
    >>> conv_weight_grad(fnp.ones((2, 1, 4, 4)), fnp.ones((2, 3, 2, 2)), (3, 3)).shape
    (3, 1, 3, 3)
    """
    x, g = _arr(x), _arr(g)
    nd = x.ndim - 2
    name = "conv_weight_grad"
    strides = _tuple(strides, nd, name, "stride")
    dilation = _tuple(dilation, nd, name, "dilation")
    kernel = _tuple(kernel, nd, name, "kernel")
    padding = normalize_padding(padding, nd, name, kernel, dilation)
    fits = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, (lo, hi), d, k, s in
                 zip(x.shape[2:], padding, dilation, kernel, strides))
    if g.ndim != x.ndim or g.shape[0] != x.shape[0] or \
            any(a > b for a, b in zip(g.shape[2:], fits)):
        raise ValueError(f"{name}: cotangent of shape {tuple(g.shape)} does not fit the "
                         f"input of shape {tuple(x.shape)} (at most {fits} output positions)")
    return conv_weight_grad_p.bind(x, g, strides=strides, padding=padding, dilation=dilation,
                                   groups=int(groups), kernel=kernel)


def _pool_args(name, x, kernel, strides, padding, dilation):
    x = _arr(x)
    nd = x.ndim - 2
    if nd < 1:
        raise ValueError(f"{name}: expected an input (N, C, *spatial), got shape "
                         f"{tuple(x.shape)}")
    kernel = _tuple(kernel, nd, name, "kernel_size")
    strides = kernel if strides is None else _tuple(strides, nd, name, "stride")
    dilation = _tuple(dilation, nd, name, "dilation")
    padding = normalize_padding(padding, nd, name)
    if any(k < 1 for k in kernel) or any(s < 1 for s in strides):
        raise ValueError(f"{name}: kernel_size and stride must be positive, got {kernel} and "
                         f"{strides}")
    for k, (lo, hi) in zip(kernel, padding):
        if lo < 0 or hi < 0 or lo > k // 2 or hi > k // 2:
            raise ValueError(f"{name}: padding should be at most half of the kernel size, "
                             f"got padding={padding} and kernel_size={kernel}")
    for n, k, (lo, hi), d in zip(x.shape[2:], kernel, padding, dilation):
        if n + lo + hi < d * (k - 1) + 1:
            raise ValueError(f"{name}: the (padded) input of spatial size "
                             f"{tuple(x.shape[2:])} is smaller than the kernel {kernel}")
    return x, kernel, strides, padding, dilation


def max_pool(x, kernel, strides=None, padding=0, dilation=1):
    """N-d max pooling of an ``(N, C, *S)`` array (padding counts as ``-inf``).

    Args:
        x: input.
        kernel: window size, int or tuple.
        strides: step, defaults to ``kernel``.
        padding: int or tuple, at most half the kernel.
        dilation: spacing of the window's elements.

    Returns:
        ``(N, C, *out)``; the gradient goes to the first maximum of each window (none
        where the maximum is NaN).

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad._src.ops.conv import max_pool
    >>> max_pool(fnp.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    x, kernel, strides, padding, dilation = _pool_args("max_pool", x, kernel, strides,
                                                       padding, dilation)
    return max_pool_p.bind(x, kernel=kernel, strides=strides, padding=padding,
                           dilation=dilation)


def avg_pool(x, kernel, strides=None, padding=0, count_include_pad: bool = True,
             divisor_override: int | None = None):
    """N-d average pooling of an ``(N, C, *S)`` array (zero padding).

    Args:
        x: input.
        kernel: window size, int or tuple.
        strides: step, defaults to ``kernel``.
        padding: int or tuple, at most half the kernel.
        count_include_pad: divide by the full window size (True) or by the number of
            non-padding elements.
        divisor_override: divide by this instead.

    Returns:
        ``(N, C, *out)``.

    >>> import funcgrad.numpy as fnp
    >>> from funcgrad._src.ops.conv import avg_pool
    >>> avg_pool(fnp.arange(8.0).reshape(1, 1, 8), 4)
    array([[[1.5, 5.5]]], dtype=float32)
    """
    x, kernel, strides, padding, _ = _pool_args("avg_pool", x, kernel, strides, padding, 1)
    if x.dtype.kind not in "fc":
        x = x.astype(backend.default_float())
    return avg_pool_p.bind(x, kernel=kernel, strides=strides, padding=padding,
                           count_include_pad=bool(count_include_pad),
                           divisor_override=None if divisor_override is None
                           else int(divisor_override))
