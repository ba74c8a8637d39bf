"""Automatic differentiation: forward mode (JVP) and reverse mode (a tape).

Forward mode carries a tangent next to every primal value (:class:`JVPTracer`); each
primitive's ``jvp`` rule computes the output tangent. ``None`` is a symbolic zero tangent.

Reverse mode records a Wengert list: every primitive applied to a :class:`VJPTracer`
appends a :class:`Node` (primitive, inputs, params, output) to its trace's tape. The
backward pass walks the tape once in reverse creation order — a topological order for
free — and calls the per-argument ``vjp`` rules only for inputs that need a cotangent.
The rules are ordinary funcgrad operations, so when an outer transform is active they are
traced by it: that is how ``grad(grad(f))`` and ``jacfwd(jacrev(f))`` work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcgrad._src import backend
from funcgrad._src.core import Trace, Tracer, bind, new_trace
from funcgrad._src.tree_util import tree_flatten, tree_map, tree_structure, tree_unflatten

# ---------------------------------------------------------------------------------------
# Reverse mode
# ---------------------------------------------------------------------------------------


class Node:
    """One tape entry: ``val = prim(*vals, **params)``; ``parents`` are ``(argnum, node)``.

    Single-output primitives need no separate node: their :class:`VJPTracer` *is* the tape
    entry (one object per operation on the hot path). Nodes of this class stand for
    multiple-result primitives and custom-VJP calls, whose outputs are projections.
    """

    __slots__ = ("prim", "vals", "params", "val", "parents", "idx", "out_index")

    def __init__(self, prim, vals, params, val, parents, idx, out_index=-1) -> None:
        self.prim = prim
        self.vals = vals
        self.params = params
        self.val = val
        self.parents = parents
        self.idx = idx
        # For an output projection of a multiple-result node: which output it is.
        self.out_index = out_index


class VJPTracer(Tracer):
    """A value on the tape, and its own tape entry (same fields as :class:`Node`)."""

    __slots__ = ("val", "prim", "vals", "params", "parents", "idx", "out_index")

    def __init__(self, trace, val, prim, vals, params, parents, idx, out_index=-1) -> None:
        self._trace = trace
        self.val = val
        self.prim = prim
        self.vals = vals
        self.params = params
        self.parents = parents
        self.idx = idx
        self.out_index = out_index

    @property
    def node(self):
        return self

    @property
    def aval(self):
        v = self.val
        return v.aval if isinstance(v, Tracer) else v

    @property
    def shape(self):
        return self.val.shape

    @property
    def dtype(self):
        return self.val.dtype


class VJPTrace(Trace):
    __slots__ = ("tape",)

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.tape: list[Node] = []

    def new_input(self, val) -> VJPTracer:
        t = VJPTracer(self, val, None, None, None, (), len(self.tape))
        self.tape.append(t)
        return t

    def process_primitive(self, prim, args, params):
        n = len(args)
        if n == 2:  # the common cases, unrolled: no per-argument loop or list building
            a, b = args
            if type(a) is VJPTracer and a._trace is self:
                va = a.val
                if type(b) is VJPTracer and b._trace is self:
                    vb = b.val
                    parents = ((0, a), (1, b))
                else:
                    vb = b
                    parents = ((0, a),)
            else:
                va = a
                if type(b) is VJPTracer and b._trace is self:
                    vb = b.val
                    parents = ((1, b),)
                else:
                    vb = b
                    parents = ()
            vals = (va, vb)
            lower = isinstance(va, Tracer) or isinstance(vb, Tracer)
        elif n == 1:
            a = args[0]
            if type(a) is VJPTracer and a._trace is self:
                va = a.val
                parents = ((0, a),)
            else:
                va = a
                parents = ()
            vals = (va,)
            lower = isinstance(va, Tracer)
        else:
            vals = []
            parents = []
            lower = False  # any tracer of an outer transform among the arguments?
            i = 0
            for a in args:
                if type(a) is VJPTracer and a._trace is self:
                    v = a.val
                    parents.append((i, a))
                else:
                    v = a
                vals.append(v)
                if isinstance(v, Tracer):
                    lower = True
                i += 1
        ans = bind(prim, *vals, **params) if lower else prim.impl(*vals, **params)
        if prim.nondiff:
            return ans
        tape = self.tape
        if prim.multiple_results:
            node = Node(prim, vals, params, ans, parents, len(tape))
            tape.append(node)
            return [self._project(node, k, a) for k, a in enumerate(ans)]
        if ans.dtype.kind not in "fc":
            return ans
        t = VJPTracer(self, ans, prim, vals, params, parents, len(tape))
        tape.append(t)
        return t

    def _project(self, node, k, a):
        if a.dtype.kind not in "fc":
            return a
        t = VJPTracer(self, a, None, None, None, ((k, node),), len(self.tape), k)
        self.tape.append(t)
        return t

    def process_custom_vjp(self, call, args):
        return call._process_vjp(self, args)

    def process_custom_jvp(self, call, args):
        return call._process_vjp(self, args)

    def concrete(self, tracer, what):
        if what in ("float", "int", "complex", "item", "tolist", "index"):
            raise _drop_grad_error(tracer, what)
        v = tracer.val
        return v._trace.concrete(v, what) if isinstance(v, Tracer) else v


def _drop_grad_error(tracer, what):
    from funcgrad._src.core import ConcretizationTypeError

    return ConcretizationTypeError(
        f"{what}() was called on a value being differentiated (shape {tracer.shape}, dtype "
        f"{tracer.dtype}); converting it to a Python number would silently drop its gradient. "
        "Keep it as an array, wrap it in fg.stop_gradient(...) first if the gradient should be "
        "dropped, or return it as auxiliary data (has_aux=True).")


def backward_pass(tape: list[Node], seeds: list[tuple[Node, Any]]) -> dict[int, Any]:
    """Propagate cotangents from ``seeds`` back through ``tape``.

    Returns the accumulated cotangents of the input nodes (``prim is None``), by index.
    """
    from funcgrad._src.ops.elementwise import add_any

    cts: dict[int, Any] = {}
    top = -1
    for node, g in seeds:
        if g is None:
            continue
        i = node.idx
        cts[i] = g if i not in cts else add_any(cts[i], g)
        top = max(top, i)
    inputs: dict[int, Any] = {}
    pop, get = cts.pop, cts.get
    for idx in range(top, -1, -1):
        g = pop(idx, None)
        if g is None:
            continue
        node = tape[idx]
        prim = node.prim
        if prim is None:
            if node.out_index < 0:  # an input
                inputs[idx] = g
                continue
            (k, parent), = node.parents  # an output of a multiple-result node
            slot = cts.get(parent.idx)
            if slot is None:
                slot = cts[parent.idx] = [None] * len(parent.val)
            slot[k] = g if slot[k] is None else add_any(slot[k], g)
            continue
        if prim.multiple_results:
            g = [_zeros_like(a) if c is None else c for c, a in zip(g, node.val)]
        vjp = prim.vjp
        if vjp is None:
            raise NotImplementedError(f"reverse-mode differentiation of {prim.name} is not "
                                      "implemented")
        if type(vjp) is tuple:
            for i, parent in node.parents:
                rule = vjp[i]
                if rule is None:
                    raise NotImplementedError(
                        f"{prim.name}: argument {i} is not differentiable")
                ct = rule(g, node.val, *node.vals, **node.params)
                if ct is not None:
                    j = parent.idx
                    prev = get(j)
                    cts[j] = ct if prev is None else add_any(prev, ct)
        else:  # one rule for all arguments
            needs = tuple(i for i, _ in node.parents)
            all_cts = vjp(g, node.val, *node.vals, needs=needs, **node.params)
            for i, parent in node.parents:
                ct = all_cts[i]
                if ct is not None:
                    j = parent.idx
                    prev = cts.get(j)
                    cts[j] = ct if prev is None else add_any(prev, ct)
    return inputs


# ---------------------------------------------------------------------------------------
# Forward mode
# ---------------------------------------------------------------------------------------


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent) -> None:
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        v = self.primal
        return v.aval if isinstance(v, Tracer) else v

    @property
    def shape(self):
        return self.primal.shape

    @property
    def dtype(self):
        return self.primal.dtype


class JVPTrace(Trace):
    __slots__ = ()

    def lower(self, args):
        primals, tangents = [], []
        for a in args:
            if isinstance(a, JVPTracer) and a._trace is self:
                primals.append(a.primal)
                tangents.append(a.tangent)
            else:
                primals.append(a)
                tangents.append(None)
        return primals, tangents

    def process_primitive(self, prim, args, params):
        primals, tangents = self.lower(args)
        if prim.nondiff:
            return prim.bind(*primals, **params)
        if prim.jvp is None:
            raise NotImplementedError(f"forward-mode differentiation of {prim.name} is not "
                                      "implemented")
        out, t_out = prim.jvp(primals, tangents, **params)
        if prim.multiple_results:
            return [o if (t is None or o.dtype.kind not in "fc") else JVPTracer(self, o, t)
                    for o, t in zip(out, t_out)]
        if t_out is None or out.dtype.kind not in "fc":
            return out
        return JVPTracer(self, out, t_out)

    def process_custom_vjp(self, call, args):
        return call._process_jvp(self, args)

    def process_custom_jvp(self, call, args):
        return call._process_jvp(self, args)

    def concrete(self, tracer, what):
        if what in ("float", "int", "complex", "item", "tolist", "index"):
            raise _drop_grad_error(tracer, what)
        v = tracer.primal
        return v._trace.concrete(v, what) if isinstance(v, Tracer) else v


# ---------------------------------------------------------------------------------------
# Helpers shared by the transforms
# ---------------------------------------------------------------------------------------


def _zeros_like(x):
    from funcgrad._src.ops.creation import zeros_like

    return zeros_like(x)


def to_output(x):
    """Boundary conversion: NumPy scalars become 0-d arrays; tracers pass through."""
    if isinstance(x, np.generic):
        return np.asarray(x)
    return x


def _argnums_tuple(argnums, nargs: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not isinstance(n, (int, np.integer)):
            raise TypeError(f"{name}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -nargs <= n < nargs:
            raise TypeError(
                f"{name}: differentiating with respect to argnums={argnums} requires at least "
                f"{(n if n >= 0 else -n - 1) + 1} positional arguments to be passed by the "
                f"caller, but got only {nargs} positional arguments.")
    return tuple(n % nargs for n in nums)


def _check_dtype(x, name: str, allow_int: bool, holomorphic: bool = False):
    dt = x.dtype
    if holomorphic:
        if dt.kind != "c":
            raise TypeError(f"{name} with holomorphic=True requires inputs with complex dtype, "
                            f"but got {dt.name}.")
        return
    if dt.kind not in "fc" and not allow_int:
        raise TypeError(
            f"{name} requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
            f"np.inexact), but got {dt.name}. If you want to use Integer-valued inputs, use vjp "
            "or set allow_int to True.")


def _check_output_dtype(out, name: str, holomorphic: bool):
    """JAX's output checks for ``grad`` and ``jacrev``: complex outputs need
    ``holomorphic=True`` (and ``holomorphic=True`` needs them)."""
    dt = out.dtype
    if holomorphic:
        if dt.kind != "c":
            raise TypeError(f"{name} with holomorphic=True requires outputs with complex dtype, "
                            f"but got {dt.name}.")
    elif dt.kind == "c":
        raise TypeError(f"{name} requires real-valued outputs (output dtype that is a sub-dtype "
                        f"of np.floating), but got {dt.name}. For holomorphic differentiation, "
                        "pass holomorphic=True. For differentiation of non-holomorphic functions "
                        "involving complex outputs, use vjp directly.")
    elif dt.kind != "f":
        raise TypeError(f"{name} requires real-valued outputs (output dtype that is a sub-dtype "
                        f"of np.floating), but got {dt.name}. For differentiation of functions "
                        "with integer outputs, use vjp directly.")


def _check_jacfwd_input(x, holomorphic: bool):
    dt = x.dtype
    if holomorphic:
        if dt.kind != "c":
            raise TypeError("jacfwd with holomorphic=True requires inputs with complex dtype, "
                            f"but got {dt.name}.")
    elif dt.kind != "f":
        raise TypeError(f"jacfwd requires real-valued inputs (input dtype that is a sub-dtype of "
                        f"np.floating), but got {dt.name}. For holomorphic differentiation, pass "
                        "holomorphic=True. For differentiation of non-holomorphic functions "
                        "involving complex inputs or integer inputs, use jvp directly.")


def _int_zero_grad(x):
    return np.zeros(np.shape(x), dtype=backend.float0)


def vjp_flat(fun: Callable, flat_primals: Sequence, in_tree, has_aux: bool, allow_int=True):
    """Run ``fun`` under a fresh reverse-mode trace; return outputs and a flat pullback."""
    with new_trace(VJPTrace) as trace:
        in_tracers = [trace.new_input(x) if backend.is_inexact(x.dtype) else x
                      for x in flat_primals]
        out = fun(*tree_unflatten(in_tree, in_tracers))
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("has_aux=True requires the function to return a pair "
                                f"(output, aux), got {type(out).__name__}")
            out, aux = out
        out_flat, out_tree = tree_flatten(out)
        out_nodes = []
        out_vals = []
        for o in out_flat:
            if isinstance(o, VJPTracer) and o._trace is trace:
                out_nodes.append(o.node)
                out_vals.append(o.val)
            else:
                out_nodes.append(None)
                out_vals.append(o if isinstance(o, Tracer) else backend.canonicalize(o))
        if has_aux:
            aux = tree_map(lambda a: a.val if isinstance(a, VJPTracer) and a._trace is trace
                           else a, aux)
    tape = trace.tape
    in_nodes = [t.node if isinstance(t, VJPTracer) else None for t in in_tracers]

    def pullback(ct_flat):
        seeds = [(n, c) for n, c in zip(out_nodes, ct_flat) if n is not None]
        got = backward_pass(tape, seeds)
        res = []
        for x, n in zip(flat_primals, in_nodes):
            if n is None:
                res.append(_int_zero_grad(x))
                continue
            g = got.get(n.idx)
            if g is None:
                g = _zeros_like(x)
            else:
                if isinstance(g, np.generic):
                    g = np.asarray(g)
                if g.dtype != x.dtype:
                    g = _cast_cotangent(g, x.dtype)
            res.append(g)
        return res

    # The tape and its tracers form reference cycles (tracer -> trace -> tape -> tracer);
    # callers that pull back once release the tape right after, so the whole forward pass
    # is freed by reference counting rather than waiting for the cyclic GC.
    pullback.release = tape.clear
    return out_vals, out_tree, pullback, (aux if has_aux else None)


def _cast_cotangent(g, dtype):
    """The cotangent of an input of ``dtype`` from an accumulated cotangent ``g`` (traced or
    not): the real part where a real input was promoted to complex (the other component is
    the derivative along a direction the input cannot move in), in the input's precision."""
    from funcgrad._src.ops.misc import convert_element_type

    if g.dtype.kind == "c" and dtype.kind != "c":
        from funcgrad._src.ops.complex_ops import real

        g = real(g)
    return convert_element_type(g, dtype)


