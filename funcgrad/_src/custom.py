"""User-defined derivatives: ``custom_vjp``, ``custom_jvp`` and ``checkpoint``.

A custom function is called like any other. When one of its arguments is traced, the
innermost trace decides: reverse mode records one tape node whose VJP is the user's
``bwd``; forward mode uses ``jvp`` (a ``custom_vjp`` function is differentiated through
its primal definition, which JAX refuses); vmap builds a batched custom function from
vmapped ``fun``/``fwd``/``bwd`` so outer transforms still see the custom rule.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from funcgrad._src import backend
from funcgrad._src.core import Tracer, find_top_trace
from funcgrad._src.tree_util import tree_flatten, tree_map, tree_unflatten


class _CustomNodePrim:
    """Stands in for a primitive in a tape node: the VJP calls the user's ``bwd``."""

    multiple_results = True
    nondiff = False

    def __init__(self, name, bwd_flat):
        self.name = name
        self.vjp = bwd_flat


def _split(nondiff_argnums, args):
    nd = tuple(args[i] for i in nondiff_argnums)
    dyn = tuple(a for i, a in enumerate(args) if i not in nondiff_argnums)
    return nd, dyn


def _merge(nondiff_argnums, nd, dyn):
    out = []
    nd_it, dyn_it = iter(nd), iter(dyn)
    for i in range(len(nd) + len(dyn)):
        out.append(next(nd_it) if i in nondiff_argnums else next(dyn_it))
    return out


class custom_vjp:
    """A function with a user-defined reverse-mode derivative.

    Args:
        fun: the primal function.
        nondiff_argnums: positional arguments that are not differentiated; they are passed
            first to ``bwd``: ``bwd(*nondiff_args, residuals, g)``.

    Use ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` and
    ``bwd(residuals, g) -> tuple`` with one cotangent per (differentiable) argument.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (fnp.clip(g, -1.0, 1.0),))
    >>> fg.grad(lambda x: 5.0 * clip_gradient(x))(2.0)
    array(1., dtype=float32)
    """

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = None
        self.bwd = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise AttributeError(f"custom_vjp function {self.__name__} has no VJP; call "
                                 "defvjp(fwd, bwd) before using it")
        nd, dyn = _split(self.nondiff_argnums, args)
        for i in self.nondiff_argnums:
            if any(isinstance(x, Tracer) for x in tree_flatten(args[i])[0]):
                raise TypeError(f"custom_vjp {self.__name__}: argument {i} is in "
                                "nondiff_argnums but was given a traced value")
        top = find_top_trace(tree_flatten(dyn)[0])
        if top is None:
            return self.fun(*args)
        return top.process_custom_vjp(self, args)

    # -- per-trace handling (called by the traces) -------------------------------------
    def _process_vjp(self, trace, args):
        from funcgrad._src.autodiff import Node, VJPTracer

        nd, dyn = _split(self.nondiff_argnums, args)
        flat, in_tree = tree_flatten(dyn)
        vals, parents = [], []
        for i, a in enumerate(flat):
            if isinstance(a, VJPTracer) and a._trace is trace:
                vals.append(a.val)
                parents.append((i, a.node))
            else:
                vals.append(a)
        res = self.fwd(*_merge(self.nondiff_argnums, nd, tree_unflatten(in_tree, vals)))
        if not (isinstance(res, (tuple, list)) and len(res) == 2):
            raise TypeError(f"custom_vjp {self.__name__}: fwd must return a pair (output, "
                            f"residuals), got {type(res).__name__}")
        out, residuals = res
        out_flat, out_tree = tree_flatten(out)
        out_flat = [o if isinstance(o, Tracer) else backend.canonicalize(o) for o in out_flat]
        bwd, name = self.bwd, self.__name__

        def bwd_flat(g, ans, *vals_, needs):
            cts = bwd(*nd, residuals, tree_unflatten(out_tree, list(g)))
            return _check_cts(name, cts, dyn, in_tree, flat)

        node_prim = _CustomNodePrim(f"custom_vjp[{name}]", bwd_flat)
        node = Node(node_prim, vals, {}, out_flat, parents, len(trace.tape))
        trace.tape.append(node)
        outs = [trace._project(node, k, o) for k, o in enumerate(out_flat)]
        return tree_unflatten(out_tree, outs)

    def _process_jvp(self, trace, args):
        return self.fun(*args)

    def _process_batch(self, trace, args):
        return _batch_custom(self, trace, args)

    def _process_graph(self, trace, args):
        return self.fun(*args)


