"""jit: trace a function once into a graph of primitives, then replay generated code.

Tracing runs the function on the actual first inputs, with :class:`GraphTracer` values that
carry both a concrete array (so shapes, dtypes and every intermediate are known, and no
primitive needs a shape rule) and a variable id. Each primitive applied to them appends an
equation to the graph. The concrete values are only used during tracing: Python control
flow on a traced value raises ``ConcretizationTypeError``, exactly as in JAX, because the
next call may take the other branch.

The graph is then simplified — constants folded, common subexpressions shared, dead code
removed — and turned into straight-line Python source with one call per equation and
``del`` after each value's last use, compiled once with ``exec``. Later calls with the same
signature (pytree structure, shapes, dtypes, static arguments) run that function: no
tracing, no tape, no per-op dispatch.

The generated code reuses array buffers where that is provably safe (see
:func:`_plan_reuse`): an elementwise equation whose input dies there writes its result into
that input's buffer (``ufunc(a, b, a)``) when the buffer was allocated inside this call (or
donated with ``donate_argnums``), has the result's shape and dtype, and no value that is
read later may share its memory. Large temporaries are costly to allocate on glibc (freed
big blocks go back to the kernel and page-fault again when reused), so this saves time as
well as memory.

Called with traced arguments (inside ``grad``, ``vmap``, another transform), or when the
function closes over a value traced by an outer transform, a jitted function simply runs
its Python body under the outer transforms, so every composition is correct.
"""

from __future__ import annotations

import functools
import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad._src import backend, buffers
from funcgrad._src.core import ConcretizationTypeError, Trace, Tracer, new_trace
from funcgrad._src.tree_util import _sorted_keys, tree_flatten, tree_unflatten

_CACHE_SIZE = 64


class Var:
    __slots__ = ("id", "aval")

    def __init__(self, id_: int, aval) -> None:
        self.id = id_
        self.aval = aval


class Lit:
    """A constant in the graph: a Python scalar or an array captured at trace time."""

    __slots__ = ("val",)

    def __init__(self, val) -> None:
        self.val = val


class Eqn:
    __slots__ = ("prim", "ins", "outs", "params")

    def __init__(self, prim, ins, outs, params) -> None:
        self.prim = prim
        self.ins = ins
        self.outs = outs
        self.params = params


class _Fallback(Exception):
    """A value traced by an outer transform was captured: run the function eagerly."""


class GraphTracer(Tracer):
    __slots__ = ("val", "var")

    def __init__(self, trace, val, var) -> None:
        self._trace = trace
        self.val = val
        self.var = var

    @property
    def aval(self):
        return self.val

    @property
    def shape(self):
        return self.val.shape

    @property
    def dtype(self):
        return self.val.dtype


class GraphTrace(Trace):
    __slots__ = ("eqns", "counter", "captured")

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.eqns: list[Eqn] = []
        self.counter = itertools.count()
        self.captured: list[tuple[Var, Tracer]] = []

    def new_var(self, val) -> Var:
        return Var(next(self.counter), _aval(val))

    def new_input(self, val) -> GraphTracer:
        return GraphTracer(self, val, self.new_var(val))

    def _atom(self, a):
        if isinstance(a, GraphTracer):
            if a._trace is self:
                return a.var, a.val
            if a._trace.alive:  # a value of an enclosing jit trace: capture it as an input
                for var, t in self.captured:
                    if t is a:
                        return var, a.val
                var = self.new_var(a.val)
                self.captured.append((var, a))
                return var, a.val
        if isinstance(a, Tracer):
            raise _Fallback
        return Lit(a), a

    def process_primitive(self, prim, args, params):
        ins, vals = [], []
        for a in args:
            atom, v = self._atom(a)
            ins.append(atom)
            vals.append(v)
        out = prim.impl(*vals, **params)
        if prim.multiple_results:
            outs = [GraphTracer(self, o, self.new_var(o)) for o in out]
            self.eqns.append(Eqn(prim, ins, [t.var for t in outs], params))
            return outs
        t = GraphTracer(self, out, self.new_var(out))
        self.eqns.append(Eqn(prim, ins, [t.var], params))
        return t

    def process_custom_vjp(self, call, args):
        return call._process_graph(self, args)

    def process_custom_jvp(self, call, args):
        return call._process_graph(self, args)

    def concrete(self, tracer, what):
        raise ConcretizationTypeError(
            f"{what}() was called on a value traced by jit (shape {tracer.shape}, dtype "
            f"{tracer.dtype}); its value is not known when the function is compiled. Python "
            "control flow on traced values must use fg.lax.cond / fg.lax.switch / "
            "fg.lax.while_loop / fg.lax.fori_loop (or fnp.where); or mark the argument static "
            "with jit(..., static_argnums=...).")


