"""Structured control flow: cond, switch, while_loop, fori_loop, scan (``fg.lax``).

Outside ``jit`` and ``vmap`` the predicate is a known value, so these run as plain Python
control flow on (possibly traced) values: every op inside lands on the tape, which makes
them differentiable in forward and reverse mode — ``while_loop`` included, which JAX cannot
reverse-differentiate. Under ``vmap`` with a batched predicate, ``cond``/``switch`` compute
every branch and select per example, and ``while_loop`` runs until every example is done,
freezing finished ones. Under ``jit`` a traced predicate makes ``cond``/``switch`` select
between branches, and ``while_loop`` becomes a ``while`` primitive over compiled sub-graphs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from funcgrad._src import backend
from funcgrad._src.core import ConcretizationTypeError, Primitive, Tracer, concrete_value
from funcgrad._src.tree_util import tree_flatten, tree_map, tree_unflatten


def _out(tree):
    from funcgrad._src.core import as_array

    return tree_map(lambda v: v if isinstance(v, Tracer) else as_array(backend.canonicalize(v)),
                    tree)


def _try_concrete(x):
    """(True, value) when ``x``'s value is known now, else (False, None)."""
    if not isinstance(x, Tracer):
        return True, x
    try:
        v = x
        while isinstance(v, Tracer):
            v = v._trace.concrete(v, "lax")
        return True, v
    except ConcretizationTypeError:
        return False, None


def _check_same(name, a, b, what="branch outputs"):
    fa, ta = tree_flatten(a)
    fb, tb = tree_flatten(b)
    if ta != tb:
        raise TypeError(f"{name}: {what} must have identical tree structures; got {ta} and {tb}")
    for x, y in zip(fa, fb):
        sx, sy = tuple(np.shape(x)), tuple(np.shape(y))
        if sx != sy:
            raise TypeError(f"{name}: {what} must have identical shapes; got {sx} and {sy}")
    return fa, fb, ta


def _select(pred, a, b):
    from funcgrad._src.ops.elementwise import where

    return where(pred, a, b)


