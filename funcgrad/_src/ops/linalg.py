"""Products: matmul (a primitive with broadcasting batch dimensions) and einsum.

``dot``, ``inner``, ``outer``, ``tensordot`` and ``vdot`` are built on these two.
"""

from __future__ import annotations

import math
import string

import numpy as np

from funcgrad._src import backend, buffers
from funcgrad._src.backend import xp_of
from funcgrad._src.core import Primitive, Tracer, as_array, bind
from funcgrad._src.ops.rules import broadcast_shapes, moveaxis_to_front
from funcgrad._src.ops.shape import broadcast_to, reshape, swapaxes, unbroadcast


def _arr(x):
    return x if isinstance(x, Tracer) else backend.canonicalize(x)


# --- matmul (operands of rank >= 2; the wrapper handles vectors) -------------------------


def _matmul_impl(x, y):
    out = None
    if (type(x) is np.ndarray and type(y) is np.ndarray and x.dtype == y.dtype
            and x.dtype.kind in "fc" and x.ndim >= 2 and y.ndim >= 2):  # large: recycled
        shape = broadcast_shapes(x.shape[:-2], y.shape[:-2]) + (x.shape[-2], y.shape[-1])
        if math.prod(shape) * x.dtype.itemsize >= buffers.MIN_BYTES:
            out = buffers.empty(shape, x.dtype)
    if x.shape[-1] == 1 and x.ndim > 2 and y.ndim >= 2:  # stacked outer products: multiply
        return np.multiply(x, y, out=out) if out is not None else x * y
    if y.ndim == 2 and x.ndim > 2:  # (..., n, k) @ (k, m): fold the batch into one GEMM
        xp = xp_of(x, y)
        x2 = x.reshape(-1, x.shape[-1])
        if out is not None:
            return xp.matmul(x2, y, out=out.reshape(-1, y.shape[-1])).reshape(out.shape)
        return xp.matmul(x2, y).reshape(x.shape[:-1] + y.shape[-1:])
    return xp_of(x, y).matmul(x, y, out=out)


def _mt(a):
    return swapaxes(a, -1, -2)


def _matmul_dx(g, ans, x, y):
    if y.ndim == 2 and x.ndim > 2:  # fold batch dims into one GEMM
        k = x.shape[-1]
        return reshape(matmul(reshape(g, (-1, g.shape[-1])), _mt(y)), x.shape[:-1] + (k,))
    return unbroadcast(matmul(g, _mt(y)), x.shape)


def _matmul_dy(g, ans, x, y):
    if y.ndim == 2 and x.ndim > 2:
        return matmul(_mt(reshape(x, (-1, x.shape[-1]))), reshape(g, (-1, g.shape[-1])))
    return unbroadcast(matmul(_mt(x), g), y.shape)


def _matmul_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    ans = bind(matmul_p, x, y)
    out = None
    if tx is not None:
        out = matmul(tx, y)
    if ty is not None:
        t = matmul(x, ty)
        out = t if out is None else out + t
    return ans, out


def _matmul_batch(axis_size, args, dims):
    (x, y), (dx, dy) = args, dims
    if dy is None and y.ndim == 2:  # (B, ..., n, k) @ (k, m): numpy broadcasts
        return matmul(moveaxis_to_front(x, dx), y), 0
    xl = x.ndim - (dx is not None)
    yl = y.ndim - (dy is not None)
    nb = max(xl, yl) - 2

    def prep(a, d, rank):
        if d is None:
            return a
        a = moveaxis_to_front(a, d)
        pad = nb - (rank - 2)
        return reshape(a, (a.shape[0],) + (1,) * pad + tuple(a.shape[1:])) if pad else a

    return matmul(prep(x, dx, xl), prep(y, dy, yl)), 0


matmul_p = Primitive("matmul", _matmul_impl, vjp=(_matmul_dx, _matmul_dy), jvp=_matmul_jvp,
                     batch=_matmul_batch)
matmul_p.fresh_result = True  # jit may reuse its result's buffer