def _aval(v):
    from funcgrad._src.core import ShapedArray

    return ShapedArray(np.shape(v), getattr(v, "dtype", np.asarray(v).dtype))


# ---------------------------------------------------------------------------------------
# The graph: simplification and code generation
# ---------------------------------------------------------------------------------------


class Graph:
    """A traced function: inputs, equations, outputs (Vars or Lits)."""

    def __init__(self, invars, eqns, outs, out_tree) -> None:
        self.invars = invars
        self.eqns = eqns
        self.outs = outs
        self.out_tree = out_tree
        self._fn = None
        self.source: str | None = None  # the generated code, once compiled
        #: equations that write their result into an input's buffer: {index: input position}
        self.inplace: dict[int, int] = {}
        #: positions of donated inputs that the compiled code may overwrite
        self.donated_written: tuple[int, ...] = ()

    # -- passes ----------------------------------------------------------------------
    def simplify(self) -> Graph:
        env: dict[int, Any] = {}  # var id -> replacement atom

        def sub(a):
            if isinstance(a, Var):
                return env.get(a.id, a)
            return a

        seen: dict[Any, list] = {}
        eqns = []
        for e in self.eqns:
            ins = [sub(a) for a in e.ins]
            # constant folding: every input a literal -> the value is known now
            if all(isinstance(a, Lit) for a in ins) and not e.prim.multiple_results:
                val = e.prim.impl(*[a.val for a in ins], **e.params)
                env[e.outs[0].id] = Lit(val)
                continue
            key = _cse_key(e.prim, ins, e.params)
            if key is not None and key in seen:
                for o, prev in zip(e.outs, seen[key]):
                    env[o.id] = prev
                continue
            if key is not None:
                seen[key] = e.outs
            eqns.append(Eqn(e.prim, ins, e.outs, e.params))
        outs = [sub(o) for o in self.outs]
        # dead code elimination
        live = {o.id for o in outs if isinstance(o, Var)}
        kept = []
        for e in reversed(eqns):
            if any(o.id in live for o in e.outs):
                kept.append(e)
                live.update(a.id for a in e.ins if isinstance(a, Var))
        kept.reverse()
        return Graph(self.invars, kept, outs, self.out_tree)

    # -- code generation -------------------------------------------------------------
    def compile(self, xp, donated: frozenset[int] = frozenset()) -> Callable:
        """Generate and compile the straight-line function (once). ``donated``: positions
        of inputs whose buffers the function may overwrite."""
        if self._fn is not None:
            return self._fn
        self.inplace = _plan_reuse(self, donated) if xp is np else {}
        written = {self.eqns[k].ins[i].id for k, i in self.inplace.items()}
        self.donated_written = tuple(p for p in sorted(donated) if self.invars[p].id in written)
        ns: dict[str, Any] = {}
        names: dict[int, str] = {}

        def name(v):
            if v.id not in names:
                names[v.id] = f"v{v.id}"
            return names[v.id]

        const_count = itertools.count()

        def src(a):
            if isinstance(a, Var):
                return name(a)
            val = a.val
            if type(val) in (int, float, bool):
                return repr(val) if np.isfinite(val) else _const(val)
            return _const(val)

        def _const(val):
            c = f"c{next(const_count)}"
            ns[c] = val
            return c

        last_use: dict[int, int] = {}
        for k, e in enumerate(self.eqns):
            for a in e.ins:
                if isinstance(a, Var):
                    last_use[a.id] = k
        out_ids = {o.id for o in self.outs if isinstance(o, Var)}
        lines = [f"def _run({', '.join(name(v) for v in self.invars)}):"]
        for k, e in enumerate(self.eqns):
            fname = f"f{k}"
            args = ", ".join(src(_widen_scalar(a, e, xp)) for a in e.ins)
            note = ""
            if k in self.inplace:  # destination-passing: the result goes into a dying input
                ns[fname] = fn = _into(e, xp)
                # a positional ``out`` is ~60 ns faster; NumPy deprecates it for these two
                out_kw = "out=" if fn is np.maximum or fn is np.minimum else ""
                args += f", {out_kw}{name(e.ins[self.inplace[k]])}"
                note = "  # in place"
            else:
                ns[fname] = _callable(e.prim, e.params, xp)
            outs = ", ".join(name(o) for o in e.outs)
            if e.prim.multiple_results:
                lines.append(f"    {outs}, = {fname}({args})" if len(e.outs) == 1 else
                             f"    {outs} = {fname}({args})")
            else:
                lines.append(f"    {outs} = {fname}({args}){note}")
            # Free big buffers at their last use; small ones are not worth a statement.
            dead = [name(a) for a in dict.fromkeys(x for x in e.ins if isinstance(x, Var))
                    if last_use.get(a.id) == k and a.id not in out_ids
                    and _size(a.aval) > _SMALL]
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        lines.append(f"    return ({''.join(src(o) + ', ' for o in self.outs)})")
        code = "\n".join(lines)
        exec(compile(code, "<funcgrad.jit>", "exec"), ns)  # noqa: S102 - our own generated code
        self._fn = ns["_run"]
        self.source = code
        return self._fn

    def __str__(self) -> str:
        return _pretty(self)