def cond(pred, true_fun: Callable, false_fun: Callable, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``.

    Differentiable in both modes; under ``vmap`` with a batched predicate (and under
    ``jit``) both branches are computed and the result is selected elementwise.

    >>> import funcgrad as fg
    >>> fg.lax.cond(True, lambda x: x + 1.0, lambda x: x - 1.0, 1.0)
    array(2., dtype=float32)
    """
    known, p = _try_concrete(pred)
    if known:
        if np.ndim(p) != 0:
            raise TypeError(f"cond: pred must be a scalar, got shape {np.shape(p)}")
        out = true_fun(*operands) if bool(p) else false_fun(*operands)
        return tree_map(lambda o: o if isinstance(o, Tracer) else backend.canonicalize(o), out)
    if tuple(pred.shape) != ():
        raise TypeError(f"cond: pred must be a scalar, got shape {tuple(pred.shape)}")
    t = true_fun(*operands)
    f = false_fun(*operands)
    ft, ff, tree = _check_same("cond", t, f)
    return tree_unflatten(tree, [_select(pred, a, b) for a, b in zip(ft, ff)])


def switch(index, branches, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to the valid range.

    >>> import funcgrad as fg
    >>> fg.lax.switch(1, [lambda x: x, lambda x: 2.0 * x], 3.0)
    array(6., dtype=float32)
    """
    if not branches:
        raise ValueError("switch: branches must be a non-empty sequence")
    known, i = _try_concrete(index)
    if known:
        i = int(np.clip(int(i), 0, len(branches) - 1))
        out = branches[i](*operands)
        return tree_map(lambda o: o if isinstance(o, Tracer) else backend.canonicalize(o), out)
    from funcgrad._src.ops.elementwise import clip, equal

    index = clip(index, 0, len(branches) - 1)
    outs = [b(*operands) for b in branches]
    flat0, _, tree = _check_same("switch", outs[0], outs[0])
    res = tree_flatten(outs[-1])[0]
    for k in range(len(branches) - 2, -1, -1):
        fk, _, _ = _check_same("switch", outs[k], outs[-1])
        res = [_select(equal(index, k), a, b) for a, b in zip(fk, res)]
    return tree_unflatten(tree, res)


def while_loop(cond_fun: Callable, body_fun: Callable, init_val):
    """``val = init_val; while cond_fun(val): val = body_fun(val)``.

    Reverse-mode differentiable outside ``jit`` (the iterations are recorded on the tape).

    >>> import funcgrad as fg
    >>> fg.lax.while_loop(lambda v: v < 10, lambda v: v * 2, 1)
    array(16, dtype=int32)
    """
    val = tree_map(lambda v: v if isinstance(v, Tracer) else backend.canonicalize(v), init_val)
    flat0, tree0 = tree_flatten(val)
    while True:
        p = cond_fun(val)
        known, pv = _try_concrete(p)
        if known:
            if np.ndim(pv) != 0:
                raise TypeError(f"while_loop: cond_fun must return a scalar boolean, got shape "
                                f"{np.shape(pv)}")
            if not bool(pv):
                return _out(val)
            new = body_fun(val)
            _check_same("while_loop", val, new, "body_fun input and output")
            val = new
            continue
        return _while_traced(cond_fun, body_fun, val, p)


def _while_traced(cond_fun, body_fun, val, p):
    from funcgrad._src.batching import BatchTracer
    from funcgrad._src.jit import GraphTracer

    if isinstance(p, BatchTracer):
        # Batched predicate: iterate until every example is done, freezing finished ones.
        inner = p.val
        known, _ = _try_concrete(inner)
        if known:
            while True:
                p = cond_fun(val)
                ok, pv = _try_concrete(_any_batched(p))
                if not bool(pv):
                    return val
                new = body_fun(val)
                fv, fn, tree = _check_same("while_loop", val, new, "body_fun input and output")
                val = tree_unflatten(tree, [_select(p, b, a) for a, b in zip(fv, fn)])
    if isinstance(p, GraphTracer):
        return _while_graph(cond_fun, body_fun, val)
    raise NotImplementedError(
        "while_loop: the predicate depends on a value that is only known at run time under "
        "jit, combined with another transform (grad/vmap inside jit). Run the loop outside "
        "jit, or use fori_loop with static Python bounds, or lax.scan.")


def _any_batched(p):
    from funcgrad._src.batching import BatchTracer
    from funcgrad._src.ops.reductions import any as _any

    return _any(p.val) if isinstance(p, BatchTracer) else p


# --- the while primitive (jit only) ------------------------------------------------------


def _while_impl(*args, cond_graph, body_graph, n_carry):
    carry = list(args[:n_carry])
    consts_c = args[n_carry:n_carry + len(cond_graph.invars) - n_carry]
    consts_b = args[n_carry + len(consts_c):]
    run_c = cond_graph.compile(backend.xp_of(*args))
    run_b = body_graph.compile(backend.xp_of(*args))
    while bool(run_c(*carry, *consts_c)[0]):
        carry = list(run_b(*carry, *consts_b))
    return carry


def _split_while_args(args, cond_graph, n_carry):
    n_cc = len(cond_graph.invars) - n_carry
    return (list(args[:n_carry]), list(args[n_carry:n_carry + n_cc]),
            list(args[n_carry + n_cc:]))


def _while_jvp(primals, tangents, *, cond_graph, body_graph, n_carry):
    # Forward mode: loop over (primal, tangent) carries with the JVP of the body.
    from funcgrad._src.autodiff import jvp
    from funcgrad._src.jit import _eval_graph
    from funcgrad._src.ops.creation import zeros_like

    carry, cc, bc = _split_while_args(primals, cond_graph, n_carry)
    t_all = [zeros_like(p) if t is None else t for p, t in zip(primals, tangents)]
    t_carry, _, t_bc = _split_while_args(t_all, cond_graph, n_carry)

    def cond(state):
        return _eval_graph(cond_graph, list(state[0]) + cc)

    def body(state):
        c, t = state
        out, t_out = jvp(lambda c_, b_: tuple(_eval_graph(body_graph, list(c_) + list(b_))),
                         (tuple(c), tuple(bc)), (tuple(t), tuple(t_bc)))
        return (tuple(out), tuple(t_out))

    out, t_out = while_loop(cond, body, (tuple(carry), tuple(t_carry)))
    return list(out), list(t_out)


def _while_batch(axis_size, args, dims, *, cond_graph, body_graph, n_carry):
    # Run until every example is done; finished examples keep their carry.
    from funcgrad._src.batching import move_bdim, vmap
    from funcgrad._src.jit import _eval_graph
    from funcgrad._src.ops.reductions import any as _any

    carry = [move_bdim(a, d, 0, axis_size) for a, d in zip(args[:n_carry], dims[:n_carry])]
    _, cc, bc = _split_while_args(args, cond_graph, n_carry)
    _, dc, db = _split_while_args(dims, cond_graph, n_carry)

    def cond_one(c, consts):
        return _eval_graph(cond_graph, list(c) + list(consts))

    def body_one(c, consts):
        return tuple(_eval_graph(body_graph, list(c) + list(consts)))

    def preds(c):
        return vmap(cond_one, in_axes=(0, tuple(dc)))(tuple(c), tuple(cc))

    def body(c):
        p = preds(c)
        new = vmap(body_one, in_axes=(0, tuple(db)))(tuple(c), tuple(bc))
        return tuple(_select(_bcast_pred(p, n), n, o) for n, o in zip(new, c))

    out = while_loop(lambda c: _any(preds(c)), body, tuple(carry))
    return list(out), [0] * n_carry


def _bcast_pred(p, like):
    from funcgrad._src.ops.shape import reshape

    return reshape(p, tuple(p.shape) + (1,) * (like.ndim - p.ndim))


# NOTE: no VJP rule. A while loop compiled by jit has a trip count that is unknown when the
# graph is built, so reverse mode would need a dynamically sized tape; JAX does not support
# it either. Reverse mode through fg.lax.while_loop works outside jit (the default), and
# `jit(grad(f))` works whenever the predicate depends only on values known at trace time.
while_p = Primitive("while", _while_impl, multiple_results=True, jvp=_while_jvp,
                    batch=_while_batch)
while_p.reverse_mode_unsupported = (
    "reverse mode through a while_loop whose predicate is only known at run time under jit")


def _while_graph(cond_fun, body_fun, val):
    from funcgrad._src.core import bind
    from funcgrad._src.jit import trace_to_graph

    flat, tree = tree_flatten(val)
    conc = [concrete_or_val(v) for v in flat]
    cg, c_caps = trace_to_graph(lambda *v: cond_fun(tree_unflatten(tree, list(v))), conc,
                                tree_flatten(tuple(conc))[1])
    bg, b_caps = trace_to_graph(lambda *v: tuple(tree_flatten(body_fun(tree_unflatten(
        tree, list(v))))[0]), conc, tree_flatten(tuple(conc))[1])
    outs = bind(while_p, *flat, *c_caps, *b_caps, cond_graph=cg.simplify(),
                body_graph=bg.simplify(), n_carry=len(flat))
    return tree_unflatten(tree, list(outs))


def concrete_or_val(v):
    from funcgrad._src.jit import GraphTracer

    return v.val if isinstance(v, GraphTracer) else concrete_value(v)


def fori_loop(lower, upper, body_fun: Callable, init_val):
    """``for i in range(lower, upper): val = body_fun(i, val)``.

    With Python-int bounds the loop runs (or, under jit, is unrolled) in Python;
    otherwise it becomes a ``while_loop``.

    >>> import funcgrad as fg
    >>> fg.lax.fori_loop(0, 4, lambda i, v: v + i, 0.0)
    array(6., dtype=float32)
    """
    kl, lo = _try_concrete(lower)
    ku, hi = _try_concrete(upper)
    if kl and ku:
        val = tree_map(lambda v: v if isinstance(v, Tracer) else backend.canonicalize(v),
                       init_val)
        for i in range(int(lo), int(hi)):
            val = body_fun(i, val)
        return _out(val)

    def c(s):
        return s[0] < upper

    def b(s):
        return (s[0] + 1, body_fun(s[0], s[1]))

    return while_loop(c, b, (backend.canonicalize(lower) if not isinstance(lower, Tracer)
                             else lower, init_val))[1]


def scan(f: Callable, init, xs=None, length: int | None = None, reverse: bool = False,
         unroll: int = 1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns
    ``(final_carry, stacked_ys)``, as ``jax.lax.scan``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> carry, ys = fg.lax.scan(lambda c, x: (c + x, c * x), 0.0, fnp.arange(3.0))
    >>> carry, ys
    (array(3., dtype=float32), array([0., 0., 2.], dtype=float32))
    """
    from funcgrad._src.ops.indexing import getitem
    from funcgrad._src.ops.shape import stack

    xs_flat, xs_tree = tree_flatten(xs)
    lengths = {int(x.shape[0]) for x in xs_flat}
    if length is not None:
        lengths.add(int(length))
    if len(lengths) != 1:
        raise ValueError(f"scan: got inconsistent lengths for the scanned axis: "
                         f"{sorted(lengths)}" if lengths else "scan: length must be given when "
                         "xs is None")
    n = lengths.pop()
    carry = tree_map(lambda v: v if isinstance(v, Tracer) else backend.canonicalize(v), init)
    ys = []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = tree_unflatten(xs_tree, [getitem(a, i) for a in xs_flat])
        new, y = f(carry, x)
        _check_same("scan", carry, new, "carry input and output")
        carry = new
        ys.append(y)
    if reverse:
        ys.reverse()
    carry = _out(carry)
    if not ys:
        return carry, None
    y_flat0, y_tree = tree_flatten(ys[0])
    stacked = [stack([tree_flatten(y)[0][k] for y in ys]) for k in range(len(y_flat0))]
    return carry, tree_unflatten(y_tree, stacked)


def map(f: Callable, xs):  # noqa: A001
    """``stack([f(x) for x in xs])`` over the leading axis (``jax.lax.map``).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.lax.map(lambda x: x * 2.0, fnp.arange(3.0))
    array([0., 2., 4.], dtype=float32)
    """
    return scan(lambda c, x: (c, f(x)), 0, xs)[1]