def matmul(x1, x2, /):
    """Matrix product with NumPy's broadcasting and vector rules (``numpy.matmul``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.matmul(fnp.ones((2, 3)), fnp.ones(3))
    array([3., 3.], dtype=float32)
    """
    x, y = _arr(x1), _arr(x2)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError("matmul: input operand does not have enough dimensions (scalars are "
                         f"not allowed; got shapes {tuple(x.shape)} and {tuple(y.shape)})")
    kx = x.shape[-1]
    ky = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if kx != ky:
        raise ValueError(f"matmul: contracting dimensions differ: shapes {tuple(x.shape)} and "
                         f"{tuple(y.shape)} ({kx} != {ky})")
    if not isinstance(x, Tracer) and not isinstance(y, Tracer):
        return as_array(_matmul_impl(x, y))
    squeeze_x = x.ndim == 1
    squeeze_y = y.ndim == 1
    if squeeze_x:
        x = reshape(x, (1, kx))
    if squeeze_y:
        y = reshape(y, (ky, 1))
    try:
        np.broadcast_shapes(tuple(x.shape[:-2]), tuple(y.shape[:-2]))
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)} cannot be broadcast") from None
    out = bind(matmul_p, x, y)
    if squeeze_x or squeeze_y:
        shape = tuple(out.shape)
        if squeeze_y:
            shape = shape[:-1]
        if squeeze_x:
            shape = shape[:-2] + shape[-1:] if not squeeze_y else shape[:-1]
        out = reshape(out, shape)
    return out