_SMALL = 1024


def _size(aval) -> int:
    n = 1
    for d in aval.shape:
        n *= d
    return n


def _widen_scalar(a, e, xp):
    """NumPy ufuncs are ~2x slower with a Python scalar operand than with a same-shaped array
    on small inputs; replace the scalar by a constant array of the output's shape and dtype
    where that gives the same result (the output has the other operand's shape and dtype)."""
    if not isinstance(a, Lit) or e.prim.jit_impl is None or len(e.ins) != 2 or \
            len(e.outs) != 1:
        return a
    if type(a.val) not in (int, float) and not (
            getattr(a.val, "shape", None) == () and getattr(a.val, "dtype", None) is not None
            and a.val.dtype == e.outs[0].aval.dtype):
        return a
    out = e.outs[0].aval
    other = e.ins[1] if e.ins[0] is a else e.ins[0]
    if not isinstance(other, Var) or other.aval.shape != out.shape or \
            other.aval.dtype != out.dtype or out.dtype.kind not in "fc":
        return a
    size = int(np.prod(out.shape, dtype=np.int64))
    if size > _SMALL:
        return a
    return Lit(xp.full(out.shape, a.val.item() if hasattr(a.val, "item") else a.val,
                       out.dtype))


def _cse_key(prim, ins, params):
    try:
        k = (prim, tuple(("v", a.id) if isinstance(a, Var) else ("c", id(a.val), _lit_key(a.val))
                         for a in ins), tuple(sorted(params.items())))
        hash(k)
        return k
    except TypeError:
        return None


def _lit_key(v):
    if type(v) in (int, float, bool, complex):
        return (type(v), v)
    return None


def _callable(prim, params, xp):
    if not params and prim.jit_impl is not None:
        return prim.jit_impl(xp)
    if params:
        return functools.partial(prim.impl, **params)
    return prim.impl


# ---------------------------------------------------------------------------------------
# Buffer reuse
# ---------------------------------------------------------------------------------------