def _check_cts(name, cts, dyn, in_tree, flat):
    if not isinstance(cts, (tuple, list)):
        raise TypeError(f"custom_vjp {name}: bwd must return a tuple with one cotangent per "
                        f"differentiable argument ({len(dyn)}), got {type(cts).__name__}")
    if len(cts) != len(dyn):
        raise TypeError(f"custom_vjp {name}: bwd returned {len(cts)} cotangents but the "
                        f"function has {len(dyn)} differentiable arguments")
    cts = tuple(cts)
    ct_flat, ct_tree = tree_flatten(cts, is_leaf=lambda x: x is None)
    if ct_tree != in_tree:
        # None is allowed for a whole argument (zero cotangent).
        fixed = []
        for c, d in zip(cts, dyn):
            if c is None:
                fixed.append(tree_map(lambda x: None, d))
            else:
                fixed.append(c)
        ct_flat, ct_tree = tree_flatten(tuple(fixed), is_leaf=lambda x: x is None)
        if ct_tree != in_tree:
            raise TypeError(f"custom_vjp {name}: bwd output structure {ct_tree} does not match "
                            f"the arguments' structure {in_tree}")
    for c, x in zip(ct_flat, flat):
        if c is not None and tuple(getattr(c, "shape", ())) != tuple(getattr(x, "shape", ())):
            raise ValueError(f"custom_vjp {name}: bwd returned a cotangent of shape "
                             f"{tuple(c.shape)} for an argument of shape {tuple(x.shape)}")
    return ct_flat


def _batch_custom(call, trace, args):
    """Batch a custom function by building a vmapped custom function one level down."""
    from funcgrad._src.batching import BatchTracer, vmap
    from funcgrad._src.ops.reductions import sum as _sum

    nd, dyn = _split(call.nondiff_argnums, args)
    flat, in_tree = tree_flatten(dyn)
    vals, axes = [], []
    for a in flat:
        if isinstance(a, BatchTracer) and a._trace is trace:
            from funcgrad._src.batching import move_bdim

            vals.append(move_bdim(a.val, a.bdim, 0, trace.axis_size))
            axes.append(0)
        else:
            vals.append(a)
            axes.append(None)
    ax_tree = tree_unflatten(in_tree, axes)

    def fun_b(*d):
        return vmap(lambda *x: call.fun(*_merge(call.nondiff_argnums, nd, x)),
                    in_axes=tuple(ax_tree))(*d)

    if isinstance(call, custom_vjp):
        new = custom_vjp(fun_b)

        def fwd_b(*d):
            return vmap(lambda *x: call.fwd(*_merge(call.nondiff_argnums, nd, x)),
                        in_axes=tuple(ax_tree))(*d)

        def bwd_b(res, g):
            cts = vmap(lambda r, gg: tuple(call.bwd(*nd, r, gg)))(res, g)
            return tuple(tree_map(lambda c, ax: c if ax is not None else _sum(c, axis=0), ct,
                                  axt) if ct is not None else None
                         for ct, axt in zip(cts, tuple(ax_tree)))

        new.defvjp(fwd_b, bwd_b)
    else:
        new = custom_jvp(fun_b)

        def jvp_b(primals, tangents):
            return vmap(lambda p, t: call.jvp_fn(*_jvp_args(call, nd, p, t)),
                        in_axes=(tuple(ax_tree), tuple(ax_tree)))(primals, tangents)

        new.defjvp(jvp_b)
    out = new(*tree_unflatten(in_tree, vals))
    return tree_map(lambda o: BatchTracer(trace, o, 0), out)


def _jvp_args(call, nd, p, t):
    return (*nd, tuple(p), tuple(t)) if call.nondiff_argnums else (tuple(p), tuple(t))


