"""NumPy's differentiable surface: elementwise extras, reductions, assembly, sorting,
``fnp.linalg`` and ``.at`` index updates.

* forward values against NumPy over hypothesis shapes, axes and options (float32 and
  float64), eagerly and under ``jit`` (traced composites take other code paths);
* ``check_grads`` to order 2 in forward and reverse mode (float64);
* ``vmap`` against a Python loop (all arguments mapped, some unmapped, batch axis last),
  per-example gradients, ``jit`` of ``grad`` of ``vmap``;
* linear-algebra gradients against PyTorch where installed;
* targeted semantics: ``prod`` with zeros, ``norm`` at zero, ``.at`` with repeated indices.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._src.ops.more_numpy import top_k
from funcgrad.testing import check_grads
from funcgrad.tree_util import tree_leaves, tree_map

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _tol(dtype):
    return (2e-5, 2e-6) if np.dtype(dtype) == F32 else (1e-10, 1e-12)


def assert_tree_close(got, want, rtol, atol, dtype_check=True, what=""):
    gl = tree_leaves(list(got) if isinstance(got, tuple) else got)
    wl = tree_leaves(list(want) if isinstance(want, tuple) else want)
    assert len(gl) == len(wl), f"{what}: {len(gl)} outputs, expected {len(wl)}"
    for k, (g, w) in enumerate(zip(gl, wl)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what}: output {k} shape {g.shape} != {w.shape}"
        if dtype_check:
            assert g.dtype == w.dtype, f"{what}: output {k} dtype {g.dtype} != {w.dtype}"
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"{what}: output {k}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{what}: output {k}")


def _arrays(data, shapes, dtype, low=-2.0, high=2.0):
    width = 32 if dtype == F32 else 64
    el = st.floats(low, high, width=width, allow_nan=False, allow_infinity=False,
                   allow_subnormal=False)
    return [data.draw(hnp.arrays(dtype, s, elements=el), label="arg") for s in shapes]


def shape_st(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def axis_st(nd, none=True, tuples=True):
    opts = [st.none()] if none else []
    if nd:
        opts.append(st.integers(-nd, nd - 1))
        if tuples:
            opts.append(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                                 unique_by=lambda a: a % nd).map(tuple))
    return st.one_of(*opts)


# ---------------------------------------------------------------------------------------
# (a) forward values against NumPy
# ---------------------------------------------------------------------------------------

FWD = []


def fwd(name, fn, ref, case, low=-2.0, high=2.0, tol=None, jit=True):
    FWD.append(pytest.param(fn, ref, case, low, high, tol, jit, id=name))


def one_with(kwargs_fn, **shape_kw):
    @st.composite
    def case(draw):
        s = draw(shape_st(**shape_kw))
        return (s,), draw(kwargs_fn(s))

    return case


def red_kw(extra=None, tuples=True):
    def f(s):
        d = {"axis": axis_st(len(s), tuples=tuples), "keepdims": st.booleans()}
        d.update(extra or {})
        return st.fixed_dictionaries(d)

    return f


def no_kw(s):
    return st.just({})


def _bcast2():
    return hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4).map(
        lambda r: (r.input_shapes, {}))


fwd("hypot", fnp.hypot, np.hypot, lambda: _bcast2())
fwd("sinc", fnp.sinc, np.sinc, one_with(no_kw))
fwd("deg2rad", fnp.deg2rad, np.deg2rad, one_with(no_kw))
fwd("rad2deg", fnp.rad2deg, np.rad2deg, one_with(no_kw))
fwd("float_power", fnp.float_power, np.float_power, lambda: _bcast2(), low=0.125)
fwd("fmax", fnp.fmax, np.fmax, lambda: _bcast2())
fwd("fmin", fnp.fmin, np.fmin, lambda: _bcast2())
fwd("copysign", fnp.copysign, np.copysign, lambda: _bcast2())
fwd("heaviside", lambda x, y: fnp.heaviside(fnp.round(x), y),
    lambda x, y: np.heaviside(np.round(x), y), lambda: _bcast2())
fwd("signbit", fnp.signbit, np.signbit, one_with(no_kw))
def _specials(xp, x):
    """``x`` with NaN and infinities at some entries (through ``xp.where``)."""
    x = xp.where(x > 1.5, np.inf, x)
    x = xp.where(x < -1.5, -np.inf, x)
    return xp.where(xp.abs(x) < 0.2, np.nan, x)


fwd("nan_to_num", lambda x: fnp.nan_to_num(_specials(fnp, x), posinf=7.0),
    lambda x: np.nan_to_num(_specials(np, x), posinf=7.0), one_with(no_kw))
fwd("round", fnp.round, np.round, one_with(lambda s: st.fixed_dictionaries(
    {"decimals": st.integers(-1, 3)})), low=-200.0, high=200.0)
fwd("prod", fnp.prod, np.prod, one_with(red_kw()), tol={F32: (1e-5, 1e-6)})
fwd("cumsum", fnp.cumsum, np.cumsum, one_with(
    lambda s: st.fixed_dictionaries({"axis": axis_st(len(s), tuples=False)})),
    tol={F32: (1e-5, 1e-5)})
fwd("cumprod", fnp.cumprod, np.cumprod, one_with(
    lambda s: st.fixed_dictionaries({"axis": axis_st(len(s), tuples=False)}), max_side=5),
    tol={F32: (1e-5, 1e-6), F64: (1e-12, 1e-14)}, low=-1.5, high=1.5)
fwd("ptp", fnp.ptp, np.ptp, one_with(red_kw()))
fwd("average", fnp.average, np.average, one_with(red_kw()), tol={F32: (1e-5, 1e-6)})
fwd("average_weights", lambda x, w: fnp.average(x, axis=-1, weights=w, returned=True),
    lambda x, w: np.average(x, axis=-1, weights=w, returned=True),
    lambda: shape_st(min_dims=1).map(lambda s: ((s, s[-1:]), {})), low=0.5,
    tol={F32: (1e-5, 1e-6)})
fwd("count_nonzero", fnp.count_nonzero, np.count_nonzero,
    one_with(lambda s: st.fixed_dictionaries({"axis": axis_st(len(s)),
                                              "keepdims": st.booleans()})))
fwd("median", fnp.median, np.median, one_with(red_kw()), tol={F32: (1e-6, 1e-6)})
fwd("quantile", fnp.quantile, np.quantile, one_with(red_kw({
    "q": st.sampled_from([0.0, 0.25, 0.5, 1.0, 0.37]),
    "method": st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"])})),
    tol={F32: (1e-6, 1e-6)})
fwd("quantile_q_array", lambda x: fnp.quantile(x, np.array([0.1, 0.9]), axis=0),
    lambda x: np.quantile(x, np.array([0.1, 0.9]), axis=0), one_with(no_kw, min_dims=1))
fwd("percentile", fnp.percentile, np.percentile, one_with(red_kw({
    "q": st.sampled_from([0.0, 12.5, 50.0, 100.0])})), tol={F32: (1e-6, 1e-6)})


def _with_nans(f):
    def g(x, **kw):
        with warnings.catch_warnings():  # NumPy warns about all-NaN slices (NaN result)
            warnings.simplefilter("ignore", RuntimeWarning)
            return f(x * np.where(x > 1.0, np.nan, 1.0).astype(x.dtype), **kw)

    return g


for _n in ("nansum", "nanmean", "nanmax", "nanmin"):
    fwd(_n, _with_nans(getattr(fnp, _n)), _with_nans(getattr(np, _n)), one_with(red_kw()),
        tol={F32: (1e-5, 1e-6)}, high=1.5, jit=False)
    fwd(_n + "_jit", lambda x, _n=_n, **kw: fg.jit(lambda v: getattr(fnp, _n)(
        fnp.where(v > 1.0, np.nan, v), **kw))(x), _with_nans(getattr(np, _n)),
        one_with(red_kw()), tol={F32: (1e-5, 1e-6)}, high=1.5, jit=False)

fwd("sort", fnp.sort, np.sort, one_with(lambda s: st.fixed_dictionaries(
    {"axis": axis_st(len(s), tuples=False)})))
fwd("argsort", fnp.argsort, lambda x, axis: np.argsort(x, axis=axis, kind="stable"),
    one_with(lambda s: st.fixed_dictionaries({"axis": axis_st(len(s), tuples=False)})))
fwd("searchsorted", lambda a, v, side: fnp.searchsorted(fnp.sort(a), v, side=side),
    lambda a, v, side: np.searchsorted(np.sort(a), v, side=side),
    lambda: st.tuples(shape_st(1, 1), shape_st(0, 2), st.sampled_from(["left", "right"]))
    .map(lambda t: ((t[0], t[1]), {"side": t[2]})))
fwd("atleast_1d", fnp.atleast_1d, np.atleast_1d, one_with(no_kw, max_dims=2))
fwd("atleast_2d", fnp.atleast_2d, np.atleast_2d, one_with(no_kw, max_dims=3))
fwd("atleast_3d", fnp.atleast_3d, np.atleast_3d, one_with(no_kw, max_dims=4))
fwd("dstack", lambda a, b: fnp.dstack([a, b]), lambda a, b: np.dstack([a, b]),
    lambda: shape_st(max_dims=2).map(lambda s: ((s, s), {})))
fwd("column_stack", lambda a, b: fnp.column_stack([a, b]),
    lambda a, b: np.column_stack([a, b]), lambda: shape_st(1, 2).map(lambda s: ((s, s), {})))


@st.composite
def _split_case(draw, equal):
    s = draw(shape_st(min_dims=1))
    ax = draw(st.integers(-len(s), len(s) - 1))
    n = s[ax]
    if equal:
        divs = [d for d in range(1, n + 1) if n % d == 0]
        ios = draw(st.sampled_from(divs) | st.lists(st.integers(0, n), max_size=3))
    else:
        ios = draw(st.integers(1, 5) | st.lists(st.integers(-n, n + 1), max_size=3))
    return (s,), {"indices_or_sections": ios, "axis": ax}


fwd("split", fnp.split, np.split, lambda: _split_case(True))
fwd("array_split", fnp.array_split, np.array_split, lambda: _split_case(False))
fwd("tile", fnp.tile, np.tile, one_with(lambda s: st.fixed_dictionaries({"reps": st.one_of(
    st.integers(0, 3), st.lists(st.integers(1, 3), max_size=4).map(tuple))})))


@st.composite
def _repeat_case(draw):
    s = draw(shape_st())
    ax = draw(st.none() | (st.integers(-len(s), len(s) - 1) if s else st.none()))
    n = int(np.prod(s)) if ax is None else s[ax]
    reps = draw(st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return (s,), {"repeats": reps, "axis": ax}


fwd("repeat", fnp.repeat, np.repeat, lambda: _repeat_case())
fwd("fliplr", fnp.fliplr, np.fliplr, one_with(no_kw, min_dims=2))
fwd("flipud", fnp.flipud, np.flipud, one_with(no_kw, min_dims=1))


@st.composite
def _roll_case(draw):
    s = draw(shape_st())
    nd = len(s)
    if nd == 0 or draw(st.booleans()):
        return (s,), {"shift": draw(st.integers(-9, 9)), "axis": None}
    axes = draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=3).map(tuple))
    shift = draw(st.integers(-9, 9) | st.lists(st.integers(-9, 9), min_size=len(axes),
                                               max_size=len(axes)).map(tuple))
    return (s,), {"shift": shift, "axis": axes if len(axes) > 1 else axes[0]}


fwd("roll", fnp.roll, np.roll, lambda: _roll_case())


@st.composite
def _rot_case(draw):
    s = draw(shape_st(min_dims=2))
    nd = len(s)
    ax = draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2,
                       unique_by=lambda a: a % nd).map(tuple))
    return (s,), {"k": draw(st.integers(-5, 5)), "axes": ax}


fwd("rot90", fnp.rot90, np.rot90, lambda: _rot_case())


@st.composite
def _pad_case(draw):
    s = draw(shape_st(max_dims=3))
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    nd = len(s)
    pw = draw(st.one_of(st.integers(0, 5), st.tuples(st.integers(0, 5), st.integers(0, 5)),
                        st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)),
                                 min_size=nd, max_size=nd).map(tuple) if nd else st.just(2)))
    kw = {"pad_width": pw, "mode": mode}
    if mode == "constant" and draw(st.booleans()):
        kw["constant_values"] = draw(st.sampled_from([1.5, (-1.0, 2.0)]))
    return (s,), kw


fwd("pad", fnp.pad, np.pad, lambda: _pad_case())


@st.composite
def _diag_case(draw):
    s = draw(shape_st(min_dims=2))
    nd = len(s)
    a1, a2 = draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2,
                           unique_by=lambda a: a % nd))
    return (s,), {"offset": draw(st.integers(-4, 4)), "axis1": a1, "axis2": a2}


fwd("diagonal", fnp.diagonal, np.diagonal, lambda: _diag_case())
fwd("trace", fnp.trace, np.trace, lambda: _diag_case())
fwd("diag", fnp.diag, np.diag, one_with(lambda s: st.fixed_dictionaries(
    {"k": st.integers(-3, 3)}), min_dims=1, max_dims=2))
fwd("diagflat", fnp.diagflat, np.diagflat, one_with(lambda s: st.fixed_dictionaries(
    {"k": st.integers(-2, 2)}), max_dims=2))
fwd("tril", fnp.tril, np.tril, one_with(lambda s: st.fixed_dictionaries(
    {"k": st.integers(-3, 3)}), min_dims=1))
fwd("triu", fnp.triu, np.triu, one_with(lambda s: st.fixed_dictionaries(
    {"k": st.integers(-3, 3)}), min_dims=1))
fwd("kron", fnp.kron, np.kron, lambda: st.tuples(shape_st(max_dims=3, max_side=3),
                                                 shape_st(max_dims=3, max_side=3)).map(
    lambda t: (t, {})))
fwd("meshgrid", lambda *xs, **kw: fnp.meshgrid(*xs, **kw),
    lambda *xs, **kw: np.meshgrid(*xs, **kw),
    lambda: st.tuples(st.lists(shape_st(1, 1), min_size=1, max_size=3),
                      st.sampled_from(["xy", "ij"]), st.booleans()).map(
        lambda t: (tuple(t[0]), {"indexing": t[1], "sparse": t[2]})))
fwd("select", lambda x, y: fnp.select([x < -0.5, y > 0.5], [x * 2, y - x], default=-9.0),
    lambda x, y: np.select([x < -0.5, y > 0.5], [x * 2, y - x], default=x.dtype.type(-9.0)),
    lambda: _bcast2())
fwd("logspace_traced", lambda a, b: fnp.logspace(a, b, 5, base=2.0),
    lambda a, b: np.logspace(a, b, 5, base=2.0), lambda: st.just((((), ()), {})),
    tol={F32: (1e-5, 1e-6), F64: (1e-12, 1e-12)}, jit=True)
fwd("imag_angle", lambda x, y: (fnp.imag(x + 1j * y), fnp.angle(x + 1j * y, deg=True)),
    lambda x, y: (np.imag(x + 1j * y), np.angle(x + 1j * y, deg=True)), lambda: _bcast2(),
    tol={F32: (1e-5, 1e-5)})
fwd("top_k", lambda x, k: top_k(x, k), None,
    lambda: shape_st(min_dims=1).flatmap(lambda s: st.integers(0, s[-1]).map(
        lambda k: ((s,), {"k": k}))))


def _np_top_k(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, idx, -1), idx


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("fn,ref,case,low,high,tol,jit", FWD)
@given(data=st.data())
def test_forward_matches_numpy(fn, ref, case, low, high, tol, jit, dtype, data):
    shapes, kw = data.draw(case(), label="shapes, kwargs")
    args = _arrays(data, shapes, dtype, low, high)
    ref = ref or (lambda x, k: _np_top_k(x, k))
    want = ref(*args, **kw)
    rtol, atol = (tol or {}).get(dtype, _tol(dtype))
    assert_tree_close(fn(*args, **kw), want, rtol, atol, what="eager")
    if jit:
        got = fg.jit(lambda *a: fn(*a, **kw))(*args)
        assert_tree_close(got, want, max(rtol, 1e-6 if dtype == F32 else 1e-12), atol,
                          what="jit")


def test_float_power_is_float64_like_numpy():
    out = fnp.float_power(np.array([2.0], np.float32), 0.5)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, np.sqrt(2.0), rtol=1e-15)


def test_unique_and_sized_unique():
    x = np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 7.0]])
    for kw in ({}, {"return_counts": True}, {"return_index": True, "return_inverse": True}):
        assert_tree_close(fnp.unique(x, **kw), np.unique(x, **kw), 0, 0)
    vals, counts = fg.jit(lambda a: fnp.unique(a, size=6, return_counts=True))(x)
    np.testing.assert_array_equal(vals, [1.0, 2.0, 3.0, 7.0, 1.0, 1.0])
    np.testing.assert_array_equal(counts, [2, 1, 2, 1, 0, 0])
    rows = fg.vmap(lambda r: fnp.unique(r, size=2, fill_value=-1.0))(x)
    np.testing.assert_array_equal(rows, [[1.0, 3.0], [1.0, 2.0]])
    with pytest.raises(fg.ConcretizationTypeError, match="size="):
        fg.jit(fnp.unique)(x)


def test_searchsorted_vmap_over_sorted_arrays():
    rng = np.random.default_rng(0)
    a = np.sort(rng.standard_normal((3, 5)), axis=-1)
    v = rng.standard_normal((3, 4))
    for side in ("left", "right"):
        got = fg.vmap(lambda a, v: fnp.searchsorted(a, v, side=side))(a, v)
        want = np.stack([np.searchsorted(a[i], v[i], side=side) for i in range(3)])
        np.testing.assert_array_equal(got, want)
        v2 = np.stack([v, v + 0.5])
        got2 = fg.vmap(fg.vmap(lambda a, v: fnp.searchsorted(a, v, side=side)), (None, 0))(
            a, v2)
        want2 = [[np.searchsorted(a[i], v2[j, i], side=side) for i in range(3)]
                 for j in range(2)]
        np.testing.assert_array_equal(got2, np.array(want2))


def test_tracer_methods():
    x = np.array([[3.0, 1.0], [0.5, 2.0]])

    def f(x):
        return (x.prod(axis=0), x.cumsum(axis=1), x.cumprod(), x.sort(axis=0),
                x.argsort(), x.trace(), x.diagonal(), (x * 1.234).round(1), x.repeat(2),
                (x + 1j * x).imag)

    got = fg.jit(f)(x)
    want = (x.prod(axis=0), x.cumsum(axis=1), x.cumprod(), np.sort(x, axis=0), x.argsort(),
            x.trace(), x.diagonal(), (x * 1.234).round(1), x.repeat(2), x)
    assert_tree_close(got, want, 1e-12, 1e-12)


# ---------------------------------------------------------------------------------------
# (b) derivatives: check_grads to order 2, forward and reverse mode, float64
# ---------------------------------------------------------------------------------------

_rng = np.random.default_rng(0)


def _r(*s):
    return _rng.standard_normal(s)


def _sep(m, n):
    """A well-conditioned matrix with well-separated singular values (for SVD/QR/pinv)."""
    d = np.zeros((m, n))
    k = min(m, n)
    d[np.arange(k), np.arange(k)] = 4.0 * np.arange(1, k + 1)
    return d + 0.5 * _r(m, n)


def _sym_sep(n):
    a = 0.5 * _r(n, n)
    return a + a.T + np.diag(4.0 * np.arange(n))


def _at(x):
    return fnp.at(x)


GRAD = {
    "hypot": (fnp.hypot, (_r(3), _r(3))),
    "sinc": (fnp.sinc, (np.array([0.0, 0.05, -0.3, 1.7]),)),
    "deg2rad_rad2deg": (lambda x: fnp.rad2deg(fnp.deg2rad(x) ** 2), (_r(3),)),
    "float_power": (lambda x, y: fnp.float_power(x, y), (np.abs(_r(3)) + 0.5, _r(3))),
    "fmax_fmin": (lambda x, y: fnp.fmax(x, y) * fnp.fmin(x, y), (_r(4), _r(4))),
    "nan_to_num": (lambda x: fnp.nan_to_num(_specials(fnp, x), neginf=-3.0),
                   (np.array([0.5, -1.8, 2.0, 0.1, -0.7]),)),
    "imag": (lambda x: fnp.imag((x + 2j) * (1 - 3j)) ** 2, (_r(3),)),
    "copysign": (lambda x: fnp.copysign(x, np.array([1.0, -1.0, -0.0])), (_r(3),)),
    "heaviside": (lambda y: fnp.heaviside(np.array([-1.0, 0.0, 1.0]), y), (_r(3),)),
    "prod": (lambda x: fnp.prod(x, axis=1), (_r(3, 4),)),
    "prod_with_zeros": (lambda x: fnp.prod(x, axis=(0, 2), keepdims=True),
                        (np.array([[[0.0, 2.0], [1.0, 3.0]], [[0.0, 0.5], [2.0, 0.0]]]),)),
    "cumsum": (lambda x: fnp.cumsum(x, axis=0), (_r(3, 2),)),
    "cumprod_with_zero": (lambda x: fnp.cumprod(x, axis=1), (np.array([[1.0, 0.0, 2.0, -1.5]]),)),
    "ptp": (lambda x: fnp.ptp(x, axis=0), (_r(3, 2),)),
    "average": (lambda x, w: fnp.average(x, axis=1, weights=w), (_r(2, 3), np.abs(_r(3)) + 1)),
    "median_even": (lambda x: fnp.median(x, axis=0), (_r(4, 3),)),
    "median_odd": (fnp.median, (_r(5),)),
    "quantile_traced_q": (lambda x, q: fnp.quantile(x, q, axis=-1),
                          (_r(3, 5), np.array([0.1, 0.63]))),
    "percentile": (lambda x: fnp.percentile(x, [10, 50], axis=0, keepdims=True), (_r(5, 2),)),
    "nansum_nanmean": (lambda x: fnp.nansum(x, axis=0) * fnp.nanmean(x, axis=0),
                       (np.array([[1.0, np.nan, 1.2], [np.nan, 0.3, 2.0]]),)),
    "nanmax_nanmin": (lambda x: fnp.nanmax(x, axis=1) + fnp.nanmin(x, axis=1),
                      (np.array([[1.0, np.nan, 0.2], [np.nan, 0.7, 2.0]]),)),
    "sort": (lambda x: fnp.sort(x, axis=0), (_r(4, 3),)),
    "top_k": (lambda x: top_k(x, 2)[0], (_r(3, 5),)),
    "tile_repeat": (lambda x: fnp.tile(x, (2, 1, 3)) * fnp.repeat(x, 2, axis=0)[:2, :1],
                    (_r(2, 3),)),
    "repeat_array": (lambda x: fnp.repeat(x, [1, 0, 3], axis=1), (_r(2, 3),)),
    "roll_rot90_flips": (lambda x: fnp.roll(fnp.rot90(fnp.fliplr(x), 3, axes=(1, 0)), (1, -2),
                                            axis=(0, 1)) * fnp.flipud(fnp.rot90(x, 2)),
                         (_r(3, 3),)),
    "pad_constant_traced": (lambda x, c: fnp.pad(x, ((1, 2), (0, 1)), constant_values=c),
                            (_r(2, 3), np.array(0.7))),
    "pad_reflect_symmetric_wrap_edge": (
        lambda x: fnp.pad(x, ((4, 2), (1, 5)), mode="reflect")[:, :4]
        * fnp.pad(x, 3, mode="symmetric")[:8, :4] * fnp.pad(x, 3, mode="wrap")[:8, :4]
        + fnp.pad(x, 3, mode="edge")[:8, :4], (_r(2, 3),)),
    "diagonal_trace_diag": (lambda x: fnp.diagonal(x, 1, 0, 2) * fnp.trace(x[0])
                            + fnp.diag(x[0, 0], -1)[1:, :2].sum(), (_r(3, 3, 3),)),
    "diagflat_tril_triu": (lambda x: fnp.tril(x, -1) @ fnp.triu(x) + fnp.diagflat(x[0]),
                           (_r(2, 2),)),
    "kron": (fnp.kron, (_r(2, 3), _r(2, 2))),
    "meshgrid": (lambda x, y: fnp.meshgrid(x, y)[0] * fnp.meshgrid(x, y, indexing="ij")[1].T,
                 (_r(2), _r(3))),
    "select": (lambda x: fnp.select([x < 0, x > 1], [x ** 2, x * 3], default=x), (_r(6),)),
    "split_stack": (lambda x: fnp.array_split(x, 3, axis=1)[1] * fnp.split(x, [2], 1)[0][:, :1]
                    + fnp.dstack([x, x])[..., 1].sum() + fnp.column_stack([x[0], x[1]]).sum(),
                    (_r(2, 7),)),
    "logspace_traced": (lambda a, b: fnp.logspace(a, b, 4), (np.array(0.3), np.array(1.2))),
    "at_set_repeated": (lambda x, v: _at(x)[np.array([0, 2, 0])].set(v), (_r(4), _r(3))),
    "at_add_repeated": (lambda x, v: _at(x)[np.array([0, 2, 0])].add(v), (_r(4), _r(3))),
    "at_subtract": (lambda x, v: _at(x)[1:].subtract(v), (_r(4), _r(3))),
    "at_multiply_zeros": (lambda x, v: _at(x)[np.array([0, 0, 0, 1])].multiply(v),
                          (_r(4), np.array([0.0, 3.0, 0.0, 0.5]))),
    "at_divide": (lambda x, v: _at(x)[1:3].divide(v), (_r(4), np.array([2.0, -1.5]))),
    "at_max_min": (lambda x, v: _at(x)[np.array([0, 2, 0])].max(v)
                   * _at(x)[np.array([1, 1])].min(v[:2]), (_r(4), _r(3))),
    "at_power_apply_get": (lambda x, v: _at(x)[0].power(v) + _at(x)[1:].apply(fnp.sin)
                           + _at(x)[::2].get().sum(), (np.abs(_r(3)) + 1, np.array(1.5))),
    "at_2d_slices": (lambda x, v: _at(x)[:, 1].min(v) + _at(x)[..., ::2].set(v[:, None]),
                     (_r(2, 3), _r(2))),
    "linalg.inv": (fnp.linalg.inv, (_r(3, 3) + 3 * np.eye(3),)),
    "linalg.solve_vector": (fnp.linalg.solve, (_r(2, 3, 3) + 3 * np.eye(3), _r(3))),
    "linalg.solve_matrix": (fnp.linalg.solve, (_r(3, 3) + 3 * np.eye(3), _r(2, 3, 2))),
    "linalg.det": (fnp.linalg.det, (_r(2, 3, 3),)),
    "linalg.slogdet": (lambda x: fnp.linalg.slogdet(x).logabsdet, (_r(3, 3),)),
    "linalg.cholesky": (lambda a: fnp.linalg.cholesky(a @ a.T + 3 * np.eye(3)), (_r(3, 3),)),
    "linalg.cholesky_upper": (lambda a: fnp.linalg.cholesky(a @ a.T + 3 * np.eye(3),
                                                            upper=True), (_r(3, 3),)),
    "linalg.qr_tall": (fnp.linalg.qr, (_sep(4, 3),)),
    "linalg.qr_square_r": (lambda a: fnp.linalg.qr(a, mode="r"), (_sep(3, 3),)),
    # eigh reads one triangle; its derivatives are those of the symmetrised input
    "linalg.eigh": (lambda a: fnp.linalg.eigh((a + a.T) / 2), (_sym_sep(3),)),
    "linalg.eigh_upper": (lambda a: fnp.linalg.eigh((a + a.T) / 2, UPLO="U"), (_sym_sep(3),)),
    "linalg.eigvalsh": (lambda a: fnp.linalg.eigvalsh((a + a.T) / 2), (_sym_sep(3),)),
    "linalg.svd_tall": (lambda a: fnp.linalg.svd(a, full_matrices=False), (_sep(4, 3),)),
    "linalg.svd_wide": (lambda a: fnp.linalg.svd(a, full_matrices=False), (_sep(2, 4),)),
    "linalg.svd_square_full": (fnp.linalg.svd, (_sep(3, 3),)),
    "linalg.svd_values": (lambda a: fnp.linalg.svd(a, compute_uv=False), (_r(2, 4, 3),)),
    "linalg.pinv_tall": (fnp.linalg.pinv, (_sep(4, 3),)),
    "linalg.pinv_wide": (fnp.linalg.pinv, (_sep(2, 4),)),
    "linalg.norm_default": (fnp.linalg.norm, (_r(3, 4),)),
    "linalg.norm_p3_axis": (lambda x: fnp.linalg.norm(x, 3, axis=0), (_r(3, 4),)),
    "linalg.norm_vector_ords": (lambda x: fnp.linalg.norm(x, np.inf) + fnp.linalg.norm(x, 1)
                                + fnp.linalg.norm(x, -np.inf) + fnp.linalg.norm(x, -1.5),
                                (_r(5),)),
    "linalg.norm_nuc": (lambda x: fnp.linalg.norm(x, "nuc"), (_r(3, 4),)),
    "linalg.norm_2_keepdims": (lambda x: fnp.linalg.norm(x, 2, axis=(2, 0), keepdims=True),
                               (_r(3, 2, 4),)),
    "linalg.norm_matrix_ords": (lambda x: fnp.linalg.norm(x, np.inf) + fnp.linalg.norm(x, -1)
                                + fnp.linalg.norm(x, "fro") + fnp.linalg.norm(x, -2),
                                (_sep(3, 4),)),
    "linalg.matrix_power": (lambda x: fnp.linalg.matrix_power(x, 5), (_r(3, 3) / 2,)),
    "linalg.matrix_power_negative": (lambda x: fnp.linalg.matrix_power(x, -2),
                                     (_r(3, 3) + 3 * np.eye(3),)),
    "linalg.lstsq": (lambda a, b: fnp.linalg.lstsq(a, b)[:2], (_r(5, 3), _r(5, 2))),
    "linalg.multi_dot": (lambda a, b, c: fnp.linalg.multi_dot([a, b, c]),
                         (_r(3), _r(3, 4), _r(4, 2))),
    "linalg.cond": (fnp.linalg.cond, (_sep(3, 3),)),
}


@pytest.mark.parametrize("name", list(GRAD))
def test_check_grads_order2(name):
    f, args = GRAD[name]
    check_grads(f, args, order=2, modes=("fwd", "rev"))


def test_angle_gradient_matches_finite_differences():
    # angle goes through complex intermediates; checked with hessians (real in and out).
    x = np.array([0.3, -1.2, 0.7])

    def f(x):
        return fnp.sum(fnp.angle(x * (1 + 2j) + 0.5j))

    eps = 1e-6
    fd = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(fg.grad(f)(x), fd, rtol=1e-7)
    g = fg.grad(f)
    fd2 = np.array([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(fg.hessian(f)(x), fd2, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fg.jacfwd(fg.grad(f))(x), fd2, rtol=1e-6, atol=1e-8)
    assert np.all(fg.grad(lambda x: fnp.sum(fnp.angle(x)))(np.array([-1.0, 0.0, 2.0])) == 0)


# ---------------------------------------------------------------------------------------
# (c) vmap against a loop; jit; per-example gradients
# ---------------------------------------------------------------------------------------

_VMAP = [n for n in GRAD if not n.startswith("logspace")]


def _stack(outs, axis=0):
    return tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs], axis=axis), *outs)


@pytest.mark.parametrize("name", _VMAP)
def test_vmap_jit_and_per_example_grads(name):
    f, args = GRAD[name]
    size = 3
    rng = np.random.default_rng(1)
    # Small perturbations keep the examples in the function's well-behaved region.
    per = [[a + (0.01 * k * rng.standard_normal(a.shape) if a.dtype.kind == "f" else 0)
            for a in args] for k in range(size)]
    batched = [np.stack([p[i] for p in per]) for i in range(len(args))]
    want = _stack([f(*p) for p in per])
    assert_tree_close(fg.vmap(f)(*batched), want, 1e-9, 1e-9, what="vmap")
    moved = [np.moveaxis(b, 0, -1) for b in batched]
    assert_tree_close(fg.vmap(f, in_axes=-1, out_axes=-1)(*moved), _stack(
        [f(*p) for p in per], -1), 1e-9, 1e-9, what="vmap axis -1")
    for k in range(len(args)):  # one argument unmapped at a time
        if len(args) == 1:
            break
        axes = tuple(None if i == k else 0 for i in range(len(args)))
        ins = [args[i] if i == k else batched[i] for i in range(len(args))]
        want_k = _stack([f(*[args[i] if i == k else p[i] for i in range(len(args))])
                         for p in per])
        assert_tree_close(fg.vmap(f, in_axes=axes)(*ins), want_k, 1e-9, 1e-9,
                          what=f"vmap in_axes={axes}")
    assert_tree_close(fg.jit(f)(*args), f(*args), 1e-10, 1e-10, what="jit")

    def loss(*a):
        return sum(fnp.sum(fnp.sin(o)) for o in tree_leaves(f(*a)) if o.dtype.kind == "f")

    argnums = tuple(range(len(args)))
    per_ex = fg.vmap(fg.grad(loss, argnums=argnums))(*batched)
    assert_tree_close(per_ex, _stack([fg.grad(loss, argnums=argnums)(*p) for p in per]),
                      1e-9, 1e-9, what="vmap(grad)")
    total = fg.jit(fg.grad(lambda *a: fnp.sum(fg.vmap(loss)(*a)), argnums=argnums))(*batched)
    assert_tree_close(total, per_ex, 1e-9, 1e-9, what="jit(grad(vmap))")


def test_vmap_of_at_with_batched_indices():
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array([2, 0, 2])
    got = fg.vmap(lambda i: fnp.at(x)[:, i].add(1.0))(idx)
    want = []
    for i in idx:
        y = x.copy()
        y[:, i] += 1.0
        want.append(y)
    np.testing.assert_array_equal(got, np.stack(want))
    got = fg.vmap(lambda r, i, v: r.at[i].set(v))(x, idx, np.array([7.0, 8.0, 9.0]))
    want = x.copy()
    want[np.arange(3), idx] = [7.0, 8.0, 9.0]
    np.testing.assert_array_equal(got, want)
    pair = np.array([[1, 1], [0, 3], [2, 2]])
    got = fg.vmap(lambda r, i: r.at[i].multiply(2.0))(x, pair)
    want = x.copy()
    for b, (i, j) in enumerate(pair):
        want[b, i] *= 2.0
        want[b, j] *= 2.0
    np.testing.assert_array_equal(got, want)
    # and gradients through batched-index updates
    g = fg.vmap(fg.grad(lambda r, i: fnp.sum(r.at[i].max(1.5) ** 2)), (0, 0))(x / 10, idx)
    want = 2 * x / 10
    want[np.arange(3), idx] = 0.0
    np.testing.assert_allclose(g, want, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# (d) targeted semantics
# ---------------------------------------------------------------------------------------


def test_prod_gradient_with_zeros():
    x = np.array([0.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(fg.grad(fnp.prod)(x), [24.0, 0.0, 0.0, 0.0])
    x2 = np.array([0.0, 2.0, 0.0, 4.0])
    np.testing.assert_array_equal(fg.grad(fnp.prod)(x2), [0.0, 0.0, 0.0, 0.0])
    h = fg.hessian(fnp.prod)(x2)  # d2/dx0 dx2 = 2 * 4, all else 0
    want = np.zeros((4, 4))
    want[0, 2] = want[2, 0] = 8.0
    np.testing.assert_array_equal(h, want)
    _, t = fg.jvp(lambda v: fnp.prod(v, axis=0), (x.reshape(2, 2),), (np.ones((2, 2)),))
    np.testing.assert_array_equal(t, [3.0, 2.0 + 4.0 * 0 + 4.0])
    np.testing.assert_array_equal(fg.grad(fnp.prod)(np.zeros(3)), np.zeros(3))


def test_cumprod_gradient_with_zeros():
    x = np.array([1.5, 0.0, 2.0, -1.0, 0.0, 3.0])
    w = np.array([1.0, 2.0, 3.0, 5.0, 7.0, 11.0])
    ours = fg.grad(lambda v: fnp.sum(fnp.cumprod(v) * w))(x)
    # d/dx_j sum_i w_i prod_{k<=i} x_k = sum_{i>=j} w_i prod_{k<=i, k!=j} x_k
    ref = [sum(w[i] * np.prod(np.delete(x[:i + 1], j)) for i in range(j, 6)) for j in range(6)]
    np.testing.assert_array_equal(ours, ref)
    assert ours[1] != 0  # a zero entry still gets its gradient


def test_norm_gradient_at_zero_is_zero_not_nan():
    z = np.zeros((3, 2))
    # vector 2-norm, Frobenius and p-norms: the subgradient 0
    for f in (fnp.linalg.norm, lambda x: fnp.linalg.norm(x, axis=0),
              lambda x: fnp.linalg.norm(x, "fro"), lambda x: fnp.linalg.norm(x[0], 3),
              lambda x: fnp.linalg.norm(x, ord=2, axis=1, keepdims=True),
              lambda x: fnp.linalg.vector_norm(x), lambda x: fnp.linalg.norm(x[:, 0], 4)):
        g = fg.grad(lambda x: fnp.sum(f(x)))(z)
        assert np.all(np.isfinite(g)) and not np.any(g), g
        assert np.all(np.isfinite(fg.hessian(lambda x: fnp.sum(f(x)))(z)))
    # spectral and nuclear norms: a finite subgradient (nuclear/spectral norm at most 1)
    for f, dual in ((lambda x: fnp.linalg.norm(x, 2), "nuc"),
                    (lambda x: fnp.linalg.norm(x, "nuc"), 2)):
        g = fg.grad(f)(z)
        assert np.all(np.isfinite(g)) and np.linalg.norm(g, dual) <= 1 + 1e-12
    _, t = fg.jvp(fnp.linalg.norm, (np.zeros(3),), (np.ones(3),))
    assert t == 0.0
    # away from zero it is the usual x / |x|
    x = np.array([3.0, -4.0])
    np.testing.assert_allclose(fg.grad(fnp.linalg.norm)(x), x / 5.0)


@given(data=st.data())
def test_norm_forward_matches_numpy(data):
    dtype = data.draw(st.sampled_from([F32, F64]))
    nd = data.draw(st.integers(1, 3))
    s = data.draw(shape_st(nd, nd))
    (x,) = _arrays(data, [s], dtype)
    vec = [None, 2, 1, 0, np.inf, -np.inf, 3, 0.5]
    mat = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]
    kind = data.draw(st.sampled_from(["all", "vec", "mat"] if nd >= 2 else ["all", "vec"]))
    keep = data.draw(st.booleans())
    if kind == "all":
        ords, axis = [None], None
        if nd <= 2:
            ords = vec if nd == 1 else mat
    elif kind == "vec":
        ords, axis = vec, data.draw(st.integers(-nd, nd - 1))
    else:
        ords = mat
        axis = tuple(data.draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2,
                                        unique_by=lambda a: a % nd)))
    ord_ = data.draw(st.sampled_from(ords))
    want = np.linalg.norm(x, ord_, axis, keep)
    rtol, atol = (1e-5, 1e-5) if dtype == F32 else (1e-10, 1e-12)
    assert_tree_close(fnp.linalg.norm(x, ord_, axis, keep), want, rtol, atol)
    assert_tree_close(fg.jit(lambda v: fnp.linalg.norm(v, ord_, axis, keep))(x), want, rtol,
                      atol)


def test_at_semantics():
    x = np.arange(5.0)
    at = fnp.at(x)
    np.testing.assert_array_equal(at[[0, 0, 4]].add(1.0), [2.0, 1.0, 2.0, 3.0, 5.0])
    np.testing.assert_array_equal(at[[1, 1]].multiply(3.0), [0.0, 9.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(at[[2, 2]].divide(2.0), [0.0, 1.0, 0.5, 3.0, 4.0])
    np.testing.assert_array_equal(at[[3, 3]].min(np.array([5.0, -1.0])),
                                  [0.0, 1.0, 2.0, -1.0, 4.0])
    np.testing.assert_array_equal(at[[0, 0]].max(np.array([5.0, 7.0])),
                                  [7.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(at[[1, 3, 1]].set(np.array([7.0, 8.0, 9.0])),
                                  [0.0, 9.0, 2.0, 8.0, 4.0])  # the last update wins
    np.testing.assert_array_equal(at[-1].set(-1.0), [0.0, 1.0, 2.0, 3.0, -1.0])
    np.testing.assert_array_equal(at[x > 2].set(0.0), [0.0, 1.0, 2.0, 0.0, 0.0])
    np.testing.assert_array_equal(at[1:4:2].get(), [1.0, 3.0])
    np.testing.assert_array_equal(x, np.arange(5.0))  # never modified
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(fnp.at(m)[:, [0, 2]].add(np.array([10.0, 20.0])),
                                  [[10.0, 1.0, 22.0], [13.0, 4.0, 25.0]])
    assert fnp.at(np.arange(3))[1].add(2).dtype == np.arange(3).dtype  # keeps x's dtype
    with pytest.raises(ValueError, match="broadcast"):
        fnp.at(x)[:2].set(np.ones(3))
    with pytest.raises(NotImplementedError, match="mode"):
        fnp.at(x)[0].set(1.0, mode="drop")
    with pytest.raises(TypeError, match="immutable"):
        fg.grad(lambda v: v.__setitem__(0, 1.0))(x)


def test_at_gradients_with_repeated_indices():
    x = np.array([1.0, 2.0, 3.0])
    v = np.array([10.0, 20.0, 30.0])
    idx = np.array([0, 2, 0])
    # set: the last of the repeated updates wins and only it gets a gradient
    gx, gv = fg.grad(lambda x, v: fnp.sum(x.at[idx].set(v) * np.array([1.0, 2.0, 3.0])),
                     (0, 1))(x, v)
    np.testing.assert_array_equal(gx, [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 3.0, 1.0])
    # add accumulates
    gx, gv = fg.grad(lambda x, v: fnp.sum(x.at[idx].add(v) ** 2), (0, 1))(x, v)
    out = np.array([41.0, 2.0, 23.0])
    np.testing.assert_array_equal(gx, 2 * out)
    np.testing.assert_array_equal(gv, 2 * out[idx])
    # multiply: the product of the other factors, exact with zeros
    v0 = np.array([0.0, 5.0, 2.0])
    gv = fg.grad(lambda v: fnp.sum(fnp.at(x)[idx].multiply(v)))(v0)
    np.testing.assert_array_equal(gv, [1.0 * 2.0, 3.0, 0.0])
    # max: ties share the gradient
    gx, gv = fg.grad(lambda x, v: fnp.sum(x.at[np.array([1, 1])].max(v)), (0, 1))(
        x, np.array([2.0, 1.0]))
    np.testing.assert_array_equal(gx, [1.0, 0.5, 1.0])
    np.testing.assert_array_equal(gv, [0.5, 0.0])
    # traced integer index arrays inside jit and grad
    f = fg.jit(fg.grad(lambda x, i: fnp.sum(x.at[i].add(1.0) ** 2)))
    np.testing.assert_array_equal(f(x, np.array([2, 2])), 2 * (x + np.array([0, 0, 2.0])))


def test_at_matches_autograd_gradients():
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    x = np.array([1.0, -2.0, 3.0, 0.5])
    v = np.array([0.3, -0.7])
    idx = np.array([1, 3])

    def ag(x, v):
        onehot = np.eye(4)[idx]
        y = x * (1 - onehot.sum(0)) + onehot.T @ (anp.sin(v) * v)
        return anp.sum(y ** 3)

    def ours(x, v):
        return fnp.sum(fnp.at(x)[idx].set(fnp.sin(v) * v) ** 3)

    for k in (0, 1):
        np.testing.assert_allclose(fg.grad(ours, k)(x, v), autograd.grad(ag, k)(x, v),
                                   rtol=1e-12)


def test_pad_constant_values_gradient():
    g = fg.grad(lambda c: fnp.sum(fnp.pad(np.ones((2, 3)), ((1, 0), (2, 1)),
                                          constant_values=c)))(0.5)
    assert float(g) == 3 * 6 - 6


def test_linalg_errors_and_dtypes():
    with pytest.raises(np.linalg.LinAlgError):
        fnp.linalg.inv(np.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="full_matrices"):
        fg.grad(lambda a: fnp.sum(fnp.linalg.svd(a)[0]))(np.ones((3, 2)))
    with pytest.raises(NotImplementedError, match="M >= N"):
        fg.grad(lambda a: fnp.sum(fnp.linalg.qr(a)[1]))(np.ones((2, 3)))
    a = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
    for name in ("inv", "det", "cholesky", "pinv", "eigvalsh"):
        assert getattr(fnp.linalg, name)(a).dtype == np.float32, name
    assert fnp.linalg.inv(np.eye(2, dtype=np.int32)).dtype == np.float32
    # np.linalg on a traced value dispatches to fnp.linalg
    np.testing.assert_allclose(fg.grad(lambda m: np.linalg.det(m))(np.eye(2)), np.eye(2))


@given(data=st.data())
def test_linalg_forward_matches_numpy(data):
    dtype = data.draw(st.sampled_from([F32, F64]))
    n = data.draw(st.integers(1, 4))
    m = data.draw(st.integers(1, 4))
    batch = data.draw(st.lists(st.integers(1, 2), max_size=2).map(tuple))
    a, b, c = _arrays(data, [batch + (n, n), batch + (n, m), batch + (m, n)], dtype)
    a = a / 4 + (n + 1) * np.eye(n, dtype=dtype)  # strictly diagonally dominant
    spd = a @ np.swapaxes(a, -1, -2)
    sym = a + np.swapaxes(a, -1, -2)
    rtol, atol = (2e-4, 2e-4) if dtype == F32 else (1e-9, 1e-9)
    pairs = [
        (fnp.linalg.inv(a), np.linalg.inv(a)),
        (fnp.linalg.solve(a, b), np.linalg.solve(a, b)),
        (fnp.linalg.solve(a, b[..., 0]) if not batch else fnp.linalg.solve(a, b),
         np.linalg.solve(a, b[..., 0]) if not batch else np.linalg.solve(a, b)),
        (fnp.linalg.det(a), np.linalg.det(a)),
        (tuple(fnp.linalg.slogdet(a)), tuple(np.linalg.slogdet(a))),
        (fnp.linalg.cholesky(spd), np.linalg.cholesky(spd)),
        (fnp.linalg.cholesky(spd, upper=True), np.linalg.cholesky(spd, upper=True)),
        (tuple(fnp.linalg.qr(b)), tuple(np.linalg.qr(b))),
        (tuple(fnp.linalg.qr(b, mode="complete")), tuple(np.linalg.qr(b, mode="complete"))),
        (fnp.linalg.qr(b, mode="r"), np.linalg.qr(b, mode="r")),
        (tuple(fnp.linalg.eigh(sym)), tuple(np.linalg.eigh(sym))),
        (fnp.linalg.eigvalsh(sym, "U"), np.linalg.eigvalsh(sym, "U")),
        (tuple(fnp.linalg.svd(b, full_matrices=False)),
         tuple(np.linalg.svd(b, full_matrices=False))),
        (tuple(fnp.linalg.svd(b)), tuple(np.linalg.svd(b))),
        (fnp.linalg.svd(c, compute_uv=False), np.linalg.svd(c, compute_uv=False)),
        (fnp.linalg.pinv(b), np.linalg.pinv(b)),
        (fnp.linalg.matrix_power(a / (n + 2), 5), np.linalg.matrix_power(a / (n + 2), 5)),
        (fnp.linalg.matrix_power(a, -1), np.linalg.matrix_power(a, -1)),
        (fnp.linalg.matrix_power(a, 0), np.linalg.matrix_power(a, 0)),
        (fnp.linalg.matrix_rank(b), np.linalg.matrix_rank(b)),
        (fnp.linalg.cond(a), np.linalg.cond(a)),
        (fnp.linalg.cond(a, "fro"), np.linalg.cond(a, "fro")),
    ]
    if not batch:
        pairs.append((fnp.linalg.multi_dot([b, c, a]), np.linalg.multi_dot([b, c, a])))
        pairs.append((fnp.linalg.multi_dot([b[0], c, a[0]]),
                      np.linalg.multi_dot([b[0], c, a[0]])))
        bw = b + (m + 1) * np.eye(n, m, dtype=dtype)  # full rank: NumPy's rank agrees
        got = fnp.linalg.lstsq(bw, a)
        want = np.linalg.lstsq(bw, a)
        pairs.append((got[1:3], want[1:3]))
        pairs.append((got[0], want[0]))
    for k, (got, want) in enumerate(pairs):
        assert_tree_close(got, want, rtol, atol, what=f"pair {k}")


# ---------------------------------------------------------------------------------------
# (e) linear-algebra gradients against PyTorch
# ---------------------------------------------------------------------------------------


def _torch_grad(f_torch, *args):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = f_torch(*ts)
    grads = torch.autograd.grad(out, ts)
    return [g.numpy() for g in grads]


_C = _r(4, 4)
_TORCH = {
    "inv": (lambda a: fnp.sum(fnp.linalg.inv(a) * _C[:3, :3]),
            lambda t, a: (t.linalg.inv(a) * t.tensor(_C[:3, :3])).sum(),
            (_r(3, 3) + 3 * np.eye(3),)),
    "solve": (lambda a, b: fnp.sum(fnp.linalg.solve(a, b) * _C[:3, :2]),
              lambda t, a, b: (t.linalg.solve(a, b) * t.tensor(_C[:3, :2])).sum(),
              (_r(3, 3) + 3 * np.eye(3), _r(3, 2))),
    "det": (lambda a: fnp.linalg.det(a), lambda t, a: t.linalg.det(a), (_r(3, 3),)),
    "slogdet": (lambda a: fnp.linalg.slogdet(a)[1], lambda t, a: t.linalg.slogdet(a)[1],
                (_r(3, 3),)),
    "cholesky": (lambda a: fnp.sum(fnp.linalg.cholesky(a @ a.T + np.eye(3)) * _C[:3, :3]),
                 lambda t, a: (t.linalg.cholesky(a @ a.T + t.eye(3, dtype=a.dtype))
                               * t.tensor(_C[:3, :3])).sum(), (_r(3, 3),)),
    "qr": (lambda a: fnp.sum(fnp.linalg.qr(a)[0] * _C[:, :3])
           + fnp.sum(fnp.linalg.qr(a)[1] * _C[:3, :3]),
           lambda t, a: (t.linalg.qr(a)[0] * t.tensor(_C[:, :3])).sum()
           + (t.linalg.qr(a)[1] * t.tensor(_C[:3, :3])).sum(), (_sep(4, 3),)),
    "eigh": (lambda a: fnp.sum(fnp.linalg.eigh(a)[1] ** 2 * _C[:3, :3])
             + fnp.sum(fnp.linalg.eigh(a)[0] * _C[0, :3]),
             lambda t, a: (t.linalg.eigh(a)[1] ** 2 * t.tensor(_C[:3, :3])).sum()
             + (t.linalg.eigh(a)[0] * t.tensor(_C[0, :3])).sum(), (_sym_sep(3),)),
    "svd": (lambda a: fnp.sum(fnp.linalg.svd(a, full_matrices=False)[0] ** 2 * _C[:, :3])
            + fnp.sum(fnp.linalg.svd(a, full_matrices=False)[2] ** 2 * _C[:3, :3])
            + fnp.sum(fnp.linalg.svd(a, compute_uv=False) * _C[0, :3]),
            lambda t, a: (t.linalg.svd(a, full_matrices=False)[0] ** 2
                          * t.tensor(_C[:, :3])).sum()
            + (t.linalg.svd(a, full_matrices=False)[2] ** 2 * t.tensor(_C[:3, :3])).sum()
            + (t.linalg.svdvals(a) * t.tensor(_C[0, :3])).sum(), (_sep(4, 3),)),
    "svd_wide": (lambda a: fnp.sum(fnp.linalg.svd(a, full_matrices=False)[2] ** 2 * _C[:2]),
                 lambda t, a: (t.linalg.svd(a, full_matrices=False)[2] ** 2
                               * t.tensor(_C[:2])).sum(), (_sep(2, 4),)),
    "pinv": (lambda a: fnp.sum(fnp.linalg.pinv(a) * _C[:3, :2]),
             lambda t, a: (t.linalg.pinv(a) * t.tensor(_C[:3, :2])).sum(), (_sep(2, 3),)),
    "norms": (lambda a: fnp.linalg.norm(a, "nuc") + fnp.linalg.norm(a, 2)
              + fnp.linalg.norm(a[0], 3),
              lambda t, a: t.linalg.matrix_norm(a, "nuc") + t.linalg.matrix_norm(a, 2)
              + t.linalg.vector_norm(a[0], 3), (_sep(3, 4),)),
    "matrix_power": (lambda a: fnp.sum(fnp.linalg.matrix_power(a, -3) * _C[:3, :3]),
                     lambda t, a: (t.linalg.matrix_power(a, -3) * t.tensor(_C[:3, :3])).sum(),
                     (_r(3, 3) + 3 * np.eye(3),)),
    "lstsq": (lambda a, b: fnp.sum(fnp.linalg.lstsq(a, b)[0] * _C[:3, :2]),
              lambda t, a, b: (t.linalg.lstsq(a, b).solution * t.tensor(_C[:3, :2])).sum(),
              (_r(5, 3), _r(5, 2))),
}


@pytest.mark.parametrize("name", list(_TORCH))
def test_linalg_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs, args = _TORCH[name]
    want = _torch_grad(lambda *ts: theirs(torch, *ts), *args)
    got = fg.grad(ours, argnums=tuple(range(len(args))))(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)


def test_linalg_hessian_matches_torch():
    torch = pytest.importorskip("torch")
    a = _sym_sep(3)
    w = _C[0, :3]

    def ours(a):
        return fnp.sum(fnp.linalg.eigvalsh(a) ** 3 * w) + fnp.linalg.slogdet(a @ a.T)[1]

    def theirs(a):
        tw = torch.tensor(w)
        return (torch.linalg.eigvalsh(a) ** 3 * tw).sum() + torch.linalg.slogdet(a @ a.T)[1]

    h_t = torch.autograd.functional.hessian(theirs, torch.tensor(a)).numpy()
    # torch symmetrises only by reading a triangle; compare the symmetric-input Hessian.
    h_o = fg.hessian(lambda m: ours((m + m.T) / 2))(a)
    h_t = torch.autograd.functional.hessian(lambda m: theirs((m + m.T) / 2),
                                            torch.tensor(a)).numpy()
    np.testing.assert_allclose(h_o, h_t, rtol=1e-7, atol=1e-9)