def _split_argnums(fun, args, kwargs, argnums, name):
    """The positional arguments selected by ``argnums`` (flattened, canonicalised) and
    ``fun`` as a function of them alone, the others held fixed."""
    nums = _argnums_tuple(argnums, len(args), name)
    flat, in_tree = _prep_args(tuple(args[i] for i in nums))

    def f_dyn(*d):
        full = list(args)
        for i, v in zip(nums, d):
            full[i] = v
        return fun(*full, **kwargs)

    return f_dyn, flat, in_tree


def _prep_args(args):
    flat, tree = tree_flatten(args)
    return [x if isinstance(x, Tracer) else backend.canonicalize(x) for x in flat], tree


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """Compute ``fun``'s output and a function that pulls back output cotangents.

    Args:
        fun: function of pytrees of arrays returning a pytree of arrays.
        *primals: the point to differentiate at.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is returned, not differentiated.

    Returns:
        ``(out, vjp_fn)``, or ``(out, vjp_fn, aux)`` with ``has_aux``. ``vjp_fn(ct)`` takes a
        cotangent with ``out``'s structure and returns a tuple, one cotangent per primal.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> y, f_vjp = fg.vjp(fnp.sin, 0.0)
    >>> f_vjp(fnp.ones(()))
    (array(1., dtype=float32),)
    """
    flat, in_tree = _prep_args(primals)
    out_vals, out_tree, pullback, aux = vjp_flat(fun, flat, in_tree, has_aux)

    def vjp_fn(ct):
        ct_flat, ct_tree = tree_flatten(ct)
        if ct_tree != out_tree:
            raise ValueError(f"vjp_fn: cotangent structure {ct_tree} does not match the "
                             f"function's output structure {out_tree}")
        ct_flat = [c if isinstance(c, Tracer) else backend.canonicalize(c) for c in ct_flat]
        for c, o in zip(ct_flat, out_vals):
            if tuple(c.shape) != tuple(o.shape):
                raise ValueError(f"vjp_fn: cotangent shape {tuple(c.shape)} does not match the "
                                 f"primal output shape {tuple(o.shape)}")
        grads = [to_output(g) for g in pullback(ct_flat)]
        return tuple(tree_unflatten(in_tree, grads))

    out = tree_unflatten(out_tree, [to_output(o) for o in out_vals])
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def value_and_grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
                   allow_int: bool = False) -> Callable:
    """Return a function computing ``fun``'s value and its gradient.

    Args:
        fun: function whose output (first output with ``has_aux``) is a real scalar.
        argnums: int or tuple of ints, the positional arguments to differentiate.
        has_aux: ``fun`` returns ``(value, aux)``.
        holomorphic: ``fun`` is holomorphic; inputs and output are complex, and the
            gradient is the complex derivative ``f'(z)``. (As JAX's, this only lifts the
            complex-output check: for a non-holomorphic ``fun`` the result is the VJP at
            cotangent 1, the gradient of ``real(fun(z))``.)
        allow_int: allow integer inputs (their gradient is a float0 zero array).

    Complex inputs follow JAX's convention (see :mod:`funcgrad._src.ops.complex_ops`): for
    real-valued ``fun`` of ``z = x + iy`` the gradient is ``df/dx - 1j df/dy``, e.g.
    ``grad(lambda z: abs(z) ** 2)(z) == 2 * conj(z)``; step along its conjugate to descend.
    PyTorch's ``z.grad`` is the conjugate of this.

    Returns:
        A function returning ``(value, grad)`` or ``((value, aux), grad)``; ``grad`` has the
        structure of the selected argument (a tuple of them when ``argnums`` is a tuple).

    Raises:
        TypeError: non-scalar output, complex output without ``holomorphic=True`` (or real
            output or input with it), integer inputs, bad ``argnums``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.value_and_grad(lambda x: fnp.sum(x ** 2))(fnp.array([1.0, 2.0]))
    (array(5., dtype=float32), array([2., 4.], dtype=float32))
    """
    return _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "value_and_grad")