def _into(e, xp):
    """Equation ``e``'s implementation in destination-passing style, ``f(*arrays, out)``
    returning ``out``, or None: a NumPy ufunc (called exactly as the graph calls it), or
    the primitive's optional ``jit_into(xp)``."""
    if e.prim.multiple_results:
        return None
    fn = _callable(e.prim, e.params, xp)
    if isinstance(fn, np.ufunc):
        return fn if fn.nout == 1 and fn.nin == len(e.ins) else None
    into = getattr(e.prim, "jit_into", None)
    return into(xp) if into is not None and not e.params else None


def _fresh(e, xp) -> bool:
    """Whether equation ``e`` always returns a newly allocated array that nothing else
    references: a ufunc call without ``out`` (ufuncs always allocate), or a primitive that
    declares ``fresh_result``. 0-d results are NumPy scalars, never reused."""
    if e.prim.multiple_results or not e.outs[0].aval.shape:
        return False
    return getattr(e.prim, "fresh_result", False) or isinstance(
        _callable(e.prim, e.params, xp), np.ufunc)


def _plan_reuse(graph: Graph, donated: frozenset[int]) -> dict[int, int]:
    """Choose the equations that write their result into a dying input's buffer.

    Returns ``{equation index: input position}``. An input ``a`` of equation ``k`` may take
    the result when

    * ``k`` has a destination-passing form (:func:`_into`) and one result;
    * ``a`` is a whole buffer this call owns: the result of a fresh equation (:func:`_fresh`),
      of an equation that wrote in place into such a buffer, or a donated input;
    * ``a`` has the result's exact shape and dtype (no broadcasting, no casting), and
    * no value that may share memory with ``a`` is read after ``k`` or returned.

    Sharing is tracked conservatively, by the buffers each value may view: a fresh result is
    a new buffer; any other equation's results may view every buffer of its inputs (views,
    identities, and whatever else an implementation may return). Everything is decided from
    the primitives' declarations and the static shapes and dtypes, never from the traced
    values' memory layout, which can differ on the next call (a reshape is a view or a copy
    depending on the input's strides). Only NumPy arrays are reused.
    """
    eqns, outs = graph.eqns, graph.outs
    last_use: dict[int, int] = {}
    for k, e in enumerate(eqns):
        for a in e.ins:
            if isinstance(a, Var):
                last_use[a.id] = k
    returned = {o.id for o in outs if isinstance(o, Var)}
    new_buffer = itertools.count()
    views: dict[int, frozenset[int]] = {}  # var id -> buffers it may share memory with
    owns: dict[int, int] = {}  # var id -> the buffer it is the whole of, when this call's
    holders: dict[int, set[int]] = {}  # buffer -> vars still to be read that may view it

    def define(v, bufs, owned=None):
        views[v.id] = bufs
        if owned is not None:
            owns[v.id] = owned
        if v.id in last_use or v.id in returned:
            for b in bufs:
                holders.setdefault(b, set()).add(v.id)

    for p, v in enumerate(graph.invars):
        b = next(new_buffer)
        define(v, frozenset([b]), b if p in donated else None)
    plan: dict[int, int] = {}
    for k, e in enumerate(eqns):
        target = None
        if _into(e, np) is not None:
            out = e.outs[0].aval
            for i, a in enumerate(e.ins):
                b = owns.get(a.id) if isinstance(a, Var) else None
                if b is not None and a.aval.shape == out.shape and \
                        a.aval.dtype == out.dtype and out.shape and \
                        all(last_use.get(h) == k and h not in returned for h in holders[b]):
                    target = plan[k] = i
                    break
        if target is not None:
            b = owns[e.ins[target].id]
            define(e.outs[0], frozenset([b]), b)
        elif _fresh(e, np):
            b = next(new_buffer)
            define(e.outs[0], frozenset([b]), b)
        else:
            bufs = frozenset().union(*(views[a.id] for a in e.ins if isinstance(a, Var)))
            for o in e.outs:
                define(o, bufs)
        for a in e.ins:  # values read for the last time here no longer hold their buffers
            if isinstance(a, Var) and last_use[a.id] == k and a.id not in returned:
                for b in views[a.id]:
                    holders[b].discard(a.id)
    return plan