def dot(a, b):
    """Dot product (``numpy.dot``): matmul for up to 2-D, else a sum over the last axis of
    ``a`` and the second-to-last of ``b``.

    >>> import funcgrad.numpy as fnp
    >>> fnp.dot(fnp.array([1.0, 2.0]), fnp.array([3.0, 4.0]))
    array(11., dtype=float32)
    """
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        from funcgrad._src.ops.elementwise import multiply

        return multiply(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def vdot(a, b):
    """Dot product of flattened arrays, conjugating the first (``numpy.vdot``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.vdot(fnp.ones((2, 2)), fnp.ones((2, 2)))
    array(4., dtype=float32)
    """
    from funcgrad._src.ops.complex_ops import conj

    a, b = _arr(a), _arr(b)
    if a.dtype.kind == "c":
        a = conj(a)
    return dot(reshape(a, (-1,)), reshape(b, (-1,)))


def inner(a, b):
    """Inner product over the last axes (``numpy.inner``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.inner(fnp.ones(3), fnp.ones(3))
    array(3., dtype=float32)
    """
    a, b = _arr(a), _arr(b)
    if a.ndim == 0 or b.ndim == 0:
        from funcgrad._src.ops.elementwise import multiply

        return multiply(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a, b):
    """Outer product of flattened vectors (``numpy.outer``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.outer(fnp.ones(2), fnp.ones(3)).shape
    (2, 3)
    """
    from funcgrad._src.ops.elementwise import multiply

    a, b = reshape(_arr(a), (-1, 1)), reshape(_arr(b), (1, -1))
    return multiply(a, b)


def tensordot(a, b, axes=2):
    """Tensor dot product over the given axes (``numpy.tensordot``).

    >>> import funcgrad.numpy as fnp
    >>> fnp.tensordot(fnp.ones((2, 3)), fnp.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    a, b = _arr(a), _arr(b)
    if isinstance(axes, (int, np.integer)):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    ax_a = [x % a.ndim for x in ax_a]
    ax_b = [x % b.ndim for x in ax_b]
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape mismatch for sum: {tuple(a.shape)} axis {i} vs "
                             f"{tuple(b.shape)} axis {j}")
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in ax_a] + \
          [c for j, c in enumerate(sb) if j not in ax_b]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


# --- einsum ----------------------------------------------------------------------------


def _einsum_impl(*ops, subscripts):
    return xp_of(*ops).einsum(subscripts, *ops, optimize=len(ops) > 2)


def _parse(subscripts):
    ins, out = subscripts.split("->")
    return ins.split(","), out


def _einsum_vjp(g, ans, *ops, subscripts, needs):
    ins, out = _parse(subscripts)
    res = [None] * len(ops)
    for i in needs:
        target = ins[i]
        if len(set(target)) != len(target):
            raise NotImplementedError(f"einsum: gradient for repeated indices in operand "
                                      f"'{target}' is not supported")
        others = [ins[j] for j in range(len(ops)) if j != i]
        avail = set(out).union(*others) if others else set(out)
        reduced = "".join(c for c in target if c in avail)
        sub = ",".join([out] + others) + "->" + reduced
        gi = einsum(sub, g, *[ops[j] for j in range(len(ops)) if j != i])
        if reduced != target:  # indices only in this operand were summed: broadcast back
            shape = tuple(ops[i].shape[target.index(c)] if c in reduced else 1 for c in target)
            perm_src = [c for c in target if c in reduced]
            gi = reshape(gi, tuple(ops[i].shape[target.index(c)] for c in perm_src))
            gi = reshape(gi, shape)
            gi = broadcast_to(gi, ops[i].shape)
        res[i] = gi
    return res


def _einsum_jvp(primals, tangents, *, subscripts):
    ans = bind(einsum_p, *primals, subscripts=subscripts)
    out = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        ops = list(primals)
        ops[i] = t
        ti = bind(einsum_p, *ops, subscripts=subscripts)
        out = ti if out is None else out + ti
    return ans, out


def _einsum_batch(axis_size, args, dims, *, subscripts):
    ins, out = _parse(subscripts)
    used = set(subscripts)
    b = next(c for c in string.ascii_letters if c not in used)
    new_ins = []
    moved = []
    for s, a, d in zip(ins, args, dims):
        if d is None:
            new_ins.append(s)
            moved.append(a)
        else:
            new_ins.append(b + s)
            moved.append(moveaxis_to_front(a, d))
    return bind(einsum_p, *moved, subscripts=",".join(new_ins) + "->" + b + out), 0


einsum_p = Primitive("einsum", _einsum_impl, vjp=_einsum_vjp, jvp=_einsum_jvp,
                     batch=_einsum_batch)


def _normalize_subscripts(subscripts, shapes):
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins, out = subscripts, None
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: {len(ins)} operand subscripts given for {len(shapes)} "
                         "operands")
    used = set("".join(ins)) - set(".")
    free = iter(c for c in string.ascii_letters if c not in used)
    ell_letters = None
    if any("..." in s for s in ins):
        n_ell = max(len(shp) - (len(s) - 3) for s, shp in zip(ins, shapes) if "..." in s)
        ell_letters = "".join(next(free) for _ in range(max(n_ell, 0)))
        new = []
        for s, shp in zip(ins, shapes):
            if "..." in s:
                k = len(shp) - (len(s) - 3)
                s = s.replace("...", ell_letters[len(ell_letters) - k:] if k else "")
            new.append(s)
        ins = new
    for s, shp in zip(ins, shapes):
        if len(s) != len(shp):
            raise ValueError(f"einsum: operand subscripts '{s}' do not match operand of shape "
                             f"{tuple(shp)}")
    if out is None:
        counts = {}
        for c in "".join(ins):
            counts[c] = counts.get(c, 0) + 1
        out = (ell_letters or "") + "".join(sorted(c for c, n in counts.items()
                                                   if n == 1 and c not in (ell_letters or "")))
    elif "..." in out:
        out = out.replace("...", ell_letters or "")
    return ",".join(ins) + "->" + out


def einsum(subscripts, *operands, optimize=None):
    """Einstein summation (``numpy.einsum``), with ellipsis and implicit output.

    >>> import funcgrad.numpy as fnp
    >>> fnp.einsum("ij,jk->ik", fnp.ones((2, 3)), fnp.ones((3, 4))).shape
    (2, 4)
    """
    ops = [_arr(o) for o in operands]
    sub = _normalize_subscripts(subscripts, [tuple(o.shape) for o in ops])
    if not any(isinstance(o, Tracer) for o in ops):
        return as_array(_einsum_impl(*ops, subscripts=sub))
    return bind(einsum_p, *ops, subscripts=sub)