_LEAF = tree_structure(0)


def _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, name):
    def value_and_grad_f(*args, **kwargs):
        f_dyn, flat, in_tree = _split_argnums(fun, args, kwargs, argnums, name)
        for x in flat:
            _check_dtype(x, name, allow_int, holomorphic)
        out_vals, out_tree, pullback, aux = vjp_flat(f_dyn, flat, in_tree, has_aux)
        if out_tree != _LEAF:
            raise TypeError(f"{name}: the function must return a scalar array, got a pytree "
                            f"{out_tree}")
        out = out_vals[0]
        if out.shape != ():
            raise TypeError("Gradient only defined for scalar-output functions. Output had "
                            f"shape: {tuple(out.shape)}.")
        _check_output_dtype(out, name, holomorphic)
        from funcgrad._src.ops.creation import ones_like

        grads = [to_output(g) for g in pullback([ones_like(out)])]
        pullback.release()
        g = tree_unflatten(in_tree, grads)
        g = g[0] if isinstance(argnums, int) else g
        out = to_output(out)
        return ((out, aux), g) if has_aux else (out, g)

    value_and_grad_f.__wrapped__ = fun
    value_and_grad_f.__doc__ = f"Value and gradient of {getattr(fun, '__name__', 'fun')}."
    return value_and_grad_f