def _owns_memory(a: np.ndarray) -> bool:
    """Whether ``a`` is the one array owning its memory: NumPy's own, or a block of the
    recycled-buffer pool (whose views have ``a`` as their base)."""
    return a.base is None or type(a.base) is buffers._Owner


def _const_owners(graph: Graph) -> frozenset[int]:
    """``id`` of the arrays owning the memory of the graph's constants (literals, and arrays
    in parameters), which a donated argument must not be."""
    ids = set()

    def visit(v):
        if isinstance(v, np.ndarray):
            ids.add(id(v if _owns_memory(v) else v.base))
        elif isinstance(v, (tuple, list)):
            for x in v:
                visit(x)

    for e in graph.eqns:
        visit([a.val for a in e.ins if isinstance(a, Lit)])
        visit(list(e.params.values()))
    visit([a.val for a in graph.outs if isinstance(a, Lit)])
    return frozenset(ids)


def _claim(flat: list, positions, const_owners) -> list:
    """Make sure each donated argument the compiled code writes into is an array that owns
    its memory and shares it with no other argument nor constant; otherwise write into a
    copy instead (the result is the same)."""
    flat = list(flat)
    for p in positions:
        x = flat[p]
        if not (type(x) is np.ndarray and _owns_memory(x) and x.flags.writeable
                and id(x) not in const_owners
                and all(y is not x and getattr(y, "base", None) is not x
                        for j, y in enumerate(flat) if j != p)):
            flat[p] = np.array(x, copy=True)
    return flat


def _short_dtype(dt) -> str:
    dt = np.dtype(dt)
    return {"f": "f", "i": "i", "u": "u", "b": "bool", "c": "c"}.get(dt.kind, dt.kind) + (
        str(dt.itemsize * 8) if dt.kind != "b" else "")


def _pretty(g: Graph) -> str:
    names: dict[int, str] = {}
    letters = (
        "".join(p) for n in itertools.count(1)
        for p in itertools.product("abcdefghijklmnopqrstuvwxyz", repeat=n))

    def nm(v):
        if v.id not in names:
            names[v.id] = next(letters)
        return names[v.id]

    def typed(v):
        return f"{nm(v)}:{_short_dtype(v.aval.dtype)}{list(v.aval.shape)}"

    def atom(a):
        if isinstance(a, Var):
            return nm(a)
        v = a.val
        if np.ndim(v) == 0:
            return repr(v.item() if hasattr(v, "item") else v)
        return f"const:{_short_dtype(v.dtype)}{list(np.shape(v))}"

    lines = ["{ lambda " + " ".join(typed(v) for v in g.invars) + ". let"]
    for e in g.eqns:
        ps = ", ".join(f"{k}={_fmt_param(v)}" for k, v in e.params.items())
        outs = " ".join(typed(o) for o in e.outs)
        lines.append(f"    {outs} = {e.prim.name}{'[' + ps + ']' if ps else ''} "
                     f"{' '.join(atom(a) for a in e.ins)}")
    lines.append("  in (" + ", ".join(atom(o) for o in g.outs) + ") }")
    return "\n".join(lines)


def _fmt_param(v):
    if isinstance(v, np.dtype):
        return v.name
    return repr(v)


# ---------------------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------------------


def trace_to_graph(fun: Callable, flat_args, in_tree) -> tuple[Graph, list]:
    """Trace ``fun`` on ``flat_args`` (concrete arrays). Returns the graph and the
    captured outer tracers that must be passed after the arguments."""
    with new_trace(GraphTrace) as trace:
        ins = [trace.new_input(x) for x in flat_args]
        out = fun(*tree_unflatten(in_tree, ins))
        out_flat, out_tree = tree_flatten(out)
        outs = []
        for o in out_flat:
            if isinstance(o, Tracer):
                atom, _ = trace._atom(o)
            else:
                atom = Lit(backend.canonicalize(o))
            outs.append(atom)
    invars = [t.var for t in ins] + [v for v, _ in trace.captured]
    graph = Graph(invars, trace.eqns, outs, out_tree)
    return graph, [t for _, t in trace.captured]


def _signature(flat):
    return tuple((type(x), tuple(x.shape), x.dtype) for x in flat)