class custom_jvp:
    """A function with a user-defined forward-mode derivative.

    Use ``f.defjvp(jvp)`` with ``jvp(primals, tangents) -> (primal_out, tangent_out)``
    (``jvp(*nondiff_args, primals, tangents)`` with ``nondiff_argnums``). Reverse mode
    is derived from it: the tangent output is linear in the tangents, so its transpose
    is computed by differentiating ``jvp`` with respect to the tangents.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.custom_jvp
    ... def f(x):
    ...     return fnp.sin(x)
    >>> _ = f.defjvp(lambda p, t: (fnp.sin(p[0]), 2.0 * t[0]))
    >>> fg.grad(f)(0.0)
    array(2., dtype=float32)
    """

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp_fn = None

    def defjvp(self, jvp: Callable) -> Callable:
        self.jvp_fn = jvp
        return jvp

    def defjvps(self, *jvps: Callable | None) -> None:
        """Define the JVP by one function per argument: ``jvp_i(t_i, ans, *primals)``."""

        def jvp(primals, tangents):
            ans = self.fun(*primals)
            out = None
            for f, t in zip(jvps, tangents):
                if f is None:
                    continue
                ti = f(t, ans, *primals)
                out = ti if out is None else tree_map(lambda a, b: a + b, out, ti)
            if out is None:
                from funcgrad._src.ops.creation import zeros_like

                out = tree_map(zeros_like, ans)
            return ans, out

        self.jvp_fn = jvp

    def __call__(self, *args):
        if self.jvp_fn is None:
            raise AttributeError(f"custom_jvp function {self.__name__} has no JVP; call "
                                 "defjvp(jvp) before using it")
        nd, dyn = _split(self.nondiff_argnums, args)
        top = find_top_trace(tree_flatten(dyn)[0])
        if top is None:
            return self.fun(*args)
        return top.process_custom_jvp(self, args)

    def _call_jvp(self, nd, primals, tangents):
        return self.jvp_fn(*_jvp_args(self, nd, primals, tangents))

    def _process_jvp(self, trace, args):
        from funcgrad._src.autodiff import JVPTracer
        from funcgrad._src.ops.creation import zeros_like

        nd, dyn = _split(self.nondiff_argnums, args)
        flat, in_tree = tree_flatten(dyn)
        prim_vals, tans = trace.lower(flat)
        tans = [zeros_like(p) if t is None else t for p, t in zip(prim_vals, tans)]
        primals = tree_unflatten(in_tree, prim_vals)
        tangents = tree_unflatten(in_tree, tans)
        out, t_out = self._call_jvp(nd, tuple(primals), tuple(tangents))
        o_flat, o_tree = tree_flatten(out)
        t_flat, t_tree = tree_flatten(t_out)
        if o_tree != t_tree:
            raise TypeError(f"custom_jvp {self.__name__}: primal and tangent outputs have "
                            f"different structures: {o_tree} and {t_tree}")
        return tree_unflatten(o_tree, [JVPTracer(trace, o, t) for o, t in zip(o_flat, t_flat)])

    def _process_vjp(self, trace, args):
        # Reverse mode: out = fun(x); the VJP of ct is grad_t <ct, jvp(x, t)> at t = 0.
        from funcgrad._src.autodiff import vjp
        from funcgrad._src.ops.creation import zeros_like

        nd, dyn = _split(self.nondiff_argnums, args)
        call = self

        def fwd(*d):
            return call.fun(*_merge(call.nondiff_argnums, nd, d)), d

        def bwd(res, g):
            zeros = tree_map(zeros_like, res)
            _, pull = vjp(lambda t: call._call_jvp(nd, tuple(res), tuple(t))[1], zeros)
            return tuple(pull(g)[0])

        helper = custom_vjp(lambda *d: fwd(*d)[0])
        helper.__name__ = self.__name__
        helper.defvjp(fwd, bwd)
        return helper._process_vjp(trace, tuple(dyn))

    def _process_batch(self, trace, args):
        return _batch_custom(self, trace, args)

    def _process_graph(self, trace, args):
        return self.fun(*args)


def checkpoint(fun: Callable, *, prevent_cse: bool = True, policy=None,
               static_argnums: tuple[int, ...] = ()) -> Callable:
    """Rematerialise ``fun`` in the backward pass: only its inputs are saved, and its
    forward pass is re-run (under ``vjp``) when the cotangent arrives. Trades compute for
    memory, as ``jax.checkpoint`` (alias ``remat``).

    Positional arguments in ``static_argnums`` (which may be any Python values) are not
    differentiated; keyword arguments are differentiated like positional ones.
    ``prevent_cse`` and ``policy`` are accepted for compatibility (nothing is saved but the
    inputs).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> f = fg.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
    >>> float(fg.grad(f)(0.0))
    1.0
    """
    from funcgrad._src.autodiff import vjp

    static_argnums = ((static_argnums,) if isinstance(static_argnums, int)
                      else tuple(static_argnums))

    def remat_f(*args, **kwargs):
        n = len(args)
        for i in static_argnums:
            if not -n <= i < n:
                raise ValueError(f"checkpoint: static_argnums {static_argnums} out of range "
                                 f"for {n} positional arguments")
        static = {i % n: args[i] for i in static_argnums}
        dyn = tuple(a for i, a in enumerate(args) if i not in static)

        def run(dyn, kw):
            it = iter(dyn)
            return fun(*[static[i] if i in static else next(it) for i in range(n)], **kw)

        remat = custom_vjp(run)

        def bwd(res, g):
            _, pull = vjp(run, *res)
            return pull(g)

        remat.defvjp(lambda dyn, kw: (run(dyn, kw), (dyn, kw)), bwd)
        return remat(dyn, kwargs)

    functools.update_wrapper(remat_f, fun)
    return remat_f


remat = checkpoint