def grad(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
         allow_int: bool = False) -> Callable:
    """Return a function computing the gradient of scalar-valued ``fun``.

    Same arguments as :func:`value_and_grad`; returns ``grad`` or ``(grad, aux)``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.grad(fnp.tanh)(0.0)
    array(1., dtype=float32)
    >>> fg.grad(fg.grad(lambda x: x ** 3))(2.0)
    array(12., dtype=float32)
    """
    vg = _value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, "grad")

    def grad_f(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]

    grad_f.__wrapped__ = fun
    grad_f.__doc__ = f"Gradient of {getattr(fun, '__name__', 'fun')}."
    return grad_f


def jvp(fun: Callable, primals, tangents, has_aux: bool = False):
    """Forward-mode Jacobian-vector product.

    Args:
        fun: function of pytrees of arrays.
        primals: tuple of arguments.
        tangents: tuple with the same structure, shapes and dtypes as ``primals``.
        has_aux: ``fun`` returns ``(output, aux)``.

    Returns:
        ``(primals_out, tangents_out)``, or ``(primals_out, tangents_out, aux)``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.jvp(fnp.sin, (0.0,), (2.0,))
    (array(0., dtype=float32), array(2., dtype=float32))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples or lists, got "
                        f"{type(primals).__name__} and {type(tangents).__name__}")
    flat_p, tree_p = _prep_args(tuple(primals))
    flat_t, tree_t = _prep_args(tuple(tangents))
    if tree_p != tree_t:
        raise ValueError(f"jvp: primal and tangent arguments must have the same tree structure; "
                         f"got {tree_p} and {tree_t}")
    for p, t in zip(flat_p, flat_t):
        if tuple(p.shape) != tuple(t.shape):
            raise ValueError(f"jvp: primal and tangent shapes must match; got primal shape "
                             f"{tuple(p.shape)} and tangent shape {tuple(t.shape)}")
        if backend.is_inexact(p.dtype) and t.dtype != p.dtype:
            raise TypeError(f"jvp: primal and tangent dtypes must match; got primal dtype "
                            f"{p.dtype.name} and tangent dtype {t.dtype.name}")
    out_p, out_t, out_tree, aux = jvp_flat(fun, flat_p, flat_t, tree_p, has_aux)
    res = (tree_unflatten(out_tree, out_p), tree_unflatten(out_tree, out_t))
    return res + (aux,) if has_aux else res


def jvp_flat(fun, flat_p, flat_t, in_tree, has_aux):
    with new_trace(JVPTrace) as trace:
        ins = [JVPTracer(trace, p, t) if backend.is_inexact(p.dtype) else p
               for p, t in zip(flat_p, flat_t)]
        out = fun(*tree_unflatten(in_tree, ins))
        if has_aux:
            out, aux = out
        out_flat, out_tree = tree_flatten(out)
        out_p, out_t = [], []
        for o in out_flat:
            if isinstance(o, JVPTracer) and o._trace is trace:
                out_p.append(o.primal)
                out_t.append(o.tangent)
            else:
                o = o if isinstance(o, Tracer) else backend.canonicalize(o)
                out_p.append(o)
                out_t.append(None)
        if has_aux:
            aux = tree_map(lambda a: a.primal if isinstance(a, JVPTracer) and a._trace is trace
                           else a, aux)
    out_t = [_zeros_like(p) if t is None else t for p, t in zip(out_p, out_t)]
    return ([to_output(p) for p in out_p], [to_output(t) for t in out_t], out_tree,
            aux if has_aux else None)


def linearize(fun: Callable, *primals):
    """Return ``fun(*primals)`` and a function computing JVPs at ``primals``.

    The returned ``f_jvp(*tangents)`` is linear: its first call traces ``jvp`` at the saved
    point with ``jit``, where everything that depends only on ``primals`` is computed once
    (it involves no traced value), so the graph it replays for later tangents holds only
    the tangent operations, as JAX's linearized function. (At primals that are tracers of
    an outer transform, each call evaluates ``jvp`` again instead.)

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> y, f_jvp = fg.linearize(fnp.exp, 0.0)
    >>> f_jvp(3.0)
    array(3., dtype=float32)
    """
    flat, tree = _prep_args(primals)
    primals = tree_unflatten(tree, flat)
    out = fun(*primals)

    if any(isinstance(x, Tracer) for x in flat):
        def f_jvp(*tangents):
            return jvp(fun, primals, tangents)[1]
    else:
        from funcgrad._src.jit import jit

        f_jvp = jit(lambda *tangents: jvp(fun, primals, tangents)[1])

    return tree_map(lambda o: o if isinstance(o, Tracer) else to_output(backend.canonicalize(o)),
                    out), f_jvp


# ---------------------------------------------------------------------------------------
# stop_gradient
# ---------------------------------------------------------------------------------------


def stop_gradient(x):
    """Identity whose derivative is zero, applied to every leaf of a pytree.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: x * fg.stop_gradient(x))(3.0)
    array(3., dtype=float32)
    """
    from funcgrad._src.ops.misc import stop_gradient_p

    def one(v):
        if isinstance(v, Tracer):
            return bind(stop_gradient_p, v)
        return v

    return tree_map(one, x)


# ---------------------------------------------------------------------------------------
# Jacobians, built on vmap
# ---------------------------------------------------------------------------------------


def _std_basis(flat):
    """Identity rows for the flattened inputs: shape (total, ) + each leaf's shape."""
    from funcgrad._src.ops.creation import eye

    sizes = [int(np.prod(x.shape, dtype=np.int64)) for x in flat]
    total = sum(sizes)
    dtype = np.result_type(*[x.dtype for x in flat]) if flat else backend.default_float()
    basis = eye(total, dtype=dtype)
    out, start = [], 0
    for x, n in zip(flat, sizes):
        out.append(basis[:, start:start + n].reshape((total,) + tuple(x.shape)).astype(x.dtype))
        start += n
    return out, sizes