def _fast_key(args):
    """``(key, leaves)`` for positional arguments made only of dicts, lists, tuples and NumPy
    arrays (else None): the structure, shapes and dtypes, and the x64 switch (it changes what
    Python scalars in the function become), as one flat tuple that hashes and compares in C.
    Leaves are in tree_flatten's order (dict values by sorted key)."""
    parts: list = [backend.config.enable_x64]
    leaves: list = []

    def visit(x) -> bool:
        t = type(x)
        if t is np.ndarray:
            leaves.append(x)
            parts.append(x.shape)
            parts.append(x.dtype)
            return True
        if t is dict:
            keys = _sorted_keys(x)
            parts.append(tuple(keys))
            return all(visit(x[k]) for k in keys)
        if t is list or t is tuple:
            parts.append((t, len(x)))
            return all(visit(v) for v in x)
        return False

    for a in args:
        if not visit(a):
            return None
    return tuple(parts), leaves


def _replay(entry, flat: list):
    graph, run, const_owners = entry
    if graph.donated_written:
        flat = _claim(flat, graph.donated_written, const_owners)
    outs = run(*flat)
    return tree_unflatten(graph.out_tree, [_out(o) for o in outs])


class _Jitted:
    def __init__(self, fun, static_argnums, static_argnames, donate_argnums) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(
            static_argnums)
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) else \
            tuple(static_argnames)
        self.donate_argnums = (donate_argnums,) if isinstance(donate_argnums, int) else \
            tuple(donate_argnums)
        self._cache: OrderedDict = OrderedDict()
        # Calls with positional arguments of plain containers and NumPy arrays, nothing
        # static, skip tree_flatten and the treedef cache key (see _fast_key).
        self._fast: dict = {}
        self._fast_ok = not self.static_argnums and not self.static_argnames

    def _split(self, args, kwargs):
        n = len(args)
        statics = tuple(args[i] for i in self.static_argnums if -n <= i < n)
        sidx = {i % n for i in self.static_argnums if -n <= i < n}
        dyn = tuple(a for i, a in enumerate(args) if i not in sidx)
        skw = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames))
        dkw = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        for s in statics + tuple(v for _, v in skw):
            try:
                hash(s)
            except TypeError:
                raise ValueError(f"jit: static arguments must be hashable, got "
                                 f"{type(s).__name__}") from None
        return statics, sidx, dyn, skw, dkw

    def _rebuild(self, args_len, sidx, statics, skw):
        def f(dyn, dkw):
            it_s, it_d = iter(statics), iter(dyn)
            full = [next(it_s) if i in sidx else next(it_d) for i in range(args_len)]
            return self.fun(*full, **dkw, **dict(skw))

        return f

    def __call__(self, *args, **kwargs):
        fast = _fast_key(args) if self._fast_ok and not kwargs else None
        if fast is not None:
            entry = self._fast.get(fast[0])
            if entry is not None:
                return _replay(entry, fast[1])
        statics, sidx, dyn, skw, dkw = self._split(args, kwargs)
        flat, in_tree = tree_flatten((dyn, dkw))
        if any(isinstance(x, Tracer) for x in flat):
            return self.fun(*args, **kwargs)  # under an outer transform: run the body
        flat = [backend.canonicalize(x) for x in flat]
        key = (in_tree, _signature(flat), statics, skw, len(args), backend.config.enable_x64)
        entry = self._cache.get(key)
        if entry is None:
            f = self._rebuild(len(args), sidx, statics, skw)
            try:
                graph, captured = trace_to_graph(lambda d, k: f(d, k), flat, in_tree)
            except _Fallback:
                return self.fun(*args, **kwargs)
            if captured:  # closed over an enclosing jit's values: inline into it
                return _eval_graph(graph.simplify(), flat + captured)
            graph = graph.simplify()
            run = graph.compile(backend.xp_of(*flat), self._donated(len(args), sidx, dyn))
            entry = (graph, run, graph.donated_written and _const_owners(graph))
            self._cache[key] = entry
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
                self._fast.clear()
        else:
            self._cache.move_to_end(key)
        if fast is not None:
            self._fast[fast[0]] = entry
        return _replay(entry, flat)

    def _donated(self, n: int, sidx, dyn) -> frozenset[int]:
        """Positions in the flat argument list of the leaves of donated arguments."""
        donate = {i % n for i in self.donate_argnums if -n <= i < n} - sidx
        if not donate:
            return frozenset()
        dyn_index = [i for i in range(n) if i not in sidx]  # dyn[j] is argument dyn_index[j]
        out, start = set(), 0
        for j, a in enumerate(dyn):
            size = len(tree_flatten(a)[0])
            if dyn_index[j] in donate:
                out.update(range(start, start + size))
            start += size
        return frozenset(out)

    def lower(self, *args, **kwargs):
        statics, sidx, dyn, skw, dkw = self._split(args, kwargs)
        flat, in_tree = tree_flatten((dyn, dkw))
        flat = [backend.canonicalize(x) for x in flat]
        f = self._rebuild(len(args), sidx, statics, skw)
        graph, _ = trace_to_graph(lambda d, k: f(d, k), flat, in_tree)
        return graph.simplify()

    def clear_cache(self) -> None:
        self._cache.clear()
        self._fast.clear()

    def _cache_size(self) -> int:
        return len(self._cache)


