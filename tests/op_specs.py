"""The op spec list: one row per public op (``funcgrad.numpy`` function, Tracer method or
operator), in the style of JAX's ``tests/lax_autodiff_test.py``.

A row (:class:`OpSpec`) says how to call the op and what to compare it with:

* ``fn(*arrays, **kwargs)`` — the funcgrad op; ``ref`` the NumPy function with the same
  signature (for Tracer methods and operators ``ref`` is the same lambda run on NumPy
  arrays, and ``fn`` is exercised on traced values);
* ``args`` — one :class:`Dom` (value domain) per positional array argument (``variadic``
  rows repeat the one Dom for however many shapes a case draws);
* ``case`` — a hypothesis strategy of ``(shapes, kwargs)``: argument shapes (broadcasting
  pairs from ``mutually_broadcastable_shapes``) and the static keyword variants (axis and
  keepdims sweeps, target shapes, index expressions, einsum subscripts);
* ``dtypes`` — dtypes for the forward check; gradients are checked in the widest one;
* ``order`` — gradient order checked (0: the op has no gradient; it must give zeros);
* tolerances, and ``primitives``: the primitives the row exercises (the registry audit in
  ``test_ops.py`` checks that every registered primitive is named by some row, and that the
  named primitives really are bound when the row runs).

Values come from :func:`make_args`, from hypothesis (forward check) or from a seeded
generator (gradient and batching checks, where values must keep away from kinks, poles
and ties: ``Dom.avoid``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._src.ops.elementwise import logistic
from funcgrad._src.ops.indexing import getitem

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
C64, C128 = np.dtype(np.complex64), np.dtype(np.complex128)
I32 = np.dtype(np.int32)
FLOATS = (F32, F64)
COMPLEX = (C64, C128)


# ---------------------------------------------------------------------------------------
# Domains and rows
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dom:
    """Domain of one array argument.

    ``kind``: "float" (of the case's dtype), "complex", "bool", "index" (integers in
    ``[low, high)``), "special" (float values including nan and +-inf) or "key" (a PRNG
    key: uint32 words, the last axis of length 2).
    ``avoid``: points (kinks, poles) that values keep at least ``gap`` away from.
    ``axes``: the ``vmap`` in_axes the batching check may use for this argument (``None``:
    any axis or unmapped).
    """

    low: float = -2.0
    high: float = 2.0
    kind: str = "float"
    avoid: tuple[float, ...] = ()
    gap: float = 0.1
    axes: tuple | None = None


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable
    ref: Callable | None
    args: tuple[Dom, ...]
    case: Callable[[], Any]
    primitives: tuple[str, ...]
    dtypes: tuple = FLOATS
    order: int = 2
    variadic: bool = False
    fwd_args: tuple[Dom, ...] | None = None  # wider domain for the forward check
    rtol: dict = field(default_factory=dict)  # forward tolerance per dtype
    grad_tol: float | None = None
    grad_eps: float | None = None
    batchable: bool = True
    method: bool = False  # Tracer method/operator: fn only means funcgrad under a trace
    receiver: bool = False  # vmap: the first argument must be traced (a NumPy array's own
    #                         method would run otherwise)

    def doms(self, n: int, forward: bool = False) -> tuple[Dom, ...]:
        doms = self.fwd_args if (forward and self.fwd_args is not None) else self.args
        return doms * n if self.variadic else doms

    @property
    def grad_dtype(self):
        return C128 if self.dtypes[0].kind == "c" else F64

    def __repr__(self) -> str:  # pytest ids
        return self.name

    def _repr_pretty_(self, p, cycle) -> None:  # hypothesis' falsifying examples
        p.text(f"SPECS[{self.name!r}]")


def fwd_tol(spec: OpSpec, dtype) -> tuple[float, float]:
    dtype = np.dtype(dtype)
    if dtype in spec.rtol:
        t = spec.rtol[dtype]
        return t, t
    if dtype in (F32, C64):
        return 2e-5, 2e-6
    if dtype.kind in "iub":
        return 0.0, 0.0
    return 1e-10, 1e-12


# ---------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------


def _keep_away(v, dom: Dom):
    for c in dom.avoid:
        near = np.abs(v - c) < dom.gap
        v = np.where(near, np.where(v >= c, c + dom.gap, c - dom.gap), v)
    return v


def make_value(dom: Dom, shape, dtype, rng):
    """A value for one argument from a seeded generator."""
    dtype = np.dtype(dtype)
    if dom.kind == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dom.kind == "smallint":  # floats with many repeats (unique, sort ties)
        return np.asarray(rng.integers(0, 4, shape)).astype(dtype)
    if dom.kind == "wellcond":  # (..., n, n) matrices far from singular
        n = shape[-1]
        return np.asarray(rng.uniform(-1.0, 1.0, shape) + 3.0 * np.eye(n)).astype(dtype)
    if dom.kind == "separated":  # (..., n, n), well separated singular values/eigenvalues
        n = shape[-1]
        return np.asarray(0.3 * rng.uniform(-1.0, 1.0, shape) +
                          np.diag(2.0 * np.arange(1, n + 1))).astype(dtype)
    if dom.kind == "key":
        return np.asarray(rng.integers(0, 2**32, shape, dtype=np.uint64), dtype=np.uint32)
    if dom.kind == "index":
        return np.asarray(rng.integers(int(dom.low), int(dom.high), shape), dtype=np.int32)
    if dom.kind == "special":
        vals = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 2.0, 0.25])
        return np.asarray(rng.choice(vals, shape)).astype(dtype)
    if dtype.kind in "iu":
        return np.asarray(rng.integers(int(np.ceil(dom.low)), int(np.floor(dom.high)) + 1,
                                       shape), dtype=dtype)
    v = _keep_away(rng.uniform(dom.low, dom.high, shape), dom)
    if dom.kind == "complex" or dtype.kind == "c":
        v = v + 1j * rng.uniform(dom.low, dom.high, shape)
        if dtype.kind != "c":
            dtype = C128 if dtype == F64 else C64
    return np.asarray(v).astype(dtype)


def draw_value(data, dom: Dom, shape, dtype):
    """A value for one argument drawn by hypothesis (float kinds) or a drawn seed."""
    dtype = np.dtype(dtype)
    if dom.kind == "float" and dtype.kind == "f":
        width = 32 if dtype == F32 else 64
        lo, hi = dom.low, dom.high
        if width == 32:  # bounds must be float32 values: round inwards
            lo = float(np.nextafter(np.float32(lo), np.float32(np.inf))) \
                if float(np.float32(lo)) < lo else float(np.float32(lo))
            hi = float(np.nextafter(np.float32(hi), np.float32(-np.inf))) \
                if float(np.float32(hi)) > hi else float(np.float32(hi))
        elems = st.floats(lo, hi, width=width, allow_nan=False,
                          allow_infinity=False, allow_subnormal=False)
        v = data.draw(hnp.arrays(dtype, shape, elements=elems), label="value")
        return np.asarray(_keep_away(v, dom)).astype(dtype)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return make_value(dom, shape, dtype, np.random.default_rng(seed))


def make_args(spec: OpSpec, shapes, dtype, rng=None, data=None):
    doms = spec.doms(len(shapes), forward=data is not None)
    if data is not None:
        return [draw_value(data, d, s, dtype) for d, s in zip(doms, shapes)]
    return [make_value(d, s, dtype, rng) for d, s in zip(doms, shapes)]


def is_diff_arg(x) -> bool:
    return np.asarray(x).dtype.kind in "fc"


# ---------------------------------------------------------------------------------------
# Shape and keyword strategies
# ---------------------------------------------------------------------------------------


def cases(shapes_st, kwargs_fn=None):
    if kwargs_fn is None:
        return lambda: shapes_st.map(lambda s: (tuple(map(tuple, s)), {}))
    return lambda: shapes_st.flatmap(
        lambda s: kwargs_fn(tuple(map(tuple, s))).map(lambda kw: (tuple(map(tuple, s)), kw)))


def one(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side).map(lambda s: (s,))


def bcast(n, min_dims=0, max_dims=3, max_side=4):
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(
        lambda r: r.input_shapes)


def same(n, min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side).map(lambda s: (s,) * n)


def axes_st(nd, allow_none=True, allow_tuple=True, allow_empty=False):
    opts = [st.none()] if allow_none else []
    if nd:
        opts.append(st.integers(-nd, nd - 1))
        if allow_tuple:
            opts.append(st.lists(st.integers(-nd, nd - 1), min_size=0 if allow_empty else 1,
                                 max_size=nd, unique_by=lambda a: a % nd).map(tuple))
    return st.one_of(*opts)


def reduce_kw(allow_tuple=True, allow_empty=False, extra=None):
    def f(shapes):
        d = {"axis": axes_st(len(shapes[0]), allow_tuple=allow_tuple, allow_empty=allow_empty),
             "keepdims": st.booleans()}
        d.update(extra or {})
        return st.fixed_dictionaries(d)

    return f


# ---------------------------------------------------------------------------------------
# Row builders
# ---------------------------------------------------------------------------------------

SPECS: list[OpSpec] = []


def row(name, fn, ref, args, case, primitives, **kw) -> OpSpec:
    spec = OpSpec(name, fn, ref, tuple(args), case, tuple(primitives), **kw)
    SPECS.append(spec)
    return spec


def unary(name, prim=None, dom=Dom(), order=2, dtypes=FLOATS, ref=None, fn=None, **kw):
    fn = fn or getattr(fnp, name)
    ref = ref or getattr(np, name)
    prims = (prim or name,) if prim != () else ()
    return row(name, fn, ref, [dom], cases(one()), prims, order=order, dtypes=dtypes, **kw)


def binary(name, prim=None, doms=(Dom(), Dom()), order=2, dtypes=FLOATS, ref=None, fn=None,
           **kw):
    fn = fn or getattr(fnp, name)
    ref = ref or getattr(np, name)
    prims = (prim or name, "broadcast_to")
    return row(name, fn, ref, list(doms), cases(bcast(2)), prims, order=order, dtypes=dtypes,
               **kw)


# --- elementwise unary, differentiable --------------------------------------------------

POS = Dom(0.1, 3.0)
UNIT = Dom(-0.9, 0.9)
NONZERO = Dom(-2.0, 2.0, avoid=(0.0,), gap=0.3)

unary("sin")
unary("cos")
unary("tan", dom=Dom(-1.3, 1.3))
unary("arcsin", dom=UNIT)
unary("arccos", dom=UNIT)
unary("arctan")
unary("sinh")
unary("cosh")
unary("tanh")
unary("arcsinh")
unary("arccosh", dom=Dom(1.1, 3.0))
unary("arctanh", dom=UNIT)
unary("exp")
unary("exp2")
unary("expm1")
unary("log", dom=POS)
unary("log2", dom=POS)
unary("log10", dom=POS)
unary("log1p", dom=Dom(-0.9, 2.0))
unary("sqrt", dom=POS)
unary("cbrt", dom=NONZERO)
unary("square", dtypes=FLOATS + (I32,))
unary("reciprocal", dom=NONZERO)
unary("absolute", prim="abs", dom=Dom(avoid=(0.0,), gap=0.05), dtypes=FLOATS + (I32,))
unary("negative", dtypes=FLOATS + (I32,))
unary("positive", prim=(), dtypes=FLOATS + (I32,))
unary("logistic", fn=logistic, ref=lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype),
      rtol={F32: 1e-5, F64: 1e-12})
row("clip", fnp.clip, np.clip, [Dom(-3.0, 3.0), Dom(-2.0, -0.5), Dom(0.5, 2.0)],
    cases(bcast(3)), ("maximum", "minimum", "broadcast_to"))
row("clip_scalar_bounds", lambda x: fnp.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
    [Dom(avoid=(-0.5, 0.5), gap=0.05)], cases(one()), ("maximum", "minimum"))
row("clip_one_sided", lambda x: fnp.clip(x, None, 0.5), lambda x: np.clip(x, None, 0.5),
    [Dom(avoid=(0.5,), gap=0.05)], cases(one()), ("minimum",))

# --- elementwise unary, no gradient ----------------------------------------------------

for _n in ("sign", "floor", "ceil", "rint", "trunc"):
    unary(_n, order=0, dom=Dom(-3.0, 3.0, avoid=(-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5),
                                 gap=0.01))
unary("round", prim="rint", order=0, ref=np.round,
      dom=Dom(-3.0, 3.0, avoid=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5), gap=0.01))
for _n in ("isfinite", "isnan", "isinf"):
    unary(_n, order=0, dom=Dom(kind="special"))
unary("logical_not", order=0, dom=Dom(kind="bool"))

# --- elementwise binary ----------------------------------------------------------------

binary("add", dtypes=FLOATS + (I32,))
binary("subtract", dtypes=FLOATS + (I32,))
binary("multiply", dtypes=FLOATS + (I32,))
binary("divide", doms=(Dom(), NONZERO))
binary("true_divide", prim="divide", doms=(Dom(), NONZERO))
binary("power", doms=(Dom(0.5, 2.0), Dom(-2.0, 2.0)))
binary("maximum", dtypes=FLOATS + (I32,))
binary("minimum", dtypes=FLOATS + (I32,))
binary("arctan2", doms=(NONZERO, Dom()))
# Away from the jumps of x mod y (floor(x / y) == 1 throughout) for the gradient check.
binary("remainder", doms=(Dom(1.3, 1.9), Dom(1.0, 1.2)),
       fwd_args=(Dom(-3.0, 3.0), Dom(0.5, 2.0)), rtol={F32: 1e-5})
binary("mod", prim="remainder", doms=(Dom(1.3, 1.9), Dom(1.0, 1.2)),
       fwd_args=(Dom(-3.0, 3.0), Dom(-2.0, -0.5)), rtol={F32: 1e-5})
binary("floor_divide", doms=(Dom(-3.0, 3.0), Dom(0.5, 2.0)), order=0,
       dtypes=FLOATS + (I32,))
for _n in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    binary(_n, order=0, dtypes=FLOATS + (I32,))
for _n in ("logical_and", "logical_or", "logical_xor"):
    binary(_n, order=0, doms=(Dom(kind="bool"), Dom(kind="bool")))
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    binary(_n, order=0, doms=(Dom(kind="bool"), Dom(kind="bool")))
    binary(f"{_n}_int", prim=_n, fn=getattr(fnp, _n), ref=getattr(np, _n), order=0,
           dtypes=(I32,), doms=(Dom(-5.0, 5.0), Dom(-5.0, 5.0)))
unary("invert", order=0, dom=Dom(kind="bool"))

# integer powers: x ** n with a static Python int n
row("integer_pow", lambda x, *, n: fnp.power(x, n), lambda x, *, n: np.power(x, n),
    [Dom(-2.0, 2.0, avoid=(0.0,), gap=0.3)],
    cases(one(), lambda s: st.fixed_dictionaries({"n": st.sampled_from([0, 1, 2, 3, -1, -2])})),
    ("integer_pow",))

row("where", fnp.where, np.where, [Dom(kind="bool"), Dom(), Dom()], cases(bcast(3)),
    ("select", "broadcast_to"))
row("where_scalar_branch", lambda c, x: fnp.where(c, x, 0.0),
    lambda c, x: np.where(c, x, x.dtype.type(0)), [Dom(kind="bool"), Dom()], cases(bcast(2)),
    ("select",))

# --- operators and methods on traced values --------------------------------------------


def method(name, fn, args, case, prims, **kw):
    return row(name, fn, fn, args, case, prims, method=True, **kw)


for _n, _op, _doms, _p, _o in [
        ("op_add", operator.add, (Dom(), Dom()), "add", 2),
        ("op_sub", operator.sub, (Dom(), Dom()), "subtract", 2),
        ("op_mul", operator.mul, (Dom(), Dom()), "multiply", 2),
        ("op_truediv", operator.truediv, (Dom(), NONZERO), "divide", 2),
        ("op_pow", operator.pow, (Dom(0.5, 2.0), Dom()), "power", 2),
        ("op_mod", operator.mod, (Dom(1.3, 1.9), Dom(1.0, 1.2)), "remainder", 2),
        ("op_floordiv", operator.floordiv, (Dom(), Dom(0.5, 2.0)), "floor_divide", 0),
        ("op_eq", operator.eq, (Dom(), Dom()), "equal", 0),
        ("op_ne", operator.ne, (Dom(), Dom()), "not_equal", 0),
        ("op_lt", operator.lt, (Dom(), Dom()), "less", 0),
        ("op_le", operator.le, (Dom(), Dom()), "less_equal", 0),
        ("op_gt", operator.gt, (Dom(), Dom()), "greater", 0),
        ("op_ge", operator.ge, (Dom(), Dom()), "greater_equal", 0)]:
    method(_n, _op, _doms, cases(bcast(2)), (_p, "broadcast_to"), order=_o)
for _n, _op, _p in [("op_and", operator.and_, "logical_and"),
                    ("op_or", operator.or_, "logical_or"),
                    ("op_xor", operator.xor, "logical_xor")]:
    # receiver: a tracer on the left; NumPy bool array & tracer goes through np.bitwise_and
    # and funcgrad.numpy.bitwise_and (test_transforms.py::test_numpy_bool_array_and_tracer)
    method(_n, _op, (Dom(kind="bool"), Dom(kind="bool")), cases(bcast(2)), (_p,), order=0,
           receiver=True)
method("op_invert", operator.invert, [Dom(kind="bool")], cases(one()), ("logical_not",),
       order=0)
method("op_neg", operator.neg, [Dom()], cases(one()), ("negative",))
method("op_pos", operator.pos, [Dom()], cases(one()), ())
method("op_abs", operator.abs, [Dom(avoid=(0.0,), gap=0.05)], cases(one()), ("abs",))
method("op_square", lambda x: x ** 2, [Dom()], cases(one()), ("integer_pow",))
method("op_cube", lambda x: x ** 3, [Dom()], cases(one()), ("integer_pow",))
method("op_scalar_arith", lambda x: (2.5 - x) * 3.0 + 1.0 / (x + 4.0) - x / 2.0,
       [Dom()], cases(one()), ("subtract", "multiply", "add", "divide"))
method("op_rpow", lambda x: 2.0 ** x, [Dom()], cases(one()), ("power",))
method("op_float_pow", lambda x: x ** 0.5, [POS], cases(one()), ("power",))
method("op_rmod", lambda x: 1.9 % x, [Dom(1.0, 1.2)], cases(one()), ("remainder",),
       fwd_args=(Dom(0.3, 2.0),))
method("op_rfloordiv", lambda x: 3.0 // x, [Dom(0.5, 2.0)], cases(one()), ("floor_divide",),
       order=0)
method("op_scalar_compare", lambda x: (x > 0.5) & (0.0 < x) | (x == 1.0),
       [Dom()], cases(one()), ("greater", "equal", "logical_and", "logical_or"),
       order=0)
method("method_clip", lambda x: x.clip(-0.5, 0.5), [Dom(avoid=(-0.5, 0.5), gap=0.05)],
       cases(one()), ("maximum", "minimum"))

# --- complex parts ---------------------------------------------------------------------

CPLX = Dom(kind="complex")
unary("real", dom=CPLX, dtypes=COMPLEX)
row("real_of_real", fnp.real, np.real, [Dom()], cases(one()), ("real",))
unary("conj", dom=CPLX, dtypes=COMPLEX)
unary("conjugate", prim="conj", dom=CPLX, dtypes=COMPLEX)
method("method_real", lambda z: z.real, [CPLX], cases(one()), ("real",), dtypes=COMPLEX)
method("method_conj", lambda z: z.conj(), [CPLX], cases(one()), ("conj",), dtypes=COMPLEX)
method("method_conjugate", lambda z: z.conjugate(), [CPLX], cases(one()), ("conj",),
       dtypes=COMPLEX)
row("complex_arith", lambda z, w: fnp.real(z * fnp.conj(w) + z / (w + 3.0)),
    lambda z, w: np.real(z * np.conj(w) + z / (w + 3.0)), [CPLX, CPLX], cases(bcast(2)),
    ("multiply", "conj", "add", "divide", "real"), dtypes=COMPLEX, rtol={C64: 1e-5})

# --- dtype conversion, stop_gradient, creation-like ops on traced values ---------------

method("astype_float", lambda x, *, dtype: x.astype(dtype), [Dom()],
       cases(one(), lambda s: st.fixed_dictionaries({"dtype": st.sampled_from(FLOATS)})),
       ("convert_element_type",), grad_tol=1e-3, grad_eps=1e-2, rtol={F32: 1e-6})
method("astype_complex", lambda x: x.astype(C128), [Dom()], cases(one()),
       ("convert_element_type",))
method("astype_int", lambda x: x.astype(np.int32), [Dom(-3.0, 3.0, avoid=(-2, -1, 0, 1, 2),
                                                         gap=0.01)],
       cases(one()), ("convert_element_type",), order=0)
row("stop_gradient", fg.stop_gradient, lambda x: x, [Dom()], cases(one()), ("stop_gradient",),
    order=0)
row("zeros_like", fnp.zeros_like, np.zeros_like, [Dom()], cases(one()), (), order=0)
row("ones_like", fnp.ones_like, np.ones_like, [Dom()], cases(one()), (), order=0)
row("full_like", lambda x: fnp.full_like(x, 3.0), lambda x: np.full_like(x, 3.0), [Dom()],
    cases(one()), (), order=0)
row("asarray", fnp.asarray, np.asarray, [Dom()], cases(one()), ())
row("array_of_tracers", lambda x, y: fnp.array([x, y]), lambda x, y: np.array([x, y]),
    [Dom(), Dom()], cases(same(2)), ("reshape", "concatenate"))

# --- reductions ------------------------------------------------------------------------

row("sum", fnp.sum, np.sum, [Dom()], cases(one(), reduce_kw(allow_empty=True)), ("sum",),
    dtypes=FLOATS + (I32,))
row("mean", fnp.mean, np.mean, [Dom()], cases(one(), reduce_kw()), ("sum", "divide"))
row("var", fnp.var, np.var, [Dom()],
    cases(one(min_dims=1, min_side=2), reduce_kw(extra={"ddof": st.sampled_from([0, 1])})),
    ("sum", "subtract", "divide", "square"), rtol={F32: 1e-4, F64: 1e-9})
row("std", fnp.std, np.std, [Dom()],
    cases(one(min_dims=1, min_side=2), reduce_kw(extra={"ddof": st.sampled_from([0, 1])})),
    ("sum", "subtract", "divide", "sqrt"), rtol={F32: 1e-4, F64: 1e-9})
for _n, _p in (("max", "max"), ("min", "min"), ("amax", "max"), ("amin", "min")):
    row(_n, getattr(fnp, _n), getattr(np, _n), [Dom()], cases(one(), reduce_kw()), (_p,),
        dtypes=FLOATS + (I32,))
for _n in ("argmax", "argmin"):
    row(_n, getattr(fnp, _n), getattr(np, _n), [Dom()],
        cases(one(), reduce_kw(allow_tuple=False)), (_n,), order=0)
for _n in ("all", "any"):
    row(_n, getattr(fnp, _n), getattr(np, _n), [Dom(kind="bool")],
        cases(one(), reduce_kw()), ("not_equal", "equal", "min" if _n == "all" else "max"),
        order=0)
    row(_n + "_of_floats", getattr(fnp, _n), getattr(np, _n), [Dom(-1.0, 1.0)],
        cases(one(), reduce_kw()), ("not_equal",), order=0)
for _n in ("sum", "mean", "max", "min"):
    method("method_" + _n, lambda x, _n=_n, **kw: getattr(x, _n)(**kw), [Dom()],
           cases(one(), reduce_kw()), {"mean": ("sum", "divide")}.get(_n, (_n,)))
for _n in ("var", "std"):
    method("method_" + _n, lambda x, _n=_n, **kw: getattr(x, _n)(**kw), [Dom()],
           cases(one(min_dims=1, min_side=2), reduce_kw()), ("sum", "divide"),
           rtol={F32: 1e-4, F64: 1e-9})
for _n in ("argmax", "argmin"):
    method("method_" + _n, lambda x, _n=_n, **kw: getattr(x, _n)(**kw), [Dom()],
           cases(one(), reduce_kw(allow_tuple=False)), (_n,), order=0)
for _n in ("all", "any"):
    method("method_" + _n, lambda x, _n=_n, **kw: getattr(x > 0, _n)(**kw), [Dom()],
           cases(one(), reduce_kw()), ("greater",), order=0)

# --- shape ops -------------------------------------------------------------------------


def _reshape_targets(shapes):
    (s,) = shapes
    size = int(np.prod(s, dtype=np.int64))
    opts = [(-1,), (size,), (1, -1), tuple(s[::-1]), (1,) + tuple(s), (size, 1), ()]
    if len(s) >= 1:
        opts.append((-1, s[-1]))
    opts = [o for o in opts if o != () or size == 1]
    return st.fixed_dictionaries({"shape": st.sampled_from(opts)})


row("reshape", fnp.reshape, np.reshape, [Dom()], cases(one(), _reshape_targets),
    ("reshape",), dtypes=FLOATS + (I32,))
method("method_reshape", lambda x, *, shape: x.reshape(shape), [Dom()],
       cases(one(), _reshape_targets), ("reshape",))
method("method_reshape_varargs", lambda x, *, shape: x.reshape(*shape), [Dom()],
       cases(one(), lambda s: _reshape_targets(s).filter(lambda k: k["shape"] != ())),
       ("reshape",))
row("ravel", fnp.ravel, np.ravel, [Dom()], cases(one(min_dims=2)), ("reshape",))
method("method_ravel", lambda x: x.ravel(), [Dom()], cases(one(min_dims=2)), ("reshape",))
method("method_flatten", lambda x: x.flatten(), [Dom()], cases(one(min_dims=2)), ("reshape",))


def _expand_axes(shapes):
    nd = len(shapes[0])
    return st.fixed_dictionaries({"axis": st.one_of(
        st.integers(-(nd + 1), nd),
        st.lists(st.integers(0, nd + 1), min_size=1, max_size=2, unique=True).map(tuple)
        .filter(lambda t: max(t) < nd + len(t)))})


row("expand_dims", fnp.expand_dims, np.expand_dims, [Dom()], cases(one(), _expand_axes),
    ("reshape",))

_ones_shapes = st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=4).map(
    lambda s: (tuple(s),))


def _squeeze_axes(shapes):
    ones_at = [i for i, d in enumerate(shapes[0]) if d == 1]
    opts = [st.none()]
    if ones_at:
        opts.append(st.sampled_from(ones_at))
        opts.append(st.lists(st.sampled_from(ones_at), min_size=1, unique=True).map(tuple))
    return st.fixed_dictionaries({"axis": st.one_of(*opts)})


row("squeeze", fnp.squeeze, np.squeeze, [Dom()], cases(_ones_shapes, _squeeze_axes),
    ("reshape",))
method("method_squeeze", lambda x, **kw: x.squeeze(**kw), [Dom()],
       cases(_ones_shapes, _squeeze_axes), ("reshape",))


def _perm(shapes):
    nd = len(shapes[0])
    return st.fixed_dictionaries({"axes": st.one_of(st.none(),
                                                    st.permutations(range(nd)).map(tuple))})


row("transpose", fnp.transpose, np.transpose, [Dom()], cases(one(min_dims=1), _perm),
    ("transpose",))
method("method_T", lambda x: x.T, [Dom()], cases(one(min_dims=2)), ("transpose",))
method("method_mT", lambda x: x.mT, [Dom()], cases(one(min_dims=2)), ("transpose",))
method("method_transpose_varargs", lambda x, *, axes: x.transpose(*(axes or ())), [Dom()],
       cases(one(min_dims=2), _perm), ("transpose",))
method("method_transpose_tuple", lambda x, *, axes: x.transpose(axes), [Dom()],
       cases(one(min_dims=2), _perm), ("transpose",))


def _two_axes(names):
    def f(shapes):
        nd = len(shapes[0])
        return st.fixed_dictionaries({n: st.integers(-nd, nd - 1) for n in names})

    return f


row("moveaxis", fnp.moveaxis, np.moveaxis, [Dom()],
    cases(one(min_dims=1), _two_axes(("source", "destination"))), ("transpose",))
row("moveaxis_multi", lambda x: fnp.moveaxis(x, (0, 1), (-1, 0)),
    lambda x: np.moveaxis(x, (0, 1), (-1, 0)), [Dom()], cases(one(min_dims=3)), ("transpose",))
row("swapaxes", fnp.swapaxes, np.swapaxes, [Dom()],
    cases(one(min_dims=1), _two_axes(("axis1", "axis2"))), ("transpose",))
method("method_swapaxes", lambda x, **kw: x.swapaxes(kw["axis1"], kw["axis2"]), [Dom()],
       cases(one(min_dims=1), _two_axes(("axis1", "axis2"))), ("transpose",))


@st.composite
def _bcast_target(draw):
    s = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    tgt = tuple(lead) + tuple(draw(st.integers(1, 3)) if d == 1 else d for d in s)
    return (s,), {"shape": tgt}


row("broadcast_to", fnp.broadcast_to, np.broadcast_to, [Dom()], lambda: _bcast_target(),
    ("broadcast_to",))
row("broadcast_arrays", lambda x, y: fnp.broadcast_arrays(x, y),
    lambda x, y: list(np.broadcast_arrays(x, y)), [Dom(), Dom()], cases(bcast(2)),
    ("broadcast_to",))


@st.composite
def _concat_case(draw, none_axis=True):
    s = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    nd = len(s)
    axis = draw(st.integers(-nd, nd - 1) | (st.none() if none_axis else st.nothing()))
    n = draw(st.integers(1, 3))
    shapes = []
    for _ in range(n):
        t = list(s)
        if axis is not None:
            t[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(t))
    return tuple(shapes), {"axis": axis}


row("concatenate", lambda *xs, axis: fnp.concatenate(xs, axis=axis),
    lambda *xs, axis: np.concatenate(xs, axis=axis), [Dom()], lambda: _concat_case(),
    ("concatenate",), variadic=True)


@st.composite
def _stack_case(draw):
    s = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    n = draw(st.integers(1, 3))
    axis = draw(st.integers(-(len(s) + 1), len(s)))
    return (s,) * n, {"axis": axis}


row("stack", lambda *xs, axis: fnp.stack(xs, axis=axis),
    lambda *xs, axis: np.stack(xs, axis=axis), [Dom()], lambda: _stack_case(),
    ("reshape", "concatenate"), variadic=True)


@st.composite
def _unstack_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    return (s,), {"axis": draw(st.integers(-len(s), len(s) - 1))}


row("unstack", lambda x, axis: fnp.unstack(x, axis=axis),
    lambda x, axis: tuple(np.moveaxis(x, axis, 0)), [Dom()], lambda: _unstack_case(),
    ("unstack",))


@st.composite
def _hv_case(draw, which):
    nd = draw(st.integers(1, 2))
    n = draw(st.integers(2, 3))
    other = draw(st.integers(1, 3))
    if which == "h":
        shapes = [(draw(st.integers(1, 3)),) if nd == 1 else (other, draw(st.integers(1, 3)))
                  for _ in range(n)]
    else:
        shapes = [(other,) if nd == 1 else (draw(st.integers(1, 3)), other) for _ in range(n)]
    return tuple(shapes), {}


row("hstack", lambda *xs: fnp.hstack(xs), lambda *xs: np.hstack(xs), [Dom()],
    lambda: _hv_case("h"), ("concatenate",), variadic=True)
row("vstack", lambda *xs: fnp.vstack(xs), lambda *xs: np.vstack(xs), [Dom()],
    lambda: _hv_case("v"), ("concatenate",), variadic=True)


def _flip_axes(shapes):
    return st.fixed_dictionaries({"axis": axes_st(len(shapes[0]))})


row("flip", fnp.flip, np.flip, [Dom()], cases(one(), _flip_axes), ("flip",))

# --- indexing --------------------------------------------------------------------------

_E = Ellipsis


def _basic_index(shapes):
    nd = len(shapes[0])
    opts = [0, -1, slice(1, None), slice(None, None, -1), (_E, 0), (None, _E),
            (slice(None, None, 2),), (_E, None), (slice(-1, 0, -1),), ()]
    if nd >= 2:
        opts += [(slice(None), 1), (_E, slice(0, 1), None), (-1, slice(None, None, -2)),
                 (1, 0), (None, 0, None, slice(1, None))]
    if nd >= 3:
        opts += [(0, _E, 1), (slice(None), None, 0, slice(None, None, -1))]
    return st.fixed_dictionaries({"idx": st.sampled_from(opts)})


method("getitem_basic", lambda x, *, idx: x[idx], [Dom()],
       cases(one(min_dims=1, min_side=2), _basic_index), ("slice", "slice_add"))


@st.composite
def _adv_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    nd = len(s)
    a = np.array
    opts = [a([0, 1, 0]), [1, 1, 0], a([[0, 1], [1, 1]]), (_E, a([0, 0, 1])), (a([1, 0]), _E),
            (None, a([1, 0, 1])), a(1)]
    if nd >= 2:
        opts += [(slice(None), a([1, 1, 0])), (a([1, 0]), 0), (a([0, 1, 1]), a([1, 1, 1])),
                 (slice(None, None, -1), a([[1], [0]])), (0, a([1, 1]))]
    if nd >= 3:
        opts += [(a([0, 1]), slice(None), a([1, 0])),
                 (slice(None), a([[0, 1], [1, 1]]), a([0, 1])),
                 (a([1, 1]), 0, a([0, 1])), (slice(None), 1, a([0, 0, 1]))]
    idx = draw(st.sampled_from(opts))
    return (s,), {"idx": idx}


method("getitem_advanced", lambda x, *, idx: x[idx], [Dom()], lambda: _adv_case(),
       ("gather", "scatter_add"))


@st.composite
def _mask_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    k = draw(st.integers(1, len(s)))
    mask = draw(hnp.arrays(np.bool_, s[:k]))
    return (s,), {"idx": mask}


method("getitem_mask", lambda x, *, idx: x[idx], [Dom()], lambda: _mask_case(),
       ("gather", "scatter_add"))


@st.composite
def _traced_index_case(draw, where):
    rest = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    ishape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    if where == "front":
        return ((4,) + tuple(rest), ishape), {}
    return ((2,) + (4,) + tuple(rest), ishape), {}


IDX4 = Dom(0, 4, kind="index")
# ``Tracer.__getitem__`` itself (a NumPy array indexed by a traced index is NumPy's business)
row("getitem_traced_index", lambda x, i: getitem(x, i), lambda x, i: x[i], [Dom(), IDX4],
    lambda: _traced_index_case("front"), ("gather", "scatter_add"))
row("getitem_traced_index_axis1", lambda x, i: getitem(x, (slice(None), i)),
    lambda x, i: x[:, i], [Dom(), IDX4], lambda: _traced_index_case("axis1"),
    ("gather", "scatter_add"))


@st.composite
def _take_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    axis = draw(st.none() | st.integers(-len(s), len(s) - 1))
    n = int(np.prod(s)) if axis is None else s[axis]
    idx = np.asarray(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
    return (s,), {"indices": idx, "axis": axis}


row("take", fnp.take, np.take, [Dom()], lambda: _take_case(), ("gather", "scatter_add"))


@st.composite
def _tala_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    axis = draw(st.integers(-len(s), len(s) - 1))
    ishape = list(s)
    ishape[axis] = draw(st.integers(1, 3))
    return (s, tuple(ishape)), {"axis": axis}


row("take_along_axis", fnp.take_along_axis, np.take_along_axis, [Dom(), Dom(0, 2, "index")],
    lambda: _tala_case(), ("gather", "scatter_add"))
row("nonzero", fnp.nonzero, np.nonzero, [Dom(-1, 2, "index")], cases(one(min_dims=1)), (),
    order=0, batchable=False, dtypes=(I32,))

# --- products --------------------------------------------------------------------------

_MATMUL_FORMS = {
    "vv": lambda n, k, m: ((k,), (k,)),
    "mv": lambda n, k, m: ((n, k), (k,)),
    "vm": lambda n, k, m: ((k,), (k, m)),
    "mm": lambda n, k, m: ((n, k), (k, m)),
    "bm": lambda n, k, m: ((2, n, k), (k, m)),
    "mb": lambda n, k, m: ((n, k), (3, k, m)),
    "bb": lambda n, k, m: ((2, n, k), (2, k, m)),
    "bv": lambda n, k, m: ((2, n, k), (k,)),
    "vb": lambda n, k, m: ((k,), (2, k, m)),
    "bcast": lambda n, k, m: ((2, 1, n, k), (3, k, m)),
}
_DOT_FORMS = dict(_MATMUL_FORMS)
del _DOT_FORMS["bb"], _DOT_FORMS["bcast"]
_DOT_FORMS.update({"sm": lambda n, k, m: ((), (n, k)), "ms": lambda n, k, m: ((n, k), ()),
                   "nd": lambda n, k, m: ((2, n, k), (3, k, m))})


def _product_shapes(forms):
    return st.tuples(st.sampled_from(sorted(forms)), st.integers(1, 3), st.integers(1, 3),
                     st.integers(1, 3)).map(lambda t: forms[t[0]](*t[1:]))


_PROD_TOL = {F32: 1e-5, F64: 1e-12}
row("matmul", fnp.matmul, np.matmul, [Dom(), Dom()], cases(_product_shapes(_MATMUL_FORMS)),
    ("matmul", "reshape"), rtol=_PROD_TOL)
method("op_matmul", operator.matmul, [Dom(), Dom()], cases(_product_shapes(_MATMUL_FORMS)),
       ("matmul",), rtol=_PROD_TOL)
row("dot", fnp.dot, np.dot, [Dom(), Dom()], cases(_product_shapes(_DOT_FORMS)),
    ("matmul", "multiply", "einsum"), rtol=_PROD_TOL)
method("method_dot", lambda x, y: x.dot(y), [Dom(), Dom()],
       cases(_product_shapes({k: _MATMUL_FORMS[k] for k in ("mm", "mv", "vv")})),
       ("matmul",), rtol=_PROD_TOL, receiver=True)
row("vdot", fnp.vdot, np.vdot, [Dom(), Dom()], cases(same(2)), ("reshape", "matmul"),
    rtol=_PROD_TOL)
row("vdot_complex", fnp.vdot, np.vdot, [CPLX, CPLX], cases(same(2)), ("conj", "matmul"),
    dtypes=COMPLEX, rtol={C64: 1e-5, C128: 1e-12})
row("inner", fnp.inner, np.inner, [Dom(), Dom()],
    cases(st.tuples(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                    hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), st.integers(1, 3))
          .map(lambda t: (t[0] + (t[2],), t[1] + (t[2],)) if t[0] or t[1] else ((), ()))),
    ("einsum",), rtol=_PROD_TOL)
row("outer", fnp.outer, np.outer, [Dom(), Dom()],
    cases(st.tuples(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                    hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))),
    ("multiply", "reshape", "broadcast_to"), rtol=_PROD_TOL)


@st.composite
def _tensordot_case(draw):
    forms = [(((2, 3), (3, 4)), 1), (((2, 3, 4), (3, 4, 2)), 2), (((2, 3), (4,)), 0),
             (((3, 2), (3, 4)), ([0], [0])), (((2, 3, 4), (4, 2, 3)), ([1, 2], [2, 0])),
             (((2, 3), (2, 3)), 2), (((2, 3, 2), (2, 3)), (-1, 0))]
    shapes, axes = draw(st.sampled_from(forms))
    return shapes, {"axes": axes}


row("tensordot", fnp.tensordot, np.tensordot, [Dom(), Dom()], lambda: _tensordot_case(),
    ("einsum",), rtol=_PROD_TOL)

_EINSUMS = [
    ("ij,jk->ik", "ij", "jk"), ("ij->ji", "ij"), ("ij->", "ij"), ("i,i->", "i", "i"),
    ("bij,bjk->bik", "bij", "bjk"), ("ij,j", "ij", "j"), ("i,j->ij", "i", "j"),
    ("ijk->kj", "ijk"), ("ij,ij,ij->i", "ij", "ij", "ij"), ("ij,jk,kl->il", "ij", "jk", "kl"),
    ("ij->j", "ij"), ("i,jk->ijk", "i", "jk"), ("ij,i->ij", "ij", "i"),
    ("...ij,...jk->...ik", "bij", "bjk"), ("...i,i->...", "bci", "i"), ("i...->...", "ibc"),
]


@st.composite
def _einsum_case(draw):
    sub, *ops = draw(st.sampled_from(_EINSUMS))
    sizes = {c: draw(st.integers(1, 3)) for c in sorted(set("".join(ops)))}
    return tuple(tuple(sizes[c] for c in o) for o in ops), {"subscripts": sub}


row("einsum", lambda *ops, subscripts: fnp.einsum(subscripts, *ops),
    lambda *ops, subscripts: np.einsum(subscripts, *ops), [Dom()], lambda: _einsum_case(),
    ("einsum",), variadic=True, rtol=_PROD_TOL)


# --- special functions (funcgrad.numpy.logaddexp*, funcgrad.scipy.special) -------------

try:
    import scipy.special as _sc

    import funcgrad.scipy.special as fsp
except ImportError:  # pragma: no cover - SciPy is a dev dependency
    _sc = None

if _sc is not None:
    def _keep(f):  # SciPy may compute in float64; funcgrad keeps the input's float type
        return lambda *xs, **kw: np.asarray(f(*xs, **kw)).astype(np.result_type(*xs))

    _SPECIAL_TOL = {F32: 2e-5, F64: 1e-10}
    binary("logaddexp", rtol=_SPECIAL_TOL)
    binary("logaddexp2", rtol=_SPECIAL_TOL)
    for _n, _dom, _p in [("erf", Dom(), "erf"), ("erfc", Dom(), "erfc"),
                         ("erfinv", UNIT, "erfinv"), ("ndtri", Dom(0.05, 0.95), "ndtri"),
                         ("log_ndtr", Dom(-5.0, 3.0), "log_ndtr"),
                         ("gammaln", Dom(0.5, 4.0), "lgamma"),
                         ("digamma", Dom(0.5, 4.0), "digamma"), ("entr", POS, "entr"),
                         ("logit", Dom(0.05, 0.95), "logit"), ("expit", Dom(), "logistic"),
                         ("ndtr", Dom(), "erfc")]:
        row(_n, getattr(fsp, _n), _keep(getattr(_sc, _n)), [_dom], cases(one()), (_p,),
            rtol=_SPECIAL_TOL)
    row("polygamma", lambda x, *, n: fsp.polygamma(n, x),
        lambda x, *, n: _keep(_sc.polygamma)(np.asarray(n), x).astype(x.dtype),
        [Dom(0.5, 4.0)],
        cases(one(), lambda s: st.fixed_dictionaries({"n": st.sampled_from([0, 1, 2])})),
        ("polygamma", "digamma"), rtol=_SPECIAL_TOL)
    for _n, _doms in [("xlogy", (Dom(), POS)), ("xlog1py", (Dom(), Dom(-0.9, 2.0)))]:
        row(_n, getattr(fsp, _n), _keep(getattr(_sc, _n)), _doms, cases(bcast(2)),
            (_n, "broadcast_to"), rtol=_SPECIAL_TOL)
    row("betaln", fsp.betaln, _keep(_sc.betaln), [Dom(0.5, 3.0), Dom(0.5, 3.0)],
        cases(bcast(2)), ("lgamma",), rtol={F32: 1e-4, F64: 1e-9})
    for _n in ("logsumexp", "softmax", "log_softmax"):
        _kw = reduce_kw() if _n == "logsumexp" else (
            lambda s: st.fixed_dictionaries({"axis": axes_st(len(s[0]))}))
        # (SciPy's logsumexp of a 0-d array with keepdims gives shape (1,): not compared)
        row(_n, getattr(fsp, _n), _keep(getattr(_sc, _n)), [Dom(-3.0, 3.0)],
            cases(one(min_dims=1), _kw), ("max", "exp", "sum") + (("log",) * (_n != "softmax")),
            rtol={F32: 1e-5, F64: 1e-10})


# --- more of NumPy (funcgrad.numpy: hypot ... unique) ----------------------------------

binary("hypot", doms=(NONZERO, NONZERO))
unary("sinc", dom=Dom(-2.0, 2.0, avoid=(0.0,), gap=0.05), rtol={F32: 1e-5, F64: 1e-12})
row("sinc_at_zero", lambda x: fnp.sinc(x * 0.0), lambda x: np.sinc(x * 0.0), [Dom()],
    cases(one()), ("sinc",))
unary("imag", dom=CPLX, dtypes=COMPLEX)
row("imag_of_real", fnp.imag, np.imag, [Dom()], cases(one()), ())
method("method_imag", lambda z: z.imag, [CPLX], cases(one()), ("imag",), dtypes=COMPLEX)
unary("signbit", order=0, dom=Dom(kind="special"))


def _axis_kw(allow_none=True):
    return lambda s: st.fixed_dictionaries({"axis": axes_st(len(s[0]), allow_none=allow_none,
                                                            allow_tuple=False)})


row("cumsum", fnp.cumsum, np.cumsum, [Dom()], cases(one(), _axis_kw()), ("cumsum",),
    rtol={F32: 1e-5, F64: 1e-12})
row("cumprod", fnp.cumprod, np.cumprod, [Dom(0.5, 1.5)], cases(one(), _axis_kw()),
    ("multiply", "concatenate"), rtol={F32: 1e-5, F64: 1e-12})
row("prod", fnp.prod, np.prod, [Dom(-1.5, 1.5, avoid=(0.0,), gap=0.3)],
    cases(one(), reduce_kw()), ("prod",), rtol={F32: 1e-5, F64: 1e-12})
row("prod_with_zeros", lambda x: fnp.prod(x * (x > 0), axis=-1),
    lambda x: np.prod(x * (x > 0), axis=-1), [Dom(avoid=(0.0,), gap=0.05)],
    cases(one(min_dims=1)), ("prod",))
row("argsort", fnp.argsort, lambda x, **kw: np.argsort(x, kind="stable", **kw), [Dom()],
    cases(one(min_dims=1), _axis_kw(False)), ("argsort",), order=0)
row("sort", fnp.sort, np.sort, [Dom()], cases(one(min_dims=1), _axis_kw(False)),
    ("argsort", "gather"))
row("searchsorted", lambda a, v: fnp.searchsorted(fnp.sort(a), v),
    lambda a, v: np.searchsorted(np.sort(a), v), [Dom(), Dom()],
    cases(st.tuples(hnp.array_shapes(min_dims=1, max_dims=1, max_side=5),
                    hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))),
    ("searchsorted",), order=0)
row("unique_sized", lambda x, *, size: fnp.unique(x, size=size, fill_value=-1.0),
    lambda x, *, size: np.concatenate([np.unique(x), np.full(size, -1.0, x.dtype)])[:size],
    [Dom(kind="smallint")], cases(one(min_dims=1, max_dims=1, max_side=6),
                                  lambda s: st.fixed_dictionaries({"size": st.integers(1, 5)})),
    ("unique_sized",), order=0)

# --- more of NumPy: composites (elementwise extras, reductions, assembly, linalg) -------

binary("float_power", prim="power", doms=(Dom(0.5, 2.0), Dom()))
unary("deg2rad", prim="multiply")
unary("rad2deg", prim="multiply")
binary("fmax", prim="maximum")
binary("fmin", prim="minimum")
binary("copysign", prim="abs", doms=(NONZERO, NONZERO))
binary("heaviside", prim="select", doms=(NONZERO, Dom()))
row("nan_to_num", fnp.nan_to_num, np.nan_to_num, [Dom()], cases(one()), ("select", "isnan"),
    fwd_args=(Dom(kind="special"),))
unary("angle", prim="arctan2", dom=CPLX, dtypes=COMPLEX, rtol={C64: 1e-5, C128: 1e-12})
row("angle_of_real", fnp.angle, np.angle, [NONZERO], cases(one()), ("stop_gradient",), order=0)
row("round_decimals", lambda x, *, decimals: fnp.round(x, decimals),
    lambda x, *, decimals: np.round(x, decimals), [Dom(-50.0, 50.0)],
    cases(one(), lambda s: st.fixed_dictionaries({"decimals": st.integers(-1, 2)})),
    ("rint",), order=0)
row("ptp", fnp.ptp, np.ptp, [Dom()], cases(one(), reduce_kw()), ("max", "min", "subtract"))


@st.composite
def _weights_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.integers(-len(s), len(s) - 1))
    return (s, (s[axis],)), {"axis": axis}


row("average", lambda x, w, *, axis: fnp.average(x, axis=axis, weights=w),
    lambda x, w, *, axis: np.average(x, axis=axis, weights=w), [Dom(), Dom(0.5, 2.0)],
    lambda: _weights_case(), ("sum", "multiply", "divide"), rtol={F32: 1e-5, F64: 1e-12})
row("count_nonzero", fnp.count_nonzero, np.count_nonzero, [Dom(kind="smallint")],
    cases(one(), lambda s: st.fixed_dictionaries({"axis": axes_st(len(s[0])),
                                                  "keepdims": st.booleans()})),
    ("not_equal", "sum"), order=0)
row("median", fnp.median, np.median, [Dom()], cases(one(), reduce_kw()), ("argsort", "gather"),
    rtol={F32: 1e-6, F64: 1e-12})
_QMETHODS = st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"])
row("quantile", fnp.quantile, np.quantile, [Dom()],
    cases(one(), reduce_kw(extra={"q": st.sampled_from([0.0, 0.3, 0.5, 1.0]),
                                  "method": _QMETHODS})), ("argsort", "gather"),
    rtol={F32: 1e-6, F64: 1e-12})
row("percentile", fnp.percentile, np.percentile, [Dom()],
    cases(one(), reduce_kw(extra={"q": st.sampled_from([0.0, 25.0, 50.0, 100.0])})),
    ("argsort", "gather"), rtol={F32: 1e-6, F64: 1e-12})
row("nansum", lambda x, **kw: fnp.nansum(fnp.where(x > 1.0, np.nan, x), **kw),
    lambda x, **kw: np.nansum(np.where(x > 1.0, np.nan, x), **kw),
    [Dom(avoid=(1.0,), gap=0.1)], cases(one(), reduce_kw()), ("isnan", "select", "sum"),
    rtol={F32: 1e-5, F64: 1e-12})
for _n in ("nanmean", "nanmax", "nanmin"):  # NaN slices: tests/test_numpy_surface.py
    row(_n, getattr(fnp, _n), getattr(np, _n), [Dom()], cases(one(), reduce_kw()),
        ("isnan", "select"), rtol={F32: 1e-5, F64: 1e-12})
row("atleast_1d", fnp.atleast_1d, np.atleast_1d, [Dom()], cases(one(max_dims=0)), ("reshape",))
row("atleast_2d", fnp.atleast_2d, np.atleast_2d, [Dom()], cases(one(max_dims=1)), ("reshape",))
row("atleast_3d", fnp.atleast_3d, np.atleast_3d, [Dom()], cases(one(max_dims=2)), ("reshape",))


@st.composite
def _same_n(draw, min_dims, max_dims):
    s = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=3))
    return (s,) * draw(st.integers(2, 3)), {}


row("dstack", lambda *xs: fnp.dstack(xs), lambda *xs: np.dstack(xs), [Dom()],
    lambda: _same_n(0, 3), ("concatenate",), variadic=True)
row("column_stack", lambda *xs: fnp.column_stack(xs), lambda *xs: np.column_stack(xs), [Dom()],
    lambda: _same_n(1, 2), ("concatenate",), variadic=True)


@st.composite
def _split_case(draw, equal):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    ax = draw(st.integers(-len(s), len(s) - 1))
    n = s[ax]
    if equal:
        ios = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0])
                   | st.lists(st.integers(0, n), max_size=3))
    else:
        ios = draw(st.integers(1, 5) | st.lists(st.integers(-n, n + 1), max_size=3))
    return (s,), {"indices_or_sections": ios, "axis": ax}


row("split", fnp.split, np.split, [Dom()], lambda: _split_case(True), ("slice", "split"))
row("array_split", fnp.array_split, np.array_split, [Dom()], lambda: _split_case(False),
    ("slice",))
row("tile", fnp.tile, np.tile, [Dom()],
    cases(one(), lambda s: st.fixed_dictionaries({"reps": st.integers(1, 3) | st.lists(
        st.integers(1, 3), max_size=4).map(tuple)})), ("reshape",))
row("repeat", fnp.repeat, np.repeat, [Dom()],
    cases(one(), lambda s: st.fixed_dictionaries({"repeats": st.integers(0, 3), "axis": st.none()
                                                  | axes_st(len(s[0]), False, False)})),
    ("reshape",))


@st.composite
def _repeat_array_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    ax = draw(st.integers(-len(s), len(s) - 1))
    reps = draw(st.lists(st.integers(0, 3), min_size=s[ax], max_size=s[ax]))
    return (s,), {"repeats": reps, "axis": ax}


row("repeat_array", fnp.repeat, np.repeat, [Dom()], lambda: _repeat_array_case(), ("gather",))
row("fliplr", fnp.fliplr, np.fliplr, [Dom()], cases(one(min_dims=2)), ("flip",))
row("flipud", fnp.flipud, np.flipud, [Dom()], cases(one(min_dims=1)), ("flip",))


@st.composite
def _roll_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    nd = len(s)
    if draw(st.booleans()):
        return (s,), {"shift": draw(st.integers(1, 7)), "axis": None}
    axes = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=2)))
    shift = tuple(draw(st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes))))
    return (s,), {"shift": shift, "axis": axes}


row("roll", fnp.roll, np.roll, [Dom()], lambda: _roll_case(), ("slice",))


@st.composite
def _rot90_case(draw):
    s = draw(hnp.array_shapes(min_dims=2, max_dims=3, max_side=3))
    nd = len(s)
    ax = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2,
                             unique_by=lambda a: a % nd)))
    return (s,), {"k": draw(st.sampled_from([1, 2, 3, -1])), "axes": ax}


row("rot90", fnp.rot90, np.rot90, [Dom()], lambda: _rot90_case(), ("flip",))


@st.composite
def _pad_case(draw, modes):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    pw = draw(st.integers(1, 4) | st.lists(st.tuples(st.integers(1, 5), st.integers(0, 5)),
                                           min_size=len(s), max_size=len(s)).map(tuple))
    kw = {"pad_width": pw, "mode": draw(st.sampled_from(modes))}
    if kw["mode"] == "constant":
        kw["constant_values"] = draw(st.sampled_from([0.0, 1.5]))
    return (s,), kw


row("pad_constant", fnp.pad, np.pad, [Dom()], lambda: _pad_case(["constant"]), ("concatenate",))
row("pad_modes", fnp.pad, np.pad, [Dom()],
    lambda: _pad_case(["edge", "reflect", "symmetric", "wrap"]), ("gather",))


@st.composite
def _diagonal_case(draw):
    s = draw(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4))
    nd = len(s)
    a1, a2 = draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2,
                           unique_by=lambda a: a % nd))
    return (s,), {"offset": draw(st.integers(-2, 2)), "axis1": a1, "axis2": a2}


row("diagonal", fnp.diagonal, np.diagonal, [Dom()], lambda: _diagonal_case(), ("gather",))
row("trace", fnp.trace, np.trace, [Dom()], lambda: _diagonal_case(), ("gather", "sum"))
_K = lambda s: st.fixed_dictionaries({"k": st.integers(-2, 2)})  # noqa: E731
row("diag_1d", fnp.diag, np.diag, [Dom()], cases(one(min_dims=1, max_dims=1), _K),
    ("scatter_add",))
row("diag_2d", fnp.diag, np.diag, [Dom()], cases(one(min_dims=2, max_dims=2), _K), ("gather",))
row("diagflat", fnp.diagflat, np.diagflat, [Dom()], cases(one(max_dims=2), _K),
    ("scatter_add",))
row("tril", fnp.tril, np.tril, [Dom()], cases(one(min_dims=1), _K), ("select",))
row("triu", fnp.triu, np.triu, [Dom()], cases(one(min_dims=1), _K), ("select",))
row("kron", fnp.kron, np.kron, [Dom(), Dom()],
    cases(st.tuples(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
                    hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))),
    ("multiply", "reshape"))
row("meshgrid", lambda *xs, **kw: fnp.meshgrid(*xs, **kw), lambda *xs, **kw: np.meshgrid(*xs, **kw),
    [Dom()], lambda: st.tuples(st.lists(hnp.array_shapes(min_dims=1, max_dims=1, max_side=3),
                                        min_size=2, max_size=3),
                               st.sampled_from(["xy", "ij"])).map(
        lambda t: (tuple(t[0]), {"indexing": t[1]})), ("reshape", "broadcast_to"), variadic=True)
row("np_select", lambda c, x, y: fnp.select([c, x > 1.0], [x, y * 2.0], default=0.5),
    lambda c, x, y: np.select([c, x > 1.0], [x, y * 2.0], default=0.5),
    [Dom(kind="bool"), Dom(avoid=(1.0,), gap=0.05), Dom()], cases(bcast(3)), ("select",))
from funcgrad._src.ops.more_numpy import top_k as _top_k  # noqa: E402

row("top_k", lambda x, *, k: _top_k(x, k),
    lambda x, *, k: (lambda i: (np.take_along_axis(x, i, -1), i))(
        np.argsort(-x, axis=-1, kind="stable")[..., :k]), [Dom()],
    lambda: hnp.array_shapes(min_dims=1, max_dims=3, max_side=4).flatmap(
        lambda s: st.integers(0, s[-1]).map(lambda k: ((s,), {"k": k}))), ("argsort", "gather"))
method("method_prod", lambda x, **kw: x.prod(**kw), [Dom(-1.5, 1.5)],
       cases(one(), reduce_kw()), ("prod",), receiver=True, rtol={F32: 1e-5, F64: 1e-12})
method("method_cumsum", lambda x, **kw: x.cumsum(**kw), [Dom()],
       cases(one(), lambda s: st.fixed_dictionaries({"axis": axes_st(len(s[0]), True, False)})),
       ("cumsum",), receiver=True, rtol={F32: 1e-5, F64: 1e-12})
method("method_trace", lambda x: x.trace(), [Dom()], cases(one(min_dims=2)), ("gather",),
       receiver=True)

# --- functional index updates: x.at[idx] ------------------------------------------------

from funcgrad._src import core  # noqa: E402
from funcgrad._src.ops.at import at as _at  # noqa: E402


@st.composite
def _at_case(draw):
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    a = np.array
    opts = [0, -1, slice(None, None, -1), a([0, 1, 0]), (_E, a([1, 1])), a([[1], [0]])]
    if len(s) >= 2:
        opts += [(slice(None), a([1, 0, 1])), (a([0, 1]), a([1, 1])), (1, slice(1, None))]
    idx = draw(st.sampled_from(opts))
    vshape = np.empty(s)[idx].shape
    vshape = vshape[draw(st.integers(0, len(vshape))):]  # values broadcast to the target
    return (s, vshape), {"idx": idx}


def _np_at(kind):
    def ref(x, v, *, idx):
        out = np.array(x, copy=True)
        if kind == "set":
            out[idx] = v
        else:
            getattr(np, kind).at(out, idx, np.broadcast_to(v, out[idx].shape))
        return out

    return ref


for _n, _k, _p, _doms in [
        ("set", "set", "scatter_set", (Dom(), Dom())),
        ("add", "add", "scatter_add", (Dom(), Dom())),
        ("multiply", "multiply", "scatter_mul", (Dom(), Dom())),
        ("min", "minimum", "scatter_min", (Dom(), Dom(-3.0, 3.0))),
        ("max", "maximum", "scatter_max", (Dom(), Dom(-3.0, 3.0)))]:
    row("at_" + _n, lambda x, v, _n=_n, *, idx: getattr(_at(x)[idx], _n)(v), _np_at(_k),
        list(_doms), lambda: _at_case(), (_p,))
row("at_get", lambda x, *, idx: _at(x)[idx].get(), lambda x, *, idx: x[idx], [Dom()],
    lambda: _at_case().map(lambda c: (c[0][:1], c[1])), ("gather",))
# ``Tracer.at`` itself (NumPy arrays have no ``.at``: the eager loop uses ``fnp.at``)
row("method_at_set", lambda x, v, *, idx: (x.at if isinstance(x, core.Tracer) else _at(x))[
    idx].set(v), _np_at("set"), [Dom(), Dom()], lambda: _at_case(), ("scatter_set",),
    receiver=True)

# --- linear algebra (funcgrad.numpy.linalg) ----------------------------------------------

LA = fnp.linalg
WELL = Dom(kind="wellcond")
_LA_TOL = {F32: 1e-4, F64: 1e-9}


def _square(min_batch=0):
    return st.tuples(hnp.array_shapes(min_dims=min_batch, max_dims=1, max_side=2),
                     st.integers(1, 3)).map(lambda t: (t[0] + (t[1], t[1]),))


for _n in ("inv", "det"):
    row(_n, getattr(LA, _n), getattr(np.linalg, _n), [WELL], cases(_square()), (_n,),
        rtol=_LA_TOL)
row("slogdet", lambda a: tuple(LA.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)), [WELL],
    cases(_square()), ("slogdet",), rtol=_LA_TOL)
row("solve", LA.solve, np.linalg.solve, [WELL, Dom()],
    cases(st.tuples(st.integers(1, 3), st.integers(1, 2), st.booleans()).map(
        lambda t: ((t[0], t[0]), (t[0], t[1]) if t[2] else (t[0],)))),
    ("solve",), rtol=_LA_TOL)
row("pinv", LA.pinv, np.linalg.pinv, [WELL], cases(_square()), ("pinv",), rtol=_LA_TOL)


def _spd(b):  # a symmetric positive definite matrix from any square b
    return b @ fnp.swapaxes(b, -1, -2) + 2.0 * np.eye(b.shape[-1])


def _spd_np(b):
    return b @ np.swapaxes(b, -1, -2) + 2.0 * np.eye(b.shape[-1])


row("cholesky", lambda b: LA.cholesky(_spd(b)), lambda b: np.linalg.cholesky(_spd_np(b)),
    [Dom(-1.0, 1.0)], cases(_square()), ("cholesky",), rtol=_LA_TOL)
# eigenvectors and singular vectors up to sign: compare sign-free functions of them
SEP = Dom(kind="separated")
row("eigh", lambda a: (lambda w, v: (w, v ** 2))(*LA.eigh(a + fnp.swapaxes(a, -1, -2))),
    lambda a: (lambda w, v: (w, v ** 2))(*np.linalg.eigh(a + np.swapaxes(a, -1, -2))),
    [SEP], cases(_square()), ("eigh",), rtol=_LA_TOL)
row("qr", lambda a: tuple(LA.qr(a)), lambda a: tuple(np.linalg.qr(a)), [WELL],
    cases(_square()), ("qr",), rtol=_LA_TOL)
row("svd", lambda a: (lambda u, s, vh: (u ** 2, s, vh ** 2))(*LA.svd(a, full_matrices=False)),
    lambda a: (lambda u, s, vh: (u ** 2, s, vh ** 2))(*np.linalg.svd(a, full_matrices=False)),
    [SEP], cases(_square()), ("svd",), rtol=_LA_TOL)
row("norm", LA.norm, np.linalg.norm, [NONZERO],
    cases(one(min_dims=1, max_dims=2), lambda s: st.fixed_dictionaries(
        {"axis": st.sampled_from([None, -1] + ([(0, 1)] if len(s[0]) == 2 else [])),
         "keepdims": st.booleans()})), ("sqrt", "sum"), rtol=_LA_TOL)

# more of linalg (composites)

row("matrix_power", lambda a, *, n: LA.matrix_power(a, n),
    lambda a, *, n: np.linalg.matrix_power(a, n), [WELL],
    cases(_square(), lambda s: st.fixed_dictionaries({"n": st.sampled_from([-2, 2, 3, 5])})),
    ("matmul",), rtol={F32: 1e-4, F64: 1e-9})


@st.composite
def _multi_dot_case(draw):
    n, k, m, p = (draw(st.integers(1, 3)) for _ in range(4))
    first = (k,) if draw(st.booleans()) else (n, k)
    last = (m,) if draw(st.booleans()) else (m, p)
    return (first, (k, m), last), {}


row("multi_dot", lambda *xs: LA.multi_dot(list(xs)), lambda *xs: np.linalg.multi_dot(list(xs)),
    [Dom(), Dom(), Dom()], lambda: _multi_dot_case(), ("matmul",), rtol={F32: 1e-5, F64: 1e-12})


@st.composite
def _lstsq_case(draw):
    n = draw(st.integers(1, 3))
    m = n + draw(st.integers(0, 2))
    b = (m,) if draw(st.booleans()) else (m, draw(st.integers(1, 2)))
    return ((m, n), b), {}


def _tall(a):  # full column rank, singular values well apart from 0
    return a + 3.0 * np.eye(a.shape[-2], a.shape[-1], dtype=a.dtype)


row("lstsq", lambda a, b: LA.lstsq(_tall(a), b), lambda a, b: np.linalg.lstsq(_tall(a), b),
    [Dom(-1.0, 1.0), Dom()], lambda: _lstsq_case(), ("pinv", "svd"),
    rtol={F32: 1e-4, F64: 1e-9})
row("eigvalsh", lambda b: LA.eigvalsh(_spd(b)), lambda b: np.linalg.eigvalsh(_spd_np(b)),
    [Dom(-1.0, 1.0)], cases(_square()), ("eigh",), rtol={F32: 1e-4, F64: 1e-9})

# --- convolution and pooling -----------------------------------------------------------

from funcgrad._src.ops import conv as _conv  # noqa: E402


def _conv_ref(x, w, *, strides, padding, dilation, groups):
    nd = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + list(padding))
    n, c = x.shape[:2]
    o, k = w.shape[0], w.shape[2:]
    out = [(xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // strides[i] + 1 for i in range(nd)]
    y = np.zeros((n, o, *out), np.result_type(x, w))
    cg, og = c // groups, o // groups
    for g in range(groups):
        for kk in np.ndindex(*k):
            sl = tuple(slice(kk[i] * dilation[i], kk[i] * dilation[i] + strides[i] *
                             (out[i] - 1) + 1, strides[i]) for i in range(nd))
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + sl]
            wk = w[(slice(g * og, (g + 1) * og), slice(None)) + kk]
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", patch, wk)
    return y


def _conv_transpose_ref(x, w, *, strides, padding, output_padding, dilation, groups):
    nd = x.ndim - 2
    n, c = x.shape[:2]
    og, k = w.shape[1], w.shape[2:]
    full = [(x.shape[2 + i] - 1) * strides[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i]
            for i in range(nd)]
    y = np.zeros((n, og * groups, *full), np.result_type(x, w))
    cg = c // groups
    for g in range(groups):
        for kk in np.ndindex(*k):
            sl = tuple(slice(kk[i] * dilation[i], kk[i] * dilation[i] + strides[i] *
                             (x.shape[2 + i] - 1) + 1, strides[i]) for i in range(nd))
            wk = w[(slice(g * cg, (g + 1) * cg), slice(None)) + kk]
            y[(slice(None), slice(g * og, (g + 1) * og)) + sl] += np.einsum(
                "nc...,co->no...", x[:, g * cg:(g + 1) * cg], wk)
    return y[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]


def _conv_weight_grad_ref(x, g, *, kernel, strides, padding, dilation, groups):
    nd = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + list(padding))
    c, o = x.shape[1], g.shape[1]
    out = g.shape[2:]
    cg, og = c // groups, o // groups
    dw = np.zeros((o, cg, *kernel), np.result_type(x, g))
    for gr in range(groups):
        for kk in np.ndindex(*kernel):
            sl = tuple(slice(kk[i] * dilation[i], kk[i] * dilation[i] + strides[i] *
                             (out[i] - 1) + 1, strides[i]) for i in range(nd))
            patch = xp[(slice(None), slice(gr * cg, (gr + 1) * cg)) + sl]
            dw[(slice(gr * og, (gr + 1) * og), slice(None)) + kk] = np.einsum(
                "ncp,nop->oc", patch.reshape(patch.shape[:2] + (-1,)),
                g[:, gr * og:(gr + 1) * og].reshape(g.shape[:1] + (og, -1)))
    return dw


@st.composite
def _conv_case(draw, kind="conv"):
    nd = draw(st.integers(1, 2))
    groups = draw(st.sampled_from([1, 2]))
    n = draw(st.integers(1, 2))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    sp = tuple(draw(st.integers(d[i] * (k[i] - 1) + 1, d[i] * (k[i] - 1) + 4))
               for i in range(nd))
    if kind == "transpose":
        p = tuple(draw(st.integers(0, (d[i] * (k[i] - 1)) // 2)) for i in range(nd))
        # (output_padding up to max(stride, dilation) - 1 is valid; beyond the stride it
        # fails: test_transforms.py::test_conv_transpose_output_padding_beyond_stride)
        op = tuple(draw(st.integers(0, s[i] - 1)) for i in range(nd))
        return ((n, cg * groups) + sp, (cg * groups, og) + k), {
            "strides": s, "padding": p, "output_padding": op, "dilation": d, "groups": groups}
    p = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in range(nd))
    kw = {"strides": s, "padding": p, "dilation": d, "groups": groups}
    if kind == "weight_grad":
        out = tuple((sp[i] + sum(p[i]) - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd))
        return ((n, cg * groups) + sp, (n, og * groups) + out), dict(kw, kernel=k)
    if kind == "bias":
        return ((n, cg * groups) + sp, (og * groups, cg) + k, (og * groups,)), kw
    return ((n, cg * groups) + sp, (og * groups, cg) + k), kw


def _conv_bias_ref(x, w, b, **kw):
    y = _conv_ref(x, w, **kw)
    return y + b.reshape((-1,) + (1,) * (y.ndim - 2))


_CONV_TOL = {F32: 1e-4, F64: 1e-10}
row("conv_general", _conv.conv_general, _conv_ref, [Dom(), Dom()], lambda: _conv_case(),
    ("conv_general", "conv_transpose", "conv_weight_grad"), rtol=_CONV_TOL)
row("conv_general with bias", lambda x, w, b, **kw: _conv.conv_general(x, w, bias=b, **kw),
    _conv_bias_ref, [Dom(), Dom(), Dom()], lambda: _conv_case("bias"),
    ("conv_general", "conv_transpose", "conv_weight_grad"), rtol=_CONV_TOL)
row("conv_transpose", _conv.conv_transpose, _conv_transpose_ref, [Dom(), Dom()],
    lambda: _conv_case("transpose"), ("conv_transpose",), rtol=_CONV_TOL)
row("conv_weight_grad", _conv.conv_weight_grad, _conv_weight_grad_ref, [Dom(), Dom()],
    lambda: _conv_case("weight_grad"), ("conv_weight_grad",), rtol=_CONV_TOL)


def _windows(x, kernel, strides, padding, dilation, fill):
    nd = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding], constant_values=fill)
    out = [(xp.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // strides[i] + 1
           for i in range(nd)]
    return [xp[(slice(None), slice(None)) + tuple(
        slice(kk[i] * dilation[i], kk[i] * dilation[i] + strides[i] * (out[i] - 1) + 1,
              strides[i]) for i in range(nd))] for kk in np.ndindex(*kernel)]


def _max_pool_ref(x, *, kernel, strides, padding, dilation):
    return np.max(_windows(x, kernel, strides, padding, dilation, -np.inf), axis=0)


def _avg_pool_ref(x, *, kernel, strides, padding):
    return np.sum(_windows(x, kernel, strides, padding, (1,) * len(kernel), 0.0), axis=0) \
        / x.dtype.type(np.prod(kernel))


@st.composite
def _pool_case(draw, dilated=True):
    nd = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) if dilated else 1 for _ in range(nd))
    p = tuple(draw(st.integers(0, k[i] // 2)) for i in range(nd))
    # (no window entirely in the -inf padding: its maximum would be -inf)
    sp = tuple(draw(st.integers(d[i] * (k[i] - 1) + 1, d[i] * k[i] + 3)) for i in range(nd))
    kw = {"kernel": k, "strides": s, "padding": p}
    if dilated:
        kw["dilation"] = d
    return ((draw(st.integers(1, 2)), draw(st.integers(1, 2))) + sp,), kw


row("max_pool", _conv.max_pool, _max_pool_ref, [Dom()], lambda: _pool_case(),
    ("max_pool", "max_pool_grad", "max_pool_gather"))
row("avg_pool", _conv.avg_pool, _avg_pool_ref, [Dom()], lambda: _pool_case(False),
    ("avg_pool", "avg_pool_grad"), rtol={F32: 1e-5, F64: 1e-12})

# --- neural-network functions (funcgrad.nn) ----------------------------------------------

import funcgrad.nn as _nn  # noqa: E402

row("relu", _nn.relu, lambda x: np.maximum(x, 0), [Dom(avoid=(0.0,), gap=0.05)], cases(one()),
    ("relu", "relu_grad"))

# --- random (explicit keys; vmap over keys) --------------------------------------------

from funcgrad._src import prng  # noqa: E402  the NumPy kernels are the reference

KEY = Dom(kind="key", axes=(None, 0, -2))
_KEY_CASE = cases(st.just(((2,),)),
                  lambda s: st.fixed_dictionaries({"shape": st.sampled_from([(), (3,), (2, 2)])}))
U32 = np.dtype(np.uint32)
for _n, _extra in [("normal", {}), ("gumbel", {}), ("exponential", {}), ("laplace", {}),
                   ("uniform", {"minval": -2.0, "maxval": 3.0}),
                   ("truncated_normal", {"lower": -1.0, "upper": 0.5}),
                   ("bernoulli", {"p": 0.3}), ("randint", {"minval": -3, "maxval": 7}),
                   ("bits", {})]:
    _dt = {"bernoulli": {}, "randint": {"dtype": I32}, "bits": {"dtype": U32}}.get(
        _n, {"dtype": F32})
    row("random_" + _n, lambda k, _n=_n, _e=_extra, **kw: getattr(fg.random, _n)(k, **kw, **_e),
        lambda k, _n=_n, _e=_extra, _d=_dt, **kw: getattr(prng, _n)(k, **kw, **_e, **_d),
        [KEY], _KEY_CASE, ("random",), dtypes=(U32,), order=0)
row("random_split", lambda k, *, n: fg.random.split(k, n), lambda k, *, n: prng.split(k, n),
    [KEY], cases(st.just(((2,),)), lambda s: st.fixed_dictionaries({"n": st.integers(1, 3)})),
    ("random",), dtypes=(U32,), order=0)
row("random_fold_in", lambda k, *, d: fg.random.fold_in(k, d), lambda k, *, d: prng.fold_in(k, d),
    [KEY], cases(st.just(((2,),)), lambda s: st.fixed_dictionaries({"d": st.integers(0, 99)})),
    ("random",), dtypes=(U32,), order=0)
row("random_uniform_traced_bounds",
    lambda k, lo, hi: fg.random.uniform(k, (3,), lo.dtype, minval=lo, maxval=hi),
    lambda k, lo, hi: prng.uniform(k, (3,), lo.dtype) * (hi - lo) + lo,
    [KEY, Dom(-2.0, -1.0), Dom(1.0, 2.0)], cases(st.just(((2,), (), ()))),
    ("random", "multiply", "add"), rtol={F32: 1e-6, F64: 1e-7})
row("random_categorical", lambda k, logits: fg.random.categorical(k, logits),
    lambda k, logits: prng.categorical(k, logits), [KEY, Dom()],
    cases(st.tuples(st.just((2,)), hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))),
    ("random", "argmax"), order=0)
row("random_permutation", lambda k, x: fg.random.permutation(k, x),
    lambda k, x: prng.permutation(k, x), [KEY, Dom()],
    cases(st.tuples(st.just((2,)), hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))),
    ("random", "gather"))

# --- control flow ----------------------------------------------------------------------

# jit binds ``while`` for a loop whose trip count depends on traced values.
_doubling = fg.jit(lambda x: fg.lax.while_loop(lambda v: fnp.sum(fnp.abs(v)) < 10.0,
                                               lambda v: v * 2.0, x))


def _doubling_ref(x):
    while np.sum(np.abs(x)) < 10.0:
        x = x * 2.0
    return x


row("while_loop_jit", _doubling, _doubling_ref, [Dom(0.5, 2.0)], cases(one(min_dims=1)),
    ("while",))


# ---------------------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------------------

#: Names that are aliases of other rows' functions (checked by identity, not re-run).
ALIASES = {"abs": "absolute", "fabs": "absolute", "around": "round", "amax": "max",
           "amin": "min", "true_divide": "divide", "mod": "remainder",
           "conjugate": "conj"}

BY_NAME = {s.name: s for s in SPECS}
assert len(BY_NAME) == len(SPECS), "duplicate row names"


def covered_primitives() -> set[str]:
    out: set[str] = set()
    for s in SPECS:
        out.update(s.primitives)
    return out