def _split_jac(leaf, sizes, shapes, out_shape):
    """Split a Jacobian leaf stacked along its last (basis) axis into per-input blocks of
    shape ``out_shape + input_shape``."""
    from funcgrad._src.ops.shape import reshape

    blocks, start = [], 0
    for n, shp in zip(sizes, shapes):
        blocks.append(reshape(leaf[..., start:start + n], tuple(out_shape) + tuple(shp)))
        start += n
    return blocks


def jacrev(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           allow_int: bool = False) -> Callable:
    """Jacobian of ``fun`` by reverse mode: one VJP per output element, vectorised with
    ``vmap``. The result has shape ``out.shape + in.shape`` (pytrees: output structure of
    input structures).

    As JAX's: complex outputs need ``holomorphic=True`` (then inputs and outputs are complex
    and the entries are complex derivatives); real outputs of complex inputs give rows of
    ``grad``'s convention.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.jacrev(lambda x: x ** 2)(fnp.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]], dtype=float32)
    """
    from funcgrad._src.batching import vmap

    def jac_f(*args):
        f_dyn, flat, in_tree = _split_argnums(fun, args, {}, argnums, "jacrev")
        for x in flat:
            _check_dtype(x, "jacrev", allow_int, holomorphic)

        out_vals, out_tree, pullback, aux = vjp_flat(f_dyn, flat, in_tree, has_aux)
        for o in out_vals:
            _check_output_dtype(o, "jacrev", holomorphic)
        basis, sizes = _std_basis(out_vals)
        rows = vmap(lambda *cts: tuple(pullback(list(cts))))(*basis)
        # rows[j]: (total_out, *in_j.shape); split total_out per output leaf
        per_out = [[] for _ in out_vals]
        for j, r in enumerate(rows):
            start = 0
            for k, (o, n) in enumerate(zip(out_vals, sizes)):
                blk = r[start:start + n].reshape(tuple(o.shape) + tuple(flat[j].shape))
                per_out[k].append(to_output(blk))
                start += n
        res = [tree_unflatten(in_tree, blocks) for blocks in per_out]
        res = [r[0] if isinstance(argnums, int) else r for r in res]
        jac = tree_unflatten(out_tree, res)
        return (jac, aux) if has_aux else jac

    return jac_f