def _out(o):
    if isinstance(o, np.generic):
        return np.asarray(o)
    return o


def _eval_graph(graph: Graph, args):
    """Evaluate a graph with ``bind``, so that any active trace sees each primitive."""
    from funcgrad._src.core import bind

    env = {v.id: a for v, a in zip(graph.invars, args)}

    def read(a):
        return env[a.id] if isinstance(a, Var) else a.val

    for e in graph.eqns:
        out = bind(e.prim, *[read(a) for a in e.ins], **e.params)
        if e.prim.multiple_results:
            for o, v in zip(e.outs, out):
                env[o.id] = v
        else:
            env[e.outs[0].id] = out
    return tree_unflatten(graph.out_tree, [read(o) for o in graph.outs])


def jit(fun: Callable | None = None, *, static_argnums=(), static_argnames=(),
        donate_argnums=()) -> Callable:
    """Compile ``fun``: trace it once per input signature, replay generated code after.

    Args:
        fun: a pure function of pytrees of arrays.
        static_argnums: positional arguments treated as compile-time constants (hashable);
            a new value retraces.
        static_argnames: keyword arguments treated likewise.
        donate_argnums: positional arguments whose array buffers the compiled function may
            overwrite with intermediate results (as in JAX, the caller must not use them,
            nor views of them, after the call: their contents are unspecified). An argument
            that does not own its memory, or shares it with another argument or a constant,
            is copied instead. Arguments not donated are never written.

    Returns:
        The compiled function (usable as a decorator, with or without arguments).

    Side effects such as ``print`` run only while tracing (the first call for a signature),
    as in JAX. Python ``if``/``while`` on a traced value raises ConcretizationTypeError:
    use ``fg.lax.cond`` / ``fg.lax.while_loop`` or ``fnp.where``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.jit
    ... def f(x):
    ...     return fnp.sum(fnp.sin(x) ** 2)
    >>> f(fnp.zeros(3))
    array(0., dtype=float32)
    """
    if fun is None:
        return lambda f: jit(f, static_argnums=static_argnums, static_argnames=static_argnames,
                             donate_argnums=donate_argnums)
    return _Jitted(fun, static_argnums, static_argnames, donate_argnums)


def make_jaxpr(fun: Callable, static_argnums=()) -> Callable:
    """Return a function that traces ``fun`` and returns its graph, printable.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> print(fg.make_jaxpr(lambda x: fnp.sin(x) * 2.0)(fnp.ones(3)))
    { lambda a:f32[3]. let
        b:f32[3] = sin a
        c:f32[3] = multiply b 2.0
      in (c) }
    """
    def traced(*args, **kwargs):
        return _Jitted(fun, static_argnums, (), ()).lower(*args, **kwargs)

    return traced