jacobian = jacrev


def jacfwd(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False)\
        -> Callable:
    """Jacobian of ``fun`` by forward mode: one JVP per input element, vectorised with
    ``vmap``. Same layout as :func:`jacrev`.

    As JAX's: complex inputs need ``holomorphic=True`` (then the outputs must be complex
    too); real inputs may have complex outputs (the columns are directional derivatives).

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.jacfwd(lambda x: fnp.sin(x))(fnp.zeros(2))
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    from funcgrad._src.batching import vmap

    def jac_f(*args):
        f_dyn, flat, in_tree = _split_argnums(fun, args, {}, argnums, "jacfwd")
        for x in flat:
            _check_jacfwd_input(x, holomorphic)

        basis, sizes = _std_basis(flat)

        box = {}

        def push(*ts):
            out_p, out_t, box["tree"], aux = jvp_flat(f_dyn, flat, list(ts), in_tree, has_aux)
            return tuple(out_t), tuple(out_p), aux

        outs_t, outs_p, aux = vmap(push, out_axes=(-1, None, None))(*basis)
        out_tree = box["tree"]
        if holomorphic:
            for p in outs_p:
                if p.dtype.kind != "c":
                    raise TypeError("jacfwd with holomorphic=True requires outputs with complex "
                                    f"dtype, but got {p.dtype.name}.")
        per_out = []
        for t, p in zip(outs_t, outs_p):
            blocks = _split_jac(t, sizes, [x.shape for x in flat], p.shape)
            r = tree_unflatten(in_tree, [to_output(b) for b in blocks])
            per_out.append(r[0] if isinstance(argnums, int) else r)
        jac = tree_unflatten(out_tree, per_out)
        return (jac, aux) if has_aux else jac

    return jac_f


def hessian(fun: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False)\
        -> Callable:
    """Hessian of scalar ``fun``: ``jacfwd(jacrev(fun))``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.hessian(lambda x: fnp.sum(x ** 3))(fnp.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]], dtype=float32)
    """
    return jacfwd(jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic), argnums,
                  has_aux=has_aux, holomorphic=holomorphic)
